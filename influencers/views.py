"""Influencer pages under /i/."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.generic import FormView, TemplateView

from influencers import services
from influencers.forms import InfluencerProfileForm
from influencers.models import InfluencerProfile
from influencers.ownership import InfluencerOwnedViewMixin


class InfluencerHomeView(InfluencerOwnedViewMixin, TemplateView):
    template_name = "influencers/home.html"


class InfluencerOnboardingView(LoginRequiredMixin, FormView):  # type: ignore[type-arg]
    """Creates the signed-in person's profile, or edits it."""

    template_name = "influencers/onboarding.html"
    form_class = InfluencerProfileForm

    def get_form_kwargs(self) -> dict[str, Any]:
        kwargs = super().get_form_kwargs()
        kwargs["instance"] = InfluencerProfile.objects.filter(user=self.request.user).first()
        if kwargs["instance"] is not None and kwargs["instance"].terms_accepted_at:
            kwargs.setdefault("initial", {})["accept_terms"] = True
        return kwargs

    def form_valid(self, form: InfluencerProfileForm) -> HttpResponse:
        data = dict(form.cleaned_data)
        services.influencer_profile_save(user=self.request.user, **data)  # type: ignore[arg-type]
        messages.success(self.request, _("Your profile is saved."))
        return redirect("influencers:home")
