"""Mastodon (over real HTTP against the double): the author's own engagement is not paid, another
influencer's is held for review, and a status the server answers without counts is "unknown", never zero."""

from __future__ import annotations

import uuid
from datetime import timedelta
from io import StringIO
from typing import Any, cast
from urllib.parse import urlsplit

import pytest
import requests
from django.core.management import call_command
from django.utils import timezone

from campaigns.metrics.services import metrics_pull
from campaigns.models import MetricSnapshot, PublicationState, ShareHold, SharePublication
from networks.models import ConnectedAccount, Network
from networks.providers.mastodon import MastodonProvider
from networks.providers.types import TokenSet
from networks.tests.mastodon_double import MastodonDouble
from payouts.models import EarningAccrual, ShareEarning
from tests.doubles.publishing import funded_campaign, ready_share
from tests.factories.influencers import InfluencerProfileFactory
from tests.factories.networks import ConnectedAccountFactory

pytestmark = pytest.mark.django_db

CPE = 10
LENA = "109000000000000001"  # the double's first account: every OAuth grant logs in as her


def token_for(double: MastodonDouble, account_id: str = LENA) -> str:
    token = uuid.uuid4().hex
    double.state.tokens[token] = account_id
    return token


def post(double: MastodonDouble, token: str, text: str, **fields: Any) -> str:
    answer = requests.post(
        f"{double.url}/api/v1/statuses",
        json={"status": text, "visibility": "public", **fields},
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["id"])


def act(double: MastodonDouble, token: str, status_id: str, action: str) -> None:
    answer = requests.post(
        f"{double.url}/api/v1/statuses/{status_id}/{action}", headers={"Authorization": f"Bearer {token}"}, timeout=5
    )
    assert answer.status_code == 200, answer.text


def calls(double: MastodonDouble, status_id: str) -> list[str]:
    return [path for method, path, _headers in double.state.requests if method == "GET" and status_id in path]


def engaged(double: MastodonDouble) -> tuple[str, str, str]:
    """Lena posts; she favourites, boosts, replies to and quotes it herself; bob favourites it."""
    double.state.quotes_supported = True
    lena = token_for(double)
    _bob_id, bob = double.add_account("bob")
    status_id = post(double, lena, "Our new roast #ad https://linkilike.test/r/abc")
    act(double, lena, status_id, "favourite")
    act(double, lena, status_id, "reblog")
    post(double, lena, "My own reply", in_reply_to_id=status_id)
    post(double, lena, "Quoting myself", quoted_status_id=status_id)
    act(double, bob, status_id, "favourite")
    return status_id, lena, bob


# --- the adapter ------------------------------------------------------------------------------


def test_the_authors_read_reveals_her_own_favourite_boost_reply_and_quote(mastodon_double: MastodonDouble) -> None:
    status_id, lena, _bob = engaged(mastodon_double)
    provider = MastodonProvider(base_url=mastodon_double.url)

    [snapshot] = provider.fetch_metrics(tokens=TokenSet(access_token=lena), external_ids=[status_id])

    assert (snapshot.likes, snapshot.shares, snapshot.replies, snapshot.quotes) == (2, 1, 1, 1)
    assert (snapshot.own_likes, snapshot.own_shares, snapshot.own_replies, snapshot.own_quotes) == (1, 1, 1, 1)
    # favourited/reblogged ride on the status read itself; replies and quotes cost one call each, made only
    # because the counts say there are some.
    path = f"/api/v1/statuses/{status_id}"
    assert sorted(calls(mastodon_double, status_id)) == sorted([path, f"{path}/context", f"{path}/quotes"])


def test_nothing_to_check_costs_no_extra_call(mastodon_double: MastodonDouble) -> None:
    lena = token_for(mastodon_double)
    status_id = post(mastodon_double, lena, "quiet post")
    provider = MastodonProvider(base_url=mastodon_double.url)

    [snapshot] = provider.fetch_metrics(tokens=TokenSet(access_token=lena), external_ids=[status_id])

    assert (snapshot.own_likes, snapshot.own_shares, snapshot.own_replies) == (0, 0, 0)
    assert calls(mastodon_double, status_id) == [f"/api/v1/statuses/{status_id}"]


