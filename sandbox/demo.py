"""Demo data for the sandbox network: a simulated community of about 200 personas and one
sandbox account per demo influencer, followed by the part of the community sharing its topics.

Idempotent. Connecting these sandbox accounts to the influencers' Linkilike profiles is the
networks app's job (its ConnectedAccount and OAuth flow).
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from accounts.models import User
from influencers.demo import DEMO_INFLUENCERS
from influencers.models import InfluencerProfile
from linkilike.demo import DemoLogin
from sandbox.models import SandboxPersona
from sandbox.services import community_seed, persona_audience_attach, persona_create, status_create
from sandbox.simulation import simulation_step

COMMUNITY_SIZE = 200
AUDIENCE_SIZE = {"lena": 120, "tom": 80, "mia": 100}
EARLIER_POSTS = {
    "lena": [
        (26, "Sunday ritual: V60, a slow pour and the first sun on the balcony. #coffee"),
        (5, "Refill shop haul: oats, lentils and beans, zero plastic. Tips for storing them? #sustainability"),
    ],
    "tom": [
        (30, "120 km of gravel around the Chiemsee today, legs are done. #cycling #outdoors"),
        (6, "Best coffee stop on the route: a tiny roastery in Prien. #coffee"),
    ],
    "mia": [
        (28, "Golden hour in Trieste, shot on a 35 mm prime. #photography #travel"),
        (4, "Street food in Ljubljana for under 10 euros: burek and a coffee. #food"),
    ],
}


def _demo_persona(user: User, handle: str) -> SandboxPersona:
    persona = SandboxPersona.objects.filter(handle=handle).first()
    if persona is not None:
        return persona
    profile = InfluencerProfile.objects.filter(user=user).first()
    return persona_create(
        handle=handle,
        display_name=profile.display_name if profile else handle.title(),
        interests=list(profile.topics.values_list("slug", flat=True)) if profile else [],
        note=profile.bio if profile else "",
        owner=user,
    )


def seed_demo() -> list[DemoLogin]:
    community_seed(size=COMMUNITY_SIZE)
    now = timezone.now()
    for email, *_rest in DEMO_INFLUENCERS:
        user = User.objects.filter(email=email).first()
        if user is None:
            continue
        handle = email.split("@")[0]
        persona = _demo_persona(user, handle)
        persona_audience_attach(persona=persona, size=AUDIENCE_SIZE.get(handle, 80))
        if not persona.statuses.exists():
            for hours_ago, text in EARLIER_POSTS.get(handle, []):
                status_create(persona=persona, text=text, now=now - timedelta(hours=hours_ago))
    simulation_step(now=now)
    return []
