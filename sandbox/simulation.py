"""The sandbox audience: simulated personas who read, like, reply to and reblog posts.

How a post spreads (word of mouth):

1. When a post is first simulated, each follower of its author gets an *exposure*: the post
   is in their timeline. Each exposure gets a *seen* moment, a random delay after the post.
2. When a step runs at or after that moment, the persona decides once whether to like, reply
   and reblog. Probabilities rise with the overlap between the persona's interests and the
   post's topics (the author's interests plus matching hashtags), scale with the persona's
   activity, and decay with how late the persona sees the post.
3. A reblog exposes the post to the reblogger's followers (one degree further), who decide in
   turn. Cascades resolve within one step as far as ``now`` allows.

Determinism: every random draw comes from a ``random.Random`` seeded with the seed and stable
names (author handle, post time, persona handle), never database ids or wall-clock time, so
the same world and seed give the same counts however often and whenever steps run.
Counts on statuses are recounted here after each step, from the simulated interactions plus what
members' personas did through the API (favourites, reblogs, replies; ``status_counts_refresh``).
A reblog made through the API is a post of its own and is not simulated; the post it carries is.
"""

from __future__ import annotations

import hashlib
import random
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from influencers.topics import TOPICS
from sandbox.models import (
    InteractionKind,
    SandboxExposure,
    SandboxFollow,
    SandboxInteraction,
    SandboxPersona,
    SandboxStatus,
    Visibility,
)
from sandbox.services_statuses import status_counts_refresh

ACTIVE_WINDOW = timedelta(hours=48)
MEAN_SEEN_DELAY_MINUTES = 25.0
DECAY_HALF_LIFE_HOURS = 8.0
MAX_DEGREE = 4
HASHTAG = re.compile(r"#(\w+)")

REPLIES = (
    "Love this!",
    "Great tip, thanks for sharing.",
    "Saving this for the weekend.",
    "Where was this? Looks wonderful.",
    "Totally agree.",
    "This made my day.",
    "Trying this tomorrow!",
    "So good to see this here.",
)


@dataclass(frozen=True)
class SimulationReport:
    now: datetime
    seed: int
    statuses: int = 0
    exposures_created: int = 0
    exposures_processed: int = 0
    favourites: int = 0
    reblogs: int = 0
    replies: int = 0


@dataclass
class _Tally:
    statuses: int = 0
    exposures_created: int = 0
    exposures_processed: int = 0
    favourites: int = 0
    reblogs: int = 0
    replies: int = 0


def _rng(*parts: object) -> random.Random:
    return random.Random("|".join(str(part) for part in parts))  # noqa: S311 - simulation, not security


def status_topics(status: SandboxStatus) -> set[str]:
    tags = {tag.lower() for tag in HASHTAG.findall(status.text)}
    return (set(status.persona.interests) | tags) & set(TOPICS)


def interest_match(*, persona_interests: set[str], topics: set[str]) -> float:
    """0..1: the share of a post's topics (at most three count) the persona cares about."""
    if not topics:
        return 0.0
    return min(1.0, len(persona_interests & topics) / min(len(topics), 3))


def engagement_probabilities(*, match: float, activity: float, delay: timedelta) -> tuple[float, float, float]:
    """(like, reblog, reply) for one persona seeing a post ``delay`` after it was made."""
    recency = 0.5 ** (max(delay.total_seconds(), 0) / 3600 / DECAY_HALF_LIFE_HOURS)
    factor = recency * activity
    like = min(0.95, (0.03 + 0.55 * match) * factor)
    reblog = min(0.6, (0.005 + 0.2 * match) * factor)
    reply = min(0.4, (0.004 + 0.08 * match) * factor)
    return like, reblog, reply


def _status_key(status: SandboxStatus) -> str:
    digest = hashlib.sha256(status.text.encode()).hexdigest()[:12]
    return f"{status.persona.handle}@{status.created_at.timestamp():.3f}#{digest}"


def _seen_delay(seed: int, status_key: str, handle: str) -> timedelta:
    minutes = _rng(seed, status_key, handle, "seen").expovariate(1 / MEAN_SEEN_DELAY_MINUTES)
    return timedelta(minutes=min(minutes, ACTIVE_WINDOW.total_seconds() / 60))


