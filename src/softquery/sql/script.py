"""A script into statements: ``${var}`` substitution, comments, ``;`` outside strings.

Splitting uses the grammar's own tokenizer (sqlglot's, in the BigQuery dialect that both
MLSQL and BigQuery ML scripts tokenize under: backtick names, '…', "…" and '''…'''
strings, ``--`` and ``/* */`` comments), so a ``;`` inside a string, a backtick path or a
comment never ends a statement.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from sqlglot.errors import TokenError
from sqlglot.tokenizer_core import Token, TokenType

from softquery.sql.parse_errors import unclosed, unclosed_message
from softquery.sql.statement_errors import SqlError, sql_error

MAX_SCRIPT_CHARS = 200_000  # as a model's code: a script is typed or uploaded by a person
_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


@dataclass(frozen=True)
class StatementText:
    """One statement of a script: its text (no trailing ``;``) and where it starts."""

    text: str
    offset: int  # into the script (after substitution)
    tokens: tuple[Token, ...]  # offsets in the tokens are into ``script``
    script: str  # the whole script, for positions in errors

    def error(self, message: str, token: Token | None = None, **kwargs: object) -> SqlError:
        """An error at ``token`` (default: the statement's start)."""
        offset = token.start if token is not None else self.offset
        return sql_error(message, self.script, offset, **kwargs)  # type: ignore[arg-type]


def substitute(text: str, params: Mapping[str, str]) -> str:
    """``${name}`` replaced by ``params[name]``; an unknown or malformed name is an error."""
    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if not _NAME.match(name):
            raise sql_error(f"${{{name}}} is not a variable name (letters, digits and _).", text, match.start())
        if name not in params:
            raise sql_error(f"The variable ${{{name}}} has no value; give it with --set {name}=VALUE "
                            "(or \"params\" in the API).", text, match.start(), name=name,
                            known=params.keys(), what="variable")
        return str(params[name])
    return _VARIABLE.sub(replace, text)


def tokenize(script: str) -> list[Token]:
    from softquery.sql.dialect import Softquery  # the grammar's tokenizer

    try:
        return list(Softquery().tokenize(script))
    except TokenError as exc:
        raise _token_error(script, exc) from None


def _token_error(script: str, exc: TokenError) -> SqlError:
    message = str(exc)
    match = re.search(r"Line (\d+), Col: (\d+)", message)
    offset = len(script)
    if match:
        line, column = int(match.group(1)), int(match.group(2))
        starts = [0] + [i + 1 for i, ch in enumerate(script) if ch == "\n"]
        if line <= len(starts):
            offset = min(len(script), starts[line - 1] + max(column - 1, 0))
    found = unclosed(script)
    if found is not None:
        return sql_error(unclosed_message(found[1]), script, found[0])
    return sql_error("The text cannot be read as SQL here.", script, _opening_quote(script, offset))


def _opening_quote(script: str, offset: int) -> int:
    """The tokenizer reports the end of the text for an unclosed quote: point at the quote."""
    if offset < len(script):
        return offset
    depth_positions = [m.start() for m in re.finditer(r"['\"`]|/\*", script)]
    return depth_positions[-1] if depth_positions else offset


def split_script(script: str, params: Mapping[str, str] | None = None) -> tuple[str, list[StatementText]]:
    """The substituted script and its statements, empty ones (``;;``, comments only) dropped."""
    if len(script) > MAX_SCRIPT_CHARS:
        raise sql_error(f"The script is {len(script):,} characters long; at most {MAX_SCRIPT_CHARS:,} are "
                        "allowed (the limit is reached here). Split it, or load big data from a file or table "
                        "rather than inline.", script, MAX_SCRIPT_CHARS,
                        extra={"chars": len(script), "max_chars": MAX_SCRIPT_CHARS})
    text = substitute(script, params or {})
    if len(text) > MAX_SCRIPT_CHARS:
        raise sql_error(f"After ${{…}} substitution the script is {len(text):,} characters long; at most "
                        f"{MAX_SCRIPT_CHARS:,} are allowed (the limit is reached here).", text, MAX_SCRIPT_CHARS,
                        extra={"chars": len(text), "max_chars": MAX_SCRIPT_CHARS})
    statements: list[StatementText] = []
    current: list[Token] = []
    for token in [*tokenize(text), None]:
        if token is None or token.token_type is TokenType.SEMICOLON:
            if current:
                start, end = current[0].start, current[-1].end + 1
                statements.append(StatementText(text[start:end], start, tuple(current), text))
            current = []
        else:
            current.append(token)
    return text, statements
