"""SchedulerLoop: ticks in a thread, survives errors, stops cleanly. Polls with deadlines."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import text

from softquery.config import Settings
from softquery.scheduler.loop import SchedulerLoop
from softquery.services.context import ServiceContext
from softquery.store.database import make_engine

from .conftest import OpenCtx, add_scheduled_model

NOW = datetime(2024, 5, 1, 10, 0, 5, tzinfo=UTC)


def wait_for(check: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(0.01)


def test_loop_fires_due_slot_and_stops(sqlite_contexts: OpenCtx) -> None:
    setup = sqlite_contexts()
    add_scheduled_model(setup, "m", "hourly", since=datetime(2024, 5, 1, 9, tzinfo=UTC))
    submitted: list[str] = []
    loop = SchedulerLoop(sqlite_contexts, submitted.append, interval=0.01, clock=lambda: NOW)
    loop.start()
    try:
        wait_for(lambda: len(submitted) == 1 and loop.ticks >= 5)
    finally:
        loop.stop()
    assert not loop.is_alive()
    assert len(submitted) == 1  # many ticks, one slot, one run
    assert setup.runs.get(submitted[0]).scheduled_for == datetime(2024, 5, 1, 10, tzinfo=UTC)
    assert loop.errors == 0


def test_loop_survives_a_broken_database_and_recovers(sqlite_contexts: OpenCtx, tmp_path: object) -> None:
    setup = sqlite_contexts()
    add_scheduled_model(setup, "m", "hourly", since=datetime(2024, 5, 1, 9, tzinfo=UTC))
    calls = {"n": 0}

    def factory() -> ServiceContext:
        calls["n"] += 1
        if calls["n"] == 1:
            raise ConnectionError("metadata DB unreachable")
        if calls["n"] == 2:  # opens, but its connection is broken: every query fails
            bad = make_engine("sqlite:////nonexistent-dir/softquery.db")
            return ServiceContext.from_engine(Settings(), bad)
        return sqlite_contexts()

    submitted: list[str] = []
    loop = SchedulerLoop(factory, submitted.append, interval=0.01, clock=lambda: NOW)
    loop.start()
    try:
        wait_for(lambda: len(submitted) == 1)
    finally:
        loop.stop()
    assert not loop.is_alive()
    assert loop.errors == 2 and calls["n"] == 3
    assert isinstance(loop.last_error, Exception)


def test_loop_survives_a_connection_killed_under_it(sqlite_contexts: OpenCtx) -> None:
    """The context's engine is disposed mid-run (as after a DB restart): the loop reconnects."""
    setup = sqlite_contexts()
    with setup.engine.connect() as conn:
        conn.execute(text("select 1"))
    contexts: list[ServiceContext] = []

    def factory() -> ServiceContext:
        ctx = sqlite_contexts()
        contexts.append(ctx)
        return ctx

    clock = {"now": NOW}
    submitted: list[str] = []
    loop = SchedulerLoop(factory, submitted.append, interval=0.01, clock=lambda: clock["now"])
    loop.start()
    try:
        wait_for(lambda: loop.ticks >= 3)
        add_scheduled_model(setup, "m", "hourly", since=datetime(2024, 5, 1, 9, tzinfo=UTC))
        wait_for(lambda: len(submitted) == 1)
        contexts[0].engine.dispose()  # pooled connections gone; the next tick opens new ones
        clock["now"] = datetime(2024, 5, 1, 11, 0, 1, tzinfo=UTC)
        wait_for(lambda: len(submitted) == 2)
    finally:
        loop.stop()
    assert not loop.is_alive()


def test_stop_is_prompt_with_a_long_interval(sqlite_contexts: OpenCtx) -> None:
    loop = SchedulerLoop(sqlite_contexts, lambda _r: None, interval=3600)
    loop.start()
    wait_for(lambda: loop.ticks >= 1)
    started = time.monotonic()
    loop.stop()
    assert not loop.is_alive() and time.monotonic() - started < 5
