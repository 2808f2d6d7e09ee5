"""Campaign API under /api/v1/brands/<brand_slug>/campaigns/ (+ /<campaign_pk>/content/).

Thin: Input serializers parse (and refuse fields that cannot be set, such as ``status`` or
``brand``), services write, Output serializers render. Errors: 400 ``{"detail", "field"}`` for
invalid input, 409 ``{"detail", "code": "invalid_transition"}`` when the lifecycle refuses a move.
"""

from __future__ import annotations

from typing import Any

from django.core.files.uploadedfile import UploadedFile
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, PermissionDenied
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle, ScopedRateThrottle

from brands.models import BrandAction
from brands.tenancy import BrandScopedViewSet
from campaigns import services
from campaigns.captions import DISCLOSURE_VALUES
from campaigns.errors import CampaignError, CampaignTransitionError
from campaigns.models import MAX_BIGINT, MAX_INTEGER, Campaign, CampaignStatus, ContentPiece, MediaKind
from campaigns.selectors import campaign_estimate, campaign_get_for_brand, campaign_preview
from influencers.models import Topic
from influencers.topics import LANGUAGE_CHOICES
from linkilike.idempotency import IDEMPOTENCY_KEY_PARAMETER, idempotent_call
from linkilike.text_safety import validate_no_control_characters
from networks.providers.registry import campaign_networks

# --- errors ----------------------------------------------------------------------------------------


class ErrorOutput(serializers.Serializer):
    detail = serializers.CharField(help_text="A translated message fit to show the person.")
    field = serializers.CharField(required=False, allow_null=True, help_text="The input field at fault, if any.")
    code = serializers.CharField(required=False, help_text="`invalid_transition` for lifecycle refusals (409).")


class CampaignRefused(APIException):
    status_code: int = status.HTTP_400_BAD_REQUEST

    def __init__(self, error: CampaignError) -> None:
        super().__init__()
        self.detail = {"detail": str(error), "field": error.field}  # type: ignore[dict-item]
        if isinstance(error, CampaignTransitionError):
            self.status_code = status.HTTP_409_CONFLICT
            self.detail = {"detail": str(error), "code": "invalid_transition"}  # type: ignore[dict-item]


# 400 is documented for every operation by linkilike.api_schema: invalid input answers each field's
# messages under its name, which ErrorOutput (one ``detail``) does not describe.
ERRORS = {
    403: OpenApiResponse(ErrorOutput, description="Your role in this brand does not allow this."),
    404: OpenApiResponse(ErrorOutput, description="No such brand (or you are not a member) or campaign."),
}
TRANSITION_ERRORS = {
    **ERRORS,
    409: OpenApiResponse(ErrorOutput, description="The campaign's current status does not allow this."),
}


class StrictInput(serializers.Serializer):
    """Refuses fields it does not declare, so ``status``, ``brand`` or budget bookkeeping cannot be set."""

    def to_internal_value(self, data: Any) -> Any:
        if hasattr(data, "keys"):
            unknown = sorted(set(data.keys()) - set(self.fields))
            if unknown:
                raise serializers.ValidationError(
                    {"detail": f"These fields cannot be set here: {', '.join(unknown)}.", "field": unknown[0]}
                )
        return super().to_internal_value(data)


# --- campaigns -------------------------------------------------------------------------------------


class EstimateOutput(serializers.Serializer):
    shares = serializers.IntegerField(help_text="Shares the budget buys at the typical cost per share.")
    reach = serializers.IntegerField()
    engagements = serializers.IntegerField()
    clicks = serializers.IntegerField()
    cost_per_share_minor = serializers.IntegerField()
    earnings_minor = serializers.IntegerField(help_text="Part of the budget paid to influencers.")
    fee_minor = serializers.IntegerField(help_text="Part of the budget that is the platform fee.")
    followers_assumed = serializers.IntegerField()
    participation_minor = serializers.IntegerField(
        help_text="The participation fee in the cost per share (the band of the assumed audience)."
    )


