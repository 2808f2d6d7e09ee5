"""Admin: health visible, a refresh action; token columns are covered in test_vault.py."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from networks.models import ConnectedAccount
from tests.factories.accounts import UserFactory
from tests.factories.networks import ConnectedAccountFactory

pytestmark = pytest.mark.django_db


def test_admin_action_refreshes_follower_counts(
    client: Client, settings: Any, mastodon_double: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.STAFF_MFA_REQUIRED = False
    account: ConnectedAccount = ConnectedAccountFactory(  # type: ignore[assignment]
        instance_url=mastodon_double.url, access_token="double-token", followers_count=1
    )
    mastodon_double.state.tokens["double-token"] = account.external_id
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:networks_connectedaccount_changelist"),
            {"action": "refresh_profiles", "_selected_action": [account.pk]},
        )
    assert response.status_code == 302
    account.refresh_from_db()
    assert account.followers_count == 321
