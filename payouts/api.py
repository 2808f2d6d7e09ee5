"""Money API. Every money-moving call needs an ``Idempotency-Key`` and is throttled ("money" scope)."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle, ScopedRateThrottle, UserRateThrottle

from brands.models import BrandAction
from brands.tenancy import BrandScopedViewSet
from influencers.models import InfluencerProfile
from influencers.ownership import InfluencerScope
from linkilike.idempotency import REQUIRED_IDEMPOTENCY_KEY_PARAMETER, idempotency_key_require, idempotent_call
from payouts import selectors
from payouts.errors import PayoutsError
from payouts.models import Charity, Funding, LedgerAccount, PayoutDestination, PayoutRequest
from payouts.services.checkout import MAX_TOP_UP_MINOR, funding_checkout_start
from payouts.services.payouts import payout_request

MONEY_THROTTLES: list[type[BaseThrottle]] = [UserRateThrottle, ScopedRateThrottle]


# --- brand funds ----------------------------------------------------------------------


class CheckoutInput(serializers.Serializer):
    amount_minor = serializers.IntegerField(min_value=1, max_value=MAX_TOP_UP_MINOR)
    success_url = serializers.URLField()
    cancel_url = serializers.URLField()


class CheckoutOutput(serializers.ModelSerializer):
    class Meta:
        model = Funding
        fields = ("id", "reference", "amount_minor", "currency", "status", "checkout_url")
        read_only_fields = fields


class BrandTopUpViewSet(BrandScopedViewSet):
    """A card top-up (the funds overview, with campaign spend, is ``campaigns.earnings.api``)."""

    throttle_classes = MONEY_THROTTLES
    throttle_scope = "money"
    model = LedgerAccount
    read_action = BrandAction.VIEW
    write_action = BrandAction.FUND
    serializer_class = CheckoutOutput

    @extend_schema(
        summary="Open a card checkout to top up the workspace (owners)",
        request=CheckoutInput,
        responses={201: CheckoutOutput},
        parameters=[REQUIRED_IDEMPOTENCY_KEY_PARAMETER],
    )
    def checkout(self, request: Request, brand_slug: str) -> Response:
        def handler() -> Response:
            data = CheckoutInput(data=request.data)
            data.is_valid(raise_exception=True)
            try:
                funding = funding_checkout_start(
                    brand=self.brand,
                    amount_minor=data.validated_data["amount_minor"],
                    currency=self.brand.currency,
                    created_by=request.user,  # type: ignore[arg-type]
                    success_url=data.validated_data["success_url"],
                    cancel_url=data.validated_data["cancel_url"],
                )
            except PayoutsError as error:
                raise ValidationError({"detail": str(error)}) from error
            return Response(CheckoutOutput(funding).data, status=status.HTTP_201_CREATED)

        return idempotent_call(request, scope="funds-checkout", handler=handler, required=True)


# --- influencer earnings and payouts --------------------------------------------------


class InfluencerScopedViewSet(InfluencerScope, viewsets.GenericViewSet):
    """DRF twin of InfluencerOwnedViewMixin: everything is filtered by the caller's own profile."""

    #: actions that move money: a request without Idempotency-Key is malformed, so it is refused (400)
    #: before the profile lookup can answer 404 (ADR 3).
    idempotency_required_actions: tuple[str, ...] = ()

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if self.action in self.idempotency_required_actions:
            idempotency_key_require(request)
        profile = InfluencerProfile.objects.filter(user=request.user).first()  # type: ignore[misc]
        if profile is None:
            raise Http404("No influencer profile.")
        self.influencer = profile


class PayoutOutput(serializers.ModelSerializer):
    destination = serializers.CharField(source="destination.masked", default=None)
    charity = serializers.CharField(source="charity.name", default=None)

    class Meta:
        model = PayoutRequest
        fields = ("id", "amount_minor", "currency", "status", "destination", "charity", "created_at", "sent_at")
        read_only_fields = fields


