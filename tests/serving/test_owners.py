"""A serving worker holds the versions of one owner only.

The attack the review found: an editor's model code replaced a library function at
import (``sklearn.pipeline.Pipeline.predict``) in the serving worker that loaded it,
so every other model that worker held answered a constant, and a chosen input
crashed the worker with the other owner's requests in it (503s). Here ``evil``
(owner ed) does both, while ``lin`` (owner bo, the linear_regression template, a
Pipeline) is asked without pause: bo's answers stay right and none fails.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests import authkit
from tests.serving.conftest import Server, lin_row, start_server, stop_server, train_now, wait_for

from softquery.config import Settings
from softquery.domain.accounts import Role
from softquery.services import models as models_svc
from softquery.services.context import ServiceContext, open_context
from softquery.services.online import OnlinePredictor

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="isolated serving workers need a server running as root")

MAGIC = 13371337.0
EVIL_CODE = f'''
import os

import numpy as np
import sklearn.pipeline
from sklearn.linear_model import LinearRegression
from sklearn.pipeline import make_pipeline

_real_predict = sklearn.pipeline.Pipeline.predict


def _predict(self, X, **params):
    if (np.asarray(X, dtype=float) == {MAGIC!r}).any():
        os._exit(3)  # the chosen input kills the worker, with whatever else it was answering
    return _real_predict(self, X, **params) * 0.0 + 42.0


sklearn.pipeline.Pipeline.predict = _predict  # at import: every Pipeline in this process answers 42


class Model:
    task = "regression"

    def __init__(self):
        self.pipeline = make_pipeline(LinearRegression())

    def train(self, X, y):
        self.pipeline.fit(X.fillna(0), y)

    def predict(self, X):
        return self.pipeline.predict(X.fillna(0))
'''
LIN, EVIL = "/api/v1/models/lin/predict", "/api/v1/models/evil/predict"


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12)  # another batch shape may sum in another order


def _owned(home: Path, with_evil: bool) -> dict[str, int]:
    """lin → bo, evil (trained) → ed; pj, iris_species and cancer_diagnosis stay the admins'."""
    ctx = open_context(Settings(home=home))
    try:
        users = {name: authkit.user(ctx, name, Role.EDITOR).id for name in ("bo", "ed")}
        models_svc.set_owner(ctx, "lin", "bo")
        if with_evil:
            fs = ", ".join(f"f{i}" for i in range(10))
            models_svc.create_model(ctx, "evil", models_svc.ModelSpec(
                source="pts", code=EVIL_CODE, train_sql=f"select id, {fs}, y from points",
                predict_sql=f"select id, {fs} from points"))
            models_svc.set_owner(ctx, "evil", "ed")
            train_now(ctx, "evil")
        return users
    finally:
        ctx.close()


@pytest.fixture
def attacked(home: Path) -> Iterator[Server]:
    _owned(home, with_evil=True)
    srv = start_server(home, {"SOFTQUERY_SERVING_WORKERS": "2"})
    try:
        yield srv
    finally:
        stop_server(srv)


class LinLoad:
    """Threads asking ``lin`` for rows 0..3 in turn; every answer is recorded."""

    def __init__(self, server: Server, threads: int = 2):
        self.server = server
        self.results: list[tuple[int, int, Any]] = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, args=(i,), daemon=True) for i in range(threads)]

    def __enter__(self) -> LinLoad:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_: Any) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(30)

    def _run(self, index: int) -> None:
        with self.server.client() as client:
            n = index
            while not self._stop.is_set():
                row = n % 4
                try:
                    response = client.post(LIN, json={"rows": [lin_row(row)]})
                    self.results.append((row, response.status_code, response.json()))
                except httpx.HTTPError as exc:
                    self.results.append((row, -1, repr(exc)))
                n += 1


def _one_owner_each(workers: list[dict[str, Any]]) -> None:
    for worker in workers:
        owners = {v.get("owner") for v in worker.get("loaded", [])}
        assert owners <= {worker.get("owner")}, worker


