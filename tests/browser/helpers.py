"""Small helpers for the browser journey: screenshots, the axe-core check, emails, MFA codes."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "journey"
AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"  # axe-core 4.x, MPL-2.0 (vendor/axe-LICENSE.txt)
WAIT_MS = 20_000


def shot(page: Page, name: str, *, phone: bool = True) -> None:
    """Desktop (1280) screenshot of the whole page, plus the phone width (390) unless told otherwise."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size or {"width": 1280, "height": 900}
    page.screenshot(path=str(ARTIFACTS / f"{name}-desktop.png"), full_page=True)
    if phone:
        page.set_viewport_size({"width": 390, "height": 844})
        page.screenshot(path=str(ARTIFACTS / f"{name}-phone.png"), full_page=True)
        page.set_viewport_size(size)


def axe_check(page: Page, label: str, checked: set[str]) -> None:
    """Run axe-core on the page (once per distinct path); fail on serious or critical violations.

    The script goes in through ``evaluate`` rather than a <script> tag, so the app's CSP (no inline
    scripts) stays fully on for the journey itself and the check needs no CSP bypass.
    """
    path = re.sub(r"\d+", "N", page.url.split("?", 1)[0])
    if path in checked:
        return
    checked.add(path)
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text() + "\n;undefined")
    # Django admin's stock breadcrumbs rely on colour alone (upstream styling, not ours): excluded there.
    context = "{exclude: [['.breadcrumbs']]}" if "/admin/" in page.url else "document"
    result: dict[str, Any] = page.evaluate(f"async () => await axe.run({context}, {{resultTypes: ['violations']}})")
    bad = [v for v in result["violations"] if v.get("impact") in ("serious", "critical")]
    if bad:
        lines = [f"axe-core: {len(bad)} serious/critical violation(s) on {label} ({page.url}):"]
        for violation in bad:
            lines.append(f"- [{violation['impact']}] {violation['id']}: {violation['help']} ({violation['helpUrl']})")
            for node in violation["nodes"][:5]:
                lines.append(f"    {node['target']}: {node.get('failureSummary', '').splitlines()[-1:]}")
        raise AssertionError("\n".join(lines))


def link_in(message: str, pattern: str) -> str:
    """The first URL in an email's text matching ``pattern`` (quoted-printable soft breaks undone)."""
    text = message.replace("=\n", "").replace("=3D", "=")
    found = re.search(r"https?://[^\s\"<>]*" + pattern + r"[^\s\"<>]*", text)
    assert found, f"no link matching {pattern!r} in email:\n{text[:2000]}"
    return found.group(0)


def wait_for_email(stack: Any, address: str, *, count: int = 1, timeout: float = 30) -> list[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = stack.emails_to(address)
        if len(found) >= count:
            return found
        time.sleep(0.3)
    seen = [
        line
        for path in sorted(stack.mail_dir.glob("*.log"))
        for line in path.read_text(errors="replace").splitlines()
        if line.startswith(("To: ", "Subject: "))
    ]
    raise AssertionError(f"expected {count} email(s) to {address}; got {len(stack.emails_to(address))}; all: {seen}")


def reload_until_visible(page: Page, text: str | re.Pattern[str], *, timeout: float = 60) -> None:
    """Background work lands asynchronously: reload (bounded) until the person would see ``text``."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            expect(page.get_by_text(text).first).to_be_visible(timeout=1500)
            return
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            page.reload()


def totp_code(secret: str) -> str:
    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    return format_hotp_value(hotp_value(secret, int(time.time() // 30)))
