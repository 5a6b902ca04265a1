"""Shared data for model code tests: small generated tables of every column kind.

Exposed as the ``gen`` fixture so it works whatever pytest import mode is used.
"""

from __future__ import annotations

import sys
import types

import numpy as np
import pandas as pd
import pytest

from softquery.modelcode.templates import template_code

WORDS_SPAM = ["win", "free", "prize", "cash", "claim", "now", "urgent", "offer"]
WORDS_HAM = ["lunch", "meeting", "tomorrow", "see", "you", "thanks", "call", "mum"]


def mixed_frame(n: int = 80, seed: int = 0) -> pd.DataFrame:
    """Numeric (with NULLs), categorical (with NULLs), text, array and date columns."""
    rng = np.random.default_rng(seed)
    size = rng.normal(100, 20, n)
    size[::7] = np.nan
    city = rng.choice(["paris", "lyon", "nice"], n).astype(object)
    city[::5] = None
    note = [" ".join(rng.choice(WORDS_HAM, 4)) for _ in range(n)]
    emb = [list(rng.normal(0, 1, 3)) for _ in range(n)]
    emb[3] = None
    sold = pd.to_datetime("2024-01-01") + pd.to_timedelta(rng.integers(0, 700, n), unit="D")
    return pd.DataFrame(
        {"size": size, "rooms": rng.integers(1, 6, n), "city": city, "note": note, "emb": emb, "sold": sold}
    )


def regression_target(frame: pd.DataFrame) -> pd.Series:
    city = frame["city"].map({"paris": 50.0, "lyon": 20.0, "nice": 30.0}).fillna(0.0)
    return 3.0 * frame["size"].fillna(100.0) + 10.0 * frame["rooms"] + city


def classification_target(frame: pd.DataFrame) -> pd.Series:
    return pd.Series(np.where(regression_target(frame) > regression_target(frame).median(), "high", "low"))


def sms_frame(n: int = 60, seed: int = 1) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(seed)
    labels = np.array(["spam", "ham"] * (n // 2))
    texts = [" ".join(rng.choice(WORDS_SPAM if lab == "spam" else WORDS_HAM, 6)) for lab in labels]
    texts[4] = None  # a NULL message
    frame = pd.DataFrame({"message": texts, "length": [len(t or "") for t in texts]})
    return frame, pd.Series(labels)


def load_model_class(name: str, code: str | None = None) -> type:
    """Exec template code the way the job runner does, in an importable module."""
    module = types.ModuleType(f"sq_test_model_{name}")
    sys.modules[module.__name__] = module
    exec(compile(code or template_code(name), f"{name}.py", "exec"), module.__dict__)  # noqa: S102
    model_class = module.__dict__["Model"]
    assert isinstance(model_class, type)
    return model_class


class Generators:
    """The helpers above, handed to tests through the ``gen`` fixture."""

    mixed_frame = staticmethod(mixed_frame)
    regression_target = staticmethod(regression_target)
    classification_target = staticmethod(classification_target)
    sms_frame = staticmethod(sms_frame)
    load_model_class = staticmethod(load_model_class)


@pytest.fixture
def gen() -> Generators:
    return Generators()
