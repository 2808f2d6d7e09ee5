"""Issue "What people see" (German and formats): a German influencer on a phone, in a real browser.

On the demo data (``demo_seed``), Mia (English first, German second) opens her offer at 390 px in German,
chooses the brand's German text, sees "#Werbung" in the rules box and in her caption, and accepts. Lena's
results and earnings, and the brand's results, render their charts with coordinates that are numbers (no
decimal comma), money reads "6,00 €", and the sign-in, sign-up and password-reset pages say "Sie". No page
is wider than the phone. Screenshots: test-artifacts/journey/german/.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.helpers import ARTIFACTS, WAIT_MS, axe_check, reload_until_visible

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SHOTS = ARTIFACTS / "german"
PASSWORD = "linkilike-demo"  # the documented demo password (linkilike/demo.py)
MIA = "mia@demo.linkilike.test"
LENA = "lena@demo.linkilike.test"
OWNER = "owner@demo.linkilike.test"
CAMPAIGN = "Autumn Roast 2026"
DU_FORMS = re.compile(r"\b(du|dich|dir|dein|deine|deinen|deinem|deiner|deines|hast|bist|kannst|musst)\b", re.I)
MONEY_DE = re.compile(r"-?\d{1,3}(\.\d{3})*,\d{2}\u00a0(€|CHF|£|\$)")

#: Mia's match is only proposed by the demo: staff would approve it in the admin; here it is done directly.
APPROVE_MIA = f"""
from accounts.models import User
from campaigns.matching.services import match_approve
from campaigns.models import Match, MatchStatus
match = Match.objects.get(campaign__name="{CAMPAIGN}", influencer__user__email="{MIA}")
if match.status == MatchStatus.PROPOSED:
    match_approve(match=match, decided_by=User.objects.filter(is_staff=True).order_by("pk").first())
"""


@pytest.fixture(scope="module")
def seeded(stack: Any) -> Any:
    stack.manage("demo_seed", timeout=300)
    stack.manage("shell", "-c", APPROVE_MIA)
    return stack


class Phone:
    """One person's German phone browser: screenshots, the accessibility check and the overflow check."""

    def __init__(self, browser: Browser, stack: Any, checked: set[str], **options: Any) -> None:
        self.context = browser.new_context(
            base_url=stack.base_url, viewport={"width": 390, "height": 844}, locale="de-DE", is_mobile=True, **options
        )
        self.context.set_default_timeout(WAIT_MS)
        self.page = self.context.new_page()
        self.checked = checked

    def see(self, name: str) -> None:
        """What the person sees: a full-page screenshot, axe-core, and nothing wider than the phone."""
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
        wide = self.page.evaluate(
            """() => {
                const width = document.documentElement.clientWidth;
                const over = [...document.querySelectorAll("body *")]
                    .filter((el) => el.getBoundingClientRect().right > width + 1 && el.getClientRects().length)
                    .filter((el) => !el.closest(".table-wrap, pre, details:not([open])"))
                    .slice(0, 5)
                    .map((el) => el.tagName.toLowerCase() + "." + [...el.classList].join("."));
                return {scroll: document.documentElement.scrollWidth, width, over};
            }"""
        )
        assert wide["scroll"] <= wide["width"], f"{name}: wider than the phone ({wide})"
        axe_check(self.page, name, self.checked)

    def sign_in(self, email: str) -> None:
        self.page.goto("/accounts/login/")
        self.page.locator("#id_login").fill(email)
        self.page.locator("#id_password").fill(PASSWORD)
        self.page.locator("main form button[type=submit]").click()
        expect(self.page).not_to_have_url(re.compile(r"/accounts/login/"))

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def phones(journey_browser: Browser, seeded: Any) -> Iterator[Any]:
    opened: list[Phone] = []
    checked: set[str] = set()

    def open_phone(**options: Any) -> Phone:
        phone = Phone(journey_browser, seeded, checked, **options)
        opened.append(phone)
        return phone

    yield open_phone
    for phone in opened:
        phone.close()


def _says_sie(page: Page, name: str) -> None:
    text = page.locator("body").inner_text()
    assert page.locator("html").get_attribute("lang") == "de", name
    assert DU_FORMS.findall(text) == [], f"{name} addresses the person with du: {DU_FORMS.findall(text)}"


def _chart_numbers_are_numbers(page: Page, name: str) -> int:
    """Every coordinate of every chart on the page is a plain number; German's "160,0" is not one."""
    elements: list[dict[str, str]] = page.evaluate(
        """() => [...document.querySelectorAll("svg.chart *")].map((el) => Object.fromEntries(
            ["cx", "cy", "r", "x1", "y1", "x2", "y2", "points"]
                .filter((attribute) => el.hasAttribute(attribute))
                .map((attribute) => [attribute, el.getAttribute(attribute)])))"""
    )
    number = re.compile(r"-?\d+(\.\d+)?")
    count = 0
    for attributes in elements:
        for attribute, value in attributes.items():
            # "points" is "x,y x,y ...": exactly two numbers per pair; anything else is one number.
            parts = [pair.split(",") for pair in value.split()] if attribute == "points" else [[value]]
            for part in parts:
                assert len(part) == (2 if attribute == "points" else 1), f"{name}: {attribute}={value!r}"
                for item in part:
                    assert number.fullmatch(item), f"{name}: {attribute}={value!r}"
                    count += 1
    return count


def test_a_german_influencer_on_a_phone(phones: Any, seeded: Any) -> None:
    try:
        _journey(phones, seeded)
    except BaseException:
        print(seeded.logs())  # the web server's and the worker's side of a failure
        raise


