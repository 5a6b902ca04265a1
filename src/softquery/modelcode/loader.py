"""Load model code into a fresh module so its classes can be pickled and unpickled.

Only job children and serving workers call this: it executes user code.
"""

from __future__ import annotations

import hashlib
import itertools
import linecache
import sys
import traceback
import types
from typing import Any

from softquery.errors import ModelCodeError
from softquery.modelcode.checks import CODE_FILENAME, require_valid_code

MODULE_PREFIX = "softquery_model_"
_counter = itertools.count(1)


def code_sha256(code: str) -> str:
    return hashlib.sha256(code.encode("utf-8")).hexdigest()


def load_code_module(code: str) -> types.ModuleType:
    """Execute ``code`` in a new, uniquely named module and return it.

    Each call gives a fresh namespace (so a round-trip check really starts
    from nothing); the module is registered in ``sys.modules`` so that pickle
    can find ``Model`` by name while saving.
    """
    require_valid_code(code)
    name = f"{MODULE_PREFIX}{code_sha256(code)[:12]}_{next(_counter)}"
    module = types.ModuleType(name)
    module.__file__ = CODE_FILENAME
    linecache.cache[CODE_FILENAME] = (len(code), None, code.splitlines(True), CODE_FILENAME)
    compiled = compile(code, CODE_FILENAME, "exec", dont_inherit=True)
    sys.modules[name] = module
    try:
        exec(compiled, module.__dict__)  # noqa: S102 - running the user's model code is the product
    except Exception as exc:
        sys.modules.pop(name, None)
        raise user_code_error(exc, "while loading the model code") from exc
    if not isinstance(module.__dict__.get("Model"), type):
        raise ModelCodeError("The model code does not define `class Model`.")
    return module


def model_class(module: types.ModuleType) -> Any:
    return module.__dict__["Model"]


def user_code_error(exc: BaseException, where: str) -> ModelCodeError:
    """A ModelCodeError whose message shows the user's own traceback lines."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == CODE_FILENAME]
    lines = [f"  line {f.lineno}, in {f.name}: {(f.line or '').strip()}" for f in frames]
    summary = f"{type(exc).__name__}: {exc}"
    message = f"Your model code raised {summary} {where}."
    if lines:
        message += "\n" + "\n".join(lines)
    full = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return ModelCodeError(
        message,
        details={
            "exception": type(exc).__name__,
            "line": frames[-1].lineno if frames else None,
            "traceback": full,
        },
    )
