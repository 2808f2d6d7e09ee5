"""Money: a double-entry ledger and the records that explain its transactions.

Every amount is an integer in minor units (cents) with an ISO currency. A ``LedgerEntry``
carries a signed amount: positive credits the account (it holds more), negative debits it.
The entries of one ``LedgerTransaction`` sum to zero per currency. Transactions and entries
are never updated or deleted (a database trigger refuses it, see migration 0002); mistakes
are corrected by a reversing transaction. ``LedgerAccount.balance_minor`` is a cache of the
sum of its entries, proven by ``manage.py ledger_reconcile``.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from payouts.errors import InvalidDestination
from payouts.providers import payout_provider, payout_provider_class
from payouts.providers.sepa import bic_clean, iban_clean


class AccountKind(models.TextChoices):
    BRAND_AVAILABLE = "brand_available", _("Brand balance")
    CAMPAIGN_RESERVED = "campaign_reserved", _("Campaign budget reserved")
    INFLUENCER_PENDING = "influencer_pending", _("Influencer earnings on hold")
    INFLUENCER_AVAILABLE = "influencer_available", _("Influencer earnings available")
    PAYOUTS_IN_FLIGHT = "payouts_in_flight", _("Payouts requested, not yet sent")
    PLATFORM_FEES = "platform_fees", _("Platform fees")
    EXTERNAL_FUNDING = "external_funding", _("External: money received from brands")
    EXTERNAL_PAYOUT_CLEARING = "external_payout_clearing", _("External: money sent to influencers and charities")
    EXTERNAL_WRITE_OFF = "external_write_off", _("External: clawbacks the platform could not recover")


EXTERNAL_KINDS = frozenset(
    {AccountKind.EXTERNAL_FUNDING, AccountKind.EXTERNAL_PAYOUT_CLEARING, AccountKind.EXTERNAL_WRITE_OFF}
)


class LedgerAccount(models.Model):
    """One balance. External accounts mirror the world outside and are the only ones allowed below zero."""

    key = models.CharField(_("key"), max_length=120, unique=True, editable=False)
    kind = models.CharField(_("kind"), max_length=32, choices=AccountKind.choices, db_index=True)
    currency = models.CharField(_("currency"), max_length=3)
    is_external = models.BooleanField(_("external"), default=False)
    brand = models.ForeignKey(
        "brands.Brand", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("brand")
    )
    campaign = models.ForeignKey(
        "campaigns.Campaign",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("campaign"),
    )
    influencer = models.ForeignKey(
        "influencers.InfluencerProfile",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("influencer"),
    )
    balance_minor = models.BigIntegerField(_("balance (cached)"), default=0)
    created_at = models.DateTimeField(_("opened"), auto_now_add=True)

    class Meta:
        verbose_name = _("ledger account")
        verbose_name_plural = _("ledger accounts")
        ordering = ("key",)
        constraints = [
            models.CheckConstraint(
                condition=Q(is_external=True) | Q(balance_minor__gte=0), name="ledger_account_internal_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return self.key


class TransactionKind(models.TextChoices):
    FUNDING = "funding", _("Top-up")
    REFUND = "refund", _("Refund to brand")
    RESERVATION = "reservation", _("Budget reserved")
    RELEASE = "release", _("Unused budget released")
    EARNING = "earning", _("Earnings")
    EARNING_REVERSAL = "earning_reversal", _("Earnings reversed (metrics fell)")
    HOLD_RELEASE = "hold_release", _("Hold period over")
    PAYOUT_REQUEST = "payout_request", _("Payout requested")
    PAYOUT_SENT = "payout_sent", _("Payout sent")
    PAYOUT_RETURN = "payout_return", _("Payout failed or returned")
    REVERSAL = "reversal", _("Correction (reversal)")


class LedgerTransaction(models.Model):
    """An immutable set of balanced entries. ``idempotency_key`` makes each business event book once."""

    kind = models.CharField(_("kind"), max_length=24, choices=TransactionKind.choices, db_index=True)
    idempotency_key = models.CharField(_("idempotency key"), max_length=200, unique=True, null=True, blank=True)
    description = models.CharField(_("description"), max_length=300, blank=True)
    reverses = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        db_constraint=False,  # checked per statement (migration 0006)
        null=True,
        blank=True,
        related_name="reversed_by",
        verbose_name=_("reverses"),
    )
    brand = models.ForeignKey(
        "brands.Brand",
        on_delete=models.PROTECT,
        db_constraint=False,  # checked per statement (migration 0006)
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("brand"),
    )
    campaign = models.ForeignKey(
        "campaigns.Campaign",
        on_delete=models.PROTECT,
        db_constraint=False,  # checked per statement (migration 0006)
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("campaign"),
    )
    influencer = models.ForeignKey(
        "influencers.InfluencerProfile",
        on_delete=models.PROTECT,
        db_constraint=False,  # checked per statement (migration 0006)
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("influencer"),
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        db_constraint=False,  # checked per statement (migration 0006)
        db_index=False,  # indexed where set (Meta.indexes): most transactions are booked by the platform
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    created_at = models.DateTimeField(_("booked"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("ledger transaction")
        verbose_name_plural = _("ledger transactions")
        ordering = ("-created_at", "-pk")
        indexes = [
            models.Index(fields=["recorded_by"], name="ledger_txn_recorded_by", condition=Q(recorded_by__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_kind_display()}"


class LedgerEntry(models.Model):
    # The references of the ledger's bulk tables (entries, transactions, accruals, lines) are checked once per
    # statement by triggers instead of once per row at commit (migration 0006, ADR 14): same guarantee.
    transaction = models.ForeignKey(
        LedgerTransaction,
        on_delete=models.PROTECT,
        db_constraint=False,
        related_name="entries",
        verbose_name=_("transaction"),
    )
    account = models.ForeignKey(
        LedgerAccount, on_delete=models.PROTECT, db_constraint=False, related_name="entries", verbose_name=_("account")
    )
    #: Signed: positive credits the account, negative debits it.
    amount_minor = models.BigIntegerField(_("amount"))
    currency = models.CharField(_("currency"), max_length=3)

    class Meta:
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        ordering = ("pk",)
        constraints = [models.CheckConstraint(condition=~Q(amount_minor=0), name="ledger_entry_not_zero")]

    def __str__(self) -> str:
        return f"{self.account.key} {self.amount_minor:+d} {self.currency}"


# --- funding --------------------------------------------------------------------------


class FundingSource(models.TextChoices):
    BANK_TRANSFER = "bank_transfer", _("Bank transfer")
    CARD = "card", _("Card (checkout)")


class FundingStatus(models.TextChoices):
    OPEN = "open", _("Waiting for payment")
    COMPLETED = "completed", _("Received")
    EXPIRED = "expired", _("Expired")


class Funding(models.Model):
    """A top-up: recorded by staff (bank transfer) or opened as a card checkout and completed by webhook."""

    brand = models.ForeignKey("brands.Brand", on_delete=models.PROTECT, related_name="+", verbose_name=_("brand"))
    source = models.CharField(_("source"), max_length=20, choices=FundingSource.choices)
    reference = models.CharField(
        _("reference"), max_length=200, help_text=_("Bank reference or the provider's checkout session id.")
    )
    amount_minor = models.BigIntegerField(_("amount"))
    currency = models.CharField(_("currency"), max_length=3)
    status = models.CharField(_("status"), max_length=12, choices=FundingStatus.choices, default=FundingStatus.OPEN)
    checkout_url = models.URLField(_("checkout address"), max_length=1000, blank=True)
    ledger_transaction = models.OneToOneField(
        LedgerTransaction,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="funding",
        verbose_name=_("ledger transaction"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    completed_at = models.DateTimeField(_("received"), null=True, blank=True)

    class Meta:
        verbose_name = _("funding")
        verbose_name_plural = _("fundings")
        ordering = ("-created_at",)
        constraints = [
            models.UniqueConstraint(fields=("source", "reference"), name="funding_unique_reference"),
            models.CheckConstraint(condition=Q(amount_minor__gt=0), name="funding_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.brand} {self.amount_minor} {self.currency} ({self.source})"


class WebhookEvent(models.Model):
    """A provider event processed once: the unique event id makes redelivery a no-op."""

    provider = models.CharField(_("provider"), max_length=40)
    event_id = models.CharField(_("event id"), max_length=200)
    event_type = models.CharField(_("type"), max_length=100)
    payload = models.JSONField(_("payload"))
    received_at = models.DateTimeField(_("received"), auto_now_add=True)

    class Meta:
        verbose_name = _("webhook event")
        verbose_name_plural = _("webhook events")
        ordering = ("-received_at",)
        constraints = [models.UniqueConstraint(fields=("provider", "event_id"), name="webhook_event_unique")]

    def __str__(self) -> str:
        return f"{self.provider}:{self.event_id}"


# --- earnings -------------------------------------------------------------------------


class MetricSource(models.TextChoices):
    NETWORK_REPORTED = "network", _("reported by the network")
    MEASURED = "measured", _("measured by Linkilike")


class Metric(models.TextChoices):
    REACH = "reach", _("Impressions / reach")
    ENGAGEMENTS = "engagements", _("Engagements")
    UNIQUE_CLICKS = "unique_clicks", _("Unique clicks")
    #: A flat fee per share that stayed up with its disclosure.
    PARTICIPATION = "participation", _("Participation fee")
    CAP = "cap", _("Cap adjustment")


class ShareEarning(models.Model):
    """What one share has counted and earned so far (cumulative); updated under a row lock."""

    share_key = models.CharField(_("share"), max_length=120, unique=True)
    campaign = models.ForeignKey(
        "campaigns.Campaign",
        on_delete=models.PROTECT,
        db_constraint=False,  # checked per statement (migration 0011, linkilike.references)
        related_name="+",
        verbose_name=_("campaign"),
    )
    influencer = models.ForeignKey(
        "influencers.InfluencerProfile",
        on_delete=models.PROTECT,
        db_constraint=False,  # checked per statement (migration 0011, linkilike.references)
        related_name="+",
        verbose_name=_("influencer"),
    )
    impressions = models.BigIntegerField(_("impressions counted"), default=0)
    engagements = models.BigIntegerField(_("engagements counted"), default=0)
    unique_clicks = models.BigIntegerField(_("unique clicks counted"), default=0)
    #: 1 once the share's participation fee is booked (0 again when it is taken back), and the fee it was
    #: promised at acceptance, carried with it (``campaigns.earnings.pricing.ParticipationFee``).
    participations = models.BigIntegerField(_("participations counted"), default=0)
    participation_price_minor = models.BigIntegerField(_("participation fee counted"), default=0)
    earned_minor = models.BigIntegerField(_("earned"), default=0)
    fee_minor = models.BigIntegerField(_("platform fee"), default=0)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("share earning")
        verbose_name_plural = _("share earnings")
        ordering = ("-updated_at",)

    def __str__(self) -> str:
        return self.share_key


class EarningAccrual(models.Model):
    """One metrics window of one share turned into money (or a reversal). Unique per (share, window)."""

    # References checked per statement (migration 0006), see LedgerEntry.
    share = models.ForeignKey(
        ShareEarning,
        on_delete=models.PROTECT,
        db_constraint=False,
        db_index=False,  # the unique (share, window) index serves every lookup by share
        related_name="accruals",
        verbose_name=_("share"),
    )
    window = models.CharField(_("metrics window"), max_length=80)
    campaign = models.ForeignKey(
        "campaigns.Campaign",
        on_delete=models.PROTECT,
        db_constraint=False,
        related_name="+",
        verbose_name=_("campaign"),
    )
    influencer = models.ForeignKey(
        "influencers.InfluencerProfile",
        on_delete=models.PROTECT,
        db_constraint=False,
        related_name="+",
        verbose_name=_("influencer"),
    )
    source = models.CharField(_("source"), max_length=12, choices=MetricSource.choices)
    currency = models.CharField(_("currency"), max_length=3)
    earned_minor = models.BigIntegerField(_("earned"), default=0)
    fee_minor = models.BigIntegerField(_("platform fee"), default=0)
    #: What of this accrual still sits on hold; the hold release and reversals consume it.
    pending_minor = models.BigIntegerField(_("still on hold"), default=0)
    hold_until = models.DateTimeField(_("on hold until"), db_index=True)
    #: The transaction that moved this accrual's money: its own (``earnings_accrue``), or the one its
    #: set-based batch posted for the campaign's earnings or reversals (ADR 24).
    ledger_transaction = models.ForeignKey(
        LedgerTransaction,
        on_delete=models.PROTECT,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="accruals",
        verbose_name=_("ledger transaction"),
    )
    created_at = models.DateTimeField(_("booked"), auto_now_add=True)

    class Meta:
        verbose_name = _("earning accrual")
        verbose_name_plural = _("earning accruals")
        ordering = ("-created_at", "-pk")
        constraints = [
            models.UniqueConstraint(fields=("share", "window"), name="accrual_unique_share_window"),
            models.CheckConstraint(condition=Q(pending_minor__gte=0), name="accrual_pending_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.share.share_key} @ {self.window}"


class EarningLine(models.Model):
    """Explains an accrual: which metric, how many units, at which price."""

    accrual = models.ForeignKey(
        EarningAccrual, on_delete=models.PROTECT, db_constraint=False, related_name="lines"
    )  # checked per statement (migration 0006)
    metric = models.CharField(_("metric"), max_length=16, choices=Metric.choices)
    units = models.BigIntegerField(_("units"), default=0)
    price_minor = models.BigIntegerField(_("price"), default=0)
    per_units = models.PositiveIntegerField(_("price per"), default=1)
    amount_minor = models.BigIntegerField(_("amount"))

    class Meta:
        verbose_name = _("earning line")
        verbose_name_plural = _("earning lines")
        ordering = ("pk",)

    def __str__(self) -> str:
        return f"{self.metric} {self.units} -> {self.amount_minor}"


# --- payouts --------------------------------------------------------------------------


#: Destination fields kept in columns of their own (those of the first payout providers); the fields of
#: any other provider are kept in ``PayoutDestination.details``, so adding a provider needs no migration.
DESTINATION_COLUMNS = ("holder_name", "iban", "bic", "paypal_email", "stripe_account")


class PayoutDestination(models.Model):
    """Where an influencer is paid: an account of one payout provider (``kind``, a name registered in
    ``settings.PAYOUTS_PAYOUT_PROVIDERS``), whose fields that provider declared and validated."""

    influencer = models.ForeignKey(
        "influencers.InfluencerProfile",
        on_delete=models.PROTECT,
        related_name="payout_destinations",
        verbose_name=_("influencer"),
    )
    kind = models.CharField(_("kind"), max_length=12)
    holder_name = models.CharField(_("account holder"), max_length=140, blank=True)
    iban = models.CharField(_("IBAN"), max_length=34, blank=True)
    bic = models.CharField(_("BIC"), max_length=11, blank=True)
    paypal_email = models.EmailField(_("PayPal email"), blank=True)
    stripe_account = models.CharField(_("Stripe account id"), max_length=64, blank=True)
    #: The provider's other destination fields (providers added after the columns above).
    details = models.JSONField(_("details"), default=dict, blank=True)
    #: Normalised IBAN / email / account id, to spot several influencers sharing one destination (F5).
    fingerprint = models.CharField(_("fingerprint"), max_length=200, db_index=True, editable=False)
    verified_at = models.DateTimeField(_("verified"), null=True, blank=True)
    created_at = models.DateTimeField(_("added"), auto_now_add=True)

    class Meta:
        verbose_name = _("payout destination")
        verbose_name_plural = _("payout destinations")
        ordering = ("-created_at",)
        constraints = [
            models.UniqueConstraint(fields=("influencer", "fingerprint"), name="destination_unique_per_influencer")
        ]

    def __str__(self) -> str:
        return self.masked

    @property
    def fields(self) -> dict[str, str]:
        """The provider's destination fields and their values (what ``destination_clean`` returned)."""
        values = {name: str(getattr(self, name)) for name in DESTINATION_COLUMNS}
        values.update({str(key): str(value) for key, value in (self.details or {}).items()})
        return {spec.name: values.get(spec.name, "") for spec in payout_provider_class(self.kind).destination_fields}

    @staticmethod
    def columns_for(fields: dict[str, str]) -> dict[str, object]:
        """Where a provider's cleaned fields are stored: their own column if there is one, ``details`` otherwise."""
        columns: dict[str, object] = {name: value for name, value in fields.items() if name in DESTINATION_COLUMNS}
        columns["details"] = {name: value for name, value in fields.items() if name not in DESTINATION_COLUMNS}
        return columns

    @property
    def masked(self) -> str:
        return payout_provider(self.kind).destination_masked(self.fields)

    @property
    def described(self) -> str:
        """The masked account with what it is, for a message ("Bank account (SEPA) AT61 •••• 3201")."""
        return payout_provider(self.kind).destination_described(self.fields)

    @property
    def kind_label(self) -> str:
        return str(payout_provider_class(self.kind).destination_label)


