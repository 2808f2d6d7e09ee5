"""Admin for connected accounts and OAuth apps. Token and secret columns are never displayed."""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from networks.models import ConnectedAccount, NetworkAppCredential, OAuthApp
from networks.tasks import accounts_profile_refresh_enqueue

SECRET_FIELDS = ("access_token", "refresh_token", "client_secret")


@admin.register(ConnectedAccount)
class ConnectedAccountAdmin(admin.ModelAdmin):
    list_display = (
        "handle",
        "network",
        "instance_url",
        "influencer",
        "status",
        "followers_count",
        "token_expires_at",
        "profile_refreshed_at",
        "last_error_at",
    )
    list_filter = ("status", "network")
    search_fields = ("handle", "display_name", "external_id", "influencer__display_name", "influencer__user__email")
    raw_id_fields = ("influencer",)
    exclude = ("access_token", "refresh_token")
    readonly_fields = (
        "network",
        "instance_url",
        "external_id",
        "token_scope",
        "token_expires_at",
        "token_refreshed_at",
        "reconsent_warned_at",
        "last_error",
        "last_error_at",
        "profile_refreshed_at",
        "connected_at",
        "updated_at",
    )
    date_hierarchy = "connected_at"
    actions = ("refresh_profiles",)

    @admin.action(description=_("Re-read profile and follower count now"))
    def refresh_profiles(self, request: HttpRequest, queryset: QuerySet[ConnectedAccount]) -> None:
        count = accounts_profile_refresh_enqueue(account_ids=list(queryset.values_list("pk", flat=True)))
        message = ngettext("%(count)d account queued for refresh.", "%(count)d accounts queued for refresh.", count)
        self.message_user(request, message % {"count": count}, messages.SUCCESS)


@admin.register(OAuthApp)
class OAuthAppAdmin(admin.ModelAdmin):
    list_display = ("instance_url", "network", "redirect_uri", "created_at")
    list_filter = ("network",)
    search_fields = ("instance_url", "client_id")
    exclude = ("client_secret",)
    readonly_fields = ("network", "instance_url", "redirect_uri", "scopes", "client_id", "created_at")


class NetworkAppCredentialForm(forms.ModelForm):
    """The secret is write-only: typed once, stored encrypted, never shown again."""

    secret = forms.CharField(
        label=_("Client / app secret"),
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_("Leave empty to keep the stored secret."),
    )

    class Meta:
        model = NetworkAppCredential
        fields = ("network", "client_id")

    def clean_secret(self) -> str:
        secret: str = self.cleaned_data.get("secret", "")
        if not secret and not (self.instance and self.instance.pk):
            raise forms.ValidationError(_("Enter the secret the network gave you."))
        return secret

    def save(self, commit: bool = True) -> Any:
        if self.cleaned_data.get("secret"):
            self.instance.client_secret = self.cleaned_data["secret"]
        return super().save(commit=commit)


@admin.register(NetworkAppCredential)
class NetworkAppCredentialAdmin(admin.ModelAdmin):
    form = NetworkAppCredentialForm
    fields = ("network", "client_id", "secret")
    list_display = ("network", "client_id", "updated_by", "updated_at")
    search_fields = ("client_id",)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        obj.updated_by = request.user
        super().save_model(request, obj, form, change)
