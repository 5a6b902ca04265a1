"""One real minute-schedule firing through a running `softquery serve`
(local executor, scheduler thread inside the server). Duplicate slots across
two schedulers are covered by the `tick(now)` unit tests."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from tests.integration.cli.cli_harness import SoftqueryCLI
from tests.integration.harness import JobSystem, make_source, use_softquery_env, wait_for
from tests.integration.models import FAST

from softquery.cli.command_access import os_user
from softquery.domain import Run, RunKind, RunStatus, RunTrigger

Served = tuple[JobSystem, SoftqueryCLI]
FIRE_DEADLINE_SECONDS = 90.0


@pytest.fixture
def served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Iterator[Served]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOFTQUERY_")}
    env.update({
        "SOFTQUERY_HOME": str(tmp_path / "home"),
        "SOFTQUERY_HEARTBEAT_SECONDS": "0.5",
        "SOFTQUERY_JOB_SLOTS": "2",
    })
    use_softquery_env(monkeypatch, env)
    cli = SoftqueryCLI(capsys, tmp_path / "home")
    cli("init")
    cli("source", "add", "src", make_source(tmp_path / "source.db"))
    jobs = JobSystem("local", env, tmp_path)
    jobs.start()  # `softquery serve --port 0`, scheduler on
    try:
        yield jobs, cli
    finally:
        jobs.kill_all()


def _parse(value: str) -> datetime:
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def test_a_minute_schedule_fires_once_through_a_running_server(served: Served, tmp_path: Path) -> None:
    jobs, cli = served
    code = tmp_path / "fast.py"
    code.write_text(FAST)
    cli("model", "create", "weekly_data", "--source", "src", "--code-file", str(code),
        "--train-sql", "select id, x, y from t", "--predict-sql", "select id, x from t")
    cli("model", "update", "weekly_data", "--schedule", "* * * * *")
    shown = cli("model", "show", "weekly_data", "--json").json()
    assert shown["schedule"] == "* * * * *"
    assert shown["next_run_at"] is not None

    ctx = jobs.context()
    try:
        def scheduled_and_finished() -> Run | None:
            runs = [r for r in ctx.runs.list("weekly_data", limit=100) if r.trigger is RunTrigger.SCHEDULE]
            return next((r for r in runs if r.status.finished), None)

        run = wait_for(scheduled_and_finished, FIRE_DEADLINE_SECONDS, "the minute schedule to fire and finish",
                       interval=0.25)
        scheduled = [r for r in ctx.runs.list("weekly_data", limit=100) if r.trigger is RunTrigger.SCHEDULE]
    finally:
        ctx.close()

    assert run.status is RunStatus.SUCCEEDED, (run.error_code, run.error_message)
    assert run.kind is RunKind.TRAIN  # the default schedule action
    assert run.scheduled_for is not None and run.scheduled_for.second == 0
    assert run.result["train"]["version"] == 1
    # The slot fired once (a second one only if a new minute began meanwhile).
    assert len({r.scheduled_for for r in scheduled}) == len(scheduled)
    assert [v["version"] for v in cli("versions", "weekly_data", "--json").json()][:1] == [1]

    after = cli("model", "show", "weekly_data", "--json").json()
    assert after["active_version"] >= 1
    assert _parse(after["next_run_at"]) > datetime.now(UTC)
    # the audit log names the scheduler for the scheduled run, the CLI user for the rest
    audited = {e["details"]["run"]: e["actor"]
               for e in cli("audit", "--target", "weekly_data", "--action", "model.train", "--json").json()}
    assert audited[run.id] == "system:scheduler"
    assert {e["actor"] for e in cli("audit", "--action", "model.create", "--json").json()} == {
        f"cli:{os_user()}"}
