"""``training.parallel.run_all``: fits side by side in forked processes, and what model code
can do to them (raise, exit, kill its parent, fork, return junk) ends as a clear error,
never a hang, with no process left behind."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from softquery.errors import DataError, ModelCodeError
from softquery.training import parallel
from softquery.training.parallel import run_all
from softquery.training.pipeline import train_from_rows
from softquery.training.spec import TrainSpec

DEADLINE_SECONDS = 20.0


def _children() -> list[tuple[int, str]]:
    """(pid, state) of this process's children, zombies included (not yet reaped)."""
    found = []
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == os.getpid():
            found.append((int(entry), fields[0]))
    return found


@pytest.fixture
def leaves_no_process() -> Iterator[None]:
    before = {pid for pid, _ in _children()}
    yield
    deadline = time.monotonic() + DEADLINE_SECONDS
    while (left := [c for c in _children() if c[0] not in before]) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert left == [], f"processes left behind (pid, state): {left}"


def _pid_task(i: int) -> Callable[[], dict[str, int]]:
    return lambda: {"i": i, "pid": os.getpid()}


def test_results_come_back_in_order_from_other_processes(leaves_no_process: None) -> None:
    beside: list[int] = []
    results = run_all([_pid_task(i) for i in range(5)], 2, beside=lambda: beside.append(os.getpid()))
    assert [r["i"] for r in results] == list(range(5))
    assert beside == [os.getpid()] and all(r["pid"] != os.getpid() for r in results)
    assert len({r["pid"] for r in results}) == 5  # a fresh process per task: no shared state


def test_one_core_runs_the_tasks_here_one_after_another() -> None:
    assert [r["pid"] for r in run_all([_pid_task(i) for i in range(3)], 1)] == [os.getpid()] * 3


def test_a_refused_fork_falls_back_to_one_after_another(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse() -> int:
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(parallel.os, "fork", refuse)
    results = run_all([_pid_task(i) for i in range(3)], 2)
    assert [r["pid"] for r in results] == [os.getpid()] * 3


def test_a_softquery_error_comes_back_whole(leaves_no_process: None) -> None:
    def bad() -> None:
        raise DataError("the label is odd", details={"label": "y"})

    with pytest.raises(DataError) as caught:
        run_all([_pid_task(0), bad, _pid_task(2)], 2, names=["fold 1", "fold 2", "fold 3"])
    assert caught.value.message == "the label is odd" and caught.value.details == {"label": "y"}
    assert caught.value.code == "data_error"


def test_a_python_error_becomes_a_model_code_error_naming_the_task(leaves_no_process: None) -> None:
    def bad() -> None:
        raise ValueError("nope")

    with pytest.raises(ModelCodeError, match="The cross-validation fold 2 failed: ValueError: nope"):
        run_all([_pid_task(0), bad], 2, names=["cross-validation fold 1", "cross-validation fold 2"])


def _exits() -> None:
    os._exit(0)


def _kills_itself() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _kills_its_parent() -> None:
    os.kill(os.getppid(), signal.SIGKILL)
    time.sleep(60)


def _unpicklable() -> Any:
    return lambda: None


def _forks_and_both_return() -> dict[str, str]:
    if os.fork() == 0:  # the copy returns at once: only the fit process itself reports
        return {"from": "the copy"}
    time.sleep(0.5)
    return {"from": "the fit process"}


@pytest.mark.parametrize(("task", "needle"), [
    (_exits, "ended with exit code 0 before it finished"),
    (_kills_itself, "was killed by signal SIGKILL"),
    (_kills_its_parent, "was ended (signal SIGKILL)"),
    (_unpicklable, "could not be passed back"),
])
def test_model_code_that_breaks_its_process_is_a_clear_error(task: Callable[[], Any], needle: str,
                                                              leaves_no_process: None) -> None:
    with pytest.raises(ModelCodeError) as caught:
        run_all([_pid_task(0), task, _pid_task(2)], 2, names=["fold 1", "fold 2", "fold 3"])
    assert needle in caught.value.message and "fold 2" in caught.value.message, caught.value.message


def test_a_fork_in_a_task_gives_the_fit_process_result_and_no_hang(leaves_no_process: None) -> None:
    results = run_all([_forks_and_both_return, _pid_task(1)], 2)
    assert results[0] == {"from": "the fit process"} and results[1]["i"] == 1


FORKS_IN_TRAIN = '''import os
from sklearn.linear_model import LinearRegression

class Model:
    def __init__(self):
        self.m = LinearRegression()
    def train(self, X, y):
        if len(X) < 70:  # in a cross-validation fold only
            os._exit(0)
        self.m.fit(X, y)
    def predict(self, X):
        return self.m.predict(X)
'''


def test_only_fits_that_take_a_while_are_worth_forking() -> None:
    assert parallel.cores_for(2, 0.05) == 1 and parallel.cores_for(2, 3.0) == 2 and parallel.cores_for(4, None) == 4


def test_a_model_that_exits_in_a_fold_fails_the_training_clearly(leaves_no_process: None,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "WORTH_FORKING_SECONDS", 0.0)
    rng = np.random.default_rng(0)
    table = pa.table({"x": rng.normal(size=100), "y": rng.normal(size=100)})
    spec = TrainSpec(model="m", code=FORKS_IN_TRAIN, label="y", cv_folds=2, cores=2)
    with pytest.raises(ModelCodeError, match=r"cross-validation fold \d ended with exit code 0"):
        train_from_rows(spec, lambda: (table, ["x"]), lambda *a, **k: None)


def test_a_task_that_fails_interrupts_the_work_beside_it(leaves_no_process: None) -> None:
    finished: list[bool] = []

    def final_fit() -> None:  # 30 s unless interrupted
        for _ in range(600):
            time.sleep(0.05)
        finished.append(True)

    started = time.monotonic()
    with pytest.raises(ModelCodeError, match="holdout fit was killed by signal SIGKILL"):
        run_all([_kills_itself], 2, beside=final_fit, names=["holdout fit"])
    assert finished == [] and time.monotonic() - started < 25


def test_a_task_error_comes_before_the_error_of_the_work_beside_it() -> None:
    """As one after another (the holdout fit first): a failing holdout fit's error is the one
    raised, also when the cross-validation beside it fails too (and sooner)."""
    def holdout() -> None:
        raise ModelCodeError("the holdout fit failed")

    def beside() -> None:
        raise ModelCodeError("a fold beside it failed")

    with pytest.raises(ModelCodeError, match="the holdout fit failed"):
        run_all([holdout], 2, beside=beside, names=["holdout fit"])

    def fine() -> int:
        return 1

    with pytest.raises(ModelCodeError, match="a fold beside it failed"):  # no task failed: beside's own
        run_all([fine], 2, beside=beside, names=["holdout fit"])
