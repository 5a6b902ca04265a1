"""A child started from the forkserver does not import the server's ``__main__`` again.

``python -m softquery.cli.main serve`` names its main module by ``__spec__`` rather than
by a path; multiprocessing then imported that module (the whole app, ~1.5 s) in every
child before its target ran, which made every serving worker start (and so every
change of a serving slot's owner) that much slower.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
MAIN = '''
import os
import time

with open(os.environ["MARKER"], "a") as marker:
    marker.write(f"imported in {os.getpid()}\\n")

if __name__ == "__main__":
    import probe_target
    from softquery.sandbox import Isolation, Limits, Sandbox

    sandbox = Sandbox.start(probe_target.hello, None, name="probe",
                            limits=Limits(wall_seconds=30, isolation=Isolation(enabled=False)))
    deadline = time.monotonic() + 30
    messages = []
    while sandbox.wait(0) is None and time.monotonic() < deadline:
        messages += sandbox.receive(0.05)
    messages += sandbox.receive(0.05)
    sandbox.close()
    print("CHILD", [m for m in messages if isinstance(m, int)], flush=True)
'''
TARGET = '''
import os


def hello(conn, payload):
    conn.send(os.getpid())
'''


@pytest.mark.parametrize("how", ["module", "script"])
def test_a_child_does_not_import_the_parents_main_module(tmp_path: Path, how: str) -> None:
    (tmp_path / "probe_main.py").write_text(MAIN)
    (tmp_path / "probe_target.py").write_text(TARGET)
    marker = tmp_path / "marker.txt"
    env = dict(os.environ, MARKER=str(marker),
               PYTHONPATH=os.pathsep.join([str(tmp_path), str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]))
    command = ["-m", "probe_main"] if how == "module" else [str(tmp_path / "probe_main.py")]
    done = subprocess.run([sys.executable, *command], env=env, cwd=tmp_path, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    child = [line for line in done.stdout.splitlines() if line.startswith("CHILD")]
    assert child and child[0] != "CHILD []", done.stdout + done.stderr  # the child ran
    imported = marker.read_text().splitlines()
    assert len(imported) == 1, imported  # by the parent only: neither the forkserver nor the child
