"""What forking a fit costs on this machine, and the cross-validation wall time it gives.

    PYTHONPATH=src .venv/bin/python benchmarks/fork_overhead.py            # both parts
    PYTHONPATH=src .venv/bin/python benchmarks/fork_overhead.py --part fork
    PYTHONPATH=src .venv/bin/python benchmarks/fork_overhead.py --part cv --repeats 5

``--part fork``: ``training.parallel.run_all`` over 5 tasks that return a fold's small dict of
metrics at once, forked (1 and 2 cores) against one after another in this process, with this
process holding 0, 256 MiB and 1 GiB of written memory (fork copies page tables): the
difference a task is the overhead ``parallel.FORK_SECONDS`` stands for.

``--part cv``: a training with cross-validation (``pipeline.train_from_rows``, linear_regression
template, 5 folds, the job's cores), each in a fresh process as a job child is: the demo's
house_quality model (180 rows) and a 100,000-row linear model. Prints the median of the
manifest's ``cross_validation`` (CV wall) and ``cv_fold_fits`` timings, and whether the folds
ran in forked processes. Run it with PYTHONPATH pointing at two checkouts for before/after.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from typing import Any

import numpy as np


def _fold_like() -> dict[str, Any]:
    return {"metrics": {"r2": 0.5, "rmse": 1.25, "mae": 0.75}, "seconds": 0.0, "pid": os.getpid(), "test_rows": 36}


def fork_overhead(repeats: int) -> None:
    from softquery.training.parallel import run_all

    tasks = [_fold_like] * 5
    print("fork overhead a task (run_all of 5 instant tasks, forked - in process), median of", repeats)
    for ballast_mib in (0, 256, 1024):
        ballast = np.ones(ballast_mib * 1024 * 1024 // 8) if ballast_mib else None  # written: real pages
        for cores in (1, 2):
            forked, here = [], []
            for _ in range(repeats):
                t0 = time.perf_counter()
                run_all(tasks, cores, fork=True)
                forked.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                run_all(tasks, cores, fork=False)
                here.append(time.perf_counter() - t0)
            each = (statistics.median(forked) - statistics.median(here)) / len(tasks)
            print(f"  parent {ballast_mib:5d} MiB, {cores} core(s): {statistics.median(forked) * 1000:6.1f} ms "
                  f"for 5 forked tasks, {each * 1000:5.1f} ms a task")
        del ballast


CHILD = r"""
import json, sys, time
import numpy as np, pyarrow as pa
from softquery.modelcode.templates import template_code
from softquery.services.training import job_cores
from softquery.training.pipeline import train_from_rows
from softquery.training.spec import TrainSpec

which = sys.argv[1]
if which == "demo":
    from softquery.demo.demo_tables import _houses
    columns, rows = _houses()
    rows = [r for r in rows if r[2] is not None]
    table = pa.table({"id": [r[0] for r in rows], "price": [r[1] for r in rows], "quality": [r[2] for r in rows]})
    label, ids = "quality", ["id"]
else:
    rng = np.random.default_rng(0)
    n = 100_000
    X = rng.normal(size=(n, 10))
    table = pa.table({**{f"f{i}": X[:, i] for i in range(10)}, "label": X @ rng.normal(size=10) + rng.normal(size=n)})
    label, ids = "label", None
spec = TrainSpec(model="m", code=template_code("linear_regression"), label=label, id_columns=ids,
                 cores=job_cores(), time_limit_seconds=3600.0, capture_output=False)
out = train_from_rows(spec, lambda: (table, [c for c in table.column_names if c != label]), lambda *a, **k: None)
print(json.dumps({"cv": out.timings["cross_validation"], "fold_fits": out.timings["cv_fold_fits"],
                  "final_fit": out.timings["final_fit"], "folds": out.cv["folds"]}))
"""


def cv_times(repeats: int) -> None:
    print(f"cross-validation (5 folds), a fresh process each, median of {repeats}; PYTHONPATH={os.environ.get('PYTHONPATH')}")
    for which in ("demo", "100k"):
        runs = []
        for _ in range(repeats):
            done = subprocess.run([sys.executable, "-c", CHILD, which], capture_output=True, text=True, check=True)
            runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
        med = {k: statistics.median(r[k] for r in runs) for k in ("cv", "fold_fits", "final_fit")}
        print(f"  {which:5s}: CV wall {med['cv'] * 1000:6.1f} ms, fold fits {med['fold_fits'] * 1000:6.1f} ms, "
              f"final fit {med['final_fit'] * 1000:6.1f} ms  (CV walls: "
              + ", ".join(f"{r['cv'] * 1000:.0f}" for r in runs) + ")")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--part", choices=("fork", "cv", "both"), default="both")
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    if args.part in ("fork", "both"):
        fork_overhead(args.repeats)
    if args.part in ("cv", "both"):
        cv_times(args.repeats)


if __name__ == "__main__":
    main()
