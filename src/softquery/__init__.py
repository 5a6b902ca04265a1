"""softquery: train, run, schedule and serve ML models from SQL queries."""

__version__ = "0.1.0"
