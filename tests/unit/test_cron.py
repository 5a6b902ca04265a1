"""Cron parsing, presets, time zones and daylight saving."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from softquery.cron import parse_schedule
from softquery.errors import InvalidInputError

BERLIN = ZoneInfo("Europe/Berlin")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[arg-type,misc]


@pytest.mark.parametrize(("preset", "cron"), [
    ("hourly", "0 * * * *"), ("daily", "0 0 * * *"), ("weekly", "0 0 * * 1"),
    ("Daily", "0 0 * * *"), ("@weekly", "0 0 * * 1"),
])
def test_presets(preset: str, cron: str) -> None:
    schedule = parse_schedule(preset)
    assert schedule.cron == cron
    assert schedule.expression == preset.lower().lstrip("@")
    assert schedule.timezone == "UTC"


def test_weekly_is_monday_midnight() -> None:
    nxt = parse_schedule("weekly").next_after(utc(2024, 3, 6, 12))  # a Wednesday
    assert nxt == utc(2024, 3, 11)
    assert nxt.weekday() == 0


def test_hourly_and_daily_slots() -> None:
    hourly, daily = parse_schedule("hourly"), parse_schedule("daily")
    assert hourly.next_after(utc(2024, 5, 1, 10, 0)) == utc(2024, 5, 1, 11)  # strictly after
    assert hourly.latest_at_or_before(utc(2024, 5, 1, 10, 0)) == utc(2024, 5, 1, 10)  # at counts
    assert hourly.latest_at_or_before(utc(2024, 5, 1, 10, 59, 59)) == utc(2024, 5, 1, 10)
    assert daily.next_after(utc(2024, 12, 31, 23, 59)) == utc(2025, 1, 1)
    assert daily.latest_at_or_before(utc(2025, 1, 1, 0, 0, 1)) == utc(2025, 1, 1)


def test_any_five_field_expression() -> None:
    schedule = parse_schedule("*/15 7-9 * * 1-5")
    assert schedule.next_after(utc(2024, 5, 3, 9, 50)) == utc(2024, 5, 6, 7, 0)  # Fri -> Mon
    assert schedule.latest_at_or_before(utc(2024, 5, 6, 7, 20)) == utc(2024, 5, 6, 7, 15)
    assert parse_schedule("  0   6 * * *  ").expression == "0 6 * * *"


def test_results_are_aware_utc_for_any_input_offset() -> None:
    schedule = parse_schedule("0 12 * * *", "Asia/Tokyo")  # 03:00 UTC
    nxt = schedule.next_after(datetime(2024, 5, 1, 12, 0, tzinfo=ZoneInfo("Asia/Tokyo")))
    assert nxt == utc(2024, 5, 2, 3) and nxt.tzinfo is UTC
    assert schedule.latest_at_or_before(utc(2024, 5, 2, 2, 59)) == utc(2024, 5, 1, 3)
    with pytest.raises(ValueError):
        schedule.next_after(datetime(2024, 5, 1))


@pytest.mark.parametrize("expr", [
    "", "bogus", "* * * *", "0 0 * * * *", "61 * * * *", "0 25 * * *", "0 0 31 2 *",
    "H * * * *", "every day",
])
def test_invalid_expressions_explain_with_examples(expr: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        parse_schedule(expr)
    assert "Examples" in info.value.message and "hourly" in info.value.message
    assert info.value.details["field"] == "schedule"


@pytest.mark.parametrize("zone", ["Mars/Base", "", "CEST+2", "../etc/passwd", "/etc/localtime"])
def test_invalid_timezone(zone: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        parse_schedule("daily", zone)
    assert "Europe/Berlin" in info.value.message
    assert info.value.details["field"] == "schedule_timezone"


def test_schedule_is_read_in_its_time_zone() -> None:
    schedule = parse_schedule("0 6 * * *", "Europe/Berlin")
    assert schedule.next_after(utc(2024, 1, 10)) == utc(2024, 1, 10, 5)  # winter: UTC+1
    assert schedule.next_after(utc(2024, 7, 10)) == utc(2024, 7, 10, 4)  # summer: UTC+2


def _slots(schedule_expr: str, zone: str, start: datetime, end: datetime) -> list[datetime]:
    schedule = parse_schedule(schedule_expr, zone)
    out: list[datetime] = []
    t = start
    while True:
        t = schedule.next_after(t)
        if t > end:
            return out
        out.append(t)


def test_spring_forward_skipped_time_fires_once_after_the_jump() -> None:
    # 2024-03-31 in Berlin: 02:00 CET -> 03:00 CEST; 02:30 does not exist that day.
    slots = _slots("30 2 * * *", "Europe/Berlin", utc(2024, 3, 30), utc(2024, 4, 1, 12))
    assert slots == [utc(2024, 3, 30, 1, 30), utc(2024, 3, 31, 1, 30), utc(2024, 4, 1, 0, 30)]
    assert slots[1].astimezone(BERLIN).strftime("%H:%M") == "03:30"
    schedule = parse_schedule("30 2 * * *", "Europe/Berlin")
    assert schedule.latest_at_or_before(utc(2024, 3, 31, 1, 29)) == utc(2024, 3, 30, 1, 30)
    assert schedule.latest_at_or_before(utc(2024, 3, 31, 1, 30)) == utc(2024, 3, 31, 1, 30)
    assert schedule.latest_at_or_before(utc(2024, 3, 31, 23)) == utc(2024, 3, 31, 1, 30)


def test_fall_back_repeated_time_fires_once() -> None:
    # 2024-10-27 in Berlin: 03:00 CEST -> 02:00 CET; 02:30 happens twice.
    slots = _slots("30 2 * * *", "Europe/Berlin", utc(2024, 10, 26), utc(2024, 10, 28, 12))
    assert slots == [utc(2024, 10, 26, 0, 30), utc(2024, 10, 27, 0, 30), utc(2024, 10, 28, 1, 30)]
    schedule = parse_schedule("30 2 * * *", "Europe/Berlin")
    assert schedule.latest_at_or_before(utc(2024, 10, 27, 1, 45)) == utc(2024, 10, 27, 0, 30)


def test_hourly_keeps_real_time_across_dst() -> None:
    spring = _slots("hourly", "Europe/Berlin", utc(2024, 3, 30, 22), utc(2024, 3, 31, 4))
    assert spring == [utc(2024, 3, 30, 23) + timedelta(hours=h) for h in range(6)]
    local = [t.astimezone(BERLIN).strftime("%H:%M%z") for t in spring]
    assert local == ["00:00+0100", "01:00+0100", "03:00+0200", "04:00+0200", "05:00+0200", "06:00+0200"]
    fall = _slots("hourly", "Europe/Berlin", utc(2024, 10, 26, 22), utc(2024, 10, 27, 4))
    assert fall == [utc(2024, 10, 26, 23) + timedelta(hours=h) for h in range(6)]
    local = [t.astimezone(BERLIN).strftime("%H:%M%z") for t in fall]
    assert local == ["01:00+0200", "02:00+0200", "02:00+0100", "03:00+0100", "04:00+0100", "05:00+0100"]


@pytest.mark.parametrize(("expr", "zone", "start", "end"), [
    ("30 2 * * *", "Europe/Berlin", utc(2024, 1, 1), utc(2025, 1, 1)),
    ("*/20 * * * *", "America/New_York", utc(2024, 3, 9), utc(2024, 3, 12)),
    ("*/20 * * * *", "America/New_York", utc(2024, 11, 2), utc(2024, 11, 5)),
    ("0 0 * * 0", "Australia/Lord_Howe", utc(2024, 1, 1), utc(2025, 1, 1)),  # 30-minute DST
    ("45 1 * * *", "America/Santiago", utc(2024, 1, 1), utc(2025, 1, 1)),  # DST at midnight
])
def test_next_after_and_latest_agree_across_dst(expr: str, zone: str, start: datetime,
                                                 end: datetime) -> None:
    schedule = parse_schedule(expr, zone)
    t = start
    while t < end:
        nxt = schedule.next_after(t)
        assert nxt > t
        assert schedule.latest_at_or_before(nxt) == nxt
        previous = schedule.latest_at_or_before(nxt - timedelta(microseconds=1))
        assert previous is not None and previous <= t
        t = nxt


@pytest.mark.parametrize("zone", ["America/New_York", "Europe/Berlin", "UTC"])
def test_wildcard_hour_schedules_follow_real_time(zone: str) -> None:
    # whole-hour offsets: every 20 local minutes is every 20 UTC minutes, DST or not
    schedule = parse_schedule("*/20 * * * *", zone)
    t = utc(2024, 3, 9, 20, 7)
    for _ in range(24 * 3 * 2):
        expected = t.replace(minute=(t.minute // 20) * 20, second=0, microsecond=0)
        assert schedule.latest_at_or_before(t) == expected
        assert schedule.next_after(t) == expected + timedelta(minutes=20)
        t += timedelta(minutes=13, seconds=7)
