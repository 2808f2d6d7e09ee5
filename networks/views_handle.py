"""Connecting a "you post, we verify" account (a handle and a profile address) under
/i/accounts/connect/handle/<network>/."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.generic import FormView

from influencers.ownership import InfluencerOwnedViewMixin
from networks.capabilities import capability_row
from networks.errors import ConnectError
from networks.forms import HandleConnectForm
from networks.oauth import safe_next_path
from networks.providers.registry import handle_provider_class
from networks.services_handle import handle_account_connect


class HandleConnectView(InfluencerOwnedViewMixin, FormView):
    template_name = "networks/connect_handle.html"
    form_class = HandleConnectForm

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        self.provider_cls = handle_provider_class(kwargs["network"])
        if self.provider_cls is None:
            raise Http404
        return super().dispatch(request, *args, **kwargs)

    def get_initial(self) -> dict[str, Any]:
        return {"next": safe_next_path(self.request.GET.get("next"))}

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["network"] = self.kwargs["network"]
        context["provider"] = self.provider_cls
        context["row"] = capability_row(self.kwargs["network"])
        return context

    def form_valid(self, form: HandleConnectForm) -> HttpResponse:
        try:
            account = handle_account_connect(
                influencer=self.influencer,
                network=self.kwargs["network"],
                handle=form.cleaned_data["handle"],
                profile_url=form.cleaned_data.get("profile_url") or "",
            )
        except ConnectError as error:
            form.add_error(None, str(error))
            return self.form_invalid(form)
        messages.success(self.request, _("%(handle)s is connected.") % {"handle": account.handle})
        destination = safe_next_path(form.cleaned_data.get("next")) or reverse("networks:accounts")
        return HttpResponseRedirect(destination)
