"""Brand side of publishing: retry a failed share where a retry cannot double-post.

Brand-scoped (``BrandScopedViewMixin``): another brand's share is 404. The retry goes through
``campaigns.publishing.services.publication_retry``.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic.detail import SingleObjectMixin

from brands.models import BrandAction
from brands.tenancy import BrandScopedViewMixin
from campaigns.models import Share
from campaigns.publishing import services as publishing
from campaigns.publishing.errors import PublishingError


class ShareRetryView(BrandScopedViewMixin, SingleObjectMixin, View):
    model = Share
    brand_lookup = "campaign__brand"
    read_action = BrandAction.EDIT_CAMPAIGNS
    write_action = BrandAction.EDIT_CAMPAIGNS
    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        share: Share = self.get_object()
        publication = getattr(share, "publication", None)
        try:
            if publication is None:
                raise PublishingError(_("This share cannot be tried again."))
            publishing.publication_retry(publication=publication)
        except PublishingError as error:
            messages.error(request, str(error))
        else:
            messages.success(
                request, _("We are trying again to publish %(name)s's share.") % {"name": share.influencer.display_name}
            )
        target = request.POST.get("next", "")
        if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
            return redirect(target)
        return redirect("campaigns:detail", brand_slug=self.brand.slug, pk=share.campaign_id)
