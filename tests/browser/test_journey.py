"""Issue 9: the whole journey in a real browser, against gunicorn, a Celery worker and the sandbox network.

Brand (EN) and brand (DE) sign up, create workspaces and submit campaigns with an image; influencers (EN and
DE) sign up, fill their profiles and connect sandbox accounts; staff sign in to the admin with MFA, fund
both brands, approve the campaigns and, in bulk, the proposed matches; the influencers accept with an
edited caption; the worker publishes, the sandbox simulation spreads the post, metrics and a click arrive;
the brand sees results and exports CSV; after the hold the influencer requests a payout, staff approve and
send it, and the SEPA pain.001 file downloads. Every page passes axe-core (no serious/critical issues).
Screenshots: test-artifacts/journey/.
"""

from __future__ import annotations

import csv
import io
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageDraw
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.browser.helpers import (
    ARTIFACTS,
    WAIT_MS,
    axe_check,
    link_in,
    reload_until_visible,
    shot,
    totp_code,
    wait_for_email,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PASSWORD = "journey-Passw0rd-2026"
STAFF_EMAIL = "staff@journey.linkilike.test"
STAFF_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXQ"  # test-only
IBAN = "DE89370400440532013000"
CHROME_UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"


class Journey:
    """Shared state of one run: the stack, the browser, one context per person, pages already axe-checked."""

    def __init__(self, stack: Any, browser: Browser, tmp: Path) -> None:
        self.stack = stack
        self.browser = browser
        self.tmp = tmp
        self.checked: set[str] = set()
        self.contexts: list[BrowserContext] = []

    def person(self, **options: Any) -> Page:
        context = self.browser.new_context(
            base_url=self.stack.base_url, viewport={"width": 1280, "height": 900}, locale="en-GB", **options
        )
        context.set_default_timeout(WAIT_MS)
        self.contexts.append(context)
        return context.new_page()

    def see(self, page: Page, name: str, *, phone: bool = True) -> None:
        """What the person sees: screenshot(s) and the accessibility check."""
        shot(page, name, phone=phone)
        axe_check(page, name, self.checked)

    @contextmanager
    def step(self, page: Page, name: str) -> Iterator[None]:
        try:
            yield
        except BaseException:
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            try:
                page.screenshot(path=str(ARTIFACTS / f"FAILED-{name}.png"), full_page=True)
                main = page.locator("main").inner_text(timeout=2000) if page.locator("main").count() else ""
                print(f"\n--- step {name} failed on {page.url}\n{main[:3000]}")
            except Exception as exc:  # noqa: BLE001 - diagnostics only
                print(f"(no page diagnostics: {exc})")
            print(self.stack.logs())
            raise


def png(path: Path) -> Path:
    image = Image.new("RGB", (1080, 1080), (246, 239, 228))
    draw = ImageDraw.Draw(image)
    draw.ellipse((290, 290, 790, 790), fill=(111, 78, 55))
    draw.rectangle((60, 900, 1020, 980), fill=(34, 87, 64))
    image.save(path, "PNG")
    return path


def set_language(page: Page, code: str) -> None:
    page.locator("#language-select").select_option(code)
    page.locator("form.language-form button[type=submit]").click()


def sign_up(j: Journey, page: Page, email: str, name: str) -> None:
    page.goto("/accounts/signup/")
    j.see(page, f"{name}-signup")
    page.locator("#id_email").fill(email)
    page.locator("#id_password1").fill(PASSWORD)
    page.locator("#id_password2").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/accounts/confirm-email/"))
    j.see(page, f"{name}-verify-sent", phone=False)
    message = wait_for_email(j.stack, email)[-1]
    page.goto(link_in(message, "/accounts/confirm-email/"))
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/home/"))


def brand_signs_up_and_submits(j: Journey, page: Page, *, email: str, brand: str, lang: str) -> str:
    de = lang == "de"
    sign_up(j, page, email, f"1-{lang}-brand")
    expect(page.locator("h1")).to_have_text("Willkommen bei Linkilike!" if de else "Welcome to Linkilike!")
    j.see(page, f"1-{lang}-brand-welcome")
    page.get_by_role("button", name="Marken-Workspace erstellen" if de else "Create a brand workspace").click()
    page.locator("#id_name").fill(brand)
    page.locator("#id_country").select_option("AT")
    page.locator("#id_category").fill("Kaffee" if de else "Coffee")
    j.see(page, f"1-{lang}-brand-new-workspace")
    page.locator("main form button[type=submit]").click()
    expect(page.locator("h1")).to_contain_text(brand)
    slug = page.url.rstrip("/").rsplit("/", 1)[-1]
    j.see(page, f"1-{lang}-brand-dashboard")

    page.goto(f"/b/{slug}/campaigns/new/")
    page.locator("#id_name").fill(f"{brand} Winter Roast")
    page.locator("#id_brief").fill(
        "Unser Winter-Röstkaffee: schokoladig, fair gehandelt, in Linz geröstet."
        if de
        else "Our winter roast: chocolatey, fairly traded, roasted in Linz. Share a cup with your followers."
    )
    page.locator("#id_budget_minor").fill("500")
    page.locator("#id_cpm_minor").fill("20")
    page.locator("#id_cpe_minor").fill("2")
    page.locator("#id_cpc_minor").fill("3")
    today = time.strftime("%Y-%m-%d")
    later = time.strftime("%Y-%m-%d", time.localtime(time.time() + 60 * 86400))
    page.locator("#id_starts_on").fill(today)
    page.locator("#id_ends_on").fill(later)
    page.locator("input[name=networks][value=mastodon]").check()
    page.locator("input[name=languages][value=en]").check()
    page.locator("input[name=languages][value=de]").check()
    page.get_by_label("Kaffee" if de else "Coffee", exact=True).check()
    page.locator("#id_countries").select_option(["AT", "DE"])
    j.see(page, f"1-{lang}-campaign-form")
    page.locator("main form button[type=submit]").last.click()

    # The content piece with an image.
    expect(page).to_have_url(re.compile(r"/campaigns/\d+/$"))
    expect(page.locator(".messages")).to_contain_text(
        "Fügen Sie jetzt die Inhalte hinzu" if de else "Now add its content"
    )
    campaign_url = page.url
    page.goto(campaign_url + "content/new/")
    page.locator("#id_title").fill("Winter Roast" if not de else "Winterröstung")
    page.locator("#id_target_url").fill("https://bergblick.example/winter-roast")
    page.locator("#id_hashtags").fill("#coffee #Linz")
    page.locator("#id_media").set_input_files(str(png(j.tmp / f"roast-{lang}.png")))
    page.locator("#id_variant_1_text").fill(
        "Mein Morgen beginnt mit der Winterröstung von Alpenröst – schokoladig und fair."
        if de
        else "My mornings start with the Bergblick winter roast: chocolatey and fair."
    )
    page.locator("#id_variant_1_language").select_option(lang)
    j.see(page, f"1-{lang}-content-form")
    page.locator("main form button[type=submit]").last.click()
    expect(page).to_have_url(re.compile(r"/campaigns/\d+/"))
    page.goto(campaign_url)
    expect(page.get_by_text("Add at least one content piece")).to_have_count(0)
    j.see(page, f"1-{lang}-campaign-draft")
    page.get_by_role("button", name="Zur Prüfung einreichen" if de else "Submit for review").click()
    reload_until_visible(page, "Zur Prüfung eingereicht" if de else "Submitted for review", timeout=10)
    j.see(page, f"1-{lang}-campaign-submitted")
    return campaign_url


def influencer_signs_up_and_connects(j: Journey, page: Page, *, email: str, name: str, lang: str) -> None:
    de = lang == "de"
    sign_up(j, page, email, f"3-{lang}-influencer")
    page.get_by_role("button", name="Influencer werden" if de else "Become an influencer").click()
    expect(page).to_have_url(re.compile(r"/i/profile/"))
    page.locator("#id_display_name").fill(name)
    page.locator("#id_bio").fill(
        "Kaffee, Berge und gute Bücher." if de else "Coffee, mountains and good books. Linz, Austria."
    )
    page.locator("#id_country").select_option("AT")
    page.locator("input[name=languages][value=de]").check()
    page.locator("input[name=languages][value=en]").check()
    page.get_by_label("Kaffee" if de else "Coffee", exact=True).check()
    page.locator("#id_audience_description").fill("Kaffeeliebhaber in Österreich" if de else "Coffee lovers in Austria")
    page.locator("#id_tax_status_0").check()
    page.locator("#id_accept_terms").check()
    j.see(page, f"3-{lang}-influencer-profile")
    page.locator("main form button[type=submit]").last.click()
    expect(page).not_to_have_url(re.compile(r"/i/profile/$"))
    j.see(page, f"3-{lang}-influencer-home")

    page.goto("/i/accounts/")
    j.see(page, f"3-{lang}-influencer-accounts")
    page.locator("form[action$='/i/accounts/connect/sandbox/'] button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/sandbox/oauth/authorize"))
    j.see(page, f"3-{lang}-sandbox-consent")
    page.locator("main form button[type=submit]").first.click()
    expect(page).to_have_url(re.compile(r"/i/accounts/"))
    expect(page.locator(".messages")).to_contain_text(re.compile(r"@\w+@127\.0\.0\.1"))
    expect(page.locator("main")).to_contain_text("In Ordnung" if de else "Healthy")
    j.see(page, f"3-{lang}-influencer-connected")


