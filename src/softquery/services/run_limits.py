"""The time and memory a run may have: the model's own limits, never above the server's maxima.

A model may set its own time and memory limit, up to the maxima an admin sets in the
server's environment (``SOFTQUERY_MAX_TIME_LIMIT_SECONDS``, ``SOFTQUERY_MAX_MEMORY_LIMIT_MB``;
the default limits when unset). Saving a larger value is refused; a model saved before a
maximum was lowered runs at the maximum, and its run log says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from softquery.config import Settings
from softquery.domain import Model
from softquery.errors import InvalidInputError


@dataclass(frozen=True)
class _Limit:
    what: str  # as people read it
    unit: str
    setting: str  # the environment variable of the maximum


LIMITS = {
    "time_limit_seconds": _Limit("time limit", "seconds", "SOFTQUERY_MAX_TIME_LIMIT_SECONDS"),
    "memory_limit_mb": _Limit("memory limit", "MB", "SOFTQUERY_MAX_MEMORY_LIMIT_MB"),
}


def maximum(settings: Settings, name: str) -> int:
    """The server's maximum of limit ``name`` (time_limit_seconds or memory_limit_mb)."""
    if name == "time_limit_seconds":
        return settings.max_time_limit_seconds or settings.time_limit_seconds
    return settings.max_memory_limit_mb or settings.memory_limit_mb


def check_limit(settings: Settings, name: str, value: object) -> int:
    """``value`` if it is a whole number above 0 and at most the server's maximum; else a 422."""
    limit = LIMITS[name]
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise InvalidInputError(f"The {limit.what} ({limit.unit}) must be a whole number above 0; got {value!r}.",
                                details={"field": name, "value": value})
    most = maximum(settings, name)
    if value > most:
        raise InvalidInputError(
            f"The {limit.what} of {value:,} {limit.unit} is above this server's maximum of {most:,} "
            f"{limit.unit}. Give at most {most:,}, or leave it empty for the server's default; an admin "
            f"raises the maximum by setting {limit.setting} in the server's environment.",
            details={"field": name, "value": value, "max": most, "setting": limit.setting})
    return value


@dataclass
class RunLimits:
    wall_seconds: int
    memory_mb: int
    notes: list[str] = field(default_factory=list)  # one line per limit lowered to its maximum


def run_limits(settings: Settings, model: Model) -> RunLimits:
    """The limits a run of ``model`` gets now: its own (or the default), at most the maximum."""
    chosen: dict[str, int] = {}
    notes: list[str] = []
    for name, limit in LIMITS.items():
        own = getattr(model, name)
        wanted = own or getattr(settings, name)
        most = maximum(settings, name)
        chosen[name] = min(wanted, most)
        if wanted > most:
            whose = "this model's" if own else "the server's default"
            notes.append(f"softquery: {whose} {limit.what} of {wanted:,} {limit.unit} is above the server's "
                         f"maximum of {most:,} {limit.unit} ({limit.setting}); this run gets "
                         f"{most:,} {limit.unit}.")
    return RunLimits(chosen["time_limit_seconds"], chosen["memory_limit_mb"], notes)
