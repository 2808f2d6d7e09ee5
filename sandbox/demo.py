"""Demo data for the sandbox network: a simulated community of about 200 personas and one
sandbox account per demo influencer, followed by the part of the community sharing its topics.

Idempotent. Each demo influencer's sandbox account is also connected to their Linkilike
profile (a ``networks.ConnectedAccount`` holding a sandbox token), as if they had walked the
consent page, so the demo can publish straight away.
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from django.utils import timezone

from accounts.demo import DemoLogin
from accounts.models import User
from influencers.demo import DEMO_INFLUENCERS
from influencers.models import InfluencerProfile
from networks.models import ConnectedAccount, Network
from networks.providers.mastodon import SCOPES as LINKILIKE_SCOPES
from networks.providers.types import AccountRef, TokenSet
from networks.services import connected_account_upsert, sandbox_base_url
from sandbox.models import SandboxApp, SandboxPersona
from sandbox.services import (
    access_token_issue,
    app_register,
    community_seed,
    persona_audience_attach,
    persona_create,
    status_create,
)
from sandbox.simulation import simulation_step

DEMO_APP_NAME = "Linkilike (demo connections)"
OOB = "urn:ietf:wg:oauth:2.0:oob"
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


def _connect(persona: SandboxPersona, user: User, base_url: str) -> None:
    """What the consent page would do, without the HTTP round trip (no server runs while seeding)."""
    profile = InfluencerProfile.objects.filter(user=user).first()
    if profile is None:
        return
    already = ConnectedAccount.objects.filter(
        influencer=profile, network=Network.SANDBOX, instance_url=base_url, external_id=str(persona.pk)
    )
    if already.exists():
        return
    app = SandboxApp.objects.filter(name=DEMO_APP_NAME).first() or app_register(
        name=DEMO_APP_NAME, redirect_uris=[OOB], scopes=LINKILIKE_SCOPES
    )
    issued = access_token_issue(app=app, persona=persona, scopes=LINKILIKE_SCOPES)
    connected_account_upsert(
        influencer=profile,
        network=Network.SANDBOX,
        instance_url=base_url,
        profile=AccountRef(
            external_id=str(persona.pk),
            handle=f"@{persona.handle}@{urlsplit(base_url).netloc}",
            display_name=persona.display_name,
            profile_url=f"{base_url}/@{persona.handle}",
            avatar_url=f"{base_url}/avatars/{persona.handle}.svg",
            followers_count=persona.follower_links.count(),
        ),
        tokens=TokenSet(access_token=issued.raw, scope=issued.token.scopes),
    )


def seed_demo() -> list[DemoLogin]:
    community_seed(size=COMMUNITY_SIZE)
    now = timezone.now()
    base_url = sandbox_base_url()
    for email, *_rest in DEMO_INFLUENCERS:
        user = User.objects.filter(email=email).first()
        if user is None:
            continue
        handle = email.split("@")[0]
        persona = _demo_persona(user, handle)
        persona_audience_attach(persona=persona, size=AUDIENCE_SIZE.get(handle, 80))
        _connect(persona, user, base_url)
        if not persona.statuses.exists():
            for hours_ago, text in EARLIER_POSTS.get(handle, []):
                status_create(persona=persona, text=text, now=now - timedelta(hours=hours_ago))
    simulation_step(now=now)
    return []
