"""sqlglot's error texts as sentences an analyst understands (the position stays the parser's).

``sentence`` rewrites a parser error ("Expecting )", "Required keyword: 'expression' missing
for <class '…Mul'>", "Expected table name but got <Token …>") into what is wrong and what
was expected; ``unclosed`` finds the string, backtick name or comment a script leaves open,
so a tokenizer error points at its opening quote.
"""

from __future__ import annotations

import re

_TOKEN = re.compile(r"<Token token_type: TokenType\.(\w+), text: (.*?), line: \d+, col: \d+.*?>", re.S)
_MISSING = re.compile(r"Required keyword: '(\w+)' missing for <class '[\w.]+\.(\w+)'>")
_OPERATORS = {"Add": "+", "Sub": "-", "Mul": "*", "Div": "/", "EQ": "=", "NEQ": "<>", "GT": ">", "GTE": ">=",
              "LT": "<", "LTE": "<=", "And": "AND", "Or": "OR", "Like": "LIKE", "In": "IN", "Is": "IS",
              "Between": "BETWEEN", "Mod": "%", "DPipe": "||"}
_WORDS = {"Alias": "alias (AS name)", "Cast": "CAST", "Case": "CASE", "Join": "JOIN", "Where": "WHERE",
          "Order": "ORDER BY", "Group": "GROUP BY", "Limit": "LIMIT", "Table": "table name",
          "Column": "column", "Select": "SELECT", "Struct": "STRUCT", "Array": "array"}
CLOSERS = {"'": "'", '"': '"', "`": "`", "'''": "'''", '"""': '"""', "/*": "*/"}


def _shown(text: str) -> str:
    text = text.strip()
    return repr(text[:40]) if text else "the end of the statement"


def sentence(description: str, highlight: str = "") -> str:
    """``description`` (sqlglot's) as a sentence; ``highlight`` is the text it points at."""
    text = description.strip().rstrip(".")
    at = _shown(highlight)

    def token_text(match: re.Match[str]) -> str:
        return "the end of the statement" if match.group(1) == "SENTINEL" else repr(match.group(2))

    text = _TOKEN.sub(token_text, text)
    if text.startswith("Expecting )") or text == "Expected )":
        return f"Expected ) at {at}: a ( before it is not closed (or a comma is missing)."
    if text in ("Expected ]", "Expecting ]"):
        return f"Expected ] at {at}: a [ before it is not closed."
    if text.startswith("Invalid expression / Unexpected token"):
        return f"Unexpected {at} here: it does not continue the statement. Check for a missing comma, " \
               "operator or parenthesis, or a misspelt keyword before it."
    missing = _MISSING.match(text)
    if missing:
        part, cls = missing.groups()
        if cls in _OPERATORS:
            return f"The {_OPERATORS[cls]} here has nothing on its {'right' if part == 'expression' else 'left'} " \
                   "side: the expression is not complete."
        missing_part = "nothing follows it" if part in ("this", "expression") else f"its {part} is missing"
        return f"The {_WORDS.get(cls, cls.lower())} here is not complete: {missing_part}."
    if text.startswith("Expected table name but got"):
        return f"Expected a table name here, not {text.removeprefix('Expected table name but got').strip()}."
    if text.startswith("Adjacent string literals"):
        return "Two strings follow each other here. Separate them (a comma?); in this SQL a quote inside " \
               r"a string is written \' ('it\'s'), not doubled."
    expecting = re.match(r"Expecting (.+)", text)
    if expecting:
        return f"Expected {expecting.group(1)} at {at}."
    return f"{text}."


def unclosed(script: str) -> tuple[int, str] | None:
    """(offset, opener) of the string, backtick name or comment ``script`` leaves open, else None."""
    i, n = 0, len(script)
    while i < n:
        if script.startswith(("--", "#"), i):
            end = script.find("\n", i)
            i = n if end < 0 else end + 1
            continue
        opener = next((o for o in ("'''", '"""', "/*", "'", '"', "`") if script.startswith(o, i)), None)
        if opener is None:
            i += 1
            continue
        closer = CLOSERS[opener]
        j = i + len(opener)
        while j < n:
            if opener in ("'", '"') and script[j] == "\\":
                j += 2
                continue
            if script.startswith(closer, j):
                break
            j += 1
        if j >= n:
            return i, opener
        i = j + len(closer)
    return None


def unclosed_message(opener: str) -> str:
    what = {"/*": "comment", "`": "backtick name"}.get(opener, "string")
    return f"This {what} is not closed: end it with {CLOSERS[opener]}."
