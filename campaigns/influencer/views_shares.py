"""The influencer's shares under /i/shares/: publishing state, links, metrics, retry and proof of post.

Influencer-owned (``InfluencerOwnedViewMixin``): another influencer's share is 404. Writes go
through ``campaigns.publishing``.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import DetailView, ListView
from django.views.generic.detail import SingleObjectMixin

from campaigns.matching.selectors import share_content
from campaigns.models import Share
from campaigns.publishing import services as publishing
from campaigns.publishing.errors import PublishingError
from campaigns.publishing.proof import proof_own_visitor_note, proof_submit
from campaigns.publishing.selectors import latest_snapshot, share_list_for_influencer, share_post_page_get
from campaigns.tracking.capture import client_ip, visitor_hash
from influencers.ownership import InfluencerOwnedViewMixin
from linkilike.user_files import user_file_headers, user_file_served_as


class ProofForm(forms.Form):
    url = forms.URLField(label=gettext_lazy("Link to your post"), max_length=1000, assume_scheme="https")


def _back(request: HttpRequest) -> HttpResponse:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect("influencers:shares")


class ShareListView(InfluencerOwnedViewMixin, ListView):
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


class ShareRetryView(InfluencerOwnedViewMixin, SingleObjectMixin, View):
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


class ShareProofView(InfluencerOwnedViewMixin, SingleObjectMixin, View):
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
            proof_submit(
                publication=publication,
                influencer=self.influencer,
                url=form.cleaned_data["url"],
                visitor=visitor_hash(client_ip(request)),
            )
        except PublishingError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("Thanks! We are checking your post; it counts once we have seen it."))
        return _back(request)


class SharePostView(InfluencerOwnedViewMixin, DetailView):
    """The phone-friendly page to post a share from yourself: the caption to copy, the image to download, the
    network's share page where it has one, and the field for the link to your post."""

    model = Share
    template_name = "influencers/shares/post.html"
    context_object_name = "share"

    def refine_queryset(self, queryset: Any) -> Any:
        return queryset.select_related("campaign__brand", "connected_account", "publication", "content")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        page = share_post_page_get(share=self.object)
        if page is None:
            raise Http404
        # Her own address: her clicks on her link never verify her post.
        proof_own_visitor_note(publication=self.object.publication, visitor=visitor_hash(client_ip(self.request)))
        context["page"] = page
        context["form"] = ProofForm(initial={"url": self.object.publication.proof_url})
        return context


class SharePostImageView(InfluencerOwnedViewMixin, SingleObjectMixin, View):
    """The share's image as a download (for networks where the influencer posts it herself)."""

    model = Share
    http_method_names = ["get", "head"]

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        share = self.get_object()
        content = share_content(share=share)
        if content is None or not content.media or content.media_kind != "image":
            raise Http404
        served = user_file_served_as(content.media.name)
        response = FileResponse(content.media.open("rb"), content_type=served.content_type)
        return user_file_headers(response, filename=served.filename, inline=False)
