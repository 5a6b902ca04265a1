"""Linear regression

Predicts a number as a weighted sum of the columns. A good first model for
any numeric target: fast, easy to explain, and exportable as JSON.
"""
from sklearn.linear_model import LinearRegression
from sklearn.pipeline import make_pipeline

from softquery.modelcode.preprocessing import AutoPreprocessor


class Model:
    task = "regression"

    def __init__(self):
        # Create the model here, on self (class attributes are not saved).
        # AutoPreprocessor turns your columns into numbers: NULLs, categories,
        # text, arrays and dates are handled automatically.
        self.pipeline = make_pipeline(AutoPreprocessor(), LinearRegression())

    def train(self, X, y):
        self.pipeline.fit(X, y)

    def predict(self, X):
        return self.pipeline.predict(X)
