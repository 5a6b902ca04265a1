"""Model code templates: each ``<name>.py`` file here is one template.

The files are read as text (never imported or executed here): the docstring
gives the title and description, the ``task = "..."`` line gives the task.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from importlib import resources

from softquery.errors import NotFoundError


@dataclass(frozen=True)
class TemplateInfo:
    name: str
    title: str
    description: str
    task: str


def _files() -> dict[str, str]:
    folder = resources.files(__name__)
    return {
        entry.name.removesuffix(".py"): entry.read_text(encoding="utf-8")
        for entry in folder.iterdir()
        if entry.name.endswith(".py") and not entry.name.startswith("_")
    }


def _task(tree: ast.Module) -> str:
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == "Model":
            for statement in node.body:
                if (
                    isinstance(statement, ast.Assign)
                    and any(isinstance(t, ast.Name) and t.id == "task" for t in statement.targets)
                    and isinstance(statement.value, ast.Constant)
                    and isinstance(statement.value.value, str)
                ):
                    return statement.value.value
    return "unknown"


def _info(name: str, code: str) -> TemplateInfo:
    tree = ast.parse(code, filename=f"{name}.py")
    doc = ast.get_docstring(tree) or name
    title, _, rest = doc.partition("\n")
    description = " ".join(rest.strip().split("\n\n")[0].split())
    return TemplateInfo(name=name, title=title.strip(), description=description, task=_task(tree))


def list_templates() -> list[TemplateInfo]:
    """All templates, sorted by name."""
    return [_info(name, code) for name, code in sorted(_files().items())]


def template_code(name: str) -> str:
    """The Python source of one template, as shown in the model editor."""
    files = _files()
    if name not in files:
        available = sorted(files)
        raise NotFoundError(
            f"There is no model template called '{name}'. "
            f"Available templates: {', '.join(available)}.",
            details={"template": name, "available": available},
        )
    return files[name]
