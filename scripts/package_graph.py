"""Print softquery's package graph: each package and the softquery packages it imports.

Reads the imports with `ast` (every `import`/`from … import`, including those inside
functions and under TYPE_CHECKING), so the table shows every dependency, not only
module-level ones. `--markdown` prints the table for the README's Layout section.
"""

from __future__ import annotations

import argparse
import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "src" / "softquery"


def package_of(module: str) -> str:
    parts = module.split(".")
    if len(parts) < 2:
        return "(softquery)"
    candidate = ROOT / parts[1]
    return parts[1] if candidate.is_dir() else "(top)"


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    name = module_name(path)
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".")
                base = base[: len(base) - node.level + (1 if is_package else 0)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.add(target)
            found.update(f"{target}.{alias.name}" for alias in node.names)
    return {m for m in found if m.startswith("softquery.") and len(m.split(".")) >= 2}


def graph() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = defaultdict(set)
    for path in sorted(ROOT.rglob("*.py")):
        if path.parent == ROOT:
            if path.name == "__init__.py":
                continue
            source = path.name
        else:
            source = package_of(module_name(path))
        edges.setdefault(source, set())
        for target in imports_of(path):
            parts = target.split(".")
            if (ROOT / parts[1]).is_dir():
                other = parts[1]
            elif (ROOT / f"{parts[1]}.py").exists():
                other = f"{parts[1]}.py"
            else:
                continue
            if other != source:
                edges[source].add(other)
    return edges


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    edges = graph()
    width = max(len(p) for p in edges)
    if args.markdown:
        print("| package | imports |")
        print("|---|---|")
    for package in sorted(edges):
        targets = ", ".join(sorted(edges[package])) or "—"
        if args.markdown:
            print(f"| `{package}` | {targets} |")
        else:
            print(f"{package:<{width}}  {targets}")


if __name__ == "__main__":
    main()