def test_a_server_without_context_leaves_own_replies_unknown(mastodon_double: MastodonDouble) -> None:
    lena = token_for(mastodon_double)
    _id, bob = mastodon_double.add_account("bob")
    status_id = post(mastodon_double, lena, "hello")
    post(mastodon_double, bob, "hi back", in_reply_to_id=status_id)
    mastodon_double.state.context_supported = False  # like the built-in sandbox
    provider = MastodonProvider(base_url=mastodon_double.url)

    [snapshot] = provider.fetch_metrics(tokens=TokenSet(access_token=lena), external_ids=[status_id])

    assert snapshot.replies == 1
    assert snapshot.own_replies is None  # not revealed: paid as reported, like a network that cannot tell
    assert not snapshot.unknown_reason


def test_engagers_are_named_page_by_page(mastodon_double: MastodonDouble) -> None:
    lena = token_for(mastodon_double)
    mastodon_double.state.page_size = 2
    status_id = post(mastodon_double, lena, "popular")
    for name in ("bob", "carla", "dora"):
        _id, token = mastodon_double.add_account(name)
        act(mastodon_double, token, status_id, "favourite")
    act(mastodon_double, token, status_id, "reblog")
    provider = MastodonProvider(base_url=mastodon_double.url)
    host = urlsplit(mastodon_double.url).netloc

    engagers = provider.fetch_engagers(tokens=TokenSet(access_token=lena), external_id=status_id)

    assert sorted({ref.handle for ref in engagers}) == [f"@bob@{host}", f"@carla@{host}", f"@dora@{host}"]
    assert len(calls(mastodon_double, f"{status_id}/favourited_by")) == 2  # 3 favourites, 2 a page


def test_a_status_answered_without_counts_is_unknown(mastodon_double: MastodonDouble) -> None:
    lena = token_for(mastodon_double)
    status_id = post(mastodon_double, lena, "hello")
    mastodon_double.state.counts_hidden.add(status_id)
    provider = MastodonProvider(base_url=mastodon_double.url)

    [snapshot] = provider.fetch_metrics(tokens=TokenSet(access_token=lena), external_ids=[status_id])

    assert snapshot.exists is True
    assert snapshot.unknown_reason
    assert snapshot.likes is None


# --- through the metrics pull -----------------------------------------------------------------


def account_on(
    double: MastodonDouble, *, account_id: str, username: str, token: str, **fields: Any
) -> ConnectedAccount:
    host = urlsplit(double.url).netloc
    return cast(
        ConnectedAccount,
        ConnectedAccountFactory(
            network=Network.MASTODON,
            instance_url=double.url,
            external_id=account_id,
            handle=f"@{username}@{host}",
            access_token=token,
            **fields,
        ),
    )


def published(account: ConnectedAccount, status_id: str, campaign: Any) -> SharePublication:
    share = ready_share(account=account, campaign=campaign)
    return SharePublication.objects.create(
        share=share,
        state=PublicationState.PUBLISHED,
        idempotency_key=uuid.uuid4().hex,
        external_id=status_id,
        published_at=timezone.now() - timedelta(hours=2),
    )


def earned(publication: SharePublication) -> int:
    row = ShareEarning.objects.filter(share_key=str(publication.share_id)).first()
    return row.earned_minor if row else 0


def reconciles() -> bool:
    out = StringIO()
    call_command("ledger_reconcile", stdout=out)
    return "0 drift" in out.getvalue()


def test_only_bobs_favourite_is_paid(mastodon_double: MastodonDouble, settings: Any) -> None:
    settings.CAMPAIGN_METRICS_WINDOWS = ["+1h"]
    status_id, lena, _bob = engaged(mastodon_double)
    account = account_on(mastodon_double, account_id=LENA, username="lena", token=lena)
    publication = published(account, status_id, funded_campaign())

    metrics_pull(pairs={publication.pk: ["+1h"]})

    snapshot = MetricSnapshot.objects.get(share=publication.share, window="+1h")
    assert (snapshot.likes, snapshot.reposts, snapshot.replies, snapshot.quotes) == (2, 1, 1, 1)
    assert snapshot.engagements == 1
    assert earned(publication) == CPE
    assert reconciles()


