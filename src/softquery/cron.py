"""Parse a model's schedule (cron expression or preset) and find its slots.

A schedule is read in the model's own IANA time zone ("0 2 * * *" in
Europe/Berlin is 02:00 Berlin time), but every datetime in and out of this
module is an aware UTC datetime.

Daylight-saving rules (the same as classic cron):

- a wall-clock time that does not exist (skipped when the clocks spring
  forward, e.g. 02:30 in Berlin on the last Sunday of March) fires once, at
  the moment the clocks jump past it (03:30 local time, the same instant as
  02:30 in the old offset);
- a wall-clock time that happens twice (when the clocks fall back) fires
  once, at its first occurrence -- except in schedules whose hour field is a
  wildcard ("hourly", "*/15 * * * *"), which keep firing in real time and so
  fire in both occurrences of the repeated hour.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import CroniterBadDateError, CroniterError, croniter

from softquery.errors import InvalidInputError

PRESETS: dict[str, str] = {
    "hourly": "0 * * * *",
    "daily": "0 0 * * *",
    "weekly": "0 0 * * 1",  # Monday 00:00
}

EXAMPLES = (
    "Examples: 'hourly', 'daily', 'weekly' (Monday 00:00), "
    "'30 6 * * *' (every day at 06:30), '0 7 * * 1-5' (weekdays at 07:00), "
    "'*/15 * * * *' (every 15 minutes). Fields: minute hour day-of-month month day-of-week."
)

# Wall-clock candidates are in the same order as the instants they stand for,
# except around an offset change (daylight saving), where they can be out of
# order by at most the size of the change: near one, look that much further.
_WINDOW = timedelta(hours=26)
_MAX_STEPS = 10_000


def _zone(timezone: str) -> ZoneInfo:
    name = (timezone or "").strip()
    try:
        if not name or name.startswith(("/", ".")) or ".." in name:
            raise ValueError(name)
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidInputError(
            f"{timezone!r} is not a time zone softquery knows. Use an IANA time zone name such as "
            "'UTC', 'Europe/Berlin', 'America/New_York' or 'Asia/Tokyo'.",
            details={"field": "schedule_timezone", "value": timezone},
        ) from exc


def _cron(expr: str) -> str:
    text = " ".join((expr or "").split())
    preset = PRESETS.get(text.lower().lstrip("@"))
    if preset is not None:
        return preset
    problem = None
    if not text:
        problem = "The schedule is empty."
    elif len(text.split()) != 5:
        problem = (f"The schedule {expr!r} has {len(text.split())} fields; "
                   "a cron expression has exactly 5.")
    elif not croniter.is_valid(text):
        problem = f"The schedule {expr!r} is not a valid cron expression."
    if problem is None:
        try:
            croniter(text, datetime(2000, 1, 1)).get_next(datetime)
        except CroniterBadDateError:
            problem = f"The schedule {expr!r} never fires (no such date)."
        except (CroniterError, ValueError, KeyError):
            problem = f"The schedule {expr!r} is not a valid cron expression."
    if problem is not None:
        raise InvalidInputError(f"{problem} {EXAMPLES}", details={"field": "schedule", "value": expr})
    return text


@dataclass(frozen=True)
class Schedule:
    """A validated schedule: ``cron`` is the 5-field expression, ``timezone`` an IANA name."""

    expression: str
    cron: str
    timezone: str

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def _wall(self, instant: datetime) -> datetime:
        """The naive local wall-clock time of an aware instant."""
        return _require_aware(instant).astimezone(self.zone).replace(tzinfo=None)

    def _instants(self, wall: datetime) -> list[datetime]:
        """The UTC instants of a naive local time: fold=0 (first occurrence, or the
        pre-gap offset for a skipped time), plus the repeat for wildcard-hour schedules."""
        first = wall.replace(tzinfo=self.zone, fold=0).astimezone(UTC)
        if self.cron.split()[1].startswith("*"):
            second = wall.replace(tzinfo=self.zone, fold=1).astimezone(UTC)
            if second != first:
                return [first, second]
        return [first]

    def _shift(self, wall: datetime) -> timedelta:
        """How far the UTC offset changes within a day of a local time (0 most days)."""
        before = wall.replace(tzinfo=self.zone) - _WINDOW
        after = wall.replace(tzinfo=self.zone) + _WINDOW
        return abs((after.utcoffset() or timedelta()) - (before.utcoffset() or timedelta()))

    def next_after(self, dt: datetime) -> datetime:
        """The first slot strictly after ``dt``."""
        dt = _require_aware(dt).astimezone(UTC)
        start = self._wall(dt)
        it = croniter(self.cron, start - self._shift(start))
        best: tuple[datetime, datetime] | None = None  # (instant, wall)
        for _ in range(_MAX_STEPS):
            wall = it.get_next(datetime)
            if best is not None and wall > best[1] + self._shift(best[1]):
                break
            for instant in self._instants(wall):
                if instant > dt and (best is None or instant < best[0]):
                    best = (instant, wall)
        if best is None:  # pragma: no cover - a valid cron always fires again
            raise InvalidInputError(f"The schedule {self.expression!r} never fires again.")
        return best[0]

    def latest_at_or_before(self, dt: datetime) -> datetime | None:
        """The last slot at or before ``dt`` (None if the schedule never fired before it)."""
        dt = _require_aware(dt).astimezone(UTC)
        start = self._wall(dt)
        # get_prev is strictly before its start: one second more keeps a slot exactly at dt
        it = croniter(self.cron, start + self._shift(start) + timedelta(seconds=1))
        best: tuple[datetime, datetime] | None = None
        try:
            for _ in range(_MAX_STEPS):
                wall = it.get_prev(datetime)
                if best is not None and wall < best[1] - self._shift(best[1]):
                    break
                for instant in self._instants(wall):
                    if instant <= dt and (best is None or instant > best[0]):
                        best = (instant, wall)
        except CroniterBadDateError:
            pass
        return None if best is None else best[0]

    def describe(self) -> str:
        text = self.expression if self.expression == self.cron else f"{self.expression} ({self.cron})"
        return f"{text} in {self.timezone}"


def _require_aware(dt: datetime) -> datetime:
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError("schedules work with timezone-aware datetimes; got a naive one")
    return dt


def parse_schedule(expr: str, timezone: str = "UTC") -> Schedule:
    """Validate a cron expression or preset and an IANA time zone."""
    cron = _cron(expr)
    zone = _zone(timezone)
    expression = " ".join(expr.split())
    if expression.lower().lstrip("@") in PRESETS:
        expression = expression.lower().lstrip("@")
    return Schedule(expression=expression, cron=cron, timezone=zone.key)
