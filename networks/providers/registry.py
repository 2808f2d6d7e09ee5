"""The one registry of networks: ``settings.NETWORK_PROVIDERS``, read through the provider classes it names.

Each entry is ``{"class": "<dotted path>"}`` plus, for networks with one fixed server, either
``"base_url"`` or ``"base_url_setting"`` (the name of a setting read at call time, so tests can
point it at a live server), and for networks with app credentials ``client_id_setting`` /
``client_secret_setting``. Everything else about a network (its name, what it can do, its caption
facts, its share page, how an account is connected) is read from its provider class here: the
``/networks/`` matrix, the accounts and connect pages, the campaign forms, captions and proof of post
never name a network themselves.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from networks.providers.base import NetworkProvider
from networks.providers.config import provider_base_url, provider_config
from networks.providers.http import HttpClient
from networks.providers.proof_of_post import ProofOfPostProvider
from networks.providers.types import ClientCredentials, DisplayFacts, LinkHandling, NetworkInfo

__all__ = ["provider_base_url", "provider_config"]  # read here by most callers; they live in ``config``

#: The counts CPM is paid on, in the order the metric pull takes them (``campaigns.metrics``: reach, else
#: impressions, else views). A network that reports none of them never earns CPM.
AUDIENCE_METRICS = ("reach", "impressions", "views")


def provider_class(network: str) -> type[NetworkProvider]:
    cls = import_string(provider_config(network)["class"])
    if not (isinstance(cls, type) and issubclass(cls, NetworkProvider)):
        raise ImproperlyConfigured(f"{cls!r} is not a NetworkProvider")
    return cls


def provider_classes() -> dict[str, type[NetworkProvider]]:
    """Every configured network's provider class, in the settings' order."""
    return {network: provider_class(network) for network in settings.NETWORK_PROVIDERS}


def provider_facts(network: str) -> DisplayFacts | None:
    """The network's ``DisplayFacts``; None for an unconfigured network or a provider without them (test doubles)."""
    try:
        cls = provider_class(network)
    except ImproperlyConfigured:
        return None
    facts: DisplayFacts | None = getattr(cls, "facts", None)
    return facts


def network_label(network: str) -> str:
    """The network's name for people; the key itself for a network no provider names."""
    facts = provider_facts(network)
    return str(facts.label) if facts is not None and facts.label else network


def network_choices() -> list[tuple[str, str]]:
    """``(key, name)`` of every configured network: the choices of the models' ``network`` fields."""
    return [(network, network_label(network)) for network in settings.NETWORK_PROVIDERS]


def campaign_network_of(network: str) -> str:
    """The campaign network an account network serves (the sandbox serves Mastodon), else the network itself."""
    try:
        return provider_class(network).campaign_network or network
    except ImproperlyConfigured:
        return network


def account_networks_serving(campaign_network: str) -> list[str]:
    """The account networks a campaign targeting ``campaign_network`` reaches: itself and its stand-ins."""
    stand_ins = [
        network
        for network, cls in provider_classes().items()
        if network != campaign_network and cls.campaign_network == campaign_network
    ]
    return [campaign_network, *stand_ins]


def network_info(network: str) -> NetworkInfo | None:
    """The caption and targeting facts of ``network``: its ``DisplayFacts`` with what its ``Capabilities`` say."""
    facts = provider_facts(network)
    if facts is None:
        return None
    caps = provider_class(network).capabilities
    return NetworkInfo(
        code=network,
        label=facts.label,
        max_chars=None if facts.unlimited_text else caps.max_chars,
        link_chars=facts.link_chars,
        counts_graphemes=facts.counts_graphemes,
        links_clickable=caps.link_handling != LinkHandling.NOT_CLICKABLE,
        reports_reach=any(name in caps.metrics for name in AUDIENCE_METRICS),
        needs_media=caps.image_required,
        max_hashtags=facts.max_hashtags,
        note=facts.note,
        proof_of_post=not caps.api_posting_allowed,
    )


def campaign_networks() -> dict[str, NetworkInfo]:
    """The networks campaigns target (not those that stand in for another, such as the sandbox), in order."""
    networks = {}
    for network, cls in provider_classes().items():
        info = network_info(network)
        if info is not None and not cls.campaign_network:
            networks[network] = info
    return networks


def campaign_network_choices() -> list[tuple[str, str]]:
    """``(key, name)`` of the networks campaigns target (a form field's choices)."""
    return [(network, str(info.label)) for network, info in campaign_networks().items()]


@dataclass(frozen=True)
class ConnectOption:
    """What the accounts page needs to offer connecting (or reconnecting) an account on one network."""

    network: str
    label: str
    facts: DisplayFacts
    template: str


def connect_option(network: str) -> ConnectOption | None:
    """The network's connect partial and what it shows; None where people cannot connect accounts (test doubles)."""
    try:
        cls = provider_class(network)
    except ImproperlyConfigured:
        return None
    facts: DisplayFacts | None = getattr(cls, "facts", None)
    template: str = getattr(cls, "connect_template", "")
    if facts is None or not template:
        return None
    return ConnectOption(network=network, label=str(facts.label), facts=facts, template=template)


def connect_options() -> list[ConnectOption]:
    """Every configured network people can connect an account on, in the settings' order."""
    options = (connect_option(network) for network in settings.NETWORK_PROVIDERS)
    return [option for option in options if option is not None]


def handle_provider_class(network: str) -> type[ProofOfPostProvider] | None:
    """The provider of a "you post, we verify" network (connected by handle, posts verified by Linkilike), else None."""
    try:
        cls = provider_class(network)
    except ImproperlyConfigured:
        return None
    return cls if issubclass(cls, ProofOfPostProvider) else None


def handle_networks() -> list[str]:
    """The configured "you post, we verify" networks, in the settings' order."""
    return [network for network in settings.NETWORK_PROVIDERS if handle_provider_class(network) is not None]


def share_intent_url(network: str, *, text: str, instance_url: str = "") -> str | None:
    """The network's own share page prefilled with ``text`` (None: the network has none, or is not configured)."""
    try:
        cls = provider_class(network)
    except ImproperlyConfigured:
        return None
    return cls.share_intent_url(text=text, instance_url=instance_url)


def provider_get(
    network: str,
    *,
    base_url: str = "",
    client: ClientCredentials | None = None,
    http: HttpClient | None = None,
) -> NetworkProvider:
    """An instance for ``network``; ``base_url`` defaults to the configured one (fixed-URL networks).

    Reads no database: ``networks.selectors.provider_get_for_network`` adds the app credentials staff entered
    in the admin for a fixed-URL network."""
    url = base_url or provider_base_url(network)
    if not url:
        raise ImproperlyConfigured(f"Network {network!r} needs a base URL")
    return provider_class(network)(base_url=url, http=http, client=client)
