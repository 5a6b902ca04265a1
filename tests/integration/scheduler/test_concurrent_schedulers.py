"""Two (or more) schedulers ticking the same `now` at once queue each slot exactly once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from softquery.domain import RunKind, RunTrigger
from softquery.services.context import ServiceContext
from softquery.services.scheduled_runs import tick
from softquery.store.schedules_repo import ScheduleRepository
from softquery.store.tables import runs, schedule_fires

from .conftest import OpenCtx, add_scheduled_model

T0 = datetime(2024, 5, 1, 9, 30, tzinfo=UTC)


def _race(contexts: list[ServiceContext], now: datetime) -> list[list[str]]:
    """Every context ticks `now` in its own thread, released together by a barrier."""
    barrier = threading.Barrier(len(contexts))
    results: list[list[str]] = [[] for _ in contexts]
    errors: list[BaseException] = []

    def work(i: int, ctx: ServiceContext) -> None:
        try:
            barrier.wait(timeout=30)
            results[i] = tick(ctx, now, lambda _run_id: None)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i, c)) for i, c in enumerate(contexts)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a scheduler thread hung"
    assert errors == []
    return results


def _count(ctx: ServiceContext, table: object) -> int:
    with ctx.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


def _check_exactly_once(open_ctx: OpenCtx, n_schedulers: int = 4, n_models: int = 5) -> None:
    setup = open_ctx()
    for i in range(n_models):
        add_scheduled_model(setup, f"m{i}", "hourly", since=T0, action="predict")
    contexts = [open_ctx() for _ in range(n_schedulers)]
    expected = 0
    for hour in (10, 11, 12):
        now = T0.replace(hour=hour, minute=0) + timedelta(seconds=hour)
        results = _race(contexts, now)
        new = [run_id for result in results for run_id in result]
        assert len(new) == n_models, results  # one run per model, whoever won
        assert len(set(new)) == len(new)
        expected += n_models
        assert _count(setup, runs) == expected
        assert _count(setup, schedule_fires) == expected
        for run_id in new:
            run = setup.runs.get(run_id)
            assert run.trigger is RunTrigger.SCHEDULE and run.kind is RunKind.PREDICT
            assert run.scheduled_for == now.replace(second=0)


def test_concurrent_schedulers_on_sqlite(sqlite_contexts: OpenCtx) -> None:
    _check_exactly_once(sqlite_contexts)


@pytest.mark.postgres
def test_concurrent_schedulers_on_postgres(pg_contexts: OpenCtx) -> None:
    _check_exactly_once(pg_contexts)


def _fire_twice(open_ctx: OpenCtx) -> None:
    ctx = open_ctx()
    add_scheduled_model(ctx, "m", "hourly", since=T0)
    repo = ScheduleRepository(ctx.engine)
    slot = datetime(2024, 5, 1, 10, tzinfo=UTC)
    assert not repo.was_fired("m", slot)
    run_id = repo.fire("m", slot, RunKind.TRAIN)
    assert run_id is not None and repo.was_fired("m", slot)
    # the same slot given in another offset is the same instant: refused, nothing created
    berlin = slot.astimezone(ZoneInfo("Europe/Berlin"))
    assert repo.fire("m", berlin, RunKind.TRAIN) is None
    assert repo.fire("nope", slot, RunKind.TRAIN) is None
    assert _count(ctx, runs) == 1 and _count(ctx, schedule_fires) == 1
    with ctx.engine.connect() as conn:
        assert conn.execute(select(schedule_fires.c.run_id)).scalar_one() == run_id
    assert [m.name for m in repo.scheduled_models()] == ["m"]


def test_fire_is_refused_for_a_fired_slot_on_sqlite(sqlite_contexts: OpenCtx) -> None:
    _fire_twice(sqlite_contexts)


@pytest.mark.postgres
def test_fire_is_refused_for_a_fired_slot_on_postgres(pg_contexts: OpenCtx) -> None:
    _fire_twice(pg_contexts)


def _fire_race(open_ctx: OpenCtx) -> None:
    """Many threads call fire() directly (no pre-check) for one slot: the DB picks one winner."""
    setup = open_ctx()
    add_scheduled_model(setup, "m", "hourly", since=T0)
    repos = [ScheduleRepository(open_ctx().engine) for _ in range(6)]
    for hour in (10, 11, 12):
        slot = datetime(2024, 5, 1, hour, tzinfo=UTC)
        barrier = threading.Barrier(len(repos))
        got: list[str | None] = []

        def work(repo: ScheduleRepository, slot: datetime = slot, barrier: threading.Barrier = barrier,
                 got: list[str | None] = got) -> None:
            barrier.wait(timeout=30)
            got.append(repo.fire("m", slot, RunKind.TRAIN))

        _run_all([lambda r=r: work(r) for r in repos])  # type: ignore[misc]
        assert len(got) == 6 and len([g for g in got if g]) == 1, got
    assert _count(setup, runs) == 3 and _count(setup, schedule_fires) == 3


def test_fire_race_on_sqlite(sqlite_contexts: OpenCtx) -> None:
    _fire_race(sqlite_contexts)


@pytest.mark.postgres
def test_fire_race_on_postgres(pg_contexts: OpenCtx) -> None:
    _fire_race(pg_contexts)


def _run_all(jobs: list[Callable[[], None]]) -> None:
    threads = [threading.Thread(target=job) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads)
