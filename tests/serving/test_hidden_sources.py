"""A file data source added while serving workers run is hidden from them too.

Serving workers learn what to hide when they start. ``peek`` reads a SQLite file
that is not a source yet (the control: its worker reads every byte); then an admin
adds the file as a data source. A worker that started before must not read it any
more: it is retired before it is handed another version, and within
``SOFTQUERY_SERVING_REFRESH_SECONDS`` when it only answers versions it already holds.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sqlite3
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.serving.conftest import lin_row, train_now

from softquery.config import Settings
from softquery.services import models as models_svc
from softquery.services.context import ServiceContext, open_context
from softquery.services.online import OnlinePredictor
from softquery.services.sources import add_source

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="isolated serving workers need a server running as root")

PEEK_CODE = '''
PATH = {path!r}


def _peek():
    try:
        with open(PATH, "rb") as f:
            return float(len(f.read()))
    except OSError:
        return -1.0


class Model:
    task = "regression"

    def train(self, X, y):
        self.seen = _peek()

    def predict(self, X):
        return [_peek()] * len(X)
'''
LIN = json.dumps({"rows": [lin_row(1)]}).encode()
PEEK = json.dumps({"rows": [{"f0": 1.0}]}).encode()


@pytest.fixture
def data_file() -> Iterator[Path]:
    """A SQLite file any user may read, outside the folders a job gets privately (/tmp, /run...)."""
    folder = Path("/srv") / f"softquery-test-{uuid.uuid4().hex[:12]}"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    path = folder / "late.db"
    with sqlite3.connect(path) as conn:
        conn.execute("create table t (id integer)")
    conn.close()
    path.chmod(0o644)
    try:
        yield path
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _peek_ctx(home: Path, data_file: Path, refresh: float) -> ServiceContext:
    ctx = open_context(Settings(home=home))
    try:
        models_svc.create_model(ctx, "peek", models_svc.ModelSpec(
            source="pts", code=PEEK_CODE.format(path=str(data_file)), train_sql="select f0, y from points",
            predict_sql="select f0 from points"))
        train_now(ctx, "peek")
    finally:
        ctx.close()
    return open_context(Settings(home=home, serving_workers=1, serving_refresh_seconds=refresh))


async def _peek(online: OnlinePredictor) -> float:
    return float((await online.predict("peek", PEEK)).predictions[0])


def _pid(online: OnlinePredictor) -> int:
    (worker,) = online.pool.status()
    return int(worker["pid"])


def test_a_worker_that_started_before_a_source_was_added_gets_no_new_version(home: Path, data_file: Path) -> None:
    ctx = _peek_ctx(home, data_file, refresh=3600.0)  # only the check before a load can notice

    async def scenario() -> None:
        online = OnlinePredictor(ctx)
        try:
            assert await _peek(online) == data_file.stat().st_size > 0  # the control: not a source yet
            started = _pid(online)
            await asyncio.to_thread(add_source, ctx, "late", f"sqlite:///{data_file}")
            await online.predict("lin", LIN)  # a version the old worker does not hold
            assert await _peek(online) == 0.0  # the file reads as empty (/dev/null) in the new worker
            assert _pid(online) != started
        finally:
            await online.aclose()

    try:
        asyncio.run(scenario())
    finally:
        ctx.close()


def test_a_running_worker_loses_a_source_added_later_within_the_refresh_interval(
        home: Path, data_file: Path) -> None:
    ctx = _peek_ctx(home, data_file, refresh=0.2)

    async def scenario() -> float:
        online = OnlinePredictor(ctx)
        try:
            assert await _peek(online) > 0  # the control
            await asyncio.to_thread(add_source, ctx, "late", f"sqlite:///{data_file}")
            added = time.monotonic()
            while await _peek(online) != 0.0:  # the same version, already loaded
                # 0.2 s to notice, then a worker start and a load: generous for a loaded machine
                assert time.monotonic() - added < 15, "the new source's file is still readable"
                await asyncio.sleep(0.02)
            return time.monotonic() - added
        finally:
            await online.aclose()

    try:
        asyncio.run(scenario())
    finally:
        ctx.close()
