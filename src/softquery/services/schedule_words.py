"""A model's schedule in words, for people: "Mondays 00:00 UTC, next 7 Dec".

The cron expression stays what the CLI and the API show; pages say it this way.
Schedules too irregular to say briefly are shown as their cron expression."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from croniter import croniter

from softquery.clock import utcnow
from softquery.cron import Schedule, parse_schedule
from softquery.domain import Model
from softquery.errors import SoftqueryError
from softquery.services.schedules import DEFAULT_TIMEZONE, next_fire_time

DAY_NAMES = ("Sundays", "Mondays", "Tuesdays", "Wednesdays", "Thursdays", "Fridays", "Saturdays")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
WEEKDAYS = [1, 2, 3, 4, 5]
WEEKEND = [0, 6]
MAX_LISTED = 4

Field = list[int | str]


@dataclass(frozen=True)
class ScheduleWords:
    """``when`` ("Mondays 00:00 UTC"), the next run as words ("7 Dec") and as an instant."""

    when: str
    next_text: str | None
    next_at: datetime | None

    @property
    def text(self) -> str:
        return f"{self.when}, next {self.next_text}" if self.next_text else self.when


def _listing(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _step(values: Field, size: int) -> int | None:
    """N when ``values`` are 0, N, 2N, ... over a field of ``size`` values (N > 1)."""
    ints = [v for v in values if isinstance(v, int)]
    if len(ints) != len(values) or len(ints) < 2 or ints[0] != 0:
        return None
    step = ints[1] - ints[0]
    return step if ints == list(range(0, size, step)) else None


def _days(dom: Field, month: Field, dow: Field) -> str | None:
    """The day part: "" (every day), "Mondays", "Weekdays", "the 1st of every month"; None: too irregular."""
    every_dom, every_month, every_dow = dom == ["*"], month == ["*"], dow == ["*"]
    if every_dom and every_month and every_dow:
        return ""
    if every_dom and every_month:
        days = sorted({int(d) % 7 for d in dow})
        if days == WEEKDAYS:
            return "Weekdays"
        if days == WEEKEND:
            return "Weekends"
        if len(days) <= MAX_LISTED:
            return _listing([DAY_NAMES[d] for d in days])
        return None
    if every_dow and every_month and len(dom) <= MAX_LISTED and "*" not in dom:
        return "The " + _listing([_ordinal(int(d)) for d in dom]) + " of every month"
    if every_dow and len(dom) == 1 and len(month) <= MAX_LISTED and "*" not in dom + month:
        return "Every " + _listing([f"{dom[0]} {MONTHS[int(m) - 1]}" for m in month])
    return None


def _times(minute: Field, hour: Field) -> tuple[str, bool] | None:
    """The time part and whether it is one time of day ("06:30"); None: too irregular."""
    if hour == ["*"]:
        if minute == ["*"]:
            return "every minute", False
        step = _step(minute, 60)
        if step is not None:
            return f"every {step} minutes", False
        if len(minute) <= MAX_LISTED:
            return "every hour at " + _listing([f":{int(m):02d}" for m in minute]), False
        return None
    if "*" in minute or len(minute) != 1:
        return None
    step = _step(hour, 24)
    if step is not None:
        return f"every {step} hours at :{int(minute[0]):02d}", False
    if len(hour) <= MAX_LISTED:
        return _listing([f"{int(h):02d}:{int(minute[0]):02d}" for h in hour]), len(hour) == 1
    return None


def describe(schedule: Schedule) -> str:
    """The schedule in words: "Mondays 00:00 UTC", "Every day 06:30 Europe/Berlin", "Every 15 minutes"."""
    minute, hour, dom, month, dow = croniter(schedule.cron).expanded[:5]
    days = times = None
    if not any(c in schedule.cron for c in "LW#?"):  # "last day", "2nd Monday": said as the expression
        days, times = _days(dom, month, dow), _times(minute, hour)
    if days is None or times is None:
        return f"On the cron schedule {schedule.cron} ({schedule.timezone})"
    text, at_clock = times[0], times[0][0].isdigit()
    if at_clock:  # "06:30 Europe/Berlin"
        return f"{days or 'Every day'} {text} {schedule.timezone}"
    if not days:  # "Every 15 minutes": the same in every time zone
        return text[0].upper() + text[1:]
    return f"{days}, {text} ({schedule.timezone})"


def _next_text(at: datetime, schedule: Schedule, daily: bool, now: datetime) -> str:
    zone = ZoneInfo(schedule.timezone)
    local, today = at.astimezone(zone), now.astimezone(zone)
    day = f"{local.day} {MONTHS[local.month - 1]}" + (f" {local.year}" if local.year != today.year else "")
    is_today = local.date() == today.date()
    if daily:  # the time is in the words already
        return "today" if is_today else day
    clock = f"{local.hour:02d}:{local.minute:02d}"
    return f"{clock} today" if is_today else f"{day} {clock}"


def schedule_words(model: Model, now: datetime | None = None) -> ScheduleWords | None:
    """What a page says about the schedule of ``model`` (None: it has none)."""
    if not model.schedule:
        return None
    try:
        schedule = parse_schedule(model.schedule, model.schedule_timezone or DEFAULT_TIMEZONE)
    except SoftqueryError:
        return ScheduleWords(f"On the schedule {model.schedule!r}, which is not valid any more", None, None)
    now = now or utcnow()
    when = describe(schedule)
    at = next_fire_time(model, now)
    times = _times(*croniter(schedule.cron).expanded[:2])
    daily = bool(times and times[1])
    return ScheduleWords(when, _next_text(at, schedule, daily, now) if at else None, at)
