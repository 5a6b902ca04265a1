"""Demo content: the sample tables written into the demo SQLite source and one example
model per table. Only ``services.demo`` loads them; the data layer knows nothing of them."""
