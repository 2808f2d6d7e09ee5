"""The brand's funds overview in the API: balance, reservations and spend per campaign."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from brands.models import BrandAction
from brands.tenancy import BrandScopedViewSet
from campaigns.earnings.selectors import brand_funds_get_for_brand
from payouts.api import MONEY_THROTTLES
from payouts.models import LedgerAccount


class CampaignSpendOutput(serializers.Serializer):
    campaign_id = serializers.IntegerField(source="campaign.pk")
    campaign_name = serializers.CharField(source="campaign.name")
    budget_minor = serializers.IntegerField()
    reserved_minor = serializers.IntegerField()
    earned_minor = serializers.IntegerField()
    fee_minor = serializers.IntegerField()
    spent_minor = serializers.IntegerField()
    released_minor = serializers.IntegerField()


class BrandFundsOutput(serializers.Serializer):
    currency = serializers.CharField()
    available_minor = serializers.IntegerField()
    reserved_minor = serializers.IntegerField()
    spent_minor = serializers.IntegerField()
    campaigns = CampaignSpendOutput(many=True)


class BrandFundsViewSet(BrandScopedViewSet):
    throttle_classes = MONEY_THROTTLES
    throttle_scope = "money"
    model = LedgerAccount
    read_action = BrandAction.VIEW
    write_action = BrandAction.FUND
    serializer_class = BrandFundsOutput

    @extend_schema(summary="The brand's balance, reservations and spend per campaign", responses=BrandFundsOutput)
    def retrieve(self, request: Request, brand_slug: str) -> Response:
        return Response(BrandFundsOutput(brand_funds_get_for_brand(brand=self.brand)).data)
