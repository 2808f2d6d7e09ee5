"""Proof of post: the native share link, the pasted permalink, and the SSRF-guarded check of the page."""

from __future__ import annotations

import ipaddress
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import timezone

from campaigns.metrics.services import retention_check_due
from campaigns.models import PublicationState, SharePublication
from campaigns.publishing import services
from campaigns.publishing.errors import ProofRefused
from campaigns.publishing.proof import proof_retention_check, proof_submit, proof_verify, share_intent_url
from linkilike.safe_fetch import AddressPolicy
from tests.doubles.publishing import RecordingProvider, ready_share, recording_settings
from tests.factories.networks import ConnectedAccountFactory

pytestmark = pytest.mark.django_db
LOCAL = AddressPolicy(extra_allowed=(ipaddress.ip_network("127.0.0.1/32"),))


class Pages(BaseHTTPRequestHandler):
    pages: ClassVar[dict[str, str]] = {}

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        body = self.pages.get(self.path)
        if body is None:
            self.send_response(404)
            self.end_headers()
            return
        data = body.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def site() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), Pages)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(autouse=True)
def network(settings: Any) -> Any:
    recording_settings(settings)
    settings.SITE_URL = "https://linkilike.test"
    return RecordingProvider.reset()


def needs_proof(site: str) -> SharePublication:
    account = ConnectedAccountFactory(
        network="proofonly", instance_url=site, profile_url=f"{site}/maria", handle="@maria"
    )
    share = ready_share(account=account)
    publication = services.share_publication_schedule(share=share)
    assert publication is not None
    return publication


def test_a_network_without_api_posting_waits_for_proof_with_the_prepared_text(site: str, network: Any) -> None:
    publication = needs_proof(site)

    assert publication.state == PublicationState.NEEDS_PROOF
    assert publication.posted_text.startswith("#ad")
    assert "/r/" in publication.posted_text
    services.publications_run_due()
    assert network.publish_calls == 0  # never posted by us


def test_native_share_links_carry_the_post() -> None:
    account = ConnectedAccountFactory.build(network="x", instance_url="https://api.x.com")
    url = share_intent_url(account=account, text="#ad Try it https://lnk.test/r/abc")
    assert url.startswith("https://x.com/intent/post?")
    assert parse_qs(urlsplit(url).query)["text"] == ["#ad Try it https://lnk.test/r/abc"]
    account.network = "facebook"
    url = share_intent_url(account=account, text="#ad Try it https://lnk.test/r/abc")
    assert parse_qs(urlsplit(url).query)["u"] == ["https://lnk.test/r/abc"]
    account.network = "linkedin"
    assert "share-offsite" in share_intent_url(account=account, text="#ad https://lnk.test/r/abc")


def test_a_verified_post_counts_as_published(site: str, django_capture_on_commit_callbacks: Any) -> None:
    publication = needs_proof(site)
    Pages.pages["/maria/post/1"] = f"<html><p>@maria</p><p>{publication.posted_text}</p></html>"

    proof_submit(publication=publication, influencer=publication.share.influencer, url=f"{site}/maria/post/1")
    result = proof_verify(publication_id=publication.pk, policy=LOCAL)

    assert result is not None
    assert result.state == PublicationState.PUBLISHED
    assert result.external_url == f"{site}/maria/post/1"


@pytest.mark.parametrize(
    ("page", "reason"),
    [
        ("<p>@maria</p><p>Nice coffee {link}</p>", "disclosure"),
        ("<p>@maria</p><p>#ad Nice coffee</p>", "campaign link"),
        ("<p>@someone_else</p><p>#ad {link}</p>", "@maria"),
    ],
)
def test_a_post_without_disclosure_link_or_the_account_is_refused(site: str, page: str, reason: str) -> None:
    publication = needs_proof(site)
    link = next(word for word in publication.posted_text.split() if "/r/" in word)
    Pages.pages["/maria/post/2"] = page.format(link=link)

    proof_submit(publication=publication, influencer=publication.share.influencer, url=f"{site}/maria/post/2")
    result = proof_verify(publication_id=publication.pk, policy=LOCAL)

    assert result is not None
    assert result.state == PublicationState.NEEDS_PROOF
    assert reason in result.last_error


def test_a_missing_page_is_refused(site: str) -> None:
    publication = needs_proof(site)
    proof_submit(publication=publication, influencer=publication.share.influencer, url=f"{site}/maria/gone")
    result = proof_verify(publication_id=publication.pk, policy=LOCAL)
    assert result is not None
    assert result.state == PublicationState.NEEDS_PROOF
    assert "404" in result.last_error


def test_a_link_on_another_site_is_refused_before_fetching(site: str) -> None:
    publication = needs_proof(site)
    with pytest.raises(ProofRefused, match="not on"):
        proof_submit(publication=publication, influencer=publication.share.influencer, url="https://evil.example/x")


def test_without_the_test_policy_loopback_is_never_fetched(site: str) -> None:
    publication = needs_proof(site)
    Pages.pages["/maria/post/3"] = f"<p>@maria</p><p>{publication.posted_text}</p>"
    proof_submit(publication=publication, influencer=publication.share.influencer, url=f"{site}/maria/post/3")
    result = proof_verify(publication_id=publication.pk)
    assert result is not None
    assert result.state == PublicationState.NEEDS_PROOF


def proven(site: str, path: str) -> SharePublication:
    publication = needs_proof(site)
    Pages.pages[path] = f"<p>@maria</p><p>{publication.posted_text}</p>"
    proof_submit(publication=publication, influencer=publication.share.influencer, url=f"{site}{path}")
    result = proof_verify(publication_id=publication.pk, policy=LOCAL)
    assert result is not None
    assert result.state == PublicationState.PUBLISHED
    return result


def test_retention_keeps_a_post_that_is_still_there(site: str) -> None:
    publication = proven(site, "/maria/post/keep")
    result = proof_retention_check(publication_id=publication.pk, policy=LOCAL)
    assert result is not None
    assert result.state == PublicationState.PUBLISHED
    assert result.retention_checked_at is not None


@pytest.mark.parametrize("change", ["deleted", "disclosure removed"])
def test_retention_removes_a_deleted_or_undisclosed_post(site: str, change: str) -> None:
    path = f"/maria/post/{change.replace(' ', '-')}"
    publication = proven(site, path)
    if change == "deleted":
        del Pages.pages[path]
    else:
        Pages.pages[path] = Pages.pages[path].replace("#ad", "")

    result = proof_retention_check(publication_id=publication.pk, policy=LOCAL)

    assert result is not None
    assert result.state == PublicationState.REMOVED
    assert result.error_code == "retention_failed"


def test_retention_runs_from_the_metrics_sweep_after_a_week(site: str, settings: Any) -> None:
    publication = proven(site, "/maria/post/week")
    assert retention_check_due() == 0
    # Loopback is refused without the test policy, so the check leaves the post alone (unreachable).
    assert retention_check_due(now=timezone.now() + timedelta(days=8)) == 1
    publication.refresh_from_db()
    assert publication.state == PublicationState.PUBLISHED
