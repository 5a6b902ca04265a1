"""`softquery demo` creates a source whose example models all train and predict."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.integration.cli.cli_harness import SoftqueryCLI

from softquery.demo.demo_models import DEMO_MODELS


def test_every_demo_model_trains_and_predicts(sq: SoftqueryCLI, home: Path) -> None:
    sq("demo")
    again = sq("demo", ok=False)
    assert again.code == 5 and "already exists" in again.err
    sq("demo", "--if-needed")
    models = {m["name"] for m in sq("model", "list", "--json").json()}
    assert models == {str(spec["name"]) for spec in DEMO_MODELS}
    for name in sorted(models):
        trained = sq("train", name, "--json", ok=False).json()
        assert trained["status"] == "succeeded", (name, trained["error"])
        predicted = sq("predict", name, "--json", ok=False).json()
        assert predicted["status"] == "succeeded", (name, predicted["error"])
        assert predicted["result"]["predict"]["rows"] > 0
    with sqlite3.connect(home / "demo.db") as conn:
        nulls = conn.execute("select count(*) from houses where quality is null").fetchone()[0]
        assert conn.execute("select count(*) from house_quality_prediction").fetchone()[0] == nulls
        probs = conn.execute("select probability_yes from cocacola_fans_prediction").fetchall()  # of "yes"
    conn.close()
    assert probs and all(0.0 <= p[0] <= 1.0 for p in probs)
