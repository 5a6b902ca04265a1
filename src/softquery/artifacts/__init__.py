"""Artifacts: serialise, sign, verify and export trained models."""
