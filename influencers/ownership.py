"""Influencer-owned data is reached only through the signed-in influencer's own profile.

``InfluencerOwnedMixin`` mirrors ``brands.tenancy.BrandScope``: it resolves the profile once
and filters every queryset by it in ``get_queryset``, which subclasses may not override.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponseBase, HttpResponseRedirect
from django.urls import reverse

from influencers.models import InfluencerProfile

SCOPED_QUERYSET_HOOK = "get_queryset"


class InfluencerScope:
    #: ORM path from the view's model to the InfluencerProfile ("influencer", "offer__influencer", ...).
    owner_lookup: ClassVar[str] = "influencer"
    influencer: InfluencerProfile

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if SCOPED_QUERYSET_HOOK in cls.__dict__:
            raise ImproperlyConfigured(
                f"{cls.__module__}.{cls.__qualname__} overrides {SCOPED_QUERYSET_HOOK}(), which would bypass "
                "the influencer scope. Override refine_queryset() instead."
            )

    def refine_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
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
        if getattr(self, "swagger_fake_view", False):
            return self.base_queryset().none()
        return self.refine_queryset(self.base_queryset()).filter(**{self.owner_lookup: self.influencer})


class InfluencerOwnedViewMixin(LoginRequiredMixin, InfluencerScope):
    """For HTML views under ``/i/``: sends people without a profile to onboarding."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        profile = InfluencerProfile.objects.filter(user=request.user).first()
        if profile is None:
            return HttpResponseRedirect(reverse("influencers:onboarding"))
        self.influencer = profile
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context: dict[str, Any] = super().get_context_data(**kwargs)  # type: ignore[misc]
        context["influencer"] = self.influencer
        return context
