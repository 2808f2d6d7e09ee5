"""Cases for the cross-tenant sweep (tests/test_tenancy_sweep.py).

The sweep enumerates every URL pattern. A route is *brand-scoped* when its pattern has a
``brand_slug`` kwarg; every other route must be listed in ``UNSCOPED_ROUTES`` (by full name)
or match ``UNSCOPED_PREFIXES``, with a reason. Adding a route that is neither scoped nor listed
fails the sweep.

For a brand-scoped route with more kwargs than ``brand_slug``, ``ROUTE_KWARGS[route_name]``
says how to fill each one: a callable taking the brand and returning the kwarg value of an
object that belongs to that brand (creating it). The sweep calls it for brand A (the victim)
and checks that a member of brand B gets 404 for every HTTP method, both under A's slug and
under B's own slug, and that no row changed. A route whose kwargs cannot be filled fails the
sweep.

``MARKER`` must appear in a visible field of objects created here, so the sweep can check that
none of brand A's rows show up in brand B's list pages.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from brands.models import Brand, BrandRole
from tests.factories.brands import InvitationFactory, MembershipFactory
from tests.factories.campaigns import CampaignFactory, CaptionVariantFactory

MARKER = "ALPHASECRET"

KwargFactory = Callable[[Brand], Any]
_serial = itertools.count()


def _membership(brand: Brand) -> int:
    return MembershipFactory(brand=brand, role=BrandRole.MANAGER, user__full_name=f"{MARKER} member").pk


def _campaign(brand: Brand) -> int:
    return CampaignFactory(brand=brand, name=f"{MARKER} campaign {next(_serial)}").pk


def _content(brand: Brand) -> int:
    return CaptionVariantFactory(
        content__campaign__brand=brand, content__title=f"{MARKER} content", text=f"{MARKER} text"
    ).content_id


def _share(brand: Brand) -> int:
    from campaigns.models import CaptionStatus, Share, ShareStatus
    from tests.factories.campaigns import OfferFactory
    from tests.factories.networks import ConnectedAccountFactory

    offer = OfferFactory(
        match__campaign__brand=brand,
        match__campaign__name=f"{MARKER} campaign {next(_serial)}",
        match__influencer__display_name=f"{MARKER} influencer",
        status="accepted",
    )
    account = ConnectedAccountFactory(influencer=offer.influencer)
    return Share.objects.create(
        offer=offer,
        campaign=offer.campaign,
        influencer=offer.influencer,
        connected_account=account,
        caption_text=f"#ad {MARKER} caption https://linkilike.app/t/AbCdEf12",
        caption_status=CaptionStatus.PENDING_APPROVAL,
        status=ShareStatus.AWAITING_CAPTION_APPROVAL,
    ).pk


def _invitation(brand: Brand) -> int:
    return InvitationFactory(brand=brand, email=f"{MARKER.lower()}-invitee-{next(_serial)}@example.test").pk


ROUTE_KWARGS: dict[str, dict[str, KwargFactory]] = {
    "campaigns:detail": {"pk": _campaign},
    "campaigns:edit": {"pk": _campaign},
    "campaigns:submit": {"pk": _campaign},
    "campaigns:withdraw": {"pk": _campaign},
    "campaigns:pause": {"pk": _campaign},
    "campaigns:resume": {"pk": _campaign},
    "campaigns:complete": {"pk": _campaign},
    "campaigns:cancel": {"pk": _campaign},
    "campaigns:duplicate": {"pk": _campaign},
    "campaigns:archive": {"pk": _campaign},
    "campaigns:content-create": {"pk": _campaign},
    "campaigns:results-export": {"pk": _campaign},
    "campaigns:emv-prices": {"pk": _campaign},
    "brand-campaign-results": {"pk": _campaign},
    "campaigns:captions": {"pk": _campaign},
    "campaigns:caption-approve": {"pk": _share},
    "campaigns:share-retry": {"pk": _share},
    "campaigns:caption-changes": {"pk": _share},
    "brand-campaigns-detail": {"pk": _campaign},
    "brand-campaigns-submit": {"pk": _campaign},
    "brand-campaigns-withdraw": {"pk": _campaign},
    "brand-campaigns-pause": {"pk": _campaign},
    "brand-campaigns-resume": {"pk": _campaign},
    "brand-campaigns-cancel": {"pk": _campaign},
    "brand-campaigns-preview": {"pk": _campaign},
    "campaigns:content-edit": {"pk": _content},
    "campaigns:content-delete": {"pk": _content},
    "brand-campaign-content-list": {"campaign_pk": _campaign},
    "brand-campaign-content-detail": {"campaign_pk": _campaign, "pk": _content},
    "brand-campaign-content-media": {"campaign_pk": _campaign, "pk": _content},
    "brands:member-role": {"pk": _membership},
    "brands:member-remove": {"pk": _membership},
    "brands:invitation-revoke": {"pk": _invitation},
    "brand-members-detail": {"pk": _membership},
    "brand-invitations-detail": {"pk": _invitation},
}

#: Routes without a brand in the URL, each with the reason it is safe.
UNSCOPED_ROUTES: dict[str, str] = {
    "landing": "public landing page",
    "home": "routes the signed-in user to their own workspaces",
    "healthz": "liveness probe, no tenant data",
    "tracking-redirect": "public short link: redirects to the share's public target URL, records a hashed click",
    "influencers:results": "influencer-owned: InfluencerOwnedViewMixin scopes shares by the signed-in influencer",
    "influencers:results-export": "influencer-owned: exports only the signed-in influencer's shares",
    "set_language": "Django's language switch",
    "api-schema": "OpenAPI schema, no data",
    "api-docs": "Swagger UI, no data",
    "api-redoc": "ReDoc, no data",
    "api-brand-list": "lists only brands the caller is a member of; creates a brand owned by the caller",
    "brands:create": "creates a brand owned by the caller",
    "brands:invitation": "signed single-use token addressed to one email; checked in brands.services",
    "brands:demo-page": "public stand-in website of a demo brand (404 for any other): its name and logo only",
    "influencers:home": "influencer-owned: InfluencerOwnedViewMixin scopes by the signed-in user",
    "influencers:onboarding": "edits only the signed-in user's own profile",
    "networks:matrix": "public capability matrix generated from the providers, no tenant data",
    "networks:connect-oauth": "influencer-owned: starts an OAuth connect for the signed-in influencer",
    "influencers:offers": "influencer-owned: lists only the signed-in influencer's offers",
    "influencers:offer-detail": "influencer-owned: InfluencerOwnedViewMixin scopes the offer (404 otherwise)",
    "influencers:offer-preview": "influencer-owned: InfluencerOwnedViewMixin scopes the offer (404 otherwise)",
    "influencers:offer-decline": "influencer-owned: InfluencerOwnedViewMixin scopes the offer (404 otherwise)",
    "influencers:share-resubmit": "influencer-owned: InfluencerOwnedViewMixin scopes the share (404 otherwise)",
    "influencers:shares": "influencer-owned: lists only the signed-in influencer's shares",
    "influencers:share-retry": "influencer-owned: InfluencerOwnedViewMixin scopes the share (404 otherwise)",
    "influencers:share-proof": "influencer-owned: InfluencerOwnedViewMixin scopes the share (404 otherwise)",
    "influencers:share-post": "influencer-owned: InfluencerOwnedViewMixin scopes the share (404 otherwise)",
    "influencers:share-post-image": "influencer-owned: InfluencerOwnedViewMixin scopes the share (404 otherwise)",
    "payouts:earnings": "influencer-owned: InfluencerOwnedViewMixin scopes by the signed-in user",
    "payouts:destination-add": "influencer-owned: adds a payout account to the signed-in influencer only",
    "payouts:earnings-export": "influencer-owned: exports only the signed-in influencer's lines",
    "payouts:stripe-webhook": "provider webhook authenticated by its Stripe-Signature, no session data",
    "payouts:test-checkout": "test-mode card checkout (404 otherwise): a signed session in the address, like Stripe's",
    "api-payout-earnings": "influencer-owned: the signed-in influencer's statement only",
    "api-payout-requests": "influencer-owned: lists and creates the signed-in influencer's payouts only",
    "sandbox:apps": "sandbox network: its own bearer-token auth, no brand data",
    "sandbox:authorize": "sandbox network: its own bearer-token auth, no brand data",
    "sandbox:token": "sandbox network: its own bearer-token auth, no brand data",
    "sandbox:revoke": "sandbox network: its own bearer-token auth, no brand data",
    "sandbox:instance-v1": "sandbox network: its own bearer-token auth, no brand data",
    "sandbox:instance": "sandbox network: its own bearer-token auth, no brand data",
    "sandbox:verify-credentials": "sandbox network: its own bearer-token auth, no brand data",
    "sandbox:media-create": "sandbox network: its own bearer-token auth, no brand data",
    "sandbox:media-detail": "sandbox network: its own bearer-token auth, no brand data",
    "sandbox:statuses": "sandbox network: its own bearer-token auth, no brand data",
    "sandbox:status-detail": "sandbox network: its own bearer-token auth, no brand data",
    "sandbox:oauth-metadata": "sandbox network: public OAuth server metadata, no brand data",
    "sandbox:status-context": "sandbox network: its own bearer-token auth, no brand data",
    "sandbox:status-favourite": "sandbox network: its own bearer-token auth, no brand data",
    "sandbox:status-unfavourite": "sandbox network: its own bearer-token auth, no brand data",
    "sandbox:status-reblog": "sandbox network: its own bearer-token auth, no brand data",
    "sandbox:status-unreblog": "sandbox network: its own bearer-token auth, no brand data",
    "sandbox:scheduled-statuses": "sandbox network: its own bearer-token auth, no brand data",
    "sandbox:scheduled-status-detail": "sandbox network: its own bearer-token auth, no brand data",
    "sandbox:api-not-found": "sandbox network: answers 404 for every other API path, no data",
    "sandbox:index": "sandbox network: its own bearer-token auth, no brand data",
    "sandbox:profile": "sandbox network: its own bearer-token auth, no brand data",
    "sandbox:status-page": "sandbox network: its own bearer-token auth, no brand data",
    "sandbox:avatar": "sandbox network: its own bearer-token auth, no brand data",
    "sandbox:media-file": "sandbox network: its own bearer-token auth, no brand data",
    "networks:accounts": "influencer-owned: lists only the signed-in influencer's connected accounts",
    "networks:connect-mastodon": "influencer-owned: starts OAuth for the signed-in influencer",
    "networks:connect-bluesky": "influencer-owned: stores the account for the signed-in influencer only",
    "networks:connect-handle": "influencer-owned: stores the account for the signed-in influencer only",
    "networks:connect-sandbox": "influencer-owned: starts OAuth for the signed-in influencer",
    "networks:oauth-callback": "influencer-owned: state bound to the session; account stored for the signed-in user",
    "networks:account-refresh": "influencer-owned: the mixin scopes the account by owner (404 otherwise)",
    "networks:account-disconnect": "influencer-owned: the mixin scopes the account by owner (404 otherwise)",
    "networks:connect-meta": "influencer-owned: starts Meta OAuth for the signed-in influencer",
    "networks:facebook-callback": "influencer-owned: state bound to the session; user token kept in that session only",
    "networks:facebook-pages": "influencer-owned: Pages from the session's own Facebook login, stored for that user",
    "accounts:api-tokens": "user-owned: lists only the signed-in person's own API tokens",
    "accounts:api-token-new": "user-owned: makes a token for the signed-in person (after a fresh password check)",
    "accounts:api-token-revoke": "user-owned: the token is looked up with the signed-in person (404 otherwise)",
    "accounts:api-tokens-revoke-all": "user-owned: revokes only the signed-in person's own tokens",
}

#: Whole families of routes that hold no brand data.
UNSCOPED_PREFIXES: dict[str, str] = {
    "admin:": "Django admin, staff only (and MFA)",
    "account_": "django-allauth account pages for the signed-in user",
    "mfa_": "django-allauth MFA pages for the signed-in user",
}

#: URL path prefixes that hold no brand data (for unnamed third-party routes).
UNSCOPED_PATH_PREFIXES: dict[str, str] = {
    "admin/": "Django admin, staff only (and MFA)",
    "accounts/": "django-allauth account pages for the signed-in user",
}
