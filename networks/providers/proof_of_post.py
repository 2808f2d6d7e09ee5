"""Networks where Linkilike may not post for the person: "you post, we verify".

A personal Facebook profile, a personal Instagram account, TikTok and a personal LinkedIn profile without the
network's app review have no API Linkilike may post through. The influencer posts herself (through the
network's share page where one exists, else with the caption to copy and the image to download), pastes the
permalink, and Linkilike verifies the post (``campaigns.publishing.proof``):

- ``Verification.EMBED``: the network's public oEmbed endpoint, which answers without a token (TikTok);
- ``Verification.PAGE``: the post's public page, fetched without signing in (LinkedIn);
- ``Verification.CLICKS``: nothing public answers without a token, or the network's terms allow its embed
  answers for display only (Facebook, Instagram: Meta's oEmbed terms forbid deriving information from them):
  the tracking link's first real clicks verify the post, and staff spot-check it.

What can be paid there: the participation fee and the clicks Linkilike measures itself. The network's own
counts (reach, engagement) are never read, so never paid and never estimated (``Capabilities.metrics`` is
empty and ``api_posting_allowed`` False).

Every class here is a ``NetworkProvider`` like any other (one settings line each); the calls that need an
API (connecting by OAuth, publishing, metrics) raise ``NotSupported``. An account is connected with its
handle and profile address, checked for form (``profile_check``), never with a token.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar
from urllib.parse import urlencode, urlsplit

import requests
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from networks.providers.base import NetworkProvider, first_url
from networks.providers.exceptions import NetworkError, NotSupported
from networks.providers.http import status_error
from networks.providers.types import (
    AccountRef,
    AuthStart,
    Capabilities,
    LinkHandling,
    MetricsSnapshot,
    PostDraft,
    PublishResult,
    RateLimitInfo,
    TokenSet,
)

#: What may follow a post address's path (its query string), in ``permalink_patterns``.
QUERY = r"(?:\?.*)?"


def proof_of_post_capabilities(
    *, max_chars: int, max_images: int, link_handling: LinkHandling, requirements: str, image_required: bool = False
) -> Capabilities:
    """A "you post, we verify" network's capabilities: never posted to through an API, no counts read."""
    return Capabilities(
        max_chars=max_chars,
        max_images=max_images,
        video=True,
        link_handling=link_handling,
        reach_reported=False,
        metrics_batch_size=1,
        api_posting_allowed=False,
        image_required=image_required,
        metrics=(),
        requirements=requirements,
    )


class Verification(StrEnum):
    """How a pasted post is verified."""

    EMBED = "embed"  # the network's public oEmbed endpoint, without a token
    PAGE = "page"  # the post's public page, without signing in
    CLICKS = "clicks"  # the tracking link's first real clicks, and a staff spot-check


@dataclass(frozen=True)
class PostEvidence:
    """What a public read of a post showed."""

    #: The author as the network names her ("" where the answer does not say).
    author: str
    #: The text to find the disclosure and the link in (the caption, or the whole page).
    text: str


@dataclass(frozen=True)
class ProfileCheck:
    """A handle and profile address as the person typed them, checked for form."""

    handle: str = ""
    profile_url: str = ""
    problems: tuple[str, ...] = ()


