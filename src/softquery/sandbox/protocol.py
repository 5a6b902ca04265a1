"""The one message protocol between a parent and its sandboxed child: job children,
serving workers and exports all talk through it.

* **Frames** are ``multiprocessing.Connection``'s (a signed 4-byte big-endian length, or
  -1 and an 8-byte length, then the bytes), so the child's end is a plain ``Connection``.
* **Parent -> child**: pickles (``dumps``, or ``encode`` for a parent that writes the
  socket itself); the child trusts its parent and reads them with ``receive``.
* **Child -> parent**: pickles sent with ``send``. The child runs model code, so what it
  sends is untrusted: a crafted pickle would run code in the parent. ``MessageReader``
  cuts frames from whatever bytes have arrived (never blocking on a half-sent message,
  refusing a frame larger than its limit before it is buffered) and decodes each with an
  allow-list (``safe_loads``): plain builtins, datetime/decimal/uuid values, numpy
  arrays and scalars, and softquery's own dataclasses and enums. Anything else becomes
  an ("invalid_message", reason) message instead of running.
* **Output**: the child's stdout and stderr are pipes of their own (``OutputDecoder``).
"""

from __future__ import annotations

import codecs
import dataclasses
import enum
import io
import pickle
import struct
from multiprocessing.connection import Connection
from typing import Any

_HEADER = struct.Struct("!i")
_LONG_HEADER = struct.Struct("!Q")
# The child pickles with protocol 4: protocol 5 pickles a numpy array through
# numpy's ``_frombuffer``, which the allow-list does not take.
CHILD_PICKLE_PROTOCOL = 4
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
    """A message from the child, decoded with the allow-list (or ("invalid_message", why))."""
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
    """The child sent a frame larger than the reader's limit: nothing more is read from it.
    ``before`` holds the frames (or, from ``MessageReader``, the messages) that were
    complete ahead of it in the same bytes."""

    def __init__(self, size: int, limit: int, before: list[Any]):
        super().__init__(f"the job process sent a message of {size:,} bytes (at most {limit:,} are accepted)")
        self.size, self.limit, self.before = size, limit, before


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
            (size,), header = _HEADER.unpack_from(buf), 4
            if size == -1:
                if len(buf) < 12:
                    break
                (size,), header = _LONG_HEADER.unpack_from(buf, 4), 12
            if size < 0 or size > self.limit:
                raise MessageTooLarge(size, self.limit, frames)
            if len(buf) < header + size:
                break
            frames.append(bytes(buf[header:header + size]))
            del buf[:header + size]
        return frames


class MessageReader:
    """The parent's reader of one child's message socket: frames of at most ``limit``
    bytes, each decoded with the allow-list."""

    def __init__(self, limit: int):
        self._frames = FrameReader(limit)

    @property
    def limit(self) -> int:
        return self._frames.limit

    def feed(self, data: bytes) -> list[Any]:
        """The messages completed by ``data``; raises ``MessageTooLarge``."""
        try:
            frames = self._frames.feed(data)
        except MessageTooLarge as exc:
            exc.before = [safe_loads(frame) for frame in exc.before]
            raise
        return [safe_loads(frame) for frame in frames]


# -- parent side: what the parent sends (trusted by the child) ---------------------------
def dumps(message: Any) -> bytes:
    """A message for the child, unframed (``Connection.send_bytes`` adds the frame)."""
    return pickle.dumps(message, protocol=5)


def frame(data: bytes) -> bytes:
    """``data`` with the frame header in front, as ``Connection.send_bytes`` writes it."""
    if len(data) > 0x7FFFFFFF:
        return _HEADER.pack(-1) + _LONG_HEADER.pack(len(data)) + data
    return _HEADER.pack(len(data)) + data


def encode(message: Any) -> bytes:
    """A framed message for the child, for a parent that writes the socket itself."""
    return frame(dumps(message))


# -- child side ----------------------------------------------------------------------
def send(conn: Connection, message: Any) -> None:
    """In the child: send ``message`` to the parent (which decodes it with ``safe_loads``)."""
    conn.send_bytes(pickle.dumps(message, protocol=CHILD_PICKLE_PROTOCOL))


def receive(conn: Connection) -> Any:
    """In the child: the parent's next message (raises EOFError once the parent closed)."""
    return pickle.loads(conn.recv_bytes())  # noqa: S301 - written by the trusted parent
