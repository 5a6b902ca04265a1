"""Static checks of model code: each problem reported in words, at its line."""

from __future__ import annotations

import pytest

from softquery.errors import ModelCodeError
from softquery.modelcode.checks import check_code, declared_task_name, require_valid_code

SEED_TAB_ERROR = (
    "from sklearn.linear_model import LinearRegression\n"
    "\n"
    "class Model:\n"
    "    def __init__(self):\n"
    "        x = 1\n"
    "\tself.m = LinearRegression()\n"
    "    def train(self, X, y):\n"
    "        self.m.fit(X, y)\n"
    "    def predict(self, X):\n"
    "        return self.m.predict(X)\n"
)

GOOD = (
    "class Model:\n"
    "    task = 'regression'\n"
    "    def __init__(self):\n"
    "        self.m = None\n"
    "    def train(self, X, y):\n"
    "        self.m = 1\n"
    "    def predict(self, X):\n"
    "        return [self.m] * len(X)\n"
)


def test_good_code_has_no_problems() -> None:
    assert check_code(GOOD) == []
    assert declared_task_name(GOOD) == "regression"


def test_seed_tab_error_is_explained_at_its_line() -> None:
    problems = check_code(SEED_TAB_ERROR)
    assert len(problems) == 1
    assert problems[0].line == 6
    assert "tabs and spaces" in problems[0].message
    assert "spaces only" in problems[0].message


def test_syntax_error_line() -> None:
    problems = check_code("class Model:\n    def train(self, X, y)\n        pass\n")
    assert problems[0].line == 2
    assert problems[0].severity == "error"


def test_missing_model_class() -> None:
    problems = check_code("class Estimator:\n    pass\n")
    assert "No `class Model`" in problems[0].message


@pytest.mark.parametrize(
    ("code", "needle", "line"),
    [
        ("class Model:\n    def predict(self, X):\n        return X\n", "no train method", 1),
        ("class Model:\n    def train(self, X, y):\n        pass\n", "no predict method", 1),
        (
            "class Model:\n    def train(self, X):\n        pass\n    def predict(self, X):\n        return X\n",
            "takes (self, X) but softquery calls it as train(self, X, y)",
            2,
        ),
        (
            "class Model:\n    @staticmethod\n    def train(X, y):\n        pass\n"
            "    def predict(self, X):\n        return X\n",
            "@staticmethod",
            3,
        ),
    ],
)
def test_signature_problems(code: str, needle: str, line: int) -> None:
    problems = [p for p in check_code(code) if p.severity == "error"]
    assert problems, code
    assert needle in problems[0].message
    assert problems[0].line == line


def test_varargs_signature_is_accepted() -> None:
    code = "class Model:\n    def train(self, *args):\n        pass\n    def predict(self, X):\n        return X\n"
    assert [p for p in check_code(code) if p.severity == "error"] == []


def test_class_attribute_pitfall_is_a_warning() -> None:
    code = (
        "from sklearn.linear_model import LinearRegression\n"
        "class Model:\n"
        "    m = LinearRegression()\n"
        "    def train(self, X, y):\n        self.m.fit(X, y)\n"
        "    def predict(self, X):\n        return self.m.predict(X)\n"
    )
    problems = require_valid_code(code)
    assert [p.severity for p in problems] == ["warning"]
    assert problems[0].line == 3
    assert "class attribute" in problems[0].message


def test_require_valid_code_raises_with_line() -> None:
    with pytest.raises(ModelCodeError) as info:
        require_valid_code(SEED_TAB_ERROR)
    assert "Line 6" in info.value.message
    assert info.value.details["problems"][0]["line"] == 6
