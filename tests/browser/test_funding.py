"""A new brand funds itself in the demo, and an influencer adds a payout account, in a real browser.

Runs against its own stack (gunicorn and a Celery worker, ``DJANGO_DEBUG=1``), where card top-ups use the
test checkout (``payouts.providers.local_checkout``): the brand signs up, creates a workspace, tops up
1000 by card, sees a declined card's reason, pays with the test card and sees the balance arrive once the
worker has delivered the signed webhook; a cancelled top-up returns to Funds with a message. No staff.
The influencer chooses a payout method with and without JavaScript. Screenshots: test-artifacts/journey/.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.test_journey import Journey, sign_up

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _brand_workspace(j: Journey, page: Page, *, email: str, brand: str) -> str:
    sign_up(j, page, email, "funding-brand")
    page.get_by_role("button", name="Create a brand workspace").click()
    page.locator("#id_name").fill(brand)
    page.locator("#id_country").select_option("AT")
    page.locator("#id_category").fill("Coffee")
    page.locator("main form button[type=submit]").click()
    expect(page.locator("h1")).to_contain_text(brand)
    return page.url.rstrip("/").rsplit("/", 1)[-1]


def _start_top_up(page: Page, slug: str, amount: str) -> None:
    page.goto(f"/b/{slug}/funds/")
    page.locator("#id_amount").fill(amount)
    page.get_by_role("button", name="Continue to card payment").click()
    expect(page).to_have_url(re.compile(r"/payouts/test-checkout/[^/]+/$"))


def test_a_new_brand_funds_itself_by_card_in_test_mode(stack: Any, journey_browser: Browser, tmp_path: Path) -> None:
    j = Journey(stack, journey_browser, tmp_path)
    page = j.person()
    with j.step(page, "funding-sign-up"):
        slug = _brand_workspace(j, page, email="owner@funding.linkilike.test", brand="Hochalm Tea")
        page.goto(f"/b/{slug}/funds/")
        expect(page.get_by_test_id("brand-available")).to_have_text("€0.00")
        j.see(page, "funding-1-funds-empty")

    with j.step(page, "funding-checkout"):
        _start_top_up(page, slug, "1000")
        expect(page.get_by_test_id("checkout-amount")).to_have_text("€1,000.00")
        expect(page.locator("main")).to_contain_text("Top-up for Hochalm Tea")
        expect(page.locator("main")).to_contain_text("Test mode")
        j.see(page, "funding-2-test-checkout")
        checkout_url = page.url

        page.locator("#card-number").fill("4000 0000 0000 0002")
        page.get_by_role("button", name="Pay €1,000.00").click()
        expect(page.locator("#card-number-error")).to_have_text("Your card was declined.")
        expect(page).to_have_url(checkout_url)
        j.see(page, "funding-3-declined")

    with j.step(page, "funding-paid"):
        page.locator("#card-number").fill("4242 4242 4242 4242")
        page.get_by_role("button", name="Pay €1,000.00").click()
        expect(page).to_have_url(re.compile(rf"/b/{slug}/funds/\?checkout=success$"))
        # The worker delivers the signed webhook; the page polls until the balance is booked (no reload).
        expect(page.get_by_test_id("brand-available")).to_have_text("€1,000.00", timeout=45_000)
        expect(page.locator("main")).to_contain_text("Your payment was received and is in your balance.")
        expect(page.locator("#funds-top-ups")).to_contain_text("Received")
        j.see(page, "funding-4-funded")

    with j.step(page, "funding-cancelled"):
        _start_top_up(page, slug, "50")
        page.get_by_role("button", name="Cancel and go back").click()
        expect(page).to_have_url(re.compile(rf"/b/{slug}/funds/\?checkout=cancelled$"))
        expect(page.locator("main")).to_contain_text("The card payment was cancelled. Nothing was charged.")
        expect(page.get_by_test_id("brand-available")).to_have_text("€1,000.00")
        j.see(page, "funding-5-cancelled", phone=False)
        page.goto(f"/b/{slug}/funds/")
        expect(page.locator("#funds-top-ups")).to_contain_text("Expired", timeout=30_000)


def _influencer(j: Journey, page: Page, email: str) -> None:
    sign_up(j, page, email, "payout-influencer")
    page.get_by_role("button", name="Become an influencer").click()
    expect(page).to_have_url(re.compile(r"/i/profile/"))
    page.locator("#id_display_name").fill("Mira Payout")
    page.locator("#id_bio").fill("Tea, trails and trains. Graz, Austria.")
    page.locator("#id_country").select_option("AT")
    page.locator("input[name=languages][value=en]").check()
    page.get_by_label("Coffee", exact=True).check()
    page.locator("#id_audience_description").fill("Tea lovers in Austria")
    page.locator("#id_tax_status_0").check()
    page.locator("#id_accept_terms").check()
    page.locator("main form button[type=submit]").last.click()
    expect(page).not_to_have_url(re.compile(r"/i/profile/$"))


def test_the_payout_account_form_shows_the_chosen_method(stack: Any, journey_browser: Browser, tmp_path: Path) -> None:
    j = Journey(stack, journey_browser, tmp_path)
    page = j.person()
    with j.step(page, "payout-form-js"):
        _influencer(j, page, "mira@payout.linkilike.test")
        page.goto("/i/earnings/")
        fields = {method: page.locator(f"fieldset[data-method={method}]") for method in ("sepa", "paypal", "stripe")}
        for fieldset in fields.values():
            expect(fieldset).to_be_hidden()
        expect(page.get_by_role("button", name="Continue")).to_be_hidden()  # the module makes it instant
        j.see(page, "payout-1-choose-method")
        page.get_by_label("Stripe Connect").check()
        expect(fields["stripe"]).to_be_visible()
        expect(fields["sepa"]).to_be_hidden()
        page.get_by_label("PayPal", exact=True).check()
        expect(fields["paypal"]).to_be_visible()
        expect(fields["stripe"]).to_be_hidden()
        page.get_by_role("button", name="Save account").click()
        expect(page.locator("#id_paypal_email_error")).to_have_text("Enter the email address of your PayPal account.")
        j.see(page, "payout-2-paypal-required")
        page.locator("#id_paypal_email").fill("mira@example.test")
        page.get_by_role("button", name="Save account").click()
        expect(page.locator(".messages")).to_contain_text("Payout account saved.")

    context = journey_browser.new_context(
        base_url=stack.base_url, viewport={"width": 1280, "height": 900}, locale="en-GB", java_script_enabled=False
    )
    j.contexts.append(context)
    context.add_cookies(page.context.cookies())
    no_js = context.new_page()
    with j.step(no_js, "payout-form-no-js"):
        no_js.goto("/i/earnings/")
        no_js.get_by_label("Bank account (IBAN)").check()
        no_js.get_by_role("button", name="Continue").click()
        expect(no_js).to_have_url(re.compile(r"/i/earnings/\?method=sepa"))
        expect(no_js.locator("fieldset[data-method=sepa]")).to_be_visible()
        expect(no_js.locator("fieldset[data-method=paypal]")).to_be_hidden()
        no_js.get_by_role("button", name="Save account").click()
        expect(no_js.locator("#id_iban_error")).to_have_text("Enter your IBAN.")
        expect(no_js.locator("#id_holder_name_error")).to_have_text("Enter the name of the account holder.")
        j.see(no_js, "payout-3-no-js-required")
