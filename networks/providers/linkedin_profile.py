"""A personal LinkedIn profile through LinkedIn's share page: you post, Linkilike verifies.

For people who connect LinkedIn without Linkilike's API access (``networks.providers.linkedin`` posts as the
member with the network's app): the influencer opens LinkedIn's share page
(``/sharing/share-offsite/?url=<link>``: it takes the link only, the caption is copied from Linkilike's share
page) and pastes her post's address. A public LinkedIn post's page is readable without signing in, so the
post is verified there; a post LinkedIn shows only to signed-in members goes to staff, and the tracking
link's first real clicks verify it. The page host is a setting (``LINKEDIN_WEB_URL``) so tests point it at a
local server.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from django.utils.translation import gettext_lazy

from networks.providers.proof_of_post import QUERY, ProofOfPostProvider, Verification, proof_of_post_capabilities
from networks.providers.types import DisplayFacts, LinkHandling


class LinkedInProfileProvider(ProofOfPostProvider):
    network = "linkedin_profile"
    production_web_url = "https://www.linkedin.com"
    verification = Verification.PAGE
    web_hosts = frozenset({"linkedin.com", "www.linkedin.com"})
    short_hosts = frozenset({"lnkd.in"})
    permalink_patterns = (
        re.compile(rf"/posts/(?P<author>[A-Za-z0-9-]{{3,100}})_[^/]*?activity-\d{{10,25}}-[A-Za-z0-9_-]+/?{QUERY}"),
        re.compile(rf"/feed/update/urn:li:(?:activity|share|ugcPost):\d{{10,25}}/?{QUERY}"),
    )
    profile_path = re.compile(r"/in/(?P<handle>[A-Za-z0-9-]{3,100})/?")
    handle_pattern = re.compile(r"[A-Za-z0-9-]{3,100}")
    profile_template = "https://www.linkedin.com/in/{handle}/"
    permalink_example = "https://www.linkedin.com/posts/yourname_coffee-activity-7301234567890123456-AbCd/"
    share_page_url = "https://www.linkedin.com/sharing/share-offsite/"
    how_to_post = gettext_lazy(
        "Copy the text, open LinkedIn's share window with the button below, paste the text and post it to "
        "Anyone. Then copy your post's address (… menu, Copy link to post) and paste it here."
    )
    capabilities = proof_of_post_capabilities(
        max_chars=3000,
        max_images=20,
        link_handling=LinkHandling.IN_TEXT,
        requirements="Personal profile without LinkedIn's app review: you post through LinkedIn's share page.",
    )
    facts = DisplayFacts(
        label=gettext_lazy("LinkedIn (personal profile)"),
        note=gettext_lazy(
            "You post, we verify: through LinkedIn's share window, checked on the post's public page. Pays the "
            "participation fee and measured clicks."
        ),
        connect_needs=gettext_lazy("Your LinkedIn profile address (linkedin.com/in/…)."),
        connect_note=gettext_lazy(
            "No sign-in to LinkedIn: you post yourself and paste the link to your post. Share it with Anyone."
        ),
    )

    def verification_url(self, permalink: str) -> str | None:
        parts = urlsplit(permalink)
        if (parts.hostname or "").lower() in self.short_hosts:
            return None  # a short link's post is not known until it is followed: staff and clicks
        return f"{self.base_url}{parts.path}"
