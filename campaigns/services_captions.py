"""The brand's caption decisions, with the influencer told about each (issue 6).

The state changes are ``campaigns.matching.services``; this module adds the notification,
enqueued after the decision commits.
"""

from __future__ import annotations

from django.db import transaction

from accounts.models import User
from campaigns.influencer.tasks import caption_decision_email_send
from campaigns.matching import services as matching_services
from campaigns.models import Share


def _notify(share: Share) -> None:
    share_id = share.pk
    transaction.on_commit(lambda: caption_decision_email_send.delay(share_id))


@transaction.atomic
def caption_approve(*, share: Share, decided_by: User) -> Share:
    decided = matching_services.share_caption_approve(share=share, approved_by=decided_by)
    _notify(decided)
    return decided


@transaction.atomic
def caption_changes_request(*, share: Share, decided_by: User, feedback: str) -> Share:
    decided = matching_services.share_caption_request_changes(share=share, approved_by=decided_by, feedback=feedback)
    _notify(decided)
    return decided
