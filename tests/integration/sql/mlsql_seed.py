"""The MLSQL document's files (``../shared/seeds/002…``), generated: its libsvm sample, its
train.py, the wine-quality CSV and an MLflow-style wine project. Adapted only in paths and
names (see each constant)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

# The document's train.py. Two fixes a run needs, both names: it dumps ``model`` (undefined:
# the classifier is ``clf``) with ``pickle`` (never imported).
TRAIN_PY = '''import mlsql
import os
import json
import pickle
from pyspark.ml.linalg import Vectors
from sklearn.naive_bayes import MultinomialNB

clf = MultinomialNB()

tempDataLocalPath = mlsql.internal_system_param["tempDataLocalPath"]

# get training data
X = []
y = []
files = [file for file in os.listdir(tempDataLocalPath) if file.endswith(".json")]
for file in files:
    with open(tempDataLocalPath + "/" + file) as f:
        for line in f.readlines():
            obj = json.loads(line)
            f_size = obj["features"]["size"]
            f_indices = obj["features"]["indices"]
            f_values = obj["features"]["values"]
            X.append(Vectors.sparse(f_size, f_indices, f_values).toArray())
            y.append(obj["label"])

clf.partial_fit(X, y, classes=range(2))

tempModelLocalPath = mlsql.internal_system_param["tempModelLocalPath"]

if not os.path.exists(tempModelLocalPath):
    os.makedirs(tempModelLocalPath)

model_file_path = tempModelLocalPath + "/model.pkl"
print("Save model to %s" % model_file_path)
pickle.dump(clf, open(model_file_path, "wb"))
'''

# The MLflow example's train.py (sklearn_elasticnet_wine), reading its parameters and data
# the way PythonAlg gives them (the mlsql module, dataLocalFormat="csv").
WINE_TRAIN_PY = '''import os
import pickle

import mlsql
import pandas as pd
from sklearn.linear_model import ElasticNet


def param(key, value):
    return mlsql.fit_param[key] if key in mlsql.fit_param else value


alpha = float(param("alpha", "0.5"))
l1_ratio = float(param("l1_ratio", "0.5"))
data_dir = mlsql.internal_system_param["tempDataLocalPath"]
data = pd.concat([pd.read_csv(os.path.join(data_dir, f)) for f in os.listdir(data_dir) if f.endswith(".csv")])
train_x = data.drop(["quality"], axis=1)
train_y = data[["quality"]]
lr = ElasticNet(alpha=alpha, l1_ratio=l1_ratio, random_state=42)
lr.fit(train_x, train_y)
print("Elasticnet model (alpha=%f, l1_ratio=%f)" % (alpha, l1_ratio))
model_dir = mlsql.internal_system_param["tempModelLocalPath"]
os.makedirs(model_dir, exist_ok=True)
with open(os.path.join(model_dir, "model.pkl"), "wb") as out:
    pickle.dump(lr, out)
'''

WINE_COLUMNS = ["fixed acidity", "volatile acidity", "citric acid", "residual sugar", "chlorides",
                "free sulfur dioxide", "total sulfur dioxide", "density", "pH", "sulphates", "alcohol"]


def write_libsvm(path: Path, rows: int = 120, width: int = 30) -> None:
    """Two classes told apart by which half of the indices is set (like the sample's digits)."""
    rng = np.random.default_rng(3)
    lines = []
    for i in range(rows):
        label = i % 2
        picked = sorted(rng.choice(range(label * width // 2, (label + 1) * width // 2), size=5, replace=False))
        lines.append(" ".join([str(label), *[f"{j + 1}:{int(rng.integers(1, 255))}" for j in picked]]))
    path.write_text("\n".join(lines) + "\n")


def write_wine(path: Path, rows: int = 300) -> None:
    rng = np.random.default_rng(11)
    x = rng.uniform(0.1, 10.0, size=(rows, len(WINE_COLUMNS)))
    quality = 3.0 + 0.3 * x[:, 10] - 0.2 * x[:, 1] + rng.normal(0, 0.1, rows)
    header = ",".join(f'"{c}"' for c in [*WINE_COLUMNS, "quality"])
    body = [",".join(f"{v:.4f}" for v in [*row, q]) for row, q in zip(x, quality, strict=True)]
    path.write_text("\n".join([header, *body]) + "\n")
