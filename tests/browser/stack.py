"""The journey's own stack: a fresh PostgreSQL database, gunicorn and a Celery worker as subprocesses.

Nothing here uses pytest-django's test database: the web server and the worker are separate processes
and must see committed data, exactly as in production. Usable standalone for exploring:
``.venv/bin/python -m tests.browser.stack`` starts it and prints the URL until Ctrl-C.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PG_ADMIN = "postgres://postgres@127.0.0.1:5432/postgres"
REDIS_DBS = range(9, 16)  # the journey claims one of these; unit tests use db 0
LOCK_KEY = "linkilike:journey-owner"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _psql(sql: str) -> None:
    import psycopg2

    conn = psycopg2.connect(PG_ADMIN)
    try:
        conn.autocommit = True
        with conn.cursor() as cursor:
            cursor.execute(sql)
    finally:
        conn.close()


@dataclass
class Stack:
    base_url: str
    env: dict[str, str]
    mail_dir: Path
    log_dir: Path
    db_name: str
    redis_db: int = 9
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def manage(self, *args: str, timeout: float = 120) -> str:
        """Run ``manage.py`` with the stack's environment; returns stdout, raises with output on failure."""
        result = subprocess.run(
            [str(BIN / "python"), "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if result.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result.stdout

    def journey(self, *args: str) -> dict[str, object]:
        out = self.manage("journey_step", *args).strip().splitlines()
        return json.loads(out[-1]) if out else {}

    def emails_to(self, address: str) -> list[str]:
        """Every email the file backend wrote to ``address``, oldest first (raw MIME text)."""
        found = []
        for path in sorted(self.mail_dir.glob("*.log"), key=lambda p: p.stat().st_mtime):
            for message in path.read_text(errors="replace").split("-" * 79):
                to_lines = [line for line in message.splitlines() if line.startswith("To: ")]
                if any(address in line for line in to_lines):
                    found.append(message)
        return found

    def logs(self) -> str:
        parts = []
        for path in sorted(self.log_dir.glob("*.log")):
            text = path.read_text(errors="replace")
            parts.append(f"===== {path.name} (last 4000 chars)\n{text[-4000:]}")
        return "\n".join(parts)

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)
        self.procs.clear()
        try:
            _psql(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)')
        except Exception as exc:  # noqa: BLE001 - teardown must not hide the test's own failure
            print(f"journey: could not drop {self.db_name}: {exc}", file=sys.stderr)
        _redis_flush(self.redis_db)


def _redis_claim() -> int:
    """A Redis database no other journey (or stray worker) uses: another worker on the same broker
    database would steal this run's tasks and run them against its own PostgreSQL database."""
    import redis

    for number in REDIS_DBS:
        client = redis.Redis.from_url(f"redis://127.0.0.1:6379/{number}")
        if client.dbsize() == 0 and client.set(LOCK_KEY, os.getpid(), nx=True, ex=3600):
            return number
    raise RuntimeError(f"no free Redis database among {list(REDIS_DBS)} for the journey")


def _redis_flush(number: int) -> None:
    import redis

    try:
        redis.Redis.from_url(f"redis://127.0.0.1:6379/{number}").flushdb()
    except Exception as exc:  # noqa: BLE001
        print(f"journey: could not flush redis db {number}: {exc}", file=sys.stderr)


def _wait_healthy(stack: Stack, deadline: float) -> None:
    last = ""
    while time.monotonic() < deadline:
        for proc in stack.procs:
            if proc.poll() is not None:
                raise RuntimeError(f"a journey process exited early ({proc.args!r}):\n{stack.logs()}")
        try:
            with urllib.request.urlopen(f"{stack.base_url}/healthz", timeout=5) as response:  # noqa: S310
                body = json.loads(response.read())
                if body.get("ok") and body.get("worker"):
                    return
                last = str(body)
        except Exception as exc:  # noqa: BLE001 - keep polling until the deadline
            last = str(exc)
        time.sleep(0.5)
    raise RuntimeError(f"the journey stack never became healthy ({last}):\n{stack.logs()}")


def stack_start(work_dir: Path | None = None, extra_env: dict[str, str] | None = None) -> Stack:
    """``extra_env``: settings of this journey only (the hosts of local counterparts of a network)."""
    work = work_dir or Path(tempfile.mkdtemp(prefix="linkilike-journey-"))
    mail_dir, log_dir, media_dir = work / "mail", work / "logs", work / "media"
    for folder in (mail_dir, log_dir, media_dir):
        folder.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    db_name = f"linkilike_journey_{os.getpid()}"
    redis_db = _redis_claim()
    redis_url = f"redis://127.0.0.1:6379/{redis_db}"
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "LINKILIKE_", "CELERY_", "PYTEST", "DATABASE_", "REDIS_"))
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "linkilike.settings",
            # DEBUG=1: plain-http cookies (no Secure flag, no SSL redirect) and WhiteNoise serving static
            # straight from the source folders, so no collectstatic step; everything else is production-like.
            "DJANGO_DEBUG": "1",
            "DJANGO_SECRET_KEY": "journey-only-secret-key-not-for-production-0123456789",
            "LINKILIKE_TESTING": "0",
            "LINKILIKE_JOURNEY": "1",
            "LINKILIKE_SITE_URL": base_url,
            "LINKILIKE_VAR_DIR": str(work),
            "LINKILIKE_MEDIA_ROOT": str(media_dir),
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{db_name}",
            "REDIS_URL": redis_url,
            "CELERY_BROKER_URL": redis_url,
            "CELERY_TASK_ALWAYS_EAGER": "0",
            "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "EMAIL_FILE_PATH": str(mail_dir),
            "SANDBOX_MEDIA_PROCESSING_SECONDS": "0",
            # Small journey earnings must still be payable, and the new sandbox account needs an audience.
            "PAYOUTS_MINIMUM_MINOR": "100",
            # The platform's bank account has no default (the funds page and the SEPA file need one).
            "PAYOUTS_PLATFORM_ACCOUNT_NAME": "Linkilike GmbH",
            "PAYOUTS_PLATFORM_IBAN": "AT611904300234573201",
            "PAYOUTS_PLATFORM_BIC": "BKAUATWW",
            "SANDBOX_NEW_ACCOUNT_FOLLOWERS": "150",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra_env or {})
    _psql(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
    _psql(f'CREATE DATABASE "{db_name}"')
    stack = Stack(base_url=base_url, env=env, mail_dir=mail_dir, log_dir=log_dir, db_name=db_name, redis_db=redis_db)
    try:
        stack.manage("migrate", "--noinput", timeout=300)
        commands = {
            "web": [
                str(BIN / "gunicorn"),
                "linkilike.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "2",
                "--timeout",
                "60",
            ],
            "worker": [
                str(BIN / "celery"),
                "-A",
                "linkilike",
                "worker",
                "--concurrency=2",
                "--loglevel=INFO",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
        }
        for name, command in commands.items():
            log = (log_dir / f"{name}.log").open("wb")
            stack.procs.append(
                subprocess.Popen(
                    command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
                )
            )
        # The worker heartbeat task is what /healthz checks; enqueue one so we don't wait for beat.
        stack.manage("shell", "-c", "from linkilike.tasks import heartbeat; heartbeat.delay()")
        _wait_healthy(stack, time.monotonic() + 90)
    except BaseException:
        stack.stop()
        raise
    return stack


if __name__ == "__main__":
    running = stack_start()
    print(running.base_url, running.mail_dir, flush=True)
    try:
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        running.stop()
