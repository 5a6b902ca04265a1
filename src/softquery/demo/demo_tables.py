"""The demo SQLite database: small sample tables an analyst can train models on.

``write_demo_database(path)`` builds a new SQLite file with:

- ``houses``: the seed's example; ``quality`` is NULL for the rows to predict.
- ``iris``, ``wine``, ``breast_cancer``, ``diabetes``: scikit-learn's bundled
  datasets (no internet), with a ``split`` column: ``'train'`` or ``'new'``.
- ``users``: the seed's use case; ``embedding`` is a JSON array of 8 floats,
  ``cocacola_label`` is ``'yes'``/``'no'``, or ``''`` when unknown.
- ``sms``: generated short messages labelled spam / personal / notification,
  or ``''`` when unknown.

Everything is generated from fixed seeds, so two builds hold the same rows.
``DEMO_MODELS`` (one example model per table) lives in ``demo_models``.
"""

from __future__ import annotations

import contextlib
import json
import os
import pathlib
import random
import re
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris, load_wine

from softquery.demo.demo_models import DEMO_MODELS
from softquery.identifiers import check_identifier

__all__ = ["DEMO_MODELS", "DEMO_TABLES", "write_demo_database"]

DEMO_TABLES = ("houses", "iris", "wine", "breast_cancer", "diabetes", "users", "sms")

Row = Sequence[object]
Column = tuple[str, str]  # (name, SQL type)

_NEW_FRACTION = 0.10


def write_demo_database(path: pathlib.Path) -> dict[str, int]:
    """Create a new SQLite file at ``path`` holding the demo tables.

    Returns ``{table: row_count}``. Refuses with ``FileExistsError`` if
    ``path`` exists: it never overwrites or adds to someone's database.
    """
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # O_EXCL claims the path atomically; SQLite treats an empty file as a new database. Mode
    # 0600 whatever the umask: the file sits in the private home (its journals get the same).
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    counts: dict[str, int] = {}
    try:
        with contextlib.closing(sqlite3.connect(path)) as conn:
            with conn:
                for table, build in _BUILDERS:
                    columns, rows = build()
                    counts[table] = _write_table(conn, table, columns, rows)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return counts


def _write_table(
    conn: sqlite3.Connection, table: str, columns: Sequence[Column], rows: Iterable[Row]
) -> int:
    names = [check_identifier(name, "column name") for name, _ in columns]
    check_identifier(table, "table name")
    ddl = ", ".join(
        f'"{name}" {sql_type}' + (" primary key" if name == "id" else "")
        for name, sql_type in columns
    )
    conn.execute(f'create table "{table}" ({ddl})')
    quoted = ", ".join(f'"{name}"' for name in names)
    marks = ", ".join("?" for _ in names)
    # Table and column names are the module's own constants, checked above.
    cursor = conn.executemany(
        f'insert into "{table}" ({quoted}) values ({marks})',  # noqa: S608
        rows,
    )
    return cursor.rowcount


def _houses() -> tuple[list[Column], list[Row]]:
    rng = np.random.default_rng(20240101)
    n = 200
    price = np.round(rng.uniform(80_000, 950_000, n), -3)
    quality = np.clip(1.5 + 7.5 * (price - 80_000) / 870_000 + rng.normal(0, 0.5, n), 1.0, 10.0)
    unknown = set(rng.choice(n, size=20, replace=False).tolist())
    rows: list[Row] = [
        (i + 1, float(price[i]), None if i in unknown else round(float(quality[i]), 1))
        for i in range(n)
    ]
    return [("id", "INTEGER"), ("price", "REAL"), ("quality", "REAL")], rows


