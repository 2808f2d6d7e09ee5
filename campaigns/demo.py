"""Demo campaign for Alpenglow Coffee: a draft with an image, two texts, a link, targeting and pricing."""

from __future__ import annotations

import io
import math
from datetime import datetime, time, timedelta

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image, ImageDraw

from accounts.demo import DemoLogin
from brands.demo import DEMO_BRAND_SLUG
from brands.models import Brand
from campaigns.models import Campaign
from campaigns.services import VariantInput, campaign_create, content_create
from influencers.models import Topic

DEMO_CAMPAIGN_NAME = "Autumn Roast 2026"


def demo_image_png() -> bytes:
    """A warm sunrise over mountains with a coffee cup: drawn here, no network needed."""
    width, height = 1200, 900
    image = Image.new("RGB", (width, height))
    draw = ImageDraw.Draw(image)
    for y in range(height):  # sky gradient, deep blue to alpenglow orange
        t = y / height
        draw.line([(0, y), (width, y)], fill=(int(40 + 210 * t), int(50 + 110 * t), int(110 - 40 * t)))
    draw.ellipse((820, 420, 1020, 620), fill=(255, 214, 120))
    draw.polygon(
        [(0, 700), (260, 380), (470, 620), (700, 300), (980, 640), (1200, 460), (1200, 900), (0, 900)],
        fill=(70, 52, 70),
    )
    draw.polygon([(640, 360), (700, 300), (760, 370), (720, 355), (690, 380)], fill=(250, 240, 240))
    draw.rectangle((0, 760, width, height), fill=(92, 64, 51))
    # cup with steam
    draw.rounded_rectangle((470, 560, 730, 800), radius=40, fill=(245, 240, 232))
    draw.ellipse((700, 610, 800, 720), outline=(245, 240, 232), width=22)
    draw.ellipse((490, 545, 710, 595), fill=(111, 68, 45))
    for offset in (530, 600, 670):
        points = [(offset + 14 * math.sin(i / 6), 530 - i * 6) for i in range(25)]
        draw.line(points, fill=(255, 255, 255), width=6)
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()


def seed_demo() -> list[DemoLogin]:
    brand = Brand.objects.filter(slug=DEMO_BRAND_SLUG).first()
    if brand is None or Campaign.objects.filter(brand=brand, name=DEMO_CAMPAIGN_NAME).exists():
        return []
    owner = brand.memberships.filter(role="owner").select_related("user").first()
    today = timezone.localdate()
    start = timezone.make_aware(datetime.combine(today, time.min))
    campaign = campaign_create(
        brand=brand,
        created_by=owner.user if owner else None,
        name=DEMO_CAMPAIGN_NAME,
        brief=(
            "Our small-batch autumn roast from Linz: chocolate, hazelnut and a hint of plum. "
            "Share it if you love a slow morning coffee with a view."
        ),
        budget_minor=150_000,
        cpm_minor=600,
        cpe_minor=10,
        cpc_minor=15,
        per_share_cap_minor=2_500,
        starts_at=start,
        ends_at=start + timedelta(days=30),
        languages=["en", "de"],
        disclosures={"en": "#ad", "de": "#Werbung"},
        networks=["mastodon", "bluesky", "instagram"],
        countries=["AT", "DE", "CH"],
        topics=list(Topic.objects.filter(slug__in=["coffee", "food", "outdoors"])),
        followers_min=500,
        followers_max=20_000,
    )
    content_create(
        campaign=campaign,
        title="Autumn roast launch",
        # A page this app serves (the demo brand's stand-in website): a click in the demo ends somewhere real.
        target_url=settings.SITE_URL + reverse("brands:demo-page", kwargs={"slug": brand.slug}),
        hashtags=["#coffee", "#AlpenglowCoffee"],
        variants=[
            VariantInput(
                text=(
                    "Slow Sunday, mountain view and the new Alpenglow autumn roast: "
                    "chocolate, hazelnut, a hint of plum."
                ),
                language="en",
            ),
            VariantInput(
                text=(
                    "Langsamer Sonntag, Bergblick und die neue Herbströstung von Alpenglow: "
                    "Schokolade, Haselnuss, ein Hauch Pflaume."
                ),
                language="de",
            ),
        ],
        media=SimpleUploadedFile("alpenglow-autumn.png", demo_image_png(), content_type="image/png"),
    )
    return []
