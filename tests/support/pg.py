"""A real PostgreSQL server for the tests, started on loopback from the installed binaries.

initdb refuses to run as root, so as root the server runs as the unprivileged user `nobody`.
"""
from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path


def _bindir() -> Path:
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if candidates:
        return Path(candidates[-1]).parent
    raise RuntimeError("PostgreSQL binaries (initdb, postgres) are not installed; "
                       "`apt-get install postgresql` provides them")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresServer:
    def __init__(self) -> None:
        self.bindir = _bindir()
        self.base = Path(tempfile.mkdtemp(prefix="wc-pg-"))
        self.data = self.base / "data"
        self.port = _free_port()
        self.proc: subprocess.Popen | None = None
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            self.as_user = ["runuser", "-u", "nobody", "--"]
            os.chmod(self.base, 0o777)

    def start(self) -> PostgresServer:
        self.data.mkdir()
        if self.as_user:
            shutil.chown(self.data, "nobody")
        subprocess.run(self.as_user + [str(self.bindir / "initdb"), "-D", str(self.data), "-U", "wc", "-A", "trust",
                                       "-E", "UTF8", "--no-sync"], check=True, capture_output=True)
        self.proc = subprocess.Popen(
            self.as_user + [str(self.bindir / "postgres"), "-D", str(self.data), "-p", str(self.port),
                            "-h", "127.0.0.1", "-k", str(self.base), "-c", "fsync=off",
                            "-c", "synchronous_commit=off", "-c", "full_page_writes=off", "-c", "max_connections=200"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    pass
                if self._psql("select 1").returncode == 0:
                    return self
            except OSError:
                pass
            if self.proc.poll() is not None:
                raise RuntimeError("postgres exited during start-up")
            time.sleep(0.2)
        raise RuntimeError("postgres did not start within 60 s")

    def _psql(self, sql: str, db: str = "postgres") -> subprocess.CompletedProcess:
        psql = self.bindir / "psql"
        exe = str(psql) if psql.exists() else (shutil.which("psql") or "psql")
        return subprocess.run([exe, "-h", "127.0.0.1", "-p", str(self.port), "-U", "wc", "-d", db, "-c", sql],
                              capture_output=True, text=True)

    def new_database(self) -> str:
        name = "wc_" + uuid.uuid4().hex[:12]
        result = self._psql(f"create database {name}")
        if result.returncode != 0:
            raise RuntimeError(result.stderr)
        return f"postgresql+asyncpg://wc@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        shutil.rmtree(self.base, ignore_errors=True)
