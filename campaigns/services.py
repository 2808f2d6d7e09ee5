"""Writes to campaigns and their content. Views, APIs, admin actions and tasks call these; nothing else writes.

The lifecycle lives here (``TRANSITIONS``): a status changes only through the functions below,
each of which refuses moves the lifecycle does not allow with ``CampaignTransitionError``.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from brands.models import Brand
from campaigns import captions
from campaigns.audit import CampaignAuditAction
from campaigns.earnings.budget import campaign_budget_release, campaign_budget_reserve
from campaigns.earnings.pricing import campaign_participation_priced, participation_bands, participation_bands_problems
from campaigns.errors import (
    CampaignError,
    CampaignFundsError,
    CampaignInvalid,
    CampaignNotEditable,
    CampaignTransitionError,
)
from campaigns.jobs import campaign_status_email_send
from campaigns.matching.tasks import matching_run as matching_run_task
from campaigns.models import (
    Campaign,
    CampaignStatus,
    CaptionVariant,
    ContentPiece,
    MediaKind,
    Notification,
    NotificationKind,
)
from campaigns.selectors import campaign_funding_gap, campaign_preview, funds_needed_notice_exists, notification_message
from campaigns.uploads import media_check, thumbnail_make
from influencers.topics import LANGUAGES
from linkilike.audit import audit_record
from linkilike.i18n import label_in_sentence
from linkilike.text_safety import CONTROL_CHARACTERS_MESSAGE, has_control_characters, single_line
from networks.providers.registry import campaign_networks
from payouts.errors import PayoutsError
from payouts.money import money_format

caption_compose = captions.caption_compose  # the service-level entry point later issues reuse

CURRENCIES = ("EUR", "CHF", "GBP", "USD")
CAMPAIGN_EDITABLE_FIELDS = (
    "name",
    "brief",
    "currency",
    "budget_minor",
    "per_share_cap_minor",
    "cpm_minor",
    "cpe_minor",
    "cpc_minor",
    "participation_fee_minor",
    "participation_bands",
    "starts_at",
    "ends_at",
    "requires_caption_approval",
    "disclosures",
    "topics",
    "countries",
    "languages",
    "networks",
    "followers_min",
    "followers_max",
    "min_engagement_rate",
)
EDITABLE_STATUSES = frozenset({CampaignStatus.DRAFT, CampaignStatus.REJECTED})
ARCHIVABLE_STATUSES = frozenset(
    {CampaignStatus.DRAFT, CampaignStatus.REJECTED, CampaignStatus.COMPLETED, CampaignStatus.CANCELLED}
)


@dataclass(frozen=True)
class Transition:
    sources: frozenset[str]
    target: str
    verb: Promise


TRANSITIONS: dict[str, Transition] = {
    "submit": Transition(
        frozenset({CampaignStatus.DRAFT, CampaignStatus.REJECTED}),
        CampaignStatus.IN_REVIEW,
        gettext_lazy("submitted for review"),
    ),
    "withdraw": Transition(
        frozenset({CampaignStatus.IN_REVIEW}), CampaignStatus.DRAFT, gettext_lazy("withdrawn from review")
    ),
    "approve": Transition(frozenset({CampaignStatus.IN_REVIEW}), CampaignStatus.APPROVED, gettext_lazy("approved")),
    "reject": Transition(frozenset({CampaignStatus.IN_REVIEW}), CampaignStatus.REJECTED, gettext_lazy("rejected")),
    "pause": Transition(frozenset({CampaignStatus.APPROVED}), CampaignStatus.PAUSED, gettext_lazy("paused")),
    "resume": Transition(frozenset({CampaignStatus.PAUSED}), CampaignStatus.APPROVED, gettext_lazy("resumed")),
    "complete": Transition(
        frozenset({CampaignStatus.APPROVED, CampaignStatus.PAUSED}), CampaignStatus.COMPLETED, gettext_lazy("completed")
    ),
    "cancel": Transition(
        frozenset(
            {
                CampaignStatus.DRAFT,
                CampaignStatus.IN_REVIEW,
                CampaignStatus.REJECTED,
                CampaignStatus.APPROVED,
                CampaignStatus.PAUSED,
            }
        ),
        CampaignStatus.CANCELLED,
        gettext_lazy("cancelled"),
    ),
}


def transition_allowed(*, campaign: Campaign, action: str) -> bool:
    return campaign.status in TRANSITIONS[action].sources


def _status_label(status: str) -> str:
    return label_in_sentence(CampaignStatus(status).label)


def _transition(campaign: Campaign, action: str) -> Campaign:
    """Lock the row, check the move, set the new status (caller saves)."""
    locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
    transition = TRANSITIONS[action]
    if locked.status not in transition.sources:
        allowed = ", ".join(sorted(_status_label(s) for s in transition.sources))
        raise CampaignTransitionError(
            _("This campaign is %(status)s, so it cannot be %(verb)s. That is only possible while it is: %(allowed)s.")
            % {"status": _status_label(locked.status), "verb": transition.verb, "allowed": allowed}
        )
    locked.status = transition.target
    return locked


def _require_editable(campaign: Campaign) -> None:
    if campaign.status not in EDITABLE_STATUSES:
        raise CampaignNotEditable(
            _(
                "This campaign is %(status)s and can no longer be edited. Only drafts and rejected campaigns can be "
                "changed; withdraw it from review first, or duplicate it."
            )
            % {"status": _status_label(campaign.status)}
        )


def _unique_slug(brand: Brand, name: str) -> str:
    base = slugify(name)[:50] or "campaign"
    slug, counter = base, 2
    while Campaign.objects.filter(brand=brand, slug=slug).exists():
        slug = f"{base}-{counter}"
        counter += 1
    return slug


def _validate_fields(fields: dict[str, Any]) -> None:
    """Consistency rules that hold for every saved campaign, draft or not."""
    prices = ("per_share_cap_minor", "cpm_minor", "cpe_minor", "cpc_minor", "participation_fee_minor")
    for name in ("budget_minor", *prices):
        value = fields.get(name)
        if value is not None and value < 0:
            raise CampaignInvalid(_("Amounts cannot be negative."), field=name)
    if "participation_bands" in fields:
        raw = fields["participation_bands"]
        bands = participation_bands(raw)
        if not isinstance(raw, list) or len(bands) != len(raw):
            raise CampaignInvalid(
                _('Give each band as {"up_to": followers or null, "fee_minor": amount}.'), field="participation_bands"
            )
        problems = participation_bands_problems(bands)
        if problems:
            raise CampaignInvalid(" ".join(problems), field="participation_bands")
    for name in prices:
        if fields.get(name) == 0:
            raise CampaignInvalid(_("Leave a price empty if you do not pay for it; zero is not a price."), field=name)
    if "currency" in fields and fields["currency"] not in CURRENCIES:
        raise CampaignInvalid(_("Choose one of: %(list)s.") % {"list": ", ".join(CURRENCIES)}, field="currency")
    # A cap above the whole budget caps nothing and only misleads the estimate (checked once a budget is set).
    budget, cap = fields.get("budget_minor") or 0, fields.get("per_share_cap_minor")
    if budget > 0 and cap is not None and cap > budget:
        raise CampaignInvalid(_("The cap per share cannot be more than the total budget."), field="per_share_cap_minor")
    starts, ends = fields.get("starts_at"), fields.get("ends_at")
    if starts and ends and ends <= starts:
        raise CampaignInvalid(_("The campaign must end after it starts."), field="ends_at")
    low, high = fields.get("followers_min"), fields.get("followers_max")
    if low is not None and high is not None and high < low:
        raise CampaignInvalid(_("The maximum followers must not be below the minimum."), field="followers_max")
    rate = fields.get("min_engagement_rate")
    if rate is not None and not (Decimal(0) <= Decimal(rate) <= Decimal(100)):
        raise CampaignInvalid(_("The engagement rate is a percentage between 0 and 100."), field="min_engagement_rate")
    unknown_languages = set(fields.get("languages") or ()) - set(LANGUAGES)
    if unknown_languages:
        raise CampaignInvalid(_("Unknown language: %(codes)s.") % {"codes": ", ".join(sorted(unknown_languages))})
    unknown_networks = set(fields.get("networks") or ()) - set(campaign_networks())
    if unknown_networks:
        raise CampaignInvalid(_("Unknown network: %(codes)s.") % {"codes": ", ".join(sorted(unknown_networks))})
    for language, tag in (fields.get("disclosures") or {}).items():
        if language not in LANGUAGES or tag not in captions.DISCLOSURE_VALUES:
            raise CampaignInvalid(
                _("Choose a disclosure from the list for each language (%(tag)s is not one).") % {"tag": tag},
                field="disclosures",
            )


def _apply_fields(campaign: Campaign, fields: dict[str, Any]) -> None:
    unknown = set(fields) - set(CAMPAIGN_EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"unexpected campaign fields: {sorted(unknown)}")
    # The name goes into email subjects; forms and the API refuse it first, this covers every caller.
    # Only a name being set is checked, so a campaign stored before the check can still be edited.
    if has_control_characters(str(fields.get("name") or "")):
        raise CampaignInvalid(str(CONTROL_CHARACTERS_MESSAGE), field="name")
    merged = {name: getattr(campaign, name) for name in CAMPAIGN_EDITABLE_FIELDS if name != "topics"}
    merged.update({k: v for k, v in fields.items() if k != "topics"})
    _validate_fields(merged)
    if "participation_bands" in fields:  # stored smallest audience first, as plain objects
        fields["participation_bands"] = [
            {"up_to": band.up_to, "fee_minor": band.fee_minor}
            for band in participation_bands([dict(item) for item in fields["participation_bands"] or []])
        ]
    for name, value in fields.items():
        if name != "topics":
            setattr(campaign, name, value)
    # Every targeted language carries a disclosure: fill the default where none was chosen.
    disclosures = dict(campaign.disclosures or {})
    for language in campaign.languages or ():
        disclosures.setdefault(language, captions.DEFAULT_DISCLOSURE.get(language, "#ad"))
    campaign.disclosures = disclosures


@transaction.atomic
def campaign_create(*, brand: Brand, created_by: User | None, name: str, **fields: Any) -> Campaign:
    campaign = Campaign(brand=brand, name=name, created_by=created_by, currency=brand.currency)
    topics = fields.pop("topics", None)
    _apply_fields(campaign, {"name": name, **fields})
    campaign.slug = _unique_slug(brand, name)
    campaign.save()
    if topics is not None:
        campaign.topics.set(topics)
    return campaign


@transaction.atomic
def campaign_update(*, campaign: Campaign, **fields: Any) -> Campaign:
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    _require_editable(campaign)
    topics = fields.pop("topics", None)
    _apply_fields(campaign, fields)
    campaign.save()
    if topics is not None:
        campaign.topics.set(topics)
    return campaign


def campaign_problems(*, campaign: Campaign) -> list[str]:
    """What still stops the campaign from being submitted, in words for the brand."""
    problems: list[str] = []
    if not (campaign.cpm_minor or campaign.cpe_minor or campaign.cpc_minor or campaign_participation_priced(campaign)):
        problems.append(_("Set at least one price: per 1,000 reach, per engagement, per click or a participation fee."))
    if campaign.budget_minor <= 0:
        problems.append(_("Set a total budget."))
    if not campaign.starts_at or not campaign.ends_at:
        problems.append(_("Set a start and an end date."))
    elif campaign.ends_at <= timezone.now():
        problems.append(_("The end date has passed; choose a later one."))
    if not campaign.networks:
        problems.append(_("Choose at least one network."))
    if not campaign.languages:
        problems.append(_("Choose at least one language."))
    pieces = list(campaign.content.prefetch_related("variants"))
    if not pieces:
        problems.append(_("Add at least one content piece."))
    for piece in pieces:
        if not piece.variants.all():
            problems.append(_("“%(title)s” needs at least one text.") % {"title": piece.title})
    if not problems:
        for row in campaign_preview(campaign=campaign):
            for fit in row.fits:
                for problem in fit.problems:
                    problems.append(f"“{row.content.title}”: {problem}")
    return problems


@transaction.atomic
def campaign_submit(*, campaign: Campaign) -> Campaign:
    locked = _transition(campaign, "submit")
    problems = campaign_problems(campaign=locked)
    if problems:
        raise CampaignInvalid(
            _("The campaign is not ready for review: %(problems)s") % {"problems": " ".join(problems)}
        )
    locked.submitted_at = timezone.now()
    locked.rejection_reason = ""
    locked.save(update_fields=["status", "submitted_at", "rejection_reason", "updated_at"])
    return locked


@transaction.atomic
def campaign_withdraw(*, campaign: Campaign) -> Campaign:
    locked = _transition(campaign, "withdraw")
    locked.save(update_fields=["status", "updated_at"])
    return locked


def _notify(campaign: Campaign, kind: str, detail: str = "") -> None:
    message = notification_message(kind=kind, name=campaign.name, detail=detail) or ""
    Notification.objects.create(brand=campaign.brand, campaign=campaign, kind=kind, message=message, detail=detail)
    campaign_id = campaign.pk
    transaction.on_commit(lambda: campaign_status_email_send.delay(campaign_id, kind))


@transaction.atomic
def campaign_approve(*, campaign: Campaign, reviewed_by: User | None) -> Campaign:
    """Approve and reserve the budget from the brand's balance, all or nothing."""
    locked = _transition(campaign, "approve")
    if locked.ends_at and locked.ends_at <= timezone.now():
        raise CampaignInvalid(_("The campaign's end date has passed. The brand needs to choose new dates first."))
    now = timezone.now()
    locked.reviewed_at = now
    locked.reviewed_by = reviewed_by
    locked.approved_at = now
    locked.rejection_reason = ""
    locked.save(update_fields=["status", "reviewed_at", "reviewed_by", "approved_at", "rejection_reason", "updated_at"])
    try:
        campaign_budget_reserve(campaign=locked)
    except PayoutsError as error:
        # Raising rolls back the status change too: the campaign stays in review.
        raise CampaignFundsError(str(error)) from error
    audit_record(
        action=CampaignAuditAction.CAMPAIGN_APPROVED,
        target=locked,
        actor=reviewed_by,
        before={"status": CampaignStatus.IN_REVIEW},  # the only source of this move
        after={"status": locked.status, "budget_minor": locked.budget_minor, "currency": locked.currency},
        brand_id=locked.brand_id,
    )
    _notify(locked, NotificationKind.CAMPAIGN_APPROVED)
    transaction.on_commit(lambda: matching_run_task.delay(locked.pk))  # propose matches (campaigns.matching)
    return locked


