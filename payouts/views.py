"""Money pages: the earnings CSV export, the card webhook, the test checkout (the Funds and earnings pages,
which show campaign figures too, are ``campaigns.earnings.views``).

Thin: parse, call one service or selector, render.
"""

from __future__ import annotations

from itertools import chain
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.views import View
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from influencers.ownership import InfluencerOwnedViewMixin
from linkilike.csv_export import csv_response
from payouts import selectors
from payouts.errors import CheckoutNotFound, PayoutsError, ProviderError
from payouts.models import EarningAccrual, FundingSource
from payouts.providers.local_checkout import PAYING_TEST_CARD, local_checkout_enabled, local_checkout_session_load
from payouts.services.checkout import (
    funding_local_checkout_cancel,
    funding_local_checkout_pay,
    funding_webhook_process,
)


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
                target = funding_local_checkout_cancel(token=kwargs["token"])
            else:
                target = funding_local_checkout_pay(token=kwargs["token"], card_number=card_number)
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
        funding_webhook_process(provider_name=FundingSource.CARD, payload=request.body, headers=request.headers)
    except ProviderError:
        return HttpResponseBadRequest("invalid signature")
    return HttpResponse("ok")
