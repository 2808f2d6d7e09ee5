"""A person's own API tokens under /accounts/tokens/. Thin: parse, call a service or selector, render."""

from __future__ import annotations

from typing import Any

from allauth.account.decorators import reauthentication_required
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.generic import FormView, TemplateView
from knox.settings import knox_settings

from accounts import selectors, services
from accounts.errors import AccountError
from accounts.forms import ApiTokenCreateForm


def _token_lifetime_days() -> int:
    return int(knox_settings.TOKEN_TTL.days)


class ApiTokenListView(LoginRequiredMixin, TemplateView):
    template_name = "accounts/api_tokens.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["tokens"] = selectors.api_token_list_for_user(user=self.request.user)  # type: ignore[arg-type]
        context["lifetime_days"] = _token_lifetime_days()
        return context


# A token outlives the session that made it: like the two-factor pages, ask for the password again
# so a hijacked session cannot mint itself a lasting credential. never_cache: the page shows the token.
@method_decorator([never_cache, login_required, reauthentication_required], name="dispatch")
class ApiTokenCreateView(FormView):
    template_name = "accounts/api_token_new.html"
    form_class = ApiTokenCreateForm

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["lifetime_days"] = _token_lifetime_days()
        return context

    def form_valid(self, form: ApiTokenCreateForm) -> HttpResponse:
        try:
            token, raw = services.api_token_create(user=self.request.user, name=form.cleaned_data["name"])  # type: ignore[arg-type]
        except AccountError as error:
            form.add_error(None, str(error))
            return self.form_invalid(form)
        # Rendered, not redirected: the raw token must never pass through the session or a message.
        return self.render_to_response(self.get_context_data(form=ApiTokenCreateForm(), created=token, raw=raw))


class ApiTokenRevokeView(LoginRequiredMixin, View):
    http_method_names = ["post"]

    def post(self, request: HttpRequest, token_id: int) -> HttpResponse:
        token = selectors.api_token_get_for_user(user=request.user, token_id=token_id)  # type: ignore[arg-type]
        services.api_token_revoke(token=token)
        messages.success(request, _("Token “%(name)s” revoked.") % {"name": token.name})
        return redirect("accounts:api-tokens")


class ApiTokenRevokeAllView(LoginRequiredMixin, View):
    http_method_names = ["post"]

    def post(self, request: HttpRequest) -> HttpResponse:
        count = services.api_tokens_revoke_all(user=request.user)  # type: ignore[arg-type]
        messages.success(
            request, ngettext("%(count)d API token revoked.", "%(count)d API tokens revoked.", count) % {"count": count}
        )
        return redirect("accounts:api-tokens")
