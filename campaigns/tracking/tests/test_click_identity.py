"""One person is one click whatever their user agent says (F1), and one address cannot click its way through
every link (per-IP rate). Both redirect paths, the Django view and the WSGI fast path (ADR 11), hash the
visitor with the same rule (``capture.visitor_hash``)."""

from __future__ import annotations

import ipaddress
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from campaigns.models import Click, ClickReason, TrackingLink
from campaigns.tracking import capture, services
from campaigns.tracking.capture import ClickEvent
from campaigns.tracking.fast_redirect import RedirectFastPath
from campaigns.tracking.tests.test_fast_redirect import environ
from tests.factories.tracking import TrackingLinkFactory

pytestmark = pytest.mark.django_db

#: 25 different, ordinary browsers: what a script rotating user agents sends.
BROWSERS = [
    f"Mozilla/5.0 (X11; Linux x86_64; rv:{version}.0) Gecko/20100101 Firefox/{version}.0" for version in range(100, 110)
] + [
    f"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/{version}.0.0.0 Safari/537.36"
    for version in range(110, 125)
]
FIREFOX = BROWSERS[0]


@pytest.fixture(autouse=True)
def _keep_the_test_transactions_connection(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """As Django's test client does: requests must not close the connection the test's transaction uses."""
    monkeypatch.setattr("campaigns.tracking.fast_redirect.close_old_connections", lambda: None)
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def _visit(path_kind: str, link: TrackingLink, *, ip: str, ua: str = FIREFOX, fast: Any = None) -> None:
    if path_kind == "django":
        assert Client().get(f"/r/{link.code}", HTTP_USER_AGENT=ua, REMOTE_ADDR=ip).status_code == 302
        return
    answer: dict[str, str] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        answer["status"] = status

    body = fast(environ(f"/r/{link.code}", REMOTE_ADDR=ip, HTTP_USER_AGENT=ua), start_response)
    b"".join(body)
    if hasattr(body, "close"):
        body.close()
    assert answer["status"] == "302 Found"


def _event(link: TrackingLink, *, ip: str, at: float, ua: str = FIREFOX) -> ClickEvent:
    """A click as the redirect builds it: the visitor and browser hashed by the capture code."""
    meta = {"REMOTE_ADDR": ip, "HTTP_USER_AGENT": ua}
    event = capture.click_event_from_meta(meta, method="GET", link_id=link.pk)
    return ClickEvent(**{**vars(event), "event_id": uuid.uuid4().hex, "occurred_at": at})


@pytest.mark.parametrize("path_kind", ["django", "fast"])
def test_one_address_rotating_25_user_agents_is_one_billable_click(path_kind: str) -> None:
    link = TrackingLinkFactory()
    fast = RedirectFastPath(WSGIHandler())
    for user_agent in BROWSERS:
        _visit(path_kind, link, ip="198.51.100.23", ua=user_agent, fast=fast)
    services.clicks_drain()

    assert Click.objects.filter(link=link).count() == 25  # every request is recorded
    assert Click.objects.filter(link=link, billable=True).count() == 1
    assert Click.objects.filter(link=link, reason=ClickReason.DUPLICATE).count() == 24
    # What the client claims is still stored (hashed) for reviews; it just does not make a new visitor.
    assert Click.objects.filter(link=link).values("ua_hash").distinct().count() == 25


def test_both_redirect_paths_hash_the_visitor_with_the_same_rule() -> None:
    meta = {"REMOTE_ADDR": "2001:db8:aa:bb:1:2:3:4", "HTTP_USER_AGENT": FIREFOX}
    from_meta = capture.click_event_from_meta(meta, method="GET", link_id=1)
    other_browser = capture.click_event_from_meta({**meta, "HTTP_USER_AGENT": BROWSERS[5]}, method="GET", link_id=1)
    assert from_meta.ip_hash == other_browser.ip_hash == capture.visitor_hash("2001:db8:aa:bb:1:2:3:4")
    assert from_meta.ua_hash != other_browser.ua_hash


@pytest.mark.parametrize(
    ("first", "second", "same"),
    [
        ("2001:db8:aa:bb:1:2:3:4", "2001:db8:aa:bb:ffff:ffff:ffff:ffff", True),  # one /64: one household
        ("2001:db8:aa:bb::1", "2001:0db8:00aa:00bb:0000:0000:0000:0009", True),  # spelled differently
        ("2001:db8:aa:bb::1", "2001:db8:aa:bc::1", False),  # the next /64: someone else
        ("::ffff:192.0.2.7", "192.0.2.7", True),  # IPv4 written as IPv6 is the IPv4 address
        ("192.0.2.7", "192.0.2.8", False),  # IPv4: the full address
        (" 192.0.2.7", "192.0.2.7", True),
    ],
)
def test_the_visitor_is_the_network_address_ipv6_grouped_by_64(first: str, second: str, same: bool) -> None:
    assert (capture.visitor_hash(first) == capture.visitor_hash(second)) is same


@hypothesis_settings(max_examples=300, deadline=None, derandomize=True)
@given(value=st.integers(min_value=0, max_value=2**128 - 1), zeros=st.lists(st.booleans(), min_size=8, max_size=8))
def test_the_fast_ipv6_reading_equals_ipaddress_in_every_spelling(value: int, zeros: list[bool]) -> None:
    """``network_identity`` splits the string on the hot path; ``ipaddress`` is the reference."""
    groups = [0 if zero else (value >> (16 * index)) & 0xFFFF for index, zero in enumerate(zeros)]
    address = ipaddress.IPv6Address(sum(group << (16 * index) for index, group in enumerate(groups)))
    if address.ipv4_mapped is not None:
        expected = str(address.ipv4_mapped)
    else:
        network = ipaddress.IPv6Network((int(address) >> 64 << 64, 64))
        expected = ":".join(f"{int(group, 16):x}" for group in network.network_address.exploded.split(":")[:4])
        expected += "::/64"
    for spelling in (str(address), address.exploded, str(address).upper()):
        assert capture.network_identity(spelling) == expected


def test_ipv6_addresses_of_one_64_count_once_on_a_link() -> None:
    link = TrackingLinkFactory()
    start = time.time() - 600
    services.clicks_record(
        events=[
            _event(link, ip="2001:db8:1:2::a", at=start),
            _event(link, ip="2001:db8:1:2:dead:beef:0:1", at=start + 1, ua=BROWSERS[3]),  # privacy address rotated
            _event(link, ip="2001:db8:1:3::a", at=start + 2),  # another /64
        ]
    )
    assert list(Click.objects.order_by("occurred_at").values_list("billable", "reason")) == [
        (True, ""),
        (False, ClickReason.DUPLICATE),
        (True, ""),
    ]


def test_one_address_clicking_many_links_is_cut_off_across_links(settings: Any) -> None:
    settings.TRACKING_IP_RATE_LIMIT = 5
    settings.TRACKING_IP_RATE_MINUTES = 10
    links = [TrackingLinkFactory() for _ in range(9)]
    start = time.time() - 3600
    # Two drain batches: the second batch must see the first batch's clicks (history, not just the batch).
    services.clicks_record(events=[_event(link, ip="192.0.2.50", at=start + i) for i, link in enumerate(links[:3])])
    services.clicks_record(
        events=[_event(link, ip="192.0.2.50", at=start + 10 + i) for i, link in enumerate(links[3:8])]
        + [_event(links[0], ip="192.0.2.51", at=start + 20)]  # another address is not affected
    )
    rows = list(Click.objects.filter(ip_hash=capture.visitor_hash("192.0.2.50")).order_by("occurred_at"))
    assert [(c.billable, c.reason) for c in rows] == [(True, "")] * 5 + [(False, ClickReason.IP_RATE)] * 3
    assert Click.objects.get(ip_hash=capture.visitor_hash("192.0.2.51")).billable
    # The window slides: ten minutes after the first click, the address may count again.
    services.clicks_record(events=[_event(links[8], ip="192.0.2.50", at=start + 601)])
    assert Click.objects.get(link=links[8], ip_hash=capture.visitor_hash("192.0.2.50")).billable


def test_two_people_behind_one_carrier_nat_are_counted_as_far_as_the_rules_allow(settings: Any) -> None:
    """The trade-off of ADR 10, pinned: one public address is one visitor per link and dedupe window.

    Two phones behind a carrier-grade NAT share the public IPv4 address. On the same link within the
    window the second person is a repeat (not billable): the rules cannot tell them from one person
    switching browsers, and paying for that is the fraud this closes. On different links both count
    (up to the per-IP rate); after the window the same link counts again.
    """
    settings.TRACKING_DEDUPE_HOURS = 24
    settings.TRACKING_IP_RATE_LIMIT = 10
    shared, other = TrackingLinkFactory(), TrackingLinkFactory()
    nat = "100.64.12.34"
    start = time.time() - 30 * 3600
    android = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/126.0 Mobile Safari/537.36"
    iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Version/17.5 Safari/604.1"
    services.clicks_record(
        events=[
            _event(shared, ip=nat, at=start, ua=android),  # person A
            _event(shared, ip=nat, at=start + 300, ua=iphone),  # person B, same link, 5 minutes later
            _event(other, ip=nat, at=start + 360, ua=iphone),  # person B on another campaign's link
        ]
    )
    services.clicks_record(events=[_event(shared, ip=nat, at=start + 25 * 3600, ua=iphone)])  # the next day
    assert list(Click.objects.order_by("occurred_at").values_list("link_id", "billable", "reason")) == [
        (shared.pk, True, ""),
        (shared.pk, False, ClickReason.DUPLICATE),
        (other.pk, True, ""),
        (shared.pk, True, ""),
    ]


@pytest.mark.parametrize("path_kind", ["django", "fast"])
def test_a_forwarded_for_header_the_client_wrote_is_not_a_new_visitor(path_kind: str, settings: Any) -> None:
    """Behind the proxy, X-Forwarded-For is what the client sent plus what our proxy appended: the visitor
    is the address the proxy saw (the last entry), not the entries the client made up."""
    settings.TRACKING_TRUST_X_FORWARDED_FOR = True
    link = TrackingLinkFactory()
    fast = RedirectFastPath(WSGIHandler())
    for index in range(5):
        forwarded = f"10.0.0.{index}, 192.0.2.{index}, 198.51.100.77"  # two made up, one from our proxy
        if path_kind == "django":
            Client().get(f"/r/{link.code}", HTTP_USER_AGENT=FIREFOX, HTTP_X_FORWARDED_FOR=forwarded)
        else:
            body = fast(
                environ(f"/r/{link.code}", HTTP_X_FORWARDED_FOR=forwarded, HTTP_USER_AGENT=FIREFOX), lambda *args: None
            )
            b"".join(body)
    services.clicks_drain()
    assert Click.objects.filter(link=link, billable=True).count() == 1
    assert set(Click.objects.values_list("ip_hash", flat=True)) == {capture.visitor_hash("198.51.100.77")}


def test_more_proxies_in_front_take_their_entries_from_the_right(settings: Any) -> None:
    settings.TRACKING_TRUST_X_FORWARDED_FOR = True
    settings.TRACKING_FORWARDED_FOR_PROXIES = 2  # a CDN, then our load balancer
    meta = {"HTTP_X_FORWARDED_FOR": "10.9.9.9, 203.0.113.5, 172.16.0.3", "REMOTE_ADDR": "10.0.0.1"}
    assert capture.click_event_from_meta(meta, method="GET", link_id=1).ip_hash == capture.visitor_hash("203.0.113.5")
    short = {"HTTP_X_FORWARDED_FOR": "203.0.113.6", "REMOTE_ADDR": "10.0.0.1"}
    assert capture.click_event_from_meta(short, method="GET", link_id=1).ip_hash == capture.visitor_hash("203.0.113.6")
