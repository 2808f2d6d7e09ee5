"""Connected accounts under /i/accounts/: list with health, connect (OAuth), callback, disconnect."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ImproperlyConfigured
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import FormView, ListView, TemplateView
from django.views.generic.detail import SingleObjectMixin

from influencers.ownership import InfluencerOwnedViewMixin
from networks import services
from networks.capabilities import CapabilityRow, capability_matrix
from networks.errors import ConnectError, OAuthStateError
from networks.forms import MastodonConnectForm
from networks.models import AccountStatus, ConnectedAccount, Network
from networks.oauth import PendingAuth, pending_auth_pop, pending_auth_store, safe_next_path
from networks.providers.exceptions import NetworkError
from networks.providers.oauth2_base import OAuth2HttpProvider
from networks.providers.registry import connect_options, provider_base_url, provider_class


def oauth_redirect_uri() -> str:
    """The one callback URL registered with every network: built from SITE_URL, never from the Host header."""
    return f"{settings.SITE_URL}{reverse('networks:oauth-callback')}"


def _start_authorisation(request: HttpRequest, *, network: str, instance_url: str, next_path: str) -> HttpResponse:
    redirect_uri = oauth_redirect_uri()
    start = services.account_connect_begin(network=network, instance_url=instance_url, redirect_uri=redirect_uri)
    pending_auth_store(
        request.session,
        PendingAuth(
            state=start.state,
            network=network,
            instance_url=instance_url,
            code_verifier=start.code_verifier,
            redirect_uri=redirect_uri,
            next_path=safe_next_path(next_path),
            created_at=time.time(),
        ),
    )
    return HttpResponseRedirect(start.authorization_url)


class OAuthFormsPageMixin:
    """Pages whose forms start an OAuth dance end on another server's consent page.

    Browsers apply the CSP ``form-action`` directive to the redirect that answers a form POST,
    so these pages (and only these) allow forms to lead to any https server, plus the sandbox's
    own origin when it runs elsewhere.
    """

    def render_to_response(self, context: dict[str, Any], **kwargs: Any) -> HttpResponse:
        response: HttpResponse = super().render_to_response(context, **kwargs)  # type: ignore[misc]
        form_action = ["https:"]
        if services.sandbox_enabled():
            sandbox = urlsplit(services.sandbox_base_url())
            form_action.append(f"{sandbox.scheme}://{sandbox.netloc}")
        response._csp_update = {"form-action": form_action}  # type: ignore[attr-defined]
        return response


class AccountListView(OAuthFormsPageMixin, InfluencerOwnedViewMixin, ListView):
    model = ConnectedAccount
    template_name = "networks/accounts.html"
    context_object_name = "accounts"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["mastodon_form"] = MastodonConnectForm()
        context["sandbox_enabled"] = services.sandbox_enabled()
        context["connect_options"] = connect_options()
        accounts = context["accounts"]
        context["attention_needed"] = [account for account in accounts if account.status != AccountStatus.HEALTHY]
        return context


class MastodonConnectView(OAuthFormsPageMixin, InfluencerOwnedViewMixin, FormView):
    template_name = "networks/connect_mastodon.html"
    form_class = MastodonConnectForm

    def get_initial(self) -> dict[str, Any]:
        return {"next": safe_next_path(self.request.GET.get("next"))}

    def form_valid(self, form: MastodonConnectForm) -> HttpResponse:
        try:
            instance_url = services.instance_url_normalize(raw=form.cleaned_data["instance"])
            # The built-in sandbox entered by address is still the sandbox network.
            network = Network.SANDBOX if instance_url == services.sandbox_base_url() else Network.MASTODON
            if network == Network.MASTODON:
                # A server that moved for good is connected (and remembered) at its new address.
                instance_url = services.instance_url_resolve(url=instance_url)
            return _start_authorisation(
                self.request,
                network=network,
                instance_url=instance_url,
                next_path=form.cleaned_data.get("next") or "",
            )
        except ConnectError as error:
            form.add_error("instance", str(error))
            return self.form_invalid(form)


class SandboxConnectView(InfluencerOwnedViewMixin, View):
    """One click: connect an account on the built-in Linkilike Sandbox network."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return _start_authorisation(
                request,
                network=Network.SANDBOX,
                instance_url=services.sandbox_base_url(),
                next_path=request.POST.get("next", ""),
            )
        except ConnectError as error:
            messages.error(request, str(error))
            return redirect("networks:accounts")


