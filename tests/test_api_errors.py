"""The API answers its errors as the schema documents them (findings of tests/test_api_schemathesis.py).

* A path under /api/ that matches no route (a non-integer id where the route takes ``<int:…>``, a
  brand slug with characters a slug cannot have, an unknown path) answers a JSON 404
  ``{"detail": …}``, not the HTML page meant for browsers.
* A payout request without ``Idempotency-Key`` is refused for the missing header (400) before the
  caller's influencer profile is looked up.
* TRACE answers 405 on every route, with ``Allow`` naming what the route does support; under /api/
  the body is JSON.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import Resolver404, URLPattern, URLResolver, get_resolver, resolve
from rest_framework.test import APIClient

from brands.models import BrandRole
from linkilike.idempotency import HEADER as IDEMPOTENCY_HEADER
from tests.factories.accounts import UserFactory
from tests.factories.brands import MembershipFactory

pytestmark = pytest.mark.django_db

PARAMETER = re.compile(r"<(?:(?P<converter>\w+):)?(?P<name>\w+)>|\(\?P<(?P<group>\w+)>[^)]*\)")


def _routes(patterns: list[Any], prefix: str = "") -> list[str]:
    routes: list[str] = []
    for pattern in patterns:
        route = prefix + str(pattern.pattern).removeprefix("^").removesuffix("$")
        if isinstance(pattern, URLResolver):
            routes.extend(_routes(pattern.url_patterns, route))
        elif isinstance(pattern, URLPattern):
            routes.append(route)
    return routes


ALL_ROUTES = _routes(get_resolver().url_patterns)
API_ROUTES = sorted({route for route in ALL_ROUTES if route.startswith("api/v1/")})


def _fill(route: str, values: dict[str, str]) -> str:
    """The route with each parameter replaced by ``values[converter]`` (regex groups count as ``group``)."""

    def one(match: re.Match[str]) -> str:
        kind = "group" if match.group("group") else match.group("converter") or "str"
        return values.get(match.group("name") or match.group("group") or "", values[kind])

    return "/" + PARAMETER.sub(one, route)


def _resolves(path: str) -> bool:
    try:
        resolve(path)
    except Resolver404:
        return False
    return True


def _is_json_404(response: Any) -> bool:
    return (
        response.status_code == 404
        and response["Content-Type"].startswith("application/json")
        and isinstance(response.json().get("detail"), str)
    )


# --- (a) 404 under /api/ is JSON -----------------------------------------------------------------


def test_the_api_routes_are_found() -> None:
    assert len(API_ROUTES) > 10
    assert any("<int:" in route for route in API_ROUTES)


@pytest.mark.parametrize("route", [route for route in API_ROUTES if PARAMETER.search(route)])
@pytest.mark.parametrize("method", ["get", "post", "patch", "delete"])
def test_a_bad_path_parameter_answers_a_json_404(route: str, method: str) -> None:
    membership = MembershipFactory(role=BrandRole.OWNER)
    client = APIClient()
    client.force_authenticate(membership.user)
    bad = {"int": "not-a-number", "slug": "not.a.slug", "str": "x", "path": "x", "group": "not-a-number"}
    paths = {
        _fill(route, bad),  # every parameter wrong
        _fill(route, {**bad, "brand_slug": membership.brand.slug}),  # a real brand, the ids wrong
    }
    for path in paths:
        if path == _fill(route, {**bad, "int": "1", "group": "1", "slug": membership.brand.slug}):
            continue  # nothing wrong left in it
        response = getattr(client, method)(path, {}, format="json", headers={IDEMPOTENCY_HEADER: "k-1"})
        # A path the router's ``[^/.]+`` still matches is an existing route: a method it lacks is 405 there.
        allowed = {404, 405} if _resolves(path) else {404}
        assert response.status_code in allowed, (method, path, response.status_code)
        assert response["Content-Type"].startswith("application/json"), (method, path, response["Content-Type"])
        assert isinstance(response.json().get("detail"), str)


@pytest.mark.parametrize(
    "path", ["/api/v1/nothing-here/", "/api/v1/brands/x/nothing-here/", "/api/nothing", "/api/v1/brands/a%00b/"]
)
def test_an_unknown_api_path_answers_a_json_404_signed_in_or_not(path: str) -> None:
    assert _is_json_404(Client().get(path))
    client = APIClient()
    client.force_authenticate(UserFactory())
    assert _is_json_404(client.get(path))
    assert _is_json_404(client.post(path, {}, format="json"))


def test_pages_outside_the_api_keep_the_html_404(client: Client) -> None:
    response = client.get("/b/not.a.slug/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


# --- (b) Idempotency-Key before the influencer profile -------------------------------------------


def test_a_payout_request_without_the_header_is_refused_for_the_header_first() -> None:
    client = APIClient()
    client.force_authenticate(UserFactory())  # no influencer profile

    response = client.post("/api/v1/payouts/requests/", {"amount_minor": 100}, format="json")

    assert response.status_code == 400
    assert response.json() == {"detail": "This request needs an Idempotency-Key header."}


def test_with_the_header_a_user_without_influencer_profile_still_gets_404() -> None:
    client = APIClient()
    client.force_authenticate(UserFactory())
    response = client.post(
        "/api/v1/payouts/requests/", {"amount_minor": 100}, format="json", headers={IDEMPOTENCY_HEADER: "k-1"}
    )
    assert response.status_code == 404
    assert response.json() == {"detail": "No influencer profile."}


def test_the_payout_list_needs_no_header() -> None:
    client = APIClient()
    client.force_authenticate(UserFactory())
    assert client.get("/api/v1/payouts/requests/").status_code == 404  # no profile; the header is for writes


# --- (c) TRACE answers 405 -----------------------------------------------------------------------

#: a value each parameter accepts, so every filled route resolves (named regex groups by their name).
PLAUSIBLE = {"int": "1", "slug": "acme", "str": "x", "path": "x", "handle": "lena", "group": "1", "app_label": "brands"}


def test_trace_answers_405_on_every_route() -> None:
    client = Client()
    client.force_login(UserFactory())
    wrong: list[tuple[str, int, str]] = []
    for route in sorted(set(ALL_ROUTES)):
        path = _fill(route, PLAUSIBLE)
        assert _resolves(path), path  # the test reaches the route it names
        response = client.generic("TRACE", path)
        allow = response.get("Allow", "")
        if response.status_code != 405 or "TRACE" in allow:
            wrong.append((path, response.status_code, allow))
        elif path.startswith("/api/") and not (
            response["Content-Type"].startswith("application/json")
            and response.json() == {"detail": 'Method "TRACE" not allowed.'}
            and allow
        ):
            wrong.append((path, response.status_code, response["Content-Type"]))
    assert not wrong


def test_trace_on_an_api_route_names_the_allowed_methods() -> None:
    response = Client().generic("TRACE", "/api/v1/payouts/requests/")
    assert response.status_code == 405
    allowed = {method.strip() for method in response["Allow"].split(",")}
    assert {"GET", "POST"} <= allowed
    assert not allowed & {"TRACE", "PUT", "DELETE"}
