"""Demo influencers with profiles and topics."""

from __future__ import annotations

from accounts.demo import DemoLogin, demo_user
from influencers.models import InfluencerProfile, Topic
from influencers.services import influencer_profile_save

DEMO_INFLUENCERS = [
    (
        "lena@demo.linkilike.test",
        "Lena Berger",
        "AT",
        ["de", "en"],
        ["coffee", "food", "sustainability"],
        "Slow mornings, good coffee and zero-waste living in Linz.",
    ),
    (
        "tom@demo.linkilike.test",
        "Tom Huber",
        "DE",
        ["de"],
        ["cycling", "outdoors", "coffee"],
        "Gravel rides across Bavaria, always with a coffee stop.",
    ),
    (
        "mia@demo.linkilike.test",
        "Mia Novak",
        "AT",
        ["en", "de"],
        ["photography", "travel", "food"],
        "Travel and food photography on a small budget.",
    ),
]


def seed_demo() -> list[DemoLogin]:
    logins = []
    for email, name, country, languages, topics, bio in DEMO_INFLUENCERS:
        user = demo_user(email=email, full_name=name)
        if not InfluencerProfile.objects.filter(user=user).exists():
            influencer_profile_save(
                user=user,
                topics=Topic.objects.filter(slug__in=topics),
                accept_terms=True,
                display_name=name,
                bio=bio,
                country=country,
                languages=languages,
                tax_status="private",
            )
        logins.append(DemoLogin(role="Influencer", email=email))
    return logins
