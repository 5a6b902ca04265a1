"""Logistic regression

Predicts a category (yes/no or several classes) with a weighted sum of the
columns; a fast, explainable first classifier. Exportable as JSON.
"""
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from softquery.modelcode.preprocessing import AutoPreprocessor


class Model:
    task = "classification"

    def __init__(self):
        # AutoPreprocessor turns your columns into numbers: NULLs, categories,
        # text, arrays and dates are handled automatically.
        self.pipeline = make_pipeline(
            AutoPreprocessor(),
            LogisticRegression(max_iter=1000),
        )

    def train(self, X, y):
        self.pipeline.fit(X, y)

    def predict(self, X):
        return self.pipeline.predict(X)

    def predict_proba(self, X):
        return self.pipeline.predict_proba(X)
