"""A version's hyperparameter search as its page shows it: the trials table and the chart of
score against trial (``manifest["selection"]`` of kind "search")."""

from __future__ import annotations

from typing import Any

from softquery.domain import Version
from softquery.services.cv_figures import decimals_telling_apart, mean_pm_std


def search_of(version: Version) -> dict[str, Any] | None:
    """The search's trials for the page (None: the version was not chosen by a search)."""
    selection = version.manifest.get("selection")
    if not isinstance(selection, dict) or selection.get("kind") != "search":
        return None
    chosen = selection.get("chosen")
    decimals = _decimals_for(selection)
    rows = []
    for trial in selection.get("trials") or []:
        params = trial.get("params") or {}
        rows.append({
            "number": trial.get("number"),
            "params": ", ".join(f"{k}={v}" for k, v in params.items()),
            "mean": trial.get("cv_mean"), "std": trial.get("cv_std"), "seconds": trial.get("seconds"),
            # rounded as every CV figure is (services/cv_figures.py): the mean to its std's first significant
            # digit, but always with the digits where the best two trials differ (the table shows why one won)
            "score": mean_pm_std(trial.get("cv_mean"), trial.get("cv_std"), decimals),
            "error": trial.get("error"), "chosen": trial.get("number") == chosen,
        })
    skipped = selection.get("skipped") or []
    return {
        "method": selection.get("method"), "objective": selection.get("objective"),
        "direction": selection.get("direction"), "folds": selection.get("folds"), "rows": rows,
        "chosen": chosen, "reason": selection.get("reason"), "planned": selection.get("planned"),
        "skipped": len(skipped),
        "chart": {"labels": [r["number"] for r in rows], "scores": [r["mean"] for r in rows],
                  "std": [r["std"] for r in rows], "chosen": chosen, "metric": selection.get("objective")},
    }


def _decimals_for(selection: dict[str, Any]) -> int:
    """Decimals that tell the best two trials' CV means apart (0 when fewer than two were scored)."""
    means = sorted({float(t["cv_mean"]) for t in selection.get("trials") or []
                    if isinstance(t.get("cv_mean"), int | float) and not t.get("error")},
                   reverse=selection.get("direction") != "minimize")
    return decimals_telling_apart(means[0], means[1]) if len(means) >= 2 else 0