class CampaignOutput(serializers.ModelSerializer):
    topics = serializers.SlugRelatedField(slug_field="slug", many=True, read_only=True)  # type: ignore[var-annotated]
    countries = serializers.SerializerMethodField()
    is_live = serializers.BooleanField(read_only=True, help_text="Approved and between its start and end.")
    estimate = serializers.SerializerMethodField()

    class Meta:
        model = Campaign
        fields = (
            "id",
            "name",
            "slug",
            "brief",
            "status",
            "is_live",
            "currency",
            "budget_minor",
            "cpm_minor",
            "cpe_minor",
            "cpc_minor",
            "participation_fee_minor",
            "participation_bands",
            "per_share_cap_minor",
            "platform_fee_bps",
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
            "submitted_at",
            "rejection_reason",
            "approved_at",
            "closed_at",
            "archived_at",
            "created_at",
            "updated_at",
            "estimate",
        )
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_countries(self, campaign: Campaign) -> list[str]:
        return [country.code for country in campaign.countries]

    @extend_schema_field(EstimateOutput)
    def get_estimate(self, campaign: Campaign) -> dict[str, Any]:
        return dict(EstimateOutput(campaign_estimate(campaign=campaign)).data)


class NetworkFitOutput(serializers.Serializer):
    network = serializers.CharField(source="network.code")
    caption = serializers.CharField(help_text="As shared: disclosure first, text, tracking link placeholder, hashtags.")
    length = serializers.IntegerField(help_text="Counted as the network counts (links as 23 on X and Mastodon).")
    max_chars = serializers.IntegerField(source="network.max_chars", allow_null=True)
    fits = serializers.BooleanField()
    problems = serializers.ListField(child=serializers.CharField())
    warnings = serializers.ListField(child=serializers.CharField())


class VariantPreviewOutput(serializers.Serializer):
    language = serializers.CharField(source="variant.language")
    text = serializers.CharField(source="variant.text")
    networks = NetworkFitOutput(source="fits", many=True)


class ContentPreviewOutput(serializers.Serializer):
    content_id = serializers.IntegerField(source="content.pk")
    title = serializers.CharField(source="content.title")
    variants = VariantPreviewOutput(many=True)


class ParticipationBandInput(StrictInput):
    up_to = serializers.IntegerField(
        min_value=1, max_value=MAX_INTEGER, allow_null=True, help_text="Followers, at most; null: any larger audience."
    )
    fee_minor = serializers.IntegerField(min_value=1, max_value=MAX_BIGINT, help_text="Fee per share, in cents.")


class CampaignInput(StrictInput):
    # The name goes into email subjects (offers, review outcomes).
    name = serializers.CharField(max_length=120, validators=[validate_no_control_characters])
    brief = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    currency = serializers.ChoiceField(
        choices=services.CURRENCIES, required=False, help_text="Defaults to the brand's currency."
    )
    budget_minor = serializers.IntegerField(
        min_value=0, max_value=MAX_BIGINT, required=False, help_text="Total budget in cents."
    )
    cpm_minor = serializers.IntegerField(
        min_value=1, max_value=MAX_BIGINT, required=False, allow_null=True, help_text="Per 1,000 reach."
    )
    cpe_minor = serializers.IntegerField(
        min_value=1, max_value=MAX_BIGINT, required=False, allow_null=True, help_text="Per engagement."
    )
    cpc_minor = serializers.IntegerField(
        min_value=1, max_value=MAX_BIGINT, required=False, allow_null=True, help_text="Per unique click."
    )
    participation_fee_minor = serializers.IntegerField(
        min_value=1,
        max_value=MAX_BIGINT,
        required=False,
        allow_null=True,
        help_text="A flat fee per share that stays up with its disclosure for the retention period (7 days); "
        "with bands, for every audience no band covers.",
    )
    participation_bands = ParticipationBandInput(
        many=True,
        required=False,
        help_text="The participation fee by the account's followers when the offer is accepted: the first band "
        "whose up_to covers them (up_to null: any larger audience).",
    )
    per_share_cap_minor = serializers.IntegerField(min_value=1, max_value=MAX_BIGINT, required=False, allow_null=True)
    starts_at = serializers.DateTimeField(required=False, allow_null=True)
    ends_at = serializers.DateTimeField(required=False, allow_null=True)
    requires_caption_approval = serializers.BooleanField(required=False)
    disclosures = serializers.DictField(
        child=serializers.ChoiceField(choices=sorted(DISCLOSURE_VALUES)),
        required=False,
        help_text='Language code -> disclosure tag, e.g. {"en": "#ad", "de": "#Werbung"}. Defaults per language.',
    )
    topics = serializers.SlugRelatedField(
        slug_field="slug", queryset=Topic.objects.all(), many=True, required=False, help_text="Topic keys."
    )
    countries = serializers.ListField(
        child=serializers.CharField(max_length=2), required=False, help_text="ISO 3166-1 alpha-2 codes."
    )
    languages = serializers.ListField(child=serializers.ChoiceField(choices=LANGUAGE_CHOICES), required=False)
    networks = serializers.ListField(child=serializers.ChoiceField(choices=list(campaign_networks())), required=False)
    followers_min = serializers.IntegerField(min_value=0, max_value=MAX_INTEGER, required=False, allow_null=True)
    followers_max = serializers.IntegerField(min_value=0, max_value=MAX_INTEGER, required=False, allow_null=True)
    min_engagement_rate = serializers.DecimalField(
        max_digits=5, decimal_places=2, min_value=0, max_value=100, required=False, allow_null=True
    )


