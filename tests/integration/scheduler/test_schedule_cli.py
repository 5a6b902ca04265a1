"""`softquery model update --schedule …`, `model show` and `softquery scheduler` through the CLI."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from tests.integration.cli.cli_harness import SoftqueryCLI


def test_schedule_shows_in_model_show_json(sq: SoftqueryCLI) -> None:
    before = datetime.now(UTC)
    sq("model", "update", "m", "--schedule", "daily", "--schedule-action", "train_then_predict",
       "--schedule-timezone", "Europe/Berlin", "--time-limit", "600", "--memory-limit", "2048")
    data = sq("model", "show", "m", "--json").json()
    assert data["schedule"] == "daily"
    assert data["schedule_action"] == "train_then_predict"
    assert data["schedule_timezone"] == "Europe/Berlin"
    assert data["time_limit_seconds"] == 600 and data["memory_limit_mb"] == 2048
    next_run = datetime.fromisoformat(data["next_run_at"])
    assert before < next_run <= before + timedelta(days=1, hours=1)
    local = next_run.astimezone(ZoneInfo("Europe/Berlin"))
    assert (local.hour, local.minute) == (0, 0)
    listed = sq("model", "list", "--json").json()
    assert listed[0]["next_run_at"] == data["next_run_at"]


def test_model_show_text_prints_schedule_zone_and_next_fire(sq: SoftqueryCLI) -> None:
    out = sq("model", "show", "m").out
    assert "schedule: none" in out
    sq("model", "update", "m", "--schedule", "30 6 * * 1-5", "--schedule-timezone", "America/New_York")
    out = sq("model", "show", "m").out
    assert "schedule: 30 6 * * 1-5" in out
    assert "schedule_timezone: America/New_York" in out
    assert "schedule_action: train" in out
    next_line = next(line for line in out.splitlines() if line.startswith("next_run_at:"))
    assert "UTC" in next_line and "06:30 America/New_York" in next_line


def test_no_schedule_clears_it(sq: SoftqueryCLI) -> None:
    sq("model", "update", "m", "--schedule", "hourly")
    sq("model", "update", "m", "--no-schedule")
    data = sq("model", "show", "m", "--json").json()
    assert data["schedule"] is None and data["next_run_at"] is None and data["schedule_timezone"] is None


def test_create_with_schedule_and_limits(sq: SoftqueryCLI) -> None:
    sq("model", "create", "m2", "--source", "s", "--template", "linear_regression",
       "--train-sql", "select id, rooms, price from houses", "--predict-sql", "select id, rooms from houses",
       "--schedule", "weekly", "--time-limit", "60")
    data = sq("model", "show", "m2", "--json").json()
    assert data["schedule"] == "weekly" and data["schedule_timezone"] == "UTC"
    assert data["schedule_action"] == "train" and data["time_limit_seconds"] == 60
    assert datetime.fromisoformat(data["next_run_at"]).weekday() == 0


def test_bad_schedule_input_is_explained(sq: SoftqueryCLI) -> None:
    bad = sq("model", "update", "m", "--schedule", "every monday", ok=False)
    assert bad.code != 0 and "Examples" in bad.out + bad.err and "Traceback" not in bad.out + bad.err
    bad = sq("model", "update", "m", "--schedule", "daily", "--schedule-timezone", "Berlin", ok=False)
    assert bad.code != 0 and "Europe/Berlin" in bad.out + bad.err
    bad = sq("model", "update", "m", "--schedule-action", "predict", ok=False)
    assert bad.code != 0 and "--schedule" in bad.out + bad.err
    bad = sq("model", "update", "m", "--time-limit", "0", ok=False)
    assert bad.code != 0 and "time limit" in bad.out + bad.err
    bad = sq("model", "update", "m", "--schedule", "daily", "--no-schedule", ok=False)
    assert bad.code != 0
    assert sq("model", "show", "m", "--json").json()["schedule"] is None


def test_scheduler_once_queues_nothing_for_a_new_schedule(sq: SoftqueryCLI) -> None:
    sq("model", "update", "m", "--schedule", "* * * * *")
    assert sq("scheduler", "--once").json() == []  # the current minute began before the schedule
    runs = sq("runs", "--json").json()
    assert runs == []


def test_scheduler_in_foreground_stops_on_ctrl_c(sq: SoftqueryCLI, home: Path) -> None:
    env = {**os.environ, "SOFTQUERY_HOME": str(home), "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "softquery.cli.main", "scheduler", "--interval", "0.2"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, "")),  # type: ignore[union-attr]
                              daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 30
        while not any("Scheduler running" in line for line in lines):
            assert proc.poll() is None and time.monotonic() < deadline, "".join(lines)
            time.sleep(0.02)
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=10)
        reader.join(timeout=5)
        out = "".join(lines)
        assert proc.returncode == 0, out
        assert "Scheduler stopped" in out and "Traceback" not in out
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_scheduler_needs_an_initialised_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("SOFTQUERY_HOME", str(tmp_path / "empty"))
    monkeypatch.delenv("SOFTQUERY_DATABASE_URL", raising=False)
    result = SoftqueryCLI(capsys, tmp_path / "empty")("scheduler", "--once", ok=False)
    assert result.code != 0 and "softquery init" in result.out + result.err
