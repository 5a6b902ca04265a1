"""A hyperparameter search run through the job system (local slots and RQ): it trains one
version with every trial kept; a stop in the middle of the search keeps nothing half-done."""

from __future__ import annotations

import re
import time
from pathlib import Path

from tests.integration.cli.cli_harness import SoftqueryCLI
from tests.integration.harness import JobSystem, wait_for
from tests.integration.jobs.test_executors import create, submit

from softquery.domain import RunStatus

System = tuple[JobSystem, SoftqueryCLI, Path]

# Ridge with a slow train: each trial (5 folds) takes well over a second.
SLOW_RIDGE = '''
import time
from sklearn.linear_model import Ridge

class Model:
    def __init__(self):
        self.m = Ridge(alpha=1.0)
    def train(self, X, y):
        time.sleep({pause})
        self.m.fit(X, y)
    def predict(self, X):
        return self.m.predict(X)
'''


def test_a_search_trains_one_version_with_its_trials(system: System, tmp_path: Path) -> None:
    jobs, cli, _ = system
    create(cli, tmp_path, "tuned", SLOW_RIDGE.format(pause=0), "--search", "grid",
           "--param", "Ridge.alpha=0.01,1000", "--time-budget", "600")
    shown = cli("model", "show", "tuned").out
    assert "search: grid over Ridge.alpha=0.01,1000" in shown, shown
    run = jobs.wait_finished(submit(cli, "train", "tuned"))
    assert run.status is RunStatus.SUCCEEDED, run.error_message
    (version,) = cli("versions", "tuned", "--json").json()
    selection = version["manifest"]["selection"]
    assert [t["params"] for t in selection["trials"]] == [{"Ridge.alpha": 0.01}, {"Ridge.alpha": 1000}]
    assert selection["chosen"] == 1  # y = 2x + 1 exactly: the weaker penalty fits it better
    assert "Ridge(alpha=0.01)" in version["manifest"]["code"]
    table = cli("versions", "tuned").out
    assert "Ridge.alpha=0.01 (trial 1 of 2)" in table, table


def test_stop_in_the_middle_of_a_search_keeps_no_version(system: System, tmp_path: Path) -> None:
    jobs, cli, _ = system
    create(cli, tmp_path, "slow_search", SLOW_RIDGE.format(pause=0.25), "--search", "grid",
           "--param", "Ridge.alpha=0.1,1,10,100")
    run_id = submit(cli, "train", "slow_search")
    # trial 2 started: trial 1 is done, and trials 2-4 are still to run
    # ("trial 2 of 4" on one core, "trials 3-4 of 4" when two run side by side)
    wait_for(lambda: re.search(r"trials? [23]\b", jobs.run(run_id).phase or "") is not None, 60,
             "the search's second trial")
    stopped_at = time.monotonic()
    cli("run", "stop", run_id)
    run = jobs.wait_finished(run_id, 15)
    assert run.status is RunStatus.CANCELLED, (run.status, run.error_message)
    assert time.monotonic() - stopped_at < 10
    assert cli("versions", "slow_search", "--json").json() == []
    assert cli("model", "show", "slow_search", "--json").json()["active_version"] is None


# each fit prints a line, then sleeps, 50 times: a trial takes seconds, the stop comes in the middle
TICKING_RIDGE = '''
import time
from sklearn.linear_model import Ridge

class Model:
    def __init__(self):
        self.m = Ridge(alpha=1.0)
    def train(self, X, y):
        for i in range(50):
            print(f"tick {i} alpha={self.m.alpha}", flush=True)
            time.sleep(0.2)
        self.m.fit(X, y)
    def predict(self, X):
        return self.m.predict(X)
'''


def test_a_stopped_search_keeps_what_its_trials_printed(system: System, tmp_path: Path) -> None:
    jobs, cli, _ = system
    create(cli, tmp_path, "ticking", TICKING_RIDGE, "--search", "grid", "--param", "Ridge.alpha=0.5,2",
           "--cv-folds", "2")
    run_id = submit(cli, "train", "ticking")
    # the trial's lines reach the run's log as they are printed, under the trial's name
    live = wait_for(lambda: "tick 1 alpha=" in (jobs.run(run_id).stdout or "") and jobs.run(run_id).stdout, 60,
                    "the first trial's output in the run's log")
    assert "searching" in (jobs.run(run_id).phase or ""), jobs.run(run_id).phase
    assert re.search(r"── trial [12] \(Ridge\.alpha=(0\.5|2)\) ──\ntick 0 alpha=", live or ""), live
    cli("run", "stop", run_id)
    run = jobs.wait_finished(run_id, 15)
    assert run.status is RunStatus.CANCELLED, (run.status, run.error_message)
    shown = cli("run", "show", run_id).out
    assert "── trial 1 (Ridge.alpha=0.5) ──" in shown, shown
    assert "tick 0 alpha=0.5" in shown and "tick 1 alpha=0.5" in shown, shown