class PayoutRequestInput(serializers.Serializer):
    amount_minor = serializers.IntegerField(min_value=1)
    currency = serializers.RegexField(
        r"^[A-Za-z]{3}$",
        required=False,
        help_text="ISO code of the balance to pay out (see the earnings' balances). May be left out while you "
        "hold money in one currency only. SEPA accounts and donations are paid in EUR only.",
    )
    destination_id = serializers.IntegerField(required=False)
    charity_id = serializers.IntegerField(required=False)


class CurrencyBalanceOutput(serializers.Serializer):
    currency = serializers.CharField()
    pending_minor = serializers.IntegerField()
    available_minor = serializers.IntegerField()
    in_payout_minor = serializers.IntegerField()
    paid_minor = serializers.IntegerField()


class EarningsOutput(serializers.Serializer):
    """The top-level amounts are in ``currency``, the largest available balance; ``balances`` has every currency."""

    currency = serializers.CharField()
    pending_minor = serializers.IntegerField()
    available_minor = serializers.IntegerField()
    in_payout_minor = serializers.IntegerField()
    paid_minor = serializers.IntegerField()
    minimum_payout_minor = serializers.IntegerField()
    balances = CurrencyBalanceOutput(many=True)


class EarningsViewSet(InfluencerScopedViewSet):
    model = PayoutRequest
    serializer_class = EarningsOutput

    @extend_schema(summary="Your earnings: on hold, available, being paid out, paid", responses=EarningsOutput)
    def retrieve(self, request: Request) -> Response:
        return Response(
            EarningsOutput(selectors.earnings_statement_get_for_influencer(influencer=self.influencer)).data
        )


class PayoutRequestViewSet(InfluencerScopedViewSet):
    throttle_classes = MONEY_THROTTLES
    throttle_scope = "money"
    model = PayoutRequest
    serializer_class = PayoutOutput
    idempotency_required_actions = ("create",)

    @extend_schema(summary="Your payouts", responses=PayoutOutput(many=True))
    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset().select_related("destination", "charity").order_by("-pk"))
        return self.get_paginated_response(PayoutOutput(page, many=True).data)

    @extend_schema(
        summary="Request a payout to one of your accounts, or donate to a listed charity",
        request=PayoutRequestInput,
        responses={201: PayoutOutput},
        parameters=[REQUIRED_IDEMPOTENCY_KEY_PARAMETER],
    )
    def create(self, request: Request) -> Response:
        def handler() -> Response:
            data = PayoutRequestInput(data=request.data)
            data.is_valid(raise_exception=True)
            destination = charity = None
            if "destination_id" in data.validated_data:
                destination = PayoutDestination.objects.filter(
                    influencer=self.influencer, pk=data.validated_data["destination_id"]
                ).first()
                if destination is None:
                    raise ValidationError({"destination_id": ["Not one of your payout accounts."]})
            if "charity_id" in data.validated_data:
                charity = Charity.objects.filter(is_active=True, pk=data.validated_data["charity_id"]).first()
                if charity is None:
                    raise ValidationError({"charity_id": ["Not a listed charity."]})
            currency = data.validated_data.get("currency", "").upper() or selectors.payout_currency_for_influencer(
                influencer=self.influencer
            )
            if currency is None:
                raise ValidationError({"currency": [_("Say which of your balances to pay out, e.g. EUR or CHF.")]})
            try:
                payout = payout_request(
                    influencer=self.influencer,
                    amount_minor=data.validated_data["amount_minor"],
                    currency=currency,
                    destination=destination,
                    charity=charity,
                )
            except PayoutsError as error:
                raise ValidationError({"detail": str(error)}) from error
            return Response(PayoutOutput(payout).data, status=status.HTTP_201_CREATED)

        return idempotent_call(request, scope="payout-request", handler=handler, required=True)
