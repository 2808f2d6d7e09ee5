"""The interface every network implements. One subclass per network, registered in settings.

A provider speaks plain HTTP through an injected ``HttpClient`` against ``base_url`` and knows
nothing about the database: callers (``networks.services``) load credentials, call it with
plain dataclasses and store what comes back. Every failure is one of
``networks.providers.exceptions``.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import ClassVar

import requests

from networks.providers.exceptions import NetworkError, NotSupported
from networks.providers.http import HttpClient, instance_address_guard
from networks.providers.types import (
    AccountRef,
    AuthStart,
    Capabilities,
    ClientCredentials,
    DisplayFacts,
    MetricsSnapshot,
    PostDraft,
    PublishResult,
    RateLimitInfo,
    TokenSet,
)

_URL_IN_TEXT = re.compile(r"https?://\S+")


def first_url(text: str) -> str:
    """The first web address in ``text`` ("" when there is none)."""
    match = _URL_IN_TEXT.search(text)
    return match.group(0) if match else ""


class NetworkProvider(ABC):
    """One network. Everything Linkilike knows about a network lives on its subclass: what it can do
    (``capabilities``), what the pages say about it (``facts``), its share page (``share_intent_url``) and how
    an account is connected (``connect_template``); ``networks.providers.registry`` reads them from there."""

    #: The key used in settings.NETWORK_PROVIDERS and ConnectedAccount.network.
    network: ClassVar[str]
    capabilities: ClassVar[Capabilities]
    facts: ClassVar[DisplayFacts]
    #: The accounts-page partial that offers connecting (and, given ``account``, reconnecting) an account.
    connect_template: ClassVar[str]
    #: Set on a network that stands in for another one in campaigns (the sandbox for Mastodon): campaigns target,
    #: and write captions for, that network; this one is no campaign network of its own.
    campaign_network: ClassVar[str] = ""
    #: True when the person names their server (Mastodon); False for fixed-URL networks.
    per_instance: ClassVar[bool] = False
    #: True when the client must be registered on each server before OAuth (Mastodon).
    needs_app_registration: ClassVar[bool] = False
    #: How long the network may still be carrying out a write after Linkilike stopped waiting for its answer (a
    #: proxy's 502/504, a lost connection, a timeout: the origin can create the post after the proxy answered).
    #: Until then an ambiguous publish is only looked up (``lookup_publish``), never sent again, and its claim is
    #: kept; the look-up that may lead to sending again (``check_pending_publish``) comes after it. Every network
    #: whose look-up can miss a post still being created keeps this default; 0 only where a repeated create
    #: cannot make a second post (Bluesky's record key).
    ambiguous_settle: ClassVar[timedelta] = timedelta(minutes=5)

    def __init__(self, *, base_url: str, http: HttpClient | None = None, client: ClientCredentials | None = None):
        self.base_url = base_url.rstrip("/")
        self.http = http or HttpClient()
        self.client = client
        if self.per_instance:
            # A person named this server (a Mastodon instance): the check when it was entered is not
            # enough, its DNS can change after; every connection is checked and pinned again (S7).
            self.http.pin_checked_addresses(instance_address_guard())

    # --- posting by hand -----------------------------------------------------------

    @classmethod
    def share_intent_url(cls, *, text: str, instance_url: str = "") -> str | None:
        """The network's own "share" page prefilled with ``text`` (its link for networks that take only one),
        for posting by hand (proof of post). None where the network has no such page."""
        return None

    # --- connecting ---------------------------------------------------------------

    def register_app(self, *, redirect_uri: str, website: str) -> ClientCredentials:
        raise NotSupported(f"{self.network} has no dynamic app registration")

    @abstractmethod
    def begin_auth(self, *, redirect_uri: str) -> AuthStart:
        """Build the authorisation URL with a fresh ``state`` and PKCE verifier."""

    @abstractmethod
    def complete_auth(self, *, code: str, redirect_uri: str, code_verifier: str) -> TokenSet:
        """Exchange the authorisation code for tokens."""

    @abstractmethod
    def refresh(self, *, tokens: TokenSet) -> TokenSet:
        """Renew an access token. Raises ``NotSupported`` where the network has no refresh."""

    @abstractmethod
    def fetch_account(self, *, tokens: TokenSet) -> AccountRef:
        """The connected account's profile, including its follower count."""

    def revoke(self, *, tokens: TokenSet) -> None:
        """Withdraw the token at the network (disconnecting). ``NotSupported`` where there is no such call."""
        raise NotSupported(f"{self.network} tokens are not revoked through Linkilike")

    # --- posting ------------------------------------------------------------------

    def current_capabilities(self) -> Capabilities:
        """The capabilities of this provider's server; per-instance networks read their limits from it."""
        return self.capabilities

    @abstractmethod
    def validate_draft(self, draft: PostDraft) -> list[str]:
        """Problems that would make the network refuse the draft (empty list: fine)."""

    def upload_media(self, *, tokens: TokenSet, draft: PostDraft) -> tuple[str, ...]:
        """Put the draft's media on the network ahead of the post; their ids, in the order of ``draft.media``.

        Ids in ``draft.media_ids`` that the network still holds are kept, not uploaded again. The caller stores
        the answer before ``publish`` (passing it as ``draft.media_ids``), so an attempt resumed after a crash
        posts the same media without uploading them twice. ``()`` where media travel with the post itself.
        """
        return ()

    def lookup_publish(self, *, tokens: TokenSet, draft: PostDraft) -> PublishResult:
        """Find the post ``draft`` describes among the account's latest posts, sending nothing.

        PUBLISHED (with its id) or NOT_FOUND. ``NotSupported`` where the network cannot be asked.
        """
        raise NotSupported(f"{self.network} cannot look a post up")

    @abstractmethod
    def publish(self, *, tokens: TokenSet, draft: PostDraft, idempotency_key: str) -> PublishResult:
        """Create the post. A timeout after the request was sent raises ``AmbiguousOutcome``."""

    @abstractmethod
    def check_pending_publish(self, *, tokens: TokenSet, draft: PostDraft, idempotency_key: str) -> PublishResult:
        """Resolve an ambiguous or pending publish without ever creating a second post."""

    def complete_pending_publish(self, *, tokens: TokenSet, draft: PostDraft, pending_id: str) -> PublishResult:
        """Carry on a publish that answered ``PublishState.PENDING``.

        ``pending_id`` is that answer's ``external_id`` (Instagram and Threads: the media container),
        which the caller must store before calling. Answers PUBLISHED, PENDING again (call later),
        or NOT_FOUND (nothing was published; publishing anew is safe). Safe to repeat after an
        ``AmbiguousOutcome``. Networks that never answer PENDING do not implement it.
        """
        raise NotSupported(f"{self.network} never leaves a publish pending")

    @abstractmethod
    def fetch_metrics(self, *, tokens: TokenSet, external_ids: Sequence[str]) -> list[MetricsSnapshot]:
        """Counts for up to ``capabilities.metrics_batch_size`` posts."""

    def fetch_metrics_app(self, *, external_ids: Sequence[str]) -> list[MetricsSnapshot]:
        """Counts for up to ``capabilities.metrics_batch_size`` posts of any accounts, without their tokens.

        Networks whose ``capabilities.metrics_access`` is APP implement it (a public read, or one with
        Linkilike's app credentials), so one request can serve posts of many influencers.
        """
        raise NotSupported(f"{self.network} reads metrics with each account's own token")

    def own_engagement_pending(self, snapshot: MetricsSnapshot) -> bool:
        """True when ``fetch_own_engagement`` has something to find out about this snapshot of an app-level read.

        Networks that reveal the author's own engagement only to a read made as the author (Bluesky's viewer
        state) say so here, so the pull spends that read only on posts with something to check.
        """
        return False

    def fetch_own_engagement(self, *, tokens: TokenSet, snapshots: Sequence[MetricsSnapshot]) -> list[MetricsSnapshot]:
        """The snapshots of one account's posts with her own part of the counts filled in, read as her.

        A read that fails for one account sets ``unknown_reason`` on its snapshots rather than raising
        (``RateLimited`` still raises). Networks without such a read return the snapshots unchanged.
        """
        return list(snapshots)

    def fetch_engagers(self, *, tokens: TokenSet | None, external_id: str) -> tuple[AccountRef, ...]:
        """Accounts that liked or reposted the post, as far as the network names them (``()`` where it does not).

        Costs about one request per page of engagers; callers ask only for posts of campaigns with other
        influencers' accounts on the same network.
        """
        return ()

    @abstractmethod
    def delete(self, *, tokens: TokenSet, external_id: str) -> None:
        """Remove the post; deleting a post that is already gone is not an error."""

    # --- responses ----------------------------------------------------------------

    @abstractmethod
    def parse_rate_limit(self, headers: Mapping[str, str]) -> RateLimitInfo | None:
        """The rate-limit state the network reported, if any."""

    @abstractmethod
    def classify_error(self, response: requests.Response) -> NetworkError:
        """Turn an unsuccessful response into the typed error callers handle."""