@transaction.atomic
def campaign_funds_needed_notify(*, campaign: Campaign) -> Notification | None:
    """Tell the brand that review stopped because its balance does not cover the budget.

    Staff's approval fails as a whole (nothing is reserved, the campaign stays in review), so the brand
    would otherwise never learn why nothing happens. Once per submission: staff trying again, or
    approving a batch twice, do not send the brand a second email. None when there is nothing to tell.
    """
    locked = Campaign.objects.select_for_update().select_related("brand").get(pk=campaign.pk)
    gap = campaign_funding_gap(campaign=locked)
    if locked.status != CampaignStatus.IN_REVIEW or gap is None or funds_needed_notice_exists(campaign=locked):
        return None
    notice = Notification.objects.create(
        brand=locked.brand,
        campaign=locked,
        kind=NotificationKind.FUNDS_NEEDED,
        message=_("“%(name)s” waits for funds: %(shortfall)s is missing to reserve its budget.")
        % {"name": locked.name, "shortfall": money_format(gap.shortfall_minor, gap.currency)},
    )
    campaign_id = locked.pk
    transaction.on_commit(lambda: campaign_status_email_send.delay(campaign_id, NotificationKind.FUNDS_NEEDED.value))
    return notice


@transaction.atomic
def campaign_reject(*, campaign: Campaign, reviewed_by: User | None, reason: str) -> Campaign:
    reason = reason.strip()
    if not reason:
        raise CampaignInvalid(_("Say why the campaign is rejected, so the brand can fix it."), field="reason")
    locked = _transition(campaign, "reject")
    locked.reviewed_at = timezone.now()
    locked.reviewed_by = reviewed_by
    locked.rejection_reason = reason
    locked.save(update_fields=["status", "reviewed_at", "reviewed_by", "rejection_reason", "updated_at"])
    audit_record(
        action=CampaignAuditAction.CAMPAIGN_REJECTED,
        target=locked,
        actor=reviewed_by,
        before={"status": CampaignStatus.IN_REVIEW},  # the only source of this move
        after={"status": locked.status},
        reason=reason,
        brand_id=locked.brand_id,
    )
    _notify(locked, NotificationKind.CAMPAIGN_REJECTED, detail=reason)
    return locked


