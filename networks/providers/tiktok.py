"""TikTok: you post in the app, Linkilike verifies through TikTok's public oEmbed endpoint.

TikTok has no web page that posts a video from an address, and its Content Posting API is for audited apps
only: the influencer makes her video in the TikTok app with the caption copied from Linkilike's share page.
TikTok's oEmbed endpoint (``https://www.tiktok.com/oembed?url=<post>``) answers without a token with the
author (``author_unique_id``) and the caption (``title``): that is how a pasted post is verified. A private or
deleted video gets no answer there: staff look at it, and the tracking link's first real clicks verify it.
The endpoint's host is a setting (``TIKTOK_WEB_URL``) so tests point it at a local server.
"""

from __future__ import annotations

import re
from urllib.parse import urlencode, urlsplit

from django.utils.translation import gettext_lazy

from networks.providers.proof_of_post import (
    QUERY,
    PostEvidence,
    ProofOfPostProvider,
    Verification,
    oembed_evidence,
    proof_of_post_capabilities,
)
from networks.providers.types import DisplayFacts, LinkHandling


class TikTokProvider(ProofOfPostProvider):
    network = "tiktok"
    production_web_url = "https://www.tiktok.com"
    verification = Verification.EMBED
    web_hosts = frozenset({"tiktok.com", "www.tiktok.com", "m.tiktok.com"})
    short_hosts = frozenset({"vm.tiktok.com", "vt.tiktok.com"})
    permalink_patterns = (
        re.compile(rf"/@(?P<author>[A-Za-z0-9._]{{2,24}})/(?:video|photo)/\d{{5,25}}/?{QUERY}"),
        re.compile(rf"/t/[A-Za-z0-9]{{5,20}}/?{QUERY}"),
    )
    profile_path = re.compile(r"/@(?P<handle>[A-Za-z0-9._]{2,24})/?")
    handle_pattern = re.compile(r"[A-Za-z0-9._]{2,24}")
    profile_template = "https://www.tiktok.com/@{handle}"
    permalink_example = "https://www.tiktok.com/@yourname/video/7301234567890123456"
    how_to_post = gettext_lazy(
        "Download the image, copy the text, and make your post in the TikTok app. Then tap Share, Copy link, "
        "and paste the link here. Links in captions cannot be tapped: put it in your bio too."
    )
    capabilities = proof_of_post_capabilities(
        max_chars=4000,
        max_images=35,
        link_handling=LinkHandling.NOT_CLICKABLE,
        requirements="Posting for you needs TikTok's audited Content Posting API: you post in the TikTok app.",
    )
    facts = DisplayFacts(
        label=gettext_lazy("TikTok"),
        note=gettext_lazy(
            "You post, we verify: in the TikTok app, checked through TikTok's public embed. Pays the "
            "participation fee and measured clicks."
        ),
        connect_needs=gettext_lazy("Your TikTok username and the address of your profile."),
        connect_note=gettext_lazy(
            "No sign-in to TikTok: you post in the app and paste the link to your video. Your account must be public."
        ),
    )

    def verification_url(self, permalink: str) -> str | None:
        parts = urlsplit(permalink)
        canonical = f"https://{parts.hostname}{parts.path}" if parts.hostname else permalink
        return f"{self.base_url}/oembed?{urlencode({'url': canonical})}"

    def evidence(self, *, body: bytes, content_type: str) -> PostEvidence:
        return oembed_evidence(body) or PostEvidence(author="", text="")
