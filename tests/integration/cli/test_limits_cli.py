"""The CLI shares the limits: long texts and run limits above the server's maximum are refused
(exit 2), an admin's higher maximum accepts more, and a model saved before a maximum was
lowered runs at the maximum (real runs, killed at the lowered limit; the run log says why)."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest
from tests.integration.cli.cli_harness import Result, SoftqueryCLI

SLEEPY = '''import time

class Model:
    def train(self, X, y):
        time.sleep(30)
        self.mean = float(sum(y)) / len(y)
    def predict(self, X):
        return [self.mean] * len(X)
'''

GREEDY = '''class Model:
    def train(self, X, y):
        block = bytearray(400 * 1024 * 1024)
        block[::4096] = b"x" * len(block[::4096])
        self.mean = float(sum(y)) / len(y)
    def predict(self, X):
        return [self.mean] * len(X)
'''


@pytest.fixture
def src(sq: SoftqueryCLI, tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    with sqlite3.connect(db) as conn:
        conn.execute("create table t (id integer, x real, y real)")
        conn.executemany("insert into t values (?, ?, ?)", [(i, i * 1.0, i * 0.37 + 0.1) for i in range(20)])
    conn.close()
    sq("source", "add", "src", f"sqlite:///{db}")


def create(sq: SoftqueryCLI, tmp_path: Path, *extra: str, code: str = SLEEPY, ok: bool = True) -> Result:
    code_file = tmp_path / "model.py"
    code_file.write_text(code)
    return sq("model", "create", "m", "--source", "src", "--code-file", str(code_file),
              "--train-sql", "select id, x, y from t", "--predict-sql", "select id, x from t", *extra, ok=ok)


def test_the_cli_refuses_limits_above_the_maximum(sq: SoftqueryCLI, src: None, tmp_path: Path) -> None:
    result = create(sq, tmp_path, "--memory-limit", "100000000", ok=False)
    assert result.code == 2
    assert "maximum of 4,096 MB" in result.err and "SOFTQUERY_MAX_MEMORY_LIMIT_MB" in result.err
    result = create(sq, tmp_path, "--time-limit", "2000000000", ok=False)
    assert result.code == 2 and "SOFTQUERY_MAX_TIME_LIMIT_SECONDS" in result.err
    assert sq("model", "list", "--json").json() == []
    create(sq, tmp_path)
    result = sq("model", "update", "m", "--memory-limit", "4097", ok=False)
    assert result.code == 2 and "maximum of 4,096 MB" in result.err
    assert sq("model", "show", "m", "--json").json()["memory_limit_mb"] is None


def test_the_cli_refuses_long_texts(sq: SoftqueryCLI, src: None, tmp_path: Path) -> None:
    result = create(sq, tmp_path, "--description", "d" * 10_001, ok=False)
    assert result.code == 2
    assert "The description is 10,001 characters long; at most 10,000 are allowed." in result.err
    result = create(sq, tmp_path, code=SLEEPY + "#" * 200_000, ok=False)
    assert result.code == 2 and "The model code is" in result.err and "at most 200,000" in result.err
    assert sq("model", "list", "--json").json() == []


def test_an_admins_higher_maximum_accepts_more(sq: SoftqueryCLI, src: None, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOFTQUERY_MAX_MEMORY_LIMIT_MB", "16384")
    monkeypatch.setenv("SOFTQUERY_MAX_TIME_LIMIT_SECONDS", "86400")
    create(sq, tmp_path, "--memory-limit", "16384", "--time-limit", "86400")
    model = sq("model", "show", "m", "--json").json()
    assert (model["memory_limit_mb"], model["time_limit_seconds"]) == (16384, 86400)


def train_failure(sq: SoftqueryCLI) -> dict[str, object]:
    result = sq("train", "m", "--json", ok=False)
    assert result.code == 1, result.err
    run: dict[str, object] = result.json()
    assert run["status"] == "failed"
    return run


def test_a_lowered_time_maximum_cuts_a_saved_longer_limit(sq: SoftqueryCLI, src: None, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOFTQUERY_MAX_TIME_LIMIT_SECONDS", "7200")
    create(sq, tmp_path, "--time-limit", "7200")  # saved while the admin allowed it
    monkeypatch.setenv("SOFTQUERY_MAX_TIME_LIMIT_SECONDS", "2")  # lowered since
    started = time.monotonic()
    run = train_failure(sq)
    assert time.monotonic() - started < 20  # the model sleeps 30 s: it was stopped at 2 s
    assert "time limit of 2 seconds" in str(run["error"])
    assert ("this model's time limit of 7,200 seconds is above the server's maximum of 2 seconds "
            "(SOFTQUERY_MAX_TIME_LIMIT_SECONDS); this run gets 2 seconds.") in str(run["stderr"])


def test_a_lowered_memory_maximum_cuts_a_saved_larger_limit(sq: SoftqueryCLI, src: None, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    create(sq, tmp_path, "--memory-limit", "2048", code=GREEDY)  # 400 MB fit in 2048 MB
    monkeypatch.setenv("SOFTQUERY_MAX_MEMORY_LIMIT_MB", "128")
    run = train_failure(sq)
    assert "memory limit of 128 MB" in str(run["error"]), run
    assert "this model's memory limit of 2,048 MB is above the server's maximum of 128 MB" in str(run["stderr"])
