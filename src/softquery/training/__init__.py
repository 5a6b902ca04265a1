"""Training: fit user code, holdout metrics, round-trip check, manifest."""
