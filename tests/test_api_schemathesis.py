"""Schemathesis against the OpenAPI schema the project serves at /api/schema/.

Two runs over every operation, in-process through WSGI on the real PostgreSQL test database:

1. As the owner of a seeded brand (a funded, approved campaign with booked earnings, a draft with content,
   members, an invitation) and, for the influencer routes, as an influencer with money to pay out:
   path parameters point at those real objects, money writes get a fresh ``Idempotency-Key``
   (ADR 3). Every response must be a non-5xx that matches its documented status code, content type
   and schema.
2. As the owner of another brand, given the first brand's slug and ids: every brand-scoped
   operation answers 404 and nothing of the first brand changes (S1 through the schema).

``API_FUZZ_EXAMPLES`` sets the examples per operation and phase (default 5: about 1.5 minutes for
both runs with the test database set-up; API_FUZZ_EXAMPLES=10 passed too).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, settings
from rest_framework.throttling import ScopedRateThrottle, UserRateThrottle
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accounts.services import api_token_create
from brands.models import Brand, BrandRole, Invitation, Membership
from campaigns.earnings.budget import campaign_budget_reserve
from campaigns.earnings.services import MetricDelta, earnings_accrue, earnings_release_due
from campaigns.models import Campaign, ContentPiece
from linkilike.idempotency import HEADER as IDEMPOTENCY_HEADER
from payouts.models import LedgerEntry, PayoutRequest
from payouts.services.ledger import brand_fund
from tests.factories.accounts import UserFactory
from tests.factories.brands import BrandFactory, InvitationFactory, MembershipFactory
from tests.factories.campaigns import CaptionVariantFactory, ContentPieceFactory, ready_campaign
from tests.factories.influencers import InfluencerProfileFactory
from tests.factories.payouts import CampaignFactory as FundedCampaignFactory
from tests.factories.payouts import CharityFactory, PayoutDestinationFactory

EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", "5"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,  # the same cases on every run: a red build is reproducible
    suppress_health_check=list(HealthCheck),
)


@dataclass
class World:
    brand: Brand
    owner_token: str
    influencer_token: str
    #: path parameter values per operation path template
    path_ids: dict[str, dict[str, Any]] = field(default_factory=dict)


def _token(user: Any) -> str:
    return api_token_create(user=user, name="schemathesis")[1]


def _seed_world() -> World:
    owner = UserFactory()
    brand = BrandFactory()
    MembershipFactory(brand=brand, user=owner, role=BrandRole.OWNER)
    member = MembershipFactory(brand=brand, role=BrandRole.MANAGER)
    invitation = InvitationFactory(brand=brand, invited_by=owner)
    brand_fund(brand=brand, amount_minor=500_000, currency="EUR", source="bank_transfer", reference="FUZZ-1")
    live = FundedCampaignFactory(brand=brand, slug="live", budget_minor=100_000)
    campaign_budget_reserve(campaign=live)
    draft = ready_campaign(brand=brand)
    piece = ContentPieceFactory(campaign=draft)
    CaptionVariantFactory(content=piece, language="en")

    influencer = InfluencerProfileFactory()
    PayoutDestinationFactory(influencer=influencer)
    CharityFactory()
    # Verified results of a share of the live campaign, past the hold period: money to pay out.
    now = timezone.now()
    earnings_accrue(
        delta=MetricDelta(
            share_key="fuzz-share",
            campaign_id=live.pk,
            influencer_id=influencer.pk,
            window="24h",
            impressions=100_000,
            engagements=500,
            unique_clicks=200,
        ),
        now=now - timedelta(days=60),
    )
    earnings_release_due(now=now)

    campaign_ids = {"brand_slug": brand.slug, "id": live.pk}
    return World(
        brand=brand,
        owner_token=_token(owner),
        influencer_token=_token(influencer.user),
        path_ids={
            "/api/v1/brands/{brand_slug}/members/{id}/": {"brand_slug": brand.slug, "id": member.pk},
            "/api/v1/brands/{brand_slug}/invitations/{id}/": {"brand_slug": brand.slug, "id": invitation.pk},
            "/api/v1/brands/{brand_slug}/campaigns/{campaign_pk}/content/": {
                "brand_slug": brand.slug,
                "campaign_pk": draft.pk,
            },
            "/api/v1/brands/{brand_slug}/campaigns/{campaign_pk}/content/{id}/": {
                "brand_slug": brand.slug,
                "campaign_pk": draft.pk,
                "id": piece.pk,
            },
            "/api/v1/brands/{brand_slug}/campaigns/{campaign_pk}/content/{id}/media/": {
                "brand_slug": brand.slug,
                "campaign_pk": draft.pk,
                "id": piece.pk,
            },
            # Editing, submitting and withdrawing work on the draft; the rest on the live campaign.
            "/api/v1/brands/{brand_slug}/campaigns/{id}/": campaign_ids,
            "/api/v1/brands/{brand_slug}/campaigns/{id}/submit/": {"brand_slug": brand.slug, "id": draft.pk},
            "/api/v1/brands/{brand_slug}/campaigns/{id}/withdraw/": {"brand_slug": brand.slug, "id": draft.pk},
        },
    )


def _path_parameters(world: World, case: Case) -> dict[str, Any]:
    template = case.operation.path
    if template in world.path_ids:
        return world.path_ids[template]
    if "{id}" in template and "/campaigns/" in template:
        return {
            "brand_slug": world.brand.slug,
            "id": world.path_ids["/api/v1/brands/{brand_slug}/campaigns/{id}/"]["id"],
        }
    return {"brand_slug": world.brand.slug} if "{brand_slug}" in template else {}


def _send(case: Case, world: World, *, token: str, checks: list[Any] | None = None) -> Any:
    """Points the case at the seeded objects, authenticates, adds a fresh Idempotency-Key, sends."""
    case.path_parameters = {**(case.path_parameters or {}), **_path_parameters(world, case)}
    headers = {"Authorization": f"Token {token}"}
    if IDEMPOTENCY_HEADER in {p.name for p in case.operation.headers}:
        headers[IDEMPOTENCY_HEADER] = str(uuid.uuid4())
    if checks is None:
        return case.call(headers=headers)
    return case.call_and_validate(headers=headers, checks=checks)


@pytest.fixture
def _no_throttling(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fuzzer sends hundreds of requests a minute on purpose; the limits have their own tests."""
    monkeypatch.setattr(UserRateThrottle, "allow_request", lambda *args: True)
    monkeypatch.setattr(ScopedRateThrottle, "allow_request", lambda *args: True)


