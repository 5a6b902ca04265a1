"""A schedule in words, as the pages show it ("Mondays 00:00 UTC, next 7 Dec")."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from softquery.domain import Model
from softquery.services.schedule_words import schedule_words

NOW = datetime(2026, 12, 5, 8, 33, tzinfo=UTC)  # a Saturday


def _model(schedule: str | None, timezone: str = "UTC") -> Model:
    return Model(name="m", source="demo", code="", train_sql="", predict_sql="", schedule=schedule,
                 schedule_timezone=timezone)


@pytest.mark.parametrize(("schedule", "timezone", "words"), [
    ("weekly", "UTC", "Mondays 00:00 UTC, next 7 Dec"),
    ("daily", "UTC", "Every day 00:00 UTC, next 6 Dec"),
    ("0 20 * * *", "UTC", "Every day 20:00 UTC, next today"),
    ("hourly", "UTC", "Every hour at :00, next 09:00 today"),
    ("*/15 * * * *", "UTC", "Every 15 minutes, next 08:45 today"),
    ("30 6 * * 1-5", "Europe/Berlin", "Weekdays 06:30 Europe/Berlin, next 7 Dec"),
    ("0 8 * * 2,4", "America/New_York", "Tuesdays and Thursdays 08:00 America/New_York, next 8 Dec"),
    ("0 0 * * 0,6", "UTC", "Weekends 00:00 UTC, next 6 Dec"),
    ("0 7 1 * *", "UTC", "The 1st of every month 07:00 UTC, next 1 Jan 2027"),
    ("15 8,20 * * *", "UTC", "Every day 08:15 and 20:15 UTC, next 20:15 today"),
    ("*/15 * * * 1", "UTC", "Mondays, every 15 minutes (UTC), next 7 Dec 00:00"),
    ("0 0 L * *", "UTC", "On the cron schedule 0 0 L * * (UTC), next 31 Dec"),
    ("5 4 1-20 * *", "UTC", "On the cron schedule 5 4 1-20 * * (UTC), next 6 Dec"),
])
def test_schedules_in_words(schedule: str, timezone: str, words: str) -> None:
    said = schedule_words(_model(schedule, timezone), NOW)
    assert said is not None and said.text == words


def test_no_schedule_no_words() -> None:
    assert schedule_words(_model(None), NOW) is None


def test_the_next_run_is_the_scheduler_s() -> None:
    said = schedule_words(_model("30 6 * * 1-5", "Europe/Berlin"), NOW)
    assert said is not None and said.next_at == datetime(2026, 12, 7, 5, 30, tzinfo=UTC)
