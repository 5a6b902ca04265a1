"""Which serving worker answers a request, and which one gives its slot to another owner.

A worker holds the versions of one owner only (see ``serving.handle``). The budget,
``SOFTQUERY_SERVING_WORKERS``, counts the workers of every owner together, so:

* a request goes to the least busy usable worker of its model's owner, preferring
  one that has its version loaded; a *blank* worker (started, nothing loaded yet)
  counts as busy as a load costs, and becomes the owner's when it is chosen. One
  owner takes at most ``spread`` workers (the cores left to serving: more workers
  of one owner on the same cores only batch worse);
* an owner with no usable worker of its own and no blank one waits while room is
  made: another owner's worker is retired (an idle one first, then one of the owner
  holding the most workers, least recently used first). A retiring worker takes no
  new request, finishes the ones it has, and is stopped; a fresh, blank process
  starts in its slot. A process is never handed to a second owner.
* a busy worker keeps its owner for at least ``HOLD_SECONDS`` after it became theirs:
  with more owners asking than workers, slots change hands at most that often, so a
  change (a process start and a load) is paid for by a second of answers, not one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Sequence

from softquery.serving.handle import VersionKey, WorkerHandle

LOAD_PENALTY = 4  # a worker without the version loaded counts as this many requests busier
HOLD_SECONDS = 1.0  # a busy worker is not taken from its owner sooner than this after it became theirs


def cost(worker: WorkerHandle, key: VersionKey) -> int:
    return worker.in_flight + (0 if key in worker.loaded else LOAD_PENALTY)


def choose(workers: Sequence[WorkerHandle], key: VersionKey, spread: int) -> WorkerHandle | None:
    """The worker for ``key``: its owner's or a blank one; None when neither is usable."""
    own = [w for w in workers if w.usable and w.owner == key.owner]
    candidates = own + ([w for w in workers if w.usable and w.owner is None] if len(own) < spread else [])
    if not candidates:
        return None
    return min(candidates, key=lambda w: (cost(w, key), w.owner is None, w.slot))


def victim(workers: Sequence[WorkerHandle], waiting: Collection[str], now: float) -> WorkerHandle | None:
    """The worker to retire so that an owner in ``waiting`` gets a slot (None: none can go yet)."""
    held = Counter(w.owner for w in workers if w.usable)
    candidates = [w for w in workers if w.usable and w.owner is not None and w.owner not in waiting
                  and (w.users == 0 or now - w.claimed >= HOLD_SECONDS)]
    if not candidates:
        return None
    return min(candidates, key=lambda w: (w.users > 0, -held[w.owner], w.last_used))
