"""Reading a run's log as the trainings write it: blocks under "── name ──" headings."""

from __future__ import annotations


def blocks(text: str) -> dict[str, list[str]]:
    """Each heading's lines (a heading may come back when fits printed side by side); every
    line of the output is under one."""
    lines = text.splitlines()
    assert lines and lines[0].startswith("── "), text
    found: dict[str, list[str]] = {}
    title = ""
    for line in lines:
        if line.startswith("── ") and line.endswith(" ──"):
            title = line[3:-3]
            found.setdefault(title, [])
        else:
            found[title].append(line)
    return found
