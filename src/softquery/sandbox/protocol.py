"""Reading what a job child sends without trusting it.

The child runs model code, so its pickles are untrusted: a crafted pickle
would run code in the supervisor. Messages are decoded with an allow-list:
plain builtins, datetime/decimal/uuid values, numpy arrays and scalars, and
softquery's own dataclasses and enums. Anything else becomes an
("invalid_message", reason) message instead of running.
"""

from __future__ import annotations

import codecs
import dataclasses
import enum
import io
import pickle
import struct
from typing import Any

_BUILTINS = frozenset({
    "dict", "list", "tuple", "set", "frozenset", "str", "bytes", "bytearray", "int", "float",
    "complex", "bool", "slice", "range", "NoneType",
})
_ALLOWED = {
    "datetime": frozenset({"datetime", "date", "time", "timedelta", "timezone"}),
    "decimal": frozenset({"Decimal"}),
    "uuid": frozenset({"UUID", "SafeUUID"}),
    "collections": frozenset({"OrderedDict"}),
    "copyreg": frozenset({"_reconstructor"}),
    "numpy": frozenset({"ndarray", "dtype"}),
    "numpy.core.multiarray": frozenset({"_reconstruct", "scalar"}),
    "numpy._core.multiarray": frozenset({"_reconstruct", "scalar"}),
    "numpy.dtypes": None,  # dtype classes only (checked below)
    "zoneinfo": frozenset({"ZoneInfo"}),
}


class _SafeUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if module == "builtins" and name in _BUILTINS:
            return super().find_class(module, name)
        if "." in name:
            raise pickle.UnpicklingError(f"{module}.{name} is not allowed")
        allowed = _ALLOWED.get(module, frozenset())
        if module in _ALLOWED and (allowed is None or name in allowed):
            found = super().find_class(module, name)
            if allowed is not None or isinstance(found, type):
                return found
        if module.startswith("softquery."):
            found = super().find_class(module, name)
            if isinstance(found, type) and (dataclasses.is_dataclass(found) or issubclass(found, enum.Enum)):
                return found
        raise pickle.UnpicklingError(f"{module}.{name} is not allowed in a job message")


def safe_loads(data: bytes) -> Any:
    try:
        return _SafeUnpickler(io.BytesIO(data)).load()
    except Exception as exc:  # noqa: BLE001 - anything odd from the child is refused
        return ("invalid_message", f"{type(exc).__name__}: {exc}")


class OutputDecoder:
    """Bytes from the child's fd 1 or 2 → text chunks (UTF-8, split-safe)."""

    def __init__(self, stream: str):
        self.stream = stream
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")

    def feed(self, data: bytes) -> tuple[str, str] | None:
        text = self._decoder.decode(data, final=not data)
        return (self.stream, text) if text else None


class MessageTooLarge(Exception):
    pass


class FrameReader:
    """``multiprocessing.Connection`` frames (a signed 4-byte big-endian length, or -1
    and an 8-byte length, then the bytes) cut from whatever bytes have arrived. The
    supervisor never blocks on a half-sent message, and a frame larger than ``limit``
    is refused before it is buffered."""

    def __init__(self, limit: int):
        self.limit = limit
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[bytes]:
        buf = self._buffer
        buf += data
        frames: list[bytes] = []
        while len(buf) >= 4:
            (size,), header = struct.unpack_from("!i", buf), 4
            if size == -1:
                if len(buf) < 12:
                    break
                (size,), header = struct.unpack_from("!Q", buf, 4), 12
            if size < 0 or size > self.limit:
                raise MessageTooLarge(f"the job process sent a message of {size:,} bytes "
                                      f"(at most {self.limit:,} are accepted)")
            if len(buf) < header + size:
                break
            frames.append(bytes(buf[header:header + size]))
            del buf[:header + size]
        return frames
