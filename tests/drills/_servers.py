"""Process plumbing for the drills: the recording double, Celery workers, and throwaway Redis/Postgres.

Everything here starts real processes in their own session (process group), so a drill can SIGKILL a
whole worker with its pool children, and ``stop`` in a ``finally`` leaves nothing running.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import closing, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BASE_DIR = Path(__file__).resolve().parent.parent.parent
PYTHON = sys.executable
CELERY = str(Path(PYTHON).parent / "celery")

#: Added to the bench environment (bench/harness.py): production settings refuse to run without field
#: encryption keys. A fixed key, used for nothing but the drills' throwaway databases. The drills' Mastodon
#: double runs on loopback, which production settings refuse for a person's server unless allowed here.
DRILL_ENV = {
    "LINKILIKE_FIELD_ENCRYPTION_KEYS": "bGlua2lsaWtlLWRyaWxscy1vbmx5LWZlcm5ldC1rZXk=",
    "LINKILIKE_NETWORKS_ALLOWED_PRIVATE_NETWORKS": "127.0.0.1/32",
}


def say(message: str) -> None:
    """A progress line (figures go through bench.harness.Report)."""
    print(f"    {message}", flush=True)  # noqa: T201 - a drill shows it is alive


def free_port() -> int:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(predicate: Any, *, timeout: float, interval: float = 0.2, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except Exception:  # noqa: BLE001, S110 - not up yet
            pass
        time.sleep(interval)
    raise TimeoutError(f"timed out waiting for {what}")


def children(pid: int) -> list[int]:
    """Direct child processes of ``pid`` (from /proc; no psutil on these machines)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # "pid (comm) state ppid ...": comm may contain spaces, so split after the last ")".
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


def group_kill(proc: subprocess.Popen[bytes], sig: int = signal.SIGKILL) -> None:
    with suppress(ProcessLookupError):
        os.killpg(proc.pid, sig)


def stop(proc: subprocess.Popen[bytes] | None, *, grace: float = 10.0) -> None:
    """TERM the process group, KILL it if it lingers."""
    if proc is None:
        return
    if proc.poll() is None:
        group_kill(proc, signal.SIGTERM)
        with suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=grace)
    group_kill(proc, signal.SIGKILL)
    with suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=5)


# --- recording double -----------------------------------------------------------------------


@dataclass
class Double:
    port: int
    proc: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def record(self) -> dict[str, Any]:
        with urllib.request.urlopen(f"{self.url}/_drill/calls", timeout=30) as response:  # noqa: S310 - loopback
            return dict(json.loads(response.read()))


def double_start(*, latency_ms: float = 0.0) -> Double:
    port = free_port()
    proc = subprocess.Popen(
        [PYTHON, "-m", "tests.drills._double", "--port", str(port), "--latency-ms", str(latency_ms)],
        cwd=BASE_DIR,
        start_new_session=True,
    )
    double = Double(port=port, proc=proc)
    wait_for(
        lambda: urllib.request.urlopen(f"{double.url}/_drill/health", timeout=1).status == 200,  # noqa: S310
        timeout=15,
        what="the recording double",
    )
    return double


# --- Celery workers -------------------------------------------------------------------------


@dataclass
class Worker:
    env: dict[str, str]
    concurrency: int
    log_path: Path
    name: str = "drill"
    #: Further ``celery worker`` options, e.g. ``("-Q", "publish")`` (drill Q1).
    options: tuple[str, ...] = ()
    proc: subprocess.Popen[bytes] | None = None
    starts: int = 0
    _log: Any = field(default=None, repr=False)

    def start(self) -> None:
        if self._log is None:
            # Fresh for each run of a drill; restarts within the run append.
            self._log = self.log_path.open("wb" if self.starts == 0 else "ab")
        self.starts += 1
        # As production runs it (Procfile.dev): prefork pool; acks, prefetch and time limits from settings.
        self.proc = subprocess.Popen(
            [
                CELERY,
                "-A",
                "linkilike",
                "worker",
                "--loglevel=WARNING",
                f"--concurrency={self.concurrency}",
                "--without-gossip",
                "--without-mingle",
                f"--hostname={self.name}-{self.starts}@%h",
                *self.options,
            ],
            cwd=BASE_DIR,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, *, timeout: float = 90.0) -> None:
        """Until the prefork pool is up (its children exist), so a kill lands on a working worker."""
        wait_for(self.ready, timeout=timeout, what="the worker pool")

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def pool_children(self) -> list[int]:
        return children(self.proc.pid) if self.alive() and self.proc is not None else []

    def ready(self) -> bool:
        return len(self.pool_children()) >= self.concurrency

    def kill_all(self) -> None:
        """SIGKILL the worker and its pool children at once (a machine or container dying)."""
        if self.proc is not None:
            group_kill(self.proc)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        stop(self.proc)
        if self._log is not None:
            self._log.close()
            self._log = None


# --- throwaway Redis and PostgreSQL (T5) ----------------------------------------------------


def _postgres_bin() -> Path:
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    if not candidates:
        raise RuntimeError("no PostgreSQL server binaries under /usr/lib/postgresql")
    return candidates[-1].parent


@dataclass
class Redis:
    port: int

    def start(self) -> None:
        subprocess.run(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "yes",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        wait_for(self.ping, timeout=15, what=f"redis on {self.port}")

    def ping(self) -> bool:
        out = subprocess.run(["redis-cli", "-p", str(self.port), "ping"], capture_output=True, text=True, timeout=5)
        return out.stdout.strip() == "PONG"

    def stop(self) -> None:
        subprocess.run(
            ["redis-cli", "-p", str(self.port), "shutdown", "nosave"], capture_output=True, timeout=10, check=False
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if not self.ping():
                    return
            except subprocess.TimeoutExpired:
                return
            time.sleep(0.1)


@dataclass
class Postgres:
    """A throwaway cluster owned by the postgres user, trust auth on 127.0.0.1 only."""

    port: int
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="linkilike-drill-pg-")))

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def dsn_base(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}"

    def _as_postgres(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[bytes]:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        return subprocess.run([*prefix, *args], check=check, capture_output=True, timeout=120)

    def init(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.root, user="postgres", group="postgres")
        self.root.chmod(0o700)
        bin_dir = _postgres_bin()
        self._as_postgres(
            str(bin_dir / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"
        )

    def start(self) -> None:
        self._pg_ctl("start", "-w", "-t", "60")

    def stop_fast(self) -> None:
        self._as_postgres(str(_postgres_bin() / "pg_ctl"), "-D", str(self.data), "stop", "-m", "fast", "-w")

    def _pg_ctl(self, *args: str) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} -c fsync=off -c max_connections=100"
        self._as_postgres(
            str(_postgres_bin() / "pg_ctl"), "-D", str(self.data), "-l", str(self.root / "log"), "-o", options, *args
        )

    def stop(self) -> None:
        if self.data.exists():
            self._as_postgres(
                str(_postgres_bin() / "pg_ctl"), "-D", str(self.data), "stop", "-m", "immediate", check=False
            )
        shutil.rmtree(self.root, ignore_errors=True)
