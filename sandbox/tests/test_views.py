"""The consent page and the sandbox's public pages."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pytest
from django.test import Client
from django.urls import reverse

from influencers.models import Topic
from sandbox.models import SandboxAuthorizationCode, SandboxPersona
from sandbox.representations import content_html
from sandbox.services import app_register, community_seed, status_create
from sandbox.testing import query_of
from tests.factories.accounts import UserFactory
from tests.factories.influencers import InfluencerProfileFactory
from tests.factories.sandbox import SandboxPersonaFactory

pytestmark = pytest.mark.django_db

REDIRECT_URI = "https://app.example.test/callback"


@pytest.fixture
def app() -> Any:
    return app_register(name="Linkilike", redirect_uris=[REDIRECT_URI], scopes="read write profile")


def _authorize(app: Any, **overrides: str) -> str:
    params = {
        "response_type": "code",
        "client_id": app.client_id,
        "redirect_uri": REDIRECT_URI,
        "scope": "write profile",
        "state": "xyz",
    } | overrides
    return f"{reverse('sandbox:authorize')}?{urlencode(params)}"


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_consent_page_needs_a_signed_in_person(app: Any) -> None:
    response = Client().get(_authorize(app))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_consent_page_names_the_app_and_what_it_may_do(app: Any) -> None:
    response = _client(UserFactory()).get(_authorize(app))

    assert response.status_code == 200
    page = response.content.decode()
    assert "Authorize Linkilike?" in page
    assert "Post, upload media and change your sandbox account" in page
    assert "Create a new sandbox account" in page


def test_unknown_app_is_explained_not_redirected() -> None:
    response = _client(UserFactory()).get(
        f"{reverse('sandbox:authorize')}?response_type=code&client_id=nope&redirect_uri=https://evil.test/"
    )

    assert response.status_code == 400
    assert "not registered" in response.content.decode()


def test_deny_sends_the_person_back_with_access_denied(app: Any) -> None:
    url = _authorize(app)
    response = _client(UserFactory()).post(url, {"decision": "deny"})

    assert response.status_code == 302
    params = query_of(response["Location"])
    assert response["Location"].startswith(REDIRECT_URI)
    assert params["error"] == "access_denied"
    assert params["state"] == "xyz"
    assert not SandboxAuthorizationCode.objects.exists()


def test_bad_parameters_go_back_to_the_verified_app(app: Any) -> None:
    response = _client(UserFactory()).get(_authorize(app, response_type="token"))

    assert response.status_code == 302
    assert query_of(response["Location"])["error"] == "unsupported_response_type"


def test_new_account_takes_the_influencers_topics_and_gets_followers(app: Any, settings: Any) -> None:
    settings.SANDBOX_NEW_ACCOUNT_FOLLOWERS = 15
    community_seed(size=40, seed=1)
    profile = InfluencerProfileFactory(display_name="Lena Berger")
    profile.topics.set(Topic.objects.filter(slug__in=["coffee", "food"]))

    response = _client(profile.user).post(_authorize(app), {"account": "new", "new_handle": "lena_b"})

    assert response.status_code == 302
    assert "code" in query_of(response["Location"])
    persona = SandboxPersona.objects.get(handle="lena_b")
    assert persona.owner == profile.user
    assert persona.display_name == "Lena Berger"
    assert sorted(persona.interests) == ["coffee", "food"]
    assert persona.follower_links.count() == 15
    sharing = [link.follower for link in persona.follower_links.select_related("follower")]
    assert sum(1 for f in sharing if {"coffee", "food"} & set(f.interests)) >= 10


def test_taken_handle_is_refused_and_the_answer_kept(app: Any) -> None:
    SandboxPersonaFactory(handle="taken")

    response = _client(UserFactory()).post(_authorize(app), {"account": "new", "new_handle": "taken"})

    assert response.status_code == 400
    page = response.content.decode()
    assert "The handle @taken is taken" in page
    assert 'value="taken"' in page


def test_cannot_authorize_as_someone_elses_account(app: Any) -> None:
    other = SandboxPersonaFactory(handle="someone_else", owner=UserFactory())
    mine = SandboxPersonaFactory(handle="mine", owner=UserFactory())
    client = _client(mine.owner)

    refused = client.post(_authorize(app), {"account": str(other.pk)})
    allowed = client.post(_authorize(app), {"account": str(mine.pk)})

    assert refused.status_code == 400
    assert not SandboxAuthorizationCode.objects.filter(persona=other).exists()
    assert allowed.status_code == 302
    assert SandboxAuthorizationCode.objects.get().persona == mine


def test_profile_and_status_pages_show_posts_and_counts() -> None:
    persona = SandboxPersonaFactory(handle="tom", display_name="Tom Huber", owner=UserFactory())
    status = status_create(persona=persona, text="Gravel ride https://example.test/route").status
    private = status_create(persona=persona, text="Only for followers", visibility="private").status
    client = Client()

    profile = client.get(reverse("sandbox:profile", kwargs={"handle": "tom"}))
    page = client.get(reverse("sandbox:status-page", kwargs={"handle": "tom", "status_id": status.pk}))
    hidden = client.get(reverse("sandbox:status-page", kwargs={"handle": "tom", "status_id": private.pk}))
    wrong_handle = client.get(reverse("sandbox:status-page", kwargs={"handle": "mia", "status_id": status.pk}))

    assert profile.status_code == 200
    assert "Tom Huber" in profile.content.decode()
    assert "Gravel ride" in profile.content.decode()
    assert "Only for followers" not in profile.content.decode()
    assert page.status_code == 200
    assert 'href="https://example.test/route"' in page.content.decode()
    assert "0 likes" in page.content.decode()
    assert hidden.status_code == 404
    assert wrong_handle.status_code == 404
    assert client.get(reverse("sandbox:profile", kwargs={"handle": "nobody"})).status_code == 404


def test_post_text_is_escaped_on_pages_and_in_the_api() -> None:
    persona = SandboxPersonaFactory(handle="mallory", owner=UserFactory())
    status = status_create(persona=persona, text='<script>alert("x")</script> & <b>bold</b>').status

    page = Client().get(reverse("sandbox:status-page", kwargs={"handle": "mallory", "status_id": status.pk}))

    body = page.content.decode()
    assert "<script>alert" not in body
    assert "&lt;script&gt;" in body
    assert content_html(status.text).startswith("<p>&lt;script&gt;")


def test_avatar_is_an_svg_with_initials() -> None:
    response = Client().get(reverse("sandbox:avatar", kwargs={"handle": "anna_berg"}))

    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert ">AB</text>" in response.content.decode()


@pytest.mark.parametrize(
    "model",
    ["sandboxpersona", "sandboxfollow", "sandboxapp", "sandboxauthorizationcode", "sandboxaccesstoken",
     "sandboxstatus", "sandboxmedia", "sandboxinteraction", "sandboxexposure"],
)  # fmt: skip
def test_admin_lists_open_and_show_no_secrets(model: str, settings: Any) -> None:
    settings.STAFF_MFA_REQUIRED = False
    app = app_register(name="Secretive", redirect_uris=[REDIRECT_URI], scopes="read")
    persona = SandboxPersonaFactory(owner=UserFactory())
    status_create(persona=persona, text="Admin sees this")
    admin = UserFactory(is_staff=True, is_superuser=True)

    response = _client(admin).get(reverse(f"admin:sandbox_{model}_changelist"))

    assert response.status_code == 200
    assert app.client_secret not in response.content.decode()
    if model == "sandboxapp":
        detail = _client(admin).get(reverse("admin:sandbox_sandboxapp_change", args=[app.pk]))
        assert detail.status_code == 200
        assert app.client_secret not in detail.content.decode()
