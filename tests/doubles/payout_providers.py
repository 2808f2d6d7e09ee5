"""Local test doubles of Stripe and PayPal, served over real HTTP on loopback.

They speak the documented shapes the providers use (form-encoded Stripe requests with Bearer
auth and Idempotency-Key; PayPal OAuth2 client credentials and Payouts JSON) and record every
request so tests can assert what went over the wire.
"""

from __future__ import annotations

import base64
import itertools
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlparse


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode()))

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class ProviderDouble:
    base_url: str = ""
    stripe_secret_key: str = "sk_test_double"
    paypal_client_id: str = "paypal-client"
    paypal_client_secret: str = "paypal-secret"
    requests: list[RecordedRequest] = field(default_factory=list)
    #: receivers (PayPal emails or Stripe account ids) whose payouts fail.
    failing_receivers: set[str] = field(default_factory=set)
    stripe_idempotency: dict[str, dict[str, Any]] = field(default_factory=dict)
    paypal_batches: dict[str, dict[str, Any]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    serial: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def calls(self, path_prefix: str) -> list[RecordedRequest]:
        return [request for request in self.requests if request.path.startswith(path_prefix)]


def _handler(double: ProviderDouble) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return

        def _reply(self, status: int, body: dict[str, Any]) -> None:
            raw = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def _record(self) -> RecordedRequest:
            length = int(self.headers.get("Content-Length") or 0)
            request = RecordedRequest(
                method=self.command,
                path=urlparse(self.path).path,
                headers=dict(self.headers.items()),
                body=self.rfile.read(length) if length else b"",
            )
            with double.lock:
                double.requests.append(request)
            return request

        def do_POST(self) -> None:
            request = self._record()
            if request.path.startswith("/v1/oauth2/token"):
                return self._paypal_token(request)
            if request.path == "/v1/payments/payouts":
                return self._paypal_create(request)
            if request.headers.get("Authorization") != f"Bearer {double.stripe_secret_key}":
                return self._reply(401, {"error": {"type": "invalid_request_error", "message": "Invalid API Key"}})
            if request.path == "/v1/checkout/sessions":
                return self._stripe_idempotent(request, self._checkout_session)
            if request.path == "/v1/transfers":
                return self._stripe_idempotent(request, self._transfer)
            return self._reply(404, {"error": {"message": "Unrecognized request URL"}})

        def do_GET(self) -> None:
            request = self._record()
            if request.path.startswith("/v1/payments/payouts/"):
                batch = double.paypal_batches.get(request.path.rsplit("/", 1)[1])
                return self._reply(200, batch) if batch else self._reply(404, {"name": "INVALID_RESOURCE_ID"})
            return self._reply(404, {"error": {"message": "Unrecognized request URL"}})

        # --- Stripe ---
        def _stripe_idempotent(self, request: RecordedRequest, build: Any) -> None:
            key = request.headers.get("Idempotency-Key", "")
            with double.lock:
                if key and key in double.stripe_idempotency:
                    return self._reply(200, double.stripe_idempotency[key])
                status, body = build(request.form())
                if key and status == 200:
                    double.stripe_idempotency[key] = body
            return self._reply(status, body)

        def _checkout_session(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
            session_id = f"cs_test_{next(double.serial):06d}"
            return 200, {
                "id": session_id,
                "object": "checkout.session",
                "mode": form.get("mode"),
                "amount_total": int(form["line_items[0][price_data][unit_amount]"]),
                "currency": form["line_items[0][price_data][currency]"],
                "client_reference_id": form.get("client_reference_id"),
                "metadata": {"brand": form.get("metadata[brand]", "")},
                "payment_status": "unpaid",
                "status": "open",
                "url": f"{double.base_url}/checkout/{session_id}",
            }

        def _transfer(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
            if form.get("destination") in double.failing_receivers:
                return 400, {
                    "error": {
                        "type": "invalid_request_error",
                        "code": "account_invalid",
                        "message": "The destination account cannot receive transfers.",
                    }
                }
            return 200, {
                "id": f"tr_test_{next(double.serial):06d}",
                "object": "transfer",
                "amount": int(form["amount"]),
                "currency": form["currency"],
                "destination": form["destination"],
                "transfer_group": form.get("transfer_group"),
            }

        # --- PayPal ---
        def _paypal_token(self, request: RecordedRequest) -> None:
            expected = base64.b64encode(f"{double.paypal_client_id}:{double.paypal_client_secret}".encode()).decode()
            if request.headers.get("Authorization") != f"Basic {expected}":
                return self._reply(
                    401, {"error": "invalid_client", "error_description": "Client Authentication failed"}
                )
            return self._reply(200, {"access_token": "A21-double-token", "token_type": "Bearer", "expires_in": 32400})

        def _paypal_create(self, request: RecordedRequest) -> None:
            if request.headers.get("Authorization") != "Bearer A21-double-token":
                return self._reply(401, {"name": "AUTHENTICATION_FAILURE"})
            body = request.json()
            sender_batch_id = body["sender_batch_header"]["sender_batch_id"]
            with double.lock:
                for batch in double.paypal_batches.values():
                    if batch["batch_header"]["sender_batch_header"]["sender_batch_id"] == sender_batch_id:
                        return self._reply(400, {"name": "USER_BUSINESS_ERROR", "message": "Batch already exists"})
                batch_id = f"PAYOUTBATCH{next(double.serial):06d}"
                items = []
                for item in body["items"]:
                    failed = item["receiver"] in double.failing_receivers
                    row: dict[str, Any] = {
                        "payout_item_id": f"ITEM{next(double.serial):06d}",
                        "transaction_status": "FAILED" if failed else "SUCCESS",
                        "payout_batch_id": batch_id,
                        "payout_item": item,
                    }
                    if failed:
                        row["errors"] = {"name": "RECEIVER_UNREGISTERED", "message": "Receiver is unregistered"}
                    items.append(row)
                header = {
                    "payout_batch_id": batch_id,
                    "batch_status": "SUCCESS",
                    "sender_batch_header": body["sender_batch_header"],
                }
                double.paypal_batches[batch_id] = {"batch_header": header, "items": items}
            return self._reply(201, {"batch_header": {**header, "batch_status": "PENDING"}, "links": []})

    return Handler


@contextmanager
def provider_double_server() -> Iterator[ProviderDouble]:
    double = ProviderDouble()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(double))
    double.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield double
    finally:
        server.shutdown()
        server.server_close()
