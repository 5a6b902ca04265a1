"""setup.py's build step: it builds the browser libraries when they are missing or stale, keeps
them when they are current, and stops a build without npm with a reason a person can act on;
and `softquery serve`'s check names the files an installation lacks."""

from __future__ import annotations

import json
import runpy
import shutil
from pathlib import Path
from typing import Any

import pytest

from softquery.server import missing_browser_files
from softquery.web.browser_assets import missing_vendor_files, referenced_vendor_files

ROOT = Path(__file__).resolve().parents[2]
SETUP: dict[str, Any] = runpy.run_path(str(ROOT / "setup.py"), run_name="setup_under_test")  # no setup() call


def checkout(tmp_path: Path, *, vendor: bool) -> Path:
    """What setup.py reads from a source checkout: the asset script, the npm lock, maybe vendor/."""
    root = tmp_path / "checkout"
    for name in (SETUP["SCRIPT"], SETUP["LOCK"]):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, root / name)
    if vendor:  # as scripts/build-assets.sh leaves it (empty files will do)
        for name in SETUP["promised_files"](root):
            (root / SETUP["VENDOR"] / name).parent.mkdir(parents=True, exist_ok=True)
            (root / SETUP["VENDOR"] / name).write_text("x")
        versions = SETUP["lock_versions"](root)
        (root / SETUP["VENDOR"] / "versions.json").write_text(json.dumps(versions))
    return root


def no_npm(name: str) -> str | None:
    return None


def test_the_script_promises_the_libraries_the_pages_load(tmp_path: Path) -> None:
    promised = {f"/static/vendor/{name}" for name in SETUP["promised_files"](ROOT)}
    assert set(referenced_vendor_files()) <= promised
    assert {"/static/vendor/htmx/htmx.min.js", "/static/vendor/swagger-ui/swagger-ui-bundle.js",
            "/static/vendor/versions.json"} <= promised


def test_a_build_without_vendor_and_without_npm_stops_and_says_why(tmp_path: Path) -> None:
    root = checkout(tmp_path, vendor=False)
    with pytest.raises(SETUP["AssetBuildError"]) as refused:
        SETUP["ensure_assets"](root, which=no_npm)
    message = str(refused.value)
    assert "needs npm" in message and "bash scripts/build-assets.sh" in message
    assert "src/softquery/web/static/vendor lacks htmx/htmx.min.js" in message


def test_current_vendor_files_are_kept_and_npm_is_not_needed(tmp_path: Path) -> None:
    root = checkout(tmp_path, vendor=True)
    assert SETUP["why_stale"](root) is None
    SETUP["ensure_assets"](root, which=no_npm)  # nothing to build: no npm asked for


def test_vendor_files_built_from_another_lock_are_rebuilt(tmp_path: Path) -> None:
    root = checkout(tmp_path, vendor=True)
    (root / SETUP["VENDOR"] / "versions.json").write_text(json.dumps({"htmx.org": "1.0.0"}))
    assert "built from another" in SETUP["why_stale"](root)
    with pytest.raises(SETUP["AssetBuildError"], match="needs npm"):
        SETUP["ensure_assets"](root, which=no_npm)


def test_an_sdist_without_the_script_needs_its_vendor_files(tmp_path: Path) -> None:
    root = checkout(tmp_path, vendor=True)
    (root / SETUP["SCRIPT"]).unlink()
    SETUP["ensure_assets"](root, which=no_npm)
    shutil.rmtree(root / SETUP["VENDOR"])
    with pytest.raises(SETUP["AssetBuildError"], match="build the package from a source checkout"):
        SETUP["ensure_assets"](root, which=no_npm)


def test_missing_browser_files_are_named(tmp_path: Path) -> None:
    static = tmp_path / "static"
    (static / "vendor" / "htmx").mkdir(parents=True)
    (static / "vendor" / "htmx" / "htmx.min.js").write_text("x")
    missing = missing_vendor_files(also=["/static/vendor/swagger-ui/swagger-ui.css"], static_dir=static)
    assert "/static/vendor/htmx/htmx.min.js" not in missing
    assert {"/static/vendor/codemirror/lib/codemirror.js", "/static/vendor/chartjs/chart.umd.js",
            "/static/vendor/swagger-ui/swagger-ui.css"} <= set(missing)
    assert missing_browser_files() == []  # this checkout has them (`make install` built them)
