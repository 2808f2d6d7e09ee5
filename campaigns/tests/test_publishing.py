"""The at-most-once publish state machine (T1) against a recording double of a network."""

from __future__ import annotations

import contextlib
import random
import threading
import time
from datetime import timedelta
from typing import Any
from unittest import mock

import pytest
from django.db import connection, transaction
from django.utils import timezone

from campaigns.captions import TRACKING_LINK_PLACEHOLDER
from campaigns.models import HandleKind, PublicationState, SharePublication
from campaigns.publishing import services
from campaigns.publishing.errors import RetryNotAllowed
from networks.models import AccountStatus
from networks.providers.exceptions import (
    AmbiguousOutcome,
    AuthExpired,
    AuthRevoked,
    ContentRejected,
    RateLimited,
    Transient,
)
from networks.providers.types import RateLimitInfo, TokenSet
from tests.doubles.publishing import (
    RecordingProvider,
    SimulatedCrash,
    ready_share,
    recording_settings,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def network(settings: Any) -> Any:
    recording_settings(settings)
    settings.SITE_URL = "https://linkilike.test"
    return RecordingProvider.reset()


def queued(**kwargs: Any) -> SharePublication:
    share = ready_share(**kwargs)
    publication = services.share_publication_schedule(share=share)
    assert publication is not None
    return publication


def state(publication: SharePublication) -> str:
    publication.refresh_from_db()
    return publication.state


def test_a_ready_share_is_published_once_with_its_tracking_link_and_disclosure(network: Any) -> None:
    publication = queued()

    services.publication_publish(publication_id=publication.pk)
    services.publication_publish(publication_id=publication.pk)  # a second delivery of the task

    assert state(publication) == PublicationState.PUBLISHED
    assert len(network.posts) == 1
    text = network.posts[0].text
    assert text.startswith("#ad")
    assert TRACKING_LINK_PLACEHOLDER not in text
    assert "/r/" in text  # the share's own tracking link
    assert publication.external_url.endswith("/posts/1")
    assert publication.network_handle == publication.idempotency_key


def test_without_tracking_links_the_campaign_link_with_utm_is_used(network: Any) -> None:
    publication = queued()
    with mock.patch.object(services, "import_string", side_effect=ImportError):
        services.publication_publish(publication_id=publication.pk)

    text = network.posts[0].text
    assert "https://shop.example/roast?utm_source=linkilike" in text


def test_a_caption_that_lost_its_disclosure_is_not_published(network: Any) -> None:
    share = ready_share()
    share.caption_text = f"No tag here {TRACKING_LINK_PLACEHOLDER}"
    share.save()
    publication = services.share_publication_schedule(share=share)
    assert publication is not None

    services.publication_publish(publication_id=publication.pk)

    assert state(publication) == PublicationState.FAILED
    assert "#ad" in publication.last_error
    assert network.posts == []


def test_a_scheduled_share_waits_for_its_time(network: Any) -> None:
    share = ready_share(scheduled_at=timezone.now() + timedelta(hours=2))

    assert services.publications_queue_due() == 0
    assert services.publications_queue_due(now=timezone.now() + timedelta(hours=3)) == 1
    assert SharePublication.objects.get(share=share).state == PublicationState.QUEUED


@pytest.mark.parametrize("dedupe", [True, False], ids=["network-dedupes-keys", "network-without-keys"])
def test_crash_between_claim_and_call_ends_with_one_post(network: Any, dedupe: bool) -> None:
    network.dedupe_by_key = dedupe
    publication = queued()
    network.fail_before.append(SimulatedCrash())

    with pytest.raises(SimulatedCrash):
        services.publication_publish(publication_id=publication.pk)
    assert state(publication) == PublicationState.PUBLISHING

    later = timezone.now() + services.lease() + timedelta(seconds=1)
    services.publication_resolve(publication_id=publication.pk, now=later)
    assert state(publication) == PublicationState.QUEUED  # the network has nothing: safe to go again
    services.publication_publish(publication_id=publication.pk, now=later)

    assert state(publication) == PublicationState.PUBLISHED
    assert len(network.posts) == 1


@pytest.mark.parametrize("dedupe", [True, False], ids=["network-dedupes-keys", "network-without-keys"])
def test_crash_between_call_and_save_ends_with_one_post(network: Any, dedupe: bool) -> None:
    network.dedupe_by_key = dedupe
    publication = queued()
    network.fail_after.append(SimulatedCrash())

    with pytest.raises(SimulatedCrash):
        services.publication_publish(publication_id=publication.pk)
    assert len(network.posts) == 1
    assert state(publication) == PublicationState.PUBLISHING

    # Nothing happens before the lease expires ...
    services.publications_run_due()
    assert state(publication) == PublicationState.PUBLISHING
    # ... then the network is asked, and the post it already has is adopted.
    services.publications_run_due(now=timezone.now() + services.lease() + timedelta(seconds=1))

    assert state(publication) == PublicationState.PUBLISHED
    assert publication.external_id == network.posts[0].external_id
    assert len(network.posts) == 1
    assert network.publish_calls == 1


@pytest.mark.parametrize("dedupe", [True, False], ids=["network-dedupes-keys", "network-without-keys"])
def test_an_expired_lease_while_the_first_worker_is_still_busy_ends_with_one_post(network: Any, dedupe: bool) -> None:
    network.dedupe_by_key = dedupe
    publication = queued()
    attempt = services.publication_claim(publication_id=publication.pk)
    assert attempt is not None
    # The first worker stored its handle and is stuck in the network call past its lease; the network got the post.
    SharePublication.objects.filter(pk=publication.pk).update(
        network_handle=publication.idempotency_key,
        network_handle_kind=HandleKind.IDEMPOTENCY_KEY,
        handle_stored_at=timezone.now(),
    )
    network.posts.append(_recorded(publication.idempotency_key))

    services.publication_resolve(publication_id=publication.pk, now=timezone.now() + services.lease() * 2)
    assert state(publication) == PublicationState.PUBLISHED
    # The first worker finally returns: its fenced write changes nothing.
    assert not services._fenced_update(publication.pk, attempt, state=PublicationState.FAILED)
    services.publication_publish(publication_id=publication.pk)

    assert state(publication) == PublicationState.PUBLISHED
    assert len(network.posts) == 1


def _recorded(key: str) -> Any:
    from tests.doubles.publishing import RecordedPost

    return RecordedPost(external_id="1", text="#ad hello", idempotency_key=key)


def test_an_ambiguous_answer_with_nothing_on_the_network_is_sent_again_with_the_same_key(network: Any) -> None:
    publication = queued()
    network.fail_before.append(AmbiguousOutcome("timeout after send"))

    services.publication_publish(publication_id=publication.pk)
    assert state(publication) == PublicationState.QUEUED  # the network has nothing under the key
    services.publication_publish(publication_id=publication.pk)

    assert state(publication) == PublicationState.PUBLISHED
    assert len(network.posts) == 1
    assert network.posts[0].idempotency_key == publication.idempotency_key


def test_a_write_that_keeps_coming_back_ambiguous_backs_off_and_stops(network: Any) -> None:
    # A proxy answering 502 to every create while reads work: each look-up finds nothing, so sending again is safe,
    # but not at once and forever (a 502 comes back in milliseconds): like any retry, with backoff and a limit.
    publication = queued()
    network.fail_before.extend(AmbiguousOutcome("502 after sending") for _ in range(services.MAX_ATTEMPTS + 2))

    services.publication_publish(publication_id=publication.pk)
    assert state(publication) == PublicationState.QUEUED
    assert publication.next_attempt_at is not None
    assert publication.next_attempt_at <= timezone.now()  # the first resend is at once

    now = timezone.now()
    for _ in range(services.MAX_ATTEMPTS + 2):
        services.publication_publish(publication_id=publication.pk, now=now)
        if state(publication) != PublicationState.QUEUED:
            break
        assert publication.next_attempt_at is not None
        assert publication.next_attempt_at > now  # backing off
        now = publication.next_attempt_at

    assert state(publication) == PublicationState.FAILED
    assert publication.retry_safe is True  # nothing is on the network: the person may try again
    assert network.publish_calls == services.MAX_ATTEMPTS
    assert network.posts == []


def test_outside_the_idempotency_window_an_unresolved_publish_becomes_unknown(network: Any) -> None:
    publication = queued()
    network.fail_before.append(SimulatedCrash())
    with pytest.raises(SimulatedCrash):
        services.publication_publish(publication_id=publication.pk)

    # Asking again with the key could post anew after the window: staff decide instead.
    services.publication_resolve(publication_id=publication.pk, now=timezone.now() + timedelta(hours=2))
    assert state(publication) == PublicationState.UNKNOWN
    assert network.check_calls == 0
    assert network.posts == []


@pytest.mark.parametrize("dedupe", [True, False], ids=["network-dedupes-keys", "network-without-keys"])
def test_an_ambiguous_answer_the_network_confirms_is_published(network: Any, dedupe: bool) -> None:
    network.dedupe_by_key = dedupe
    publication = queued()
    network.fail_after.append(AmbiguousOutcome("timeout after send"))

    services.publication_publish(publication_id=publication.pk)

    assert state(publication) == PublicationState.PUBLISHED
    assert len(network.posts) == 1


def test_unknown_stays_unknown_until_staff_resolve_it(network: Any) -> None:
    publication = queued()
    network.fail_after.append(AmbiguousOutcome("timeout"))
    with mock.patch.object(RecordingProvider, "check_pending_publish", side_effect=AmbiguousOutcome("still")):
        services.publication_publish(publication_id=publication.pk)
    assert state(publication) == PublicationState.UNKNOWN
    assert publication.retry_safe is False

    services.publications_run_due(now=timezone.now() + timedelta(hours=1))
    assert state(publication) == PublicationState.UNKNOWN  # never retried automatically
    with pytest.raises(RetryNotAllowed):
        services.publication_retry(publication=publication)

    services.publication_resolve(publication_id=publication.pk, staff=True)
    assert state(publication) == PublicationState.PUBLISHED
    assert len(network.posts) == 1


def test_two_workers_claiming_at_once_one_wins(network: Any) -> None:
    publication = queued()
    winners = [services.publication_claim(publication_id=publication.pk) for _ in range(2)]
    assert sum(1 for winner in winners if winner is not None) == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("dedupe", [True, False], ids=["network-dedupes-keys", "network-without-keys"])
def test_concurrent_workers_publish_once(network: Any, dedupe: bool) -> None:
    network.dedupe_by_key = dedupe
    publication = queued()
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait()
            services.publication_publish(publication_id=publication.pk)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert state(publication) == PublicationState.PUBLISHED
    assert network.publish_calls == 1


def test_transient_errors_retry_with_capped_backoff(network: Any) -> None:
    publication = queued()
    network.fail_before.append(Transient("502"))

    before = timezone.now()
    services.publication_publish(publication_id=publication.pk)

    assert state(publication) == PublicationState.QUEUED
    assert publication.next_attempt_at is not None
    assert before + timedelta(seconds=20) <= publication.next_attempt_at <= before + timedelta(seconds=40)
    assert "try again" in publication.last_error
    services.publication_publish(publication_id=publication.pk)  # not due yet: nothing happens
    assert network.publish_calls == 1

    services.publication_publish(publication_id=publication.pk, now=publication.next_attempt_at)
    assert state(publication) == PublicationState.PUBLISHED
    assert len(network.posts) == 1


def test_backoff_doubles_is_capped_and_jittered() -> None:
    rng = random.Random(1)
    delays = [services.backoff_delay(attempt=n, rng=rng).total_seconds() for n in range(1, 12)]
    assert 22 <= delays[0] <= 38
    assert 45 <= delays[1] <= 75
    assert max(delays) <= services.BACKOFF_CAP_SECONDS
    assert len({round(d) for d in delays[-3:]}) > 1  # jitter even at the cap


def test_rate_limit_honours_retry_after_and_holds_the_account(network: Any) -> None:
    publication = queued()
    network.fail_before.append(RateLimited("429", retry_after=120))

    services.publication_publish(publication_id=publication.pk)
    assert state(publication) == PublicationState.QUEUED
    assert publication.next_attempt_at is not None
    assert publication.next_attempt_at >= timezone.now() + timedelta(seconds=110)

    other = queued(account=publication.share.connected_account, campaign=None)
    services.publication_publish(publication_id=other.pk)  # same account: waits too
    assert state(other) == PublicationState.QUEUED
    assert network.publish_calls == 1


def test_no_calls_left_holds_the_accounts_other_shares_until_the_reset(network: Any) -> None:
    first = queued()
    reset = timezone.now() + timedelta(minutes=5)
    RecordingProvider.last_rate_limit = RateLimitInfo(limit=300, remaining=0, reset_at=reset)
    try:
        services.publication_publish(publication_id=first.pk)
    finally:
        RecordingProvider.last_rate_limit = None
    assert state(first) == PublicationState.PUBLISHED

    second = queued(account=first.share.connected_account)
    services.publication_publish(publication_id=second.pk)

    assert state(second) == PublicationState.QUEUED
    assert second.next_attempt_at == reset
    assert len(network.posts) == 1


def test_a_revoked_token_fails_the_share_and_marks_the_account(network: Any) -> None:
    publication = queued()
    network.fail_before.append(AuthRevoked("401"))

    services.publication_publish(publication_id=publication.pk)

    assert state(publication) == PublicationState.FAILED
    assert "Reconnect" in publication.last_error
    assert publication.retry_safe is True
    account = publication.share.connected_account
    account.refresh_from_db()
    assert account.status == AccountStatus.REVOKED
    assert network.posts == []


def test_an_expired_token_is_refreshed_once_then_the_share_is_published(
    network: Any, django_capture_on_commit_callbacks: Any
) -> None:
    publication = queued(refresh_token="refresh-me")
    network.fail_before.append(AuthExpired("401"))
    network.refresh_result = TokenSet(access_token="new-access", refresh_token="new-refresh")

    with django_capture_on_commit_callbacks(execute=True):
        services.publication_publish(publication_id=publication.pk)  # eager Celery publishes again on commit

    assert state(publication) == PublicationState.PUBLISHED
    assert network.refreshes == 1
    assert len(network.posts) == 1


def test_an_expired_token_is_refreshed_only_once(network: Any) -> None:
    publication = queued(refresh_token="refresh-me")
    network.fail_before.extend([AuthExpired("401"), AuthExpired("401")])
    network.refresh_result = TokenSet(access_token="new-access")

    services.publication_publish(publication_id=publication.pk)  # refreshed, queued again
    assert state(publication) == PublicationState.QUEUED
    services.publication_publish(publication_id=publication.pk)  # expired again: no second refresh

    assert state(publication) == PublicationState.FAILED
    assert "Reconnect" in publication.last_error
    assert network.refreshes == 1
    assert network.posts == []


def test_rejected_content_fails_with_the_reason_and_no_retry(network: Any) -> None:
    publication = queued()
    network.fail_before.append(ContentRejected("Text too long for this server"))

    services.publication_publish(publication_id=publication.pk)

    assert state(publication) == PublicationState.FAILED
    assert "Text too long" in publication.last_error
    assert publication.retry_safe is False


def test_retry_after_reconnecting_publishes(network: Any, django_capture_on_commit_callbacks: Any) -> None:
    publication = queued()
    network.fail_before.append(AuthRevoked("401"))
    services.publication_publish(publication_id=publication.pk)
    account = publication.share.connected_account
    account.refresh_from_db()
    account.status = AccountStatus.HEALTHY
    account.save()

    with django_capture_on_commit_callbacks(execute=True):
        services.publication_retry(publication=publication)  # eager Celery publishes on commit

    assert state(publication) == PublicationState.PUBLISHED
    assert len(network.posts) == 1


def test_nothing_is_enqueued_from_a_rolled_back_transaction(network: Any) -> None:
    share = ready_share()
    from campaigns.publishing import tasks

    with mock.patch.object(tasks.publication_publish, "delay") as delay:

        class Rollback(Exception):
            pass

        def schedule_then_fail() -> None:
            with transaction.atomic():
                services.share_publication_schedule(share=share)
                raise Rollback

        with pytest.raises(Rollback):
            schedule_then_fail()

        assert not SharePublication.objects.filter(share=share).exists()
        delay.assert_not_called()


def test_enqueued_only_after_commit(network: Any, django_capture_on_commit_callbacks: Any) -> None:
    share = ready_share()
    from campaigns.publishing import tasks

    with mock.patch.object(tasks.publication_publish, "delay") as delay:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            publication = services.share_publication_schedule(share=share)
        delay.assert_not_called()
        for callback in callbacks:
            callback()
        assert publication is not None
        delay.assert_called_once_with(publication.pk)


@pytest.mark.parametrize("dedupe", [True, False], ids=["network-dedupes-keys", "network-without-keys"])
def test_chaos_many_publishes_with_random_crashes_end_with_one_post_each_and_none_stuck(
    network: Any, dedupe: bool
) -> None:
    """A small in-process version of the T1 drill: workers die before or after the network call, answers get
    lost, the network fails transiently; sweeps with the clock moving on must leave every share published once."""
    network.dedupe_by_key = dedupe
    rng = random.Random(20261126)
    first = queued()
    publications = [first] + [queued(account=first.share.connected_account) for _ in range(39)]
    faults: list[Any] = [None, SimulatedCrash, "crash-after", AmbiguousOutcome, "ambiguous-after", Transient]
    now = timezone.now()
    for _round in range(30):
        pending = [
            p.pk
            for p in SharePublication.objects.filter(pk__in=[p.pk for p in publications]).exclude(
                state=PublicationState.PUBLISHED
            )
        ]
        if not pending:
            break
        for publication_id in pending:
            fault = rng.choice(faults)
            if fault is SimulatedCrash:
                network.fail_before.append(SimulatedCrash())
            elif fault == "crash-after":
                network.fail_after.append(SimulatedCrash())
            elif fault is AmbiguousOutcome:
                network.fail_before.append(AmbiguousOutcome("lost"))
            elif fault == "ambiguous-after":
                network.fail_after.append(AmbiguousOutcome("lost"))
            elif fault is Transient:
                network.fail_before.append(Transient("503"))
            with contextlib.suppress(SimulatedCrash):
                services.publication_publish(publication_id=publication_id, now=now)
            network.fail_before.clear()
            network.fail_after.clear()
        now += services.lease() + timedelta(minutes=1)
        services.publications_run_due(now=now)

    states = list(SharePublication.objects.filter(pk__in=[p.pk for p in publications]).values_list("state", flat=True))
    assert states.count(PublicationState.PUBLISHED) == len(publications), states
    keys = [post.idempotency_key for post in network.posts]
    assert len(keys) == len(set(keys)) == len(publications)  # 0 duplicates, 0 missing


def test_the_sweep_does_not_multiply_a_waiting_task_but_resends_a_lost_one(network: Any, settings: Any) -> None:
    """Found by the T1 drill: every sweep sent every due row again, so a backlog grew by hundreds of no-op
    messages a minute and the workers spent their time on them. A task sent and not yet received is sent
    once; one lost with a killed worker or a restarted broker (its note expired or gone) is sent again."""
    from django.core.cache import cache

    from campaigns.publishing import tasks

    settings.PUBLISHING_REDISPATCH_SECONDS = 1
    publication = queued()  # inside the test transaction: its own on-commit send never happened
    with mock.patch.object(tasks.publication_publish, "delay") as delay:
        services.publications_run_due()
        services.publications_run_due()
        assert delay.call_count == 1  # waiting in the queue: not sent twice

        cache.delete(f"publishing:dispatched:{publication.pk}")  # the broker restarted and lost it (and the note)
        services.publications_run_due()
        assert delay.call_count == 2

        time.sleep(1.1)  # no worker received it within the redispatch time: assumed lost
        services.publications_run_due()
        assert delay.call_count == 3
        delay.assert_called_with(publication.pk)


def test_a_task_received_and_retried_later_is_sent_again_when_due(network: Any) -> None:
    from campaigns.publishing import tasks

    publication = queued()
    with mock.patch.object(tasks.publication_publish, "delay") as delay:
        services.publications_run_due()
        assert delay.call_count == 1
        network.fail_before.append(Transient("503"))
        services.publication_publish(publication_id=publication.pk)  # the worker received it; the network was busy
        assert state(publication) == PublicationState.QUEUED
        services.publications_run_due(now=timezone.now() + timedelta(hours=2))
        assert delay.call_count == 2  # due again: not held back by a note of the earlier send


def test_a_proof_check_lost_with_the_broker_is_sent_again_once_per_redispatch_time(network: Any, settings: Any) -> None:
    """Found reviewing T5: a proof check's message lost (Redis restarted without persistence, worker killed)
    left the share PROOF_SUBMITTED for ever; the sweep now sends it again, once per redispatch time."""
    from campaigns.publishing import proof, tasks

    share = ready_share(network="proofonly", instance_url="https://proof.example")
    publication = services.share_publication_schedule(share=share)
    assert publication is not None
    assert publication.state == PublicationState.NEEDS_PROOF
    # Inside the test transaction the on-commit send never happens: as if the broker lost it.
    proof.proof_submit(publication=publication, influencer=share.influencer, url="https://proof.example/@me/1")
    assert state(publication) == PublicationState.PROOF_SUBMITTED
    later = timezone.now() + timedelta(seconds=settings.PUBLISHING_REDISPATCH_SECONDS + 1)
    with mock.patch.object(tasks.proof_verify, "delay") as delay:
        services.publications_run_due()
        assert delay.call_count == 0  # just submitted: its own message may still be on the way

        assert services.publications_run_due(now=later)["proofs_resent"] == 1
        assert services.publications_run_due(now=later)["proofs_resent"] == 0  # sent once per redispatch time
        delay.assert_called_once_with(publication.pk)


def test_publishing_tasks_retry_database_outages_and_nothing_else() -> None:
    """T5: a database restart cuts connections mid-task; the task runs again (a new claim), typed, capped."""
    from django.db import InterfaceError, OperationalError

    from campaigns.publishing import tasks

    for task in (tasks.publication_publish, tasks.publication_resolve, tasks.proof_verify):
        assert {OperationalError, InterfaceError} <= set(task.autoretry_for), task.name
        assert Exception not in task.autoretry_for
        assert task.max_retries
        assert task.max_retries <= 3
        assert task.retry_backoff_max <= 600
        assert task.retry_jitter


def test_a_publish_task_cut_by_a_database_restart_runs_again_and_publishes_once(network: Any) -> None:
    from django.db import OperationalError

    from campaigns.publishing import tasks

    publication = queued()
    real_claim = services.publication_claim
    calls = {"n": 0}

    def claim_then_connection_lost(**kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise OperationalError("terminating connection due to administrator command")
        return real_claim(**kwargs)

    with mock.patch.object(services, "publication_claim", side_effect=claim_then_connection_lost):
        tasks.publication_publish.apply(args=(publication.pk,), throw=False)  # eager: the retry runs in place

    assert state(publication) == PublicationState.PUBLISHED
    assert len(network.posts) == 1
