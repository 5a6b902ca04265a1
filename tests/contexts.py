"""Any number of independent service contexts (each with its own engine) on one home."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from softquery.config import Settings
from softquery.services.context import ServiceContext, open_context

OpenCtx = Callable[[], ServiceContext]


def context_opener(settings: Settings) -> Iterator[OpenCtx]:
    """Yield a function that opens one more context on the (initialised) home; all are
    closed afterwards. Use with ``yield from`` in a fixture."""
    opened: list[ServiceContext] = []

    def open_one() -> ServiceContext:
        ctx = open_context(settings)
        opened.append(ctx)
        return ctx

    try:
        yield open_one
    finally:
        for ctx in opened:
            ctx.close()