class CampaignUpdateInput(CampaignInput):
    name = serializers.CharField(max_length=120, required=False, validators=[validate_no_control_characters])


@extend_schema_view(
    list=extend_schema(summary="Campaigns of the brand (archived ones with ?archived=1)", responses=CampaignOutput),
    retrieve=extend_schema(summary="One campaign", responses={200: CampaignOutput, **ERRORS}),
    create=extend_schema(
        summary="Create a draft campaign (managers, owners)",
        request=CampaignInput,
        responses={201: CampaignOutput, **ERRORS},
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
    ),
    partial_update=extend_schema(
        summary="Edit a draft or rejected campaign",
        request=CampaignUpdateInput,
        responses={200: CampaignOutput, **TRANSITION_ERRORS},
    ),
    destroy=extend_schema(summary="Delete a draft", responses={204: None, **TRANSITION_ERRORS}),
    submit=extend_schema(
        summary="Submit for review (draft or rejected -> in review)",
        request=None,
        responses={200: CampaignOutput, **TRANSITION_ERRORS},
    ),
    withdraw=extend_schema(
        summary="Withdraw from review (in review -> draft)",
        request=None,
        responses={200: CampaignOutput, **TRANSITION_ERRORS},
    ),
    pause=extend_schema(
        summary="Pause (approved -> paused)", request=None, responses={200: CampaignOutput, **TRANSITION_ERRORS}
    ),
    resume=extend_schema(
        summary="Resume (paused -> approved)", request=None, responses={200: CampaignOutput, **TRANSITION_ERRORS}
    ),
    preview=extend_schema(
        summary="How every text renders on every targeted network, and whether it fits",
        responses={200: ContentPreviewOutput(many=True), **ERRORS},
    ),
    cancel=extend_schema(
        summary="Cancel (owners); unspent reserved budget returns to the balance",
        request=None,
        responses={200: CampaignOutput, **TRANSITION_ERRORS},
    ),
)
class CampaignViewSet(BrandScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    queryset = Campaign.objects.prefetch_related("topics")
    serializer_class = CampaignOutput
    write_action = BrandAction.EDIT_CAMPAIGNS
    throttle_scope = "money"  # read by the ScopedRateThrottle that get_throttles adds for cancel

    def get_throttles(self) -> list[BaseThrottle]:
        throttles = super().get_throttles()
        if self.action == "cancel":  # returns the reserved budget to the balance: money moves
            throttles.append(ScopedRateThrottle())
        return throttles

    def refine_queryset(self, queryset: Any) -> Any:
        if self.action == "list":
            return queryset.filter(archived_at__isnull=self.request.query_params.get("archived") != "1")
        return queryset

    def _run(self, call: Any) -> Response:
        try:
            campaign = call()
        except CampaignError as error:
            raise CampaignRefused(error) from error
        return Response(CampaignOutput(campaign).data)

    def create(self, request: Request, brand_slug: str) -> Response:
        def handler() -> Response:
            data = CampaignInput(data=request.data)
            data.is_valid(raise_exception=True)
            try:
                campaign = services.campaign_create(
                    brand=self.brand,
                    created_by=request.user,  # type: ignore[arg-type]
                    **data.validated_data,
                )
            except CampaignError as error:
                raise CampaignRefused(error) from error
            return Response(CampaignOutput(campaign).data, status=status.HTTP_201_CREATED)

        return idempotent_call(request, scope="campaign-create", handler=handler)

    def partial_update(self, request: Request, brand_slug: str, pk: str) -> Response:
        campaign = self.get_object()
        data = CampaignUpdateInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        return self._run(lambda: services.campaign_update(campaign=campaign, **data.validated_data))

    def destroy(self, request: Request, brand_slug: str, pk: str) -> Response:
        campaign = self.get_object()
        try:
            services.campaign_delete(campaign=campaign)
        except CampaignError as error:
            raise CampaignRefused(error) from error
        return Response(status=status.HTTP_204_NO_CONTENT)

    @action(detail=True, methods=["post"])
    def submit(self, request: Request, brand_slug: str, pk: str) -> Response:
        campaign = self.get_object()
        return self._run(lambda: services.campaign_submit(campaign=campaign))

    @action(detail=True, methods=["post"])
    def withdraw(self, request: Request, brand_slug: str, pk: str) -> Response:
        campaign = self.get_object()
        return self._run(lambda: services.campaign_withdraw(campaign=campaign))

    @action(detail=True, methods=["post"])
    def pause(self, request: Request, brand_slug: str, pk: str) -> Response:
        campaign = self.get_object()
        return self._run(lambda: services.campaign_pause(campaign=campaign))

    @action(detail=True, methods=["post"])
    def resume(self, request: Request, brand_slug: str, pk: str) -> Response:
        campaign = self.get_object()
        return self._run(lambda: services.campaign_resume(campaign=campaign))

    @action(detail=True, methods=["get"], pagination_class=None)
    def preview(self, request: Request, brand_slug: str, pk: str) -> Response:
        campaign = self.get_object()
        return Response(ContentPreviewOutput(campaign_preview(campaign=campaign), many=True).data)

    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, brand_slug: str, pk: str) -> Response:
        if not self.membership.can(BrandAction.CANCEL_CAMPAIGNS):
            raise PermissionDenied("Only owners can cancel campaigns.")
        campaign = self.get_object()
        return self._run(lambda: services.campaign_cancel(campaign=campaign))