def _journey(phones: Any, stack: Any) -> None:

    # Before signing in: sign-in, sign-up and password reset say "Sie".
    guest = phones()
    for name, path in (("1-sign-in", "/accounts/login/"), ("1-sign-up", "/accounts/signup/")):
        guest.page.goto(path)
        _says_sie(guest.page, name)
        guest.see(name)
    guest.page.goto("/accounts/password/reset/")
    _says_sie(guest.page, "1-password-reset")
    guest.see("1-password-reset")
    guest.page.locator("#id_email").fill("nobody@example.org")
    guest.page.locator("main form button[type=submit]").click()
    expect(guest.page).to_have_url(re.compile(r"/accounts/password/reset/done/"))
    _says_sie(guest.page, "1-password-reset-done")
    guest.see("1-password-reset-done")

    # Mia chooses the German text: the caption and the rules box follow it, and accepting works.
    mia = phones()
    page = mia.page
    mia.sign_in(MIA)
    page.goto("/i/offers/")
    expect(page.locator("h1")).to_have_text("Angebote")
    page.get_by_role("link", name=re.compile(CAMPAIGN)).first.click()
    expect(page.locator("#id_caption")).to_have_value(re.compile(r"^#ad "))  # English is her first language
    mia.see("2-offer-english-first")
    page.get_by_role("link", name="Mit diesem Text beginnen").click()
    caption = page.locator("#id_caption")
    expect(caption).to_have_value(re.compile(r"^#Werbung Langsamer Sonntag"))
    rules = page.locator(".caption-rules")
    expect(rules).to_contain_text("#Werbung")
    expect(rules).not_to_contain_text("#ad")
    expect(page.locator("#caption-preview")).not_to_contain_text("Kennzeichnung")  # no complaint about it
    expect(page.locator("#scheduled-help")).to_contain_text("Europe/Vienna")
    for box in page.locator("input[name=accounts]").all():
        box.check()
    mia.see("3-offer-german-text")
    page.get_by_role("button", name="Angebot annehmen").click()
    expect(page.locator(".messages")).to_contain_text("Angebot angenommen")
    expect(page.locator("#accept-errors")).to_have_count(0)
    expect(page.locator("main")).to_contain_text("#Werbung Langsamer Sonntag")
    mia.see("4-offer-accepted")
    _says_sie(page, "4-offer-accepted")

    # The worker publishes; the simulation spreads the posts; metrics arrive (the journey's time travel).
    deadline = time.monotonic() + 240
    while True:
        states = list(stack.journey("state")["publications"])
        if len(states) >= 2 and all(state == "published" for state in states):
            break
        assert "failed" not in states, f"a publication failed: {states}"
        assert time.monotonic() < deadline, f"not published in time: {states}"
        stack.journey("pipeline")
        time.sleep(2)
    print(f"german journey: pipeline {stack.journey('pipeline', '--days', '3')}")
    page.goto("/i/shares/")
    reload_until_visible(page, "Veröffentlicht", timeout=30)
    mia.see("5-shares")
    # The published post carries the German disclosure (the publishing check follows the chosen text too).
    post_url = page.get_by_role("link", name="Beitrag ansehen").first.get_attribute("href")
    assert post_url
    page.goto(post_url)
    expect(page.locator("main")).to_contain_text("#Werbung Langsamer Sonntag")
    mia.see("5-published-post")

    # Lena's results and earnings in German: charts with numbers, money as "6,00 €".
    lena = phones()
    lena.sign_in(LENA)
    lena.page.goto("/i/results/")
    reload_until_visible(lena.page, CAMPAIGN, timeout=30)
    expect(lena.page.locator("svg.chart").first).to_be_visible()
    assert _chart_numbers_are_numbers(lena.page, "6-results") > 0
    text = lena.page.locator("main").inner_text()
    assert MONEY_DE.search(text), text[:1500]
    assert "EUR" not in text, text[:1500]
    assert not re.search(r"€[ \u00a0]?\d", text), text[:1500]  # never "€6,00"
    lena.see("6-results")
    lena.page.goto("/i/earnings/")
    text = lena.page.locator("main").inner_text()
    assert MONEY_DE.search(text), text[:1500]
    assert not re.search(r"€[ \u00a0]?\d", text), text[:1500]  # never "€6,00"
    assert "Zeitfenster +" not in text, text[:3000]
    assert "nach der Veröffentlichung" in text, text[:3000]
    lena.see("7-earnings")

    # The brand owner's results tab in German: the same charts, the same money.
    owner = phones(timezone_id="Europe/Lisbon")
    owner.sign_in(OWNER)
    # Onboarding as an influencer takes the browser's zone (static/js/timezone.js), not the server's or UTC.
    owner.page.goto("/i/profile/")
    expect(owner.page.locator("#id_time_zone")).to_have_value("Europe/Lisbon")
    owner.see("8-onboarding-time-zone")
    owner.page.goto("/b/alpenglow-coffee/")
    owner.see("8-brand-overview")
    owner.page.goto("/b/alpenglow-coffee/campaigns/")
    owner.page.get_by_role("link", name=CAMPAIGN).first.click()
    owner.page.goto(owner.page.url.split("?", 1)[0] + "?tab=results")
    expect(owner.page.locator("svg.chart").first).to_be_visible()
    assert _chart_numbers_are_numbers(owner.page, "9-brand-results") > 0
    text = owner.page.locator("main").inner_text()
    assert MONEY_DE.search(text), text[:2000]
    assert "EUR" not in text, text[:2000]
    owner.see("9-brand-results")