@transaction.atomic
def campaign_pause(*, campaign: Campaign) -> Campaign:
    locked = _transition(campaign, "pause")
    locked.save(update_fields=["status", "updated_at"])
    return locked


@transaction.atomic
def campaign_resume(*, campaign: Campaign) -> Campaign:
    locked = _transition(campaign, "resume")
    locked.save(update_fields=["status", "updated_at"])
    return locked


def _release_budget(campaign: Campaign) -> None:
    if campaign.approved_at is None:
        return  # never approved, nothing was reserved

    campaign_budget_release(campaign=campaign)


@transaction.atomic
def campaign_complete(*, campaign: Campaign) -> Campaign:
    locked = _transition(campaign, "complete")
    locked.closed_at = timezone.now()
    locked.save(update_fields=["status", "closed_at", "updated_at"])
    _release_budget(locked)

    Notification.objects.create(
        brand=locked.brand,
        campaign=locked,
        kind=NotificationKind.CAMPAIGN_COMPLETED,
        message=notification_message(kind=NotificationKind.CAMPAIGN_COMPLETED, name=locked.name) or "",
    )
    return locked


@transaction.atomic
def campaign_cancel(*, campaign: Campaign) -> Campaign:
    locked = _transition(campaign, "cancel")
    locked.closed_at = timezone.now()
    locked.save(update_fields=["status", "closed_at", "updated_at"])
    _release_budget(locked)
    return locked


