"""Connecting an account on a "you post, we verify" network (``networks.providers.proof_of_post``): a handle and
a profile address, checked for form. No sign-in and no token: Linkilike never acts on these accounts, it only
verifies the posts the influencer pastes (``campaigns.publishing.proof``)."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from influencers.models import InfluencerProfile
from networks.errors import ConnectError
from networks.models import ConnectedAccount
from networks.providers.proof_of_post import ProofOfPostProvider
from networks.providers.registry import handle_provider_class
from networks.providers.types import AccountRef, TokenSet
from networks.services import connected_account_upsert


@transaction.atomic
def handle_account_connect(
    *, influencer: InfluencerProfile, network: str, handle: str, profile_url: str
) -> ConnectedAccount:
    """Store (or update) the account named by ``handle`` and ``profile_url`` on ``network``.

    Raises ``ConnectError`` with what is wrong with the handle or address, or when the network is not one
    connected by handle.
    """
    cls: type[ProofOfPostProvider] | None = handle_provider_class(network)
    if cls is None:
        raise ConnectError(_("Accounts on this network are not connected with a handle."))
    checked = cls.profile_check(handle=handle, profile_url=profile_url)
    if checked.problems:
        raise ConnectError(" ".join(checked.problems))
    profile = AccountRef(
        external_id=checked.handle.lstrip("@").lower(), handle=checked.handle, profile_url=checked.profile_url
    )
    return connected_account_upsert(
        influencer=influencer,
        network=network,
        instance_url=cls.production_web_url,
        profile=profile,
        tokens=TokenSet(access_token=""),
    )
