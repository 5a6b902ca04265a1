"""Batch benchmark: softquery's train and predict against a plain-Python reference.

Builds a SQLite table ``bench(id, f0..f9, label)`` of ``--rows`` rows and measures,
in one run:

* reference train:   fastest Arrow read of the train query + one plain
                     ``sklearn.linear_model.LinearRegression().fit(X, y)`` in a fresh process
                     that has just read the rows, as a one-off script does (the median of one
                     such process before each softquery train: ``batch_reference.fresh_fit``);
* reference predict: fastest Arrow read of the predict query + a SQLite
                     ``CREATE TABLE … AS SELECT`` of an output of softquery's shape;
* softquery ``train --json`` and ``predict --json`` (subprocesses with their own
  ``SOFTQUERY_HOME``, no server: one-shot commands that run the job themselves), timed
  by the run's recorded ``started_at``/``finished_at``, and the whole command's wall
  time, as ratios to the reference (target ≤ 2.0);
* the same runs executed by a running ``softquery serve`` (its forkserver warm), submitted
  by ``train --wait --json`` / ``predict --wait --json``, ``--serve-repeats`` times each, their
  median reported (target ≤ 1.5; ``--no-serve`` skips);
* peak RSS of ``softquery predict`` over ``--predict-rows`` rows (target ≤ 1 GiB);
* pandas ``read_sql`` + ``to_sql`` of the predict path, for scale (``--no-pandas``).

Every process runs with ``NUMPY_MADVISE_HUGEPAGE=0`` unless ``--numpy-hugepages default``:
the reference and softquery alike (see the README's Performance section for why).

Smoke check: ``python benchmarks/batch.py --rows 20000 --predict-rows 50000``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
from batch_reference import (
    FEATURES,
    N_FEATURES,
    PREDICT_SQL,
    TRAIN_SQL,
    Timed,
    fastest_read,
    fresh_fit,
    pandas_predict_path,
    reference_fit,
    reference_write,
)
from softquery_process import Command, CommandTimeout, Softquery, check_run, job_wait, run_seconds

TARGET_RATIO = 2.0
TARGET_SERVE_RATIO = 1.5  # runs executed by a running server, its forkserver warm
TARGET_RSS_MIB = 1024.0
GEN_CHUNK_ROWS = 500_000
DB_NAME = "softquery-bench.db"
HOME_NAME = "softquery-home"
MODEL = "bench"
BIG_MODEL = "bench_big"
BIG_TRAIN_ROWS = 200_000
COEF = np.linspace(-2.0, 3.0, N_FEATURES)
INTERCEPT = 0.5

BIG_TRAIN_SQL = f"select id, {', '.join(FEATURES)}, label from bench where id <= {{n}}"  # noqa: S608
BIG_PREDICT_SQL = f"select id, {', '.join(FEATURES)} from bench_big"  # noqa: S608


# --------------------------------------------------------------------------- data


def create_table(path: Path, table: str, rows: int, seed: int) -> float:
    """Create ``table`` with ``rows`` deterministic rows; returns seconds taken."""
    import adbc_driver_sqlite.dbapi
    import pyarrow as pa

    started = time.perf_counter()
    columns = ", ".join(f"{c} real" for c in FEATURES)
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.execute(f"drop table if exists {table}")
        conn.execute(f"create table {table} (id integer primary key, {columns}, label real)")
        conn.commit()
    rng = np.random.default_rng(seed)
    with contextlib.closing(adbc_driver_sqlite.dbapi.connect(str(path))) as conn:
        with contextlib.closing(conn.cursor()) as cursor:
            for start in range(0, rows, GEN_CHUNK_ROWS):
                n = min(GEN_CHUNK_ROWS, rows - start)
                X = rng.standard_normal((n, N_FEATURES))
                y = X @ COEF + INTERCEPT + 0.1 * rng.standard_normal(n)
                data = {"id": pa.array(np.arange(start + 1, start + n + 1, dtype=np.int64))}
                data.update({c: pa.array(X[:, i]) for i, c in enumerate(FEATURES)})
                data["label"] = pa.array(y)
                cursor.adbc_ingest(table, pa.table(data), mode="append")
        conn.commit()
    return time.perf_counter() - started


# --------------------------------------------------------------------------- report


def median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run whose ``run_seconds`` is the median of ``runs`` (the lower middle one of an even count)."""
    return sorted(runs, key=run_seconds)[(len(runs) - 1) // 2]


def verdict(value: float, target: float) -> str:
    return "PASS" if value <= target else "FAIL"  # NaN (timed out) fails


def print_rows(header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    line = "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))
    print(line)
    print("-" * len(line))
    for row in rows:
        print("  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                        for i, (c, w) in enumerate(zip(row, widths, strict=True))))


@contextlib.contextmanager
def workdir_for(given: str | None, keep: bool) -> Iterator[Path]:
    if given is None:
        path = Path(tempfile.mkdtemp(prefix="softquery-bench-"))
        try:
            yield path
        finally:
            if keep:
                print(f"\nworkdir kept: {path}")
            else:
                shutil.rmtree(path, ignore_errors=True)
        return
    path = Path(given).resolve()
    path.mkdir(parents=True, exist_ok=True)
    # Only what this script creates is cleared, so a rerun starts fresh.
    for name in (DB_NAME, f"{DB_NAME}-wal", f"{DB_NAME}-shm", f"{DB_NAME}-journal"):
        (path / name).unlink(missing_ok=True)
    for name in (HOME_NAME, "logs"):
        shutil.rmtree(path / name, ignore_errors=True)
    yield path


def step(message: str) -> Callable[[], None]:
    print(f"… {message}", end="", flush=True)
    t0 = time.perf_counter()
    return lambda: print(f" ({time.perf_counter() - t0:.1f}s)", flush=True)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=2_000_000, help="rows of the train/predict table")
    parser.add_argument("--serve-repeats", type=int, default=3,
                        help="train and predict runs by serve, each figure their median (one run varies by ±0.3)")
    parser.add_argument("--predict-rows", type=int, default=5_000_000,
                        help="rows predicted for the peak-memory measurement (0: skip)")
    parser.add_argument("--workdir", help="folder for the DB and SOFTQUERY_HOME (default: a temp "
                        "dir, removed at the end)")
    parser.add_argument("--keep", action="store_true", help="keep the temp workdir")
    parser.add_argument("--template", default="linear_regression", help="softquery model template")
    parser.add_argument("--no-pandas", action="store_true", help="skip pandas read_sql + to_sql")
    parser.add_argument("--no-serve", action="store_true",
                        help="skip the train and predict runs executed by a running `softquery serve`")
    parser.add_argument("--profile", action="store_true",
                        help="afterwards, rerun train and predict under cProfile and print the top costs")
    parser.add_argument("--journal-mode", choices=["delete", "wal"], default="delete",
                        help="SQLite journal mode of the benchmark DB (delete: SQLite's default)")
    parser.add_argument("--timeout", type=float,
                        help="kill a softquery train/predict after this many seconds "
                        "(default: 60 + 10 x its reference time)")
    parser.add_argument("--numpy-hugepages", choices=["off", "default"], default="off",
                        help="off (default): NUMPY_MADVISE_HUGEPAGE=0 for the reference and softquery alike; "
                        "default: numpy's own choice, which on kernels whose THP defrag is 'madvise' can stall "
                        "on compaction for up to a second per large array (see the README's Performance)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.rows < 100:
        parser.error("--rows must be at least 100")
    if args.predict_rows < 0:
        parser.error("--predict-rows must be 0 or more")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    with workdir_for(args.workdir, args.keep) as work:
        return bench(args, work)


def transparent_hugepages() -> str:
    """The kernel's transparent huge page settings (enabled/defrag), as ``cat`` shows them."""
    found = []
    for name in ("enabled", "defrag"):
        with contextlib.suppress(OSError):
            found.append(f"{name} " + Path(f"/sys/kernel/mm/transparent_hugepage/{name}").read_text().strip())
    return "; ".join(found) or "unknown"


def bench(args: argparse.Namespace, work: Path) -> int:
    if args.numpy_hugepages == "off":  # read by numpy at import: every process started from here on
        os.environ["NUMPY_MADVISE_HUGEPAGE"] = "0"
    db = work / DB_NAME
    logs = work / "logs"
    logs.mkdir()
    sq = Softquery(work / HOME_NAME, logs)
    url = f"sqlite:///{db}"
    print(f"softquery batch benchmark: {args.rows:,} rows x {N_FEATURES} float features, "
          f"template {args.template}, python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    print(f"workdir {work}")
    print(f"numpy huge pages: {args.numpy_hugepages} (kernel THP: {transparent_hugepages()})")

    done = step(f"writing bench ({args.rows:,} rows)")
    create_table(db, "bench", args.rows, args.seed)
    with contextlib.closing(sqlite3.connect(db)) as conn:
        mode = conn.execute(f"pragma journal_mode = {args.journal_mode}").fetchone()[0]
    done()
    print(f"benchmark DB journal_mode = {mode}")

    # -- reference ---------------------------------------------------------------
    done = step("reference: reading the train query")
    train_read, table = fastest_read(db, TRAIN_SQL)
    done()
    _, ref_model = reference_fit(table)  # the model whose predictions the output check and write use
    del table
    done = step("reference: reading the predict query + CREATE TABLE AS SELECT")
    predict_read, table = fastest_read(db, PREDICT_SQL)
    del table
    write = reference_write(db, ref_model)
    done()
    # The reference fit: the median of fresh processes' fits, one before each softquery train.
    fits = [fresh_fit(db)]
    ref_predict = predict_read.seconds + write.seconds

    # -- softquery ---------------------------------------------------------------
    done = step("softquery: init, source add, model create")
    sq.run("init")
    sq.run("source", "add", "benchdb", url)
    sq.run("model", "create", MODEL, "--source", "benchdb", "--template", args.template,
           "--train-sql", TRAIN_SQL, "--predict-sql", PREDICT_SQL)
    done()
    done = step("softquery: train")
    train_cmd, train_run = sq.run_json("train", MODEL, "--json",
                                       timeout=args.timeout or 60 + 10 * (train_read.seconds + fits[0]))
    done()
    check_run(train_run, "train")
    sq_train = run_seconds(train_run)
    _, versions = sq.run_json("versions", MODEL, "--json")
    number = train_run["result"]["train"]["version"]
    manifest = next((v["manifest"] for v in versions if v["version"] == number), None) or {}
    timings: dict[str, float] = manifest.get("timings") or {}
    done = step("softquery: predict")
    predict_cmd: Command | None = None
    sq_predict = float("nan")
    check = "not checked"
    try:
        predict_cmd, predict_run = sq.run_json("predict", MODEL, "--json",
                                               timeout=args.timeout or 60 + 10 * ref_predict)
        check_run(predict_run, "predict")
        sq_predict = run_seconds(predict_run)
        check = check_output(db, f"{MODEL}_prediction", args.rows, ref_model)
    except CommandTimeout as exc:
        print(f"\n!!! {exc}")
    done()

    # -- pandas, for scale -------------------------------------------------------
    pandas: Timed | None = None
    if not args.no_pandas:
        done = step("pandas: read_sql + predict + to_sql")
        pandas = pandas_predict_path(db, ref_model)
        done()

    # -- peak memory ---------------------------------------------------------------
    big: Command | None = None
    big_run: dict[str, Any] | None = None
    if args.predict_rows:
        done = step(f"writing bench_big ({args.predict_rows:,} rows)")
        create_table(db, "bench_big", args.predict_rows, args.seed + 1)
        done()
        n_train = min(args.rows, BIG_TRAIN_ROWS)
        sq.run("model", "create", BIG_MODEL, "--source", "benchdb", "--template", args.template,
               "--train-sql", BIG_TRAIN_SQL.format(n=n_train), "--predict-sql", BIG_PREDICT_SQL)
        _, big_train = sq.run_json("train", BIG_MODEL, "--json")
        check_run(big_train, "train")
        done = step(f"softquery: predict {args.predict_rows:,} rows (peak RSS)")
        try:
            big, big_run = sq.run_json("predict", BIG_MODEL, "--json", timeout=args.timeout
                                       or 60 + 10 * ref_predict * args.predict_rows / args.rows)
            check_run(big_run, "predict")
        except CommandTimeout as exc:
            print(f"\n!!! {exc}")
        done()

    # -- runs executed by a running server ------------------------------------------
    serve_train: dict[str, Any] | None = None
    serve_predict: dict[str, Any] | None = None
    served_runs: dict[str, list[dict[str, Any]]] = {"train": [], "predict": []}
    if not args.no_serve:
        done = step("softquery serve: start (forkserver warm), then train and predict --wait")
        with sq.serve():
            for _ in range(args.serve_repeats):
                fits.append(fresh_fit(db))
                _, served = sq.run_json("train", MODEL, "--wait", "--json",
                                        timeout=args.timeout or 60 + 10 * (train_read.seconds + fits[-1]))
                check_run(served, "train (serve)")
                served_runs["train"].append(served)
                _, served = sq.run_json("predict", MODEL, "--wait", "--json",
                                        timeout=args.timeout or 60 + 10 * ref_predict)
                check_run(served, "predict (serve)")
                served_runs["predict"].append(served)
        serve_train, serve_predict = median_run(served_runs["train"]), median_run(served_runs["predict"])
        done()

    # -- report --------------------------------------------------------------------
    fit = Timed(sorted(fits)[(len(fits) - 1) // 2], f"the median of {len(fits)} fresh processes' "
                "numpy arrays + LinearRegression().fit: " + ", ".join(f"{f:.3f}" for f in fits))
    ref_train = train_read.seconds + fit.seconds
    print()
    print(f"reference train read:   {train_read.seconds:.3f}s ({train_read.detail}); "
          + ", ".join(f"{k.split('=')[1]} {v:.3f}s" for k, v in train_read.extra["per_option"].items()))
    print(f"reference fit:          {fit.seconds:.3f}s ({fit.detail})")
    print(f"reference predict read: {predict_read.seconds:.3f}s ({predict_read.detail}); "
          + ", ".join(f"{k.split('=')[1]} {v:.3f}s" for k, v in predict_read.extra["per_option"].items()))
    print(f"reference write:        {write.seconds:.3f}s ({write.detail})")
    print()
    rows = [
        ["train", f"{ref_train:.2f}", f"{sq_train:.2f}", f"{sq_train / ref_train:.2f}",
         f"{train_cmd.wall:.2f}", f"{train_cmd.wall / ref_train:.2f}", f"<= {TARGET_RATIO:.1f}",
         verdict(sq_train / ref_train, TARGET_RATIO)],
        ["predict", f"{ref_predict:.2f}", f"{sq_predict:.2f}", f"{sq_predict / ref_predict:.2f}",
         f"{predict_cmd.wall:.2f}" if predict_cmd else "TIMEOUT",
         f"{predict_cmd.wall / ref_predict:.2f}" if predict_cmd else "",
         f"<= {TARGET_RATIO:.1f}", verdict(sq_predict / ref_predict, TARGET_RATIO)],
    ]
    serve_ratios: list[float] = []
    for kind, served, ref in (("train", serve_train, ref_train), ("predict", serve_predict, ref_predict)):
        if served is not None:
            seconds = run_seconds(served)
            serve_ratios.append(seconds / ref)
            rows.append([f"{kind}, run by serve", f"{ref:.2f}", f"{seconds:.2f}", f"{seconds / ref:.2f}", "", "",
                         f"<= {TARGET_SERVE_RATIO:.1f}", verdict(seconds / ref, TARGET_SERVE_RATIO)])
    if pandas is not None:
        rows.append(["pandas predict", f"{ref_predict:.2f}", f"{pandas.seconds:.2f}",
                     f"{pandas.seconds / ref_predict:.2f}", "", "", "(scale)", ""])
    print_rows(["", "reference s", "run s", "ratio", "wall s", "wall ratio", "target", "result"], rows)
    if pandas is not None:
        print(f"pandas: {pandas.detail}")
    if served_runs["train"]:
        print(f"run by serve: the median of {args.serve_repeats} runs each; all runs' ratios: "
              + "; ".join(f"{kind} " + ", ".join(f"{run_seconds(r) / ref:.2f}" for r in served_runs[kind])
                          for kind, ref in (("train", ref_train), ("predict", ref_predict))))
    print("run s = the run's finished_at - started_at; wall s = the whole `softquery` command "
          "(interpreter start, imports, metadata DB); train/predict: one-shot commands, no server; "
          "run by serve: submitted to a running `softquery serve` whose forkserver is warm.")
    waits = [("train", train_run, "train")]
    if predict_cmd is not None:
        waits.append(("predict", predict_run, "predict"))
    waits += [(f"{k} (serve)", r, k) for k, r in (("train", serve_train), ("predict", serve_predict))
              if r is not None]
    print("waited for the job process after asking for it (the forkserver's start left over): "
          + ", ".join(f"{name} {job_wait(r, kind):.2f}s" for name, r, kind in waits))
    print()
    if timings:
        print("softquery train phases (manifest timings): "
              + ", ".join(f"{k} {v:.2f}s" for k, v in timings.items()))
        phases = sum(v for k, v in timings.items() if k != "total")
        print(f"  sum of phases {phases:.2f}s of run {sq_train:.2f}s")
    print(f"softquery commands' peak RSS: train {train_cmd.max_rss_mib:.0f} MiB, predict "
          f"{predict_cmd.max_rss_mib if predict_cmd else float('nan'):.0f} MiB ({args.rows:,} rows)")
    print(f"output check: {check}")
    failed = not (sq_train / ref_train <= TARGET_RATIO and sq_predict / ref_predict <= TARGET_RATIO
                  and all(r <= TARGET_SERVE_RATIO for r in serve_ratios))
    if args.predict_rows and big is None:
        failed = True
        print(f"peak RSS predicting {args.predict_rows:,} rows: not measured (predict timed out) FAIL")
    if big is not None and big_run is not None:
        ok = big.max_rss_mib <= TARGET_RSS_MIB
        failed = failed or not ok
        print(f"peak RSS predicting {args.predict_rows:,} rows: {big.max_rss_mib:.0f} MiB "
              f"(target <= {TARGET_RSS_MIB:.0f} MiB) {verdict(big.max_rss_mib, TARGET_RSS_MIB)}; "
              f"run {run_seconds(big_run):.2f}s, wall {big.wall:.2f}s; "
              "measured as ru_maxrss from os.wait4 of the softquery process, started by a "
              "small launcher (covers its reaped job child)")
    if args.profile:
        profile(sq, work)
    return 1 if failed else 0


def check_output(db: Path, table: str, rows: int, model: Any) -> str:
    """Row count of softquery's output and its largest difference from the reference model."""
    terms = " + ".join(f"({float(w)!r} * b.{c})" for w, c in zip(model.coef_, FEATURES, strict=True))
    with contextlib.closing(sqlite3.connect(db)) as conn:
        count = conn.execute(f"select count(*) from {table}").fetchone()[0]  # noqa: S608
        diff = conn.execute(
            f"select max(abs(p.prediction - ({float(model.intercept_)!r} + {terms}))) "  # noqa: S608
            f"from {table} p join bench b on b.id = p.id"
        ).fetchone()[0]
        columns = [r[1] for r in conn.execute(f"pragma table_info({table})")]
    state = "OK" if count == rows and diff is not None and diff < 1e-6 else "MISMATCH"
    return (f"{state}: {table} has {count:,} rows (expected {rows:,}), columns {columns}, "
            f"max |softquery - reference| = {diff if diff is None else f'{diff:.2e}'}")


def profile(sq: Softquery, work: Path) -> None:
    import pstats

    for kind in ("train", "predict"):
        out = work / f"{kind}.prof"
        cmd = sq.run(kind, MODEL, "--json", prefix=["-m", "cProfile", "-o", str(out)])
        print(f"\n=== cProfile of `softquery {kind} {MODEL}` (wall {cmd.wall:.2f}s under the "
              f"profiler; file {out}) ===")
        stats = pstats.Stats(str(out))
        stats.sort_stats("tottime").print_stats(15)
        stats.sort_stats("cumulative").print_stats(25)


if __name__ == "__main__":
    sys.exit(main())