def campaign_complete_due() -> int:
    """Complete every approved or paused campaign whose end date has passed (periodic task)."""
    due = Campaign.objects.filter(
        status__in=(CampaignStatus.APPROVED, CampaignStatus.PAUSED), ends_at__lte=timezone.now()
    ).values_list("pk", flat=True)
    done = 0
    for pk in list(due):
        with contextlib.suppress(CampaignError):
            campaign_complete(campaign=Campaign(pk=pk))
            done += 1
    return done


@transaction.atomic
def campaign_archive(*, campaign: Campaign) -> Campaign:
    locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if locked.status not in ARCHIVABLE_STATUSES:
        raise CampaignTransitionError(
            _("A campaign that is %(status)s cannot be archived; only drafts and finished campaigns can.")
            % {"status": _status_label(locked.status)}
        )
    locked.archived_at = timezone.now()
    locked.save(update_fields=["archived_at", "updated_at"])
    return locked


@transaction.atomic
def campaign_unarchive(*, campaign: Campaign) -> Campaign:
    Campaign.objects.filter(pk=campaign.pk).update(archived_at=None, updated_at=timezone.now())
    campaign.refresh_from_db()
    return campaign


@transaction.atomic
def campaign_delete(*, campaign: Campaign) -> None:
    locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if locked.status != CampaignStatus.DRAFT:
        raise CampaignTransitionError(
            _("Only drafts can be deleted; this campaign is %(status)s. Archive it instead.")
            % {"status": _status_label(locked.status)}
        )
    files = [f for piece in locked.content.all() for f in (piece.media, piece.thumbnail) if f]
    locked.delete()
    names = [(f.storage, f.name) for f in files]
    transaction.on_commit(lambda: [storage.delete(name) for storage, name in names])


