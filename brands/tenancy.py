"""The one tenancy mechanism: every brand-scoped view and viewset is built on ``BrandScope``.

``BrandScope`` resolves the brand once from the URL (``brand_slug``), answers 404 to anyone
who is not a member, 403 to a member whose role lacks the action, and filters every
queryset by the brand. Subclasses describe their data with ``queryset`` / ``model`` and
may narrow it in ``refine_queryset``; they may not override ``get_queryset``, where the
brand filter is applied last. Defining ``get_queryset`` on a subclass raises at import
time, and ``tests/test_tenancy_sweep.py`` checks every registered view as well.

Reaching brand data outside this scope is possible only through selectors that take the
brand as an explicit argument.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponseBase
from django.utils.translation import gettext as _
from rest_framework import viewsets
from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request

from brands.models import Brand, BrandAction, Membership
from brands.selectors import membership_get_for_user

SCOPED_QUERYSET_HOOK = "get_queryset"


class BrandScope:
    brand_url_kwarg: ClassVar[str] = "brand_slug"
    #: ORM path from the view's model to its Brand ("brand", "campaign__brand", ...).
    brand_lookup: ClassVar[str] = "brand"
    #: action required for safe (read) methods and for unsafe (write) methods.
    read_action: ClassVar[str] = BrandAction.VIEW
    write_action: ClassVar[str] = BrandAction.EDIT_CAMPAIGNS

    brand: Brand
    membership: Membership
    kwargs: dict[str, Any]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if SCOPED_QUERYSET_HOOK in cls.__dict__:
            raise ImproperlyConfigured(
                f"{cls.__module__}.{cls.__qualname__} overrides {SCOPED_QUERYSET_HOOK}(), which would bypass "
                "the brand scope. Override refine_queryset() instead."
            )

    def resolve_brand_scope(self, request: HttpRequest | Request) -> None:
        membership = membership_get_for_user(user=request.user, brand_slug=self.kwargs[self.brand_url_kwarg])  # type: ignore[arg-type]
        action = self.read_action if request.method in SAFE_METHODS else self.write_action
        if not membership.can(action):
            raise PermissionDenied(_("Your role in this brand does not allow this."))
        self.membership = membership
        self.brand = membership.brand

    def refine_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        """Narrow or annotate the queryset; the brand filter is applied after this."""
        return queryset

    def base_queryset(self) -> QuerySet[Any]:
        queryset = getattr(self, "queryset", None)
        if queryset is not None:
            return queryset.all()
        model: type[Model] | None = getattr(self, "model", None)
        if model is None:
            raise ImproperlyConfigured(f"{type(self).__name__} needs a queryset or a model.")
        return model._default_manager.all()

    def get_queryset(self) -> QuerySet[Any]:
        if getattr(self, "swagger_fake_view", False):  # OpenAPI schema generation: no request, no brand
            return self.base_queryset().none()
        queryset = self.refine_queryset(self.base_queryset())
        return queryset.filter(**{self.brand_lookup: self.brand})


class BrandScopedViewMixin(LoginRequiredMixin, BrandScope):
    """For Django class-based views under ``/b/<brand_slug>/``."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        self.kwargs = kwargs
        self.resolve_brand_scope(request)
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context: dict[str, Any] = super().get_context_data(**kwargs)  # type: ignore[misc]
        context["brand"] = self.brand
        context["membership"] = self.membership
        return context


class BrandScopedViewSet(BrandScope, viewsets.GenericViewSet):
    """For DRF viewsets under ``/api/v1/brands/<brand_slug>/``."""

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        self.resolve_brand_scope(request)

    def get_serializer_context(self) -> dict[str, Any]:
        context = super().get_serializer_context()
        context["brand"] = getattr(self, "brand", None)
        return context
