"""Static checks of model code on save: compile + ``ast`` only, never executed."""

from __future__ import annotations

import ast
from dataclasses import dataclass

from softquery.errors import ModelCodeError

CODE_FILENAME = "<model code>"


@dataclass(frozen=True)
class CodeProblem:
    """One problem in model code, with its 1-based line when known."""

    message: str
    line: int | None = None
    column: int | None = None
    severity: str = "error"  # "error" blocks saving; "warning" is advice

    def to_dict(self) -> dict[str, object]:
        return {"message": self.message, "line": self.line, "column": self.column, "severity": self.severity}


def check_code(code: str) -> list[CodeProblem]:
    """Every problem found in ``code``; an empty list means it is fine to save."""
    if not code.strip():
        return [CodeProblem("The model code is empty. Start from a template or define class Model.", 1)]
    try:
        tree = ast.parse(code, filename=CODE_FILENAME)
    except SyntaxError as exc:
        return [_syntax_problem(exc)]
    model = next(
        (node for node in tree.body if isinstance(node, ast.ClassDef) and node.name == "Model"), None
    )
    if model is None:
        return [
            CodeProblem(
                "No `class Model` found at the top level of the code. Define a class named Model "
                "with methods train(self, X, y) and predict(self, X).",
                1,
            )
        ]
    return _check_methods(model) + _class_attribute_warnings(model)


def require_valid_code(code: str) -> list[CodeProblem]:
    """Raise ``ModelCodeError`` on the first error; return the warnings otherwise."""
    problems = check_code(code)
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        first = errors[0]
        where = f"Line {first.line}: " if first.line else ""
        raise ModelCodeError(
            f"The model code has a problem. {where}{first.message}",
            details={"problems": [p.to_dict() for p in problems]},
        )
    return problems


def _syntax_problem(exc: SyntaxError) -> CodeProblem:
    reason = exc.msg
    if isinstance(exc, TabError):
        hint = "Indent with spaces only (4 per level), not a mix of tabs and spaces."
    elif isinstance(exc, IndentationError):
        hint = "Check that the lines of each block are indented by the same amount."
    else:
        hint = "Fix the Python syntax on this line."
    return CodeProblem(f"{reason}. {hint}", exc.lineno, exc.offset)


_REQUIRED = {"train": ("self", "X", "y"), "predict": ("self", "X")}


def _check_methods(model: ast.ClassDef) -> list[CodeProblem]:
    problems: list[CodeProblem] = []
    methods = {
        node.name: node for node in model.body if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    }
    for name, params in _REQUIRED.items():
        node = methods.get(name)
        shape = f"{name}({', '.join(params)})"
        if node is None:
            problems.append(
                CodeProblem(f"class Model has no {name} method. Add `def {shape}:`.", model.lineno)
            )
            continue
        if isinstance(node, ast.AsyncFunctionDef):
            problems.append(CodeProblem(f"{name} must be a plain `def`, not `async def`.", node.lineno))
            continue
        if any(_decorator_name(d) in ("staticmethod", "classmethod") for d in node.decorator_list):
            problems.append(
                CodeProblem(f"{name} must be a normal method: remove @staticmethod/@classmethod.", node.lineno)
            )
            continue
        args = node.args
        positional = len(args.posonlyargs) + len(args.args)
        required_kwonly = [a for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True) if d is None]
        if (positional < len(params) and args.vararg is None) or required_kwonly:
            taken = ", ".join(a.arg for a in args.posonlyargs + args.args)
            problems.append(
                CodeProblem(
                    f"{name} takes ({taken}) but softquery calls it as {shape}. "
                    f"Change it to `def {shape}:`.",
                    node.lineno,
                )
            )
    if "__main__" in methods and "__init__" not in methods:
        problems.append(
            CodeProblem(
                "Method __main__ is never called by Python; did you mean __init__?",
                methods["__main__"].lineno,
                severity="warning",
            )
        )
    return problems


def _class_attribute_warnings(model: ast.ClassDef) -> list[CodeProblem]:
    warnings: list[CodeProblem] = []
    for node in model.body:
        if isinstance(node, ast.Assign | ast.AnnAssign) and isinstance(node.value, ast.Call):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names = ", ".join(t.id for t in targets if isinstance(t, ast.Name))
            warnings.append(
                CodeProblem(
                    f"`{names}` is a class attribute: it is shared by every instance and is NOT saved "
                    f"with the trained model. Create it in __init__ instead (self.{names} = ...).",
                    node.lineno,
                    severity="warning",
                )
            )
    return warnings


def _decorator_name(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def class_attribute_names(code: str) -> list[str]:
    """Names assigned from calls at class level in ``class Model`` (the pickling pitfall)."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return []
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == "Model":
            return [
                t.id
                for stmt in node.body
                if isinstance(stmt, ast.Assign | ast.AnnAssign) and isinstance(stmt.value, ast.Call)
                for t in (stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target])
                if isinstance(t, ast.Name)
            ]
    return []


def class_constant(code: str, name: str) -> str | None:
    """The text constant ``name = "..."`` set in ``class Model``, read without executing code."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return None
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == "Model":
            for stmt in node.body:
                if (
                    isinstance(stmt, ast.Assign)
                    and any(isinstance(t, ast.Name) and t.id == name for t in stmt.targets)
                    and isinstance(stmt.value, ast.Constant)
                    and isinstance(stmt.value.value, str)
                ):
                    return stmt.value.value
    return None


def declared_task_name(code: str) -> str | None:
    """The ``task = "..."`` class attribute of ``class Model``, read without executing code."""
    return class_constant(code, "task")