def _copy_file(field_file: Any) -> ContentFile[bytes] | None:
    if not field_file:
        return None
    with field_file.open("rb") as handle:
        return ContentFile(handle.read())


@transaction.atomic
def campaign_duplicate(*, campaign: Campaign, created_by: User | None) -> Campaign:
    """A new draft with the same settings and content; lifecycle and review data are not copied."""
    fields = {name: getattr(campaign, name) for name in CAMPAIGN_EDITABLE_FIELDS if name not in ("topics", "name")}
    copy = campaign_create(
        brand=campaign.brand,
        created_by=created_by,
        # single_line: a name stored before names were checked must not stop the copy.
        name=(_("Copy of %(name)s") % {"name": single_line(campaign.name)})[:120],
        topics=list(campaign.topics.all()),
        **fields,
    )
    stored: list[Any] = []
    try:
        for piece in campaign.content.prefetch_related("variants"):
            new = ContentPiece.objects.create(
                campaign=copy,
                title=piece.title,
                target_url=captions.utm_apply(url=_strip_utm_campaign(piece.target_url), campaign_slug=copy.slug),
                hashtags=piece.hashtags,
                media_kind=piece.media_kind,
                media_size=piece.media_size,
                position=piece.position,
            )
            for field in ("media", "thumbnail"):
                original = getattr(piece, field)
                data = _copy_file(original)
                if data is not None:
                    getattr(new, field).save(original.name.rsplit("/", 1)[-1], data, save=False)
                    stored.append(getattr(new, field))
            new.save()
            CaptionVariant.objects.bulk_create(
                CaptionVariant(content=new, text=v.text, language=v.language, position=v.position)
                for v in piece.variants.all()
            )
    except Exception:
        for field_file in stored:
            field_file.storage.delete(field_file.name)
        raise
    return copy


