"""Connecting Instagram, Threads and Facebook Pages under /i/accounts/.

Instagram and Threads use the shared OAuth callback. Facebook has its own callback because connecting
ends with choosing a Page (the login gives a user token; Linkilike keeps only the chosen Page's token).
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlsplit

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ImproperlyConfigured
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import TemplateView

from influencers.ownership import InfluencerOwnedViewMixin
from networks import services, services_meta
from networks.errors import ConnectError, OAuthStateError
from networks.oauth import PendingAuth, pending_auth_pop, pending_auth_store, safe_next_path
from networks.providers.meta import MetaGraphProvider
from networks.providers.registry import network_label, provider_base_url, provider_class
from networks.selectors import provider_get_for_network
from networks.views import oauth_redirect_uri


def facebook_redirect_uri() -> str:
    return f"{settings.SITE_URL}{reverse('networks:facebook-callback')}"


def _provider(network: str) -> MetaGraphProvider:
    provider = provider_get_for_network(network)
    if not isinstance(provider, MetaGraphProvider):
        raise ImproperlyConfigured(f"NETWORK_PROVIDERS[{network!r}] must be a Meta Graph provider")
    return provider


def allow_form_redirect_to(response: HttpResponse, *, network: str) -> HttpResponse:
    """Let this page's forms end on the network's consent page.

    Browsers apply the Content-Security-Policy ``form-action`` to the redirect after a form is sent,
    so the POST that answers with Meta's consent page needs Meta's host allowed on the page holding the form.
    """
    parts = urlsplit(_provider(network).authorize_host)
    response._csp_update = {"form-action": [f"{parts.scheme}://{parts.netloc}"]}  # type: ignore[attr-defined]
    return response


class MetaConnectView(InfluencerOwnedViewMixin, TemplateView):
    """GET: what connecting needs (or that the network is not set up yet). POST: off to Meta's consent page."""

    template_name = "networks/connect_meta.html"

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        try:
            cls = provider_class(kwargs.get("network") or "")
        except ImproperlyConfigured as error:
            raise Http404 from error
        if not issubclass(cls, MetaGraphProvider):
            raise Http404
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        network = self.kwargs["network"]
        context.update(
            network=network,
            info=provider_class(network).facts,
            configured=_provider(network).is_configured,
            next=safe_next_path(self.request.GET.get("next")),
        )
        return context

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = super().get(request, *args, **kwargs)
        return allow_form_redirect_to(response, network=self.kwargs["network"])

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        network = self.kwargs["network"]
        if not _provider(network).is_configured:
            messages.error(
                request, _("%(network)s is not set up on Linkilike yet.") % {"network": network_label(network)}
            )
            return redirect("networks:connect-meta", network=network)
        redirect_uri = facebook_redirect_uri() if network == services_meta.FACEBOOK else oauth_redirect_uri()
        instance_url = provider_base_url(network)
        start = services.account_connect_begin(network=network, instance_url=instance_url, redirect_uri=redirect_uri)
        pending_auth_store(
            request.session,
            PendingAuth(
                state=start.state,
                network=network,
                instance_url=instance_url,
                code_verifier=start.code_verifier,
                redirect_uri=redirect_uri,
                next_path=safe_next_path(request.POST.get("next")),
                created_at=time.time(),
            ),
        )
        return HttpResponseRedirect(start.authorization_url)


class FacebookCallbackView(InfluencerOwnedViewMixin, View):
    http_method_names = ["get"]

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            pending = pending_auth_pop(request.session, request.GET.get("state"))
            if pending.network != services_meta.FACEBOOK:
                raise OAuthStateError(_("This connection attempt is unknown or was already used. Please start again."))
        except OAuthStateError as error:
            return TemplateResponse(request, "networks/callback_error.html", {"message": str(error)}, status=400)
        if request.GET.get("error") or not request.GET.get("code"):
            messages.warning(request, _("The account was not connected: the permission was not granted."))
            return HttpResponseRedirect(pending.next_path or reverse("networks:accounts"))
        try:
            services_meta.facebook_login_complete(
                session=request.session,
                code=request.GET["code"],
                redirect_uri=pending.redirect_uri,
                code_verifier=pending.code_verifier,
                next_path=pending.next_path,
            )
        except ConnectError as error:
            messages.error(request, str(error))
            return redirect("networks:accounts")
        return redirect("networks:facebook-pages")


class FacebookPageForm(forms.Form):
    page = forms.ChoiceField(label=gettext_lazy("Page"), widget=forms.RadioSelect)

    def __init__(self, *args: Any, pages: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["page"]
        assert isinstance(field, forms.ChoiceField)  # noqa: S101 - narrows the type for mypy
        field.choices = pages
        self.has_pages = bool(pages)
        if len(pages) == 1:
            self.fields["page"].initial = pages[0][0]


class FacebookPagesView(InfluencerOwnedViewMixin, View):
    """Choose the Page to connect after Facebook Login."""

    http_method_names = ["get", "post"]
    template_name = "networks/facebook_pages.html"

    def _render(self, request: HttpRequest, form: FacebookPageForm, status: int = 200) -> HttpResponse:
        context = {"form": form, "influencer": self.influencer, "has_pages": form.has_pages}
        return TemplateResponse(request, self.template_name, context, status=status)

    def _pages(self, request: HttpRequest) -> list[tuple[str, str]]:
        login = services_meta.facebook_login_get(session=request.session)
        return [(page.page_id, page.name) for page in services_meta.facebook_pages_list(login=login)]

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            pages = self._pages(request)
        except ConnectError as error:
            messages.error(request, str(error))
            return redirect("networks:accounts")
        response = self._render(request, FacebookPageForm(pages=pages))
        return allow_form_redirect_to(response, network=services_meta.FACEBOOK)  # "Start again"

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            pages = self._pages(request)
            next_path = services_meta.facebook_login_get(session=request.session).next_path
        except ConnectError as error:
            messages.error(request, str(error))
            return redirect("networks:accounts")
        form = FacebookPageForm(request.POST, pages=pages)
        if not form.is_valid():
            return self._render(request, form, status=400)
        try:
            account = services_meta.facebook_page_connect(
                session=request.session, influencer=self.influencer, page_id=form.cleaned_data["page"]
            )
        except ConnectError as error:
            form.add_error("page", str(error))
            return self._render(request, form, status=400)
        messages.success(request, _("%(handle)s is connected.") % {"handle": account.display_name or account.handle})
        return HttpResponseRedirect(next_path or reverse("networks:accounts"))


urlpatterns = [
    path("i/accounts/connect/facebook/pages/", FacebookPagesView.as_view(), name="facebook-pages"),
    path("i/accounts/callback/facebook/", FacebookCallbackView.as_view(), name="facebook-callback"),
    path("i/accounts/connect/<slug:network>/", MetaConnectView.as_view(), name="connect-meta"),
]
