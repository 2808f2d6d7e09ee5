"""S1/S2: as a member of brand B, nothing of brand A can be read or changed, on any route.

Every route is enumerated from the URL configuration; see tests/tenancy_cases.py for how
routes are classified and filled.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.apps import apps
from django.core import serializers
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from brands.models import Brand, BrandRole
from brands.tenancy import BrandScope
from tests.factories.accounts import UserFactory
from tests.factories.brands import BrandFactory, MembershipFactory
from tests.tenancy_cases import MARKER, ROUTE_KWARGS, UNSCOPED_PATH_PREFIXES, UNSCOPED_PREFIXES, UNSCOPED_ROUTES

PROJECT_APPS = ("accounts", "brands", "influencers", "campaigns", "payouts", "networks", "sandbox", "platform")
METHODS = ("get", "post", "put", "patch", "delete")
HOSTILE_BODY = {
    "name": "pwned",
    "role": BrandRole.OWNER,
    "email": "attacker@example.test",
    "status": "approved",
    "budget_minor": 1,
    "answer": "accept",
}


@dataclass(frozen=True)
class Route:
    name: str
    pattern: str
    kwargs: tuple[str, ...]
    callback: Any


def _iter_routes(resolver: URLResolver, prefix: str = "", namespace: str = "") -> Iterator[Route]:
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            ns = entry.namespace or ""
            full_ns = f"{namespace}:{ns}" if namespace and ns else ns or namespace
            yield from _iter_routes(entry, prefix + str(entry.pattern), full_ns)
        elif isinstance(entry, URLPattern):
            pattern = prefix + str(entry.pattern)
            names = tuple(dict.fromkeys(re.findall(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>", pattern)))
            kwargs = tuple(a or b for a, b in names)
            name = f"{namespace}:{entry.name}" if namespace and entry.name else entry.name or ""
            yield Route(name=name, pattern=pattern, kwargs=kwargs, callback=entry.callback)


def all_routes() -> list[Route]:
    return list(_iter_routes(get_resolver()))


def brand_routes() -> list[Route]:
    return [route for route in all_routes() if "brand_slug" in route.kwargs]


def _view_class(callback: Any) -> type | None:
    return getattr(callback, "view_class", None) or getattr(callback, "cls", None)


def _database_fingerprint() -> str:
    digest = hashlib.sha256()
    for model in apps.get_models():
        if model._meta.app_label not in PROJECT_APPS:
            continue
        rows = model._default_manager.order_by("pk")
        digest.update(serializers.serialize("json", rows).encode())
    return digest.hexdigest()


def _request(client: Client, method: str, url: str) -> Any:
    if method == "get":
        return client.get(url)
    if url.startswith("/api/"):
        return getattr(client, method)(url, data=json.dumps(HOSTILE_BODY), content_type="application/json")
    return getattr(client, method)(url, data=HOSTILE_BODY)


def _fill(route: Route, brand: Brand) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"brand_slug": brand.slug}
    for kwarg in route.kwargs:
        if kwarg == "brand_slug":
            continue
        factory = ROUTE_KWARGS.get(route.name, {}).get(kwarg)
        if factory is None:
            pytest.fail(
                f"Route {route.name or route.pattern!r} has kwarg {kwarg!r} that the sweep cannot fill: "
                "add it to ROUTE_KWARGS in tests/tenancy_cases.py."
            )
        kwargs[kwarg] = factory(brand)
    return kwargs


def test_every_route_is_named_and_classified() -> None:
    problems = []
    for route in all_routes():
        if "brand_slug" in route.kwargs:
            if not route.name:
                problems.append(f"unnamed brand-scoped route {route.pattern}")
            continue
        if route.name in UNSCOPED_ROUTES or any(route.name.startswith(p) for p in UNSCOPED_PREFIXES):
            continue
        if any(route.pattern.startswith(p) for p in UNSCOPED_PATH_PREFIXES):
            continue
        problems.append(f"{route.name or route.pattern!r} ({route.pattern})")
    assert not problems, (
        "Routes that are neither brand-scoped nor listed in tests/tenancy_cases.py UNSCOPED_ROUTES: "
        + ", ".join(problems)
    )


def test_every_brand_scoped_view_inherits_the_scope_and_keeps_its_queryset_hook() -> None:
    for route in brand_routes():
        view_class = _view_class(route.callback)
        assert view_class is not None, f"{route.name}: brand-scoped routes must use class-based views"
        assert issubclass(view_class, BrandScope), f"{route.name}: {view_class.__name__} must inherit BrandScope"
        assert view_class.get_queryset is BrandScope.get_queryset, (
            f"{route.name}: {view_class.__name__} overrides the scoped queryset hook"
        )


def test_overriding_the_scoped_queryset_hook_is_refused_at_class_creation() -> None:
    from django.core.exceptions import ImproperlyConfigured

    from brands.tenancy import BrandScopedViewSet

    with pytest.raises(ImproperlyConfigured, match="bypass the brand scope"):
        type("Sneaky", (BrandScopedViewSet,), {"get_queryset": lambda self: None})


def test_sweep_finds_routes_of_every_brand_area() -> None:
    names = {route.name for route in brand_routes()}
    assert {"brands:dashboard", "brands:members", "api-brand-detail", "brand-members-list"} <= names


@pytest.mark.django_db
@pytest.mark.parametrize("route", brand_routes(), ids=lambda route: route.name)
def test_member_of_other_brand_gets_404_and_changes_nothing(route: Route) -> None:
    brand_a = BrandFactory(name=f"{MARKER} Brand")
    MembershipFactory(brand=brand_a, role=BrandRole.OWNER, user__full_name=f"{MARKER} owner")
    brand_b = BrandFactory()
    attacker = UserFactory()
    MembershipFactory(brand=brand_b, user=attacker, role=BrandRole.OWNER)
    client = Client()
    client.force_login(attacker)

    kwargs_a = _fill(route, brand_a)
    # Under A's slug every method is 404. A's objects addressed through B's own workspace are
    # 404 too, except that a method the route does not support at all may answer 405.
    checks = [(reverse(route.name, kwargs=kwargs_a), {404})]
    if len(kwargs_a) > 1:
        checks.append((reverse(route.name, kwargs={**kwargs_a, "brand_slug": brand_b.slug}), {404, 405}))

    before = _database_fingerprint()
    for url, allowed in checks:
        for method in METHODS:
            response = _request(client, method, url)
            assert response.status_code in allowed, f"{method.upper()} {url} -> {response.status_code}"
            assert MARKER not in response.content.decode(errors="replace")
    assert _database_fingerprint() == before, f"{route.name}: a request from another brand changed data"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "route", [r for r in brand_routes() if r.kwargs == ("brand_slug",)], ids=lambda route: route.name
)
def test_lists_of_own_brand_show_none_of_other_brands_rows(route: Route) -> None:
    brand_a = BrandFactory(name=f"{MARKER} Brand")
    MembershipFactory(brand=brand_a, role=BrandRole.OWNER, user__full_name=f"{MARKER} owner")
    # Give brand A one of everything the cases know how to make (each distinct factory once).
    distinct = {id(factory): factory for factories in ROUTE_KWARGS.values() for factory in factories.values()}
    for factory in distinct.values():
        factory(brand_a)
    brand_b = BrandFactory()
    member = UserFactory()
    MembershipFactory(brand=brand_b, user=member, role=BrandRole.OWNER)
    client = Client()
    client.force_login(member)

    response = client.get(reverse(route.name, kwargs={"brand_slug": brand_b.slug}))

    assert response.status_code in {200, 405}, f"{route.name}: {response.status_code}"
    assert MARKER not in response.content.decode(errors="replace")


@pytest.mark.django_db
def test_api_brand_list_shows_only_own_brands() -> None:
    BrandFactory(name=f"{MARKER} Brand")
    member = UserFactory()
    MembershipFactory(user=member, brand__name="Mine")
    client = Client()
    client.force_login(member)

    response = client.get(reverse("api-brand-list"))

    assert response.status_code == 200
    assert [row["name"] for row in response.json()["results"]] == ["Mine"]
