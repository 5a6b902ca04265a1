"""Trained model artifacts: serialize, sign, verify and export."""
