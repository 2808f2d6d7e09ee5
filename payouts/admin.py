"""Staff views of the money: read-only ledger, funding records (bank transfers are recorded here),
payout review queue with bulk actions, batches with their SEPA files, charities, reconcile report."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.formats import number_format
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from brands.forms import CURRENCY_CHOICES
from brands.models import Brand
from payouts import selectors
from payouts.errors import PayoutsError
from payouts.forms import AmountField
from payouts.models import (
    Charity,
    EarningAccrual,
    EarningLine,
    Funding,
    FundingSource,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    PayoutBatch,
    PayoutDestination,
    PayoutRequest,
    ShareEarning,
    WebhookEvent,
)
from payouts.money import money_format
from payouts.services.batches import payout_batches_run
from payouts.services.ledger import brand_fund
from payouts.services.payouts import payout_approve, payout_mark_failed, payout_reject


class ReadOnlyAdmin(admin.ModelAdmin):
    """The ledger is written only by services; staff browse it."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class LedgerEntryInline(admin.TabularInline):
    model = LedgerEntry
    fields = ("account", "amount_minor", "currency")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[LedgerEntry]:
        return super().get_queryset(request).select_related("account")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(LedgerAccount)
class LedgerAccountAdmin(ReadOnlyAdmin):
    list_display = ("key", "kind", "currency", "balance", "is_external", "brand", "campaign", "influencer")
    list_filter = ("kind", "currency", "is_external")
    search_fields = ("key", "brand__name", "campaign__name", "influencer__display_name")
    change_list_template = "admin/payouts/ledgeraccount/change_list.html"

    @admin.display(description=gettext_lazy("balance"), ordering="balance_minor")
    def balance(self, obj: LedgerAccount) -> str:
        return money_format(obj.balance_minor, obj.currency)

    def get_urls(self) -> list[URLPattern]:
        custom = [
            path(
                "reconcile/",
                self.admin_site.admin_view(self.reconcile_view),
                name="payouts_ledgeraccount_reconcile",
            )
        ]
        return custom + super().get_urls()

    def reconcile_view(self, request: HttpRequest) -> HttpResponse:
        context = {
            **self.admin_site.each_context(request),
            "title": _("Ledger reconcile report"),
            "report": selectors.ledger_reconcile_report(),
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/payouts/reconcile.html", context)


#: Entries shown on a transaction's page; a larger transaction (an earnings batch posts one entry per
#: influencer of the campaign, ADR 24) links to its entries' list instead.
INLINE_ENTRIES_MAX = 100


@admin.register(LedgerTransaction)
class LedgerTransactionAdmin(ReadOnlyAdmin):
    list_display = ("id", "kind", "description", "brand", "campaign", "influencer", "created_at")
    list_filter = ("kind",)
    search_fields = ("description", "idempotency_key", "brand__name", "influencer__display_name")
    date_hierarchy = "created_at"
    inlines = (LedgerEntryInline,)
    readonly_fields = ("entries_and_accruals",)

    def get_inlines(self, request: HttpRequest, obj: Any = None) -> list[type[admin.options.InlineModelAdmin]]:
        if obj is not None and obj.entries.count() > INLINE_ENTRIES_MAX:
            return []
        return list(self.inlines)

    @admin.display(description=gettext_lazy("entries and accruals"))
    def entries_and_accruals(self, obj: LedgerTransaction) -> str:
        entries = obj.entries.count()
        accruals = obj.accruals.count()
        entries_url = reverse("admin:payouts_ledgerentry_changelist") + f"?transaction__id__exact={obj.pk}"
        accruals_url = reverse("admin:payouts_earningaccrual_changelist") + f"?ledger_transaction__id__exact={obj.pk}"
        return format_html(
            '<a href="{}">{}</a> · <a href="{}">{}</a>',
            entries_url,
            ngettext("%(count)s entry", "%(count)s entries", entries)
            % {"count": number_format(entries, force_grouping=True)},
            accruals_url,
            ngettext("%(count)s accrual", "%(count)s accruals", accruals)
            % {"count": number_format(accruals, force_grouping=True)},
        )


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = ("id", "transaction", "account", "amount_minor", "currency")
    list_filter = ("currency", "account__kind")
    search_fields = ("account__key",)


class BankTransferForm(forms.ModelForm):
    brand = forms.ModelChoiceField(queryset=Brand.objects.order_by("name"))
    # A list, not free text: "eur" or "€" typed by hand would open a balance in a currency nobody uses.
    currency = forms.ChoiceField(label=gettext_lazy("currency"), choices=CURRENCY_CHOICES, initial="EUR")
    amount = AmountField(label=gettext_lazy("Amount received"))

    class Meta:
        model = Funding
        fields = ("brand", "reference", "currency")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        reference = (data.get("reference") or "").strip()
        if Funding.objects.filter(source=FundingSource.BANK_TRANSFER, reference=reference).exists():
            raise forms.ValidationError(_("A bank transfer with this reference was already recorded."))
        return data


@admin.register(Funding)
class FundingAdmin(admin.ModelAdmin):
    """Staff record received bank transfers here ("Add"); card top-ups arrive by webhook."""

    list_display = ("brand", "source", "reference", "amount", "status", "created_by", "created_at", "completed_at")
    list_filter = ("source", "status", "currency")
    search_fields = ("reference", "brand__name")
    form = BankTransferForm

    @admin.display(description=gettext_lazy("amount"), ordering="amount_minor")
    def amount(self, obj: Funding) -> str:
        return money_format(obj.amount_minor, obj.currency)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Funding, form: Any, change: bool) -> None:
        txn = brand_fund(
            brand=form.cleaned_data["brand"],
            amount_minor=form.cleaned_data["amount"],
            currency=form.cleaned_data["currency"],
            source=FundingSource.BANK_TRANSFER,
            reference=form.cleaned_data["reference"],
            recorded_by=request.user,  # type: ignore[arg-type]
        )
        recorded = Funding.objects.get(ledger_transaction=txn)
        obj.pk = recorded.pk
        obj.amount_minor = recorded.amount_minor

    def response_add(self, request: HttpRequest, obj: Funding, post_url_continue: str | None = None) -> HttpResponse:
        # Said in words with the amount formatted, instead of Django's "The funding “<str(obj)>” was added".
        self.message_user(
            request,
            _(
                "Recorded a bank transfer of %(amount)s from %(brand)s (reference %(reference)s): "
                "it is in the brand's balance now."
            )
            % {"amount": money_format(obj.amount_minor, obj.currency), "brand": obj.brand, "reference": obj.reference},
            messages.SUCCESS,
        )
        if "_addanother" in request.POST:
            return HttpResponseRedirect(request.path)
        return HttpResponseRedirect(reverse("admin:payouts_funding_changelist"))


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdmin):
    list_display = ("provider", "event_id", "event_type", "received_at")
    list_filter = ("provider", "event_type")
    search_fields = ("event_id",)


