from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect

from brands import services
from brands.errors import LastOwnerError
from brands.forms import CURRENCY_CHOICES
from brands.models import Brand, BrandRole, Invitation, Membership


class RefuseLastOwnerChangesMixin:
    """Role changes and removals go through ``brands.services``, which keep a brand's last owner; when
    they refuse, the whole save is rolled back and the page says why (instead of an error page)."""

    def _refused(self, request: HttpRequest, error: LastOwnerError) -> HttpResponse:
        self.message_user(request, str(error), messages.ERROR)  # type: ignore[attr-defined]
        return HttpResponseRedirect(request.get_full_path())

    def changeform_view(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return super().changeform_view(request, *args, **kwargs)  # type: ignore[misc]
        except LastOwnerError as error:
            return self._refused(request, error)

    def delete_view(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return super().delete_view(request, *args, **kwargs)  # type: ignore[misc]
        except LastOwnerError as error:
            return self._refused(request, error)

    def changelist_view(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        # The bulk "delete selected" action: one transaction, so a refusal keeps every row (and log entry).
        try:
            with transaction.atomic():
                return super().changelist_view(request, *args, **kwargs)  # type: ignore[misc]
        except LastOwnerError as error:
            return self._refused(request, error)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    raw_id_fields = ("user",)


class BrandAdminForm(forms.ModelForm):
    # A list, as in the brand's own settings form: free text let "eur" or "€" through.
    currency = forms.ChoiceField(label=Brand._meta.get_field("currency").verbose_name, choices=CURRENCY_CHOICES)
    website = forms.URLField(label=Brand._meta.get_field("website").verbose_name, required=False, assume_scheme="https")

    class Meta:
        model = Brand
        fields = ("name", "slug", "country", "currency", "category", "website", "logo")


@admin.register(Brand)
class BrandAdmin(RefuseLastOwnerChangesMixin, admin.ModelAdmin):
    form = BrandAdminForm
    list_display = ("name", "slug", "country", "currency", "category", "is_demo", "created_at")
    list_filter = ("country", "currency", "category", "is_demo")
    # Shown, never edited: only the demo seed makes a demo brand (it opens the sandbox to its campaigns).
    readonly_fields = ("is_demo",)
    search_fields = ("name", "slug", "memberships__user__email")
    prepopulated_fields = {"slug": ("name",)}
    inlines = (MembershipInline,)
    date_hierarchy = "created_at"

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        if formset.model is not Membership:
            super().save_formset(request, form, formset, change)
            return
        # Each change through the service, new owners first, then other role changes, then removals: handing
        # the brand to someone else in one save works; leaving it without an owner raises LastOwnerError.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        promotions_first = sorted(
            formset.initial_forms, key=lambda f: getattr(f, "cleaned_data", {}).get("role") != BrandRole.OWNER
        )
        for member_form in promotions_first:
            if member_form in formset.deleted_forms or not member_form.has_changed():
                continue
            if "role" in member_form.changed_data:
                services.membership_role_change(membership=member_form.instance, role=member_form.cleaned_data["role"])
            if set(member_form.changed_data) - {"role"}:
                member_form.save()
            formset.changed_objects.append((member_form.instance, member_form.changed_data))
        for member_form in formset.deleted_forms:
            if member_form.instance.pk is not None:
                services.membership_remove(membership=member_form.instance)
                formset.deleted_objects.append(member_form.instance)
        for member_form in formset.extra_forms:
            if member_form.has_changed() and member_form not in formset.deleted_forms:
                formset.new_objects.append(member_form.save())


@admin.register(Membership)
class MembershipAdmin(RefuseLastOwnerChangesMixin, admin.ModelAdmin):
    list_display = ("user", "brand", "role", "created_at")
    list_filter = ("role", "brand")
    search_fields = ("user__email", "brand__name")
    raw_id_fields = ("user", "brand")

    def get_readonly_fields(self, request: HttpRequest, obj: Membership | None = None) -> tuple[str, ...]:
        return ("user", "brand") if obj is not None else ()  # a membership is not moved to someone else

    def save_model(self, request: HttpRequest, obj: Membership, form: Any, change: bool) -> None:
        if change:  # only the role can change; the service reads the stored role under a lock
            services.membership_role_change(membership=obj, role=obj.role)
            return
        super().save_model(request, obj, form, change)

    def delete_model(self, request: HttpRequest, obj: Membership) -> None:
        services.membership_remove(membership=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Membership]) -> None:
        for membership in queryset.order_by("pk"):
            services.membership_remove(membership=membership)


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ("email", "brand", "role", "status", "created_at", "expires_at", "responded_at")
    list_filter = ("status", "role")
    search_fields = ("email", "brand__name")
    raw_id_fields = ("brand", "invited_by", "responded_by")
    readonly_fields = ("nonce",)
    exclude = ("nonce",)
