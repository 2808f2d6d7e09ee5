"""``{% share_state share viewer="influencer" %}``: a share's state, link, failure reason and retry button.

For any page listing shares (influencer offers and shares, brand results). ``viewer`` picks the
retry URL: ``"influencer"`` (``influencers:share-retry``) or ``"brand"`` (``campaigns:share-retry``,
needs ``brand_slug``); ``next`` is where the retry form returns to.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import NoReverseMatch, reverse

from campaigns.models import Share
from campaigns.publishing.selectors import share_state_get

register = template.Library()


@register.inclusion_tag("campaigns/partials/share_state.html")
def share_state(share: Share, viewer: str = "influencer", brand_slug: str = "", next: str = "") -> dict[str, Any]:
    view = share_state_get(share=share)
    retry_url = proof_action = reconnect_url = post_url = ""
    try:
        if viewer == "brand" and brand_slug:
            retry_url = reverse("campaigns:share-retry", kwargs={"brand_slug": brand_slug, "pk": share.pk})
        elif viewer == "influencer":
            retry_url = reverse("influencers:share-retry", kwargs={"pk": share.pk})
            proof_action = reverse("influencers:share-proof", kwargs={"pk": share.pk})
            if view.needs_proof or view.state == "proof_review":
                post_url = reverse("influencers:share-post", kwargs={"pk": share.pk})
            reconnect_url = reverse("networks:accounts") if view.needs_reconnect else ""
    except NoReverseMatch:
        retry_url = ""
    return {
        "share": share,
        "view": view,
        "retry_url": retry_url,
        "proof_action": proof_action,
        "reconnect_url": reconnect_url,
        "post_url": post_url,
        "next": next,
    }
