"""Artifact bytes: a format header followed by a pickle of the trained Model.

Classes defined by model code are pickled by reference to their generated
module; on load they are resolved against the code stored in the manifest,
executed in a fresh module. Call ``loads`` only after the signature check.
"""

from __future__ import annotations

import io
import pickle
import types
from typing import Any

from softquery.errors import ArtifactIntegrityError
from softquery.modelcode.loader import MODULE_PREFIX, load_code_module

FORMAT = "softquery-pickle/1"
_HEADER = b"SQMODEL1\n"
PROTOCOL = 5


def dumps(model: object) -> bytes:
    """Serialise a trained model instance (raises pickle/TypeError as is)."""
    return _HEADER + pickle.dumps(model, protocol=PROTOCOL)


class _CodeUnpickler(pickle.Unpickler):
    def __init__(self, data: bytes, module: types.ModuleType):
        super().__init__(io.BytesIO(data))
        self._module = module

    def find_class(self, module: str, name: str) -> Any:
        if module.startswith(MODULE_PREFIX):
            obj: Any = self._module
            for part in name.split("."):
                obj = getattr(obj, part)
            return obj
        return super().find_class(module, name)


def loads(data: bytes, code: str) -> Any:
    """Load a model saved by :func:`dumps`, resolving its classes in ``code``."""
    if not data.startswith(_HEADER):
        raise ArtifactIntegrityError(
            "This artifact is not in a format softquery can load (unknown header).",
            details={"expected_format": FORMAT},
        )
    module = load_code_module(code)
    return _CodeUnpickler(data[len(_HEADER):], module).load()