# --- content ---------------------------------------------------------------------------------------


class VariantIO(serializers.Serializer):
    text = serializers.CharField(max_length=5000)
    language = serializers.ChoiceField(choices=LANGUAGE_CHOICES)


class ContentOutput(serializers.ModelSerializer):
    variants = VariantIO(many=True, read_only=True)
    media_kind = serializers.ChoiceField(
        choices=MediaKind.choices, allow_blank=True, read_only=True, help_text="Empty while there is no media."
    )
    media_url = serializers.SerializerMethodField()
    thumbnail_url = serializers.SerializerMethodField()

    class Meta:
        model = ContentPiece
        fields = (
            "id",
            "campaign",
            "title",
            "target_url",
            "hashtags",
            "media_kind",
            "media_size",
            "media_url",
            "thumbnail_url",
            "variants",
            "position",
            "created_at",
        )
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_media_url(self, piece: ContentPiece) -> str | None:
        return piece.media.url if piece.media else None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_thumbnail_url(self, piece: ContentPiece) -> str | None:
        return piece.thumbnail.url if piece.thumbnail else None


class ContentInput(StrictInput):
    title = serializers.CharField(max_length=120)
    target_url = serializers.CharField(
        max_length=900, help_text="http(s) link; utm_source/utm_medium/utm_campaign are added when missing."
    )
    hashtags = serializers.ListField(child=serializers.CharField(max_length=100), required=False, default=list)
    variants = VariantIO(many=True, help_text="One or more texts influencers choose from.")


class MediaInput(StrictInput):
    file = serializers.FileField(help_text="JPEG/PNG/WebP/GIF up to 8 MB (40 megapixels) or MP4/WebM up to 100 MB.")


