"""The sandbox is a development and demo network: off in production unless turned on (ADR 17).

The first tests load the settings as production does (a fresh interpreter with ``DJANGO_DEBUG=0``),
because the switch is read when the settings and URLs are imported; the others turn it off in this
process and reload the URL modules, to show each door is closed: routes, the connect button, the
connect service, the instance-address shortcut and the simulation task.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import clear_url_caches

from networks import services
from networks.errors import ConnectError, InstanceUrlInvalid
from networks.models import Network
from sandbox import tasks
from tests.factories.influencers import InfluencerProfileFactory
from tests.production import probe, production_env, run_python

ROOT = Path(__file__).resolve().parents[2]

PRODUCTION_PROBE = """
import json
import django
django.setup()
from django.conf import settings
from django.urls import NoReverseMatch, Resolver404, resolve, reverse

def resolves(path):
    try:
        return resolve(path).url_name
    except Resolver404:
        return None

try:
    connect = reverse("networks:connect-sandbox")
except NoReverseMatch:
    connect = None
print(json.dumps({
    "enabled": settings.SANDBOX_ENABLED,
    "providers": sorted(settings.NETWORK_PROVIDERS),
    "beat": sorted(settings.CELERY_BEAT_SCHEDULE),
    "routes": {p: resolves(p) for p in ["/sandbox/", "/sandbox/api/v2/media", "/sandbox/media/1",
                                        "/sandbox/oauth/authorize"]},
    "connect": connect,
}))
"""


def _env(**extra: str) -> dict[str, str]:
    # No sandbox switch from this process's environment: production's default is what is tested.
    defaults = {
        "LINKILIKE_SITE_URL": "https://linkilike.example",
        "DATABASE_URL": "sqlite:///:memory:",
        "LINKILIKE_SANDBOX_ENABLED": "",
    }
    return production_env(**{**defaults, **extra})


def _probe(**extra: str) -> dict[str, Any]:
    return probe(PRODUCTION_PROBE, env=_env(**extra))


def test_production_settings_have_no_sandbox() -> None:
    answer = _probe()
    assert answer["enabled"] is False
    assert "sandbox" not in answer["providers"]
    assert "mastodon" in answer["providers"]
    assert "sandbox-simulate" not in answer["beat"]
    assert all(name is None for name in answer["routes"].values()), answer["routes"]
    assert answer["connect"] is None


def test_production_can_turn_it_on_explicitly() -> None:
    answer = _probe(LINKILIKE_SANDBOX_ENABLED="1")
    assert answer["enabled"] is True
    assert "sandbox" in answer["providers"]
    assert answer["routes"]["/sandbox/api/v2/media"] == "media-create"
    assert answer["connect"] == "/i/accounts/connect/sandbox/"


def _deploy_check(**extra: str) -> str:
    result = run_python("manage.py", "check", "--deploy", "--tag", "security", env=_env(**extra))
    return result.stdout + result.stderr


def test_deploy_check_warns_only_when_it_is_on() -> None:
    assert "sandbox.W001" not in _deploy_check()
    assert "sandbox.W001" in _deploy_check(LINKILIKE_SANDBOX_ENABLED="1")


# --- in this process: every door closed ----------------------------------------------------


def _reload_urls() -> None:
    import linkilike.urls
    import networks.urls

    importlib.reload(networks.urls)
    importlib.reload(linkilike.urls)
    clear_url_caches()


@pytest.fixture
def sandbox_off(settings: Any) -> Iterator[None]:
    settings.SANDBOX_ENABLED = False
    settings.NETWORKS_ALLOW_PRIVATE_INSTANCES = False
    settings.NETWORK_PROVIDERS = {k: v for k, v in settings.NETWORK_PROVIDERS.items() if k != "sandbox"}
    _reload_urls()
    yield
    settings.SANDBOX_ENABLED = True
    _reload_urls()


pytestmark = pytest.mark.django_db


@pytest.mark.usefixtures("sandbox_off")
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/sandbox/"),
        ("get", "/sandbox/api/v1/instance"),
        ("post", "/sandbox/api/v1/apps"),
        ("post", "/sandbox/api/v2/media"),
        ("get", "/sandbox/media/1"),
        ("get", "/sandbox/oauth/authorize"),
    ],
)
def test_sandbox_routes_are_404(client: Client, method: str, path: str) -> None:
    assert getattr(client, method)(path).status_code == 404


@pytest.mark.usefixtures("sandbox_off")
def test_no_sandbox_account_can_be_connected(client: Client) -> None:
    influencer = InfluencerProfileFactory()
    client.force_login(influencer.user)

    page = client.get("/i/accounts/")
    assert page.status_code == 200
    assert b"connect/sandbox" not in page.content
    assert client.post("/i/accounts/connect/sandbox/").status_code == 404

    with pytest.raises(ConnectError):
        services.account_connect_begin(
            network=Network.SANDBOX, instance_url="http://testserver/sandbox", redirect_uri="http://testserver/cb"
        )
    # The sandbox's address is no longer a private address the guard lets through.
    with pytest.raises(InstanceUrlInvalid):
        services.instance_url_normalize(raw="http://127.0.0.1:8000/sandbox")
    assert services.sandbox_enabled() is False
    assert services.sandbox_base_url() == ""


@pytest.mark.usefixtures("sandbox_off")
def test_simulation_does_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    called: list[bool] = []
    monkeypatch.setattr(tasks, "simulation_step", lambda: called.append(True))
    tasks.sandbox_simulate()
    assert called == []


def test_on_in_development_and_tests(client: Client) -> None:
    influencer = InfluencerProfileFactory()
    client.force_login(influencer.user)
    assert b"/i/accounts/connect/sandbox/" in client.get("/i/accounts/").content
    assert client.get("/sandbox/api/v1/instance").status_code == 200
