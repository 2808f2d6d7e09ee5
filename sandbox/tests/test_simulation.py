"""The simulated audience: deterministic under a seed, word of mouth through reblogs, interests matter."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from sandbox.models import (
    InteractionKind,
    SandboxExposure,
    SandboxFollow,
    SandboxInteraction,
    SandboxPersona,
    SandboxStatus,
)
from sandbox.services import community_seed, persona_audience_attach, persona_create, status_create
from sandbox.simulation import engagement_probabilities, simulation_step
from sandbox.tasks import sandbox_simulate
from tests.factories.accounts import UserFactory
from tests.factories.sandbox import SandboxPersonaFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.get_fixed_timezone(0))


def _world(*, seed: int) -> list[SandboxStatus]:
    community_seed(size=80, seed=seed)
    author = persona_create(handle="lena", display_name="Lena", interests=["coffee", "food"], owner=UserFactory())
    persona_audience_attach(persona=author, size=40, seed=seed)
    return [
        status_create(persona=author, text="Morning pour-over #coffee", now=T0).status,
        status_create(persona=author, text="Lentil soup for the week #food", now=T0 + timedelta(hours=2)).status,
    ]


def _counts() -> list[tuple[str, int, int, int]]:
    return [
        (s.text, s.favourites_count, s.reblogs_count, s.replies_count)
        for s in SandboxStatus.objects.order_by("created_at")
    ]


def _wipe() -> None:
    SandboxPersona.objects.all().delete()


def test_same_seed_gives_the_same_counts_in_a_rebuilt_world() -> None:
    _world(seed=7)
    simulation_step(now=T0 + timedelta(minutes=30), seed=7)
    simulation_step(now=T0 + timedelta(hours=12), seed=7)
    first = _counts()
    _wipe()

    _world(seed=7)
    simulation_step(now=T0 + timedelta(hours=12), seed=7)  # one step instead of two: same outcome
    second = _counts()

    assert first == second
    assert sum(likes for _t, likes, _r, _p in first) > 0


def test_steps_only_add_and_running_twice_changes_nothing() -> None:
    statuses = _world(seed=3)
    early = simulation_step(now=T0 + timedelta(minutes=20), seed=3)
    early_likes = SandboxStatus.objects.get(pk=statuses[0].pk).favourites_count
    later = simulation_step(now=T0 + timedelta(hours=10), seed=3)
    settled = _counts()
    again = simulation_step(now=T0 + timedelta(hours=10), seed=3)

    assert early.exposures_processed > 0, "some followers read the post within 20 minutes"
    assert later.exposures_processed > 0, "the rest read it later"
    assert SandboxStatus.objects.get(pk=statuses[0].pk).favourites_count >= early_likes
    assert again.exposures_processed == 0
    assert _counts() == settled


def test_different_seeds_give_different_audiences() -> None:
    outcomes = set()
    for seed in (1, 2, 3):
        _world(seed=seed)
        simulation_step(now=T0 + timedelta(hours=12), seed=seed)
        outcomes.add(tuple(_counts()))
        _wipe()

    assert len(outcomes) > 1


def test_reblogs_expose_the_post_to_second_degree_followers() -> None:
    author = SandboxPersonaFactory(handle="author", interests=["cycling"], owner=UserFactory())
    # Eager cyclists follow the author; each has their own followers who do not follow the author.
    fans = [
        SandboxPersonaFactory(handle=f"fan_{i}", interests=["cycling", "outdoors"], activity=3.0) for i in range(25)
    ]
    friends = [SandboxPersonaFactory(handle=f"friend_{i}", interests=["cycling"]) for i in range(50)]
    SandboxFollow.objects.bulk_create(
        [SandboxFollow(follower=fan, followee=author) for fan in fans]
        + [SandboxFollow(follower=friend, followee=fans[i % 25]) for i, friend in enumerate(friends)]
    )
    status = status_create(persona=author, text="Gravel loop this morning", now=T0).status

    simulation_step(now=T0 + timedelta(hours=24), seed=11)

    rebloggers = set(
        SandboxInteraction.objects.filter(status=status, kind=InteractionKind.REBLOG).values_list("persona", flat=True)
    )
    second_degree = SandboxExposure.objects.filter(status=status, degree=2)
    assert rebloggers, "eager followers reblog"
    assert second_degree.exists()
    # Only rebloggers pass a post on, and only to their own followers.
    assert set(second_degree.values_list("via", flat=True)) <= rebloggers
    for exposure in second_degree.select_related("persona", "via"):
        assert SandboxFollow.objects.filter(follower=exposure.persona, followee=exposure.via).exists()
        assert not SandboxFollow.objects.filter(follower=exposure.persona, followee=author).exists()
    friend_likes = SandboxInteraction.objects.filter(
        status=status, kind=InteractionKind.FAVOURITE, persona__handle__startswith="friend_"
    ).count()
    assert friend_likes > 0
    status.refresh_from_db()
    assert status.favourites_count == SandboxInteraction.objects.filter(status=status, kind="favourite").count()


def test_nobody_reached_without_a_reblog_beyond_the_followers() -> None:
    author = SandboxPersonaFactory(handle="quiet", interests=["books"], owner=UserFactory())
    follower = SandboxPersonaFactory(handle="lurker", interests=["gaming"], activity=0.0)
    stranger = SandboxPersonaFactory(handle="stranger", interests=["books"])
    SandboxFollow.objects.create(follower=follower, followee=author)
    SandboxFollow.objects.create(follower=stranger, followee=follower)
    status = status_create(persona=author, text="New novel finished", now=T0).status

    simulation_step(now=T0 + timedelta(hours=24), seed=5)

    assert list(SandboxExposure.objects.filter(status=status).values_list("persona__handle", flat=True)) == ["lurker"]
    status.refresh_from_db()
    assert (status.favourites_count, status.reblogs_count, status.replies_count) == (0, 0, 0)


def test_interest_overlap_raises_engagement() -> None:
    def audience_for(handle: str, interests: list[str]) -> SandboxStatus:
        author = SandboxPersonaFactory(handle=handle, interests=["coffee"], owner=UserFactory())
        followers = [SandboxPersonaFactory(handle=f"{handle}_f{i}", interests=interests) for i in range(100)]
        SandboxFollow.objects.bulk_create([SandboxFollow(follower=f, followee=author) for f in followers])
        return status_create(persona=author, text="A cup of coffee", now=T0).status

    matching = audience_for("match", ["coffee", "books"])
    unrelated = audience_for("other", ["gaming", "automotive"])

    simulation_step(now=T0 + timedelta(hours=24), seed=9)

    matching.refresh_from_db()
    unrelated.refresh_from_db()
    assert matching.favourites_count > 3 * max(unrelated.favourites_count, 1)
    assert matching.reblogs_count > unrelated.reblogs_count


def test_engagement_decays_for_late_readers() -> None:
    early = engagement_probabilities(match=1.0, activity=1.0, delay=timedelta(minutes=5))
    late = engagement_probabilities(match=1.0, activity=1.0, delay=timedelta(hours=20))

    assert all(late_p < early_p for early_p, late_p in zip(early, late, strict=True))


def test_statuses_outside_the_active_window_are_left_alone() -> None:
    author = SandboxPersonaFactory(handle="old", interests=["coffee"], owner=UserFactory())
    fan = SandboxPersonaFactory(handle="old_fan", interests=["coffee"], activity=5.0)
    SandboxFollow.objects.create(follower=fan, followee=author)
    status_create(persona=author, text="Ancient post", now=T0 - timedelta(days=5))

    report = simulation_step(now=T0, seed=1)

    assert report.statuses == 0
    assert not SandboxExposure.objects.exists()


def test_the_periodic_task_advances_the_audience(settings: Any) -> None:
    author = SandboxPersonaFactory(handle="scheduled", interests=["coffee"], owner=UserFactory())
    fans = [SandboxPersonaFactory(handle=f"eager_{i}", interests=["coffee"], activity=3.0) for i in range(20)]
    SandboxFollow.objects.bulk_create([SandboxFollow(follower=fan, followee=author) for fan in fans])
    status = status_create(persona=author, text="Cupping notes", now=timezone.now() - timedelta(hours=3)).status

    sandbox_simulate.delay()

    status.refresh_from_db()
    assert settings.CELERY_BEAT_SCHEDULE["sandbox-simulate"]["task"] == "sandbox.tasks.sandbox_simulate"
    assert status.favourites_count > 10
