"""The database refuses snapshots, results and share earnings that point at nothing, and deleting what they
point at (ADR 25).

Their references are checked by triggers (``linkilike.references``; migrations campaigns 0023 and payouts
0011) instead of deferred foreign keys. These tests go around Django (raw SQL), as a bug or a
hand-made fix would, and show the guarantee a foreign key gave still holds.
"""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction

from campaigns.models import CampaignResultGroup, CampaignResultHour, MetricSnapshot, Share, ShareResult
from payouts.models import ShareEarning
from payouts.tests.helpers import refused_as_foreign_key
from tests.doubles.publishing import ready_share

pytestmark = pytest.mark.django_db

MISSING = 987_654_321


@pytest.fixture
def measured() -> Share:
    share = ready_share()
    MetricSnapshot.objects.create(share=share, window="+1h", impressions=100, engagements=5)
    ShareEarning.objects.create(share_key=str(share.pk), campaign=share.campaign, influencer=share.influencer)
    return share


def test_rows_pointing_at_nothing_are_refused_at_the_statement(measured: Share) -> None:
    refused_as_foreign_key(
        'INSERT INTO campaigns_metricsnapshot (share_id, "window", collected_at, post_exists, source) '
        "VALUES (%s, '+6h', now(), true, 'network')",
        [MISSING],
    )
    refused_as_foreign_key(
        "INSERT INTO campaigns_shareresult (share_id, unique_clicks, earned_minor) VALUES (%s, 0, 0)", [MISSING]
    )
    for column, other in (("campaign_id", "influencer_id"), ("influencer_id", "campaign_id")):
        values = {column: MISSING, other: getattr(measured, other)}
        refused_as_foreign_key(
            "INSERT INTO payouts_shareearning (share_key, campaign_id, influencer_id, impressions, engagements, "
            "unique_clicks, participations, participation_price_minor, earned_minor, fee_minor, updated_at) "
            "VALUES ('elsewhere', %s, %s, 0, 0, 0, 0, 0, 0, 0, now())",
            [values["campaign_id"], values["influencer_id"]],
        )
    for rollup in (
        lambda: CampaignResultGroup.objects.create(campaign_id=MISSING, key="elsewhere"),
        lambda: CampaignResultGroup.objects.create(campaign=measured.campaign, key="i:x", influencer_id=MISSING),
        lambda: CampaignResultHour.objects.create(campaign_id=MISSING, hour=measured.created_at),
    ):
        with pytest.raises(IntegrityError, match="foreign key"), transaction.atomic():
            rollup()
    # A change of a reference is checked as well; one bad row refuses the whole statement.
    refused_as_foreign_key(
        "UPDATE campaigns_metricsnapshot SET share_id = %s WHERE share_id = %s", [MISSING, measured.pk]
    )
    refused_as_foreign_key("UPDATE payouts_shareearning SET campaign_id = %s", [MISSING])
    refused_as_foreign_key(
        "UPDATE campaigns_campaignresultgroup SET influencer_id = %s WHERE influencer_id IS NOT NULL", [MISSING]
    )
    refused_as_foreign_key(
        'INSERT INTO campaigns_metricsnapshot (share_id, "window", collected_at, post_exists, source) '
        "VALUES (%s, '+6h', now(), true, 'network'), (%s, '+24h', now(), true, 'network')",
        [measured.pk, MISSING],
    )
    assert MetricSnapshot.objects.filter(share=measured).count() == 1


def test_what_they_point_at_cannot_be_deleted_around_the_orm(measured: Share) -> None:
    assert ShareResult.objects.filter(share=measured).exists()  # the snapshot's rollup made it
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no queued foreign-key check of other tables
    refused_as_foreign_key("DELETE FROM campaigns_share WHERE id = %s", [measured.pk])
    refused_as_foreign_key("UPDATE campaigns_share SET id = %s WHERE id = %s", [MISSING, measured.pk])
    refused_as_foreign_key("DELETE FROM influencers_influencerprofile WHERE id = %s", [measured.influencer_id])
    refused_as_foreign_key("DELETE FROM campaigns_campaign WHERE id = %s", [measured.campaign_id])
    assert Share.objects.filter(pk=measured.pk).exists()


def test_a_share_deleted_through_django_takes_its_snapshots_and_result_along(measured: Share) -> None:
    # Django's on_delete still cascades: the children go first, in statements of their own.
    measured.delete()
    assert not Share.objects.filter(pk=measured.pk).exists()
    assert not MetricSnapshot.objects.filter(share_id=measured.pk).exists()
    assert not ShareResult.objects.filter(share_id=measured.pk).exists()


def test_large_statements_are_checked_by_their_own_plan(measured: Share) -> None:
    """Above 10,000 rows the references are checked by range or hash join (ADR 21): one row of many that
    points at nothing still refuses the statement; all present, it is kept."""
    rows = (
        'INSERT INTO campaigns_metricsnapshot (share_id, "window", collected_at, post_exists, source) '
        "SELECT CASE WHEN g = %s THEN %s ELSE %s END, 'w' || g, now(), true, 'network' "
        "FROM generate_series(1, 12000) g"
    )
    refused_as_foreign_key(rows, [7_000, MISSING, measured.pk])
    with connection.cursor() as cursor:
        cursor.execute(rows, [0, MISSING, measured.pk])
    assert MetricSnapshot.objects.filter(share=measured).count() == 12_001
