"""Publishing a share on Mastodon through the at-most-once pipeline (campaigns.publishing), over real HTTP
against the double: an interrupted publish is resumed with the same text and the same image (uploaded once),
and a write that timed out is resolved by looking the post up before anything is sent again."""

from __future__ import annotations

import io
import time
from datetime import timedelta
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone
from PIL import Image

from campaigns.models import MediaKind, PublicationState, Share, SharePublication
from campaigns.publishing import services
from networks.models import AccountStatus, ConnectedAccount
from networks.providers.http import HttpClient
from networks.providers.mastodon import MastodonProvider
from networks.tests.mastodon_double import MastodonDouble
from tests.doubles.publishing import SimulatedCrash, ready_share

pytestmark = pytest.mark.django_db

LENA = "109000000000000001"


@pytest.fixture(autouse=True)
def _site(settings: Any, tmp_path: Any) -> None:
    settings.SITE_URL = "https://linkilike.test"
    settings.MEDIA_ROOT = str(tmp_path)


@pytest.fixture(autouse=True)
def _fast_media_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(MastodonProvider, "media_poll_interval", 0.01)


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (60, 40), (200, 90, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def mastodon_share(double: MastodonDouble, *, with_image: bool = True) -> Share:
    token = "token-for-lena"
    double.state.tokens[token] = LENA
    share = ready_share(network="mastodon", instance_url=double.url, access_token=token, external_id=LENA)
    if with_image:
        content = share.campaign.content.order_by("position", "pk").first()
        assert content is not None
        content.media.save("roast.png", ContentFile(png()), save=False)
        content.media_kind = MediaKind.IMAGE
        content.title = "Fresh roast beans"
        content.save()
    return share


def queued(share: Share) -> SharePublication:
    publication = services.share_publication_schedule(share=share)
    assert publication is not None
    return publication


def reload(publication: SharePublication) -> SharePublication:
    publication.refresh_from_db()
    return publication


def status_posts(double: MastodonDouble) -> int:
    return sum(1 for method, path, _h in double.state.requests if (method, path) == ("POST", "/api/v1/statuses"))


@pytest.fixture
def crash_before_the_status_call(monkeypatch: pytest.MonkeyPatch) -> None:
    """The worker dies just before it sends the status (after the image went up)."""
    original = MastodonProvider._send
    crashed: list[bool] = []

    def send(self: MastodonProvider, method: str, path: str, **kwargs: Any) -> Any:
        if (method, path) == ("POST", "/api/v1/statuses") and not crashed:
            crashed.append(True)
            raise SimulatedCrash
        return original(self, method, path, **kwargs)

    monkeypatch.setattr(MastodonProvider, "_send", send)


@pytest.mark.usefixtures("crash_before_the_status_call")
def test_a_publish_resumed_after_a_crash_posts_the_same_text_and_image_uploaded_once(
    mastodon_double: MastodonDouble,
) -> None:
    publication = queued(mastodon_share(mastodon_double))
    with pytest.raises(SimulatedCrash):
        services.publication_publish(publication_id=publication.pk)
    assert reload(publication).state == PublicationState.PUBLISHING
    assert mastodon_double.state.uploads() == 1
    first_text = publication.posted_text

    later = timezone.now() + services.lease() + timedelta(seconds=1)
    services.publication_resolve(publication_id=publication.pk, now=later)
    if reload(publication).state == PublicationState.QUEUED:
        services.publication_publish(publication_id=publication.pk, now=later)

    assert reload(publication).state == PublicationState.PUBLISHED
    [status] = mastodon_double.state.statuses.values()
    assert status["text"] == first_text.strip()
    assert len(status["media_ids"]) == 1  # the image is still there: the post was not degraded to text
    assert mastodon_double.state.uploads() == 1  # and it was not uploaded a second time
    assert all(media["status_id"] for media in mastodon_double.state.media.values())  # no orphans


def test_a_server_error_after_the_create_is_resolved_by_lookup_not_posted_again(
    mastodon_double: MastodonDouble,
) -> None:
    # A 500 raised after the status was created but before the key was stored (post-processing failed): the key
    # does not protect a second send. A 500 answer to a write is ambiguous: the post is looked up at once, found.
    mastodon_double.state.fail_after_create_with = 500
    publication = queued(mastodon_share(mastodon_double))
    services.publication_publish(publication_id=publication.pk)

    services.publication_publish(publication_id=publication.pk, now=timezone.now() + timedelta(hours=2))

    publication = reload(publication)
    assert publication.state == PublicationState.PUBLISHED
    [(status_id, status)] = mastodon_double.state.statuses.items()
    assert publication.external_id == status_id
    assert len(status["media_ids"]) == 1
    assert mastodon_double.state.uploads() == 1
    assert status_posts(mastodon_double) == 1


def test_a_slow_create_that_timed_out_is_looked_up_before_anything_is_sent_again(
    mastodon_double: MastodonDouble, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Before 4.5 the server stores the key only after the create, with no lock: a re-send during a slow
    # create is a second post.
    mastodon_double.state.version = "4.4.3"
    mastodon_double.state.create_delay = 1.0
    monkeypatch.setitem(HttpClient.__init__.__kwdefaults__, "timeout", (2.0, 0.3))
    publication = queued(mastodon_share(mastodon_double, with_image=False))

    services.publication_publish(publication_id=publication.pk)
    assert reload(publication).state == PublicationState.PUBLISHING  # ambiguous: waiting, nothing re-sent
    time.sleep(1.5)  # the first create finishes on the server
    assert len(mastodon_double.state.statuses) == 1

    services.publications_run_due(now=timezone.now() + timedelta(minutes=30))

    publication = reload(publication)
    assert publication.state == PublicationState.PUBLISHED
    assert list(mastodon_double.state.statuses) == [publication.external_id]
    assert status_posts(mastodon_double) == 1


def test_an_account_the_server_holds_back_fails_as_an_account_problem_not_the_content(
    mastodon_double: MastodonDouble,
) -> None:
    mastodon_double.state.user_state = "unconfirmed"
    share = mastodon_share(mastodon_double, with_image=False)
    publication = queued(share)

    services.publication_publish(publication_id=publication.pk)

    publication = reload(publication)
    assert publication.state == PublicationState.FAILED
    assert publication.error_code == "account_attention"
    assert publication.retry_safe  # once the account is sorted out, trying again is fine
    assert "confirmed e-mail" in publication.last_error
    account = ConnectedAccount.objects.get(pk=share.connected_account_id)
    assert account.status == AccountStatus.HEALTHY  # not revoked: reconnecting would not help
    assert "confirmed e-mail" in account.last_error
