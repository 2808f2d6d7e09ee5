"""Pending OAuth authorisations, bound to the person's session.

Each ``state`` is stored with what the callback needs (network, server, PKCE verifier, where to
go next) and is popped on first use: missing, unknown, reused and expired states are refused.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any

from django.contrib.sessions.backends.base import SessionBase
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from networks.errors import OAuthStateError

SESSION_KEY = "networks_oauth_pending"
STATE_MAX_AGE_SECONDS = 10 * 60
MAX_PENDING = 5


@dataclass(frozen=True)
class PendingAuth:
    state: str
    network: str
    instance_url: str
    code_verifier: str
    redirect_uri: str
    next_path: str
    created_at: float

    def __repr__(self) -> str:
        return f"PendingAuth(network={self.network!r}, instance_url={self.instance_url!r})"


def safe_next_path(candidate: str | None) -> str:
    """``candidate`` if it is a same-site relative path, else "" (never an open redirect)."""
    if not candidate:
        return ""
    if not candidate.startswith("/") or candidate.startswith(("//", "/\\")) or "\\" in candidate:
        return ""
    if any(ord(char) < 32 for char in candidate):
        return ""
    if not url_has_allowed_host_and_scheme(candidate, allowed_hosts=set(), require_https=False):
        return ""
    return candidate


def pending_auth_store(session: SessionBase, pending: PendingAuth) -> None:
    entries: dict[str, dict[str, Any]] = dict(session.get(SESSION_KEY, {}))
    now = time.time()
    entries = {key: value for key, value in entries.items() if now - value["created_at"] < STATE_MAX_AGE_SECONDS}
    entries[pending.state] = asdict(pending)
    if len(entries) > MAX_PENDING:
        for key in sorted(entries, key=lambda key: entries[key]["created_at"])[: len(entries) - MAX_PENDING]:
            del entries[key]
    session[SESSION_KEY] = entries


def pending_auth_pop(session: SessionBase, state: str | None) -> PendingAuth:
    """The pending authorisation for ``state``, removed from the session (single use)."""
    if not state:
        raise OAuthStateError(_("The connection could not be verified. Please start again."))
    entries: dict[str, dict[str, Any]] = dict(session.get(SESSION_KEY, {}))
    raw = entries.pop(state, None)
    session[SESSION_KEY] = entries
    if raw is None:
        raise OAuthStateError(_("This connection attempt is unknown or was already used. Please start again."))
    pending = PendingAuth(**raw)
    if time.time() - pending.created_at > STATE_MAX_AGE_SECONDS:
        raise OAuthStateError(_("This connection attempt expired. Please start again."))
    return pending