class Charity(models.Model):
    name = models.CharField(_("name"), max_length=140)
    description = models.CharField(_("description"), max_length=300, blank=True)
    website = models.URLField(_("website"), blank=True)
    iban = models.CharField(_("IBAN"), max_length=34)
    bic = models.CharField(_("BIC"), max_length=11, blank=True)
    is_active = models.BooleanField(_("listed"), default=True)

    #: Donations are bank transfers to the charity's account.
    PAYOUT_PROVIDER = "sepa"

    class Meta:
        verbose_name = _("charity")
        verbose_name_plural = _("charities")
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        """The account is checked as an influencer's bank account is (staff add charities in admin)."""
        errors = {}
        for name, check in (("iban", iban_clean), ("bic", bic_clean)):
            try:
                setattr(self, name, check(getattr(self, name), field=name))
            except InvalidDestination as error:
                errors[name] = str(error)
        if errors:
            raise ValidationError(errors)

    @property
    def fields(self) -> dict[str, str]:
        """The charity's account as the SEPA provider's destination fields."""
        return {"holder_name": self.name, "iban": self.iban, "bic": self.bic}


class PayoutStatus(models.TextChoices):
    REQUESTED = "requested", _("Waiting for review")
    APPROVED = "approved", _("Approved, waiting for the next batch")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed, money returned to your balance")
    REJECTED = "rejected", _("Rejected, money returned to your balance")


