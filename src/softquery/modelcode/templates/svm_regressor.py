"""Support vector regressor

Predicts a number with a kernel SVM; good on small to medium data (up to
~10,000 rows).
"""
from sklearn.compose import TransformedTargetRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVR

from softquery.modelcode.preprocessing import AutoPreprocessor


class Model:
    task = "regression"

    def __init__(self):
        # AutoPreprocessor turns your columns into numbers: NULLs, categories,
        # text, arrays and dates are handled automatically.
        # The label is standardised too, so SVR's defaults suit any scale.
        self.pipeline = make_pipeline(
            AutoPreprocessor(),
            TransformedTargetRegressor(SVR(C=1.0), transformer=StandardScaler()),
        )

    def train(self, X, y):
        self.pipeline.fit(X, y)

    def predict(self, X):
        return self.pipeline.predict(X)
