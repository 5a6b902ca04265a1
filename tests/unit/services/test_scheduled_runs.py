"""tick(now) with a fake clock against a real (SQLite) metadata DB."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from softquery.domain import Model, RunKind, RunStatus, RunTrigger
from softquery.services.context import ServiceContext
from softquery.services.models import ModelSpec, update_model
from softquery.services.scheduled_runs import tick
from softquery.services.schedules import clear_schedule, next_fire_time, set_schedule

from .conftest import AddModel


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[arg-type,misc]


class Collect:
    def __init__(self) -> None:
        self.ids: list[str] = []

    def __call__(self, run_id: str) -> None:
        self.ids.append(run_id)


def test_due_slot_fires_once_with_trigger_slot_and_action(ctx: ServiceContext, add_model: AddModel) -> None:
    add_model("m", "hourly", since=utc(2024, 5, 1, 9, 30), action="train_then_predict")
    submitted = Collect()
    assert tick(ctx, utc(2024, 5, 1, 9, 59, 59), submitted) == []  # nothing due yet
    fired = tick(ctx, utc(2024, 5, 1, 10, 0, 1), submitted)
    assert len(fired) == 1 and submitted.ids == fired
    run = ctx.runs.get(fired[0])
    assert run.model == "m"
    assert run.status is RunStatus.QUEUED
    assert run.trigger is RunTrigger.SCHEDULE
    assert run.kind is RunKind.TRAIN_THEN_PREDICT
    assert run.scheduled_for == utc(2024, 5, 1, 10)


def test_the_same_tick_twice_creates_one_run(ctx: ServiceContext, add_model: AddModel) -> None:
    add_model("m", "hourly", since=utc(2024, 5, 1, 9, 30))
    submitted = Collect()
    now = utc(2024, 5, 1, 10, 0, 0)
    assert len(tick(ctx, now, submitted)) == 1
    assert tick(ctx, now, submitted) == []
    assert tick(ctx, now + timedelta(minutes=59), submitted) == []
    assert len(submitted.ids) == 1 and len(ctx.runs.list("m")) == 1
    assert len(tick(ctx, utc(2024, 5, 1, 11), submitted)) == 1  # the next slot
    assert [r.scheduled_for for r in ctx.runs.list("m")] == [utc(2024, 5, 1, 11), utc(2024, 5, 1, 10)]


def test_after_downtime_only_the_latest_missed_slot_runs_once(ctx: ServiceContext, add_model: AddModel) -> None:
    add_model("m", "hourly", since=utc(2024, 5, 1, 9, 30))
    assert len(tick(ctx, utc(2024, 5, 1, 10, 0, 1), Collect())) == 1
    # down from 10:05 to 15:20: slots 11..15 missed
    fired = tick(ctx, utc(2024, 5, 1, 15, 20), Collect())
    assert len(fired) == 1
    assert ctx.runs.get(fired[0]).scheduled_for == utc(2024, 5, 1, 15)
    assert tick(ctx, utc(2024, 5, 1, 15, 20, 1), Collect()) == []
    assert len(ctx.runs.list("m")) == 2


def test_a_slot_before_schedule_since_does_not_fire(ctx: ServiceContext, add_model: AddModel) -> None:
    add_model("m", "daily", since=utc(2024, 5, 1, 8))
    assert tick(ctx, utc(2024, 5, 1, 8, 0, 1), Collect()) == []  # today's 00:00 is before `since`
    assert tick(ctx, utc(2024, 5, 1, 23, 59), Collect()) == []
    assert len(tick(ctx, utc(2024, 5, 2, 0, 0, 30), Collect())) == 1


def test_a_slot_exactly_at_schedule_since_fires(ctx: ServiceContext, add_model: AddModel) -> None:
    add_model("m", "hourly", since=utc(2024, 5, 1, 10))
    assert len(tick(ctx, utc(2024, 5, 1, 10, 0, 1), Collect())) == 1


def test_changing_the_schedule_does_not_fire_a_past_slot(ctx: ServiceContext, add_model: AddModel) -> None:
    model = add_model("m", "weekly", since=utc(2024, 5, 1))
    set_schedule(ctx, "m", "hourly", now=utc(2024, 5, 10, 10, 30))
    assert ctx.models.get("m").schedule_since == utc(2024, 5, 10, 10, 30)
    assert tick(ctx, utc(2024, 5, 10, 10, 31), Collect()) == []
    # only the action changes: `since` stays
    set_schedule(ctx, "m", "hourly", action="predict", now=utc(2024, 5, 10, 10, 45))
    assert ctx.models.get("m").schedule_since == utc(2024, 5, 10, 10, 30)
    # the time zone changes: `since` moves
    set_schedule(ctx, "m", "hourly", timezone="Asia/Kolkata", now=utc(2024, 5, 10, 10, 50))
    assert ctx.models.get("m").schedule_since == utc(2024, 5, 10, 10, 50)
    assert model.schedule == "weekly"
    fired = tick(ctx, utc(2024, 5, 10, 11, 45), Collect())  # Kolkata is +05:30: slot 11:30 UTC
    assert len(fired) == 1
    run = ctx.runs.get(fired[0])
    assert run.scheduled_for == utc(2024, 5, 10, 11, 30) and run.kind is RunKind.PREDICT


def test_cleared_schedule_does_not_fire(ctx: ServiceContext, add_model: AddModel) -> None:
    add_model("m", "hourly", since=utc(2024, 5, 1))
    add_model("other", "hourly", since=utc(2024, 5, 1))
    clear_schedule(ctx, "m")
    model = ctx.models.get("m")
    assert (model.schedule, model.schedule_action, model.schedule_timezone, model.schedule_since) == (
        None, None, None, None)
    assert next_fire_time(model) is None
    fired = tick(ctx, utc(2024, 5, 1, 10), Collect())
    assert [ctx.runs.get(r).model for r in fired] == ["other"]


def test_update_model_sets_and_clears_the_schedule(ctx: ServiceContext, add_model: AddModel) -> None:
    add_model("m", "hourly", since=utc(2024, 5, 1))
    saved = update_model(ctx, "m", ModelSpec(schedule="0 7 * * 1-5", schedule_timezone="Europe/Berlin",
                                             time_limit_seconds=600, memory_limit_mb=512))
    model = saved.model
    assert (model.schedule, model.schedule_timezone, model.schedule_action) == (
        "0 7 * * 1-5", "Europe/Berlin", RunKind.TRAIN)
    assert (model.time_limit_seconds, model.memory_limit_mb) == (600, 512)
    assert model.schedule_since is not None
    nxt = next_fire_time(model)
    assert nxt is not None and nxt > model.schedule_since
    local = nxt.astimezone(ZoneInfo("Europe/Berlin"))
    assert (local.hour, local.minute) == (7, 0) and local.weekday() < 5
    model = update_model(ctx, "m", ModelSpec(clear={"schedule", "time_limit_seconds"})).model
    assert model.schedule is None and model.time_limit_seconds is None and model.memory_limit_mb == 512


@pytest.mark.parametrize("spec", [
    ModelSpec(schedule="every monday"),
    ModelSpec(schedule="daily", schedule_timezone="Berlin"),
    ModelSpec(schedule="daily", schedule_action="retrain"),
    ModelSpec(schedule="daily", clear={"schedule"}),
    ModelSpec(time_limit_seconds=0),
    ModelSpec(memory_limit_mb=-5),
])
def test_bad_schedule_input_is_refused(ctx: ServiceContext, add_model: AddModel, spec: ModelSpec) -> None:
    from softquery.errors import InvalidInputError

    add_model("m", "hourly", since=utc(2024, 5, 1))
    with pytest.raises(InvalidInputError):
        update_model(ctx, "m", spec)
    assert ctx.models.get("m").schedule == "hourly"


def test_action_without_a_schedule_is_refused(ctx: ServiceContext, add_model: AddModel) -> None:
    from softquery.errors import InvalidInputError

    add_model("m", "hourly", since=utc(2024, 5, 1))
    clear_schedule(ctx, "m")
    with pytest.raises(InvalidInputError, match="no schedule"):
        update_model(ctx, "m", ModelSpec(schedule_action="predict"))


def test_spring_forward_day_fires_once(ctx: ServiceContext, add_model: AddModel) -> None:
    add_model("m", "30 2 * * *", timezone="Europe/Berlin", since=utc(2024, 3, 30, 12))
    fired: list[str] = []
    now = utc(2024, 3, 30, 22)
    while now < utc(2024, 3, 31, 12):  # every 5 minutes through the night the clocks jump
        fired += tick(ctx, now, Collect())
        now += timedelta(minutes=5)
    assert len(fired) == 1
    assert ctx.runs.get(fired[0]).scheduled_for == utc(2024, 3, 31, 1, 30)  # 03:30 CEST


def test_fall_back_day_fires_once(ctx: ServiceContext, add_model: AddModel) -> None:
    add_model("m", "30 2 * * *", timezone="Europe/Berlin", since=utc(2024, 10, 26, 12))
    fired: list[str] = []
    now = utc(2024, 10, 26, 22)
    while now < utc(2024, 10, 27, 12):
        fired += tick(ctx, now, Collect())
        now += timedelta(minutes=5)
    assert len(fired) == 1
    assert ctx.runs.get(fired[0]).scheduled_for == utc(2024, 10, 27, 0, 30)  # first 02:30


def test_a_failing_submit_keeps_the_run_queued(ctx: ServiceContext, add_model: AddModel) -> None:
    add_model("a", "hourly", since=utc(2024, 5, 1))
    add_model("b", "hourly", since=utc(2024, 5, 1))

    def broken(_run_id: str) -> None:
        raise ConnectionError("queue is down")

    fired = tick(ctx, utc(2024, 5, 1, 10), broken)
    assert len(fired) == 2
    assert {ctx.runs.get(r).status for r in fired} == {RunStatus.QUEUED}
    assert tick(ctx, utc(2024, 5, 1, 10), broken) == []


def test_an_unusable_stored_schedule_does_not_block_others(ctx: ServiceContext, add_model: AddModel) -> None:
    bad = add_model("bad", "hourly", since=utc(2024, 5, 1))
    add_model("good", "hourly", since=utc(2024, 5, 1))
    bad.schedule = "not a cron"
    ctx.models.save(bad)
    fired = tick(ctx, utc(2024, 5, 1, 10), Collect())
    assert [ctx.runs.get(r).model for r in fired] == ["good"]


def test_tick_refuses_a_naive_now(ctx: ServiceContext) -> None:
    with pytest.raises(ValueError):
        tick(ctx, datetime(2024, 5, 1), Collect())


def test_duplicate_does_not_fire_the_originals_past_slot(ctx: ServiceContext, add_model: AddModel) -> None:
    from softquery.services.models import duplicate_model

    add_model("m", "hourly", since=utc(2020, 1, 1))
    copy = duplicate_model(ctx, "m", "m2")
    assert copy.schedule == "hourly" and copy.schedule_since is not None
    assert copy.schedule_since > utc(2024, 1, 1)


def test_next_fire_time() -> None:
    model = Model(name="m", source="s", code="", train_sql="", predict_sql="", schedule="0 7 * * 1-5",
                  schedule_timezone="Europe/Berlin", schedule_since=utc(2024, 5, 1))
    assert next_fire_time(model, now=utc(2024, 5, 3, 6)) == utc(2024, 5, 6, 5)  # Fri 08:00 -> Mon 07:00
    # a schedule set in the future of `now` (clock skew) fires first at or after `since`
    model.schedule_since = utc(2024, 5, 6, 5)
    assert next_fire_time(model, now=utc(2024, 5, 1)) == utc(2024, 5, 6, 5)
    model.schedule = "broken"
    assert next_fire_time(model) is None


def test_scheduled_runs_are_audited_as_the_scheduler(ctx: ServiceContext, add_model: AddModel) -> None:
    add_model("m", "hourly", since=utc(2024, 5, 1, 9, 30), action="predict")
    fired = tick(ctx, utc(2024, 5, 1, 10, 0, 1), Collect())
    events = ctx.audit.list(action="model.predict")
    assert [(e.actor, e.target, e.details) for e in events] == [
        ("system:scheduler", "m", {"run": fired[0], "trigger": "schedule", "slot": "2024-05-01T10:00:00+00:00"})]
    assert ctx.audit.list(action="model.create")[0].actor.startswith("cli:")  # the context itself is unchanged
    assert ctx.actor.label.startswith("cli:")
