"""A throwaway real PostgreSQL server for the test session.

Started with ``initdb`` + ``pg_ctl`` in a temp dir, on a free loopback port,
trust auth on 127.0.0.1 only (and, for the Unix-socket attack tests, also on the
sockets, in folders of their choice: initdb's default). When the tests run as root (CI, sessions) the
server runs as the unprivileged ``postgres`` user, created if missing.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

PG_USER = "postgres"
READY_TIMEOUT_S = 30.0


class PostgresUnavailable(RuntimeError):
    pass


def find_pg_bin(name: str) -> str:
    """Return the path of a PostgreSQL binary from PATH or /usr/lib/postgresql/*/bin."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
    if candidates:
        return candidates[0]
    raise PostgresUnavailable(
        f"PostgreSQL binary {name!r} not found on PATH or in /usr/lib/postgresql/*/bin. "
        "Run `make system-deps` to install the PostgreSQL server the integration tests need."
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def _ensure_user() -> None:
    probe = subprocess.run(["id", "-u", PG_USER], capture_output=True, check=False)
    if probe.returncode != 0:
        subprocess.run(["useradd", "--system", "--no-create-home", PG_USER], check=True)


class PostgresServer:
    """One server: ``start()`` → ``url`` / ``database_url(name)`` → ``stop()``."""

    def __init__(self, socket_dirs: Sequence[str] = (), local_trust: bool = False) -> None:
        self.socket_dirs = tuple(socket_dirs)
        self.local_trust = local_trust
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="sq-pg-"))
        self.datadir = self.root / "data"
        self.logfile = self.root / "server.log"
        self.as_root = _is_root()

    def _run(self, args: Sequence[str], *, timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
        cmd = list(args)
        if self.as_root:
            cmd = ["runuser", "-u", PG_USER, "--", *cmd]
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
        if result.returncode != 0:
            raise PostgresUnavailable(
                f"{' '.join(cmd)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
                f"\n{self._log_tail()}"
            )
        return result

    def _log_tail(self) -> str:
        try:
            return self.logfile.read_text()[-2000:]
        except OSError:
            return ""

    def start(self) -> None:
        initdb, pg_ctl = find_pg_bin("initdb"), find_pg_bin("pg_ctl")
        if self.as_root:
            _ensure_user()
            shutil.chown(self.root, user=PG_USER)
            os.chmod(self.root, 0o700)
        self._run([initdb, "-D", str(self.datadir), "-U", PG_USER, "--auth=trust",
                   "--encoding=UTF8", "--locale=C", "--no-sync"])
        with open(self.datadir / "pg_hba.conf", "w") as hba:
            hba.write("host all all 127.0.0.1/32 trust\n")
            if self.local_trust:
                hba.write("local all all trust\n")
        self._run([pg_ctl, "-D", str(self.datadir), "-l", str(self.logfile), "-o", self._options(), "start"])
        self._wait_ready()

    def _options(self) -> str:
        sockets = ",".join(self.socket_dirs or (str(self.root),))
        return (f"-c listen_addresses=127.0.0.1 -c port={self.port} "
                f"-c unix_socket_directories='{sockets}' -c fsync=off "
                "-c synchronous_commit=off -c full_page_writes=off")

    def restart(self) -> None:
        """``pg_ctl restart`` (fast shutdown: open sessions are ended), back when it answers."""
        self._run([find_pg_bin("pg_ctl"), "-D", str(self.datadir), "-l", str(self.logfile), "-m", "fast",
                   "-o", self._options(), "restart"])
        self._wait_ready()

    def halt(self) -> None:
        """Stop the server (fast shutdown), keeping its data: ``resume()`` starts it again."""
        self._run([find_pg_bin("pg_ctl"), "-D", str(self.datadir), "-m", "fast", "stop"])

    def resume(self) -> None:
        self._run([find_pg_bin("pg_ctl"), "-D", str(self.datadir), "-l", str(self.logfile),
                   "-o", self._options(), "start"])
        self._wait_ready()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        last_error = ""
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1.0):
                    pass
                import psycopg

                with psycopg.connect(self.database_url("postgres"), connect_timeout=2) as conn:
                    conn.execute("select 1")
                return
            except Exception as exc:  # noqa: BLE001 - retried until the deadline
                last_error = str(exc)
                time.sleep(0.05)
        raise PostgresUnavailable(
            f"PostgreSQL did not become ready on port {self.port} within {READY_TIMEOUT_S}s: "
            f"{last_error}\n{self._log_tail()}"
        )

    def socket_path(self, directory: str) -> str:
        return os.path.join(directory, f".s.PGSQL.{self.port}")

    def database_url(self, dbname: str) -> str:
        return f"postgresql://{PG_USER}@127.0.0.1:{self.port}/{dbname}"

    @property
    def url(self) -> str:
        return self.database_url("postgres")

    def create_database(self, dbname: str) -> str:
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f'create database "{dbname}"')
        return self.database_url(dbname)

    def drop_database(self, dbname: str) -> None:
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f'drop database if exists "{dbname}" with (force)')

    def stop(self) -> None:
        try:
            if (self.datadir / "postmaster.pid").exists():
                self._run([find_pg_bin("pg_ctl"), "-D", str(self.datadir), "-m", "immediate", "stop"])
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