class PayoutBatch(models.Model):
    #: A payout provider's name (``settings.PAYOUTS_PAYOUT_PROVIDERS``).
    provider = models.CharField(_("provider"), max_length=12)
    currency = models.CharField(_("currency"), max_length=3)
    total_minor = models.BigIntegerField(_("total"), default=0)
    message_id = models.CharField(_("message id"), max_length=35, unique=True)
    provider_reference = models.CharField(_("provider reference"), max_length=200, blank=True)
    document = models.TextField(_("file"), blank=True, help_text=_("The pain.001 XML for SEPA batches."))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("payout batch")
        verbose_name_plural = _("payout batches")
        ordering = ("-created_at",)

    def __str__(self) -> str:
        return f"{self.provider_label} {self.message_id}"

    @property
    def provider_label(self) -> str:
        return str(payout_provider_class(self.provider).label)


class PayoutRequest(models.Model):
    influencer = models.ForeignKey(
        "influencers.InfluencerProfile", on_delete=models.PROTECT, related_name="+", verbose_name=_("influencer")
    )
    amount_minor = models.BigIntegerField(_("amount"))
    currency = models.CharField(_("currency"), max_length=3)
    destination = models.ForeignKey(
        PayoutDestination,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="payouts",
        verbose_name=_("destination"),
    )
    charity = models.ForeignKey(
        Charity, on_delete=models.PROTECT, null=True, blank=True, related_name="donations", verbose_name=_("charity")
    )
    status = models.CharField(
        _("status"), max_length=12, choices=PayoutStatus.choices, default=PayoutStatus.REQUESTED, db_index=True
    )
    #: A payout provider's name (``settings.PAYOUTS_PAYOUT_PROVIDERS``): the destination's kind, or SEPA for a charity.
    provider = models.CharField(_("provider"), max_length=12)
    batch = models.ForeignKey(
        PayoutBatch, on_delete=models.PROTECT, null=True, blank=True, related_name="payouts", verbose_name=_("batch")
    )
    provider_reference = models.CharField(_("provider reference"), max_length=200, blank=True)
    failure_reason = models.CharField(_("failure reason"), max_length=300, blank=True)
    request_transaction = models.OneToOneField(
        LedgerTransaction, on_delete=models.PROTECT, related_name="+", verbose_name=_("request booking")
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reviewed by"),
    )
    created_at = models.DateTimeField(_("requested"), auto_now_add=True)
    reviewed_at = models.DateTimeField(_("reviewed"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        verbose_name = _("payout request")
        verbose_name_plural = _("payout requests")
        ordering = ("-created_at",)
        constraints = [
            models.CheckConstraint(condition=Q(amount_minor__gt=0), name="payout_amount_positive"),
            models.CheckConstraint(
                condition=Q(destination__isnull=False, charity__isnull=True)
                | Q(destination__isnull=True, charity__isnull=False),
                name="payout_destination_xor_charity",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.influencer} {self.amount_minor} {self.currency} ({self.status})"
