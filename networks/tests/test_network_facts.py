"""The caption and targeting facts each provider declares agree with its capabilities, and every network's own
things (name, share page, connect partial) come from its provider class through the one registry.

The facts the pages share with the publishing adapters (caption length, clickable links, required media, a
figure CPM is paid on) are read from ``Capabilities`` by ``networks.providers.registry.network_info``; this test
pins what they were when ``campaigns/networks_info.py`` kept them by hand, so moving them changed nothing.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.conf import settings
from django.template.loader import get_template
from django.test import Client
from django.urls import reverse

from networks.providers import registry
from networks.providers.types import DisplayFacts, LinkHandling
from networks.providers.x import XProvider

#: code: (max_chars, link_chars, counts_graphemes, links_clickable, reports_reach, needs_media, max_hashtags),
#: as the hand-written table had them.
BEFORE = {
    "mastodon": (500, 23, False, True, False, False, None),
    "bluesky": (300, None, True, True, False, False, None),
    "x": (280, 23, False, True, True, False, None),
    "instagram": (2200, None, False, False, True, True, 30),
    "threads": (500, None, False, True, True, False, None),
    "facebook": (63206, None, False, True, True, False, None),
    "linkedin": (3000, None, False, True, False, False, None),
    "tumblr": (None, None, False, True, False, False, None),
}


@pytest.mark.parametrize("code", sorted(BEFORE))
def test_the_facts_are_what_the_hand_written_table_said(code: str) -> None:
    info = registry.campaign_networks()[code]
    assert (
        info.max_chars,
        info.link_chars,
        info.counts_graphemes,
        info.links_clickable,
        info.reports_reach,
        info.needs_media,
        info.max_hashtags,
    ) == BEFORE[code]
    assert str(info.note)


@pytest.mark.parametrize("code", sorted(BEFORE))
def test_the_shared_facts_match_the_provider(code: str) -> None:
    info = registry.campaign_networks()[code]
    capabilities = registry.provider_class(code).capabilities

    if info.max_chars is not None:
        assert info.max_chars == capabilities.max_chars
    # "Reports reach" on the pages means a figure CPM pricing is paid on: unique reach, or impressions/views
    # (X, Threads), which the provider's ``reach_reported`` (unique reach only) does not count.
    assert info.reports_reach == bool({"reach", "impressions", "views"} & set(capabilities.metrics))
    assert info.links_clickable == (capabilities.link_handling != LinkHandling.NOT_CLICKABLE)
    assert info.needs_media == capabilities.image_required


def test_every_configured_network_has_its_facts_and_connect_partial() -> None:
    for network, cls in registry.provider_classes().items():
        assert cls.network == network
        assert str(cls.facts.label)
        get_template(cls.connect_template)  # exists and compiles


def test_the_campaign_networks_are_the_configured_ones_but_stand_ins() -> None:
    assert set(registry.campaign_networks()) == set(settings.NETWORK_PROVIDERS) - {"sandbox"}
    assert registry.campaign_network_of("sandbox") == "mastodon"
    assert registry.account_networks_serving("mastodon") == ["mastodon", "sandbox"]
    assert registry.account_networks_serving("x") == ["x"]


def test_choices_and_labels_come_from_the_providers() -> None:
    choices = dict(registry.network_choices())
    assert choices["sandbox"] == "Linkilike Sandbox"
    assert choices["facebook"] == "Facebook Pages"
    assert registry.network_label("nowhere") == "nowhere"


SHARE = "#ad Try it https://lnk.test/r/abc"


@pytest.mark.parametrize(
    ("network", "instance_url", "start", "field", "value"),
    [
        ("x", "", "https://x.com/intent/post?", "text", SHARE),
        ("bluesky", "", "https://bsky.app/intent/compose?", "text", SHARE),
        ("threads", "", "https://www.threads.net/intent/post?", "text", SHARE),
        ("facebook", "", "https://www.facebook.com/sharer/sharer.php?", "u", "https://lnk.test/r/abc"),
        ("linkedin", "", "https://www.linkedin.com/sharing/share-offsite/?", "url", "https://lnk.test/r/abc"),
        ("tumblr", "", "https://www.tumblr.com/widgets/share/tool?", "canonicalUrl", "https://lnk.test/r/abc"),
        ("mastodon", "https://social.example/", "https://social.example/share?", "text", SHARE),
        ("sandbox", "http://127.0.0.1:8000/sandbox", "http://127.0.0.1:8000/sandbox/share?", "text", SHARE),
    ],
)
def test_each_network_builds_its_own_share_page(
    network: str, instance_url: str, start: str, field: str, value: str
) -> None:
    url = registry.share_intent_url(network, text=SHARE, instance_url=instance_url)
    assert url is not None
    assert url.startswith(start)
    assert parse_qs(urlsplit(url).query)[field] == [value]


def test_networks_without_a_share_page_say_none() -> None:
    assert registry.share_intent_url("instagram", text=SHARE) is None
    assert registry.share_intent_url("mastodon", text=SHARE, instance_url="") is None
    assert registry.share_intent_url("reddit", text=SHARE) is None  # no such network


# --- adding a network: one provider module and one settings line ----------------------------------------------


class ChirpProvider(XProvider):
    """A network added the way networks/README.md says: a provider class and a settings line, nothing else."""

    network = "chirp"
    facts = DisplayFacts(label="Chirp", note="Counts likes.")
    production_api_url = "https://api.chirp.example"
    production_web_url = "https://chirp.example"

    @classmethod
    def share_intent_url(cls, *, text: str, instance_url: str = "") -> str | None:
        return "https://chirp.example/share?" + urlencode({"text": text})


@pytest.fixture
def chirp(settings: Any) -> None:
    settings.NETWORK_PROVIDERS = {
        **settings.NETWORK_PROVIDERS,
        "chirp": {
            "class": f"{__name__}.ChirpProvider",
            "base_url": "https://api.chirp.example",
            "client_id_setting": "CHIRP_CLIENT_ID",
            "client_secret_setting": "CHIRP_CLIENT_SECRET",
        },
    }
    settings.CHIRP_CLIENT_ID = "chirp-app"
    settings.CHIRP_CLIENT_SECRET = "chirp-secret"


@pytest.mark.django_db
@pytest.mark.usefixtures("chirp")
def test_a_network_added_by_a_provider_and_a_settings_line_is_everywhere(signed_in: Client) -> None:
    from networks.capabilities import capability_matrix
    from networks.models import ConnectedAccount

    # The models' choices and names.
    field = ConnectedAccount._meta.get_field("network")
    assert field.clean("chirp", None) == "chirp"
    assert ConnectedAccount(network="chirp").get_network_display() == "Chirp"
    # The matrix, the campaign targeting choices and caption facts, proof of post.
    row = next(row for row in capability_matrix() if row.network == "chirp")
    assert row.label == "Chirp"
    assert row.configured
    assert ("chirp", "Chirp") in registry.campaign_network_choices()
    assert registry.campaign_networks()["chirp"].max_chars == XProvider.capabilities.max_chars
    assert registry.share_intent_url("chirp", text="hi") == "https://chirp.example/share?text=hi"
    # The accounts page offers it, and its connect page (the OAuth 2 family's) serves it.
    page = signed_in.get(reverse("networks:accounts")).content.decode()
    assert reverse("networks:connect-oauth", kwargs={"network": "chirp"}) in page
    assert signed_in.get(reverse("networks:connect-oauth", kwargs={"network": "chirp"})).status_code == 200
    start = signed_in.post(reverse("networks:connect-oauth", kwargs={"network": "chirp"}))
    assert start.status_code == 302
    assert start["Location"].startswith("https://chirp.example/i/oauth2/authorize?")
    assert "code_challenge_method=S256" in start["Location"]