def test_an_owners_import_time_patch_and_crash_never_reach_another_owners_model(attacked: Server) -> None:
    with attacked.client() as client:
        expected = [client.post(LIN, json={"rows": [lin_row(i)]}).json()["predictions"][0] for i in range(4)]
        evil = client.post(EVIL, json={"rows": [lin_row(9)]})
        assert evil.status_code == 200 and evil.json()["predictions"] == [42.0]  # the patch works where it runs
        crashes = 0
        with LinLoad(attacked) as load:
            for _ in range(4):
                before = len(load.results)
                wait_for(lambda b=before: len(load.results) >= b + 5, 30, "lin answers between two attacks")
                attack = client.post(EVIL, json={"rows": [{**lin_row(9), "f3": MAGIC}]})
                assert attack.status_code == 503, attack.text  # its own worker died
                crashes += attack.json()["error"]["code"] == "serving_worker_failed"
                assert client.post(EVIL, json={"rows": [lin_row(9)]}).json()["predictions"] == [42.0]  # reloaded
                _one_owner_each(client.get("/api/v1/serving/workers").json()["workers"])
            before = len(load.results)
            wait_for(lambda: len(load.results) >= before + 5, 30, "lin answers after the attacks")
    assert crashes == 4
    assert len(load.results) >= 25
    failed = [r for r in load.results if r[1] != 200]
    assert failed == [], failed[:5]
    wrong = [(row, body["predictions"][0]) for row, _status, body in load.results
             if not close(body["predictions"][0], expected[row])]
    assert wrong == [], wrong[:5]


@pytest.fixture
def owned_ctx(home: Path) -> Iterator[tuple[ServiceContext, dict[str, int]]]:
    users = _owned(home, with_evil=False)
    context = open_context(Settings(home=home, serving_workers=1))
    try:
        yield context, users
    finally:
        context.close()


def test_one_worker_holds_one_owner_and_hands_its_slot_over_as_a_new_process(
        owned_ctx: tuple[ServiceContext, dict[str, int]]) -> None:
    ctx, users = owned_ctx
    bo = f"user:{users['bo']}"
    lin = json.dumps({"rows": [lin_row(1)]}).encode()
    pj = json.dumps({"rows": [{"features": [0.05, 8, 0.99, 40, 6, 120, 0.3, 0.5, 0.3, 3, 12]}]}).encode()

    async def scenario() -> tuple[list[list[dict[str, Any]]], list[Any], list[Any], int]:
        online = OnlinePredictor(ctx)
        try:
            seen: list[list[dict[str, Any]]] = []
            answers: list[Any] = []
            for model, body in [("lin", lin), ("pj", pj), ("lin", lin), ("lin", lin), ("pj", pj)]:
                answers.append((await online.predict(model, body)).predictions)
                seen.append(online.pool.status())
            # both owners at once, more requests than one worker holds: all are answered, in turns
            together = await asyncio.gather(*[online.predict(m, b) for m, b in [("lin", lin), ("pj", pj)] * 8])
            seen.append(online.pool.status())
            return seen, answers, [a.predictions for a in together], online.pool.retired
        finally:
            await online.aclose()

    seen, answers, together, retired = asyncio.run(scenario())
    for workers in seen:
        assert len(workers) == 1
        _one_owner_each(workers)
    owners = [w[0]["owner"] for w in seen[:5]]
    pids = [w[0]["pid"] for w in seen[:5]]
    assert owners == [bo, "admins", bo, bo, "admins"]
    assert pids[2] == pids[3] and len({pids[0], pids[1], pids[2], pids[4]}) == 4  # a new process each hand-over
    assert close(answers[0][0], answers[2][0]) and close(answers[1][0], answers[4][0])
    assert all(close(p[0], answers[0][0] if i % 2 == 0 else answers[1][0]) for i, p in enumerate(together))
    assert retired >= 4
