"""Run independent fits of one training (holdout fit, cross-validation folds, search trials,
AutoML candidates) side by side, up to the cores the job may use.

``run_all(tasks, cores)`` returns each task's result in order and re-raises the first
task's error (a ``SoftqueryError`` as raised). For now the tasks run one after another in
this process; the cv-engine helper makes them run in parallel.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")


def run_all(tasks: Sequence[Callable[[], T]], cores: int = 1) -> list[T]:
    """Each task's result, in the order given. A task's result must be picklable (it may be
    computed in another process); a task must not rely on what another task changed."""
    return [task() for task in tasks]
