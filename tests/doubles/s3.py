"""A real S3-compatible server for tests: moto's standalone server (``moto[server]``), started as a
subprocess on a free loopback port and spoken to over HTTP by boto3, django-storages and plain
``requests`` alike (tests only; the ``s3_server`` fixture in ``conftest.py`` starts one per session).

What it shows and what it does not: moto refuses an unsigned GET of a private object (403) and honours
the ``response-content-*`` overrides of a presigned URL, as S3 does; it does not check a presigned
URL's signature or expiry, so tests read the expiry from the URL instead.
"""

from __future__ import annotations

import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

REGION = "eu-central-1"
ACCESS_KEY = "linkilike-test-key"
SECRET_KEY = "linkilike-test-secret"


@dataclass(frozen=True)
class S3Server:
    url: str

    def client(self) -> Any:
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3",
            endpoint_url=self.url,
            region_name=REGION,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            config=Config(s3={"addressing_style": "path"}, signature_version="s3v4"),
        )

    def bucket_create(self) -> str:
        """A new private bucket with a name of its own (tests never share objects)."""
        name = f"linkilike-test-{secrets.token_hex(6)}"
        self.client().create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
        return name

    def storage_options(self, bucket: str, **overrides: Any) -> dict[str, Any]:
        """``STORAGES["default"]["OPTIONS"]`` as ``linkilike/settings.py`` builds them for this server."""
        return {
            "bucket_name": bucket,
            "region_name": REGION,
            "endpoint_url": self.url,
            "public_endpoint_url": self.url,
            "access_key": ACCESS_KEY,
            "secret_key": SECRET_KEY,
            "addressing_style": "path",
            "signature_version": "s3v4",
            "querystring_auth": True,
            "querystring_expire": 3600,
            "default_acl": None,
            "file_overwrite": False,
            **overrides,
        }


@dataclass(frozen=True)
class MediaBucket:
    """The bucket ``STORAGES["default"]`` stores uploads in during one test."""

    server: S3Server
    name: str

    def keys(self) -> list[str]:
        listing = self.server.client().list_objects_v2(Bucket=self.name)
        return sorted(entry["Key"] for entry in listing.get("Contents", ()))

    def head(self, key: str) -> dict[str, Any]:
        return dict(self.server.client().head_object(Bucket=self.name, Key=key))

    def read(self, key: str) -> bytes:
        return bytes(self.server.client().get_object(Bucket=self.name, Key=key)["Body"].read())

    def unsigned_url(self, key: str) -> str:
        return f"{self.server.url}/{self.name}/{key}"


#: Runs moto's server, and ends it when the test process that started it is gone (killed before its
#: fixture could stop the server), so no server outlives its test run.
SERVER_BOOTSTRAP = """
import os, sys, threading, time
parent = os.getppid()

def _orphaned():
    while os.getppid() == parent:
        time.sleep(1)
    os._exit(0)

threading.Thread(target=_orphaned, daemon=True).start()
from moto.server import main
main(sys.argv[1:])
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def running_s3_server(log_dir: Path, *, timeout: float = 60.0) -> Iterator[S3Server]:
    port = _free_port()
    log_path = log_dir / "moto-server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-c", SERVER_BOOTSTRAP, "-H", "127.0.0.1", "-p", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        server = S3Server(url=f"http://127.0.0.1:{port}")
        try:
            deadline = time.monotonic() + timeout
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"moto's server exited ({process.returncode}): {log_path.read_text()[-2000:]}")
                try:
                    requests.get(f"{server.url}/moto-api/", timeout=1)
                    break
                except requests.ConnectionError:
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"moto's server did not start in {timeout:.0f} s") from None
                    time.sleep(0.1)
            yield server
        finally:
            process.kill()  # it keeps nothing worth a clean shutdown (SIGTERM takes seconds)
            process.wait(timeout=10)
