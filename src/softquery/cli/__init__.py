"""The `softquery` command line."""
