"""A job child (started by the forkserver) dies with its parent: PDEATHSIG."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from tests.integration.sandbox.test_sandbox import gone, wait_gone

INTERMEDIATE = """
import time
from softquery.sandbox import Limits, Sandbox
from tests.integration.sandbox.test_sandbox import sleep_forever
sandbox = Sandbox.start(sleep_forever, None, limits=Limits(memory_mb=300), name="orphan")
print(sandbox.pid, *sandbox.cgroups.dirs(), flush=True)
time.sleep(1000)
"""


def test_child_dies_with_its_parent() -> None:
    root = Path(__file__).resolve().parents[3]
    env = {**os.environ, "PYTHONPATH": f"{root / 'src'}:{root}"}
    middle = subprocess.Popen([sys.executable, "-c", INTERMEDIATE], stdout=subprocess.PIPE,
                              text=True, cwd=root, env=env)
    try:
        assert middle.stdout is not None
        pid, *dirs = middle.stdout.readline().split()
        assert not gone(int(pid))
        middle.kill()
        middle.wait(5)
        assert wait_gone([int(pid)], 2.0) == []
    finally:
        middle.kill()
        middle.wait(5)
    for path in map(Path, dirs):  # nobody called close(): clean up like the stale sweep would
        deadline = time.monotonic() + 2
        while path.exists():
            try:
                path.rmdir()
            except OSError:
                assert time.monotonic() < deadline
                time.sleep(0.01)