def staff_signs_in(j: Journey, page: Page) -> None:
    page.goto("/admin/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    page.locator("#id_login").fill(STAFF_EMAIL)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/accounts/2fa/authenticate/"))
    j.see(page, "2-staff-mfa", phone=False)
    page.locator("input[name=code]").fill(totp_code(STAFF_TOTP_SECRET))
    page.get_by_role("button", name="Sign In").click()
    expect(page).to_have_url(re.compile(r"/admin/$"))
    j.see(page, "2-admin-index", phone=False)


def staff_funds(j: Journey, page: Page, brand: str, reference: str) -> None:
    page.goto("/admin/payouts/funding/add/")
    page.locator("#id_brand").select_option(label=brand)
    page.locator("#id_reference").fill(reference)
    page.locator("#id_currency").select_option("EUR")
    page.locator("#id_amount").fill("1000")
    page.locator("input[name=_save]").click()
    expect(page.locator(".messagelist")).to_contain_text(f"Recorded a bank transfer of €1,000.00 from {brand}")


def admin_action(page: Page, path: str, action: str, expect_text: str) -> None:
    page.goto(path)
    page.locator("#action-toggle").check()
    page.locator("select[name=action]").select_option(action)
    page.locator("button[name=index]").click()
    expect(page.locator(".messagelist")).to_contain_text(expect_text)


def test_the_whole_journey(stack: Any, journey_browser: Browser, tmp_path: Path) -> None:
    started = time.monotonic()
    j = Journey(stack, journey_browser, tmp_path)
    stack.journey("staff", "--email", STAFF_EMAIL, "--password", PASSWORD, "--secret", STAFF_TOTP_SECRET)
    stack.journey("community")  # the sandbox network's simulated people (make run seeds them too)

    # (1) Brands sign up, create workspaces and submit campaigns with an image: English, then German.
    brand = j.person()
    with j.step(brand, "1-en"):
        campaign_url = brand_signs_up_and_submits(
            j, brand, email="maria@bergblick.example", brand="Bergblick Coffee", lang="en"
        )
    brand_de = j.person()
    with j.step(brand_de, "1-de"):
        brand_de.goto("/accounts/signup/")
        set_language(brand_de, "de")
        expect(brand_de.locator("h1")).to_have_text("Registrieren")
        brand_signs_up_and_submits(j, brand_de, email="jonas@alpenroest.example", brand="Alpenröst", lang="de")
    # Their campaigns run on the sandbox network, which only demo brands reach; no page makes a demo brand.
    for name in ("Bergblick Coffee", "Alpenröst"):
        stack.journey("demo_brand", "--brand", name)

    # (3a) Influencers sign up and connect sandbox accounts before matching runs (on approval).
    influencer = j.person()
    with j.step(influencer, "3-en"):
        influencer_signs_up_and_connects(j, influencer, email="lena@example.org", name="Lena Loves Coffee", lang="en")
    influencer_de = j.person()
    with j.step(influencer_de, "3-de"):
        influencer_de.goto("/accounts/signup/")
        set_language(influencer_de, "de")
        influencer_signs_up_and_connects(j, influencer_de, email="felix@example.org", name="Felix Filter", lang="de")

    # (2) Staff: admin with MFA, fund both brands, approve both campaigns, then the matches in bulk.
    staff = j.person()
    with j.step(staff, "2-staff"):
        staff_signs_in(j, staff)
        staff_funds(j, staff, "Bergblick Coffee", "LK-BERGBLICK-COFFEE")
        staff_funds(j, staff, "Alpenröst", "LK-ALPENROEST")
        j.see(staff, "2-admin-funded", phone=False)
        admin_action(staff, "/admin/campaigns/campaign/?status__exact=in_review", "approve_selected", "pprove")
        j.see(staff, "2-admin-campaigns-approved", phone=False)
        staff.goto("/admin/campaigns/match/")
        reload_until_visible(staff, "Lena Loves Coffee", timeout=60)
        reload_until_visible(staff, "Felix Filter", timeout=30)
        j.see(staff, "2-admin-matches", phone=False)
        admin_action(staff, "/admin/campaigns/match/?status__exact=proposed", "approve_selected", "pprove")
        j.see(staff, "2-admin-matches-approved", phone=False)

    # (3b) The influencer finds the offer (in-app and by email) and accepts it with an edited caption.
    with j.step(influencer, "3-en-accept"):
        wait_for_email(stack, "lena@example.org", count=2, timeout=60)  # verification + new offer
        influencer.goto("/i/offers/")
        reload_until_visible(influencer, "Bergblick Coffee Winter Roast", timeout=30)
        j.see(influencer, "3-en-offers")
        influencer.get_by_role("link", name=re.compile("Bergblick Coffee Winter Roast")).first.click()
        expect(influencer.locator("h1")).to_contain_text("Bergblick Coffee Winter Roast")
        caption = influencer.locator("#id_caption")
        brand_text = "My mornings start with the Bergblick winter roast: chocolatey and fair."
        expect(caption).to_have_value(re.compile(re.escape(brand_text)))
        edited = caption.input_value().replace(
            brand_text, "Tried the Bergblick winter roast this morning: chocolatey, fair and roasted in Linz!"
        )
        caption.fill(edited)
        for box in influencer.locator("input[name=accounts]").all():
            box.check()
        j.see(influencer, "3-en-offer-accept")
        influencer.get_by_role("button", name="Accept offer").click()
        expect(influencer.locator(".messages")).to_be_visible()
        expect(influencer.locator("main")).to_contain_text("roasted in Linz!")
        j.see(influencer, "3-en-offer-accepted")

    # (3b, German) Felix accepts the Alpenröst offer in German, with his own words.
    with j.step(influencer_de, "3-de-accept"):
        influencer_de.goto("/i/offers/")
        reload_until_visible(influencer_de, "Alpenröst Winter Roast", timeout=30)
        expect(influencer_de.locator("h1")).to_have_text("Angebote")
        j.see(influencer_de, "3-de-offers")
        influencer_de.get_by_role("link", name=re.compile("Alpenröst Winter Roast")).first.click()
        brand_text = "Mein Morgen beginnt mit der Winterröstung von Alpenröst – schokoladig und fair."
        caption = influencer_de.locator("#id_caption")
        expect(caption).to_have_value(re.compile(re.escape(brand_text)))
        caption.fill(caption.input_value().replace(brand_text, "Heute früh probiert: schokoladig, fair, aus Linz!"))
        for box in influencer_de.locator("input[name=accounts]").all():
            box.check()
        j.see(influencer_de, "3-de-offer-accept")
        influencer_de.get_by_role("button", name="Angebot annehmen").click()
        expect(influencer_de.locator(".messages")).to_be_visible()
        expect(influencer_de.locator("main")).to_contain_text("aus Linz!")
        j.see(influencer_de, "3-de-offer-accepted")

    # (4) The worker publishes; the sandbox spreads the post; metrics and a click arrive.
    with j.step(influencer, "4-pipeline"):
        influencer.goto("/i/shares/")
        deadline = time.monotonic() + 90
        while True:
            states = list(stack.journey("state")["publications"])
            if states and all(state == "published" for state in states):
                break
            assert "failed" not in states, f"a publication failed: {states}"
            assert time.monotonic() < deadline, f"not published in time: {states}"
            stack.journey("pipeline")
        reload_until_visible(influencer, re.compile("Published|Live", re.I), timeout=30)
        j.see(influencer, "4-influencer-shares")
        post_url = influencer.get_by_role("link", name="View the post").first.get_attribute("href")
        assert post_url
        # A follower opens the post on the sandbox network and clicks its tracking link; the brand's own
        # site is outside this machine, so the browser is handed a stand-in page for it.
        follower = j.person(user_agent=CHROME_UA)
        follower.context.route(
            "https://bergblick.example/**",
            lambda route: route.fulfill(
                status=200,
                content_type="text/html",
                body="<!doctype html><title>Bergblick</title><h1>Winter Roast</h1>",
            ),
        )
        follower.goto(post_url)
        expect(follower.locator("body")).to_contain_text("roasted in Linz!")
        j.see(follower, "4-sandbox-post")
        follower.locator("a[href*='/r/']").first.click()
        expect(follower).to_have_url(re.compile(r"^https://bergblick\.example/winter-roast\?.*utm_source="))
        report = stack.journey("pipeline", "--days", "8")
        print(f"journey: pipeline {report}")

    # (5) The brand sees the results and exports them as CSV.
    with j.step(brand, "5-results"):
        brand.goto(campaign_url + "?tab=results")
        reload_until_visible(brand, "Lena Loves Coffee", timeout=30)
        expect(brand.locator("main")).to_contain_text("Billable clicks")
        j.see(brand, "5-brand-results")
        with brand.expect_download() as download_info:
            brand.get_by_text("Export CSV").click()
        download = download_info.value
        rows = list(csv.reader(io.StringIO(Path(download.path()).read_text(encoding="utf-8-sig"))))
        print(f"journey: results CSV {rows[:3]}")
        header, *data = rows
        assert len(data) == 1, rows
        row = dict(zip(header, data[0], strict=True))
        assert row["influencer"] == "Lena Loves Coffee", row
        assert row["state"] == "Published", row
        assert int(row["engagements (network-reported)"]) > 0, row
        assert row["unique_clicks (measured)"] == "1", row
        assert float(row["earned"]) > 0, row

    # (6) After the 14-day hold the influencer asks for a payout; staff approve and send it; SEPA file.
    with j.step(influencer, "6-payout"):
        influencer.goto("/i/earnings/")
        j.see(influencer, "6-earnings-pending")
        stack.journey("release", "--days", "15")
        influencer.reload()
        available = influencer.get_by_test_id("earnings-available").inner_text()
        amount = re.sub(r"[^\d.]", "", available)
        assert float(amount) > 0, available
        influencer.locator("input[name=method][value=sepa]").check()  # the method first, then its fields
        influencer.locator("#id_holder_name").fill("Lena Berger")
        influencer.locator("#id_iban").fill(IBAN)
        influencer.get_by_role("button", name="Save account").click()
        expect(influencer.locator(".messages")).to_be_visible()
        influencer.locator("#id_amount").fill(amount)
        influencer.locator("#id_target").select_option(label="DE89 •••• 3000")
        influencer.get_by_role("button", name="Request payout").click()
        expect(influencer.get_by_test_id("earnings-in-payout")).to_have_text(available)
        j.see(influencer, "6-payout-requested")
    with j.step(staff, "6-staff"):
        admin_action(staff, "/admin/payouts/payoutrequest/", "approve_selected", "pprove")
        admin_action(staff, "/admin/payouts/payoutrequest/", "send_approved", "atch")
        j.see(staff, "6-admin-batch", phone=False)
        staff.locator(".messagelist a").first.click()
        with staff.expect_download() as download_info:
            staff.get_by_role("link", name="Download pain.001 XML").click()
        xml = Path(download_info.value.path()).read_text(encoding="utf-8")
        assert "pain.001" in xml, xml[:500]
        assert f">{amount}<" in xml, (amount, xml[:2000])
        assert IBAN in xml

    elapsed = time.monotonic() - started
    print(f"journey: done in {elapsed:.0f}s")
