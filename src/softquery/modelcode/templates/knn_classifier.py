"""Nearest neighbours classifier

Predicts the most common category among the most similar training rows;
simple and good when similar rows share a label.
"""
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline

from softquery.modelcode.preprocessing import AutoPreprocessor


class Model:
    task = "classification"

    def __init__(self):
        # AutoPreprocessor turns your columns into numbers: NULLs, categories,
        # text, arrays and dates are handled automatically.
        self.pipeline = make_pipeline(
            AutoPreprocessor(),
            KNeighborsClassifier(n_neighbors=5),
        )

    def train(self, X, y):
        self.pipeline.fit(X, y)

    def predict(self, X):
        return self.pipeline.predict(X)

    def predict_proba(self, X):
        return self.pipeline.predict_proba(X)
