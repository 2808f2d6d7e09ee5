"""The Linkilike Sandbox: the built-in demo network (``sandbox`` app), which speaks the Mastodon API.

Its own network key and name; campaigns target it, and write captions for it, as Mastodon
(``campaign_network``), and only a demo brand's campaigns reach it (``campaigns.matching``).
"""

from __future__ import annotations

from dataclasses import replace

from django.utils.translation import gettext_lazy

from networks.providers.mastodon import MastodonProvider


class SandboxProvider(MastodonProvider):
    network = "sandbox"
    facts = replace(
        MastodonProvider.facts,
        label=gettext_lazy("Linkilike Sandbox"),
        note=gettext_lazy(
            "A practice network run by Linkilike with a simulated audience. Try everything without posting to "
            "your real followers."
        ),
    )
    connect_template = "networks/connect/sandbox.html"
    campaign_network = "mastodon"
