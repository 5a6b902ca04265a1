"""An imported version's page in headless Chromium (review 9 of issue 14): its cross-validation
section says it was imported from MLflow, not "trained before softquery recorded cross-validation"."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
from playwright.sync_api import Page, expect
from sklearn.linear_model import Ridge
from tests.e2e.conftest import SOFTQUERY
from tests.e2e.kit import Server

MODEL = "house_imported_e2e"  # a copy of the demo's house_quality (its predict query selects price)


def test_the_version_page_of_an_imported_version_says_it_was_imported(page: Page, server: Server,
                                                                       tmp_path: Path) -> None:
    import mlflow.sklearn
    from mlflow.models import infer_signature

    with server.api() as client:
        client.post("/models/house_quality/duplicate", json={"new_name": MODEL}).raise_for_status()
    X = pd.DataFrame({"price": np.linspace(100.0, 900.0, 30)})
    original = Ridge().fit(X, np.linspace(1.0, 9.0, 30))
    mlflow.sklearn.save_model(original, str(tmp_path / "m"), signature=infer_signature(X, original.predict(X)))
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOFTQUERY_")}
    env["SOFTQUERY_HOME"] = str(server.home)
    done = subprocess.run([*SOFTQUERY, "import", MODEL, str(tmp_path / "m"), "--format", "mlflow"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    page.goto(f"/models/{MODEL}/versions/1")
    none = page.get_by_test_id("cv-none")
    expect(none).to_contain_text("Not measured: this version was imported from MLflow")
    expect(none).not_to_contain_text("trained before")
