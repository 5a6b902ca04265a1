"""Model code used by the job tests: fast, slow, and misbehaving."""

from __future__ import annotations

from pathlib import Path

FAST = '''
class Model:
    def train(self, X, y):
        print("training on", len(X), "rows", flush=True)
        self.mean = float(sum(y)) / len(y)
    def predict(self, X):
        return [self.mean] * len(X)
'''

# Writes its pid, then works slowly; predict is slow only while SLOW_FILE exists.
# Each run is a user of its own: the pid file is replaced, never written over.
SLOW = '''
import os, time

def write_pid():
    pid = os.readlink("/proc/self")  # the test's pid of it: os.getpid() is of the job's PID namespace
    part = {pidfile!r} + "." + pid
    with open(part, "w") as fh:
        fh.write(pid)
    os.replace(part, {pidfile!r})

class Model:
    def train(self, X, y):
        write_pid()
        for i in range(int({steps})):
            print("step", i, flush=True)
            time.sleep(0.05)
        self.mean = float(sum(y)) / len(y)
    def predict(self, X):
        if os.path.exists({slowfile!r}):
            write_pid()
            time.sleep(600)
        return [self.mean] * len(X)
'''

BAD = {
    "loop": "while True:\n            pass",
    "alloc": "blocks = []\n        while True:\n            blocks.append(bytearray(50 * 1024 * 1024))\n            blocks[-1][::4096] = b'x' * len(blocks[-1][::4096])",
    "exit": "import os\n        os._exit(3)",
    "crash": "import ctypes\n        ctypes.string_at(0)",
    "forks": "import os, time\n        for _ in range(200):\n            if os.fork() == 0:\n                time.sleep(30)\n                os._exit(0)",
}


def slow_code(tmp: Path, steps: int = 2000) -> tuple[str, Path, Path]:
    pidfile, slowfile = tmp / "child.pid", tmp / "slow.flag"
    return SLOW.format(pidfile=str(pidfile), slowfile=str(slowfile), steps=steps), pidfile, slowfile


def bad_code(kind: str) -> str:
    return (
        "class Model:\n"
        "    def train(self, X, y):\n"
        f"        {BAD[kind]}\n"
        "    def predict(self, X):\n"
        "        return [0.0] * len(X)\n"
    )
