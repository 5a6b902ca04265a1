"""SQL benchmark: a model call over every row through the SQL surface vs ``softquery predict``.

Builds ``bench(id, f0..f9, label)`` of ``--rows`` rows in SQLite (as ``batch.py`` does),
trains the linear_regression template on it and measures, in one process and with the
job children's forkserver already warm for both:

* ``softquery predict bench`` — the batch prediction use case the command runs
  (``start_run`` + ``execute_here``: read, predict in a job child, write ``bench_prediction``),
  wall time;
* ``select id, bench(f0, …, f9) as prediction from bench`` through ``run_script`` (the use
  case behind ``softquery sql`` and ``POST /api/v1/sql``): the source runs the query with the
  call replaced by its argument columns, the batches stream to one sandboxed child, the
  predictions come back as the answer (all rows computed; the first 1,000 sent), wall time.
  Target: ratio ≤ 1.3;
* parsing and planning that statement (``parse_script`` + ``sql_queries.plan``, which reads
  the model names from the metadata DB), median of ``--plan-repeats``. Target ≤ 5 ms.

Each timing is the best of ``--repeats``. Smoke check: ``python benchmarks/sql.py --rows 20000``.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from batch import FEATURES, create_table

MODEL = "bench"
TARGET_RATIO = 1.3
TARGET_PLAN_MS = 5.0
TRAIN_SQL = f"select id, {', '.join(FEATURES)}, label from bench"  # noqa: S608
PREDICT_SQL = f"select id, {', '.join(FEATURES)} from bench"  # noqa: S608
STATEMENT = f"select id, {MODEL}({', '.join(FEATURES)}) as prediction from bench"  # noqa: S608


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--repeats", type=int, default=2, help="timings per path (the best counts)")
    parser.add_argument("--plan-repeats", type=int, default=200)
    parser.add_argument("--workdir", help="folder for the DB and SOFTQUERY_HOME (default: a temp dir)")
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    work = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="softquery-sql-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        return bench(args, work)
    finally:
        if not args.workdir:
            shutil.rmtree(work, ignore_errors=True)


def bench(args: argparse.Namespace, work: Path) -> int:
    from softquery.config import Settings
    from softquery.domain import RunKind, RunStatus, RunTrigger
    from softquery.sandbox import prepare_forkserver
    from softquery.services.context import open_context
    from softquery.services.home import init_home
    from softquery.services.models import ModelSpec, create_model
    from softquery.services.runs import execute_here, start_run
    from softquery.services.sources import add_source
    from softquery.services.sql_queries import plan
    from softquery.services.sql_scripts import run_script
    from softquery.services.sql_session import Session
    from softquery.sql.parse import parse_script

    db = work / "sql-bench.db"
    db.unlink(missing_ok=True)
    print(f"softquery SQL benchmark: {args.rows:,} rows x {len(FEATURES)} float features, "
          f"python {sys.version.split()[0]}")
    create_table(db, "bench", args.rows, args.seed)
    settings = Settings(home=work / "home", database_url=None, secret_key=None)
    init_home(settings)
    ctx = open_context(settings)
    add_source(ctx, "benchdb", f"sqlite:///{db}")
    create_model(ctx, MODEL, ModelSpec(source="benchdb", template="linear_regression",
                                       train_sql=TRAIN_SQL, predict_sql=PREDICT_SQL))
    trained = execute_here(ctx, start_run(ctx, MODEL, RunKind.TRAIN, RunTrigger.CLI, None).id)
    assert trained.status is RunStatus.SUCCEEDED, trained.error_message
    prepare_forkserver()  # warm for both paths, as under `softquery serve`

    predict_s, sql_s = [], []
    answer = None
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        run = execute_here(ctx, start_run(ctx, MODEL, RunKind.PREDICT, RunTrigger.CLI, None).id)
        predict_s.append(time.perf_counter() - t0)
        assert run.status is RunStatus.SUCCEEDED, run.error_message
        t0 = time.perf_counter()
        answer = run_script(ctx, STATEMENT, source="benchdb")
        sql_s.append(time.perf_counter() - t0)
        assert answer.error is None, answer.error
    assert answer is not None
    result = answer.results[0]
    assert result.row_count == args.rows, (result.row_count, args.rows)
    check = run_script(ctx, "select id, prediction from bench_prediction order by id limit 1000", source="benchdb")
    expected = {row[0]: row[1] for row in check.results[0].rows}
    worst = max(abs(row[1] - expected[row[0]]) / max(1.0, abs(expected[row[0]])) for row in result.rows)

    session = Session(ctx, "benchdb")
    plan_ms = []
    for _ in range(args.plan_repeats):
        t0 = time.perf_counter()
        statement = parse_script(STATEMENT)[0]
        plan(session, statement.expression)  # type: ignore[attr-defined]
        plan_ms.append((time.perf_counter() - t0) * 1000)
    ctx.close()

    ratio = min(sql_s) / min(predict_s)
    median_plan = statistics.median(plan_ms)
    rows = [
        ("softquery predict (read, predict, write the table)", f"{min(predict_s):.2f} s", "", ""),
        ("SQL: select id, bench(f0..f9) from bench", f"{min(sql_s):.2f} s", f"{ratio:.2f}",
         f"≤ {TARGET_RATIO} {'✔' if ratio <= TARGET_RATIO else '✘'}"),
        ("parse + plan one statement (median)", f"{median_plan:.2f} ms", "",
         f"≤ {TARGET_PLAN_MS} ms {'✔' if median_plan <= TARGET_PLAN_MS else '✘'}"),
    ]
    print(f"{'figure':55} {'time':>10} {'ratio':>6}  target")
    for name, t, r, target in rows:
        print(f"{name:55} {t:>10} {r:>6}  {target}")
    print(f"all timings: predict {[round(s, 2) for s in predict_s]}, sql {[round(s, 2) for s in sql_s]}; "
          f"largest relative difference from the batch prediction (first 1,000 rows): {worst:.1e}")
    return 0 if ratio <= TARGET_RATIO and median_plan <= TARGET_PLAN_MS and worst < 1e-9 else 1


if __name__ == "__main__":
    sys.exit(main())
