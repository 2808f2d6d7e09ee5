"""Connecting a Bluesky account (handle + app password) under /i/accounts/connect/bluesky/."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.generic import FormView

from influencers.ownership import InfluencerOwnedViewMixin
from networks.errors import ConnectError
from networks.forms_bluesky import BlueskyConnectForm
from networks.oauth import safe_next_path
from networks.services_bluesky import bluesky_account_connect


@method_decorator(sensitive_post_parameters("app_password"), name="dispatch")
class BlueskyConnectView(InfluencerOwnedViewMixin, FormView):
    template_name = "networks/connect_bluesky.html"
    form_class = BlueskyConnectForm

    def get_initial(self) -> dict[str, Any]:
        return {"next": safe_next_path(self.request.GET.get("next"))}

    def form_valid(self, form: BlueskyConnectForm) -> HttpResponse:
        try:
            account = bluesky_account_connect(
                influencer=self.influencer,
                identifier=form.cleaned_data["handle"],
                app_password=form.cleaned_data["app_password"],
            )
        except ConnectError as error:
            form.add_error(None, str(error))
            return self.form_invalid(form)
        messages.success(self.request, _("%(handle)s is connected.") % {"handle": account.handle})
        destination = safe_next_path(form.cleaned_data.get("next")) or reverse("networks:accounts")
        return HttpResponseRedirect(destination)
