"""Automatic preprocessing for model code (the way BigQuery ML does it).

It lives in the package, not in template text, so that trained models pickle
it by reference.
"""

from softquery.modelcode.preprocessing.auto import AutoPreprocessor

__all__ = ["AutoPreprocessor"]