def _snake_case(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def _sklearn_table(
    frame: Any, target: str, target_type: str, to_target: Callable[[Any], object], seed: int
) -> tuple[list[Column], list[Row]]:
    features = [c for c in frame.columns if c != "target"]
    n = len(frame)
    rng = np.random.default_rng(seed)
    new_rows = set(rng.choice(n, size=round(n * _NEW_FRACTION), replace=False).tolist())
    columns: list[Column] = [("id", "INTEGER")]
    columns += [(_snake_case(c), "REAL") for c in features]
    columns += [(target, target_type), ("split", "TEXT")]
    values = frame[features].to_numpy(dtype=float).tolist()
    targets = frame["target"].tolist()
    rows: list[Row] = [
        (i + 1, *values[i], to_target(targets[i]), "new" if i in new_rows else "train")
        for i in range(n)
    ]
    return columns, rows


def _classes(bunch: Any, target: str, seed: int) -> tuple[list[Column], list[Row]]:
    names = [str(name) for name in bunch.target_names]
    return _sklearn_table(bunch.frame, target, "TEXT", lambda t: names[int(t)], seed)


def _iris() -> tuple[list[Column], list[Row]]:
    return _classes(load_iris(as_frame=True), "species", 11)


def _wine() -> tuple[list[Column], list[Row]]:
    return _classes(load_wine(as_frame=True), "cultivar", 12)


def _breast_cancer() -> tuple[list[Column], list[Row]]:
    return _classes(load_breast_cancer(as_frame=True), "diagnosis", 13)


def _diabetes() -> tuple[list[Column], list[Row]]:
    # Unscaled: age in years, sex 1/2, bmi, blood pressure and six blood serum measures.
    frame = load_diabetes(as_frame=True, scaled=False).frame
    return _sklearn_table(frame, "progression", "REAL", float, 14)


def _users() -> tuple[list[Column], list[Row]]:
    rng = np.random.default_rng(7)
    n, dim = 500, 8
    embedding = np.round(rng.normal(0.0, 1.0, (n, dim)), 3)
    weights = np.array([1.2, -0.8, 0.5, 0.0, 1.5, -0.3, 0.9, -1.1])
    score = embedding @ weights + 0.3 + rng.normal(0.0, 0.6, n)
    unknown = set(rng.choice(n, size=round(n * 0.15), replace=False).tolist())
    rows: list[Row] = []
    for i in range(n):
        label = "" if i in unknown else ("yes" if score[i] > 0 else "no")
        rows.append((i + 1, json.dumps([float(x) for x in embedding[i]]), label))
    return [("id", "INTEGER"), ("embedding", "TEXT"), ("cocacola_label", "TEXT")], rows


_SMS_WORDS: dict[str, list[str]] = {
    "name": ["Sam", "Alex", "mum", "Dana", "Chris", "Priya", "Tom", "Lea"],
    "when": ["tonight", "tomorrow", "on Friday", "at 7", "this weekend", "later today"],
    "prize": ["iPhone", "cash prize of $1000", "holiday to Ibiza", "$500 gift card", "free cruise"],
    "place": ["station", "cafe", "cinema", "gym", "office", "pub"],
    "meal": ["dinner", "lunch", "coffee", "brunch", "drinks"],
    "item": ["milk", "bread", "the kids", "my jacket", "some eggs"],
    "bank": ["MyBank", "CityBank", "NorthCredit", "PayFast"],
    "courier": ["DHL", "UPS", "your courier", "PostNL"],
}
_SMS_TEMPLATES: dict[str, list[str]] = {
    "spam": [
        "Congratulations! You have WON a {prize}. Click {url} to claim now",
        "FREE {prize} for you! Call now on {phone} before midnight",
        "URGENT: your {prize} is waiting. Text WIN to {short} to claim",
        "You are selected for a {prize}! Reply YES, limited offer, click {url}",
        "Claim your {prize} today, no cost! Visit {url} or call {phone}",
        "WINNER!! Exclusive deal: {prize} free, call now {phone}, offer ends {when}",
    ],
    "personal": [
        "Hey {name}, are we still on for {meal} {when}?",
        "Running {minutes} min late, see you at the {place}",
        "Can you pick up {item} on your way home?",
        "Happy birthday {name}! Hope you have a lovely day x",
        "Thanks for {meal} {name}, it was great to see you",
        "Shall we meet at the {place} {when}? Let me know",
        "Miss you {name}, call me {when} if you can",
    ],
    "notification": [
        "Your verification code is {code}. Do not share it with anyone.",
        "{courier}: your parcel {tracking} will be delivered {when}.",
        "{bank}: a payment of ${amount} was made with card ending {last4}.",
        "{bank} alert: your balance is below ${amount}. Log in to your account.",
        "Your appointment at the {place} is confirmed for {when}. Reply C to cancel.",
        "Use OTP {code} to sign in. It expires in {minutes} minutes.",
    ],
}


def _sms() -> tuple[list[Column], list[Row]]:
    rng = random.Random(4242)
    kinds = list(_SMS_TEMPLATES)
    rows: list[Row] = []
    for i in range(400):
        kind = rng.choice(kinds)
        slots = {key: rng.choice(words) for key, words in _SMS_WORDS.items()}
        slots |= {
            "url": f"http://{rng.choice(['win', 'prize', 'bonus'])}{rng.randint(10, 99)}.example",
            "phone": f"0{rng.randint(800, 909)} {rng.randint(100000, 999999)}",
            "short": str(rng.randint(80000, 89999)),
            "minutes": str(rng.choice([5, 10, 15, 20])),
            "code": f"{rng.randint(0, 999999):06d}",
            "tracking": f"JD{rng.randint(10**9, 10**10 - 1)}",
            "amount": f"{rng.randint(5, 900)}.{rng.randint(0, 99):02d}",
            "last4": f"{rng.randint(0, 9999):04d}",
        }
        message = rng.choice(_SMS_TEMPLATES[kind]).format(**slots)
        label = "" if rng.random() < 0.10 else kind
        rows.append((i + 1, message, label))
    return [("id", "INTEGER"), ("message", "TEXT"), ("label", "TEXT")], rows


_BUILDERS: list[tuple[str, Callable[[], tuple[list[Column], list[Row]]]]] = [
    ("houses", _houses),
    ("iris", _iris),
    ("wine", _wine),
    ("breast_cancer", _breast_cancer),
    ("diabetes", _diabetes),
    ("users", _users),
    ("sms", _sms),
]
