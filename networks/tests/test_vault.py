"""S6: tokens encrypted at rest under a rotating key list; never in admin pages or repr."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.fernet import Fernet
from django.core import serializers
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import reverse

from networks import vault
from networks.models import ConnectedAccount, OAuthApp
from tests.factories.accounts import UserFactory
from tests.factories.networks import ConnectedAccountFactory

pytestmark = pytest.mark.django_db

ACCESS = "plain-access-token-5f2b9c"
REFRESH = "plain-refresh-token-77aa01"


def raw_rows() -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM networks_connectedaccount")
        accounts = cursor.fetchall()
        cursor.execute("SELECT * FROM networks_oauthapp")
        return accounts + cursor.fetchall()


def test_raw_rows_show_no_token() -> None:
    ConnectedAccountFactory(access_token=ACCESS, refresh_token=REFRESH)
    OAuthApp.objects.create(
        network="mastodon",
        instance_url="https://m.example",
        redirect_uri="https://l.example/cb",
        scopes="profile",
        client_id="cid",
        client_secret="client-secret-9911",
    )
    dump = repr(raw_rows())
    for secret in (ACCESS, REFRESH, "client-secret-9911"):
        assert secret not in dump
    assert vault.PREFIX in dump
    account = ConnectedAccount.objects.get()
    assert (account.access_token, account.refresh_token) == (ACCESS, REFRESH)


def test_rotation_add_key_rotate_drop_old_key(settings: Any) -> None:
    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [old_key]
    accounts = [ConnectedAccountFactory(access_token=f"{ACCESS}-{n}", refresh_token=f"{REFRESH}-{n}") for n in range(3)]
    OAuthApp.objects.create(
        network="mastodon",
        instance_url="https://m.example",
        redirect_uri="https://l.example/cb",
        scopes="profile",
        client_id="cid",
        client_secret="client-secret-9911",
    )
    settings.FIELD_ENCRYPTION_KEYS = [new_key, old_key]
    call_command("rotate_token_keys", stdout=open("/dev/null", "w"))  # noqa: SIM115
    settings.FIELD_ENCRYPTION_KEYS = [new_key]
    for n, account in enumerate(accounts):
        reloaded = ConnectedAccount.objects.get(pk=account.pk)
        assert reloaded.access_token == f"{ACCESS}-{n}"
        assert reloaded.refresh_token == f"{REFRESH}-{n}"
    assert OAuthApp.objects.get().client_secret == "client-secret-9911"
    # And the old key alone can no longer read anything: the rows really moved.
    settings.FIELD_ENCRYPTION_KEYS = [old_key]
    with pytest.raises(ImproperlyConfigured):
        ConnectedAccount.objects.get(pk=accounts[0].pk)


def test_dropping_a_key_too_early_fails_loudly(settings: Any) -> None:
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    account = ConnectedAccountFactory(access_token=ACCESS)
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(ImproperlyConfigured, match="rotate_token_keys"):
        ConnectedAccount.objects.get(pk=account.pk)


def test_production_without_keys_is_refused(settings: Any) -> None:
    settings.FIELD_ENCRYPTION_KEYS = []
    settings.DEBUG = False
    settings.TESTING = False
    with pytest.raises(ImproperlyConfigured):
        vault.encrypt("x")


def test_admin_pages_never_show_tokens(client: Client, settings: Any) -> None:
    settings.STAFF_MFA_REQUIRED = False
    account: ConnectedAccount = ConnectedAccountFactory(access_token=ACCESS, refresh_token=REFRESH)  # type: ignore[assignment]
    app = OAuthApp.objects.create(
        network="mastodon",
        instance_url="https://m.example",
        redirect_uri="https://l.example/cb",
        scopes="profile",
        client_id="cid",
        client_secret="client-secret-9911",
    )
    admin = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin)
    pages = [
        reverse("admin:networks_connectedaccount_changelist"),
        reverse("admin:networks_connectedaccount_change", args=[account.pk]),
        reverse("admin:networks_oauthapp_change", args=[app.pk]),
    ]
    for page in pages:
        response = client.get(page)
        body = response.content.decode()
        assert response.status_code == 200
        assert account.handle in body or app.instance_url in body
        for secret in (ACCESS, REFRESH, "client-secret-9911"):
            assert secret not in body


def test_repr_and_serialisation_hide_tokens() -> None:
    account: ConnectedAccount = ConnectedAccountFactory(access_token=ACCESS)  # type: ignore[assignment]

    assert ACCESS not in repr(account)
    assert ACCESS not in str(account)
    assert ACCESS not in serializers.serialize("json", [account])
