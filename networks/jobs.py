"""Jobs the networks services enqueue: the reconnect warning email.

It never calls back into ``networks.services`` (which imports this module), so the arrows go one way:
``networks.tasks`` (renewals, refreshes, sweeps) → ``networks.services`` → ``networks.jobs``. The task name
keeps the module it was first registered under (``networks.tasks.*``): queued messages and routes stay valid.
"""

from __future__ import annotations

from django.urls import reverse

from linkilike.emails import email_send_to_user, email_task
from networks.models import ConnectedAccount


@email_task("networks.tasks.account_reconsent_email_send")
def account_reconsent_email_send(account_id: int) -> None:
    account = ConnectedAccount.objects.select_related("influencer__user").filter(pk=account_id).first()
    if account is None or account.token_expires_at is None:
        return
    email_send_to_user(
        user=account.influencer.user,
        template="networks/email/reconsent_warning",
        context=reconsent_email_context(account=account),
    )


def reconsent_email_context(*, account: object) -> dict[str, object]:
    return {"account": account, "accounts_path": reverse("networks:accounts")}
