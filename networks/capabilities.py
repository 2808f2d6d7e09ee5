"""The capability matrix: what each network can do, read from the providers' declarations.

Nothing here is written by hand: every row comes from a provider class's ``capabilities`` and
its configuration state, so the matrix brands and influencers see cannot drift from the code
that publishes and measures.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from networks.providers.exceptions import NotSupported
from networks.providers.registry import (
    AUDIENCE_METRICS,
    handle_provider_class,
    network_label,
    provider_class,
)
from networks.providers.types import Capabilities, LinkHandling, Reveal
from networks.selectors import provider_get_for_network

METRIC_LABELS: dict[str, Promise] = {
    "impressions": gettext_lazy("impressions"),
    "reach": gettext_lazy("reach"),
    "views": gettext_lazy("views"),
    "likes": gettext_lazy("likes"),
    "reposts": gettext_lazy("reposts"),
    "replies": gettext_lazy("replies"),
    "quotes": gettext_lazy("quotes"),
    "bookmarks": gettext_lazy("bookmarks"),
    "shares": gettext_lazy("shares"),
    "saves": gettext_lazy("saves"),
    "link_clicks": gettext_lazy("link clicks"),
}
#: ``Capabilities.own_engagement`` uses the provider's field names (``shares`` are reposts there).
SNAPSHOT_METRIC_LABELS: dict[str, Promise] = {**METRIC_LABELS, "shares": gettext_lazy("reposts")}


@dataclass(frozen=True)
class CapabilityRow:
    network: str
    label: str
    publishing: str
    max_chars: int
    max_images: int
    video: bool
    links: str
    reach_reported: bool
    metrics: tuple[str, ...]
    cost_per_post: str
    token_refresh: bool
    needs_app_review: bool
    requirements: str
    configured: bool
    capabilities: Capabilities
    #: "yes" / "partly" / "no": the author's own engagement is left out before pay.
    own_engagement: str = ""
    own_engagement_metrics: tuple[str, ...] = ()
    #: The engagements whose accounts the network names (checked against other influencers of the campaign).
    engagers_named: tuple[str, ...] = ()
    #: "You post, we verify" (``networks.providers.proof_of_post``): how a post is verified, and what pays.
    proof_of_post: bool = False
    verification: str = ""
    pays_for: str = ""


def _links_label(handling: LinkHandling) -> str:
    return {
        LinkHandling.IN_TEXT: _("in the text, clickable"),
        LinkHandling.CARD: _("as a link card"),
        LinkHandling.NOT_CLICKABLE: _("shown, not clickable"),
    }[handling]


def _reveal_label(reveal: Reveal) -> str:
    return {Reveal.YES: _("yes"), Reveal.PARTLY: _("partly"), Reveal.NO: _("no")}[reveal]


def _labels(names: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(str(SNAPSHOT_METRIC_LABELS.get(name, name)) for name in names)


def _configured(network: str) -> bool:
    """Whether Linkilike can connect accounts: app credentials present (per-server apps register themselves)."""
    try:
        provider = provider_get_for_network(network)
    except (ImproperlyConfigured, NotSupported):
        # No fixed server: a per-instance network (Mastodon) registers an app on each server itself.
        return provider_class(network).per_instance
    return bool(getattr(provider, "is_configured", True))


def capability_row(network: str) -> CapabilityRow:
    """One network's row of the matrix."""
    cls = provider_class(network)
    caps = cls.capabilities
    handle_cls = handle_provider_class(network)
    cost = (
        _("about %(amount)s %(currency)s per post")
        % {"amount": f"{caps.cost_per_post_minor / 100:.2f}", "currency": caps.cost_currency}
        if caps.cost_per_post_minor
        else _("free")
    )
    if handle_cls is not None:
        publishing = _("You post, we verify")
    elif caps.api_posting_allowed:
        publishing = _("Linkilike posts for you")
    else:
        publishing = _("You post, then paste the link (proof of post)")
    return CapabilityRow(
        network=network,
        label=network_label(network),
        publishing=publishing,
        max_chars=caps.max_chars,
        max_images=caps.max_images,
        video=caps.video,
        links=_links_label(caps.link_handling),
        reach_reported=caps.reach_reported,
        metrics=tuple(str(METRIC_LABELS.get(name, name)) for name in caps.metrics),
        cost_per_post=cost,
        token_refresh=caps.token_refresh,
        needs_app_review=caps.needs_app_review,
        requirements=caps.requirements,
        configured=_configured(network),
        capabilities=caps,
        own_engagement=_reveal_label(caps.own_engagement),
        own_engagement_metrics=_labels(caps.own_engagement_metrics),
        engagers_named=_labels(caps.engagers_named),
        proof_of_post=not caps.api_posting_allowed,
        verification=handle_cls.verification_label() if handle_cls is not None else "",
        pays_for=handle_cls.pays_for() if handle_cls is not None else "",
    )


def capability_matrix() -> list[CapabilityRow]:
    return [capability_row(network) for network in settings.NETWORK_PROVIDERS]


def audience_reported(network: str) -> bool:
    """Whether the network's provider declares a count CPM is paid on (reach, impressions or views).

    ``Capabilities.reach_reported`` means unique reach only; X and Threads report impressions or views,
    which CPM is paid on too. A network without a configured provider reports nothing.
    """
    try:
        metrics = provider_class(network).capabilities.metrics
    except ImproperlyConfigured:
        return False
    return any(name in metrics for name in AUDIENCE_METRICS)
