"""Start and stop the processes a load benchmark talks to (gunicorn), and run wrk against them.

Every process is started in its own session, so stopping it takes its workers along, and
``running(...)`` stops it in ``finally`` whatever happens in the benchmark: a benchmark never
leaves a server behind.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.harness import BASE_DIR

BIN = Path(sys.executable).parent


def exit_on_sigterm() -> None:
    """Turns SIGTERM (``timeout``, CI cancelling) into SystemExit, so ``finally`` blocks stop the servers."""

    def _exit(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, _exit)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, *, timeout: float = 30.0, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode} before listening on {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


def stop(process: subprocess.Popen, *, timeout: float = 15.0) -> None:
    """SIGTERM the process group (graceful: gunicorn finishes requests in progress), SIGKILL if it hangs."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)
    except ProcessLookupError:
        pass


@dataclass(frozen=True)
class GunicornConfig:
    """One configuration for every app a benchmark compares (same workers, same worker class)."""

    workers: int = 2
    # gthread keeps connections alive (sync closes every one, which wrk's scripted requests handle badly),
    # and a redirect mostly waits on Redis, so a few threads per worker overlap that wait. "sync" is
    # gunicorn's default and production's (Dockerfile): one request at a time, connection closed after it.
    worker_class: str = "gthread"
    #: only passed with gthread: gunicorn silently turns a sync worker with threads > 1 into gthread.
    threads: int = 4
    backlog: int = 2048
    # Longer than any client's pause between requests: with gunicorn's default (2 s) a client reusing
    # a connection at the moment the server closes it sees a reset (a race, not a server error).
    keepalive: int = 5

    def argv(self, app: str, port: int) -> list[str]:
        return [
            str(BIN / "gunicorn"),
            app,
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(self.workers),
            "--worker-class",
            self.worker_class,
            *(("--threads", str(self.threads)) if self.worker_class == "gthread" else ()),
            "--backlog",
            str(self.backlog),
            "--keep-alive",
            str(self.keepalive),
            "--log-level",
            "warning",
            "--chdir",
            str(BASE_DIR),
        ]


@contextmanager
def running(argv: list[str], *, env: dict[str, str], port: int, log: Path) -> Iterator[subprocess.Popen]:
    """Runs ``argv`` until the block ends; waits until it listens on ``port``."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        process = subprocess.Popen(  # noqa: S603 - our own fixed argv
            argv, env=env, cwd=BASE_DIR, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            wait_for_port(port, process=process)
            yield process
        finally:
            stop(process)


def warm_up(port: int, path: str, *, concurrency: int, rounds: int = 3, timeout: float = 180.0) -> None:
    """Requests ``path`` from ``concurrency`` clients at once until every round answered.

    Django imports the URLconf (every view module) on a worker's first request, which takes
    seconds on a busy machine; a benchmark must not measure that.
    """
    import urllib.error
    import urllib.request
    from concurrent.futures import ThreadPoolExecutor

    def fetch(_index: int) -> None:
        with contextlib.suppress(urllib.error.HTTPError):  # any answer means the worker is up
            urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout).read()

    with ThreadPoolExecutor(concurrency) as pool:
        for _round in range(rounds):
            list(pool.map(fetch, range(concurrency)))


@contextmanager
def gunicorn(
    app: str, *, config: GunicornConfig, env: dict[str, str], log: Path, warm_path: str | None = None
) -> Iterator[Server]:
    """``with gunicorn("linkilike.wsgi:application", ...) as server:`` serves the app on 127.0.0.1:server.port."""
    port = free_port()
    with running(config.argv(app, port), env=env, port=port, log=log) as process:
        if warm_path:
            threads = config.threads if config.worker_class == "gthread" else 1
            warm_up(port, warm_path, concurrency=config.workers * threads * 2)
        yield Server(port=port, pid=process.pid)


@dataclass(frozen=True)
class Server:
    port: int
    pid: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cpu_seconds(self) -> float:
        """User + system CPU of the server and its workers so far (Linux /proc), for CPU per request."""
        pids = [self.pid, *_children(self.pid)]
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0.0
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += (int(fields[11]) + int(fields[12])) / ticks
        return total


def _children(pid: int) -> list[int]:
    try:
        found = [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []
    return found + [grandchild for child in found for grandchild in _children(child)]


# --- wrk ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WrkResult:
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float
    socket_errors: int
    non_2xx_3xx: int
    output: str


_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if not match:
        raise ValueError(f"unexpected wrk latency {text!r}")
    return float(match.group(1)) * _UNITS_MS[match.group(2)]


def parse_wrk(output: str) -> WrkResult:
    done = re.search(r"(\d+) requests in ([\d.]+)(ms|s|m)", output)
    if not done:
        raise RuntimeError(f"wrk printed no summary:\n{output}")
    seconds = float(done.group(2)) * {"ms": 0.001, "s": 1.0, "m": 60.0}[done.group(3)]
    percentiles = dict(re.findall(r"^\s+(50|99)(?:\.0+)?%\s+(\S+)", output, re.MULTILINE))
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    non_ok = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    return WrkResult(
        requests=int(done.group(1)),
        seconds=seconds,
        rps=float(rps.group(1)) if rps else int(done.group(1)) / seconds,
        p50_ms=_ms(percentiles["50"]),
        p99_ms=_ms(percentiles["99"]),
        socket_errors=sum(int(n) for n in errors.groups()) if errors else 0,
        non_2xx_3xx=int(non_ok.group(1)) if non_ok else 0,
        output=output,
    )


def wrk(
    url: str, *, seconds: int, threads: int, connections: int, script: Path | None = None, args: list[str] | None = None
) -> WrkResult:
    argv = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s", "--latency", "--timeout", "5s"]
    if script is not None:
        argv += ["-s", str(script)]
    argv.append(url)
    if args:
        argv += ["--", *args]
    process = subprocess.Popen(  # noqa: S603 - our own fixed argv
        argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )
    try:
        output, _ = process.communicate(timeout=seconds + 60)
    finally:
        stop(process, timeout=5)
    if process.returncode != 0:
        raise RuntimeError(f"wrk exited with {process.returncode}:\n{output}")
    return parse_wrk(output)