class ProofOfPostProvider(NetworkProvider):
    """A network the influencer posts to herself; Linkilike verifies the pasted post."""

    connect_template = "networks/connect/handle.html"
    verification: ClassVar[Verification] = Verification.CLICKS
    #: The network's public web address (its share page, and what profile and post addresses are checked against).
    web_hosts: ClassVar[frozenset[str]] = frozenset()
    #: Hosts of the network's short links (accepted as post addresses, never as profiles).
    short_hosts: ClassVar[frozenset[str]] = frozenset()
    #: Post addresses the network gives out (matched against the path and query, after the host is checked).
    permalink_patterns: ClassVar[tuple[re.Pattern[str], ...]] = ()
    #: Short-link paths, accepted only on ``short_hosts``.
    short_patterns: ClassVar[tuple[re.Pattern[str], ...]] = (re.compile(rf"/[A-Za-z0-9_-]{{4,40}}/?{QUERY}"),)
    #: The network's public web address (``ConnectedAccount.instance_url`` of its accounts).
    production_web_url: ClassVar[str] = ""
    #: A profile address's path; group ``handle`` is the handle.
    profile_path: ClassVar[re.Pattern[str]] = re.compile(r"^/(?P<handle>[A-Za-z0-9._-]+)/?$")
    #: A handle as the network allows it (without a leading @).
    handle_pattern: ClassVar[re.Pattern[str]] = re.compile(r"^[A-Za-z0-9._-]{1,100}$")
    #: Canonical profile address for a handle.
    profile_template: ClassVar[str] = ""
    #: Example post address shown next to the field where people paste it.
    permalink_example: ClassVar[str] = ""
    #: How the influencer gets the content onto the network, in one line (the share page).
    how_to_post: ClassVar[Promise | str] = ""
    #: The network's share page that takes the post's link ("": none, the influencer posts in the app).
    share_page_url: ClassVar[str] = ""
    #: The share page's query parameter that carries the link.
    share_page_param: ClassVar[str] = "url"

    # --- what the pages say -----------------------------------------------------------

    @classmethod
    def share_intent_url(cls, *, text: str, instance_url: str = "") -> str | None:
        if not cls.share_page_url:
            return None
        return share_page(cls.share_page_url, **{cls.share_page_param: first_url(text)})

    @classmethod
    def pays_for(cls) -> str:
        return _("Participation fee and the clicks Linkilike measures on your link (no reach, no engagement).")

    @classmethod
    def verification_label(cls) -> str:
        return {
            Verification.EMBED: _("checked through the network's public embed"),
            Verification.PAGE: _("checked on the post's public page"),
            Verification.CLICKS: _("verified by the first real clicks on your link, and spot-checked by our team"),
        }[cls.verification]

    # --- connecting: a handle and a profile address -----------------------------------

    @classmethod
    def handle_clean(cls, raw: str) -> str:
        return raw.strip().lstrip("@").strip()

    @classmethod
    def profile_check(cls, *, handle: str, profile_url: str) -> ProfileCheck:
        """The handle and profile address in their canonical form, or what is wrong with them."""
        name = cls.handle_clean(handle)
        problems: list[str] = []
        if not cls.handle_pattern.fullmatch(name):
            problems.append(_("Enter your handle as it appears on the network, without spaces."))
        address = profile_url.strip()
        if address and "://" not in address:
            address = "https://" + address
        parts = urlsplit(address)
        host = (parts.hostname or "").lower()
        match = cls.profile_path.fullmatch(parts.path or "/") if address else None
        if not address:
            if not problems:
                address = cls.profile_template.format(handle=name)
        elif parts.scheme != "https" or host not in cls.web_hosts or match is None:
            problems.append(
                _("Enter the address of your profile, for example %(example)s.")
                % {"example": cls.profile_template.format(handle=name or "yourname")}
            )
        elif match.group("handle").lower() != name.lower():
            problems.append(_("The profile address does not belong to the handle you entered."))
        else:
            address = cls.profile_template.format(handle=match.group("handle"))
        if problems:
            return ProfileCheck(problems=tuple(problems))
        return ProfileCheck(handle=f"@{name}", profile_url=address)

    # --- the pasted post -------------------------------------------------------------

    @classmethod
    def post_hosts(cls) -> frozenset[str]:
        return cls.web_hosts | cls.short_hosts

    @classmethod
    def permalink_problem(cls, url: str, *, handle: str) -> str:
        """What is wrong with a pasted post address ("" when it is one of the network's post addresses of
        this account, as far as the address says whose post it is)."""
        parts = urlsplit(url.strip())
        host = (parts.hostname or "").lower()
        if parts.scheme != "https" or host not in cls.post_hosts():
            return _("Paste the address of your post on %(network)s, for example %(example)s.") % {
                "network": cls.facts.label,
                "example": cls.permalink_example,
            }
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        patterns = cls.short_patterns if host in cls.short_hosts else cls.permalink_patterns
        match = next((m for p in patterns if (m := p.fullmatch(target)) is not None), None)
        if match is None:
            return _("That is not the address of a single post. Open your post, choose Share, then Copy link.")
        author = (match.groupdict().get("author") or "").lower()
        if author and author != handle.lstrip("@").lower():
            return _("That post is not from %(handle)s, the account you connected.") % {"handle": handle}
        return ""

    def verification_url(self, permalink: str) -> str | None:
        """The address to read the post at (None: nothing answers without a token: clicks and a staff check)."""
        return None

    def evidence(self, *, body: bytes, content_type: str) -> PostEvidence:
        """What the answer of ``verification_url`` shows."""
        return PostEvidence(author="", text=body.decode("utf-8", errors="replace"))

    # --- everything that would need an API ---------------------------------------------

    def begin_auth(self, *, redirect_uri: str) -> AuthStart:
        raise NotSupported(f"{self.network}: accounts are connected by handle")

    def complete_auth(self, *, code: str, redirect_uri: str, code_verifier: str) -> TokenSet:
        raise NotSupported(f"{self.network}: accounts are connected by handle")

    def refresh(self, *, tokens: TokenSet) -> TokenSet:
        raise NotSupported(f"{self.network} has no tokens")

    def fetch_account(self, *, tokens: TokenSet) -> AccountRef:
        raise NotSupported(f"{self.network} profiles are not read through an API")

    def validate_draft(self, draft: PostDraft) -> list[str]:
        if len(draft.text) > self.capabilities.max_chars:
            return [_("The text is longer than %(max)s characters.") % {"max": self.capabilities.max_chars}]
        return []

    def publish(self, *, tokens: TokenSet, draft: PostDraft, idempotency_key: str) -> PublishResult:
        raise NotSupported(f"{self.network}: the influencer posts herself")

    def check_pending_publish(self, *, tokens: TokenSet, draft: PostDraft, idempotency_key: str) -> PublishResult:
        raise NotSupported(f"{self.network}: the influencer posts herself")

    def fetch_metrics(self, *, tokens: TokenSet, external_ids: Sequence[str]) -> list[MetricsSnapshot]:
        raise NotSupported(f"{self.network} reports no counts to Linkilike")

    def delete(self, *, tokens: TokenSet, external_id: str) -> None:
        raise NotSupported(f"{self.network}: the influencer deletes her post herself")

    def parse_rate_limit(self, headers: Mapping[str, str]) -> RateLimitInfo | None:
        return None

    def classify_error(self, response: requests.Response) -> NetworkError:
        return status_error(response, text=response.text[:200])


def oembed_evidence(body: bytes) -> PostEvidence | None:
    """An oEmbed JSON answer's author handle and caption (None: not an oEmbed answer)."""
    try:
        data = json.loads(body.decode("utf-8", errors="replace"))
    except ValueError:
        return None
    if not isinstance(data, dict) or not data.get("html"):
        return None
    author = str(data.get("author_unique_id") or "")
    if not author:
        author = urlsplit(str(data.get("author_url") or "")).path.strip("/").lstrip("@")
    return PostEvidence(author=author, text=f"{data.get('title') or ''}\n{data.get('html') or ''}")


def share_page(base: str, **params: str) -> str:
    return f"{base}?{urlencode(params)}"
