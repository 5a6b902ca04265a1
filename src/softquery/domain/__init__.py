"""Plain dataclasses and enums; imports nothing else from softquery."""

from softquery.domain.accounts import ApiToken, AuditEvent, Principal, Role, TokenScope, User, Via
from softquery.domain.entities import (
    DataSource,
    Model,
    OutputTableClaim,
    Run,
    RunKind,
    RunStatus,
    RunTrigger,
    Version,
)
from softquery.domain.options import DeployStrategy, TaskType, WriteMode

__all__ = [
    "ApiToken",
    "AuditEvent",
    "Principal",
    "Role",
    "TokenScope",
    "User",
    "Via",
    "DataSource",
    "DeployStrategy",
    "Model",
    "OutputTableClaim",
    "Run",
    "RunKind",
    "RunStatus",
    "RunTrigger",
    "TaskType",
    "Version",
    "WriteMode",
]
