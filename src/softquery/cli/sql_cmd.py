"""`softquery sql`: run SQL statements (BigQuery ML and MLSQL forms) through ``services.sql_scripts``."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import sys
from typing import IO, Any

import click

from softquery.cli.command_access import Access, declare
from softquery.cli.exit_codes import RUN_FAILED, exit_code_for, report_error
from softquery.cli.printing import console, print_json, print_table
from softquery.cli.service_context import service_context
from softquery.errors import InvalidInputError, SoftqueryError
from softquery.services.sql_requests import run_statements
from softquery.services.sql_results import ScriptResult, StatementResult
from softquery.services.sql_session import MAX_RESULT_ROWS


def _params(assignments: tuple[str, ...]) -> dict[str, str]:
    params: dict[str, str] = {}
    for assignment in assignments:
        name, equals, value = assignment.partition("=")
        if not equals or not name.strip():
            raise InvalidInputError(f"--set takes VAR=VALUE (got {assignment!r}); ${{VAR}} in the "
                                    "statements is replaced by VALUE.", details={"set": assignment})
        params[name.strip()] = value
    return params


def _script(statements: str | None, script_file: IO[str] | None) -> str:
    if (statements is None) == (script_file is None):
        raise InvalidInputError('Give the statements either as an argument (softquery sql "select …") '
                                "or in a file (-f script.sql, or -f - to read them from stdin), not both.")
    if script_file is not None:
        try:
            return script_file.read()
        except UnicodeDecodeError as exc:
            raise InvalidInputError(f"{script_file.name} is not a UTF-8 text file.") from exc
    assert statements is not None
    return statements


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, default=str)
    return str(value)


def _heading(result: StatementResult) -> str:
    what = f"{result.row_count:,} row{'s' if result.row_count != 1 else ''}" if result.kind == "table" else result.kind
    return f"-- statement {result.statement} (line {result.line}), {result.verb}: {what}, {result.seconds:.2f} s"


def _print_result(result: StatementResult, *, heading: bool) -> None:
    out = console()
    if heading:
        click.echo(_heading(result))
    if result.kind == "table":
        print_table([c.name for c in result.columns], [[_cell(v) for v in row] for row in result.rows],
                    empty="(no rows)")
        if result.truncated:
            click.echo(f"(only the first {len(result.rows):,} rows are shown; give --max-rows to see more)")
    if result.message:
        out.print(result.message, markup=False)
    if result.run_id is not None:
        status = f" ({result.run_status})" if result.run_status else ""
        click.echo(f"run {result.run_id}{status}: softquery run show {result.run_id}")
    for note in result.notes:
        click.echo(f"note: {note}")


def _failure(script: ScriptResult) -> SoftqueryError | None:
    if script.error is None:
        return None
    error = script.error
    failed = SoftqueryError(str(error.get("message", "")), details=dict(error.get("details") or {}),
                            code=str(error.get("code", "error")))
    if script.failed_statement is not None:
        line = failed.details.get("line")
        where = f" (line {line})" if line is not None and not failed.message.startswith("Line ") else ""
        failed.message = f"Statement {script.failed_statement}{where} failed: {failed.message}"
    return failed


def _as_json(script: ScriptResult) -> dict[str, Any]:
    return dataclasses.asdict(script)


def _as_csv(script: ScriptResult) -> str:
    tables = [r for r in script.results if r.kind == "table"]
    if not tables:
        raise InvalidInputError("--csv prints the last table a statement answered, and no statement "
                                "answered a table (a SELECT, ML.PREDICT, ML.EVALUATE …).")
    last = tables[-1]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([c.name for c in last.columns])
    writer.writerows([[_cell(v) for v in row] for row in last.rows])
    return buffer.getvalue()


@declare(Access.OPERATOR, "runs statements as the local operator (admin), each audited with its text")
@click.command("sql")
@click.argument("statements", required=False)
@click.option("-f", "--file", "script_file", type=click.File("r", encoding="utf-8"), metavar="FILE",
              help="Read the statements from FILE (- for stdin).")
@click.option("--source", metavar="S", help="The data source statements read when they name none (source.table).")
@click.option("--set", "assignments", multiple=True, metavar="VAR=VALUE",
              help="Replace ${VAR} in the statements by VALUE (repeat for more).")
@click.option("--wait/--no-wait", default=True, show_default=True,
              help="Wait for the runs that statements start (train, predict) and print their outcome, "
                   "or print their run ids and return at once.")
@click.option("--max-rows", type=click.IntRange(1, 1_000_000), default=MAX_RESULT_ROWS, show_default=True,
              help="Most rows printed per table.")
@click.option("--json", "as_json", is_flag=True, help="Print every statement's result as JSON.")
@click.option("--csv", "as_csv", is_flag=True, help="Print the last table result as CSV.")
def sql_cmd(statements: str | None, script_file: IO[str] | None, source: str | None,
            assignments: tuple[str, ...], wait: bool, max_rows: int, as_json: bool, as_csv: bool) -> int:
    """Run SQL STATEMENTS (separated by ;): SELECT over a source, BigQuery ML
    (CREATE MODEL … OPTIONS(…) AS SELECT, ML.PREDICT, ML.EVALUATE, DROP MODEL …) and
    MLSQL (load, train, register, predict, save).

    \b
    softquery sql --source demo "select * from houses limit 5"
    softquery sql --source demo -f script.sql --set year=2024
    cat script.sql | softquery sql -f - --json
    """
    if as_json and as_csv:
        raise InvalidInputError("Give --json or --csv, not both.")
    text = _script(statements, script_file)
    params = _params(assignments)
    with service_context() as ctx:
        try:
            script = run_statements(ctx, text, source=source, params=params, wait=wait, max_rows=max_rows)
        except SoftqueryError as exc:
            if not as_json:
                raise
            print_json({"results": [], "error": exc.to_dict(), "failed_statement": None, "seconds": 0.0})
            return exit_code_for(exc)
    failed = _failure(script)
    if as_json:
        print_json(_as_json(script))
    elif as_csv:
        if failed is None:
            sys.stdout.write(_as_csv(script))
    else:
        several = len(script.results) + (failed is not None) > 1
        for result in script.results:
            _print_result(result, heading=several)
    if failed is not None:
        if not as_json:
            report_error(failed)
        return exit_code_for(failed)
    if any(r.run_status == "failed" for r in script.results):
        return RUN_FAILED
    return 0


def register(cli: click.Group) -> None:
    cli.add_command(sql_cmd)
