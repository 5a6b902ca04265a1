"""Model code templates: each ``<name>.py`` file here is one template.

The files are read as text (never imported or executed here): the docstring
gives the title and description, the ``task = "..."`` line gives the task.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from importlib import resources

from softquery.errors import NotFoundError
from softquery.modelcode.checks import declared_task_name


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


def _info(name: str, code: str) -> TemplateInfo:
    tree = ast.parse(code, filename=f"{name}.py")
    doc = ast.get_docstring(tree) or name
    title, _, rest = doc.partition("\n")
    description = " ".join(rest.strip().split("\n\n")[0].split())
    return TemplateInfo(name=name, title=title.strip(), description=description, task=declared_task_name(code) or "any")


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
