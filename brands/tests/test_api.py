from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from accounts.services import api_token_create
from brands.models import Brand, BrandRole, Invitation, Membership
from linkilike.models import IdempotencyRecord
from tests.factories.accounts import UserFactory
from tests.factories.brands import MembershipFactory


def _api(user: object) -> Client:
    _token, raw = api_token_create(user=user, name="tests")
    return Client(HTTP_AUTHORIZATION=f"Token {raw}")


@pytest.mark.django_db
def test_token_auth_lists_own_brands_and_creates_one() -> None:
    user = UserFactory()
    client = _api(user)

    created = client.post(
        reverse("api-brand-list"), {"name": "Kite Labs", "country": "DE"}, content_type="application/json"
    )
    listed = client.get(reverse("api-brand-list"))

    assert created.status_code == 201
    assert created.json()["slug"] == "kite-labs"
    assert [b["name"] for b in listed.json()["results"]] == ["Kite Labs"]
    assert Membership.objects.get(brand__slug="kite-labs").role == BrandRole.OWNER


@pytest.mark.django_db
def test_brand_create_ignores_fields_it_does_not_accept() -> None:
    user = UserFactory()

    response = _api(user).post(
        reverse("api-brand-list"),
        {"name": "Kite Labs", "country": "DE", "slug": "hijack", "created_at": "2001-01-01T00:00:00Z"},
        content_type="application/json",
    )

    assert response.status_code == 201
    assert Brand.objects.get().slug == "kite-labs"


@pytest.mark.django_db
def test_idempotency_key_replays_the_first_response_and_creates_one_brand() -> None:
    client = _api(UserFactory())
    body = {"name": "Kite Labs", "country": "DE"}

    responses = [
        client.post(reverse("api-brand-list"), body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k-1")
        for _ in range(5)
    ]

    assert {r.status_code for r in responses} == {201}
    assert len({json.dumps(r.json(), sort_keys=True) for r in responses}) == 1
    assert responses[-1]["Idempotent-Replayed"] == "true"
    assert Brand.objects.count() == 1


@pytest.mark.django_db
def test_idempotency_key_with_a_different_body_is_refused() -> None:
    client = _api(UserFactory())
    url = reverse("api-brand-list")
    client.post(url, {"name": "A", "country": "DE"}, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k")

    response = client.post(
        url, {"name": "B", "country": "DE"}, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k"
    )

    assert response.status_code == 422
    assert Brand.objects.count() == 1


@pytest.mark.django_db
def test_idempotency_keys_are_scoped_per_user() -> None:
    url = reverse("api-brand-list")
    body = {"name": "Same", "country": "DE"}
    _api(UserFactory()).post(url, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="shared")

    response = _api(UserFactory()).post(url, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="shared")

    assert response.status_code == 201
    assert Brand.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_concurrent_replays_of_one_key_create_exactly_one_brand() -> None:
    user = UserFactory()
    _token, raw = api_token_create(user=user, name="tests")
    url = reverse("api-brand-list")

    def post(_: int) -> tuple[int, str]:
        try:
            client = Client(HTTP_AUTHORIZATION=f"Token {raw}")
            response = client.post(
                url, {"name": "Race", "country": "AT"}, content_type="application/json", HTTP_IDEMPOTENCY_KEY="race"
            )
            return response.status_code, json.dumps(response.json(), sort_keys=True)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(post, range(20)))

    assert Brand.objects.count() == 1
    assert IdempotencyRecord.objects.count() == 1
    assert {status for status, _ in results} <= {201, 409}
    assert len({body for status, body in results if status == 201}) == 1


@pytest.mark.django_db
def test_owner_invites_through_the_api_and_manager_cannot() -> None:
    owner = MembershipFactory(role=BrandRole.OWNER)
    manager = MembershipFactory(brand=owner.brand, role=BrandRole.MANAGER)
    url = reverse("brand-invitations-list", kwargs={"brand_slug": owner.brand.slug})

    refused = _api(manager.user).post(url, {"email": "x@example.test"}, content_type="application/json")
    created = _api(owner.user).post(
        url, {"email": "x@example.test", "role": "analyst", "status": "accepted"}, content_type="application/json"
    )

    assert refused.status_code == 403
    assert created.status_code == 201
    assert created.json()["status"] == "pending"
    assert Invitation.objects.get().role == BrandRole.ANALYST


@pytest.mark.django_db
def test_last_owner_cannot_be_removed_through_the_api() -> None:
    owner = MembershipFactory(role=BrandRole.OWNER)

    response = _api(owner.user).delete(
        reverse("brand-members-detail", kwargs={"brand_slug": owner.brand.slug, "pk": owner.pk})
    )

    assert response.status_code == 400
    assert Membership.objects.filter(pk=owner.pk).exists()


@pytest.mark.django_db
def test_openapi_schema_documents_the_brand_routes() -> None:
    user = UserFactory()
    client = Client()
    client.force_login(user)

    schema = client.get(reverse("api-schema"), HTTP_ACCEPT="application/vnd.oai.openapi+json").json()

    assert "/api/v1/brands/{brand_slug}/members/" in schema["paths"]
    assert "Idempotency-Key" in json.dumps(schema["paths"]["/api/v1/brands/"]["post"])
