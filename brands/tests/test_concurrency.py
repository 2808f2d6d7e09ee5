"""Rules that count rows and then write, raced on real PostgreSQL (threads, separate connections).

The last-owner rule counts owners and then writes; without a lock both transactions count two owners,
both write, and the brand is left with none. The invitation limits count invitations the same way.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import cast
from unittest import mock

import pytest
from django.db import connection
from django.urls import reverse
from rest_framework.test import APIClient

from brands import services
from brands.errors import InvitationRateLimited, LastOwnerError
from brands.models import BrandRole, Invitation, Membership
from tests.factories.brands import MembershipFactory

pytestmark = pytest.mark.django_db(transaction=True)

# How long the first transaction that counted waits for the others to count too. Without a lock all
# count at once and meet here at once; with it the others block before counting, so the first waits
# out this timeout and then goes on alone (the barrier is broken then: nobody waits again).
RENDEZVOUS_SECONDS = 1.5


def _race(
    work: list[Callable[[], object]],
    *,
    check: str = "_owner_count",
    refused_error: type[Exception] = LastOwnerError,
) -> tuple[int, int, list[BaseException]]:
    """Runs each callable in its own thread, released together; answers (succeeded, refused, unexpected).

    ``check`` names the service helper that counts; it is wrapped to wait for the others after counting.
    """
    start = threading.Barrier(len(work))
    counted = threading.Barrier(len(work))
    original_check = getattr(services, check)
    lock = threading.Lock()
    outcome = {"ok": 0, "refused": 0}
    unexpected: list[BaseException] = []

    def check_then_wait(*args: object, **kwargs: object) -> object:
        # Widens the window between the check and the write so the race does not depend on timing.
        try:
            return original_check(*args, **kwargs)
        finally:
            with contextlib.suppress(threading.BrokenBarrierError):
                counted.wait(timeout=RENDEZVOUS_SECONDS)

    def run(job: Callable[[], object]) -> None:
        try:
            start.wait()
            job()
        except refused_error:
            with lock:
                outcome["refused"] += 1
        except BaseException as error:  # noqa: BLE001 - collected and asserted on below
            with lock:
                unexpected.append(error)
        else:
            with lock:
                outcome["ok"] += 1
        finally:
            connection.close()

    with mock.patch.object(services, check, check_then_wait):
        threads = [threading.Thread(target=run, args=(job,)) for job in work]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    return outcome["ok"], outcome["refused"], unexpected


def _two_owners() -> tuple[Membership, Membership]:
    first = cast(Membership, MembershipFactory(role=BrandRole.OWNER))
    return first, cast(Membership, MembershipFactory(brand=first.brand, role=BrandRole.OWNER))


def _demote(membership: Membership) -> Callable[[], object]:
    return lambda: services.membership_role_change(membership=membership, role=BrandRole.MANAGER)


def _remove(membership: Membership) -> Callable[[], object]:
    return lambda: services.membership_remove(membership=membership)


@pytest.mark.parametrize(
    "action",
    [
        pytest.param(lambda a, b: [_demote(b), _demote(a)], id="owners-demote-each-other"),
        pytest.param(lambda a, b: [_remove(b), _remove(a)], id="owners-remove-each-other"),
        pytest.param(lambda a, b: [_remove(a), _remove(b)], id="both-owners-leave"),
        pytest.param(lambda a, b: [_demote(a), _remove(b)], id="one-steps-down-the-other-leaves"),
    ],
)
def test_concurrent_owner_changes_always_leave_an_owner(
    action: Callable[[Membership, Membership], list[Callable[[], object]]],
) -> None:
    first, second = _two_owners()

    ok, refused, unexpected = _race(action(first, second))

    assert unexpected == []
    assert (ok, refused) == (1, 1)
    assert Membership.objects.filter(brand=first.brand, role=BrandRole.OWNER).count() == 1


def test_two_owners_demoting_each_other_through_the_api_get_one_success_and_one_refusal() -> None:
    first, second = _two_owners()
    statuses: list[int] = []

    def demote(actor: Membership, target: Membership) -> Callable[[], object]:
        url = reverse("brand-members-detail", kwargs={"brand_slug": actor.brand.slug, "pk": target.pk})

        def call() -> None:
            client = APIClient()
            client.force_authenticate(actor.user)
            statuses.append(client.patch(url, {"role": BrandRole.MANAGER}, format="json").status_code)

        return call

    _ok, _refused, unexpected = _race([demote(first, second), demote(second, first)])

    assert unexpected == []
    assert sorted(statuses) == [200, 400]
    assert Membership.objects.filter(brand=first.brand, role=BrandRole.OWNER).count() == 1


def _invite(owner: Membership, email: str) -> Callable[[], object]:
    return lambda: services.invitation_create(
        brand=owner.brand, email=email, role=BrandRole.MANAGER, invited_by=owner.user
    )


def test_concurrent_invitations_from_many_brands_to_one_address_stop_at_the_limit() -> None:
    owners = [cast(Membership, MembershipFactory(role=BrandRole.OWNER)) for _ in range(6)]

    ok, refused, unexpected = _race(
        [_invite(owner, "victim@example.test") for owner in owners],
        check="_check_invitation_limits",
        refused_error=InvitationRateLimited,
    )

    assert unexpected == []
    assert (ok, refused) == (3, 3)
    assert Invitation.objects.filter(email="victim@example.test").count() == 3


def test_concurrent_invitations_from_one_brand_stop_at_the_limit(settings) -> None:
    settings.INVITATION_LIMIT_PER_BRAND_PER_HOUR = 2
    owner = cast(Membership, MembershipFactory(role=BrandRole.OWNER))

    ok, refused, unexpected = _race(
        [_invite(owner, f"colleague{n}@elsewhere.test") for n in range(5)],
        check="_check_invitation_limits",
        refused_error=InvitationRateLimited,
    )

    assert unexpected == []
    assert (ok, refused) == (2, 3)
    assert Invitation.objects.filter(brand=owner.brand).count() == 2
