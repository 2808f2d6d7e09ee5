"""The money pages that show campaign figures too: the brand's Funds page (balance and spend per campaign)
and the influencer's earnings page (balances, every earnings line, clicks not yet booked). Their URLs keep
the ``payouts`` namespace (``linkilike.urls`` merges them in).

Thin: parse, call one service or selector, render.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import FormView, TemplateView

from brands.models import BrandAction
from brands.tenancy import BrandScopedViewMixin
from campaigns.earnings.selectors import brand_funds_get_for_brand
from campaigns.earnings.selectors_page import earnings_page_get_for_influencer
from influencers.ownership import InfluencerOwnedViewMixin
from payouts import selectors
from payouts.errors import InvalidDestination, PayoutsError
from payouts.forms import PayoutDestinationForm, PayoutRequestForm, TopUpForm
from payouts.models import EarningAccrual, LedgerAccount, PayoutDestination
from payouts.services.checkout import funding_checkout_start
from payouts.services.destinations import payout_destination_add
from payouts.services.payouts import payout_request


class BrandFundsView(BrandScopedViewMixin, TemplateView):
    template_name = "payouts/funds.html"
    model = LedgerAccount
    write_action = BrandAction.FUND

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["funds"] = brand_funds_get_for_brand(brand=self.brand)
        context["can_fund"] = self.membership.can(BrandAction.FUND)
        context["topup_form"] = kwargs.get("topup_form") or TopUpForm()
        context["bank"] = selectors.bank_transfer_instructions_for_brand(brand=self.brand)
        return context


class BrandTopUpView(BrandScopedViewMixin, FormView):
    """POST only: opens a card checkout for a top-up and sends the owner there."""

    http_method_names = ["post"]
    form_class = TopUpForm
    template_name = "payouts/funds.html"
    read_action = BrandAction.FUND
    write_action = BrandAction.FUND

    def form_invalid(self, form: TopUpForm) -> HttpResponse:
        view = BrandFundsView(request=self.request, kwargs=self.kwargs)
        view.brand, view.membership = self.brand, self.membership
        return self.response_class(
            request=self.request,
            template=["payouts/funds.html"],
            context=view.get_context_data(topup_form=form),
            status=400,
        )

    def form_valid(self, form: TopUpForm) -> HttpResponse:
        funds_url = self.request.build_absolute_uri(reverse("payouts:funds", kwargs={"brand_slug": self.brand.slug}))
        try:
            funding = funding_checkout_start(
                brand=self.brand,
                amount_minor=form.cleaned_data["amount"],
                currency=self.brand.currency,
                created_by=self.request.user,  # type: ignore[arg-type]
                success_url=f"{funds_url}?checkout=success",
                cancel_url=f"{funds_url}?checkout=cancelled",
            )
        except PayoutsError as error:
            form.add_error("amount", str(error))
            return self.form_invalid(form)
        return HttpResponseRedirect(funding.checkout_url)


class InfluencerEarningsView(InfluencerOwnedViewMixin, TemplateView):
    """Balances, every earnings line explained, payouts; the payout request form posts here."""

    template_name = "payouts/earnings.html"
    model = EarningAccrual

    def _request_form(self, data: Any = None) -> PayoutRequestForm:
        return PayoutRequestForm(
            data,
            destinations=list(selectors.payout_destination_list_for_influencer(influencer=self.influencer)),
            charities=list(selectors.charity_list_active()),
            balances=selectors.influencer_balances_for_influencer(influencer=self.influencer),
        )

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        page = earnings_page_get_for_influencer(influencer=self.influencer)
        context["statement"], context["clicks_pending"] = page.statement, page.clicks_pending
        context["accruals"] = self.get_queryset().select_related("campaign", "share").prefetch_related("lines")[:200]
        context["request_form"] = kwargs.get("request_form") or self._request_form()
        # Without JavaScript the method is chosen by a round trip: ?method=sepa shows the bank fields.
        context["destination_form"] = kwargs.get("destination_form") or PayoutDestinationForm(
            method=self.request.GET.get("method", "")
        )
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = self._request_form(request.POST)
        if form.is_valid():
            destination, charity = form.target_objects()
            currency = form.cleaned_data["currency"] or selectors.payout_currency_for_influencer(
                influencer=self.influencer
            )
            if currency is None:
                form.add_error("currency", _("Choose which of your balances to pay out."))
                return self.render_to_response(self.get_context_data(request_form=form), status=400)
            try:
                payout_request(
                    influencer=self.influencer,
                    amount_minor=form.cleaned_data["amount"],
                    currency=currency,
                    destination=destination,
                    charity=charity,
                )
            except PayoutsError as error:
                form.add_error("target" if isinstance(error, InvalidDestination) else "amount", str(error))
            else:
                messages.success(request, _("Payout requested. We review payouts within two working days."))
                return redirect("payouts:earnings")
        return self.render_to_response(self.get_context_data(request_form=form), status=400)


class PayoutDestinationAddView(InfluencerOwnedViewMixin, View):
    http_method_names = ["post"]
    model = PayoutDestination

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = PayoutDestinationForm(request.POST)
        if form.is_valid():
            try:
                payout_destination_add(influencer=self.influencer, **form.destination_fields())
            except InvalidDestination as error:
                form.add_error(error.field if error.field in form.fields else None, str(error))
            except PayoutsError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, _("Payout account saved."))
                return redirect("payouts:earnings")
        view = InfluencerEarningsView(request=request, kwargs=kwargs)
        view.influencer = self.influencer
        return view.render_to_response(view.get_context_data(destination_form=form), status=400)