def _strip_utm_campaign(url: str) -> str:
    from urllib.parse import parse_qsl, urlencode, urlunsplit

    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "utm_campaign"]
    return urlunsplit(parts._replace(query=urlencode(query)))


# --- content -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VariantInput:
    text: str
    language: str


def link_validate(url: str) -> str:
    url = url.strip()
    parts = urlsplit(url)
    # A dotless host is no public website, except this site's own (the demo links to a page of it, also
    # when the site runs as http://localhost).
    own_host = parts.hostname is not None and parts.hostname == urlsplit(settings.SITE_URL).hostname
    if parts.scheme not in ("http", "https") or not parts.hostname or ("." not in parts.hostname and not own_host):
        raise CampaignInvalid(
            _("Enter a full web address starting with https:// (or http://), e.g. https://example.com/offer."),
            field="target_url",
        )
    if parts.username or parts.password:
        raise CampaignInvalid(_("Links must not contain a user name or password."), field="target_url")
    return url


def _variants_validate(campaign: Campaign, variants: Sequence[VariantInput]) -> list[VariantInput]:
    cleaned = [VariantInput(text=v.text.strip(), language=v.language) for v in variants if v.text.strip()]
    if not cleaned:
        raise CampaignInvalid(_("Write at least one text for influencers to share."), field="variants")
    for variant in cleaned:
        if variant.language not in LANGUAGES:
            raise CampaignInvalid(_("Choose a language for each text."), field="variants")
        if len(variant.text) > 5000:
            raise CampaignInvalid(_("A text can have at most 5,000 characters."), field="variants")
    return cleaned


