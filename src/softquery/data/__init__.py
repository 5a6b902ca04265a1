"""softquery.data."""
