"""Nearest neighbours regressor

Predicts the average of the most similar training rows; simple and good when
similar rows have similar values.
"""
from sklearn.neighbors import KNeighborsRegressor
from sklearn.pipeline import make_pipeline

from softquery.modelcode.preprocessing import AutoPreprocessor


class Model:
    task = "regression"

    def __init__(self):
        # AutoPreprocessor turns your columns into numbers: NULLs, categories,
        # text, arrays and dates are handled automatically.
        self.pipeline = make_pipeline(
            AutoPreprocessor(),
            KNeighborsRegressor(n_neighbors=5),
        )

    def train(self, X, y):
        self.pipeline.fit(X, y)

    def predict(self, X):
        return self.pipeline.predict(X)
