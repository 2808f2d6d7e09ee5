"""Issue "What people see" (3, 6, 7, 8) in a real browser: times beside the numbers, the share's true state.

A share published three hours ago (read at +2 min, +10 min and +1 h) with two clicks of the running hour
not booked yet. The brand's results say when the counts are from and when the next is due, and that the
clicks are booked after the hour closes; the Influencers tab shows the share as published (it said
"waiting to be published"); the influencer's earnings page shows the clicks not booked yet and the offer
page the published state; the campaign's estimate counts no reach on Mastodon. Screenshots at 1280 and
390 px: test-artifacts/journey/timing-*.

The data is seeded in the stack's own database (``seed``, run through ``manage.py shell``): no page makes
a published share with clicks, and waiting for the pipeline is the whole journey's job.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.helpers import WAIT_MS, axe_check, shot

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PASSWORD = "timing-Passw0rd-2026"
BRAND_EMAIL = "maria@timing.linkilike.test"
INFLUENCER_EMAIL = "lena@timing.linkilike.test"


def seed() -> dict[str, Any]:
    """Runs inside the stack (``manage.py shell``): a brand, a campaign, a published share with counts and clicks."""
    import secrets
    from datetime import timedelta

    from django.utils import timezone

    from campaigns.models import PublicationState, SharePublication
    from tests.factories.accounts import UserFactory
    from tests.factories.brands import MembershipFactory
    from tests.factories.campaigns import CampaignFactory, MatchFactory, OfferFactory
    from tests.factories.influencers import InfluencerProfileFactory
    from tests.factories.networks import ConnectedAccountFactory
    from tests.factories.tracking import ClickFactory, MetricSnapshotFactory, ShareFactory, TrackingLinkFactory

    now = timezone.now()
    membership = MembershipFactory(user=UserFactory(email=BRAND_EMAIL, password=PASSWORD), brand__name="Timing Coffee")
    campaign = CampaignFactory(
        brand=membership.brand, name="Timing Winter Roast", status="approved", networks=["mastodon"], cpm_minor=2000
    )
    influencer = InfluencerProfileFactory(
        user=UserFactory(email=INFLUENCER_EMAIL, password=PASSWORD), display_name="Lena Timing", languages=["en"]
    )
    offer = OfferFactory(match=MatchFactory(campaign=campaign, influencer=influencer, status="approved"))
    offer.status = "accepted"
    offer.accepted_at = now - timedelta(hours=4)
    offer.save()
    account = ConnectedAccountFactory(influencer=influencer, handle="@lena@mastodon.example")
    share = ShareFactory(offer=offer, connected_account=account)
    published = now - timedelta(hours=3)
    SharePublication.objects.create(
        share=share,
        state=PublicationState.PUBLISHED,
        idempotency_key=secrets.token_hex(16),
        external_id="109",
        external_url="https://mastodon.example/@lena/109",
        published_at=published,
    )
    for window, after, engagements in (("+2m", 2, 1), ("+10m", 10, 3), ("+1h", 60, 4)):
        MetricSnapshotFactory(
            share=share,
            window=window,
            collected_at=published + timedelta(minutes=after),
            reach=None,
            impressions=None,
            engagements=engagements,
            likes=engagements,
            reposts=0,
        )
    link = TrackingLinkFactory(share=share)
    hour = now.replace(minute=0, second=0, microsecond=0)
    for _ in range(2):
        ClickFactory(link=link, occurred_at=hour)
    return {"brand": membership.brand.slug, "campaign": campaign.pk, "offer": offer.pk}


def sign_in(browser: Browser, stack: Any, email: str) -> Page:
    context = browser.new_context(base_url=stack.base_url, viewport={"width": 1280, "height": 900}, locale="en-GB")
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    page.goto("/accounts/login/")
    page.locator("#id_login").fill(email)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    expect(page).not_to_have_url(re.compile(r"/accounts/login/"))
    return page


def test_results_show_their_times_and_shares_their_true_state(stack: Any, journey_browser: Browser) -> None:
    code = "import json; from tests.browser.test_results_timing import seed; print(json.dumps(seed()))"
    seeded = json.loads(stack.manage("shell", "-c", code).strip().splitlines()[-1])
    checked: set[str] = set()
    campaign_url = f"/b/{seeded['brand']}/campaigns/{seeded['campaign']}/"

    brand = sign_in(journey_browser, stack, BRAND_EMAIL)
    brand.goto(campaign_url + "?tab=results")
    timing = brand.get_by_test_id("results-timing")
    expect(timing).to_contain_text("Network counts as of")
    expect(timing).to_contain_text("Next count due at")
    expect(timing).to_contain_text("after each post, so they grow in steps")
    pending = brand.get_by_test_id("clicks-pending")
    expect(pending).to_contain_text(re.compile(r"2 clicks from .+ are counted but not paid yet"))
    expect(pending).to_contain_text("booked after the hour closes, at about")
    shot(brand, "timing-brand-results")
    axe_check(brand, "timing-brand-results", checked)

    brand.goto(campaign_url + "?tab=influencers")
    row = brand.locator(".influencer-row").filter(has_text="Lena Timing")
    expect(row.locator(".badge").filter(has_text="Published")).to_be_visible()
    expect(row).to_contain_text("Sharing")
    expect(brand.locator("main")).not_to_contain_text(re.compile("waiting to be published", re.I))
    shot(brand, "timing-brand-influencers")
    axe_check(brand, "timing-brand-influencers", checked)

    # The estimate counts no reach (and no CPM) on Mastodon, which reports none, and says so (item 8).
    brand.goto(campaign_url)
    estimate = brand.locator("section.estimate")
    expect(estimate).to_contain_text("not reported")
    expect(brand.get_by_test_id("estimate-reach-note")).to_contain_text("Mastodon reports no reach or impressions")
    shot(brand, "timing-brand-estimate")
    axe_check(brand, "timing-brand-estimate", checked)

    influencer = sign_in(journey_browser, stack, INFLUENCER_EMAIL)
    influencer.goto("/i/earnings/")
    # Beside the balances they are not in yet.
    expect(influencer.get_by_test_id("earnings-clicks-pending")).to_contain_text("Not in these amounts yet")
    expect(influencer.get_by_test_id("clicks-pending")).to_contain_text(
        re.compile(r"2 clicks from .+ are counted but not paid yet: they are booked after the hour closes")
    )
    shot(influencer, "timing-influencer-earnings")
    axe_check(influencer, "timing-influencer-earnings", checked)

    influencer.goto(f"/i/offers/{seeded['offer']}/")
    shares = influencer.locator("#shares-heading").locator("xpath=..")
    expect(shares.locator(".badge").filter(has_text="Published")).to_be_visible()
    expect(shares).not_to_contain_text("Ready to publish")
    expect(influencer.locator("main")).to_contain_text("booked as earnings once their hour has closed")
    shot(influencer, "timing-influencer-offer")
    axe_check(influencer, "timing-influencer-offer", checked)

    influencer.goto("/i/results/")
    expect(influencer.get_by_test_id("results-timing")).to_contain_text("Network counts as of")
    expect(influencer.get_by_test_id("clicks-pending")).to_contain_text("2 clicks from")
    shot(influencer, "timing-influencer-results")
    axe_check(influencer, "timing-influencer-results", checked)
