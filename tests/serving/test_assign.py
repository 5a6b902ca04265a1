"""Which worker answers, and which gives its slot to another owner (the policy alone)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from softquery.serving.assign import HOLD_SECONDS, LOAD_PENALTY, choose, victim
from softquery.serving.handle import VersionKey

A, B = VersionKey("a", 1, "sig-a", "user:1"), VersionKey("b", 1, "sig-b", "user:2")


def worker(slot: int, owner: str | None, *, loaded: tuple[VersionKey, ...] = (), in_flight: int = 0,
           users: int = 0, last_used: float = 0.0, usable: bool = True, claimed: float = 0.0) -> Any:
    return SimpleNamespace(slot=slot, owner=owner, loaded=dict.fromkeys(loaded), in_flight=in_flight,
                           users=users, last_used=last_used, usable=usable, claimed=claimed)


def test_a_request_never_goes_to_another_owners_worker() -> None:
    assert choose([worker(0, "user:2", loaded=(A,))], A, spread=1) is None
    blank = worker(1, None)
    assert choose([worker(0, "user:2"), blank], A, spread=1) is blank


def test_its_owners_worker_first_a_blank_one_when_that_is_busier_than_a_load() -> None:
    own, blank = worker(0, "user:1", loaded=(A,), in_flight=LOAD_PENALTY), worker(1, None)
    assert choose([own, blank], A, spread=2) is own
    own.in_flight = LOAD_PENALTY + 1
    assert choose([own, blank], A, spread=2) is blank
    assert choose([own, blank], A, spread=1) is own  # no more workers for one owner than spread
    assert choose([worker(0, "user:1", usable=False), blank], A, spread=1) is blank  # retiring: no new request


def test_an_idle_worker_goes_first_then_one_of_the_owner_holding_most_then_the_least_recently_used() -> None:
    now = 100.0
    busy_old, idle_new = worker(0, "user:2", users=1, last_used=1), worker(1, "user:3", last_used=9)
    assert victim([busy_old, idle_new], waiting={"user:1"}, now=now) is idle_new
    lone, pair_old, pair_new = (worker(0, "user:2", users=1, last_used=1), worker(1, "user:3", users=1, last_used=5),
                                worker(2, "user:3", users=1, last_used=6))
    assert victim([lone, pair_old, pair_new], waiting={"user:1"}, now=now) is pair_old
    assert victim([worker(0, None), worker(1, "user:1", usable=False)], waiting={"user:1"}, now=now) is None
    assert victim([worker(0, "user:1")], waiting={"user:1"}, now=now) is None  # never an owner that waits itself


def test_a_busy_worker_keeps_its_new_owner_for_a_while() -> None:
    now = 100.0
    fresh = worker(0, "user:2", users=3, claimed=now - HOLD_SECONDS / 2)
    assert victim([fresh], waiting={"user:1"}, now=now) is None
    assert victim([fresh], waiting={"user:1"}, now=now + HOLD_SECONDS) is fresh
    fresh.users = 0
    assert victim([fresh], waiting={"user:1"}, now=now) is fresh  # idle: it may go at once