def _expose(
    *,
    status: SandboxStatus,
    status_key: str,
    audience: list[SandboxPersona],
    exposed_at: datetime,
    via: SandboxPersona | None,
    degree: int,
    seed: int,
) -> int:
    already = set(SandboxExposure.objects.filter(status=status).values_list("persona_id", flat=True))
    rows = [
        SandboxExposure(
            status=status,
            persona=persona,
            via=via,
            degree=degree,
            exposed_at=exposed_at,
            seen_at=exposed_at + _seen_delay(seed, status_key, persona.handle),
        )
        for persona in sorted(audience, key=lambda p: p.handle)
        if persona.pk not in already and persona.pk != status.persona_id and persona.owner_id is None
    ]
    SandboxExposure.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def _followers(persona: SandboxPersona) -> list[SandboxPersona]:
    return list(SandboxPersona.objects.filter(following_links__followee=persona))


def _decide(
    *, exposure: SandboxExposure, status: SandboxStatus, status_key: str, topics: set[str], seed: int, tally: _Tally
) -> None:
    persona = exposure.persona
    rng = _rng(seed, status_key, persona.handle, "decide")
    match = interest_match(persona_interests=set(persona.interests), topics=topics)
    like, reblog, reply = engagement_probabilities(
        match=match, activity=persona.activity, delay=exposure.seen_at - status.created_at
    )
    # Draw all three so one decision never shifts the others' random numbers.
    draws = (rng.random(), rng.random(), rng.random(), rng.randrange(len(REPLIES)))
    kinds = []
    if draws[0] < like:
        kinds.append(InteractionKind.FAVOURITE)
        tally.favourites += 1
    if draws[1] < reblog:
        kinds.append(InteractionKind.REBLOG)
        tally.reblogs += 1
    if draws[2] < reply:
        kinds.append(InteractionKind.REPLY)
        tally.replies += 1
    SandboxInteraction.objects.bulk_create(
        [
            SandboxInteraction(
                status=status,
                persona=persona,
                kind=kind,
                text=REPLIES[draws[3]] if kind == InteractionKind.REPLY else "",
                created_at=exposure.seen_at,
            )
            for kind in kinds
        ],
        ignore_conflicts=True,
    )
    if InteractionKind.REBLOG in kinds and exposure.degree < MAX_DEGREE:
        tally.exposures_created += _expose(
            status=status,
            status_key=status_key,
            audience=_followers(persona),
            exposed_at=exposure.seen_at,
            via=persona,
            degree=exposure.degree + 1,
            seed=seed,
        )


def _simulate_status(*, status: SandboxStatus, now: datetime, seed: int, tally: _Tally) -> None:
    status_key = _status_key(status)
    if not SandboxExposure.objects.filter(status=status, degree=1).exists():
        tally.exposures_created += _expose(
            status=status,
            status_key=status_key,
            audience=_followers(status.persona),
            exposed_at=status.created_at,
            via=None,
            degree=1,
            seed=seed,
        )
    topics = status_topics(status)
    processed = 0
    while True:
        due = list(
            SandboxExposure.objects.select_related("persona")
            .filter(status=status, processed_at__isnull=True, seen_at__lte=now)
            .order_by("seen_at", "persona__handle")
        )
        if not due:
            break
        for exposure in due:
            _decide(exposure=exposure, status=status, status_key=status_key, topics=topics, seed=seed, tally=tally)
            exposure.processed_at = now
        SandboxExposure.objects.bulk_update(due, ["processed_at"])
        tally.exposures_processed += len(due)
        processed += len(due)
    if not processed:
        return
    status_counts_refresh(status=status)


def simulation_step(*, now: datetime | None = None, seed: int | None = None) -> SimulationReport:
    """Advances the simulated audience to ``now`` for every post of the last 48 hours."""
    now = now or timezone.now()
    seed = int(settings.SANDBOX_SEED if seed is None else seed)
    tally = _Tally()
    statuses = (
        SandboxStatus.objects.select_related("persona")
        .filter(created_at__gte=now - ACTIVE_WINDOW, created_at__lte=now, reblog_of__isnull=True)
        .exclude(visibility=Visibility.DIRECT)
        .order_by("created_at", "id")
    )
    for status in statuses:
        with transaction.atomic():
            locked = SandboxStatus.objects.select_for_update().filter(pk=status.pk).first()
            if locked is None:  # deleted meanwhile
                continue
            tally.statuses += 1
            _simulate_status(status=status, now=now, seed=seed, tally=tally)
    return SimulationReport(now=now, seed=seed, **vars(tally))


def follower_handles(persona: SandboxPersona) -> set[str]:
    """Handles following ``persona`` (a read helper for tests and the demo)."""
    return set(SandboxFollow.objects.filter(followee=persona).values_list("follower__handle", flat=True).order_by())
