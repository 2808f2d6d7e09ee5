"""Campaign pages under /b/<brand_slug>/campaigns/. Thin: parse, call a service or selector, render."""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib import messages
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import DetailView, FormView, ListView
from django.views.generic.detail import SingleObjectMixin

from brands.models import BrandAction
from brands.tenancy import BrandScopedViewMixin
from campaigns import services
from campaigns.captions import hashtags_normalize
from campaigns.earnings.selectors import campaign_spend_for_campaigns, campaign_spend_get_for_campaign
from campaigns.errors import CampaignError
from campaigns.forms import VARIANT_SLOTS, CampaignForm, ContentForm
from campaigns.models import DEFAULT_PLATFORM_FEE_BPS, Campaign, ContentPiece
from campaigns.selectors import (
    campaign_close_summary,
    campaign_estimate,
    campaign_funding_gap,
    campaign_preview,
    caption_fits_for_campaign,
)
from campaigns.selectors_captions import campaign_influencer_list, caption_pending_count_for_campaign
from campaigns.views_results import campaign_tab_context
from influencers.topics import LANGUAGES
from linkilike.i18n import label_in_sentence
from networks.providers.registry import campaign_networks
from payouts.money import money_format

TABS = (
    ("overview", gettext_lazy("Overview")),
    ("content", gettext_lazy("Content")),
    ("influencers", gettext_lazy("Influencers")),
    ("shares", gettext_lazy("Shares")),
    ("results", gettext_lazy("Results")),
)


