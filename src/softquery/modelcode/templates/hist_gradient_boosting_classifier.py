"""Gradient boosting classifier

Boosted decision trees predicting a category; usually the most accurate
choice for tables with many rows.
"""
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.pipeline import make_pipeline

from softquery.modelcode.preprocessing import AutoPreprocessor


class Model:
    task = "classification"

    def __init__(self):
        # AutoPreprocessor turns your columns into numbers: NULLs, categories,
        # text, arrays and dates are handled automatically.
        self.pipeline = make_pipeline(
            AutoPreprocessor(scale=False, text_max_features=500, sparse_output=False),
            HistGradientBoostingClassifier(random_state=0),
        )

    def train(self, X, y):
        self.pipeline.fit(X, y)

    def predict(self, X):
        return self.pipeline.predict(X)

    def predict_proba(self, X):
        return self.pipeline.predict_proba(X)