@extend_schema_view(
    list=extend_schema(summary="Content pieces of a campaign", responses=ContentOutput),
    retrieve=extend_schema(summary="One content piece", responses={200: ContentOutput, **ERRORS}),
    create=extend_schema(
        summary="Add a content piece (JSON; upload media with the media action)",
        request=ContentInput,
        responses={201: ContentOutput, **TRANSITION_ERRORS},
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
    ),
    update=extend_schema(
        summary="Replace a content piece's texts, link and hashtags",
        request=ContentInput,
        responses={200: ContentOutput, **TRANSITION_ERRORS},
    ),
    destroy=extend_schema(summary="Remove a content piece", responses={204: None, **TRANSITION_ERRORS}),
    media=extend_schema(
        summary="Upload (POST, multipart) or remove (DELETE) the image or video",
        request={"multipart/form-data": MediaInput},
        responses={200: ContentOutput, **TRANSITION_ERRORS},
    ),
)
class ContentViewSet(BrandScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    queryset = ContentPiece.objects.prefetch_related("variants")
    brand_lookup = "campaign__brand"
    serializer_class = ContentOutput
    write_action = BrandAction.EDIT_CAMPAIGNS
    parser_classes = (JSONParser, MultiPartParser, FormParser)

    def refine_queryset(self, queryset: Any) -> Any:
        return queryset.filter(campaign_id=self.kwargs.get("campaign_pk"))

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        self._campaign()  # 404 for a campaign outside this brand, also on the (otherwise empty) list

    def _campaign(self) -> Campaign:
        return campaign_get_for_brand(brand=self.brand, pk=self.kwargs["campaign_pk"])

    def _write(
        self, piece: ContentPiece | None, request: Request, *, media: UploadedFile | None = None
    ) -> ContentPiece:
        data = ContentInput(data=request.data)
        data.is_valid(raise_exception=True)
        variants = [services.VariantInput(**v) for v in data.validated_data["variants"]]
        try:
            if piece is None:
                return services.content_create(
                    campaign=self._campaign(),
                    title=data.validated_data["title"],
                    target_url=data.validated_data["target_url"],
                    hashtags=data.validated_data["hashtags"],
                    variants=variants,
                )
            return services.content_update(
                content=piece,
                title=data.validated_data["title"],
                target_url=data.validated_data["target_url"],
                hashtags=data.validated_data["hashtags"],
                variants=variants,
            )
        except CampaignError as error:
            raise CampaignRefused(error) from error

    def create(self, request: Request, brand_slug: str, campaign_pk: str) -> Response:
        def handler() -> Response:
            piece = self._write(None, request)
            return Response(ContentOutput(piece).data, status=status.HTTP_201_CREATED)

        return idempotent_call(request, scope="campaign-content-create", handler=handler)

    def update(self, request: Request, brand_slug: str, campaign_pk: str, pk: str) -> Response:
        piece = self._write(self.get_object(), request)
        return Response(ContentOutput(piece).data)

    def destroy(self, request: Request, brand_slug: str, campaign_pk: str, pk: str) -> Response:
        piece = self.get_object()
        try:
            services.content_delete(content=piece)
        except CampaignError as error:
            raise CampaignRefused(error) from error
        return Response(status=status.HTTP_204_NO_CONTENT)

    @action(detail=True, methods=["post", "delete"])
    def media(self, request: Request, brand_slug: str, campaign_pk: str, pk: str) -> Response:
        piece = self.get_object()
        upload: UploadedFile | None = None
        if request.method == "POST":
            data = MediaInput(data=request.data)
            data.is_valid(raise_exception=True)
            upload = data.validated_data["file"]
        try:
            piece = services.content_update(
                content=piece,
                title=piece.title,
                target_url=piece.target_url,
                hashtags=piece.hashtags,
                variants=[services.VariantInput(text=v.text, language=v.language) for v in piece.variants.all()],
                media=upload,
                remove_media=request.method == "DELETE",
            )
        except CampaignError as error:
            raise CampaignRefused(error) from error
        return Response(ContentOutput(piece).data)


__all__ = ["CampaignStatus", "CampaignViewSet", "ContentViewSet"]
