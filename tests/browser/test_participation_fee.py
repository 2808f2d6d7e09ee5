"""Issue 21 in a real browser: a campaign priced only by a participation fee, from creation to a released fee.

The brand prices the campaign with a flat participation fee and an audience band, on the phone-width band
editor, and sees a band error keep what was typed; staff fund it and approve it and its match; the influencer
reads the fee under "What you earn" and accepts; the worker publishes to the sandbox network and the fee is
booked on hold ("Booked, waiting for the retention check", pending on the earnings page); a week later the
retention check finds the post still up and the fee is earned; after the hold it is released to the
available balance. The brand sees it on the shares tab and in the CSV. Screenshots: test-artifacts/journey/.
"""

from __future__ import annotations

import csv
import io
import re
import time
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.helpers import reload_until_visible, wait_for_email
from tests.browser.test_journey import (
    PASSWORD,
    STAFF_EMAIL,
    STAFF_TOTP_SECRET,
    Journey,
    admin_action,
    influencer_signs_up_and_connects,
    png,
    sign_up,
    staff_funds,
    staff_signs_in,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

BRAND = "Hochalm Tea"
CAMPAIGN = "Hochalm Tea First Flush"


def _brand_creates_a_participation_priced_campaign(j: Journey, page: Page) -> str:
    sign_up(j, page, "anna@hochalm.example", "p-brand")
    page.get_by_role("button", name="Create a brand workspace").click()
    page.locator("#id_name").fill(BRAND)
    page.locator("#id_country").select_option("AT")
    page.locator("#id_category").fill("Coffee")
    page.locator("main form button[type=submit]").click()
    expect(page.locator("h1")).to_contain_text(BRAND)
    slug = page.url.rstrip("/").rsplit("/", 1)[-1]

    page.set_viewport_size({"width": 390, "height": 844})  # the band editor on a phone
    page.goto(f"/b/{slug}/campaigns/new/")
    page.locator("#id_name").fill(CAMPAIGN)
    page.locator("#id_brief").fill("Our first-flush tea from the Alps. Share a cup with your followers.")
    page.locator("#id_budget_minor").fill("500")
    page.locator("#id_participation_fee_minor").fill("4")
    page.locator("#id_band_1_up_to").fill("100")
    page.locator("#id_band_1_fee_minor").fill("2.50")
    page.locator("#id_band_2_up_to").fill("1000000")  # a band without its fee: an error, the input kept
    today = time.strftime("%Y-%m-%d")
    later = time.strftime("%Y-%m-%d", time.localtime(time.time() + 60 * 86400))
    page.locator("#id_starts_on").fill(today)
    page.locator("#id_ends_on").fill(later)
    page.locator("input[name=networks][value=mastodon]").check()
    page.locator("input[name=languages][value=en]").check()
    page.get_by_label("Coffee", exact=True).check()
    page.locator("#id_countries").select_option(["AT"])
    page.locator("main form button[type=submit]").last.click()
    expect(page.locator("main")).to_contain_text("Enter the fee for this band, or clear its row.")
    expect(page.locator("#id_band_2_up_to")).to_have_value("1000000")
    expect(page.locator("#id_band_1_fee_minor")).to_have_value("2.50")
    expect(page.locator("#id_participation_fee_minor")).to_have_value("4")
    j.see(page, "p-1-campaign-form-band-error")
    page.locator("#id_band_2_fee_minor").fill("4")
    page.locator("main form button[type=submit]").last.click()
    expect(page).to_have_url(re.compile(r"/campaigns/\d+/$"))
    page.set_viewport_size({"width": 1280, "height": 900})
    campaign_url = page.url
    expect(page.get_by_test_id("overview-participation")).to_contain_text("€4.00")
    expect(page.get_by_test_id("overview-participation")).to_contain_text("up to 100 followers: €2.50")

    page.goto(campaign_url + "content/new/")
    page.locator("#id_title").fill("First Flush")
    page.locator("#id_target_url").fill("https://hochalm.example/first-flush")
    page.locator("#id_hashtags").fill("#tea")
    page.locator("#id_media").set_input_files(str(png(j.tmp / "tea.png")))
    page.locator("#id_variant_1_text").fill("A cup of Hochalm first flush: fresh, bright and from the Alps.")
    page.locator("#id_variant_1_language").select_option("en")
    page.locator("main form button[type=submit]").last.click()
    expect(page).to_have_url(re.compile(r"/campaigns/\d+/"))
    page.goto(campaign_url)
    j.see(page, "p-1-campaign-draft")
    page.get_by_role("button", name="Submit for review").click()
    reload_until_visible(page, "Submitted for review", timeout=10)
    return campaign_url


def _fee_cell(page: Page) -> str:
    return page.get_by_test_id("participation-fee").first.inner_text()


def test_a_participation_fee_from_creation_to_a_released_fee(
    stack: Any, journey_browser: Browser, tmp_path: Path
) -> None:
    j = Journey(stack, journey_browser, tmp_path)
    stack.journey("staff", "--email", STAFF_EMAIL, "--password", PASSWORD, "--secret", STAFF_TOTP_SECRET)
    stack.journey("community")

    brand = j.person()
    with j.step(brand, "p-1-brand"):
        campaign_url = _brand_creates_a_participation_priced_campaign(j, brand)
    stack.journey("demo_brand", "--brand", BRAND)  # the sandbox network only reaches demo brands

    influencer = j.person()
    with j.step(influencer, "p-2-influencer"):
        influencer_signs_up_and_connects(j, influencer, email="mia@example.org", name="Mia Tea Time", lang="en")

    staff = j.person()
    with j.step(staff, "p-3-staff"):
        staff_signs_in(j, staff)
        staff_funds(j, staff, BRAND, "LK-HOCHALM-TEA")
        admin_action(staff, "/admin/campaigns/campaign/?status__exact=in_review", "approve_selected", "pprove")
        staff.goto("/admin/campaigns/match/")
        reload_until_visible(staff, "Mia Tea Time", timeout=60)
        admin_action(staff, "/admin/campaigns/match/?status__exact=proposed", "approve_selected", "pprove")

    with j.step(influencer, "p-4-accept"):
        wait_for_email(stack, "mia@example.org", count=2, timeout=60)
        influencer.goto("/i/offers/")
        reload_until_visible(influencer, CAMPAIGN, timeout=30)
        influencer.get_by_role("link", name=re.compile(CAMPAIGN)).first.click()
        pay = influencer.locator("section[aria-labelledby=pay-heading]")
        expect(pay).to_contain_text("a participation fee for each post that stays up with its disclosure for 7 days")
        expect(pay).to_contain_text("€2.50 up to 100 followers")
        expect(influencer.get_by_test_id("participation-note")).to_contain_text("taken back")
        j.see(influencer, "p-4-offer-what-you-earn")
        for box in influencer.locator("input[name=accounts]").all():
            box.check()
        influencer.get_by_role("button", name="Accept offer").click()
        expect(influencer.locator(".messages")).to_be_visible()

    with j.step(influencer, "p-5-booked-on-hold"):
        deadline = time.monotonic() + 90
        while True:
            states = list(stack.journey("state")["publications"])
            if states and all(state == "published" for state in states):
                break
            assert "failed" not in states, f"a publication failed: {states}"
            assert time.monotonic() < deadline, f"not published in time: {states}"
            stack.journey("pipeline")
        stack.journey("pipeline")  # the sweep after publishing books the fee
        influencer.goto("/i/results/")
        reload_until_visible(influencer, "Booked, waiting for the retention check", timeout=30)
        fee = re.search(r"€\d+\.\d\d", _fee_cell(influencer))
        assert fee, _fee_cell(influencer)
        j.see(influencer, "p-5-results-on-hold")
        influencer.goto("/i/earnings/")
        expect(influencer.get_by_test_id("earnings-pending")).to_have_text(fee.group(0))
        expect(influencer.get_by_test_id("earnings-available")).to_have_text("€0.00")
        j.see(influencer, "p-5-earnings-pending")

    with j.step(influencer, "p-6-retained-released"):
        stack.journey("pipeline", "--days", "8")  # still up with its disclosure a week later: earned
        influencer.goto("/i/results/")
        reload_until_visible(influencer, "Earned", timeout=30)
        stack.journey("release", "--days", "15")
        influencer.goto("/i/earnings/")
        expect(influencer.get_by_test_id("earnings-available")).to_have_text(fee.group(0))
        expect(influencer.get_by_test_id("earnings-pending")).to_have_text("€0.00")
        j.see(influencer, "p-6-earnings-released")

    with j.step(brand, "p-7-brand-results"):
        brand.goto(campaign_url + "?tab=shares")
        expect(brand.get_by_test_id("participation-fee").first).to_contain_text("Earned")
        j.see(brand, "p-7-brand-shares")
        brand.goto(campaign_url + "?tab=results")
        expect(brand.get_by_test_id("results-participation")).to_contain_text(fee.group(0))
        with brand.expect_download() as download_info:
            brand.get_by_text("Export CSV").click()
        rows = list(csv.reader(io.StringIO(Path(download_info.value.path()).read_text(encoding="utf-8-sig"))))
        header, *data = rows
        row = dict(zip(header, data[0], strict=True))
        assert row["participation_fee_state"] == "earned", row
        assert f"€{row['participation_fee']}" == fee.group(0), row
        assert row["earned"] == row["participation_fee"], row
