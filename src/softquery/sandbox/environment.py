"""The scrubbed environment of a job child: harmless variables only, thread
counts pinned, and the process's original environment block wiped."""

from __future__ import annotations

import contextlib
import ctypes
import os
import re
import sys

KEEP_EXACT = frozenset({
    "PATH", "HOME", "LANG", "LANGUAGE", "TZ", "TMPDIR", "TEMP", "TMP", "USER", "LOGNAME",
    "SHELL", "TERM", "PWD", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "SOFTQUERY_HOME",
    "SSL_CERT_FILE", "SSL_CERT_DIR", "VIRTUAL_ENV",
})
KEEP_PREFIXES = ("LC_", "PYTHON")
SECRET_WORDS = re.compile(r"PASSWORD|PASSWD|SECRET|TOKEN|KEY|CREDENTIAL|AUTH|PRIVATE", re.I)
DROP_EXACT = frozenset({"SOFTQUERY_DATABASE_URL", "SOFTQUERY_QUEUE", "PYTHONSTARTUP"})
THREAD_VARIABLES = (
    "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS", "BLIS_NUM_THREADS", "NUMBA_NUM_THREADS",
)


def keep_variable(name: str) -> bool:
    if name in DROP_EXACT or SECRET_WORDS.search(name):
        return False
    return name in KEEP_EXACT or name.startswith(KEEP_PREFIXES)


def scrubbed(environ: dict[str, str], threads: int) -> dict[str, str]:
    clean = {k: v for k, v in environ.items() if keep_variable(k)}
    clean.update({name: str(threads) for name in THREAD_VARIABLES})
    return clean


def wipe_initial_block() -> None:
    """Zero the environment block the process was started with.

    ``os.environ`` edits only change the C ``environ`` array; the original
    strings (what /proc/self/environ shows) stay in memory, and a forked or
    forkserver child inherits them with every secret of the server.
    """
    with contextlib.suppress(OSError, ValueError, IndexError):
        with open("/proc/self/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        # fields[0] is field 3 (state); env_start/env_end are fields 50 and 51
        start, end = int(fields[47]), int(fields[48])
        if 0 < start < end and end - start < 16 * 1024 * 1024:
            ctypes.memset(start, 0, end - start)


def _zero(value: object) -> None:
    """Overwrite the bytes of a ``bytes`` object in place: deleting it only frees its
    memory, and a forked child could still find the secret there."""
    # Only an object nobody else holds (here: the environ dict, this frame, getrefcount):
    # short bytes are shared singletons, and two variables may share one value.
    if isinstance(value, bytes) and len(value) > 1 and sys.getrefcount(value) <= 3:
        ctypes.memset(id(value) + sys.getsizeof(value) - len(value) - 1, 0, len(value))


def apply(threads: int) -> None:
    """Replace os.environ (and the C environment) with the scrubbed one; the values
    that go are zeroed first (``os.environ`` keeps them as bytes on POSIX)."""
    clean = scrubbed(dict(os.environ), threads)
    data = getattr(os.environ, "_data", {})
    for name in list(os.environ):
        if name not in clean:
            _zero(data.get(os.fsencode(name)))
            del os.environ[name]
    os.environ.update(clean)
    wipe_initial_block()
