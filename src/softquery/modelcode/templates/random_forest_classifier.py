"""Random forest classifier

Many decision trees voting on a category; robust with mixed columns and
little tuning.
"""
from sklearn.ensemble import RandomForestClassifier
from sklearn.pipeline import make_pipeline

from softquery.modelcode.preprocessing import AutoPreprocessor


class Model:
    task = "classification"

    def __init__(self):
        # AutoPreprocessor turns your columns into numbers: NULLs, categories,
        # text, arrays and dates are handled automatically.
        self.pipeline = make_pipeline(
            AutoPreprocessor(scale=False),
            RandomForestClassifier(n_estimators=200, random_state=0),
        )

    def train(self, X, y):
        self.pipeline.fit(X, y)

    def predict(self, X):
        return self.pipeline.predict(X)

    def predict_proba(self, X):
        return self.pipeline.predict_proba(X)
