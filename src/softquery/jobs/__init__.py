"""Background jobs: running analysts' model code in limited child processes."""
