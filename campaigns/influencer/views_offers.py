"""The influencer's offers inbox under /i/offers/: list, offer page with the accept form, decline, caption resubmit.

Every view is influencer-owned (``InfluencerOwnedViewMixin``): offers and shares of other
influencers are 404. Writes go through ``campaigns.matching.services``.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views import View
from django.views.generic import DetailView, ListView
from django.views.generic.detail import SingleObjectMixin

from campaigns.errors import CampaignError
from campaigns.influencer.forms_offers import CaptionResubmitForm, OfferAcceptForm, OfferDeclineForm
from campaigns.influencer.selectors_offers import (
    OFFER_TABS,
    account_options_for_offer,
    campaign_network_for_account,
    network_codes_of_options,
    network_rules_for_campaign,
    offer_caption_initial,
    offer_caption_preview,
    offer_content_piece,
    offer_disclosure,
    offer_explanation,
    offer_queryset_for_influencer,
    offer_tab_counts_for_influencer,
    offer_variant_pick,
    offer_variants,
    participation_note_for_campaign,
    pay_terms_for_campaign,
    share_list_for_offer,
)
from campaigns.matching import services as matching_services
from campaigns.matching.selectors import offer_estimate_get, offer_language, share_language
from campaigns.models import CaptionStatus, Offer, OfferStatus, Share
from influencers.ownership import InfluencerOwnedViewMixin
from influencers.selectors import connect_accounts_url
from influencers.timezones import influencer_time_zone

#: Service error fields -> form fields.
ERROR_FIELDS = {"caption_text": "caption", "account_ids": "accounts", "scheduled_at": "scheduled_at"}


def _add_error(form: Any, error: CampaignError) -> None:
    field = ERROR_FIELDS.get(error.field or "", error.field)
    problems = getattr(error, "problems", None) or [str(error)]
    for problem in problems:
        form.add_error(field if field in form.fields else None, problem)


class OfferListView(InfluencerOwnedViewMixin, ListView):
    model = Offer
    template_name = "influencers/offers/list.html"
    context_object_name = "offers"
    paginate_by = 20

    def tab(self) -> str:
        tab = self.request.GET.get("tab", "new")
        return tab if tab in OFFER_TABS else "new"

    def refine_queryset(self, queryset: Any) -> Any:
        statuses = OFFER_TABS[self.tab()][1]
        ordering = ("expires_at", "-created_at") if self.tab() == "new" else ("-created_at",)
        return (
            offer_queryset_for_influencer(influencer=self.influencer)
            .filter(status__in=statuses)
            .prefetch_related("shares__connected_account")
            .order_by(*ordering)
        )

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        counts = offer_tab_counts_for_influencer(influencer=self.influencer)
        context["tab"] = self.tab()
        context["tabs"] = [(key, label, counts.get(key, 0)) for key, (label, _statuses) in OFFER_TABS.items()]
        context["rows"] = [
            {
                "offer": offer,
                "pay_terms": pay_terms_for_campaign(campaign=offer.campaign),
                "piece": offer_content_piece(offer=offer),
            }
            for offer in context["offers"]
        ]
        return context


class OfferDetailView(InfluencerOwnedViewMixin, DetailView):
    """The offer: brief, content, pay, estimate, deadline; the accept form while it is new; its shares after."""

    model = Offer
    template_name = "influencers/offers/detail.html"
    context_object_name = "offer"

    def refine_queryset(self, queryset: Any) -> Any:
        return offer_queryset_for_influencer(influencer=self.influencer)

    def _form(self, offer: Offer, data: Any = None) -> OfferAcceptForm:
        options = account_options_for_offer(offer=offer)
        initial: dict[str, Any] = {}
        if data is None:
            variant = offer_variant_pick(offer=offer, variant_id=self.request.GET.get("variant"))
            selectable = [option.account.pk for option in options if option.selectable]
            initial = {
                "caption": offer_caption_initial(offer=offer, variant=variant),
                "variant": variant.pk if variant else "",
                "accounts": selectable[:1],
                "when": "now",
            }
        return OfferAcceptForm(
            data=data,
            initial=initial,
            options=options,
            time_zone=influencer_time_zone(self.influencer),
            ends_at=offer.campaign.ends_at,
        )

    def _render(self, offer: Offer, form: OfferAcceptForm, *, status: int = 200) -> HttpResponse:
        self.object = offer
        context = self.get_context_data(object=offer, form=form)
        return self.render_to_response(context, status=status)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        offer: Offer = self.object
        form: OfferAcceptForm | None = kwargs.get("form")
        if form is None and offer.status == OfferStatus.NEW:
            form = self._form(offer)
        variant = offer_variant_pick(offer=offer, variant_id=self._value(form, "variant"))
        piece = offer_content_piece(offer=offer, variant=variant)
        # The chosen text's language decides the disclosure in the rules box, the preview and the check.
        language = offer_language(offer=offer, content=piece, variant=variant)
        options = form.options if form is not None else account_options_for_offer(offer=offer)
        context.update(
            form=form,
            options=options,
            has_selectable=any(option.selectable for option in options),
            selected_accounts=self._selected(form),
            connect_url=connect_accounts_url(),
            piece=piece,
            variants=offer_variants(offer=offer),
            variant=variant,
            pay_terms=pay_terms_for_campaign(campaign=offer.campaign),
            participation_note=participation_note_for_campaign(campaign=offer.campaign),
            estimate=offer_estimate_get(offer=offer),
            disclosure=offer_disclosure(offer=offer, language=language),
            network_rules=network_rules_for_campaign(campaign=offer.campaign),
            shares=list(share_list_for_offer(offer=offer)),
            time_zone=form.time_zone() if form is not None else None,
            explanation=offer_explanation(offer=offer),
        )
        if form is not None:
            caption = self._value(form, "caption")
            context["preview"] = offer_caption_preview(
                offer=offer, text=caption, language=language, network_codes=network_codes_of_options(options)
            )
        return context

    @staticmethod
    def _value(form: OfferAcceptForm | None, name: str) -> str:
        if form is None:
            return ""
        value = form[name].value()
        return "" if value is None else str(value)

    @staticmethod
    def _selected(form: OfferAcceptForm | None) -> set[str]:
        if form is None:
            return set()
        value = form["accounts"].value() or []
        return {str(item) for item in value}

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        # An offer whose campaign ended or ran out of budget shows as closed, not as acceptable.
        offer = self.get_object()
        checked = matching_services.offer_expire_if_due(offer=offer)
        if checked.status != offer.status:
            offer = self.get_object()
        self.object = offer
        return self.render_to_response(self.get_context_data(object=offer))

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        offer = self.get_object()
        if offer.status != OfferStatus.NEW:
            messages.error(request, _("This offer is %(status)s.") % {"status": offer.get_status_display().lower()})
            return redirect("influencers:offer-detail", pk=offer.pk)
        form = self._form(offer, data=request.POST)
        variant = offer_variant_pick(offer=offer, variant_id=request.POST.get("variant"))
        if request.POST.get("_preview"):
            # "Update preview" without JavaScript: show the page again with everything typed kept.
            return self._render(offer, form)
        if not form.is_valid():
            self._caption_errors(offer, form)
            return self._render(offer, form, status=400)
        try:
            shares = matching_services.offer_accept(
                offer=offer,
                influencer=self.influencer,
                account_ids=form.cleaned_data["accounts"],
                caption_text=form.cleaned_data["caption"],
                scheduled_at=form.cleaned_data["scheduled_at"],
                content=offer_content_piece(offer=offer, variant=variant),
                variant=variant,
            )
        except CampaignError as error:
            _add_error(form, error)
            return self._render(offer, form, status=400)
        messages.success(
            request,
            ngettext(
                "Offer accepted: %(count)s share created.",
                "Offer accepted: %(count)s shares created.",
                len(shares),
            )
            % {"count": len(shares)},
        )
        return redirect("influencers:offer-detail", pk=offer.pk)

    @staticmethod
    def _caption_errors(offer: Offer, form: OfferAcceptForm) -> None:
        """Other fields failed: still say what is wrong with the caption, so everything is fixed in one go."""
        if form.errors.get("caption"):
            return
        variant = offer_variant_pick(offer=offer, variant_id=str(form.data.get("variant") or ""))
        piece = offer_content_piece(offer=offer, variant=variant)
        language = offer_language(offer=offer, content=piece, variant=variant)
        chosen = {str(value) for value in form.data.getlist("accounts")} if hasattr(form.data, "getlist") else set()
        codes = [o.network_code for o in form.options if o.selectable and (not chosen or str(o.account.pk) in chosen)]
        preview = offer_caption_preview(
            offer=offer, text=str(form.data.get("caption") or ""), language=language, network_codes=codes
        )
        problems = preview.problems + [problem for fit in preview.fits for problem in fit.problems]
        for problem in dict.fromkeys(problems):
            form.add_error("caption", problem)


class OfferPreviewView(InfluencerOwnedViewMixin, SingleObjectMixin, View):
    """htmx: the per-network preview of the caption being typed (POST, nothing is saved)."""

    model = Offer
    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        offer: Offer = self.get_object()
        options = account_options_for_offer(offer=offer)
        variant = offer_variant_pick(offer=offer, variant_id=request.POST.get("variant"))
        language = offer_language(
            offer=offer, content=offer_content_piece(offer=offer, variant=variant), variant=variant
        )
        preview = offer_caption_preview(
            offer=offer,
            text=request.POST.get("caption", "")[:5000],
            language=language,
            network_codes=network_codes_of_options(options),
        )
        return render(request, "influencers/offers/partials/caption_preview.html", {"preview": preview})


class OfferDeclineView(InfluencerOwnedViewMixin, SingleObjectMixin, View):
    model = Offer
    template_name = "influencers/offers/decline.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        offer = self.get_object()
        return render(
            request, self.template_name, {"offer": offer, "form": OfferDeclineForm(), "influencer": self.influencer}
        )

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        offer = self.get_object()
        form = OfferDeclineForm(data=request.POST)
        if not form.is_valid():
            return render(
                request, self.template_name, {"offer": offer, "form": form, "influencer": self.influencer}, status=400
            )
        try:
            matching_services.offer_decline(offer=offer, influencer=self.influencer, reason=form.cleaned_data["reason"])
        except CampaignError as error:
            messages.error(request, str(error))
            return redirect("influencers:offer-detail", pk=offer.pk)
        messages.success(request, _("Offer declined. Thanks for letting us know."))
        return redirect("influencers:offers")


class ShareCaptionResubmitView(InfluencerOwnedViewMixin, SingleObjectMixin, View):
    """After the brand asked for changes: the influencer sends a new caption for one share."""

    model = Share
    template_name = "influencers/offers/resubmit.html"

    def refine_queryset(self, queryset: Any) -> Any:
        return queryset.select_related("offer", "campaign", "campaign__brand", "connected_account")

    def _render(self, share: Share, form: CaptionResubmitForm, *, status: int = 200) -> HttpResponse:
        offer = share.offer
        preview = offer_caption_preview(
            offer=offer,
            text=str(form["caption"].value() or ""),
            language=share_language(share=share),
            network_codes=[code for code in [self._network(share)] if code],
        )
        context = {"share": share, "offer": offer, "form": form, "preview": preview, "influencer": self.influencer}
        return render(self.request, self.template_name, context, status=status)

    @staticmethod
    def _network(share: Share) -> str:
        return campaign_network_for_account(share.connected_account)

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        share: Share = self.get_object()
        return self._render(share, CaptionResubmitForm(initial={"caption": share.caption_text}))

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        share: Share = self.get_object()
        form = CaptionResubmitForm(data=request.POST)
        if share.caption_status != CaptionStatus.CHANGES_REQUESTED:
            messages.error(request, _("This caption is not waiting for changes."))
            return redirect("influencers:offer-detail", pk=share.offer_id)
        if not form.is_valid():
            return self._render(share, form, status=400)
        try:
            matching_services.share_caption_resubmit(
                share=share, influencer=self.influencer, caption_text=form.cleaned_data["caption"]
            )
        except CampaignError as error:
            _add_error(form, error)
            return self._render(share, form, status=400)
        messages.success(request, _("Caption sent to the brand for approval."))
        return redirect("influencers:offer-detail", pk=share.offer_id)
