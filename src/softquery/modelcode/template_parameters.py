"""Template parameters: a template's code with some arguments of its calls set, as a person would edit them.

A template is plain Python (``templates/<name>.py``). A parameter is rendered into that code
as text: ``with_parameters(code, calls={"Ridge": {"alpha": 0.5}})`` sets ``alpha=0.5`` in
the template's ``Ridge(...)`` call (replacing the value written there, or adding the
keyword), and ``attributes={"holdout_fraction": 0.3}`` sets a class attribute of ``class
Model`` (training reads ``holdout_fraction``). The result is the model's code: what the
editor shows and what is checked, signed and run, like any code a person writes.
Only literals are rendered (numbers, strings, booleans, None), so no text a person typed
becomes code.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Mapping
from dataclasses import dataclass

from softquery.errors import InvalidInputError

Literal = str | int | float | bool | None


@dataclass(frozen=True)
class _Edit:
    start: int  # character offsets into the code
    end: int
    text: str


def literal(value: Literal) -> str:
    """``value`` as Python source."""
    if isinstance(value, float) and not math.isfinite(value):
        return "float('inf')" if value > 0 else ("float('-inf')" if value < 0 else "float('nan')")
    if value is None or isinstance(value, bool | int | float | str):
        return repr(value)
    raise InvalidInputError(f"{value!r} is not a number, text, true/false or NULL.")


def with_parameters(code: str, calls: Mapping[str, Mapping[str, Literal]] | None = None,
                    attributes: Mapping[str, Literal] | None = None) -> str:
    """``code`` with keyword arguments set in the calls of the named callables, and class
    attributes set on ``class Model`` (see the module docstring)."""
    tree = ast.parse(code)
    offsets = _line_offsets(code)
    edits: list[_Edit] = []
    for name, keywords in (calls or {}).items():
        found = [node for node in ast.walk(tree) if isinstance(node, ast.Call) and _called(node) == name]
        if not found:
            raise InvalidInputError(f"The model code has no call of {name}(...) to set "
                                    f"{', '.join(keywords)} in.", details={"call": name})
        for node in found:
            edits += _keyword_edits(code, offsets, node, keywords)
    if attributes:
        edits += _attribute_edits(code, offsets, tree, attributes)
    for edit in sorted(edits, key=lambda e: e.start, reverse=True):
        code = code[:edit.start] + edit.text + code[edit.end:]
    ast.parse(code)  # still Python
    return code


def _called(node: ast.Call) -> str | None:
    func = node.func
    if isinstance(func, ast.Name):
        return func.id
    return func.attr if isinstance(func, ast.Attribute) else None


def _line_offsets(code: str) -> list[int]:
    starts = [0]
    for line in code.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))
    return starts


def _at(code: str, offsets: list[int], line: int, byte_col: int) -> int:
    """A character offset from ast's (1-based line, UTF-8 byte column)."""
    start = offsets[line - 1]
    text = code[start:offsets[line] if line < len(offsets) else len(code)]
    return start + len(text.encode("utf-8")[:byte_col].decode("utf-8", errors="ignore"))


def _keyword_edits(code: str, offsets: list[int], node: ast.Call,
                   keywords: Mapping[str, Literal]) -> list[_Edit]:
    edits: list[_Edit] = []
    written = {kw.arg: kw for kw in node.keywords if kw.arg is not None}
    added: list[str] = []
    for name, value in keywords.items():
        if not name.isidentifier():
            raise InvalidInputError(f"{name!r} is not a parameter name.")
        if name in written:
            given = written[name].value
            assert given.end_lineno is not None and given.end_col_offset is not None
            edits.append(_Edit(_at(code, offsets, given.lineno, given.col_offset),
                               _at(code, offsets, given.end_lineno, given.end_col_offset), literal(value)))
        else:
            added.append(f"{name}={literal(value)}")
    if added:
        last: list[ast.expr | ast.keyword] = [*node.args, *node.keywords]
        if last:
            tail = max(last, key=lambda n: (n.end_lineno or 0, n.end_col_offset or 0))
            assert tail.end_lineno is not None and tail.end_col_offset is not None
            at = _at(code, offsets, tail.end_lineno, tail.end_col_offset)
            edits.append(_Edit(at, at, "".join(f", {text}" for text in added)))
        else:
            assert node.end_lineno is not None and node.end_col_offset is not None
            at = _at(code, offsets, node.end_lineno, node.end_col_offset) - 1  # before ")"
            edits.append(_Edit(at, at, ", ".join(added)))
    return edits


def _attribute_edits(code: str, offsets: list[int], tree: ast.Module,
                     attributes: Mapping[str, Literal]) -> list[_Edit]:
    model = next((node for node in tree.body if isinstance(node, ast.ClassDef) and node.name == "Model"), None)
    if model is None or not model.body:
        raise InvalidInputError("The model code has no class Model to set "
                                f"{', '.join(attributes)} on.")
    edits: list[_Edit] = []
    assigned = {target.id: stmt for stmt in model.body if isinstance(stmt, ast.Assign)
                for target in stmt.targets if isinstance(target, ast.Name)}
    first = model.body[0]
    indent = " " * first.col_offset
    lines: list[str] = []
    for name, value in attributes.items():
        if not name.isidentifier():
            raise InvalidInputError(f"{name!r} is not an attribute name.")
        stmt = assigned.get(name)
        if stmt is not None:
            given = stmt.value
            assert given.end_lineno is not None and given.end_col_offset is not None
            edits.append(_Edit(_at(code, offsets, given.lineno, given.col_offset),
                               _at(code, offsets, given.end_lineno, given.end_col_offset), literal(value)))
        else:
            lines.append(f"{indent}{name} = {literal(value)}\n")
    if lines:
        # after the class's first statement when it is an assignment (task = "..."), else before it
        anchor = first if isinstance(first, ast.Assign) else None
        if anchor is not None:
            assert anchor.end_lineno is not None
            at = offsets[anchor.end_lineno] if anchor.end_lineno < len(offsets) else len(code)
        else:
            at = offsets[first.lineno - 1]
        edits.append(_Edit(at, at, "".join(lines)))
    return edits
