"""What a version's page shows: its code beside the active version's, as a readable diff, and its
cross-validation beside its holdout metrics."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

from softquery.domain import Version
from softquery.services import cv_figures
from softquery.web.plain_words import plain

CONTEXT_LINES = 3


@dataclass(frozen=True)
class DiffLine:
    kind: str  # "hunk" (@@ line), "add", "del", "same"
    text: str
    old: int | None = None  # line number in the active version's code
    new: int | None = None  # line number in this version's code


def code_of(version: Version | None) -> str:
    """The model code a version was trained with (kept in its manifest)."""
    code = version.manifest.get("code") if version is not None else None
    return code if isinstance(code, str) else ""


def code_diff(active_code: str, code: str) -> list[DiffLine]:
    """A unified diff from the active version's code to this version's ([] when equal)."""
    old, new = active_code.splitlines(), code.splitlines()
    lines: list[DiffLine] = []
    for group in difflib.SequenceMatcher(None, old, new, autojunk=False).get_grouped_opcodes(CONTEXT_LINES):
        first, last = group[0], group[-1]
        lines.append(DiffLine("hunk", f"@@ -{first[1] + 1},{last[2] - first[1]} "
                                      f"+{first[3] + 1},{last[4] - first[3]} @@"))
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                lines.extend(DiffLine("same", old[i], i + 1, j1 + k + 1) for k, i in enumerate(range(i1, i2)))
                continue
            lines.extend(DiffLine("del", old[i], i + 1, None) for i in range(i1, i2))
            lines.extend(DiffLine("add", new[j], None, j + 1) for j in range(j1, j2))
    return lines


def diff_stats(lines: list[DiffLine]) -> dict[str, int]:
    return {"added": sum(1 for d in lines if d.kind == "add"),
            "removed": sum(1 for d in lines if d.kind == "del")}


def metric_rows(version: Version, active: Version | None) -> list[dict[str, Any]]:
    """Each holdout metric of ``version`` beside the active version's (None when it has none)."""
    theirs = active.metrics if active is not None and active.version != version.version else {}
    return [{"name": k, "value": v, "active": theirs.get(k)} for k, v in version.metrics.items()]


def key_cv(version: Version) -> str:
    """The key metric's cross-validated mean ± std ("r2 0.81 ± 0.03"); "not measured" without CV."""
    metric = cv_figures.key_metric_of(version.manifest)
    mean, std = cv_figures.score(cv_figures.cv_of(version.manifest), metric) if metric else (None, None)
    return f"{metric} {cv_figures.mean_pm_std(mean, std)}" if mean is not None else cv_figures.NOT_MEASURED


def cv_table(version: Version) -> dict[str, Any]:
    """The version page's cross-validation: each metric's holdout value, CV mean, std and folds."""
    cv = cv_figures.cv_of(version.manifest)
    measured = cv_figures.measured(cv)
    rows = [r for r in cv_figures.metric_rows(version) if r.mean is not None or r.folds] if measured else []
    return {"recorded": cv is not None, "imported": cv_figures.imported(version.manifest), "measured": measured, "method": cv_figures.method_text(cv),
            "rows": (cv or {}).get("rows"), "seconds": (cv or {}).get("seconds"),
            "notes": [plain(n) for n in (cv or {}).get("notes") or []], "fold_count": max((len(r.folds) for r in rows), default=0),
            "metrics": rows, "key": key_cv(version) if measured else None, "how": cv_figures.fold_words(cv),
            "split": cv_figures.split_text(version.manifest.get("evaluation"))}


def cv_method(version: Version | None) -> str | None:
    """ "5-fold, stratified" for a version with cross-validation; None otherwise."""
    cv = cv_figures.cv_of(version.manifest) if version is not None else None
    return cv_figures.method_text(cv) if cv_figures.measured(cv) else None
