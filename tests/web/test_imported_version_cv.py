"""Review 9: an imported version's page says its cross-validation was not measured because it was
imported, not that it was "trained before softquery recorded cross-validation"."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.linear_model import Ridge
from tests.web.conftest import FakeExecutor, client_for
from tests.web.html import element

from softquery.services import model_import
from softquery.services.context import ServiceContext


def test_the_version_page_of_an_imported_version_says_so(demo_ctx: ServiceContext, tmp_path: Path) -> None:
    import mlflow.sklearn
    from mlflow.models import infer_signature

    X = pd.DataFrame({"price": np.linspace(100.0, 900.0, 30)})
    original = Ridge().fit(X, np.linspace(1.0, 9.0, 30))
    mlflow.sklearn.save_model(original, str(tmp_path / "m"), signature=infer_signature(X, original.predict(X)))
    model_import.import_version(demo_ctx, "house_quality", tmp_path / "m")
    with client_for(demo_ctx, FakeExecutor()) as client:
        page = client.get("/models/house_quality/versions/1")
    assert page.status_code == 200
    text = element(page.text, "cv-none")
    assert "Not measured: this version was imported from MLflow" in text
    assert "trained before" not in text
