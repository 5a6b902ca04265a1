"""Enumerations of the choices a model definition offers."""

from __future__ import annotations

from enum import StrEnum


class WriteMode(StrEnum):
    REPLACE = "replace"
    APPEND = "append"


class DeployStrategy(StrEnum):
    MOST_RECENT = "most_recent"
    BEST_SCORE = "best_score"


class TaskType(StrEnum):
    REGRESSION = "regression"
    CLASSIFICATION = "classification"
    CLUSTERING = "clustering"

    @property
    def key_metric(self) -> str:
        return {"regression": "r2", "classification": "f1", "clustering": "silhouette"}[self.value]
