"""Serialisation of user-code models and HMAC signing."""

from __future__ import annotations

import pytest

from softquery.artifacts import serialize
from softquery.artifacts.signing import json_clean, sign, verify
from softquery.errors import ArtifactIntegrityError
from softquery.modelcode.loader import load_code_module, model_class

CODE = (
    "class Model:\n"
    "    def __init__(self):\n"
    "        self.w = None\n"
    "    def train(self, X, y):\n"
    "        self.w = 2.5\n"
    "    def predict(self, X):\n"
    "        return [self.w * v for v in X['a']]\n"
)
KEY = b"k" * 32


def _trained() -> object:
    obj = model_class(load_code_module(CODE))()
    obj.train({"a": [1]}, [1])  # type: ignore[attr-defined]
    return obj


def test_round_trip_in_a_fresh_namespace() -> None:
    data = serialize.dumps(_trained())
    loaded = serialize.loads(data, CODE)
    assert loaded.predict({"a": [2.0, 4.0]}) == [5.0, 10.0]
    assert type(loaded).__module__.startswith("softquery_model_")


def test_each_load_gets_a_new_module() -> None:
    a = model_class(load_code_module(CODE))
    b = model_class(load_code_module(CODE))
    assert a is not b and a.__module__ != b.__module__


def test_signature_verifies_and_detects_tampering() -> None:
    data = serialize.dumps(_trained())
    manifest = json_clean({"model": "m", "metrics": {"r2": 0.5}, "code": CODE})
    signature = sign(KEY, manifest, data)
    verify(KEY, manifest, data, signature, label="v1")
    with pytest.raises(ArtifactIntegrityError, match="integrity check"):
        verify(KEY, manifest, data[:-1] + b"\x00", signature, label="v1")
    with pytest.raises(ArtifactIntegrityError):
        verify(KEY, {**manifest, "code": CODE + "#"}, data, signature, label="v1")
    with pytest.raises(ArtifactIntegrityError):
        verify(b"other" * 8, manifest, data, signature, label="v1")


def test_unknown_header_is_refused() -> None:
    with pytest.raises(ArtifactIntegrityError, match="format"):
        serialize.loads(b"not an artifact", CODE)
