"""Issue "What people see" in a real browser: guidance for a new brand, funds, confirmations, the staff index.

A new brand signs up, creates its workspace with a logo and sees the logo and its first-steps checklist; it
submits a campaign without funds and is told the shortfall with a link to Funds; staff see what waits for
them on the admin index, try to approve (the brand is told review waits for funds), fund and approve; the
brand's "End now" and "Cancel campaign" ask first (a <dialog> with JavaScript, a page without), saying
what happens to the budget and to influencers' earnings. Every brand page is checked at 1280 px and at
390 px, where nothing may scroll sideways, and with axe-core. The API docs load nothing from other hosts.
Screenshots: test-artifacts/brand-guidance/.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageDraw
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.browser.helpers import WAIT_MS, axe_check, link_in, totp_code, wait_for_email

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "brand-guidance"
PASSWORD = "guidance-Passw0rd-2026"
STAFF_EMAIL = "staff@guidance.linkilike.test"
STAFF_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXR"  # test-only
BRAND_EMAIL = "nora@nordlicht.example"
BRAND = "Nordlicht Tea"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


class Guidance:
    def __init__(self, stack: Any, browser: Browser, tmp: Path) -> None:
        self.stack = stack
        self.browser = browser
        self.tmp = tmp
        self.checked: set[str] = set()
        self.contexts: list[BrowserContext] = []

    def person(self, **options: Any) -> Page:
        context = self.browser.new_context(base_url=self.stack.base_url, viewport=DESKTOP, locale="en-GB", **options)
        context.set_default_timeout(WAIT_MS)
        self.contexts.append(context)
        return context.new_page()

    def see(self, page: Page, name: str, *, phone: bool = True, axe: bool = True) -> None:
        """Screenshots at 1280 px and (unless told otherwise) 390 px; nothing may scroll sideways on the
        phone; axe-core finds no serious or critical problem (it needs JavaScript in the page)."""
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        size = page.viewport_size or DESKTOP
        page.screenshot(path=str(ARTIFACTS / f"{name}-desktop.png"), full_page=True)
        if phone:
            page.set_viewport_size(PHONE)
            page.screenshot(path=str(ARTIFACTS / f"{name}-phone.png"), full_page=True)
            no_sideways_scroll(page, name)
            page.set_viewport_size(size)
        if axe:
            axe_check(page, name, self.checked)


def no_sideways_scroll(page: Page, name: str) -> None:
    overflow = page.evaluate(
        """() => {
            const width = document.documentElement.clientWidth;
            const wide = [...document.querySelectorAll("body *")]
                .filter((el) => el.getBoundingClientRect().right > width + 1 && el.getClientRects().length)
                .slice(0, 5)
                .map((el) => el.tagName.toLowerCase() + (el.className ? "." + String(el.className) : ""));
            return {scroll: document.documentElement.scrollWidth, width, wide};
        }"""
    )
    assert overflow["scroll"] <= overflow["width"], f"{name} scrolls sideways at 390 px: {overflow}"


@pytest.fixture
def guidance(stack: Any, journey_browser: Browser, tmp_path: Path) -> Iterator[Guidance]:
    g = Guidance(stack, journey_browser, tmp_path)
    try:
        yield g
    finally:
        for context in g.contexts:
            context.close()


def png(path: Path, *, size: int = 1080, logo: bool = False) -> Path:
    image = Image.new("RGB", (size, size), (236, 244, 240) if logo else (246, 239, 228))
    draw = ImageDraw.Draw(image)
    if logo:
        draw.ellipse((size // 6, size // 6, size * 5 // 6, size * 5 // 6), fill=(22, 101, 52))
        draw.rectangle((size // 3, size * 2 // 5, size * 2 // 3, size * 3 // 5), fill=(236, 244, 240))
    else:
        draw.ellipse((290, 290, 790, 790), fill=(111, 78, 55))
    image.save(path, "PNG")
    return path


def sign_up(page: Page, stack: Any, email: str) -> None:
    page.goto("/accounts/signup/")
    page.locator("#id_email").fill(email)
    page.locator("#id_password1").fill(PASSWORD)
    page.locator("#id_password2").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/accounts/confirm-email/"))
    page.goto(link_in(wait_for_email(stack, email)[-1], "/accounts/confirm-email/"))
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/home/"))


def staff_signs_in(page: Page) -> None:
    page.goto("/admin/")
    page.locator("#id_login").fill(STAFF_EMAIL)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/accounts/2fa/authenticate/"))
    page.locator("input[name=code]").fill(totp_code(STAFF_TOTP_SECRET))
    page.get_by_role("button", name="Sign In").click()
    expect(page).to_have_url(re.compile(r"/admin/$"))


def approve_in_admin(page: Page) -> None:
    page.goto("/admin/campaigns/campaign/?status__exact=in_review")
    page.locator("#action-toggle").check()
    page.locator("select[name=action]").select_option("approve_selected")
    page.locator("button[name=index]").click()


def other_hosts(page: Page, origin: str, path: str) -> list[str]:
    """What the page asks of other hosts, and what the CSP had to block, while it loads and settles."""
    seen: list[str] = []

    def request(url: str) -> None:
        if not url.startswith((origin, "data:", "blob:")):
            seen.append(url)

    page.on("request", lambda sent: request(sent.url))
    page.on("console", lambda message: seen.append(message.text) if "Content Security Policy" in message.text else None)
    page.goto(path)
    page.wait_for_load_state("networkidle")
    return seen


def test_a_new_brand_is_guided_and_asked_before_destructive_actions(guidance: Guidance) -> None:
    stack = guidance.stack
    stack.journey("staff", "--email", STAFF_EMAIL, "--password", PASSWORD, "--secret", STAFF_TOTP_SECRET)

    # (1) A new brand: workspace with a logo, the overview shows the logo and the four first steps.
    brand = guidance.person()
    sign_up(brand, stack, BRAND_EMAIL)
    brand.goto("/b/new/")
    brand.locator("#id_name").fill(BRAND)
    brand.locator("#id_country").select_option("DE")
    brand.locator("#id_category").fill("Tea")
    brand.locator("#id_logo").set_input_files(str(png(guidance.tmp / "logo.png", size=256, logo=True)))
    brand.locator("main form button[type=submit]").click()
    expect(brand.locator("h1")).to_contain_text(BRAND)
    slug = brand.url.rstrip("/").rsplit("/", 1)[-1]
    logo = brand.locator("img.brand-logo")
    expect(logo).to_be_visible()
    # Visible is not loaded: wait until the browser has finished with the image (loaded or broken), then look.
    brand.wait_for_function("(img) => img.complete", arg=logo.element_handle())
    assert brand.evaluate("(img) => img.naturalWidth", logo.element_handle()) > 0, "the logo did not load"
    steps = brand.locator(".steps-list li")
    expect(steps).to_have_count(4)
    for step, done in (("profile", "false"), ("fund", "false"), ("campaign", "false"), ("invite", "false")):
        expect(brand.locator(f'li[data-step="{step}"]')).to_have_attribute("data-done", done)
    expect(brand.locator('li[data-step="fund"] a')).to_have_attribute("href", f"/b/{slug}/funds/")
    expect(brand.get_by_text("Nothing waits for you right now.")).to_be_visible()
    guidance.see(brand, "1-brand-overview-new")

    # (2) A campaign submitted without funds: the page says what is missing and links to Funds.
    brand.goto(f"/b/{slug}/campaigns/new/")
    brand.locator("#id_name").fill("Nordlicht First Flush")
    brand.locator("#id_budget_minor").fill("400")
    brand.locator("#id_cpm_minor").fill("99999999")  # a slip of the finger: refused in words
    brand.locator("#id_cpe_minor").fill("0.10")
    today = time.strftime("%Y-%m-%d")
    later = time.strftime("%Y-%m-%d", time.localtime(time.time() + 30 * 86400))
    brand.locator("#id_starts_on").fill(today)
    brand.locator("#id_ends_on").fill(later)
    expect(brand.locator("input[name=networks][value=x]")).to_have_count(0)  # no app credentials here
    brand.locator("input[name=networks][value=mastodon]").check()
    brand.locator("input[name=languages][value=en]").check()
    brand.locator("main form button[type=submit]").last.click()
    expect(brand.locator("#id_cpm_minor_errors")).to_contain_text("Enter at most 100.00 per 1,000 reach.")
    guidance.see(brand, "2-campaign-form-bounds")
    brand.locator("#id_cpm_minor").fill("6")
    brand.locator("main form button[type=submit]").last.click()
    expect(brand).to_have_url(re.compile(r"/campaigns/\d+/$"))
    campaign_url = brand.url
    brand.goto(campaign_url + "content/new/")
    brand.locator("#id_title").fill("First flush")
    brand.locator("#id_target_url").fill(f"{stack.base_url}/")
    brand.locator("#id_media").set_input_files(str(png(guidance.tmp / "tea.png")))
    brand.locator("#id_variant_1_text").fill("The first flush from Nordlicht: bright, floral and fresh.")
    brand.locator("#id_variant_1_language").select_option("en")
    brand.locator("main form button[type=submit]").last.click()
    brand.goto(campaign_url)
    brand.get_by_role("button", name="Submit for review").click()
    gap = brand.locator(".funding-gap")
    expect(gap).to_contain_text("€400.00 is missing")
    expect(gap.get_by_role("link", name="Add funds")).to_have_attribute("href", f"/b/{slug}/funds/")
    expect(brand.locator(".messages .message-warning")).to_contain_text("€400.00 is missing")
    guidance.see(brand, "3-campaign-submitted-without-funds")

    # (3) Staff: the index says what waits; approving without funds tells the brand.
    stack.manage(
        "shell",
        "-c",
        "from tests.factories.campaigns import MatchFactory;"
        "from tests.factories.influencers import InfluencerProfileFactory;"
        "lena = InfluencerProfileFactory(display_name='Lena Loves Tea');"
        "[MatchFactory(influencer=lena, status='proposed', campaign__name=f'Nordlicht Autumn Blend {n}',"
        " campaign__brand__name='Nordlicht Tea Wholesale') for n in (1, 2)]",
    )
    staff = guidance.person()
    staff_signs_in(staff)
    queues = staff.locator(".staff-queues")
    expect(queues.get_by_role("link", name=re.compile(r"^1 campaign to review$"))).to_have_attribute(
        "href", "/admin/campaigns/campaign/?status__exact=in_review"
    )
    expect(queues.get_by_role("link", name=re.compile(r"^2 matches to moderate$"))).to_be_visible()
    expect(queues.get_by_role("link", name=re.compile("Email previews"))).to_have_attribute("href", "/admin/emails/")
    captions = staff.locator("#content-main caption a").all_inner_texts()
    assert len(captions) == len(set(captions)), captions  # one "Accounts" section
    guidance.see(staff, "4-admin-index")
    staff.goto("/admin/campaigns/match/?status__exact=proposed")
    status_header = staff.locator("th.column-status")
    box = status_header.bounding_box()
    assert box is not None
    assert box["x"] + box["width"] <= DESKTOP["width"], box  # the status column is on screen at 1280 px
    last, table_area = staff.locator("th.column-why").bounding_box(), staff.locator(".results").bounding_box()
    assert last is not None
    assert table_area is not None
    assert last["x"] + last["width"] <= table_area["x"] + table_area["width"] + 1, (last, table_area)
    expect(staff.locator("#result_list")).to_contain_text("Nordlicht Autumn Blend 1")
    expect(staff.locator("#result_list")).to_contain_text("Nordlicht Autumn Blend 2")
    guidance.see(staff, "5-admin-matches", phone=False)
    approve_in_admin(staff)
    expect(staff.locator(".messagelist")).to_contain_text("The brand was told by email and on its overview.")
    wait_for_email(stack, BRAND_EMAIL, count=2)  # verification, then "waits for funds"
    brand.reload()
    expect(brand.locator(".funding-gap")).to_contain_text("Review is on hold")
    brand.goto(f"/b/{slug}/")
    expect(brand.locator(".waiting-list")).to_contain_text("waits for funds: €400.00 is missing")
    guidance.see(brand, "6-brand-overview-waiting-for-funds")

    # Staff record the transfer (currency from a list, the message in words) and approve.
    staff.goto("/admin/payouts/funding/add/")
    staff.locator("#id_brand").select_option(label=BRAND)
    staff.locator("#id_reference").fill("LK-NORDLICHT")
    staff.locator("#id_currency").select_option("EUR")
    staff.locator("#id_amount").fill("1000")
    staff.locator("input[name=_save]").click()
    expect(staff.locator(".messagelist")).to_contain_text(
        f"Recorded a bank transfer of €1,000.00 from {BRAND} (reference LK-NORDLICHT)"
    )
    approve_in_admin(staff)
    expect(staff.locator(".messagelist")).to_contain_text("approved")

    # (4) "End now" and "Cancel campaign" ask first: a dialog with JavaScript...
    brand.goto(campaign_url)
    end = brand.get_by_role("button", name="End now")
    end.click()
    dialog = brand.locator("dialog#confirm-complete")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("End “Nordlicht First Flush” now?")
    expect(dialog).to_contain_text("The unspent budget, €400.00, goes back to your balance.")
    expect(dialog).to_contain_text("Earnings still on hold are paid to them when their hold ends.")
    guidance.see(brand, "7-end-now-dialog")
    dialog.get_by_role("button", name="Keep it running").click()
    expect(dialog).to_be_hidden()
    expect(end).to_be_focused()
    brand.get_by_role("button", name="Cancel campaign").click()
    cancel = brand.locator("dialog#confirm-cancel")
    expect(cancel).to_contain_text("Cancel “Nordlicht First Flush”?")
    guidance.see(brand, "8-cancel-dialog")
    brand.keyboard.press("Escape")
    expect(cancel).to_be_hidden()
    expect(brand.locator("main")).to_contain_text("Live")  # nothing happened

    # ...and a page of its own without JavaScript, where confirming ends the campaign.
    brand.goto(campaign_url + "complete/")
    guidance.see(brand, "9-end-now-page")
    no_js = guidance.person(java_script_enabled=False)
    no_js.context.add_cookies(brand.context.cookies())
    no_js.goto(campaign_url)
    no_js.get_by_role("button", name="End now").click()
    expect(no_js).to_have_url(re.compile(r"/complete/$"))
    expect(no_js.locator("main")).to_contain_text("The unspent budget, €400.00, goes back to your balance.")
    guidance.see(no_js, "9-end-now-page-without-javascript", axe=False)
    no_js.get_by_role("button", name="End the campaign now").click()
    expect(no_js.locator(".messages")).to_contain_text("The campaign has ended")
    guidance.see(no_js, "10-campaign-ended", axe=False)

    # The checklist follows the real data: funded and a first campaign made; profile and colleague open.
    brand.goto(f"/b/{slug}/")
    expect(brand.locator('li[data-step="fund"]')).to_have_attribute("data-done", "true")
    expect(brand.locator('li[data-step="campaign"]')).to_have_attribute("data-done", "true")
    expect(brand.locator('li[data-step="profile"]')).to_have_attribute("data-done", "false")  # no website yet
    guidance.see(brand, "11-brand-overview-after")

    # (5) The API docs load nothing from other hosts (fonts, Redocly's logo, a validator badge).
    for path in ("/api/docs/", "/api/redoc/"):
        reader = guidance.person()
        assert other_hosts(reader, stack.base_url, path) == [], path
        reader.screenshot(path=str(ARTIFACTS / f"12{path.rstrip('/').replace('/', '-')}-desktop.png"))
