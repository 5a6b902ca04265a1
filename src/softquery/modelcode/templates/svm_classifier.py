"""Support vector classifier

Predicts a category with a kernel SVM; good on small to medium data (up to
~10,000 rows) with clear boundaries between classes.
"""
from sklearn.calibration import CalibratedClassifierCV
from sklearn.pipeline import make_pipeline
from sklearn.svm import SVC

from softquery.modelcode.preprocessing import AutoPreprocessor


class Model:
    task = "classification"

    def __init__(self):
        # AutoPreprocessor turns your columns into numbers: NULLs, categories,
        # text, arrays and dates are handled automatically.
        # CalibratedClassifierCV gives the SVM class probabilities.
        self.pipeline = make_pipeline(
            AutoPreprocessor(),
            CalibratedClassifierCV(SVC(C=1.0), ensemble=False),
        )

    def train(self, X, y):
        self.pipeline.fit(X, y)

    def predict(self, X):
        return self.pipeline.predict(X)

    def predict_proba(self, X):
        return self.pipeline.predict_proba(X)
