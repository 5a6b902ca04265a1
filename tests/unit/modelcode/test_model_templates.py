"""Every template trains, predicts, gives probabilities and survives pickling."""

from __future__ import annotations

import pickle
from typing import Any

import numpy as np
import pandas as pd
import pytest

from softquery.errors import NotFoundError
from softquery.modelcode.checks import check_code
from softquery.modelcode.templates import TemplateInfo, list_templates, template_code

EXPECTED = {
    "linear_regression": "regression",
    "ridge_regression": "regression",
    "logistic_regression": "classification",
    "random_forest_classifier": "classification",
    "random_forest_regressor": "regression",
    "hist_gradient_boosting_classifier": "classification",
    "hist_gradient_boosting_regressor": "regression",
    "svm_classifier": "classification",
    "svm_regressor": "regression",
    "knn_classifier": "classification",
    "knn_regressor": "regression",
    "naive_bayes_text": "classification",
    "kmeans": "clustering",
}
# AutoML (issue 14): never trained with its own code; the task it lists ("any": read from the label)
AUTO = {"auto": "any", "auto_regressor": "regression", "auto_classifier": "classification"}


def test_list_templates_names_tasks_and_titles() -> None:
    infos = list_templates()
    assert {t.name: t.task for t in infos} == {**EXPECTED, **AUTO}
    for info in infos:
        assert isinstance(info, TemplateInfo)
        assert info.title and info.title[0].isupper() and "\n" not in info.title
        assert len(info.description) > 20 and "\n" not in info.description
    titles = {t.name: t.title for t in infos}
    assert titles["linear_regression"] == "Linear regression"


def test_template_code_is_the_file_text() -> None:
    code = template_code("linear_regression")
    assert "class Model" in code and "LinearRegression()" in code
    assert "def train(self, X, y)" in code and "def predict(self, X)" in code


def test_unknown_template_lists_available_names() -> None:
    with pytest.raises(NotFoundError) as info:
        template_code("deep_magic")
    assert "deep_magic" in info.value.message and "linear_regression" in info.value.message
    assert "kmeans" in info.value.details["available"]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_template_passes_the_save_checks_and_keeps_state_on_the_instance(name: str, gen: Any) -> None:
    assert check_code(template_code(name)) == []
    model_class = gen.load_model_class(name)
    assert "pipeline" in vars(model_class())
    assert model_class.task == EXPECTED[name]


def _data(name: str, gen: Any) -> tuple[pd.DataFrame, pd.Series | None, pd.DataFrame]:
    if name == "naive_bayes_text":
        frame, y = gen.sms_frame()
        return frame, y, frame.iloc[:10]
    frame = gen.mixed_frame()
    new = gen.mixed_frame(n=15, seed=7)[list(reversed(frame.columns))]  # other rows, other order
    task = EXPECTED[name]
    y = {"regression": gen.regression_target, "classification": gen.classification_target}.get(task)
    return frame, (y(frame) if y else None), new


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_template_trains_predicts_and_round_trips(name: str, gen: Any) -> None:
    X, y, new = _data(name, gen)
    model = gen.load_model_class(name)()
    model.train(X, y)
    predictions = np.asarray(model.predict(new))
    assert predictions.shape == (len(new),)
    if EXPECTED[name] == "classification":
        proba = np.asarray(model.predict_proba(new))
        assert proba.shape == (len(new), y.nunique() if y is not None else 0)
        np.testing.assert_allclose(proba.sum(axis=1), 1.0)
        assert set(predictions) <= set(y if y is not None else [])
    if EXPECTED[name] == "clustering":
        assert set(predictions) <= set(range(4))
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(np.asarray(restored.predict(new)), predictions)


@pytest.mark.parametrize("name", [n for n, task in sorted(EXPECTED.items()) if task == "regression"])
def test_regression_templates_learn_something(name: str, gen: Any) -> None:
    X = gen.mixed_frame(n=200)
    y = gen.regression_target(X)
    model = gen.load_model_class(name)()
    model.train(X, y)
    residual = np.asarray(model.predict(X)) - y.to_numpy()
    r2 = 1 - np.mean(residual**2) / np.var(y.to_numpy())
    assert r2 > (0.95 if "linear" in name or "ridge" in name else 0.6)


@pytest.mark.parametrize(
    "name", [n for n, task in sorted(EXPECTED.items()) if task == "classification" and "text" not in n]
)
def test_classification_templates_learn_something(name: str, gen: Any) -> None:
    X = gen.mixed_frame(n=200)
    y = gen.classification_target(X)
    model = gen.load_model_class(name)()
    model.train(X, y)
    assert np.mean(np.asarray(model.predict(X)) == y.to_numpy()) > 0.75


def test_naive_bayes_separates_spam(gen: Any) -> None:
    X, y = gen.sms_frame(n=100)
    model = gen.load_model_class("naive_bayes_text")()
    model.train(X, y)
    new = pd.DataFrame({"message": ["claim your free cash prize now", "see you at lunch tomorrow"]})
    assert list(model.predict(new)) == ["spam", "ham"]


@pytest.mark.parametrize("name", ["logistic_regression", "knn_classifier", "random_forest_classifier"])
def test_templates_accept_wide_sparse_text(name: str, gen: Any) -> None:
    rng = np.random.default_rng(5)
    vocabulary = [f"w{i}" for i in range(900)]
    X = pd.DataFrame({"body": [" ".join(rng.choice(vocabulary, 12)) for _ in range(150)]})
    y = pd.Series(["a", "b", "c"] * 50)
    model = gen.load_model_class(name)()
    model.train(X, y)
    assert model.pipeline[0].sparse_output_  # the wide TF-IDF went through as a sparse matrix
    np.testing.assert_allclose(np.asarray(model.predict_proba(X)).sum(axis=1), 1.0)


@pytest.mark.parametrize("name", sorted(AUTO))
def test_auto_templates_pass_the_save_checks_and_say_they_are_automl(name: str, gen: Any) -> None:
    assert check_code(template_code(name)) == []
    model_class = gen.load_model_class(name)
    assert model_class.automl == name
    with pytest.raises(RuntimeError, match="AutoML template"):
        model_class().train(gen.mixed_frame(), None)
