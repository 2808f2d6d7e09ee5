"""The audit trail: ``audit_record`` writes one ``AuditEvent`` inside the caller's transaction.

Services that change moderation state, move money or change permissions call it next to the
change, so the event commits or rolls back with it. Per-click and per-metric earnings accruals are
not audited: they are high-volume and machine-made, and the immutable ledger is their trail.

Which actions exist: each app registers its own (``<app>/audit.py``, ``linkilike.audit_actions``).

Who did it: the service passes the actor when it knows one (``reviewed_by``, ``decided_by``);
otherwise the signed-in user of the current request (``AuditContextMiddleware``); otherwise none
(a worker or the scheduler).
"""

from __future__ import annotations

import contextvars
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import models, transaction
from django.http import HttpRequest, HttpResponse

from linkilike.audit_actions import action_get
from linkilike.models import AuditEvent

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractUser

REDACTED = "[redacted]"
# Keys whose values never go into the trail (or a dead letter): credentials of any kind.
SECRET_KEY_PATTERN = re.compile(r"(?i)(token|secret|password|passwd|api_?key|authorization|cookie|jwt|nonce)")
# Keys whose values are shown masked: enough to recognise the account, not to use it.
MASKED_KEY_PATTERN = re.compile(r"(?i)(iban|account_number|stripe_account|paypal_email)")


def mask(value: str, *, keep: int = 4) -> str:
    """``DE89370400440532013000`` -> ``••••3000``: recognisable, not usable."""
    value = str(value)
    if len(value) <= keep:
        return "•" * len(value)
    return "••••" + value[-keep:]


def redact(value: Any) -> tuple[Any, bool]:
    """A JSON-safe copy with secrets removed and account numbers masked; the flag says whether anything was."""
    if isinstance(value, Mapping):
        cleaned: dict[str, Any] = {}
        changed = False
        for key, item in value.items():
            name = str(key)
            if SECRET_KEY_PATTERN.search(name) and item not in (None, ""):
                cleaned[name], changed = REDACTED, True
            elif MASKED_KEY_PATTERN.search(name) and isinstance(item, str) and item:
                cleaned[name], changed = mask(item), True
            else:
                cleaned[name], inner = redact(item)
                changed = changed or inner
        return cleaned, changed
    if isinstance(value, list | tuple):
        items = [redact(item) for item in value]
        return [item for item, _changed in items], any(changed for _item, changed in items)
    if value is None or isinstance(value, bool | int | float | str):
        return value, False
    return str(value), False


# --- request context -------------------------------------------------------------------


@dataclass(frozen=True)
class AuditContext:
    request: HttpRequest
    request_id: str
    ip_address: str | None


_context: contextvars.ContextVar[AuditContext | None] = contextvars.ContextVar("audit_context", default=None)


class AuditContextMiddleware:
    """Remembers who is making the current request (read lazily, after authentication ran)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        supplied = request.headers.get("X-Request-ID", "")
        request_id = supplied[:64] if re.fullmatch(r"[A-Za-z0-9._-]{1,64}", supplied) else uuid.uuid4().hex
        token = _context.set(AuditContext(request, request_id, request.META.get("REMOTE_ADDR") or None))
        try:
            return self.get_response(request)
        finally:
            _context.reset(token)


def _request_user() -> AbstractUser | None:
    context = _context.get()
    user = getattr(context.request, "user", None) if context else None
    return user if user is not None and user.is_authenticated else None


# --- the service -----------------------------------------------------------------------


def audit_record(
    *,
    action: str,
    target: models.Model,
    actor: AbstractUser | None = None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    reason: str = "",
    brand_id: int | None = None,
) -> AuditEvent:
    """Records one change. Must run inside the transaction that makes the change.

    ``action`` is one its app registered (``linkilike.audit_actions``); any other raises ``UnknownAuditAction``.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit_record() must run inside the transaction that makes the change")
    registered = action_get(action)
    actor = actor if actor is not None else _request_user()
    context = _context.get()
    clean_before, _changed = redact(dict(before or {}))
    clean_after, _changed = redact(dict(after or {}))
    return AuditEvent.objects.create(
        category=registered.category,
        action=action,
        actor_id=actor.pk if actor is not None else None,
        actor_label=actor.email if actor is not None else "",
        target_type=target._meta.label_lower,
        target_id=str(target.pk),
        target_label=str(target)[:200],
        brand_id=brand_id,
        before=clean_before,
        after=clean_after,
        reason=reason,
        request_id=context.request_id if context else "",
        ip_address=context.ip_address if context else None,
    )
