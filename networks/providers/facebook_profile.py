"""A personal Facebook profile: you post through Facebook's share dialog, Linkilike verifies.

Meta lets apps post to Pages only (``networks.providers.facebook``), never to a personal profile. The
influencer opens Facebook's share dialog (``sharer.php?u=<link>``: it takes the link only; a prefilled
message is not allowed by Meta's platform terms, so the caption is copied from Linkilike's share page)
and pastes her post's address. Meta's oEmbed answers are for displaying a post only (its terms forbid
deriving information from them), and a public post's page asks visitors to log in: the post is verified
by the first real clicks on its tracking link and spot-checked by staff.
"""

from __future__ import annotations

import re

from django.utils.translation import gettext_lazy

from networks.providers.proof_of_post import QUERY, ProofOfPostProvider, Verification, proof_of_post_capabilities
from networks.providers.types import DisplayFacts, LinkHandling

_ID = r"(?:pfbid[A-Za-z0-9]+|\d+)"


class FacebookProfileProvider(ProofOfPostProvider):
    network = "facebook_profile"
    production_web_url = "https://www.facebook.com"
    verification = Verification.CLICKS
    web_hosts = frozenset({"facebook.com", "www.facebook.com", "m.facebook.com", "web.facebook.com"})
    short_hosts = frozenset({"fb.me", "fb.watch"})
    permalink_patterns = (
        re.compile(rf"/(?P<author>[A-Za-z0-9.]{{5,50}})/(?:posts|videos)/{_ID}/?{QUERY}"),
        re.compile(r"/(?:permalink|story)\.php\?(?=.*story_fbid=[A-Za-z0-9]+)(?=.*\bid=\d+).*"),
        re.compile(rf"/share/[prv]/[A-Za-z0-9]+/?{QUERY}"),
        re.compile(rf"/reel/\d+/?{QUERY}"),
    )
    profile_path = re.compile(r"/(?P<handle>[A-Za-z0-9.]{5,50})/?")
    handle_pattern = re.compile(r"[A-Za-z0-9.]{5,50}")
    profile_template = "https://www.facebook.com/{handle}"
    permalink_example = "https://www.facebook.com/share/p/1AbCdEfGh/"
    share_page_url = "https://www.facebook.com/sharer/sharer.php"
    share_page_param = "u"
    how_to_post = gettext_lazy(
        "Copy the text, open Facebook's share window with the button below, paste the text above the link and "
        "post it publicly. Then copy your post's address (… menu, Copy link) and paste it here."
    )
    capabilities = proof_of_post_capabilities(
        max_chars=63206,
        max_images=10,
        link_handling=LinkHandling.IN_TEXT,
        requirements=(
            "Personal profile: Meta lets apps post only to Pages. Posts must be public so the link can be clicked "
            "and checked."
        ),
    )
    facts = DisplayFacts(
        label=gettext_lazy("Facebook (personal profile)"),
        note=gettext_lazy(
            "You post, we verify: through Facebook's share window. Pays the participation fee and measured clicks."
        ),
        connect_needs=gettext_lazy("Your Facebook username and the address of your profile."),
        connect_note=gettext_lazy(
            "No sign-in to Facebook: you post yourself and paste the link to your post. Make your post public."
        ),
    )
