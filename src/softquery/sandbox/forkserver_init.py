"""Imported by the forkserver at its start (see ``softquery.sandbox.forkserver.FORKSERVER_PRELOAD``).

Every job child is a fork of the forkserver, so the forkserver must hold no
secret either: it drops (and zeroes) the server's secrets from its environment,
which it inherited when the server started it, and a server that is not root
makes it non-dumpable (a child that stays the server's user cannot read it
through /proc).
"""

import sys
import traceback

from softquery.sandbox import environment
from softquery.sandbox.namespaces import refuse_tracing

try:
    environment.apply(threads=1)
    refuse_tracing()
except Exception:  # noqa: BLE001 - the forkserver must start; each child scrubs again
    traceback.print_exc(file=sys.stderr)
