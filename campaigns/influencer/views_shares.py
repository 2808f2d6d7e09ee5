"""The influencer's shares under /i/shares/: publishing state, links, metrics, retry and proof of post.

Influencer-owned (``InfluencerOwnedViewMixin``): another influencer's share is 404. Writes go
through ``campaigns.publishing``.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import ListView
from django.views.generic.detail import SingleObjectMixin

from campaigns.models import Share
from campaigns.publishing import services as publishing
from campaigns.publishing.errors import PublishingError
from campaigns.publishing.proof import proof_submit
from campaigns.publishing.selectors import latest_snapshot, share_list_for_influencer
from influencers.ownership import InfluencerOwnedViewMixin


class ProofForm(forms.Form):
    url = forms.URLField(label=gettext_lazy("Link to your post"), max_length=1000, assume_scheme="https")


def _back(request: HttpRequest) -> HttpResponse:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect("influencers:shares")


class ShareListView(InfluencerOwnedViewMixin, ListView):  # type: ignore[type-arg]
    model = Share
    template_name = "influencers/shares/list.html"
    context_object_name = "shares"
    paginate_by = 25

    def refine_queryset(self, queryset: Any) -> Any:
        return share_list_for_influencer(influencer=self.influencer)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["rows"] = [(share, latest_snapshot(share=share)) for share in context["shares"]]
        return context


class ShareRetryView(InfluencerOwnedViewMixin, SingleObjectMixin, View):  # type: ignore[type-arg]
    model = Share
    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        share = self.get_object()
        publication = getattr(share, "publication", None)
        try:
            if publication is None:
                raise PublishingError(_("This share cannot be tried again."))
            publishing.publication_retry(publication=publication)
        except PublishingError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("We are trying again. This page shows the result in a minute."))
        return _back(request)


class ShareProofView(InfluencerOwnedViewMixin, SingleObjectMixin, View):  # type: ignore[type-arg]
    model = Share
    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        share = self.get_object()
        form = ProofForm(request.POST)
        publication = getattr(share, "publication", None)
        if not form.is_valid() or publication is None:
            messages.error(request, _("Paste the full address of your post, starting with https://."))
            return _back(request)
        try:
            proof_submit(publication=publication, influencer=self.influencer, url=form.cleaned_data["url"])
        except PublishingError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("Thanks! We are checking your post; it counts once we have seen it."))
        return _back(request)
