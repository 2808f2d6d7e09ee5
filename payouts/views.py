"""Money pages: the brand's Funds page, the influencer's earnings page, the card webhook, the test checkout.

Thin: parse, call one service or selector, render.
"""

from __future__ import annotations

from itertools import chain
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from django.views.generic import FormView, TemplateView

from brands.models import BrandAction
from brands.tenancy import BrandScopedViewMixin
from campaigns.tracking.selectors_timing import clicks_pending_for_influencer
from influencers.ownership import InfluencerOwnedViewMixin
from linkilike.csv_export import csv_response
from payouts import selectors, services
from payouts.errors import CheckoutNotFound, InvalidDestination, PayoutsError, ProviderError
from payouts.forms import PayoutDestinationForm, PayoutRequestForm, TopUpForm
from payouts.models import EarningAccrual, FundingSource, LedgerAccount, PayoutDestination
from payouts.providers.local_checkout import PAYING_TEST_CARD, local_checkout_enabled, local_checkout_session_load


class BrandFundsView(BrandScopedViewMixin, TemplateView):
    template_name = "payouts/funds.html"
    model = LedgerAccount
    write_action = BrandAction.FUND

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["funds"] = selectors.brand_funds_get_for_brand(brand=self.brand)
        context["can_fund"] = self.membership.can(BrandAction.FUND)
        context["topup_form"] = kwargs.get("topup_form") or TopUpForm()
        context["bank"] = selectors.bank_transfer_instructions_for_brand(brand=self.brand)
        return context


class BrandTopUpView(BrandScopedViewMixin, FormView):  # type: ignore[type-arg]
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
            funding = services.funding_checkout_start(
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
        context["statement"] = selectors.earnings_statement_get_for_influencer(influencer=self.influencer)
        context["clicks_pending"] = clicks_pending_for_influencer(influencer=self.influencer)
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
                services.payout_request(
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
                services.payout_destination_add(influencer=self.influencer, **form.destination_fields())
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


class InfluencerEarningsExportView(InfluencerOwnedViewMixin, View):
    http_method_names = ["get"]
    model = EarningAccrual

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        header: list[object] = [
            "booked",
            "campaign",
            "share",
            "window",
            "source",
            "metric",
            "units",
            "price",
            "per",
            "amount",
            "currency",
            "status",
        ]
        rows = chain([header], selectors.earnings_lines_for_influencer(influencer=self.influencer))
        return csv_response(rows, filename="linkilike-earnings.csv")


class LocalCheckoutView(View):
    """Test mode only: the app's stand-in for Stripe's hosted checkout page (``payouts.providers.local_checkout``).

    Like Stripe's page it needs no sign-in: its address is a signed, unguessable checkout session, and it
    only ever sends the brand back to the return addresses signed into it. 404 when the real card
    provider is configured.
    """

    http_method_names = ["get", "post"]
    template_name = "payouts/test_checkout.html"

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not local_checkout_enabled():
            raise Http404
        try:
            self.session = local_checkout_session_load(kwargs["token"])
        except CheckoutNotFound as error:
            raise Http404 from error
        return super().dispatch(request, *args, **kwargs)

    def _page(self, *, error: str = "", card_number: str = "", status: int = 200) -> HttpResponse:
        context = {"session": self.session, "error": error, "card_number": card_number}
        return render(self.request, self.template_name, context, status=status)

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self._page(card_number=PAYING_TEST_CARD)  # filled in: a demo pays with one click

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        card_number = request.POST.get("card_number", "")[:40]
        try:
            if request.POST.get("action") == "cancel":
                target = services.funding_local_checkout_cancel(token=kwargs["token"])
            else:
                target = services.funding_local_checkout_pay(token=kwargs["token"], card_number=card_number)
        except CheckoutNotFound as error:
            raise Http404 from error
        except PayoutsError as error:
            return self._page(error=str(error), card_number=card_number, status=400)
        # Signed into the session by this app: never an address a visitor chose.
        return HttpResponseRedirect(target)


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    """Stripe calls this; the signature, not a session, authenticates it."""
    try:
        services.funding_webhook_process(
            provider_name=FundingSource.CARD, payload=request.body, headers=request.headers
        )
    except ProviderError:
        return HttpResponseBadRequest("invalid signature")
    return HttpResponse("ok")