@pytest.fixture
def world(db: None, _no_throttling: None, settings: Any) -> World:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # seeded once per operation
    return _seed_world()


@pytest.fixture(autouse=True)
def _requests_keep_the_test_transaction() -> Iterator[None]:
    """As in Django's test client: the end of a request must not close the connection that holds
    the test's transaction."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


# Loaded once at collection, as served (no database access: the schema view reads none).
schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())
# Explicit examples and random generation, valid and invalid input alike. The coverage phase (every
# boundary of every field) sends several hundred requests per operation: too slow for `make test`
# on two cores, so it is left to API_FUZZ_PHASES=examples,coverage,fuzzing by hand.
schema.config.phases.update(phases=os.environ.get("API_FUZZ_PHASES", "examples,fuzzing").split(","))
schema.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE])


@pytest.mark.slow
@schema.parametrize()
@FUZZ_SETTINGS
def test_every_operation_conforms_to_the_schema_for_a_brand_owner(case: Case, world: World) -> None:
    token = world.influencer_token if case.operation.path.startswith("/api/v1/payouts/") else world.owner_token
    _send(case, world, token=token, checks=CHECKS)


# --- cross-tenant -------------------------------------------------------------------------------


def _snapshot(brand: Brand) -> dict[str, Any]:
    """Everything of the brand an attacker could change, as comparable values."""

    def rows(queryset: Any) -> list[tuple[Any, ...]]:
        return sorted(tuple(row.values()) for row in queryset.values())

    return {
        "brand": rows(Brand.objects.filter(pk=brand.pk)),
        "members": rows(Membership.objects.filter(brand=brand)),
        "invitations": rows(Invitation.objects.filter(brand=brand)),
        "campaigns": rows(Campaign.objects.filter(brand=brand)),
        "content": rows(ContentPiece.objects.filter(campaign__brand=brand)),
        "ledger": LedgerEntry.objects.count(),
        "payouts": PayoutRequest.objects.count(),
    }


@dataclass
class Intruder:
    token: str
    before: dict[str, Any]
    statuses: list[int] = field(default_factory=list)


@pytest.fixture
def intruder(world: World) -> Iterator[Intruder]:
    """The owner of another brand, with campaigns of its own; checks afterwards that nothing changed."""
    other_owner = UserFactory()
    other = BrandFactory()
    MembershipFactory(brand=other, user=other_owner, role=BrandRole.OWNER)
    ready_campaign(brand=other)
    visitor = Intruder(token=_token(other_owner), before=_snapshot(world.brand))
    yield visitor
    assert _snapshot(world.brand) == visitor.before
    assert visitor.statuses, "no brand-scoped operation was tried"


def _brand_scoped(case: Case) -> bool:
    return "{brand_slug}" in case.operation.path


@pytest.mark.slow
@schema.include(path_regex=r"\{brand_slug\}").parametrize()
@FUZZ_SETTINGS
def test_a_member_of_another_brand_gets_404_on_every_operation_and_changes_nothing(
    case: Case, world: World, intruder: Intruder
) -> None:
    assert _brand_scoped(case)
    response = _send(case, world, token=intruder.token)
    intruder.statuses.append(response.status_code)
    assert response.status_code == 404, f"{case.operation.label} answered {response.status_code}: {response.text}"


# --- what the fuzzer found, pinned as plain tests ---------------------------------------------


def _owner_client(world: World) -> Any:
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {world.owner_token}")
    return client


def test_an_unknown_country_is_refused_with_400_not_500(world: World) -> None:
    client = _owner_client(world)
    url = f"/api/v1/brands/{world.brand.slug}/"

    assert client.patch(url, {"country": "0"}, format="json").status_code == 400
    assert client.post("/api/v1/brands/", {"name": "X", "country": "ZZ"}, format="json").status_code == 400
    world.brand.refresh_from_db()
    assert world.brand.country.code == "AT"


@pytest.mark.parametrize(
    ("field", "value"), [("followers_min", 439_042_749_749_867), ("budget_minor", 2**63), ("cpc_minor", 2**70)]
)
def test_numbers_beyond_the_columns_are_refused_with_400_not_500(world: World, field: str, value: int) -> None:
    response = _owner_client(world).post(
        f"/api/v1/brands/{world.brand.slug}/campaigns/", {"name": "Big", field: value}, format="json"
    )
    assert response.status_code == 400
    assert field in response.json()
