"""HTML forms for campaigns and content. Plain forms (not ModelForms): only the fields listed here
can be set from a browser, so status, brand, fee and budget bookkeeping are out of reach."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, cast

from django import forms
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.functional import Promise, lazy
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from brands.forms import CURRENCY_CHOICES
from campaigns.captions import DEFAULT_DISCLOSURE, DISCLOSURE_CHOICES
from campaigns.earnings.pricing import RETENTION_AFTER, participation_bands, participation_bands_problems
from campaigns.models import MAX_INTEGER, Campaign
from campaigns.pricing import Estimate, assumptions_for, budget_estimate
from campaigns.selectors import network_choices_for_campaign, network_reach_for
from campaigns.services import VariantInput
from influencers.models import Topic
from influencers.topics import LANGUAGE_CHOICES, LANGUAGES
from linkilike.text_safety import validate_no_control_characters
from networks.providers.registry import campaign_network_choices

VARIANT_SLOTS = 3


#: Bounds of what a brand may type, in minor units (documented in the fields' help texts). Wide enough
#: for any real campaign, narrow enough that a slip of the finger (a CPM of 99,999,999) is caught.
BUDGET_MAX_MINOR = 100_000_000  # 1,000,000.00
PRICE_MIN_MINOR = 1  # 0.01
CPM_MAX_MINOR = 10_000  # 100.00 per 1,000 reach
CPE_MAX_MINOR = 1_000  # 10.00 per engagement
CPC_MAX_MINOR = 1_000  # 10.00 per unique click
PARTICIPATION_MAX_MINOR = 100_000  # 1,000.00 per share
#: Rows of the participation fee's audience bands; empty rows are ignored.
BAND_SLOTS = 4


def amount_text(amount_minor: int) -> str:
    """1000000 -> "10,000.00" in the active language (no currency: the form's currency may still change)."""
    return number_format(Decimal(amount_minor) / 100, decimal_pos=2, use_l10n=True, force_grouping=True)


def _with_amounts(message: str | Promise, amounts: dict[str, int]) -> str:
    return str(message) % {name: amount_text(minor) for name, minor in amounts.items()}


#: A help text or message with amounts, formatted when shown (in the reader's language).
with_amounts = lazy(_with_amounts, str)


class MoneyField(forms.DecimalField):
    """Amounts typed in major units (12.50) and cleaned to integer minor units (1250)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", Decimal("0"))
        kwargs.setdefault("max_digits", 12)
        kwargs.setdefault("decimal_places", 2)
        super().__init__(**kwargs)
        self.widget.attrs.update({"inputmode": "decimal", "step": "0.01"})

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, int):
            return f"{Decimal(value) / 100:.2f}"
        return value

    def clean(self, value: Any) -> int | None:
        amount = super().clean(value)
        if amount is None:
            return None
        return int((amount * 100).quantize(Decimal("1"), rounding=ROUND_HALF_UP))


class BoundedMoneyField(MoneyField):
    """A ``MoneyField`` whose bounds are checked here and said in words (``too_high``).

    Django's own digit and value checks speak of "digits in total" and "Ensure this value...", and a
    number too long for the digit check never reached a useful message at all.
    """

    def __init__(self, *, max_minor: int, too_high: str | Promise, **kwargs: Any) -> None:
        super().__init__(min_value=None, max_digits=None, decimal_places=None, **kwargs)
        self.max_minor = max_minor
        self.too_high = too_high

    def clean(self, value: Any) -> int | None:
        amount = forms.DecimalField.clean(self, value)
        if amount is None:
            return None
        if not amount.is_finite():
            raise forms.ValidationError(_("Enter an amount such as 12.50."), code="invalid")
        if amount < 0:
            raise forms.ValidationError(_("Enter an amount of zero or more."), code="min_value")
        if amount != amount.quantize(Decimal("0.01")):
            raise forms.ValidationError(_("Use at most two decimal places (cents)."), code="max_decimal_places")
        minor = int(amount * 100)
        if minor > self.max_minor:
            raise forms.ValidationError(str(self.too_high) % {"max": amount_text(self.max_minor)}, code="max_value")
        return minor


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


class CampaignForm(forms.Form):
    # The name goes into email subjects (offers, review outcomes).
    name = forms.CharField(label=_("Campaign name"), max_length=120, validators=[validate_no_control_characters])
    brief = forms.CharField(
        label=_("Brief"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("What the campaign is about and what influencers should do. Influencers see this."),
    )
    currency = forms.ChoiceField(label=_("Currency"), choices=CURRENCY_CHOICES)
    budget_minor = BoundedMoneyField(
        label=_("Total budget"),
        required=False,
        max_minor=BUDGET_MAX_MINOR,
        too_high=_("Enter a budget of at most %(max)s."),
        help_text=with_amounts(_("Includes the platform fee. Up to %(max)s."), {"max": BUDGET_MAX_MINOR}),
    )
    cpm_minor = BoundedMoneyField(
        label=_("Price per 1,000 reach (CPM)"),
        required=False,
        max_minor=CPM_MAX_MINOR,
        too_high=_("Enter at most %(max)s per 1,000 reach."),
        help_text=with_amounts(
            _("Typical: 4.00-8.00. From %(min)s to %(max)s."), {"min": PRICE_MIN_MINOR, "max": CPM_MAX_MINOR}
        ),
    )
    cpe_minor = BoundedMoneyField(
        label=_("Price per engagement (CPE)"),
        required=False,
        max_minor=CPE_MAX_MINOR,
        too_high=_("Enter at most %(max)s per engagement."),
        help_text=with_amounts(
            _("Typical: 0.05-0.20. From %(min)s to %(max)s."), {"min": PRICE_MIN_MINOR, "max": CPE_MAX_MINOR}
        ),
    )
    cpc_minor = BoundedMoneyField(
        label=_("Price per unique click (CPC)"),
        required=False,
        max_minor=CPC_MAX_MINOR,
        too_high=_("Enter at most %(max)s per unique click."),
        help_text=with_amounts(
            _("Typical: 0.05-0.20. From %(min)s to %(max)s."), {"min": PRICE_MIN_MINOR, "max": CPC_MAX_MINOR}
        ),
    )
    participation_fee_minor = BoundedMoneyField(
        label=_("Participation fee per share"),
        required=False,
        max_minor=PARTICIPATION_MAX_MINOR,
        too_high=_("Enter a participation fee of at most %(max)s."),
    )
    per_share_cap_minor = BoundedMoneyField(
        label=_("Cap per share"),
        required=False,
        max_minor=BUDGET_MAX_MINOR,
        too_high=_("Enter a cap of at most %(max)s."),
        help_text=_("The most one share can earn, whatever its reach. At most the total budget."),
    )
    starts_on = forms.DateField(
        label=_("First day"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    ends_on = forms.DateField(
        label=_("Last day"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    requires_caption_approval = forms.BooleanField(
        label=_("I approve each influencer's caption before it is shared"), required=False
    )
    topics = forms.ModelMultipleChoiceField(
        label=_("Topics"), queryset=Topic.objects.all(), required=False, widget=forms.CheckboxSelectMultiple
    )
    languages = forms.MultipleChoiceField(
        label=_("Languages"), choices=LANGUAGE_CHOICES, required=False, widget=forms.CheckboxSelectMultiple
    )
    networks = forms.MultipleChoiceField(
        label=_("Networks"),
        choices=campaign_network_choices,  # narrowed in __init__ to the networks this platform can connect
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Only networks Linkilike can connect accounts on are listed."),
    )
    countries = forms.MultipleChoiceField(
        label=_("Countries"),
        choices=[],
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
        help_text=_("Hold Ctrl (or Cmd) to choose several. None chosen: all countries."),
    )
    # The columns are integers: a larger number was a database error, a 500 (money fields are bounded
    # by MoneyField's digits, well inside their bigint columns).
    followers_min = forms.IntegerField(
        label=_("Minimum followers"),
        required=False,
        min_value=0,
        max_value=MAX_INTEGER,
        error_messages={
            "min_value": _("Enter zero or more followers."),
            "max_value": _("Enter at most %(limit_value)s followers."),
            "invalid": _("Enter a whole number of followers."),
        },
    )
    followers_max = forms.IntegerField(
        label=_("Maximum followers"),
        required=False,
        min_value=0,
        max_value=MAX_INTEGER,
        error_messages={
            "min_value": _("Enter zero or more followers."),
            "max_value": _("Enter at most %(limit_value)s followers."),
            "invalid": _("Enter a whole number of followers."),
        },
    )
    min_engagement_rate = forms.DecimalField(
        label=_("Minimum engagement rate (%)"),
        required=False,
        min_value=0,
        max_value=100,
        decimal_places=2,
        help_text=_("A percentage from 0 to 100, e.g. 1.5."),
        error_messages={
            "min_value": _("Enter a percentage from 0 to 100."),
            "max_value": _("Enter a percentage from 0 to 100."),
            "max_decimal_places": _("Use at most two decimal places, e.g. 1.25."),
            "max_digits": _("Enter a percentage from 0 to 100."),
            "invalid": _("Enter a percentage such as 1.5."),
        },
    )

    def __init__(self, *args: Any, campaign: Campaign | None = None, brand_currency: str = "EUR", **kwargs: Any):
        if campaign is not None and "initial" not in kwargs:
            kwargs["initial"] = self.initial_from(campaign)
        super().__init__(*args, **kwargs)
        self.fields["participation_fee_minor"].help_text = _(
            "A flat amount for each share that stays up with its disclosure for %(days)s days; fair on networks "
            "that report little or nothing. With bands below, it applies to audiences no band covers. Up to %(max)s."
        ) % {"days": RETENTION_AFTER.days, "max": amount_text(PARTICIPATION_MAX_MINOR)}
        self.band_rows: list[tuple[forms.BoundField, forms.BoundField]] = []
        for index in range(1, BAND_SLOTS + 1):
            self.fields[f"band_{index}_up_to"] = forms.IntegerField(
                label=_("Band %(number)s: follower limit") % {"number": index},
                required=False,
                min_value=1,
                max_value=MAX_INTEGER,
                widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
                help_text=_("Empty: any larger audience.") if index == 1 else "",
                error_messages={
                    "min_value": _("Enter at least 1 follower."),
                    "max_value": _("Enter at most %(limit_value)s followers."),
                    "invalid": _("Enter a whole number of followers."),
                },
            )
            self.fields[f"band_{index}_fee_minor"] = BoundedMoneyField(
                label=_("Band %(number)s: fee per share") % {"number": index},
                required=False,
                max_minor=PARTICIPATION_MAX_MINOR,
                too_high=_("Enter a participation fee of at most %(max)s."),
            )
            self.band_rows.append((self[f"band_{index}_up_to"], self[f"band_{index}_fee_minor"]))
        self.fields["currency"].initial = self.initial.get("currency", brand_currency)
        # A network without Linkilike's app credentials can have no accounts, so no influencer could
        # take the campaign there. One the campaign already targets stays listed, so it can be unticked.
        cast(forms.MultipleChoiceField, self.fields["networks"]).choices = network_choices_for_campaign(
            keep=list(campaign.networks or []) if campaign is not None else []
        )
        cast(forms.MultipleChoiceField, self.fields["countries"]).choices = list(countries)
        self.fields["topics"].label_from_instance = lambda topic: topic.label  # type: ignore[attr-defined]
        self.disclosure_languages = self._chosen_languages()
        missing = [
            c
            for c in self.disclosure_languages
            if self.is_bound and self.add_prefix(f"disclosure_{c}") not in self.data
        ]
        if missing:  # a language just ticked: show (and keep) its default disclosure
            data = self.data.copy()  # type: ignore[attr-defined]  # a QueryDict when bound from a request
            previous = (self.initial.get("disclosures") or {}) if isinstance(self.initial, dict) else {}
            for code in missing:
                data[self.add_prefix(f"disclosure_{code}")] = previous.get(code, DEFAULT_DISCLOSURE.get(code, "#ad"))
            self.data = data
        for code in self.disclosure_languages:
            self.fields[f"disclosure_{code}"] = forms.ChoiceField(
                label=_("Disclosure in %(language)s") % {"language": LANGUAGES[code]},
                choices=DISCLOSURE_CHOICES,
                required=False,  # a language chosen without JavaScript gets its default disclosure
                initial=(self.initial.get("disclosures") or {}).get(code, DEFAULT_DISCLOSURE.get(code, "#ad")),
                help_text=_("Always added to every caption; nobody can remove it."),
            )

    def _chosen_languages(self) -> list[str]:
        if self.is_bound:
            chosen = self.data.getlist(self.add_prefix("languages")) if hasattr(self.data, "getlist") else []
        else:
            chosen = list(self.initial.get("languages") or [])
        return [code for code in LANGUAGES if code in chosen]

    @staticmethod
    def initial_from(campaign: Campaign) -> dict[str, Any]:
        last_day = campaign.last_day
        return {
            "name": campaign.name,
            "brief": campaign.brief,
            "currency": campaign.currency,
            "budget_minor": campaign.budget_minor,
            "cpm_minor": campaign.cpm_minor,
            "cpe_minor": campaign.cpe_minor,
            "cpc_minor": campaign.cpc_minor,
            "per_share_cap_minor": campaign.per_share_cap_minor,
            "participation_fee_minor": campaign.participation_fee_minor,
            **{
                f"band_{index}_{part}": value
                for index, band in enumerate(participation_bands(campaign.participation_bands)[:BAND_SLOTS], start=1)
                for part, value in (("up_to", band.up_to), ("fee_minor", band.fee_minor))
            },
            "starts_on": campaign.starts_at and timezone.localtime(campaign.starts_at).date(),
            "ends_on": last_day,
            "requires_caption_approval": campaign.requires_caption_approval,
            "topics": list(campaign.topics.all()) if campaign.pk else [],
            "languages": campaign.languages,
            "networks": campaign.networks,
            "countries": [c.code for c in campaign.countries],
            "followers_min": campaign.followers_min,
            "followers_max": campaign.followers_max,
            "min_engagement_rate": campaign.min_engagement_rate,
            "disclosures": campaign.disclosures,
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        starts, ends = data.get("starts_on"), data.get("ends_on")
        if starts and ends and ends < starts:
            self.add_error("ends_on", _("The last day must not be before the first day."))
        low, high = data.get("followers_min"), data.get("followers_max")
        if low is not None and high is not None and high < low:
            self.add_error("followers_max", _("The maximum must not be below the minimum."))
        for name in ("cpm_minor", "cpe_minor", "cpc_minor", "per_share_cap_minor", "participation_fee_minor"):
            if data.get(name) == 0:
                self.add_error(name, _("Leave it empty if you do not pay for it; zero is not a price."))
        self._clean_bands(data)
        budget, cap = data.get("budget_minor"), data.get("per_share_cap_minor")
        if budget and cap and cap > budget:
            self.add_error(
                "per_share_cap_minor",
                _("The cap per share cannot be more than the total budget (%(budget)s).")
                % {"budget": amount_text(budget)},
            )
        if cap:
            fees = [("participation_fee_minor", data.get("participation_fee_minor"))] + [
                (f"band_{index}_fee_minor", data.get(f"band_{index}_fee_minor")) for index in range(1, BAND_SLOTS + 1)
            ]
            for name, fee in fees:
                if fee and fee > cap and name not in self.errors:
                    self.add_error(
                        name,
                        _("The participation fee cannot be more than the cap per share (%(cap)s).")
                        % {"cap": amount_text(cap)},
                    )
        self._clean_clicks_only_prices(data)
        priced = any(data.get(name) for name in ("cpm_minor", "cpe_minor", "cpc_minor", "participation_fee_minor"))
        if not (priced or data.get("participation_bands")) and not self.errors:
            self.add_error(
                None,
                _("Set at least one price: per 1,000 reach, per engagement, per click or a participation fee."),
            )
        return data

    def _clean_clicks_only_prices(self, data: dict[str, Any]) -> None:
        """Only "you post, we verify" networks chosen: nothing there reports reach or engagement, so those prices
        could never be paid; the form says so rather than taking them."""
        reach = network_reach_for(networks=list(data.get("networks") or []))
        if not reach.chosen or len(reach.clicks_only) < len(reach.with_reach) + len(reach.without_reach):
            return
        for name in ("cpm_minor", "cpe_minor"):
            if data.get(name) and name not in self.errors:
                self.add_error(
                    name,
                    _("%(networks)s pay only the participation fee and clicks (you post, we verify): leave this empty.")
                    % {"networks": ", ".join(reach.clicks_only)},
                )

    def _clean_bands(self, data: dict[str, Any]) -> None:
        """The filled band rows as ``participation_bands`` (``data["participation_bands"]``); a row with a
        follower limit but no fee, or a fee of zero, is an error on its field."""
        rows = []
        for index in range(1, BAND_SLOTS + 1):
            up_to, fee = data.get(f"band_{index}_up_to"), data.get(f"band_{index}_fee_minor")
            if f"band_{index}_up_to" in self.errors or f"band_{index}_fee_minor" in self.errors:
                continue
            if fee is None:
                if up_to is not None:
                    self.add_error(f"band_{index}_fee_minor", _("Enter the fee for this band, or clear its row."))
                continue
            if fee == 0:
                self.add_error(
                    f"band_{index}_fee_minor", _("Leave it empty if you do not pay for it; zero is not a price.")
                )
                continue
            rows.append({"up_to": up_to, "fee_minor": fee})
        for problem in participation_bands_problems(participation_bands(rows)):
            self.add_error("band_1_up_to", problem)
        data["participation_bands"] = [
            {"up_to": band.up_to, "fee_minor": band.fee_minor} for band in participation_bands(rows)
        ]

    def service_fields(self) -> dict[str, Any]:
        """The cleaned data in the shape ``campaign_create`` / ``campaign_update`` take."""
        data = self.cleaned_data
        starts, ends = data.get("starts_on"), data.get("ends_on")
        return {
            "name": data["name"],
            "brief": data.get("brief", ""),
            "currency": data["currency"],
            "budget_minor": data.get("budget_minor") or 0,
            "cpm_minor": data.get("cpm_minor"),
            "cpe_minor": data.get("cpe_minor"),
            "cpc_minor": data.get("cpc_minor"),
            "per_share_cap_minor": data.get("per_share_cap_minor"),
            "participation_fee_minor": data.get("participation_fee_minor"),
            "participation_bands": data.get("participation_bands") or [],
            "starts_at": _day_start(starts) if starts else None,
            "ends_at": _day_start(ends + dt.timedelta(days=1)) if ends else None,
            "requires_caption_approval": data.get("requires_caption_approval", False),
            "topics": list(data.get("topics") or []),
            "languages": data.get("languages") or [],
            "networks": data.get("networks") or [],
            "countries": data.get("countries") or [],
            "followers_min": data.get("followers_min"),
            "followers_max": data.get("followers_max"),
            "min_engagement_rate": data.get("min_engagement_rate"),
            "disclosures": {
                code: data[f"disclosure_{code}"] for code in self.disclosure_languages if data.get(f"disclosure_{code}")
            },
        }

    def estimate(self, *, platform_fee_bps: int) -> Estimate | None:
        """Calculator figures from whatever parses so far (also for a half-filled form)."""
        data = getattr(self, "cleaned_data", None) or {}
        if not data.get("budget_minor"):
            return None
        return budget_estimate(
            budget_minor=data["budget_minor"],
            platform_fee_bps=platform_fee_bps,
            cpm_minor=data.get("cpm_minor") or None,
            cpe_minor=data.get("cpe_minor") or None,
            cpc_minor=data.get("cpc_minor") or None,
            per_share_cap_minor=data.get("per_share_cap_minor") or None,
            participation_fee_minor=data.get("participation_fee_minor") or None,
            participation_bands=data.get("participation_bands") or [],
            assumptions=assumptions_for(
                followers_min=data.get("followers_min"), followers_max=data.get("followers_max")
            ),
            # Only what the networks being chosen can report: no reach, no CPM on networks without it.
            reach=network_reach_for(networks=list(data.get("networks") or [])),
        )


class ContentForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=120, help_text=_("For you; influencers see it too."))
    target_url = forms.CharField(
        label=_("Link"),
        max_length=900,
        widget=forms.URLInput(attrs={"placeholder": "https://"}),
        help_text=_(
            "Where the post links to. We add utm_source, utm_medium and utm_campaign if they are missing; "
            "change their values here if you like."
        ),
    )
    hashtags = forms.CharField(
        label=_("Hashtags"),
        required=False,
        max_length=500,
        help_text=_("Separated by spaces or commas, e.g. #coffee #Linz"),
    )
    media = forms.FileField(  # type: ignore[assignment]  # the form field, not Form.media (widget assets)
        label=_("Image or video"),
        required=False,
        help_text=_("JPEG, PNG, WebP or GIF up to 8 MB, or MP4/WebM video up to 100 MB."),
        widget=forms.ClearableFileInput(
            attrs={"accept": "image/jpeg,image/png,image/webp,image/gif,video/mp4,video/webm"}
        ),
    )
    remove_media = forms.BooleanField(label=_("Remove the current image or video"), required=False)

    def __init__(self, *args: Any, languages: list[str] | None = None, has_media: bool = False, **kwargs: Any):
        super().__init__(*args, **kwargs)
        language_choices = [(code, LANGUAGES[code]) for code in (languages or [])] or LANGUAGE_CHOICES
        if not has_media:
            del self.fields["remove_media"]
        self.variant_rows: list[tuple[forms.BoundField, forms.BoundField]] = []
        for index in range(1, VARIANT_SLOTS + 1):
            self.fields[f"variant_{index}_text"] = forms.CharField(
                label=_("Text %(number)s") % {"number": index},
                required=False,
                max_length=5000,
                widget=forms.Textarea(attrs={"rows": 3}),
                help_text=_("The disclosure, link and hashtags are added for you.") if index == 1 else "",
            )
            self.fields[f"variant_{index}_language"] = forms.ChoiceField(
                label=_("Language of text %(number)s") % {"number": index}, choices=language_choices
            )
        for index in range(1, VARIANT_SLOTS + 1):
            self.variant_rows.append((self[f"variant_{index}_text"], self[f"variant_{index}_language"]))

    @property
    def main_fields(self) -> list[forms.BoundField]:
        return [
            self[name] for name in ("title", "target_url", "hashtags", "media", "remove_media") if name in self.fields
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not any((data.get(f"variant_{i}_text") or "").strip() for i in range(1, VARIANT_SLOTS + 1)):
            self.add_error("variant_1_text", _("Write at least one text for influencers to share."))
        return data

    def variants(self) -> list[VariantInput]:
        return [
            VariantInput(
                text=self.cleaned_data[f"variant_{i}_text"], language=self.cleaned_data[f"variant_{i}_language"]
            )
            for i in range(1, VARIANT_SLOTS + 1)
            if (self.cleaned_data.get(f"variant_{i}_text") or "").strip()
        ]


class RejectForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason (the brand sees it)"), widget=forms.Textarea(attrs={"rows": 4}), max_length=2000
    )
