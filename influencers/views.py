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
from influencers.errors import ProfileInvalid
from influencers.forms import InfluencerProfileForm
from influencers.models import InfluencerProfile
from influencers.ownership import InfluencerOwnedViewMixin
from influencers.selectors import (
    connect_accounts_url,
    connected_account_count_for_influencer,
    profile_completeness_get_for_influencer,
)


class InfluencerHomeView(InfluencerOwnedViewMixin, TemplateView):
    """Profile, accounts and topics; the template places the campaigns' offers panel (``influencer_home_offers``)."""

    template_name = "influencers/home.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["completeness"] = profile_completeness_get_for_influencer(influencer=self.influencer)
        context["connect_url"] = connect_accounts_url()
        context["connected_count"] = connected_account_count_for_influencer(influencer=self.influencer)
        return context


class InfluencerOnboardingView(LoginRequiredMixin, FormView):
    """Creates the signed-in person's own profile, or edits it. There is no way to name another one."""

    template_name = "influencers/onboarding.html"
    form_class = InfluencerProfileForm

    def get_form_kwargs(self) -> dict[str, Any]:
        kwargs = super().get_form_kwargs()
        kwargs["instance"] = InfluencerProfile.objects.filter(user=self.request.user).first()  # type: ignore[misc]
        return kwargs

    def form_valid(self, form: InfluencerProfileForm) -> HttpResponse:
        data = dict(form.cleaned_data)
        topics = data.pop("topics", None) or []
        accept_terms = bool(data.pop("accept_terms", False))
        is_new = form.instance.pk is None
        try:
            services.influencer_profile_save(
                user=self.request.user,  # type: ignore[arg-type]
                topics=topics,
                accept_terms=accept_terms,
                **data,
            )
        except ProfileInvalid as error:
            for field, message in error.errors.items():
                form.add_error(field if field in form.fields else None, message)
            return self.form_invalid(form)
        if is_new:
            messages.success(
                self.request, _("Welcome! Your influencer profile is ready. Next: connect a social account.")
            )
        else:
            messages.success(self.request, _("Your profile is saved."))
        return redirect("influencers:home")
