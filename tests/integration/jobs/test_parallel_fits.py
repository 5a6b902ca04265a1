"""The fits of a training run side by side in forked processes of the job child
(``training.parallel``). Model code that never ends in one cross-validation fold, or kills
the process that started its fold, ends the run with a clear error: no hang, and no process
of the job left behind."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from tests.integration.cli.cli_harness import SoftqueryCLI
from tests.integration.harness import JobSystem, pid_alive, wait_for
from tests.integration.jobs.test_executors import create, submit

from softquery.domain import RunStatus

System = tuple[JobSystem, SoftqueryCLI, Path]
two_cores = pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="the fits run side by side on 2+ cores")
local_only = pytest.mark.parametrize("system", ["local"], indirect=True)  # the executor plays no part here

# A cross-validation fold trains on rows in their order (KFold's positions are sorted); the
# holdout split is shuffled and the final fit has all 100 rows.
IN_A_FOLD = '''
import os, signal, time
from sklearn.linear_model import LinearRegression

def in_a_fold(X):
    return len(X) < 100 and list(X.index) == sorted(X.index)

def note_pid():
    pid = os.readlink("/proc/self")  # the test's pid of it: os.getpid() is of the job's PID namespace
    with open({folder!r} + "/fold." + pid, "w") as fh:
        fh.write(pid)

class Model:
    def __init__(self):
        self.m = LinearRegression()
    def train(self, X, y):
        if in_a_fold(X):
            note_pid()
            {attack}
        else:
            time.sleep(0.3)  # slow enough for the folds to be worth forking
        self.m.fit(X, y)
    def predict(self, X):
        return self.m.predict(X)
'''


def _noted(folder: Path) -> list[int]:
    return [int(p.read_text()) for p in folder.glob("fold.*") if p.read_text()]


@two_cores
@local_only
def test_a_fold_that_never_ends_is_stopped_by_the_time_limit_and_leaves_nothing(
        system: System, tmp_path: Path, exchange_dir: Path) -> None:
    jobs, cli, _ = system
    create(cli, tmp_path, "sleeper", IN_A_FOLD.format(folder=str(exchange_dir), attack="time.sleep(600)"),
           "--time-limit", "4")
    run_id = submit(cli, "train", "sleeper")
    sleepers = wait_for(lambda: _noted(exchange_dir), 30, "a fold to start sleeping")
    assert all(pid_alive(pid) for pid in sleepers)  # the check below can see them
    run = jobs.wait_finished(run_id, 60)
    assert run.status is RunStatus.FAILED and run.error_code == "time_limit", (run.error_code, run.error_message)
    assert "time limit of 4 seconds" in (run.error_message or "")
    wait_for(lambda: not any(pid_alive(pid) for pid in _noted(exchange_dir)), 20, "the fold processes to be gone")
    assert cli("versions", "sleeper", "--json").json() == []


@two_cores
@local_only
def test_a_fold_that_kills_its_parent_fails_the_run_clearly(system: System, tmp_path: Path,
                                                            exchange_dir: Path) -> None:
    jobs, cli, _ = system
    attack = "os.kill(os.getppid(), signal.SIGKILL); time.sleep(600)"
    create(cli, tmp_path, "killer", IN_A_FOLD.format(folder=str(exchange_dir), attack=attack), "--time-limit", "60")
    run = jobs.wait_finished(submit(cli, "train", "killer"), 60)
    assert run.status is RunStatus.FAILED and run.error_code == "model_code_error", (run.error_code,
                                                                                      run.error_message)
    assert "cross-validation fold" in (run.error_message or "") and "SIGKILL" in (run.error_message or "")
    wait_for(lambda: not any(pid_alive(pid) for pid in _noted(exchange_dir)), 20, "the fold processes to be gone")
    assert cli("versions", "killer", "--json").json() == []
