"""One mapping from softquery errors to messages and exit codes."""

from __future__ import annotations

import click
from rich.console import Console
from rich.markup import escape

from softquery.errors import SoftqueryError

EXIT_CODES = {
    "not_initialised": 3,
    "not_found": 4,
    "already_exists": 5,
    "conflict": 5,
    "no_version": 6,
    "artifact_tampered": 7,
    "development_secret": 8,
}
USER_ERROR = 2
RUN_FAILED = 1


class BadSettings(click.ClickException):
    """Settings that ``Settings()`` refused: one line per bad ``SOFTQUERY_*`` variable, exit 2."""

    exit_code = USER_ERROR

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems

    def show(self, file: object = None) -> None:
        for line in self.problems:
            click.echo(f"Error (invalid_setting): {line}", err=True)


def exit_code_for(error: SoftqueryError) -> int:
    return EXIT_CODES.get(error.code, USER_ERROR)


def report_error(error: SoftqueryError) -> None:
    console = Console(stderr=True, highlight=False, markup=False, emoji=False)
    console.print(f"[bold red]Error[/] ({error.code}): {escape(error.message)}", markup=True, soft_wrap=True)
    excerpt = error.details.get("excerpt")
    if isinstance(excerpt, str) and excerpt:  # a SQL error: the line with a caret under the place
        for line in excerpt.splitlines():
            console.print(f"  {line}", markup=False, soft_wrap=True)
    suggestion = error.details.get("suggestion")
    if isinstance(suggestion, str) and suggestion and suggestion not in error.message:
        console.print(f"  Did you mean {suggestion!r}?", markup=False, soft_wrap=True)
    problems = error.details.get("problems")
    if isinstance(problems, list) and len(problems) > 1:
        for problem in problems[1:]:
            line = f"line {problem.get('line')}: " if problem.get("line") else ""
            console.print(f"  {problem.get('severity', 'error')}: {line}{problem.get('message')}",
                          markup=False)


def run_with_error_handling(command: click.Group, args: list[str] | None = None) -> int:
    try:
        result = command.main(args=args, prog_name="softquery", standalone_mode=False)
    except SoftqueryError as exc:
        report_error(exc)
        return exit_code_for(exc)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        return 130
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Exit as exc:
        return exc.exit_code
    return result if isinstance(result, int) else 0