class EarningLineInline(admin.TabularInline):
    model = EarningLine
    fields = ("metric", "units", "price_minor", "per_units", "amount_minor")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ShareEarning)
class ShareEarningAdmin(ReadOnlyAdmin):
    list_display = (
        "share_key",
        "campaign",
        "influencer",
        "impressions",
        "engagements",
        "unique_clicks",
        "earned_minor",
    )
    list_filter = ("campaign",)
    search_fields = ("share_key", "influencer__display_name", "campaign__name")


@admin.register(EarningAccrual)
class EarningAccrualAdmin(ReadOnlyAdmin):
    list_display = (
        "share",
        "window",
        "campaign",
        "influencer",
        "earned_minor",
        "fee_minor",
        "pending_minor",
        "hold_until",
    )
    list_filter = ("source", "currency")
    search_fields = ("share__share_key", "window", "influencer__display_name")
    inlines = (EarningLineInline,)


class SharedDestinationFilter(admin.SimpleListFilter):
    title = gettext_lazy("shared with other influencers")
    parameter_name = "shared"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", _("Yes"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() != "yes":
            return queryset
        shared = list(selectors.destination_sharing_counts())
        field = "fingerprint" if queryset.model is PayoutDestination else "destination__fingerprint"
        return queryset.filter(**{f"{field}__in": shared})


def _shared_badge(fingerprint: str | None) -> str:
    count = selectors.destination_sharing_counts().get(fingerprint or "", 0)
    return format_html("<strong>⚠ {}</strong>", _("shared by %(count)d") % {"count": count}) if count else "-"


@admin.register(PayoutDestination)
class PayoutDestinationAdmin(ReadOnlyAdmin):
    list_display = ("masked", "influencer", "kind", "verified_at", "shared_with")
    list_filter = ("kind", SharedDestinationFilter)
    search_fields = ("influencer__display_name", "holder_name")
    exclude = ("iban", "paypal_email", "stripe_account", "details", "fingerprint")

    @admin.display(description=gettext_lazy("influencers sharing it"))
    def shared_with(self, obj: PayoutDestination) -> str:
        return _shared_badge(obj.fingerprint)


@admin.register(Charity)
class CharityAdmin(admin.ModelAdmin):
    list_display = ("name", "is_active", "website")
    list_filter = ("is_active",)
    search_fields = ("name",)


