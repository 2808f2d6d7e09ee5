"""Brand workspace pages under /b/<brand_slug>/. Thin: parse, call a service, render."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.http import require_http_methods
from django.views.generic import FormView, TemplateView
from django.views.generic.detail import SingleObjectMixin

from brands import services
from brands.errors import BrandError, InvitationError, InvitationRateLimited, LogoRejected
from brands.forms import BrandForm, InvitationForm, MembershipRoleForm
from brands.models import BrandAction, Invitation, Membership
from brands.selectors import brand_get_demo, invitation_list_pending_for_brand, membership_list_for_brand
from brands.tenancy import BrandScopedViewMixin


class BrandCreateView(LoginRequiredMixin, FormView):
    template_name = "brands/create.html"
    form_class = BrandForm

    def form_valid(self, form: BrandForm) -> HttpResponse:
        try:
            brand = services.brand_create(owner=self.request.user, **form.cleaned_data)  # type: ignore[arg-type]
        except LogoRejected as error:
            form.add_error(error.field, str(error))
            return self.form_invalid(form)
        messages.success(self.request, _("Your brand workspace %(name)s is ready.") % {"name": brand.name})
        return redirect("brands:dashboard", brand_slug=brand.slug)


class BrandDashboardView(BrandScopedViewMixin, TemplateView):
    template_name = "brands/dashboard.html"


class BrandSettingsView(BrandScopedViewMixin, FormView):
    template_name = "brands/settings.html"
    form_class = BrandForm
    read_action = BrandAction.MANAGE_BRAND
    write_action = BrandAction.MANAGE_BRAND

    def get_form_kwargs(self) -> dict[str, Any]:
        kwargs = super().get_form_kwargs()
        kwargs["instance"] = self.brand
        return kwargs

    def form_valid(self, form: BrandForm) -> HttpResponse:
        changed = {name: form.cleaned_data[name] for name in form.changed_data}
        if changed:
            try:
                services.brand_update(brand=self.brand, **changed)
            except LogoRejected as error:
                form.add_error(error.field, str(error))
                return self.form_invalid(form)
        messages.success(self.request, _("Brand settings saved."))
        return redirect("brands:settings", brand_slug=self.brand.slug)


class MemberListView(BrandScopedViewMixin, FormView):
    """Members and pending invitations; owners invite from here."""

    template_name = "brands/members.html"
    form_class = InvitationForm
    write_action = BrandAction.MANAGE_MEMBERS

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["members"] = membership_list_for_brand(brand=self.brand)
        context["invitations"] = invitation_list_pending_for_brand(brand=self.brand)
        context["can_manage"] = self.membership.can(BrandAction.MANAGE_MEMBERS)
        context["role_form"] = MembershipRoleForm()
        return context

    def form_valid(self, form: InvitationForm) -> HttpResponse:
        try:
            services.invitation_create(
                brand=self.brand,
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
                invited_by=self.request.user,  # type: ignore[arg-type]
            )
        except InvitationRateLimited as error:
            form.add_error(error.field, str(error))
            response = self.form_invalid(form)
            response.status_code = 429  # the form is shown again with what was typed
            response["Retry-After"] = str(error.retry_after)
            return response
        except BrandError as error:
            form.add_error("email", str(error))
            return self.form_invalid(form)
        messages.success(self.request, _("Invitation sent to %(email)s.") % {"email": form.cleaned_data["email"]})
        return redirect("brands:members", brand_slug=self.brand.slug)


class BrandObjectActionView(BrandScopedViewMixin, SingleObjectMixin, View):
    """A POST-only action on one brand-owned object, found through the scoped queryset."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        target = self.get_object()
        try:
            message = self.perform(target)
        except BrandError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, message)
        return HttpResponseRedirect(self.get_success_url())

    def perform(self, target: Any) -> str:
        raise NotImplementedError

    def get_success_url(self) -> str:
        return reverse("brands:members", kwargs={"brand_slug": self.brand.slug})


class MemberRoleView(BrandObjectActionView):
    model = Membership
    write_action = BrandAction.MANAGE_MEMBERS

    def perform(self, target: Any) -> str:
        form = MembershipRoleForm(self.request.POST)
        if not form.is_valid():
            raise BrandError(_("Choose a valid role."))
        services.membership_role_change(membership=target, role=form.cleaned_data["role"])
        return _("Role updated.")


class MemberRemoveView(BrandObjectActionView):
    model = Membership
    write_action = BrandAction.MANAGE_MEMBERS

    def perform(self, target: Any) -> str:
        services.membership_remove(membership=target)
        return _("%(email)s was removed from the brand.") % {"email": target.user.email}


class InvitationRevokeView(BrandObjectActionView):
    model = Invitation
    write_action = BrandAction.MANAGE_MEMBERS

    def perform(self, target: Any) -> str:
        services.invitation_revoke(invitation=target)
        return _("Invitation withdrawn.")


class BrandLeaveView(BrandScopedViewMixin, View):
    http_method_names = ["get", "post"]
    write_action = BrandAction.VIEW

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return render(request, "brands/leave.html", {"brand": self.brand, "membership": self.membership})

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            services.membership_remove(membership=self.membership)
        except BrandError as error:
            messages.error(request, str(error))
            return redirect("brands:members", brand_slug=self.brand.slug)
        messages.success(request, _("You left %(brand)s.") % {"brand": self.brand.name})
        return redirect("home")


@login_required
@require_http_methods(["GET", "POST"])
def invitation_respond(request: HttpRequest, token: str) -> HttpResponse:
    """Shows an invitation and takes the answer. Expired, used and foreign links explain why."""
    try:
        invitation = services.invitation_get_from_token(token=token)
    except InvitationError as error:
        return render(request, "brands/invitation.html", {"error": str(error)}, status=400)
    if request.method == "POST":
        try:
            if request.POST.get("answer") == "decline":
                services.invitation_decline(invitation=invitation, user=request.user)  # type: ignore[arg-type]
                messages.info(request, _("You declined the invitation."))
                return redirect("home")
            membership = services.invitation_accept(invitation=invitation, user=request.user)  # type: ignore[arg-type]
        except InvitationError as error:
            return render(request, "brands/invitation.html", {"error": str(error)}, status=400)
        messages.success(request, _("Welcome to %(brand)s!") % {"brand": membership.brand.name})
        return redirect("brands:dashboard", brand_slug=membership.brand.slug)
    return render(request, "brands/invitation.html", {"invitation": invitation})


@require_http_methods(["GET", "HEAD"])
def demo_brand_page(request: HttpRequest, slug: str) -> HttpResponse:
    """The demo brand's stand-in website: where its demo campaign's tracking links end (only where the
    sandbox runs). A real brand links to its own site; this page only has to exist and say what it is."""
    return render(request, "brands/demo_page.html", {"demo_brand": brand_get_demo(slug=slug)})
