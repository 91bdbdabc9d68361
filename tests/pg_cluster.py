"""A throw-away PostgreSQL server for the store tests: its own cluster in a temp dir, on a loopback port.

``initdb`` and ``postgres`` refuse to run as root (CI runs as root), so under root they run as the
``postgres`` user that Debian's package creates (else ``nobody``), in a directory handed to that user.
The server binaries are found on PATH or in Debian's ``/usr/lib/postgresql/<version>/bin``.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

SUPERUSER = "harness"


def server_binaries() -> tuple[str, str] | None:
    """(initdb, postgres) paths, or None when no PostgreSQL server is installed."""
    found = [shutil.which("initdb"), shutil.which("postgres")]
    if all(found):
        return found[0], found[1]
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name))
    for bin_dir in reversed(versions):
        initdb, postgres = Path(bin_dir, "initdb"), Path(bin_dir, "postgres")
        if initdb.exists() and postgres.exists():
            return str(initdb), str(postgres)
    return None


def _unprivileged() -> pwd.struct_passwd | None:
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise RuntimeError("running as root, and neither a 'postgres' nor a 'nobody' user exists to run PostgreSQL as")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Cluster:
    """``with Cluster(tmp) as pg: url = pg.new_database()``."""

    def __init__(self, root: Path):
        binaries = server_binaries()
        if binaries is None:
            raise FileNotFoundError("no PostgreSQL server (initdb/postgres) installed")
        self.initdb, self.postgres = binaries
        self.root = Path(root)
        self.port = _free_port()
        self.user = _unprivileged()
        self.process: subprocess.Popen | None = None
        self._names = itertools.count(1)

    def _as_user(self) -> dict:
        if self.user is None:
            return {}
        return {"user": self.user.pw_uid, "group": self.user.pw_gid, "extra_groups": [],
                "env": {**os.environ, "HOME": str(self.root), "USER": self.user.pw_name}}

    def start(self) -> Cluster:
        self.root.mkdir(parents=True, exist_ok=True)
        if self.user is not None:
            os.chown(self.root, self.user.pw_uid, self.user.pw_gid)
        data = self.root / "data"
        log = self.root / "initdb.log"
        with open(log, "wb") as out:
            done = subprocess.run([self.initdb, "-D", str(data), "-U", SUPERUSER, "--auth=trust", "-E", "UTF8",
                                   "--no-sync", "--locale=C"], stdout=out, stderr=subprocess.STDOUT,
                                  cwd=self.root, **self._as_user())
        if done.returncode:
            raise RuntimeError(f"initdb failed: {log.read_text()[-2000:]}")
        self.log = open(self.root / "server.log", "wb")
        self.process = subprocess.Popen(
            [self.postgres, "-D", str(data), "-p", str(self.port), "-k", str(self.root),
             "-c", "listen_addresses=127.0.0.1", "-c", "max_connections=60"],
            stdout=self.log, stderr=subprocess.STDOUT, cwd=self.root, **self._as_user())
        self._wait_ready()
        return self

    def _wait_ready(self, timeout: float = 60.0) -> None:
        import psycopg

        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"postgres exited: {(self.root / 'server.log').read_text()[-2000:]}")
            try:
                psycopg.connect(self.admin_dsn(), connect_timeout=2).close()
                return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def admin_dsn(self) -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/postgres"

    def new_database(self) -> str:
        """A new empty database; its URL as a user would give it to ``--store``."""
        import psycopg

        name = f"store_{os.getpid()}_{next(self._names)}"
        with psycopg.connect(self.admin_dsn(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # "fast" shutdown: roll back sessions, stop now
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if getattr(self, "log", None):
            self.log.close()
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> Cluster:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
