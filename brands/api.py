"""Brand API: /api/v1/brands/ and everything under /api/v1/brands/<brand_slug>/."""

from __future__ import annotations

from typing import Any

from django_countries.serializer_fields import CountryField
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.exceptions import Throttled, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from brands import services
from brands.errors import BrandError, InvitationRateLimited
from brands.models import Brand, BrandAction, BrandRole, Invitation, InvitationStatus, Membership
from brands.selectors import brand_list_for_user
from brands.tenancy import BrandScopedViewSet
from linkilike.idempotency import IDEMPOTENCY_KEY_PARAMETER, idempotent_call
from linkilike.text_safety import validate_no_control_characters


class BrandOutput(serializers.ModelSerializer):
    country = serializers.CharField(source="country.code")
    # Not a URLField: a brand without a website answers "", which is no URI.
    website = serializers.CharField(help_text="The brand's website (https://...), or empty.")

    class Meta:
        model = Brand
        fields = ("slug", "name", "country", "currency", "category", "website", "created_at")
        read_only_fields = fields


class BrandInput(serializers.Serializer):
    # The name goes into email subjects (invitations, offers, caption decisions).
    name = serializers.CharField(max_length=120, validators=[validate_no_control_characters])
    # Checked here: an unknown code made brand_update's full_clean fail with a 500 (found by schemathesis).
    country = CountryField(help_text="ISO 3166-1 alpha-2 code, e.g. AT.")
    currency = serializers.ChoiceField(choices=["EUR", "CHF", "GBP", "USD"], default="EUR")
    category = serializers.CharField(max_length=60, required=False, allow_blank=True)
    website = serializers.URLField(max_length=200, required=False, allow_blank=True)  # the model's column


class BrandUpdateInput(BrandInput):
    name = serializers.CharField(max_length=120, required=False, validators=[validate_no_control_characters])
    country = CountryField(required=False)
    currency = serializers.ChoiceField(choices=["EUR", "CHF", "GBP", "USD"], required=False)


@extend_schema_view(
    list=extend_schema(summary="Brands you are a member of", responses=BrandOutput(many=True)),
    create=extend_schema(
        summary="Create a brand workspace (you become its owner)",
        request=BrandInput,
        responses={201: BrandOutput},
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
    ),
)
class BrandListCreateViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Not brand-scoped: it lists only the caller's own brands and creates new ones."""

    serializer_class = BrandOutput

    def get_queryset(self) -> Any:
        return brand_list_for_user(user=self.request.user)  # type: ignore[arg-type]

    def create(self, request: Request) -> Response:
        def handler() -> Response:
            data = BrandInput(data=request.data)
            data.is_valid(raise_exception=True)
            brand = services.brand_create(owner=request.user, **data.validated_data)  # type: ignore[arg-type]
            return Response(BrandOutput(brand).data, status=status.HTTP_201_CREATED)

        return idempotent_call(request, scope="brand-create", handler=handler)


@extend_schema_view(
    retrieve=extend_schema(summary="One brand", responses=BrandOutput),
    partial_update=extend_schema(summary="Edit the brand (owners)", request=BrandUpdateInput, responses=BrandOutput),
)
class BrandDetailViewSet(BrandScopedViewSet):
    model = Brand
    brand_lookup = "pk"
    write_action = BrandAction.MANAGE_BRAND
    serializer_class = BrandOutput

    def retrieve(self, request: Request, brand_slug: str) -> Response:
        return Response(BrandOutput(self.brand).data)

    def partial_update(self, request: Request, brand_slug: str) -> Response:
        data = BrandUpdateInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        brand = services.brand_update(brand=self.brand, **data.validated_data)
        return Response(BrandOutput(brand).data)


class MembershipOutput(serializers.ModelSerializer):
    email = serializers.EmailField(source="user.email")
    name = serializers.CharField(source="user.full_name")

    class Meta:
        model = Membership
        fields = ("id", "email", "name", "role", "created_at")
        read_only_fields = fields


class MembershipRoleInput(serializers.Serializer):
    role = serializers.ChoiceField(choices=BrandRole.choices)


@extend_schema_view(
    list=extend_schema(summary="Members of the brand"),
    retrieve=extend_schema(summary="One member"),
    partial_update=extend_schema(summary="Change a member's role (owners)", request=MembershipRoleInput),
    destroy=extend_schema(summary="Remove a member (owners); the last owner cannot be removed"),
)
class MembershipViewSet(BrandScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin):
    queryset = Membership.objects.select_related("user")
    serializer_class = MembershipOutput
    write_action = BrandAction.MANAGE_MEMBERS

    def partial_update(self, request: Request, brand_slug: str, pk: str) -> Response:
        membership = self.get_object()
        data = MembershipRoleInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            membership = services.membership_role_change(membership=membership, role=data.validated_data["role"])
        except BrandError as error:
            raise ValidationError({"role": [str(error)]}) from error
        return Response(MembershipOutput(membership).data)

    def perform_destroy(self, instance: Membership) -> None:
        try:
            services.membership_remove(membership=instance)
        except BrandError as error:
            raise ValidationError({"detail": str(error)}) from error


class InvitationOutput(serializers.ModelSerializer):
    class Meta:
        model = Invitation
        fields = ("id", "email", "role", "status", "created_at", "expires_at")
        read_only_fields = fields


class InvitationsThrottled(Throttled):
    """429 with the service's message as it is and the wait as the Retry-After header."""

    def __init__(self, error: InvitationRateLimited) -> None:
        # ``wait`` set here, not passed: DRF would append its own sentence to the message.
        super().__init__(detail=str(error))
        self.wait = error.retry_after


class InvitationInput(serializers.Serializer):
    email = serializers.EmailField(max_length=254)  # the column's length
    role = serializers.ChoiceField(choices=BrandRole.choices, default=BrandRole.MANAGER)


@extend_schema_view(
    list=extend_schema(summary="Pending invitations"),
    create=extend_schema(
        summary="Invite someone by email (owners)",
        request=InvitationInput,
        responses={201: InvitationOutput},
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
    ),
    destroy=extend_schema(summary="Withdraw a pending invitation (owners)"),
)
class InvitationViewSet(BrandScopedViewSet, mixins.ListModelMixin, mixins.DestroyModelMixin):
    queryset = Invitation.objects.all()
    serializer_class = InvitationOutput
    read_action = BrandAction.MANAGE_MEMBERS
    write_action = BrandAction.MANAGE_MEMBERS

    def refine_queryset(self, queryset: Any) -> Any:
        return queryset.filter(status=InvitationStatus.PENDING)

    def create(self, request: Request, brand_slug: str) -> Response:
        def handler() -> Response:
            data = InvitationInput(data=request.data)
            data.is_valid(raise_exception=True)
            try:
                invitation = services.invitation_create(
                    brand=self.brand,
                    invited_by=request.user,  # type: ignore[arg-type]
                    **data.validated_data,
                )
            except InvitationRateLimited as error:
                raise InvitationsThrottled(error) from error
            except BrandError as error:
                raise ValidationError({"email": [str(error)]}) from error
            return Response(InvitationOutput(invitation).data, status=status.HTTP_201_CREATED)

        return idempotent_call(request, scope="invitation-create", handler=handler)

    def perform_destroy(self, instance: Invitation) -> None:
        services.invitation_revoke(invitation=instance)
