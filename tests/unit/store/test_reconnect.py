"""``retrying``: calls again across a lost connection, within its budget, and nothing else."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError

from softquery.store.reconnect import MetadataUnavailableError, retrying


class Flaky:
    def __init__(self, failures: int, error: Exception):
        self.failures, self.error, self.calls = failures, error, 0

    def __call__(self) -> str:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error
        return "ok"


LOST = OperationalError("select 1", {}, Exception("connection to server was lost\nmore"))


def test_a_lost_connection_is_retried_with_backoff() -> None:
    waits: list[float] = []
    call = Flaky(3, LOST)
    assert retrying(call, budget=10, what="testing", sleep=waits.append) == "ok"
    assert call.calls == 4 and waits == [0.1, 0.2, 0.4]


def test_past_the_budget_the_error_names_the_lost_connection() -> None:
    with pytest.raises(MetadataUnavailableError) as caught:
        retrying(Flaky(1000, LOST), budget=0.35, what="saving the run's log", sleep=lambda _s: None)
    error = caught.value
    assert error.code == "metadata_db_unavailable"
    assert error.message.startswith("softquery lost the connection to the metadata database while saving "
                                    "the run's log and could not reconnect within 0.35 s")
    assert "connection to server was lost" in error.details["cause"]


def test_other_database_errors_are_not_retried() -> None:
    call = Flaky(1, IntegrityError("insert", {}, Exception("duplicate key")))
    with pytest.raises(IntegrityError):
        retrying(call, budget=10, what="testing", sleep=lambda _s: None)
    assert call.calls == 1
