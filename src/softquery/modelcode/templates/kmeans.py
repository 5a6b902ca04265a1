"""K-means clustering

Groups similar rows into clusters without a label column; use it for
segments (customers, products). Predicts each row's cluster number.
"""
from sklearn.cluster import KMeans
from sklearn.pipeline import make_pipeline

from softquery.modelcode.preprocessing import AutoPreprocessor


class Model:
    task = "clustering"

    def __init__(self):
        # Set n_clusters to the number of groups you want.
        self.pipeline = make_pipeline(
            AutoPreprocessor(),
            KMeans(n_clusters=4, random_state=0),
        )

    def train(self, X, y):
        # Clustering has no label: y is None and is not used.
        self.pipeline.fit(X)

    def predict(self, X):
        return self.pipeline.predict(X)
