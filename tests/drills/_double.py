"""A recording network double for the drills: a small Mastodon-speaking HTTP server in its own process.

It answers the calls the production ``MastodonProvider`` makes to publish and to read metrics, and
records every create-post call with the ``Idempotency-Key`` it carried. Like Mastodon, a key seen
before answers the status it already created (a "replay") instead of creating another, so the only
way a share can reach the network twice is the pipeline posting it again under a new key. Each post's
text carries the share's drill marker (``[drill:<n>]``), which is how duplicates are counted.

Run: ``python -m tests.drills._double --port 8765 [--latency-ms 40]``. ``GET /_drill/calls`` returns the
record as JSON. Standard library only, so it starts fast and is independent of Django.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MARKER = re.compile(r"\[drill:(\d+)\]")


class Record:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.calls: list[dict[str, Any]] = []
        self.by_key: dict[tuple[str, str], dict[str, Any]] = {}
        self.statuses: dict[str, dict[str, Any]] = {}
        self.metric_reads = 0

    def create(self, *, token: str, key: str, text: str) -> tuple[dict[str, Any], bool]:
        with self.lock:
            existing = self.by_key.get((token, key)) if key else None
            marker = MARKER.search(text)
            call = {
                "key": key,
                "token": token,
                "marker": marker.group(1) if marker else "",
                "at": time.time(),
                "created": existing is None,
            }
            if existing is None:
                status_id = str(len(self.statuses) + 1)
                existing = {
                    "id": status_id,
                    "url": f"http://drill.example/@x/{status_id}",
                    "created_at": datetime.now(UTC).isoformat(),
                    "content": text,
                    "favourites_count": 0,
                    "reblogs_count": 0,
                    "replies_count": 0,
                }
                self.statuses[status_id] = existing
                if key:
                    self.by_key[(token, key)] = existing
            call["status_id"] = existing["id"]
            self.calls.append(call)
            return existing, bool(call["created"])

    def read(self, status_id: str) -> dict[str, Any] | None:
        """A status with counts that grow with each read, so every metrics window sees new engagement."""
        with self.lock:
            self.metric_reads += 1
            status = self.statuses.get(status_id)
            if status is None:
                return None
            status["favourites_count"] += 3
            status["reblogs_count"] += 1
            status["replies_count"] += 1
            return dict(status)


def handler_for(record: Record, latency: float) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            return

        def _send(self, status: int, body: Any) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _pause(self) -> None:
            if latency:
                time.sleep(random.uniform(0, latency))

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            if self.path != "/api/v1/statuses":
                self._send(404, {"error": "not found"})
                return
            try:
                payload = json.loads(raw or b"{}")
            except ValueError:
                self._send(422, {"error": "bad json"})
                return
            token = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
            if not token:
                self._send(401, {"error": "The access token is invalid"})
                return
            # Latency on both sides of the moment the post exists, so a killed worker dies before
            # the network saw the call as well as after it made the post but before the answer.
            self._pause()
            status, _created = record.create(
                token=token, key=self.headers.get("Idempotency-Key") or "", text=str(payload.get("status") or "")
            )
            self._pause()
            self._send(200, status)

        def do_GET(self) -> None:
            if self.path == "/_drill/calls":
                with record.lock:
                    body = {"calls": list(record.calls), "metric_reads": record.metric_reads}
                self._send(200, body)
                return
            if self.path == "/_drill/health":
                self._send(200, {"ok": True})
                return
            match = re.fullmatch(r"/api/v1/statuses/(\d+)", self.path)
            if match is None:
                self._send(404, {"error": "not found"})
                return
            status = record.read(match.group(1))
            if status is None:
                self._send(404, {"error": "Record not found"})
                return
            self._send(200, status)

    return Handler


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A worker SIGKILLed mid-request resets its connection: expected in a drill, not worth a traceback.
        return


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    args = parser.parse_args()
    server = Server(("127.0.0.1", args.port), handler_for(Record(), args.latency_ms / 1000))
    server.serve_forever()


if __name__ == "__main__":
    main()