def _is_htmx_validation(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true" and request.POST.get("_validate") == "1"


def _show_error(form: Any, error: CampaignError) -> None:
    field = error.field if error.field in form.fields else None
    form.add_error(field, str(error))


class CampaignListView(BrandScopedViewMixin, ListView):
    model = Campaign
    template_name = "campaigns/list.html"
    context_object_name = "campaigns"
    paginate_by = 25

    def refine_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.filter(archived_at__isnull=self.request.GET.get("archived") != "1").order_by("-created_at")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["show_archived"] = self.request.GET.get("archived") == "1"
        context["can_edit"] = self.membership.can(BrandAction.EDIT_CAMPAIGNS)
        # The page's campaigns' spend from the ledger, in one query (the same figure as Funds and Results).
        context["spend"] = campaign_spend_for_campaigns(campaigns=context["campaigns"])
        return context


class CampaignFormMixin(BrandScopedViewMixin):
    read_action = BrandAction.EDIT_CAMPAIGNS
    write_action = BrandAction.EDIT_CAMPAIGNS
    template_name: str | None = "campaigns/form.html"
    request: HttpRequest
    campaign: Campaign | None = None

    def get_form(self, form_class: Any = None) -> CampaignForm:
        kwargs: dict[str, Any] = {"campaign": self.campaign, "brand_currency": self.brand.currency}
        if self.request.method == "POST":
            kwargs["data"] = self.request.POST
        return CampaignForm(**kwargs)

    def fee_bps(self) -> int:
        return self.campaign.platform_fee_bps if self.campaign else DEFAULT_PLATFORM_FEE_BPS

    def render_form(self, form: CampaignForm, *, partial: bool = False) -> HttpResponse:
        context = self.get_context_data(form=form)
        context["estimate"] = form.estimate(platform_fee_bps=self.fee_bps()) if form.is_bound else None
        if context["estimate"] is None and self.campaign is not None and not form.is_bound:
            context["estimate"] = campaign_estimate(campaign=self.campaign)
        context["fee_percent"] = self.fee_bps() / 100
        context["estimate_currency"] = form["currency"].value() or self.brand.currency
        context["campaign"] = self.campaign
        template = "campaigns/partials/campaign_form_validate.html" if partial else self.template_name
        return self.response_class(  # type: ignore[attr-defined]
            request=self.request, template=[template], context=context
        )

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self.render_form(self.get_form())

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = self.get_form()
        valid = form.is_valid()
        if _is_htmx_validation(request):
            return self.render_form(form, partial=True)
        if not valid:
            return self.render_form(form)
        try:
            campaign = self.save(form)
        except CampaignError as error:
            _show_error(form, error)
            return self.render_form(form)
        return redirect("campaigns:detail", brand_slug=self.brand.slug, pk=campaign.pk)

    def save(self, form: CampaignForm) -> Campaign:
        raise NotImplementedError


class CampaignCreateView(CampaignFormMixin, FormView):
    def save(self, form: CampaignForm) -> Campaign:
        campaign = services.campaign_create(
            brand=self.brand,
            created_by=self.request.user,  # type: ignore[arg-type]
            **form.service_fields(),
        )
        messages.success(self.request, _("Campaign saved as a draft. Now add its content."))
        return campaign


class CampaignUpdateView(CampaignFormMixin, SingleObjectMixin, FormView):
    model = Campaign

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.object = self.campaign = self.get_object()
        if self.campaign.status not in services.EDITABLE_STATUSES:
            return self._not_editable()
        return super().get(request, *args, **kwargs)

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.object = self.campaign = self.get_object()
        return super().post(request, *args, **kwargs)

    def _not_editable(self) -> HttpResponse:
        if self.campaign is None:  # pragma: no cover - set in get()/post()
            raise Http404
        messages.error(
            self.request,
            _("This campaign is %(status)s and can no longer be edited.")
            % {"status": label_in_sentence(self.campaign.get_status_display())},
        )
        return redirect("campaigns:detail", brand_slug=self.brand.slug, pk=self.campaign.pk)

    def save(self, form: CampaignForm) -> Campaign:
        if self.campaign is None:  # pragma: no cover - set in get()/post()
            raise Http404
        campaign = services.campaign_update(campaign=self.campaign, **form.service_fields())
        messages.success(self.request, _("Changes saved."))
        return campaign


class CampaignDetailView(BrandScopedViewMixin, DetailView):
    model = Campaign
    template_name = "campaigns/detail.html"
    context_object_name = "campaign"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        campaign: Campaign = self.object
        tab = self.request.GET.get("tab", "overview")
        if tab not in dict(TABS):
            tab = "overview"
        can_edit = self.membership.can(BrandAction.EDIT_CAMPAIGNS)
        can_cancel = self.membership.can(BrandAction.CANCEL_CAMPAIGNS)
        actions = self._actions(campaign, can_edit=can_edit, can_cancel=can_cancel)
        networks = campaign_networks()
        context.update(
            tab=tab,
            tabs=TABS,
            network_labels=[networks[code].label for code in campaign.networks if code in networks],
            estimate=campaign_estimate(campaign=campaign),
            spend=campaign_spend_get_for_campaign(campaign=campaign),
            estimate_currency=campaign.currency,
            editable=campaign.status in services.EDITABLE_STATUSES,
            archivable=campaign.archived_at is not None or campaign.status in services.ARCHIVABLE_STATUSES,
            can_edit=can_edit,
            can_cancel=can_cancel,
            actions=actions,
            # The question the confirmation asks, also put in the page's <dialog>s (static/js/confirm-dialog.js).
            close_summary=campaign_close_summary(campaign=campaign) if any(a["confirm"] for a in actions) else None,
            funding_gap=campaign_funding_gap(campaign=campaign),
            content_pieces=campaign.content.prefetch_related("variants") if tab == "content" else None,
            preview=campaign_preview(campaign=campaign) if tab == "content" else None,
            influencer_rows=campaign_influencer_list(campaign=campaign) if tab == "influencers" else None,
            pending_captions=caption_pending_count_for_campaign(campaign=campaign) if tab == "influencers" else 0,
            problems=services.campaign_problems(campaign=campaign)
            if campaign.status in services.EDITABLE_STATUSES
            else [],
        )
        context.update(campaign_tab_context(campaign=campaign, tab=tab, request=self.request))
        return context

    @staticmethod
    def _actions(campaign: Campaign, *, can_edit: bool, can_cancel: bool) -> list[dict[str, Any]]:
        """Buttons for the moves the lifecycle and the member's role allow now. Ending and cancelling cannot
        be undone and move money, so they ask first (``confirm``: a link to the question, not a POST)."""
        specs = [
            ("submit", _("Submit for review"), can_edit, "", False),
            ("withdraw", _("Withdraw from review"), can_edit, "secondary", False),
            ("pause", _("Pause"), can_edit, "secondary", False),
            ("resume", _("Resume"), can_edit, "", False),
            ("complete", _("End now"), can_cancel, "secondary", True),
            ("cancel", _("Cancel campaign"), can_cancel, "contrast", True),
        ]
        return [
            {"name": name, "label": label, "style": style, "confirm": confirm}
            for name, label, allowed, style, confirm in specs
            if allowed and services.transition_allowed(campaign=campaign, action=name)
        ]


class CampaignActionView(BrandScopedViewMixin, SingleObjectMixin, View):
    """A POST-only lifecycle action; refusals come back as an error message on the detail page."""

    model = Campaign
    http_method_names = ["post"]
    write_action = BrandAction.EDIT_CAMPAIGNS
    success_message: ClassVar[str] = ""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        campaign = self.get_object()
        try:
            result = self.perform(campaign)
        except CampaignError as error:
            messages.error(request, str(error))
            result = campaign
        else:
            messages.success(request, self.message(result))
        url = reverse("campaigns:detail", kwargs={"brand_slug": self.brand.slug, "pk": result.pk})
        return HttpResponseRedirect(url)

    def perform(self, campaign: Campaign) -> Campaign:
        raise NotImplementedError

    def message(self, campaign: Campaign) -> str:
        return str(self.success_message)


class CampaignSubmitView(CampaignActionView):
    def perform(self, campaign: Campaign) -> Campaign:
        return services.campaign_submit(campaign=campaign)

    def message(self, campaign: Campaign) -> str:
        gap = campaign_funding_gap(campaign=campaign)
        if gap is not None:
            # Submitted all the same (the money can follow), but approval would fail: say so now.
            messages.warning(
                self.request,
                _(
                    "Your balance does not cover the budget yet: %(shortfall)s is missing. We can approve the "
                    "campaign only once its whole budget can be reserved, so add funds now."
                )
                % {"shortfall": money_format(gap.shortfall_minor, gap.currency)},
            )
        return _("Submitted for review. We usually review within one working day and email you the outcome.")


class CampaignWithdrawView(CampaignActionView):
    def perform(self, campaign: Campaign) -> Campaign:
        return services.campaign_withdraw(campaign=campaign)

    def message(self, campaign: Campaign) -> str:
        return _("Withdrawn from review; the campaign is a draft again.")


class CampaignPauseView(CampaignActionView):
    def perform(self, campaign: Campaign) -> Campaign:
        return services.campaign_pause(campaign=campaign)

    def message(self, campaign: Campaign) -> str:
        return _("Paused: no new shares until you resume it.")


class CampaignResumeView(CampaignActionView):
    def perform(self, campaign: Campaign) -> Campaign:
        return services.campaign_resume(campaign=campaign)

    def message(self, campaign: Campaign) -> str:
        return _("Resumed.")


class ConfirmedCampaignActionView(CampaignActionView):
    """An action that cannot be undone: GET asks (what happens to the budget and to influencers'
    earnings), POST acts. The detail page links here, or opens the same question in a <dialog>."""

    http_method_names = ["get", "post"]
    read_action = BrandAction.CANCEL_CAMPAIGNS
    write_action = BrandAction.CANCEL_CAMPAIGNS
    action: ClassVar[str]

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        campaign = self.get_object()
        if not services.transition_allowed(campaign=campaign, action=self.action):
            messages.error(
                request,
                _("This campaign is %(status)s; there is nothing to end or cancel.")
                % {"status": label_in_sentence(campaign.get_status_display())},
            )
            return redirect("campaigns:detail", brand_slug=self.brand.slug, pk=campaign.pk)
        return render(
            request,
            "campaigns/confirm.html",
            {
                "brand": self.brand,
                "membership": self.membership,
                "campaign": campaign,
                "action": self.action,
                "close_summary": campaign_close_summary(campaign=campaign),
            },
        )


class CampaignCompleteView(ConfirmedCampaignActionView):
    action = "complete"

    def perform(self, campaign: Campaign) -> Campaign:
        return services.campaign_complete(campaign=campaign)

    def message(self, campaign: Campaign) -> str:
        return _("The campaign has ended; the unspent budget is back in your balance.")


class CampaignCancelView(ConfirmedCampaignActionView):
    action = "cancel"

    def perform(self, campaign: Campaign) -> Campaign:
        return services.campaign_cancel(campaign=campaign)

    def message(self, campaign: Campaign) -> str:
        return _("The campaign was cancelled.")


class CampaignDuplicateView(CampaignActionView):
    def perform(self, campaign: Campaign) -> Campaign:
        return services.campaign_duplicate(campaign=campaign, created_by=self.request.user)  # type: ignore[arg-type]

    def message(self, campaign: Campaign) -> str:
        return _("Duplicated as a new draft: %(name)s.") % {"name": campaign.name}


class CampaignArchiveView(CampaignActionView):
    def perform(self, campaign: Campaign) -> Campaign:
        if campaign.archived_at:
            return services.campaign_unarchive(campaign=campaign)
        return services.campaign_archive(campaign=campaign)

    def message(self, campaign: Campaign) -> str:
        return _("Archived.") if campaign.archived_at else _("Restored from the archive.")


class ContentFormMixin(BrandScopedViewMixin):
    read_action = BrandAction.EDIT_CAMPAIGNS
    write_action = BrandAction.EDIT_CAMPAIGNS
    template_name: str | None = "campaigns/content_form.html"
    request: HttpRequest
    campaign: Campaign
    content: ContentPiece | None = None

    def form_for(self) -> ContentForm:
        kwargs: dict[str, Any] = {
            "languages": self.campaign.languages,
            "has_media": bool(self.content and self.content.media),
        }
        if self.content is not None:
            initial: dict[str, Any] = {
                "title": self.content.title,
                "target_url": self.content.target_url,
                "hashtags": " ".join(self.content.hashtags),
            }
            for index, variant in enumerate(self.content.variants.all()[:VARIANT_SLOTS], start=1):
                initial[f"variant_{index}_text"] = variant.text
                initial[f"variant_{index}_language"] = variant.language
            kwargs["initial"] = initial
        if self.request.method == "POST":
            kwargs.update(data=self.request.POST, files=self.request.FILES)
        return ContentForm(**kwargs)

    def render(self, form: ContentForm) -> HttpResponse:
        context = self.get_context_data(form=form)
        context.update(campaign=self.campaign, content=self.content)
        return self.response_class(  # type: ignore[attr-defined]
            request=self.request, template=[self.template_name], context=context
        )

    def preview(self) -> HttpResponse:
        """htmx: the unsaved texts as they would be shared on each targeted network."""
        post = self.request.POST
        try:
            hashtags = hashtags_normalize(post.get("hashtags", ""))
        except ValueError:
            hashtags = []
        has_media = post.get("media_selected") == "1"
        rows = []
        for index in range(1, VARIANT_SLOTS + 1):
            text = post.get(f"variant_{index}_text", "").strip()
            language = post.get(f"variant_{index}_language", "")
            if text and language in LANGUAGES:
                fits = caption_fits_for_campaign(
                    campaign=self.campaign, text=text, language=language, hashtags=hashtags, has_media=has_media
                )
                rows.append({"number": index, "language": language, "fits": fits})
        return self.response_class(  # type: ignore[attr-defined]
            request=self.request,
            template=["campaigns/partials/content_preview.html"],
            context={"rows": rows, "campaign": self.campaign},
        )

    def handle(self) -> HttpResponse:
        if self.request.method == "POST" and self.request.POST.get("_preview") == "1":
            return self.preview()
        if self.campaign.status not in services.EDITABLE_STATUSES:
            messages.error(
                self.request,
                _("This campaign is %(status)s; its content can no longer be changed.")
                % {"status": label_in_sentence(self.campaign.get_status_display())},
            )
            return redirect("campaigns:detail", brand_slug=self.brand.slug, pk=self.campaign.pk)
        form = self.form_for()
        if self.request.method != "POST":
            return self.render(form)
        if not form.is_valid():
            return self.render(form)
        try:
            self.save(form)
        except CampaignError as error:
            _show_error(form, error)
            return self.render(form)
        messages.success(self.request, _("Content saved. Check the preview for each network below."))
        url = reverse("campaigns:detail", kwargs={"brand_slug": self.brand.slug, "pk": self.campaign.pk})
        return HttpResponseRedirect(f"{url}?tab=content")

    def save(self, form: ContentForm) -> None:
        raise NotImplementedError


class ContentCreateView(ContentFormMixin, SingleObjectMixin, FormView):
    model = Campaign

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.object = self.campaign = self.get_object()
        return self.handle()

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.object = self.campaign = self.get_object()
        return self.handle()

    def save(self, form: ContentForm) -> None:
        services.content_create(
            campaign=self.campaign,
            title=form.cleaned_data["title"],
            target_url=form.cleaned_data["target_url"],
            hashtags=form.cleaned_data["hashtags"],
            variants=form.variants(),
            media=form.cleaned_data.get("media") or None,
        )


class ContentUpdateView(ContentFormMixin, SingleObjectMixin, FormView):
    model = ContentPiece
    brand_lookup = "campaign__brand"

    def refine_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.select_related("campaign")

    def _load(self) -> None:
        self.object = self.content = self.get_object()
        self.campaign = self.content.campaign

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self._load()
        return self.handle()

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self._load()
        return self.handle()

    def save(self, form: ContentForm) -> None:
        if self.content is None:  # pragma: no cover - set in _load()
            raise Http404
        media = form.cleaned_data.get("media") or None
        services.content_update(
            content=self.content,
            title=form.cleaned_data["title"],
            target_url=form.cleaned_data["target_url"],
            hashtags=form.cleaned_data["hashtags"],
            variants=form.variants(),
            media=media,
            remove_media=bool(form.cleaned_data.get("remove_media")),
        )


class ContentDeleteView(BrandScopedViewMixin, SingleObjectMixin, View):
    model = ContentPiece
    brand_lookup = "campaign__brand"
    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        content = self.get_object()
        campaign_pk = content.campaign_id
        try:
            services.content_delete(content=content)
        except CampaignError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("Content piece removed."))
        url = reverse("campaigns:detail", kwargs={"brand_slug": self.brand.slug, "pk": campaign_pk})
        return HttpResponseRedirect(f"{url}?tab=content")
