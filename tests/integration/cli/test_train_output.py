"""What `softquery train` prints: each cross-validation note once, a metric the ordered folds could
not measure named (and `versions` saying so), a stopped run as stopped (items 8c, 15, 17 of the
issue 14 review)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from tests.integration.cli.cli_harness import SoftqueryCLI

from softquery.cli.runs_cmd import _summary
from softquery.domain import Run, RunKind, RunStatus, RunTrigger


@pytest.fixture
def days(sq: SoftqueryCLI, tmp_path: Path) -> None:
    db = tmp_path / "days.db"
    with sqlite3.connect(db) as conn:
        conn.execute("create table sales (day integer, x real, y real)")
        conn.executemany("insert into sales values (?, ?, ?)", [(d, (d * 7) % 5, 3.0 * d + (d * 7) % 5)
                                                                for d in (5, 2, 9, 0, 10, 1, 7, 3, 8, 4, 6)])
    conn.close()
    sq("source", "add", "shop", f"sqlite:///{db}")
    sq("model", "create", "m", "--source", "shop", "--template", "linear_regression", "--label", "y",
       "--train-sql", "select day, x, y from sales", "--predict-sql", "select day, x from sales",
       "--order-column", "day")


def test_train_prints_each_cv_note_once_and_names_an_unmeasured_metric(sq: SoftqueryCLI, days: None) -> None:
    out = sq("train", "m").out
    note = "r2 was not measured: each fold has only 1 test row"
    assert out.count(note) == 1, out  # once, as a cross-validation note (not again as a "note")
    assert f"cross-validation note: {note}" in out, out
    assert "(5-fold, ordered by day)" in out, out
    assert "r2 (CV) not measured in these folds" in sq("versions", "m").out


def test_a_stopped_run_says_it_was_stopped(capsys: pytest.CaptureFixture[str]) -> None:
    started = datetime(2026, 1, 1, tzinfo=UTC)
    run = Run(id="abc", model="m", kind=RunKind.TRAIN, status=RunStatus.CANCELLED, trigger=RunTrigger.CLI,
              created_at=started, started_at=started, finished_at=started + timedelta(seconds=13),
              error_code="cancelled", error_message="The run was stopped on request.")
    _summary(run)
    out = capsys.readouterr().out
    assert out.startswith("Run abc was stopped after 13.0 s."), out
    assert "failed" not in out