@admin.register(PayoutRequest)
class PayoutRequestAdmin(admin.ModelAdmin):
    """The payout review queue: filter by status, approve or reject in bulk, send approved ones."""

    list_display = (
        "id",
        "influencer",
        "amount",
        "target",
        "status",
        "destination_shared",
        "provider",
        "batch",
        "created_at",
    )
    list_filter = ("status", "provider", SharedDestinationFilter)
    search_fields = ("influencer__display_name", "influencer__user__email", "provider_reference")
    readonly_fields = [field.name for field in PayoutRequest._meta.fields]
    actions = ("approve_selected", "reject_selected", "send_approved", "record_return")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=gettext_lazy("amount"), ordering="amount_minor")
    def amount(self, obj: PayoutRequest) -> str:
        return money_format(obj.amount_minor, obj.currency)

    @admin.display(description=gettext_lazy("to"))
    def target(self, obj: PayoutRequest) -> str:
        if obj.charity_id:
            return _("Donation: %(name)s") % {"name": obj.charity}
        return str(obj.destination)

    @admin.display(description=gettext_lazy("destination shared"))
    def destination_shared(self, obj: PayoutRequest) -> str:
        return _shared_badge(obj.destination.fingerprint if obj.destination else None)

    def _each(self, request: HttpRequest, queryset: QuerySet[PayoutRequest], action: Any, done: str) -> None:
        count = 0
        for payout in queryset.order_by("pk"):
            try:
                action(payout)
            except PayoutsError as error:
                messages.error(request, f"#{payout.pk}: {error}")
            else:
                count += 1
        messages.success(request, done % {"count": count})

    @admin.action(description=gettext_lazy("Approve selected payouts"))
    def approve_selected(self, request: HttpRequest, queryset: QuerySet[PayoutRequest]) -> None:
        self._each(
            request,
            queryset,
            lambda payout: payout_approve(payout=payout, reviewed_by=request.user),  # type: ignore[arg-type]
            _("%(count)d payouts approved."),
        )

    @admin.action(description=gettext_lazy("Reject selected payouts (money goes back to the balance)"))
    def reject_selected(self, request: HttpRequest, queryset: QuerySet[PayoutRequest]) -> None:
        self._each(
            request,
            queryset,
            lambda payout: payout_reject(
                payout=payout,
                reviewed_by=request.user,  # type: ignore[arg-type]
                reason=_("rejected in review"),
            ),
            _("%(count)d payouts rejected."),
        )

    @admin.action(description=gettext_lazy("Send all approved payouts now (creates batches and SEPA files)"))
    def send_approved(self, request: HttpRequest, queryset: QuerySet[PayoutRequest]) -> None:
        try:
            batches = payout_batches_run(created_by=request.user)  # type: ignore[arg-type]
        except PayoutsError as error:
            messages.error(request, str(error))
            return
        for batch in batches:
            url = reverse("admin:payouts_payoutbatch_change", args=[batch.pk])
            messages.success(request, format_html('{} <a href="{}">{}</a>', _("Batch created:"), url, str(batch)))
        if not batches:
            messages.info(request, _("No approved payouts waiting."))

    @admin.action(description=gettext_lazy("Record a failure or bank return (money goes back to the balance)"))
    def record_return(self, request: HttpRequest, queryset: QuerySet[PayoutRequest]) -> None:
        self._each(
            request,
            queryset,
            lambda payout: payout_mark_failed(payout=payout, reason=_("returned by the bank")),
            _("%(count)d payouts returned to the balance."),
        )


@admin.register(PayoutBatch)
class PayoutBatchAdmin(ReadOnlyAdmin):
    list_display = ("message_id", "provider", "currency", "total", "payouts_count", "sepa_file", "created_at")
    list_filter = ("provider", "currency")
    search_fields = ("message_id", "provider_reference")
    exclude = ("document",)
    readonly_fields = ("sepa_file",)

    @admin.display(description=gettext_lazy("total"), ordering="total_minor")
    def total(self, obj: PayoutBatch) -> str:
        return money_format(obj.total_minor, obj.currency)

    @admin.display(description=gettext_lazy("payouts"))
    def payouts_count(self, obj: PayoutBatch) -> int:
        return obj.payouts.count()

    @admin.display(description=gettext_lazy("SEPA file"))
    def sepa_file(self, obj: PayoutBatch) -> str:
        if not obj.document:
            return "-"
        url = reverse("admin:payouts_payoutbatch_document", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("Download pain.001 XML"))

    def get_urls(self) -> list[URLPattern]:
        custom = [
            path(
                "<int:pk>/pain001.xml",
                self.admin_site.admin_view(self.document_view),
                name="payouts_payoutbatch_document",
            )
        ]
        return custom + super().get_urls()

    def document_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        batch = get_object_or_404(PayoutBatch, pk=pk)
        response = HttpResponse(batch.document, content_type="application/xml; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{batch.message_id}.xml"'
        return response
