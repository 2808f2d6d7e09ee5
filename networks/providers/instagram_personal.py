"""A personal Instagram account, or one without API access: you post in the app, Linkilike verifies.

Instagram's publishing API serves professional accounts connected through Linkilike's reviewed app
(``networks.providers.instagram``). Everyone else posts in the Instagram app: Instagram has no web share
page, so Linkilike's share page offers the caption to copy and the image to download. Meta's oEmbed answers
are for displaying a post only (its terms forbid deriving information from them; they no longer name the
author either): the post is verified by the first real clicks on its tracking link and spot-checked by staff.
"""

from __future__ import annotations

import re

from django.utils.translation import gettext_lazy

from networks.providers.proof_of_post import QUERY, ProofOfPostProvider, Verification, proof_of_post_capabilities
from networks.providers.types import DisplayFacts, LinkHandling


class InstagramPersonalProvider(ProofOfPostProvider):
    network = "instagram_personal"
    production_web_url = "https://www.instagram.com"
    verification = Verification.CLICKS
    web_hosts = frozenset({"instagram.com", "www.instagram.com"})
    short_hosts = frozenset({"instagr.am"})
    short_patterns = (re.compile(rf"/(?:p|reel)/[A-Za-z0-9_-]{{5,40}}/?{QUERY}"),)
    permalink_patterns = (
        re.compile(rf"(?:/(?P<author>[A-Za-z0-9._]{{1,30}}))?/(?:p|reel|reels|tv)/[A-Za-z0-9_-]{{5,40}}/?{QUERY}"),
    )
    profile_path = re.compile(r"/(?P<handle>[A-Za-z0-9._]{1,30})/?")
    handle_pattern = re.compile(r"[A-Za-z0-9._]{1,30}")
    profile_template = "https://www.instagram.com/{handle}/"
    permalink_example = "https://www.instagram.com/p/C1a2B3c4D5e/"
    how_to_post = gettext_lazy(
        "Download the image, copy the text, and post both in the Instagram app. Then open your post, tap … "
        "and Copy link, and paste the link here. Links in captions cannot be tapped: put it in your bio too."
    )
    capabilities = proof_of_post_capabilities(
        max_chars=2200,
        max_images=10,
        link_handling=LinkHandling.NOT_CLICKABLE,
        image_required=True,
        requirements="Personal accounts and accounts without API access: you post in the Instagram app.",
    )
    facts = DisplayFacts(
        label=gettext_lazy("Instagram (personal account)"),
        note=gettext_lazy("You post, we verify: in the Instagram app. Pays the participation fee and measured clicks."),
        max_hashtags=30,
        connect_needs=gettext_lazy("Your Instagram username and the address of your profile."),
        connect_note=gettext_lazy(
            "No sign-in to Instagram: you post in the app and paste the link to your post. Your account must be public."
        ),
    )
