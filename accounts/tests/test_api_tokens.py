"""API tokens: hashed at rest, expiring, revocable by their owner, revoked with the password."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import ApiToken, User
from accounts.services import api_token_create, api_tokens_revoke_all
from linkilike.models import AuditEvent
from tests.factories.accounts import TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

RAW_TOKEN = re.compile(r"\blk_[0-9a-f]{64}\b")
NEW_PASSWORD = "another-long-secret-77"


def _signed_in(user: User) -> Client:
    """Signed in through allauth, then re-authenticated: creating a token asks for the password again."""
    client = Client()
    assert client.post(reverse("account_login"), {"login": user.email, "password": TEST_PASSWORD}).status_code == 302
    assert client.post(reverse("account_reauthenticate"), {"password": TEST_PASSWORD}).status_code == 302
    return client


def _api_status(raw: str) -> int:
    """200 when the token works; a refused token is 403 (session authentication comes first, so DRF
    sends no WWW-Authenticate challenge), reported here as 401 to read as what it means."""
    response = Client(HTTP_AUTHORIZATION=f"Token {raw}").get(reverse("api-brand-list"))
    if response.status_code == 403:
        assert response.json()["detail"] in {"Invalid token.", "User inactive or deleted."}
        return 401
    return response.status_code


def _create_on_page(client: Client, name: str = "CI deploy") -> str:
    response = client.post(reverse("accounts:api-token-new"), {"name": name})
    assert response.status_code == 200
    assert response["Cache-Control"].startswith("no-store") or "no-store" in response["Cache-Control"]
    found = RAW_TOKEN.findall(response.content.decode())
    assert len(set(found)) == 1, "the new token is shown exactly once, on the page that created it"
    return found[0]


def _table_text() -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {ApiToken._meta.db_table}")  # noqa: S608 - our own table name
        return repr(cursor.fetchall())


def test_page_creates_a_token_shown_once_and_stored_only_as_a_hash() -> None:
    user = UserFactory()
    client = _signed_in(user)

    raw = _create_on_page(client)

    assert raw not in _table_text(), "the database holds no raw token"
    token = ApiToken.objects.get(user=user)
    assert token.digest == hashlib.sha512(raw.encode()).hexdigest()
    assert token.name == "CI deploy"
    assert raw.startswith(token.token_key)
    assert _api_status(raw) == 200
    listing = client.get(reverse("accounts:api-tokens")).content.decode()
    assert "CI deploy" in listing
    assert token.token_key in listing
    assert raw not in listing, "the list never shows the token again"


def test_token_expires_after_the_configured_lifetime_by_default() -> None:
    user = UserFactory()
    token, _raw = api_token_create(user=user, name="script")

    assert settings.REST_KNOX["TOKEN_TTL"] == timedelta(days=30)
    assert token.expiry is not None
    assert abs(token.expiry - (timezone.now() + timedelta(days=30))) < timedelta(minutes=1)


def test_expired_token_is_refused() -> None:
    token, raw = api_token_create(user=UserFactory(), name="old")
    ApiToken.objects.filter(pk=token.pk).update(expiry=timezone.now() - timedelta(seconds=1))

    assert _api_status(raw) == 401


def test_use_is_recorded() -> None:
    token, raw = api_token_create(user=UserFactory(), name="script")

    assert _api_status(raw) == 200

    token.refresh_from_db()
    assert token.last_used is not None


def test_owner_revokes_one_token_on_the_page() -> None:
    user = UserFactory()
    client = _signed_in(user)
    _kept, kept_raw = api_token_create(user=user, name="kept")
    gone, gone_raw = api_token_create(user=user, name="gone")

    response = client.post(reverse("accounts:api-token-revoke", args=[gone.pk]))

    assert response.status_code == 302
    assert _api_status(gone_raw) == 401
    assert _api_status(kept_raw) == 200
    assert list(ApiToken.objects.filter(user=user).values_list("name", flat=True)) == ["kept"]


def test_owner_revokes_all_tokens_on_the_page() -> None:
    user = UserFactory()
    other = UserFactory()
    client = _signed_in(user)
    raws = [api_token_create(user=user, name=f"t{n}")[1] for n in range(3)]
    _others, other_raw = api_token_create(user=other, name="theirs")

    assert client.post(reverse("accounts:api-tokens-revoke-all")).status_code == 302

    assert [_api_status(raw) for raw in raws] == [401, 401, 401]
    assert _api_status(other_raw) == 200


def test_another_persons_token_is_404_and_untouched() -> None:
    victim = UserFactory()
    theirs, theirs_raw = api_token_create(user=victim, name="VICTIMSECRET")
    client = _signed_in(UserFactory())

    assert client.post(reverse("accounts:api-token-revoke", args=[theirs.pk])).status_code == 404
    assert "VICTIMSECRET" not in client.get(reverse("accounts:api-tokens")).content.decode()
    assert _api_status(theirs_raw) == 200


def test_creating_a_token_needs_a_fresh_password_confirmation() -> None:
    user = UserFactory()
    client = Client()
    client.force_login(user)

    response = client.post(reverse("accounts:api-token-new"), {"name": "sneaky"})

    assert response.status_code == 302
    assert reverse("account_reauthenticate") in response["Location"]
    assert not ApiToken.objects.filter(user=user).exists()


def test_pages_need_sign_in() -> None:
    for name in ("accounts:api-tokens", "accounts:api-token-new"):
        response = Client().get(reverse(name))
        assert response.status_code == 302
        assert reverse("account_login") in response["Location"]


def test_password_change_revokes_every_token() -> None:
    user = UserFactory()
    client = _signed_in(user)
    raws = [api_token_create(user=user, name=f"t{n}")[1] for n in range(2)]

    response = client.post(
        reverse("account_change_password"),
        {"oldpassword": TEST_PASSWORD, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )

    assert response.status_code == 302
    assert [_api_status(raw) for raw in raws] == [401, 401]
    assert not ApiToken.objects.filter(user=user).exists()


def test_password_reset_revokes_every_token() -> None:
    user = UserFactory()
    _token, raw = api_token_create(user=user, name="script")
    client = Client()

    client.post(reverse("account_reset_password"), {"email": user.email})
    link = re.search(r"https?://[^/\s]+(/accounts/password/reset/key/\S+/)", mail.outbox[-1].body)
    assert link is not None
    form = client.get(link.group(1), follow=True)
    response = client.post(form.redirect_chain[-1][0], {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})

    assert response.status_code == 302
    assert _api_status(raw) == 401


def test_any_other_password_change_revokes_too() -> None:
    """Staff setting a password in the admin or `manage.py changepassword` go through set_password + save."""
    user = UserFactory()
    _token, raw = api_token_create(user=user, name="script")

    user.set_password(NEW_PASSWORD)
    user.save()

    assert _api_status(raw) == 401


def test_signing_out_keeps_api_tokens() -> None:
    """API tokens are separate credentials for scripts; signing out ends the browser session only."""
    user = UserFactory()
    client = _signed_in(user)
    _token, raw = api_token_create(user=user, name="script")

    client.post(reverse("account_logout"))

    assert _api_status(raw) == 200


def test_inactive_person_token_is_refused() -> None:
    user = UserFactory()
    _token, raw = api_token_create(user=user, name="script")
    User.objects.filter(pk=user.pk).update(is_active=False)

    assert _api_status(raw) == 401


def test_schema_documents_the_token_scheme() -> None:
    schema = Client().get(reverse("api-schema"), HTTP_ACCEPT="application/vnd.oai.openapi+json").json()

    scheme = schema["components"]["securitySchemes"]["tokenAuth"]
    assert scheme["type"] == "apiKey"
    assert scheme["in"] == "header"
    assert scheme["name"] == "Authorization"
    assert "/accounts/tokens/" in scheme["description"]


def test_creating_and_revoking_tokens_is_in_the_audit_trail_without_the_secret() -> None:
    user = UserFactory()
    client = _signed_in(user)
    raw = _create_on_page(client)
    token = ApiToken.objects.get(user=user)
    client.post(reverse("accounts:api-token-revoke", args=[token.pk]))
    api_token_create(user=user, name="second")
    api_token_create(user=user, name="third")
    client.post(reverse("accounts:api-tokens-revoke-all"))

    events = list(AuditEvent.objects.filter(target_id=str(user.pk)).order_by("pk"))
    assert [event.action for event in events] == [
        "user.api_token_created",
        "user.api_token_revoked",
        "user.api_token_created",
        "user.api_token_created",
        "user.api_tokens_revoked",
    ]
    assert events[0].actor_id == user.pk  # the person on the page
    assert events[0].after["name"] == "CI deploy"
    assert events[1].before == {"id": token.pk, "name": "CI deploy"}  # keys named like "token" are redacted
    assert events[4].before == {"count": 2}
    stored = " ".join(str(event.before) + str(event.after) for event in events)
    assert raw not in stored
    assert token.digest not in stored
    assert token.token_key not in stored


def test_revoking_all_of_nothing_records_nothing() -> None:
    user = UserFactory()
    assert api_tokens_revoke_all(user=user) == 0
    assert not AuditEvent.objects.filter(target_id=str(user.pk)).exists()
