"""The build step setuptools runs for every sdist, wheel and editable install (pyproject.toml
holds everything else): the web pages' browser libraries.

The pages load htmx, CodeMirror, Chart.js and Swagger UI from src/softquery/web/static/vendor/,
which scripts/build-assets.sh copies from the npm registry (pinned in web/frontend/package-lock.json);
git does not track them. So that `pip install` of a wheel or an sdist needs no npm, building
one runs that script first whenever vendor/ lacks a file the script promises (or was built from
another package-lock.json), and stops the build with the reason when it cannot (no npm).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.command.sdist import sdist

ROOT = Path(__file__).resolve().parent
SCRIPT = "scripts/build-assets.sh"
VENDOR = "src/softquery/web/static/vendor"
LOCK = "src/softquery/web/frontend/package-lock.json"
# a `"node_modules/source  vendor/destination"` pair in the script's FILES=( … ) list
PAIR = re.compile(r'^\s*"(\S+)\s+(\S+)"\s*$', re.MULTILINE)


class AssetBuildError(RuntimeError):
    """The browser libraries are missing and cannot be built here."""


def promised_files(root: Path) -> list[str]:
    """Every file the asset script puts into vendor/ (paths relative to it)."""
    text = (root / SCRIPT).read_text(encoding="utf-8")
    listing = text.split("FILES=(", 1)[1].split("\n)", 1)[0]
    return [dst for _src, dst in PAIR.findall(listing)] + ["versions.json"]


def lock_versions(root: Path) -> dict[str, str] | None:
    """The top-level npm packages' versions in package-lock.json (None without the lock file)."""
    lock = root / LOCK
    if not lock.is_file():
        return None
    packages = json.loads(lock.read_text(encoding="utf-8")).get("packages", {})
    return {path[len("node_modules/"):]: info["version"] for path, info in packages.items()
            if path.startswith("node_modules/") and "node_modules/" not in path[len("node_modules/"):]}


def why_stale(root: Path) -> str | None:
    """Why vendor/ must be (re)built, or None when it holds what the script and the lock promise."""
    vendor = root / VENDOR
    if not (root / SCRIPT).is_file():  # an sdist without the script: it must carry vendor/ instead
        return None if (vendor / "versions.json").is_file() else f"{VENDOR} is missing"
    missing = [name for name in promised_files(root) if not (vendor / name).is_file()]
    if missing:
        return f"{VENDOR} lacks {', '.join(missing[:3])}{' …' if len(missing) > 3 else ''}"
    wanted = lock_versions(root)
    built = json.loads((vendor / "versions.json").read_text(encoding="utf-8"))
    if wanted is not None and built != wanted:
        return f"{VENDOR} was built from another {LOCK}"
    return None


def ensure_assets(root: Path = ROOT, which: Callable[[str], str | None] = shutil.which) -> None:
    """Build vendor/ with the asset script when it is missing or stale; fail loudly if that cannot be done."""
    reason = why_stale(root)
    if reason is None:
        return
    if not (root / SCRIPT).is_file():
        raise AssetBuildError(f"softquery's browser libraries are missing ({reason}) and {SCRIPT} is not "
                              "here to build them: build the package from a source checkout.")
    if which("npm") is None:
        raise AssetBuildError(
            f"softquery's browser libraries must be built into the package ({reason}), which needs "
            f"npm (node 20+): install it and build again, or run `bash {SCRIPT}` on a machine with npm "
            "first. Without them the web pages would load no htmx, CodeMirror or Chart.js.")
    print(f"softquery: {reason}; building the browser libraries with `bash {SCRIPT}`", flush=True)
    done = subprocess.run(["bash", str(root / SCRIPT)], cwd=root, check=False)
    if done.returncode != 0:
        raise AssetBuildError(f"`bash {SCRIPT}` failed (exit {done.returncode}); see its messages above.")
    still = why_stale(root)
    if still is not None:
        raise AssetBuildError(f"`bash {SCRIPT}` ran, but {still}.")


class BuildPyWithAssets(build_py):
    """build_py (wheels and editable installs) that first builds the browser libraries."""

    def run(self) -> None:
        ensure_assets()
        super().run()


class SdistWithAssets(sdist):
    """sdist that first builds the browser libraries, so the sdist carries them (no npm to install it)."""

    def run(self) -> None:
        ensure_assets()
        super().run()


if __name__ == "__main__":
    setup(cmdclass={"build_py": BuildPyWithAssets, "sdist": SdistWithAssets})
