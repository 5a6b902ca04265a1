"""Whether a new version becomes active (``--deploy``), and why, in words the run keeps.

``most_recent`` activates every version. ``best_score`` compares the cross-validated key metric
(``TaskType.key_metric``: r2, f1, silhouette; higher is better) of the new version and the
active one: the new version is refused when its CV mean is below the active version's CV mean
by more than one standard deviation of the new version's own CV (activated when
``new_mean >= active_mean - new_std``). When either version has no CV figure (trained before
cross-validation was recorded, or too few rows to cross-validate) the holdout key metric
decides, as before: the new version must score strictly better; the reason says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from softquery.domain import DeployStrategy, Model, TaskType, Version
from softquery.services.cv_figures import cv_of, fmt_figure, mean_pm_std, score


@dataclass
class DeployDecision:
    activate: bool
    reason: str
    basis: str | None = None  # "cv" | "holdout" | None (no comparison)
    metric: str | None = None
    new: dict[str, Any] = field(default_factory=dict)     # {"version", "mean", "std"} or {"version", "holdout"}
    active: dict[str, Any] = field(default_factory=dict)

    def as_dict(self, strategy: DeployStrategy) -> dict[str, Any]:
        return {"strategy": strategy.value, "activated": self.activate, "reason": self.reason,
                "basis": self.basis, "metric": self.metric, "new": self.new, "active": self.active}


def _holdout(metrics: dict[str, Any], metric: str) -> float | None:
    value = metrics.get(metric)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _task(version: Version) -> TaskType | None:
    try:
        return TaskType(str(version.manifest.get("task")))
    except ValueError:
        return None


def decide(model: Model, active: Version | None, *, number: int, task: TaskType, metrics: dict[str, Any],
           cv: dict[str, Any] | None) -> DeployDecision:
    """Whether version ``number`` (its holdout ``metrics`` and ``cv``, ``manifest["cv"]``) is activated."""
    if model.deploy is DeployStrategy.MOST_RECENT:
        return DeployDecision(True, "Activated: the model activates every new version (deploy most_recent).")
    if active is None:
        return DeployDecision(True, "Activated: no version was active.")
    active_task = _task(active)
    if active_task is not task:
        what = active_task.value if active_task else "unknown"
        return DeployDecision(True, f"Activated: the active version {active.version} is a {what} model, "
                                    f"so its scores cannot be compared with this {task.value} model's.")
    metric = task.key_metric
    new_mean, new_std = score(cv, metric)
    old_mean, old_std = score(cv_of(active.manifest), metric)
    if new_mean is not None and old_mean is not None and new_std is not None:
        new = {"version": number, "mean": new_mean, "std": new_std}
        old = {"version": active.version, "mean": old_mean, "std": old_std}
        ours, theirs = mean_pm_std(new_mean, new_std), mean_pm_std(old_mean, old_std)
        who = f"the active version {active.version}'s {theirs}"
        if new_mean < old_mean - new_std:
            return DeployDecision(False, f"Not activated: CV {metric} {ours} is worse than {who} by more than "
                                         "one standard deviation.", "cv", metric, new, old)
        how = "better than" if new_mean >= old_mean else "within one standard deviation of"
        return DeployDecision(True, f"Activated: CV {metric} {ours} is {how} {who}.", "cv", metric, new, old)
    return _by_holdout(active, number, metric, metrics, missing=number if new_mean is None else active.version)


def _by_holdout(active: Version, number: int, metric: str, metrics: dict[str, Any], *,
                missing: int) -> DeployDecision:
    whose = "this version" if missing == number else f"the active version {active.version}"
    why = f"{whose} has no cross-validated {metric}, so the holdout {metric} decided"
    new_value, old_value = _holdout(metrics, metric), _holdout(active.metrics, metric)
    new, old = {"version": number, "holdout": new_value}, {"version": active.version, "holdout": old_value}
    if new_value is None:
        reason = (f"this version has no {metric} to compare, neither cross-validated nor holdout"
                  if missing == number else f"the active version {active.version} has no cross-validated "
                  f"{metric} and this version no holdout {metric}, so there is nothing to compare")
        return DeployDecision(False, f"Not activated: {reason}.", "holdout", metric, new, old)
    if old_value is None:
        reason = (f"the active version {active.version} has no {metric} to compare with, neither "
                  "cross-validated nor holdout" if missing == active.version else
                  f"this version has no cross-validated {metric} and the active version {active.version} "
                  f"no holdout {metric}, so there is nothing to compare")
        return DeployDecision(True, f"Activated: {reason}.", "holdout", metric, new, old)
    ours, theirs = fmt_figure(new_value), fmt_figure(old_value)
    if new_value > old_value:
        return DeployDecision(True, f"Activated: {why}: {ours} is better than its {theirs}.", "holdout", metric,
                              new, old)
    return DeployDecision(False, f"Not activated: {why}: {ours} is not better than its {theirs}.", "holdout",
                          metric, new, old)
