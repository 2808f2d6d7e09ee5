"""``field__any=values`` (one array parameter) and the collector pause used by bulk paths."""

from __future__ import annotations

import gc

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from campaigns.models import Share
from linkilike.runtime import collector_paused
from networks.models import ConnectedAccount
from tests.factories.tracking import ShareFactory

pytestmark = pytest.mark.django_db


def test_any_matches_what_in_matches_and_binds_one_parameter() -> None:
    shares = ShareFactory.create_batch(3)
    wanted = [shares[0].pk, shares[2].pk, 10**12]
    with CaptureQueriesContext(connection) as queries:
        found = sorted(Share.objects.filter(pk__any=wanted).values_list("pk", flat=True))
    assert found == sorted(Share.objects.filter(pk__in=wanted).values_list("pk", flat=True))
    assert found == sorted([shares[0].pk, shares[2].pk])
    assert "= ANY(" in queries[0]["sql"]
    assert "IN (" not in queries[0]["sql"]


def test_any_on_relations_takes_keys_or_instances_and_text_columns() -> None:
    shares = ShareFactory.create_batch(2)
    account = shares[1].connected_account
    by_key = Share.objects.filter(connected_account_id__any=[account.pk]).values_list("pk", flat=True)
    by_instance = Share.objects.filter(connected_account__any={account}).values_list("pk", flat=True)
    assert list(by_key) == list(by_instance) == [shares[1].pk]
    networks = ConnectedAccount.objects.filter(network__any=[account.network, "not-a-network"])
    assert account in networks
    # A value of another type goes through the field's own preparation (a numeric string for an integer key).
    assert list(Share.objects.filter(pk__any=[str(shares[0].pk)]).values_list("pk", flat=True)) == [shares[0].pk]


def test_any_of_nothing_matches_nothing() -> None:
    ShareFactory()
    assert not Share.objects.filter(pk__any=[]).exists()
    assert Share.objects.exclude(pk__any=[]).count() == 1


def test_collector_paused_restores_what_it_found() -> None:
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the inner pause leaves the outer one in place
    assert gc.isenabled()
    with pytest.raises(RuntimeError), collector_paused():
        raise RuntimeError
    assert gc.isenabled()
