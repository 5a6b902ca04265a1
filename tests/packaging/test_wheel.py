"""The wheel works without npm: a wheel built by `python -m build` (the sdist first, then the
wheel from the sdist, as pip does), installed into a fresh virtualenv, serves every browser
file the pages and /docs load; `softquery serve` says loudly when one is missing.

Offline and quick: the build uses this environment's setuptools (``--no-isolation``); the fresh
venv gets the wheel alone (``pip install --no-index --no-deps``) and finds its dependencies in
this environment's site-packages through a ``.pth`` file; softquery itself comes from the wheel
(checked), started from a folder outside the source tree with its own SOFTQUERY_HOME.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "softquery"
# What a build reads, as a fresh checkout has it: without the built browser libraries (static/vendor,
# untracked), which the build must make itself (setup.py runs scripts/build-assets.sh: npm, which
# `make install` ran before on this machine, so its cache holds the pinned packages).
BUILD_INPUTS = ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "scripts/build-assets.sh")
SKIP = shutil.ignore_patterns("node_modules", "__pycache__", "*.egg-info", "vendor", ".vendor.*")
VENDOR_URL = re.compile(r"/static/vendor/[A-Za-z0-9_./-]+[A-Za-z0-9_]")
LIBRARIES = ("htmx", "codemirror", "chartjs", "swagger-ui")


def run(*args: str | Path, timeout: float = 120, **kw: object) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=timeout,
                          **kw)  # type: ignore[call-overload]
    assert done.returncode == 0, f"{' '.join(map(str, args))} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done  # type: ignore[no-any-return]


def vendor_urls_in_source() -> list[str]:
    """Every /static/vendor/ URL the source's templates, scripts and Python modules load."""
    found: set[str] = set()
    for path in SRC.rglob("*"):
        if path.suffix in (".html", ".js", ".py") and "vendor" not in path.relative_to(SRC).parts[:3] \
                and "node_modules" not in path.parts:
            found.update(VENDOR_URL.findall(path.read_text(encoding="utf-8", errors="replace")))
    return sorted(found)


@dataclass
class Installed:
    python: Path
    softquery: Path
    package: Path  # the installed softquery package folder
    env: dict[str, str]
    work: Path


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"
    for name in BUILD_INPUTS:
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, source / name)
    shutil.copytree(ROOT / "src", source / "src", ignore=SKIP)
    assert not (source / "src/softquery/web/static/vendor").exists()
    dist = work / "dist"
    run(sys.executable, "-m", "build", "--no-isolation", "--outdir", dist, source, cwd=work)
    wheels = list(dist.glob("softquery-*.whl"))
    assert len(wheels) == 1 and list(dist.glob("softquery-*.tar.gz")), sorted(dist.iterdir())

    venv = work / "venv"
    run(sys.executable, "-m", "venv", "--without-pip", venv)
    python = venv / "bin" / "python"
    site = Path(run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").stdout.strip())
    # this environment's packages (never its softquery: an editable install's own .pth is not read from here)
    shared = [p for p in sys.path if p.endswith("site-packages") and Path(p).is_dir()]
    (site / "zz_shared_dependencies.pth").write_text("\n".join(shared) + "\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SOFTQUERY_", "PYTHON", "VIRTUAL_ENV"))}
    env.update({"SOFTQUERY_HOME": str(work / "home"), "PYTHONUNBUFFERED": "1"})
    run(python, "-m", "pip", "install", "--no-index", "--no-deps", "--ignore-installed", "--no-compile",
        "--disable-pip-version-check", wheels[0], env=env, cwd=work)
    where = Path(run(python, "-c", "import softquery; print(softquery.__file__)", env=env, cwd=work).stdout.strip())
    assert where.is_relative_to(site), f"softquery was imported from {where}, not from the wheel in {site}"
    return Installed(python, venv / "bin" / "softquery", where.parent, env, work)


@pytest.fixture(scope="module")
def vendor_urls() -> list[str]:
    urls = vendor_urls_in_source()
    assert {u.split("/")[3] for u in urls} >= set(LIBRARIES), urls
    return urls


@dataclass
class Serving:
    url: str
    stderr: str


@pytest.fixture
def serve(installed: Installed) -> Iterator[object]:
    """``serve(name)`` starts the installed `softquery serve` on a free loopback port; stopped after the test."""
    procs: list[subprocess.Popen[str]] = []

    def start(name: str) -> Serving:
        out, err = installed.work / f"{name}.out", installed.work / f"{name}.err"
        with open(out, "w") as stdout, open(err, "w") as stderr:
            proc = subprocess.Popen(
                [str(installed.softquery), "serve", "--host", "127.0.0.1", "--port", "0", "--no-scheduler",
                 "--slots", "1"], stdout=stdout, stderr=stderr, text=True, env=installed.env,
                cwd=installed.work, start_new_session=True)
        procs.append(proc)
        deadline = time.monotonic() + 60
        while (found := re.search(r"serving at (http://\S+?)/ ", out.read_text())) is None:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"softquery serve did not start:\n{out.read_text()}\n{err.read_text()}")
            time.sleep(0.05)
        return Serving(found.group(1), err.read_text())

    yield start
    for proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGINT)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)


def test_the_wheel_carries_the_browser_libraries_and_no_npm_files(installed: Installed,
                                                                   vendor_urls: list[str]) -> None:
    wheel = next((installed.work / "dist").glob("*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = [url for url in vendor_urls if "softquery/web" + url not in names]
    assert missing == [], f"{wheel.name} lacks {missing}"
    assert not [n for n in names if "/frontend/" in n or "node_modules" in n]


def test_an_installed_wheel_serves_every_browser_file_the_pages_load(
        installed: Installed, vendor_urls: list[str], serve: object) -> None:
    run(installed.softquery, "init", env=installed.env, cwd=installed.work)
    server = serve("complete")  # type: ignore[operator]
    assert "WARNING" not in server.stderr, server.stderr
    with httpx.Client(base_url=server.url, timeout=10) as client:
        for url in vendor_urls:
            response = client.get(url)
            assert response.status_code == 200 and len(response.content) > 100, (url, response.status_code)
        login = client.get("/login")
        assert login.status_code == 200 and "/static/vendor/htmx/htmx.min.js" in login.text


def test_serve_warns_loudly_when_a_browser_file_is_missing(installed: Installed, serve: object) -> None:
    run(installed.softquery, "init", "--if-needed", env=installed.env, cwd=installed.work)
    htmx = installed.package / "web" / "static" / "vendor" / "htmx" / "htmx.min.js"
    kept = htmx.read_bytes()
    htmx.unlink()
    try:
        server = serve("incomplete")  # type: ignore[operator]
    finally:
        htmx.write_bytes(kept)
    assert "WARNING: the web pages' browser libraries are missing" in server.stderr, server.stderr
    assert "/static/vendor/htmx/htmx.min.js" in server.stderr
    assert "bash scripts/build-assets.sh" in server.stderr