def test_a_favourite_from_another_influencer_on_the_campaign_holds_the_share(
    mastodon_double: MastodonDouble, settings: Any
) -> None:
    settings.CAMPAIGN_METRICS_WINDOWS = ["+1h", "+6h"]
    campaign = funded_campaign()
    lena = token_for(mastodon_double)
    status_id = post(mastodon_double, lena, "Our new roast #ad")
    account = account_on(mastodon_double, account_id=LENA, username="lena", token=lena)
    publication = published(account, status_id, campaign)
    carla_id, carla = mastodon_double.add_account("carla")
    peer = account_on(
        mastodon_double, account_id=carla_id, username="carla", token=carla, influencer=InfluencerProfileFactory()
    )
    ready_share(account=peer, campaign=campaign)  # carla is an influencer on the same campaign
    act(mastodon_double, carla, status_id, "favourite")
    _id, dora = mastodon_double.add_account("dora")
    act(mastodon_double, dora, status_id, "favourite")

    metrics_pull(pairs={publication.pk: ["+1h"]})

    hold = ShareHold.objects.get(share=publication.share, released_at__isnull=True)
    assert hold.reason == "peer_engagement"
    assert "@carla@" in hold.detail
    assert earned(publication) == 2 * CPE  # booked, but kept pending while the hold is open
    assert reconciles()
    named = len(calls(mastodon_double, f"{status_id}/favourited_by"))

    metrics_pull(pairs={publication.pk: ["+6h"]})  # nothing new: who engaged is not asked again

    assert len(calls(mastodon_double, f"{status_id}/favourited_by")) == named == 1


def test_a_post_without_peers_costs_no_engager_call(mastodon_double: MastodonDouble, settings: Any) -> None:
    settings.CAMPAIGN_METRICS_WINDOWS = ["+1h"]
    lena = token_for(mastodon_double)
    status_id = post(mastodon_double, lena, "Our new roast #ad")
    _id, dora = mastodon_double.add_account("dora")
    act(mastodon_double, dora, status_id, "favourite")
    account = account_on(mastodon_double, account_id=LENA, username="lena", token=lena)
    publication = published(account, status_id, funded_campaign())

    metrics_pull(pairs={publication.pk: ["+1h"]})

    assert calls(mastodon_double, f"{status_id}/favourited_by") == []
    assert not ShareHold.objects.filter(share=publication.share).exists()


def test_counts_missing_for_a_while_are_unknown_never_a_reversal(
    mastodon_double: MastodonDouble, settings: Any
) -> None:
    settings.CAMPAIGN_METRICS_WINDOWS = ["+1h", "+6h"]
    settings.METRICS_RETRY_ATTEMPTS = 2
    lena = token_for(mastodon_double)
    status_id = post(mastodon_double, lena, "Our new roast #ad")
    mastodon_double.state.statuses[status_id]["favourites"] = 9
    account = account_on(mastodon_double, account_id=LENA, username="lena", token=lena)
    publication = published(account, status_id, funded_campaign())
    metrics_pull(pairs={publication.pk: ["+1h"]})
    assert earned(publication) == 9 * CPE

    mastodon_double.state.counts_hidden.add(status_id)
    now = timezone.now()
    report = metrics_pull(pairs={publication.pk: ["+6h"]}, now=now)
    report_again = metrics_pull(pairs={publication.pk: ["+6h"]}, now=now + timedelta(hours=3))

    assert report.snapshots == report_again.snapshots == 0
    assert not MetricSnapshot.objects.filter(share=publication.share, window="+6h").exists()
    assert list(EarningAccrual.objects.values_list("window", "earned_minor")) == [("+1h", 9 * CPE)]
    publication.refresh_from_db()
    assert publication.state == PublicationState.PUBLISHED
    assert publication.error_code == "metrics_unknown"  # two tries: given up, with the reason shown
    assert reconciles()
