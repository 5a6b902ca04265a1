"""Naive Bayes text classifier

Classifies free text (messages, reviews, tickets), e.g. spam or not spam.
Uses only the text columns of your query: their words weighted by TF-IDF.
"""
from sklearn.naive_bayes import MultinomialNB
from sklearn.pipeline import make_pipeline

from softquery.modelcode.preprocessing import AutoPreprocessor


class Model:
    task = "classification"

    def __init__(self):
        # text_only=True: every string column is treated as text, other
        # columns are ignored. alpha smooths rare words (smaller = less).
        self.pipeline = make_pipeline(
            AutoPreprocessor(text_only=True),
            MultinomialNB(alpha=0.1),
        )

    def train(self, X, y):
        self.pipeline.fit(X, y)

    def predict(self, X):
        return self.pipeline.predict(X)

    def predict_proba(self, X):
        return self.pipeline.predict_proba(X)
