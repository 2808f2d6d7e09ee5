"""The sandbox answers as Mastodon does where a client would notice (issue "Adapters that survive real servers").

Facts from Mastodon's API documentation and source: trailing slashes are accepted (Rails routes); the v1
instance has its own shape; content warnings, sensitive and language are kept; ``scheduled_at`` makes a
ScheduledStatus (at least five minutes ahead); a reply to a post one cannot see is 404; favourite, reblog
and context exist; an Idempotency-Key lives for an hour apart from its post, so reusing it after a delete
answers 404; images are processed at once (200, since 4.0); an attached upload is no longer found at
``/api/v1/media/:id`` (404); a path Mastodon has no route for is 404 with an error in JSON.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from sandbox.models import InteractionKind, SandboxInteraction, SandboxPersona, SandboxScheduledStatus, SandboxStatus
from sandbox.services import access_token_issue, app_register, community_seed, persona_audience_attach
from sandbox.services_statuses import scheduled_statuses_publish_due, status_create
from sandbox.simulation import simulation_step
from tests.factories.accounts import UserFactory
from tests.factories.sandbox import SandboxPersonaFactory

pytestmark = pytest.mark.django_db

API = "/sandbox/api/v1"


@pytest.fixture
def persona() -> SandboxPersona:
    return SandboxPersonaFactory.create(handle="lena", owner=UserFactory())


def _client_for(persona: SandboxPersona, scopes: str = "read write") -> Client:
    app = app_register(name="Client", redirect_uris=["urn:ietf:wg:oauth:2.0:oob"], scopes="read write")
    issued = access_token_issue(app=app, persona=persona, scopes=scopes)
    return Client(HTTP_AUTHORIZATION=f"Bearer {issued.raw}")


@pytest.fixture
def api(persona: SandboxPersona) -> Client:
    return _client_for(persona)


def _png() -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (24, 16), (200, 30, 30)).save(out, "PNG")
    return SimpleUploadedFile("p.png", out.getvalue(), "image/png")


def _post(api: Client, **data: Any) -> Any:
    headers = {}
    if "idempotency_key" in data:
        headers["Idempotency-Key"] = data.pop("idempotency_key")
    return api.post(f"{API}/statuses", data, headers=headers)


# --- routes -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/sandbox/api/v1/instance/"),
        ("get", "/sandbox/api/v2/instance/"),
        ("get", "/sandbox/api/v1/accounts/verify_credentials/"),
        ("post", "/sandbox/api/v1/statuses/"),
    ],
)
def test_trailing_slashes_are_accepted(api: Client, method: str, path: str) -> None:
    response = getattr(api, method)(path, {"status": "slash"} if method == "post" else None)

    assert response.status_code == 200, response.content


def test_token_exchange_accepts_a_trailing_slash() -> None:
    response = Client().post("/sandbox/oauth/token/", {"grant_type": "authorization_code", "code": "x"})

    assert response.status_code == 401  # reached the endpoint: unknown client
    assert response.json()["error"] == "invalid_client"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", f"{API}/timelines/home"),
        ("get", f"{API}/notifications/"),
        ("post", f"{API}/statuses/1/pin"),
        ("get", "/sandbox/api/v3/whatever"),
        ("put", f"{API}/statuses/1"),  # editing: not implemented, and Rails has no 405
    ],
)
def test_what_is_not_implemented_answers_404_in_json(api: Client, method: str, path: str) -> None:
    response = getattr(api, method)(path)

    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert response.json() == {"error": "Not Found"}


def test_the_oauth_server_metadata_announces_pkce() -> None:
    body = Client().get("/sandbox/.well-known/oauth-authorization-server").json()

    assert body["code_challenge_methods_supported"] == ["S256"]
    assert body["grant_types_supported"] == ["authorization_code"]
    assert body["token_endpoint"] == "http://testserver/sandbox/oauth/token"
    assert body["authorization_endpoint"] == "http://testserver/sandbox/oauth/authorize"


# --- instance -----------------------------------------------------------------------------------


def test_v1_instance_has_the_v1_shape() -> None:
    body = Client().get(f"{API}/instance").json()

    for key in ("uri", "title", "short_description", "description", "email", "version", "urls", "stats"):
        assert key in body, key
    assert body["registrations"] is False
    assert body["approval_required"] is False
    assert body["invites_enabled"] is False
    assert set(body["stats"]) == {"user_count", "status_count", "domain_count"}
    assert body["configuration"]["statuses"]["max_characters"] == 500
    assert "domain" not in body
    assert "api_versions" not in body


def test_v2_instance_has_the_v2_shape_with_api_versions() -> None:
    body = Client().get("/sandbox/api/v2/instance").json()

    assert body["domain"] == "testserver"
    assert body["registrations"]["enabled"] is False
    assert body["api_versions"] == {"mastodon": 2}
    assert body["version"].startswith("4.3.0")
    assert "uri" not in body


# --- posting ------------------------------------------------------------------------------------


def test_content_warning_sensitive_and_language_are_kept_and_returned(api: Client) -> None:
    posted = _post(api, status="Spoilers ahead", spoiler_text="Film ending", language="de").json()
    plain = _post(api, status="Nothing to hide", sensitive="false", language="xx_not_a_language").json()
    flagged = _post(api, status="Flagged", sensitive="true").json()

    assert (posted["spoiler_text"], posted["sensitive"], posted["language"]) == ("Film ending", True, "de")
    read = api.get(f"{API}/statuses/{posted['id']}").json()
    assert (read["spoiler_text"], read["sensitive"], read["language"]) == ("Film ending", True, "de")
    assert (plain["spoiler_text"], plain["sensitive"], plain["language"]) == ("", False, None)
    assert flagged["sensitive"] is True
    page = Client().get(read["url"])
    assert "Film ending" in page.content.decode()


def test_the_content_warning_counts_towards_the_character_limit(api: Client) -> None:
    response = _post(api, status="x" * 490, spoiler_text="y" * 11)

    assert response.status_code == 422
    assert response.json() == {"error": "Validation failed: Text character limit of 500 exceeded"}


def test_a_reply_to_an_unknown_or_invisible_post_is_404_and_posts_nothing(api: Client, persona: SandboxPersona) -> None:
    other = SandboxPersonaFactory.create(handle="someone", owner=UserFactory())
    direct = status_create(persona=other, text="only for some", visibility="direct").status

    for target in ("999999", "abc", str(direct.pk)):
        response = _post(api, status="Replying", in_reply_to_id=target)
        assert response.status_code == 404, target
        assert response.json() == {"error": "The post you are trying to reply to does not appear to exist."}
    assert not SandboxStatus.objects.filter(persona=persona).exists()


def test_a_reply_is_linked_counted_and_listed_in_the_context(api: Client, persona: SandboxPersona) -> None:
    parent = _post(api, status="Parent").json()
    reply = _post(api, status="Child", in_reply_to_id=parent["id"]).json()
    grandchild = _post(api, status="Grandchild", in_reply_to_id=reply["id"]).json()

    assert reply["in_reply_to_id"] == parent["id"]
    assert reply["in_reply_to_account_id"] == str(persona.pk)
    assert api.get(f"{API}/statuses/{parent['id']}").json()["replies_count"] == 1
    context = api.get(f"{API}/statuses/{parent['id']}/context/").json()
    assert [s["id"] for s in context["ancestors"]] == []
    assert [s["id"] for s in context["descendants"]] == [reply["id"], grandchild["id"]]
    middle = Client().get(f"{API}/statuses/{reply['id']}/context").json()  # public posts: no token needed
    assert [s["id"] for s in middle["ancestors"]] == [parent["id"]]
    assert [s["id"] for s in middle["descendants"]] == [grandchild["id"]]
    assert api.get(f"{API}/statuses/999999/context").status_code == 404
    page = Client().get(api.get(f"{API}/statuses/{parent['id']}").json()["url"]).content.decode()
    assert "Child" in page


def test_scheduled_at_makes_a_scheduled_status_that_is_published_when_due(api: Client, persona: SandboxPersona) -> None:
    when = datetime.now(tz=UTC) + timedelta(hours=3)

    response = _post(api, status="Later", spoiler_text="CW", scheduled_at=when.isoformat())

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"id", "scheduled_at", "params", "media_attachments"}
    assert body["params"]["text"] == "Later"
    assert body["params"]["spoiler_text"] == "CW"
    assert not SandboxStatus.objects.filter(persona=persona).exists()  # never posted now
    assert [row["id"] for row in api.get(f"{API}/scheduled_statuses").json()] == [body["id"]]
    assert api.get(f"{API}/scheduled_statuses/{body['id']}").json()["id"] == body["id"]

    assert scheduled_statuses_publish_due(now=timezone.now()) == 0
    assert scheduled_statuses_publish_due(now=when + timedelta(seconds=1)) == 1
    published = SandboxStatus.objects.get(persona=persona)
    assert (published.text, published.spoiler_text, published.sensitive) == ("Later", "CW", True)
    assert published.created_at == when
    assert not SandboxScheduledStatus.objects.exists()
    assert api.get(f"{API}/scheduled_statuses/{body['id']}").status_code == 404


def test_scheduled_at_less_than_five_minutes_ahead_is_refused(api: Client, persona: SandboxPersona) -> None:
    soon = datetime.now(tz=UTC) + timedelta(minutes=2)

    response = _post(api, status="Too soon", scheduled_at=soon.isoformat())
    unreadable = _post(api, status="When?", scheduled_at="next tuesday")

    assert response.status_code == 422
    assert response.json() == {"error": "Validation failed: Scheduled at The scheduled date must be in the future"}
    assert unreadable.status_code == 422
    assert not SandboxStatus.objects.filter(persona=persona).exists()


def test_scheduled_at_already_past_posts_now_as_mastodon_does(api: Client) -> None:
    past = datetime.now(tz=UTC) - timedelta(minutes=1)

    body = _post(api, status="Past", scheduled_at=past.isoformat()).json()

    assert body["content"] == "<p>Past</p>"


def test_a_scheduled_post_can_be_moved_and_cancelled_freeing_its_media(api: Client, persona: SandboxPersona) -> None:
    media_id = api.post("/sandbox/api/v2/media", {"file": _png()}).json()["id"]
    when = datetime.now(tz=UTC) + timedelta(hours=1)
    scheduled = _post(api, status="Later", media_ids=[media_id], scheduled_at=when.isoformat()).json()
    assert [m["id"] for m in scheduled["media_attachments"]] == [media_id]
    busy = _post(api, status="Now", media_ids=[media_id])
    assert busy.status_code == 404  # reserved by the scheduled post

    moved = api.put(
        f"{API}/scheduled_statuses/{scheduled['id']}",
        {"scheduled_at": (when + timedelta(days=1)).isoformat()},
        content_type="application/json",
    )
    cancelled = api.delete(f"{API}/scheduled_statuses/{scheduled['id']}/")

    assert moved.status_code == 200
    assert moved.json()["scheduled_at"].startswith((when + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"))
    assert cancelled.status_code == 200
    assert cancelled.json() == {}
    assert _post(api, status="Now", media_ids=[media_id]).status_code == 200


# --- idempotency --------------------------------------------------------------------------------


def test_an_idempotency_key_reused_after_the_post_was_deleted_answers_404(api: Client, persona: SandboxPersona) -> None:
    first = _post(api, status="Once", idempotency_key="share-7")
    again = _post(api, status="Once", idempotency_key="share-7")
    assert first.json()["id"] == again.json()["id"]

    assert api.delete(f"{API}/statuses/{first.json()['id']}").status_code == 200
    after_delete = _post(api, status="Once", idempotency_key="share-7")

    assert after_delete.status_code == 404
    assert after_delete.json() == {"error": "Record not found"}
    assert not SandboxStatus.objects.filter(persona=persona).exists()


def test_a_deleted_post_key_is_free_again_after_an_hour(persona: SandboxPersona) -> None:
    now = timezone.now()
    first = status_create(persona=persona, text="Once", idempotency_key="k", now=now).status
    first.delete()

    later = status_create(persona=persona, text="Once", idempotency_key="k", now=now + timedelta(minutes=61))

    assert later.created


# --- media --------------------------------------------------------------------------------------


def test_a_small_image_is_ready_at_once_with_200_by_default(api: Client) -> None:
    response = api.post("/sandbox/api/v2/media", {"file": _png()})

    assert response.status_code == 200
    assert response.json()["url"]


def test_attached_media_are_404_at_the_media_endpoint(api: Client) -> None:
    media_id = api.post("/sandbox/api/v2/media", {"file": _png()}).json()["id"]
    assert api.get(f"{API}/media/{media_id}").status_code == 200

    assert _post(api, status="With image", media_ids=[media_id]).status_code == 200

    gone = api.get(f"{API}/media/{media_id}")
    assert gone.status_code == 404
    assert gone.json() == {"error": "Record not found"}
    assert api.put(f"{API}/media/{media_id}", "description=late", content_type="x").status_code == 404


# --- favourites and reblogs ---------------------------------------------------------------------


def test_favourite_and_unfavourite(api: Client, persona: SandboxPersona) -> None:
    status_id = _post(api, status="Like me").json()["id"]
    fan = SandboxPersonaFactory.create(handle="fan", owner=UserFactory())
    fan_api = _client_for(fan)

    liked = fan_api.post(f"{API}/statuses/{status_id}/favourite")
    twice = fan_api.post(f"{API}/statuses/{status_id}/favourite/")

    assert liked.status_code == 200
    assert (liked.json()["favourited"], liked.json()["favourites_count"]) == (True, 1)
    assert twice.json()["favourites_count"] == 1
    assert api.get(f"{API}/statuses/{status_id}").json()["favourited"] is False  # the author did not
    assert fan_api.get(f"{API}/statuses/{status_id}").json()["favourited"] is True
    undone = fan_api.post(f"{API}/statuses/{status_id}/unfavourite")
    assert (undone.json()["favourited"], undone.json()["favourites_count"]) == (False, 0)
    assert fan_api.post(f"{API}/statuses/999999/favourite").status_code == 404
    reader = _client_for(fan, scopes="read")
    assert reader.post(f"{API}/statuses/{status_id}/favourite").status_code == 403


def test_reblog_and_unreblog(api: Client, persona: SandboxPersona) -> None:
    status_id = _post(api, status="Boost me").json()["id"]
    fan = SandboxPersonaFactory.create(handle="booster", owner=UserFactory())
    fan_api = _client_for(fan)

    reblog = fan_api.post(f"{API}/statuses/{status_id}/reblog").json()
    again = fan_api.post(f"{API}/statuses/{status_id}/reblog").json()

    assert reblog["id"] != status_id
    assert again["id"] == reblog["id"]
    assert reblog["reblog"]["id"] == status_id
    assert reblog["reblogged"] is True
    assert reblog["reblog"]["reblogs_count"] == 1
    assert reblog["account"]["username"] == "booster"
    assert fan_api.get(f"{API}/statuses/{reblog['id']}").json()["reblog"]["id"] == status_id
    undone = fan_api.post(f"{API}/statuses/{status_id}/unreblog").json()
    assert (undone["id"], undone["reblogged"], undone["reblogs_count"]) == (status_id, False, 0)
    assert fan_api.get(f"{API}/statuses/{reblog['id']}").status_code == 404
    # Deleting the reblog post undoes it as well.
    second = fan_api.post(f"{API}/statuses/{status_id}/reblog").json()
    assert fan_api.delete(f"{API}/statuses/{second['id']}").status_code == 200
    assert api.get(f"{API}/statuses/{status_id}").json()["reblogs_count"] == 0


def test_a_direct_post_cannot_be_reblogged(api: Client, persona: SandboxPersona) -> None:
    status_id = _post(api, status="Just us", visibility="direct").json()["id"]

    response = api.post(f"{API}/statuses/{status_id}/reblog")

    assert response.status_code == 403
    assert response.json() == {"error": "This action is not allowed"}


def test_the_simulation_keeps_api_interactions_in_its_counts(persona: SandboxPersona, settings: Any) -> None:
    community_seed(size=40, seed=3)
    persona.interests = ["coffee", "food"]
    persona.save()
    persona_audience_attach(persona=persona, size=30, seed=3)
    fan = SandboxPersonaFactory.create(handle="member_fan", owner=UserFactory())
    status = status_create(persona=persona, text="Flat white #coffee").status
    fan_api = _client_for(fan)
    fan_api.post(f"{API}/statuses/{status.pk}/favourite")
    fan_api.post(f"{API}/statuses/{status.pk}/reblog")

    simulation_step(now=timezone.now() + timedelta(hours=6), seed=3)

    status.refresh_from_db()
    simulated = SandboxInteraction.objects.filter(status=status, persona__owner__isnull=True)
    assert status.favourites_count == simulated.filter(kind=InteractionKind.FAVOURITE).count() + 1
    assert status.reblogs_count == simulated.filter(kind=InteractionKind.REBLOG).count() + 1
    # The member's reblog is a post of its own, never simulated as if it were new.
    assert not SandboxStatus.objects.filter(reblog_of=status).get().exposures.exists()


# --- the page that says what is missing ---------------------------------------------------------


def test_the_sandbox_page_says_what_it_does_not_implement() -> None:
    page = Client().get(reverse("sandbox:index")).content.decode()

    assert "What the sandbox does not implement of Mastodon" in page
    assert "Timelines, notifications, search" in page
    assert "Video, audio and animated GIFs" in page
