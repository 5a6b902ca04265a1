"""Prediction: batch predict through a version, table writer."""