def _store_media(piece: ContentPiece, media: UploadedFile, stored: list[Any]) -> None:
    checked = media_check(media)
    token = secrets.token_hex(8)
    piece.media.save(f"{token}.{checked.extension}", media, save=False)
    stored.append(piece.media)
    piece.media_kind = checked.kind
    piece.media_size = checked.size
    if checked.kind == MediaKind.IMAGE:
        piece.thumbnail.save(f"{token}_thumb.jpg", thumbnail_make(media), save=False)
        stored.append(piece.thumbnail)
    else:
        piece.thumbnail = None


def _content_write(
    *,
    piece: ContentPiece,
    title: str,
    target_url: str,
    hashtags: Sequence[str] | str,
    variants: Sequence[VariantInput],
    media: UploadedFile | None,
    remove_media: bool,
) -> ContentPiece:
    title = title.strip()
    if not title:
        raise CampaignInvalid(_("Give the content piece a title."), field="title")
    url = captions.utm_apply(url=link_validate(target_url), campaign_slug=piece.campaign.slug)
    try:
        tags = captions.hashtags_normalize(hashtags)
    except ValueError as error:
        raise CampaignInvalid(str(error), field="hashtags") from error
    cleaned = _variants_validate(piece.campaign, variants)
    if media is not None:
        media_check(media)  # refuse a bad file before anything is written
    old_files = [f.name for f in (piece.media, piece.thumbnail) if f] if (media is not None or remove_media) else []
    storage = piece.media.storage
    stored: list[Any] = []
    try:
        with transaction.atomic():
            piece.title, piece.target_url, piece.hashtags = title, url, tags
            if remove_media and media is None:
                piece.media, piece.thumbnail = None, None
                piece.media_kind, piece.media_size = "", None
            if media is not None:
                _store_media(piece, media, stored)
            piece.full_clean(exclude=["media", "thumbnail"])
            piece.save()
            piece.variants.all().delete()
            CaptionVariant.objects.bulk_create(
                CaptionVariant(content=piece, text=v.text, language=v.language, position=i)
                for i, v in enumerate(cleaned)
            )
    except Exception:
        for field_file in stored:
            field_file.storage.delete(field_file.name)
        raise
    transaction.on_commit(lambda: [storage.delete(name) for name in old_files])
    return piece


@transaction.atomic
def content_create(
    *,
    campaign: Campaign,
    title: str,
    target_url: str,
    variants: Sequence[VariantInput],
    hashtags: Sequence[str] | str = (),
    media: UploadedFile | None = None,
) -> ContentPiece:
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    _require_editable(campaign)
    position = campaign.content.count()
    piece = ContentPiece(campaign=campaign, position=position)
    return _content_write(
        piece=piece,
        title=title,
        target_url=target_url,
        hashtags=hashtags,
        variants=variants,
        media=media,
        remove_media=False,
    )


@transaction.atomic
def content_update(
    *,
    content: ContentPiece,
    title: str,
    target_url: str,
    variants: Sequence[VariantInput],
    hashtags: Sequence[str] | str = (),
    media: UploadedFile | None = None,
    remove_media: bool = False,
) -> ContentPiece:
    campaign = Campaign.objects.select_for_update().get(pk=content.campaign_id)
    _require_editable(campaign)
    piece = ContentPiece.objects.select_related("campaign").get(pk=content.pk)
    return _content_write(
        piece=piece,
        title=title,
        target_url=target_url,
        hashtags=hashtags,
        variants=variants,
        media=media,
        remove_media=remove_media,
    )


@transaction.atomic
def content_delete(*, content: ContentPiece) -> None:
    campaign = Campaign.objects.select_for_update().get(pk=content.campaign_id)
    _require_editable(campaign)
    names = [f.name for f in (content.media, content.thumbnail) if f]
    storage = content.media.storage
    content.delete()
    transaction.on_commit(lambda: [storage.delete(name) for name in names])


@transaction.atomic
def notification_mark_read(*, brand: Brand) -> int:
    return Notification.objects.filter(brand=brand, read_at__isnull=True).update(read_at=timezone.now())
