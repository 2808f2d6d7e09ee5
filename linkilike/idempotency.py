"""``Idempotency-Key`` support for API writes (Stripe's semantics).

The first request with a key runs inside one transaction together with the insert of its
record, so a concurrent duplicate waits on the unique index and then replays the stored
response. The same key with a different request is refused; keys are scoped per user.
Server errors roll everything back, so the key can be retried.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiParameter
from rest_framework import status
from rest_framework.exceptions import APIException, NotAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from linkilike.models import IdempotencyRecord

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255

IDEMPOTENCY_KEY_PARAMETER = OpenApiParameter(
    name=HEADER,
    type=str,
    location=OpenApiParameter.HEADER,
    required=False,
    description=(
        "A unique key (for example a UUID) that makes this write safe to retry: replays with the same key "
        "return the first response and change nothing. Reusing a key with a different body answers 422."
    ),
)
REQUIRED_IDEMPOTENCY_KEY_PARAMETER = OpenApiParameter(
    name=HEADER,
    type=str,
    location=OpenApiParameter.HEADER,
    required=True,
    description=IDEMPOTENCY_KEY_PARAMETER.description,
)


def _fingerprint(request: Request) -> str:
    body = json.dumps(request.data, sort_keys=True, default=str) if request.data else ""
    raw = f"{request.method} {request.path}\n{body}"
    return hashlib.sha256(raw.encode()).hexdigest()


def _replay(record: IdempotencyRecord, fingerprint: str) -> Response:
    if record.fingerprint != fingerprint:
        return Response(
            {"detail": _("This Idempotency-Key was already used for a different request.")},
            status=status.HTTP_422_UNPROCESSABLE_ENTITY,
        )
    if record.response_status is None:
        return Response(
            {"detail": _("A request with this Idempotency-Key is still being processed. Retry shortly.")},
            status=status.HTTP_409_CONFLICT,
        )
    response = Response(record.response_body, status=record.response_status)
    response["Idempotent-Replayed"] = "true"
    return response


class IdempotencyKeyRequired(APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = gettext_lazy("This request needs an Idempotency-Key header.")
    default_code = "idempotency_key_required"


def idempotency_key_require(request: Request) -> None:
    """400 unless the request carries the header; for a view whose other checks would answer first.

    ``idempotent_call`` checks it too, but only once the view runs: a view that first looks up the
    caller's own records (the influencer profile) would answer 404 for a request that is malformed.
    """
    if not request.headers.get(HEADER, "").strip():
        raise IdempotencyKeyRequired()


def idempotent_call(
    request: Request, *, scope: str, handler: Callable[[], Response], required: bool = False
) -> Response:
    key = request.headers.get(HEADER, "").strip()
    if not key:
        if required:
            return Response(
                {"detail": str(IdempotencyKeyRequired.default_detail)},
                status=status.HTTP_400_BAD_REQUEST,
            )
        return handler()
    if len(key) > MAX_KEY_LENGTH:
        return Response(
            {"detail": _("The Idempotency-Key may be at most 255 characters long.")},
            status=status.HTTP_400_BAD_REQUEST,
        )
    fingerprint = _fingerprint(request)
    user_id = request.user.pk
    if user_id is None:  # API views require authentication; never share one anonymous key space
        raise NotAuthenticated
    with transaction.atomic():
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(
                    user_id=user_id, key=key, scope=scope, fingerprint=fingerprint
                )
        except IntegrityError:
            existing = IdempotencyRecord.objects.get(user_id=user_id, key=key)
            return _replay(existing, fingerprint)
        response = handler()
        if response.status_code >= 500:
            transaction.set_rollback(True)
            return response
        record.response_status = response.status_code
        record.response_body = json.loads(JSONRenderer().render(response.data) or b"null")
        record.save(update_fields=["response_status", "response_body"])
        return response