class OAuthCallbackView(InfluencerOwnedViewMixin, View):
    http_method_names = ["get"]

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            pending = pending_auth_pop(request.session, request.GET.get("state"))
        except OAuthStateError as error:
            context = {"message": str(error)}
            return TemplateResponse(request, "networks/callback_error.html", context, status=400)
        destination = pending.next_path or reverse("networks:accounts")
        if request.GET.get("error") or not request.GET.get("code"):
            messages.warning(request, _("The account was not connected: the permission was not granted."))
            return HttpResponseRedirect(destination)
        try:
            account = services.account_connect_complete(
                influencer=self.influencer,
                network=pending.network,
                instance_url=pending.instance_url,
                code=request.GET["code"],
                code_verifier=pending.code_verifier,
                redirect_uri=pending.redirect_uri,
            )
        except ConnectError as error:
            messages.error(request, str(error))
            return redirect("networks:accounts")
        messages.success(request, _("%(handle)s is connected.") % {"handle": account.handle})
        return HttpResponseRedirect(destination)


class AccountActionView(InfluencerOwnedViewMixin, SingleObjectMixin, View):
    """A POST on one of the influencer's own accounts, found through the scoped queryset."""

    model = ConnectedAccount
    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        account = self.get_object()
        self.perform(account)
        return redirect("networks:accounts")

    def perform(self, account: ConnectedAccount) -> None:
        raise NotImplementedError


class AccountDisconnectView(AccountActionView):
    def perform(self, account: ConnectedAccount) -> None:
        if services.account_disconnect(account=account):
            messages.success(self.request, _("%(handle)s was disconnected.") % {"handle": account.handle})
            return
        messages.warning(
            self.request,
            _(
                "%(handle)s was disconnected here, but its server could not be told to withdraw Linkilike's "
                "access. You can remove Linkilike from the authorised apps in your account settings there."
            )
            % {"handle": account.handle},
        )


class AccountRefreshView(AccountActionView):
    def perform(self, account: ConnectedAccount) -> None:
        try:
            refreshed = services.account_profile_refresh(account_id=account.pk)
        except NetworkError:
            messages.error(self.request, _("The network did not answer. Please try again in a few minutes."))
            return
        if refreshed is not None and refreshed.is_usable:
            messages.success(self.request, _("%(handle)s was updated.") % {"handle": refreshed.handle})
        else:
            messages.warning(self.request, _("%(handle)s needs to be reconnected.") % {"handle": account.handle})


class NetworkMatrixView(TemplateView):
    """Public: which networks Linkilike supports and what each can do, from the providers themselves."""

    template_name = "networks/matrix.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["rows"] = capability_matrix()
        return context


class OAuthNetworkConnectView(OAuthFormsPageMixin, InfluencerOwnedViewMixin, TemplateView):
    """The fixed-host OAuth 2 networks (``OAuth2HttpProvider``: X, LinkedIn, Tumblr): GET explains what connecting
    needs (or that staff have not set the network up yet); POST goes to the network's consent page."""

    template_name = "networks/connect_oauth.html"

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        try:
            cls = provider_class(kwargs.get("network") or "")
        except ImproperlyConfigured as error:
            raise Http404 from error
        if not issubclass(cls, OAuth2HttpProvider):
            raise Http404
        return super().dispatch(request, *args, **kwargs)

    def _row(self) -> CapabilityRow:
        return next(row for row in capability_matrix() if row.network == self.kwargs["network"])

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update(row=self._row(), next=safe_next_path(self.request.GET.get("next")))
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        row = self._row()
        if not row.configured:
            messages.error(request, _("%(network)s is not set up on Linkilike yet.") % {"network": row.label})
            return redirect("networks:connect-oauth", network=row.network)
        try:
            return _start_authorisation(
                request,
                network=row.network,
                instance_url=provider_base_url(row.network),
                next_path=request.POST.get("next", ""),
            )
        except (ConnectError, NetworkError) as error:
            messages.error(request, str(error))
            return redirect("networks:accounts")
