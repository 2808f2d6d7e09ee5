"""Forms for the money pages. They only parse input; services decide."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from payouts.models import Charity, PayoutDestination
from payouts.money import money_format, money_parse
from payouts.providers import payout_providers
from payouts.selectors import CurrencyBalance


class AmountField(forms.CharField):
    """An amount typed as "25" / "25.50" / "25,50", cleaned to integer minor units."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 16)
        super().__init__(**kwargs)
        self.widget.attrs.update({"inputmode": "decimal", "autocomplete": "off"})

    def clean(self, value: Any) -> int:
        text = super().clean(value)
        amount = money_parse(text)
        if amount is None or amount <= 0:
            raise forms.ValidationError(_("Enter an amount like 250 or 250.00."))
        return amount


class TopUpForm(forms.Form):
    amount = AmountField(label=_("Amount in €"), help_text=_("You pay by card on the next page."))


class PayoutDestinationForm(forms.Form):
    """A payout account: how the person wants to be paid first, then only that method's fields.

    Built from the payout providers configured (``settings.PAYOUTS_PAYOUT_PROVIDERS``): a method per
    provider, labelled with its ``destination_label``, and an input per field its ``destination_fields``
    declare. ``kind`` is chosen on the page (radio buttons named ``method``: a round trip without JavaScript,
    instant with ``js/payout-account.js``) and posted as a hidden field. Fields of the other methods are
    posted too (hidden on the page) and ignored. Missing fields are named in words; whether the values are
    valid is the provider's decision, asked by the service (``payout_destination_add``).
    """

    kind = forms.ChoiceField(
        label=_("Paid to"),
        widget=forms.HiddenInput,
        error_messages={
            "required": _("Choose how you want to be paid."),
            "invalid_choice": _("Choose how you want to be paid."),
        },
    )

    def __init__(self, *args: Any, method: str = "", **kwargs: Any) -> None:
        """``method``: the method chosen on the page before anything was posted (``?method=``)."""
        self.providers = {provider.name: provider for provider in payout_providers()}
        if method in self.providers:
            kwargs.setdefault("initial", {})["kind"] = method
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = self.method_choices  # type: ignore[attr-defined]
        for provider in self.providers.values():
            for spec in provider.destination_fields:
                # Not required here: only the chosen method's fields are (see clean).
                field = forms.CharField(
                    label=spec.label, max_length=spec.max_length, required=False, help_text=spec.help_text
                )
                if spec.input_type != "text":
                    field.widget.attrs["type"] = spec.input_type
                if spec.autocomplete:
                    field.widget.attrs["autocomplete"] = spec.autocomplete
                self.fields[spec.name] = field

    @property
    def method_choices(self) -> list[tuple[str, Any]]:
        return [(name, provider.destination_label) for name, provider in self.providers.items()]

    @property
    def chosen_method(self) -> str:
        """The method whose fields the page shows ("" before one is chosen)."""
        value = self.data.get("kind", "") if self.is_bound else self.initial.get("kind", "")
        return str(value) if value in self.providers else ""

    def method_fieldsets(self) -> list[tuple[str, Any, list[forms.BoundField]]]:
        """(method, label, its bound fields) for every method: the page hides all but the chosen one."""
        return [
            (name, provider.destination_label, [self[spec.name] for spec in provider.destination_fields])
            for name, provider in self.providers.items()
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        method = cleaned.get("kind")
        if method not in self.providers:
            return cleaned
        for spec in self.providers[method].destination_fields:
            value = str(cleaned.get(spec.name) or "").strip()
            cleaned[spec.name] = value
            if not value and spec.required:
                self.add_error(spec.name, spec.required_message or _("This field is required."))
        return cleaned

    def destination_fields(self) -> dict[str, str]:
        """What the service needs: the method and its own fields only (the others stay out)."""
        method = self.cleaned_data["kind"]
        fields = {spec.name: self.cleaned_data[spec.name] for spec in self.providers[method].destination_fields}
        return {"kind": method, **fields}


class PayoutRequestForm(forms.Form):
    currency = forms.ChoiceField(
        label=_("From your balance in"),
        required=False,  # left out: the only balance the person holds (see the view)
        help_text=_(
            "Bank transfers (SEPA) and donations are paid in EUR; PayPal and Stripe Connect also pay CHF, GBP and USD."
        ),
    )
    amount = AmountField(label=_("Amount"))
    target = forms.ChoiceField(label=_("Pay to"))

    def __init__(
        self,
        *args: Any,
        destinations: list[PayoutDestination],
        charities: list[Charity],
        balances: list[CurrencyBalance],
        **kwargs: Any,
    ):
        super().__init__(*args, **kwargs)
        # Only currencies the person holds: the payout is taken from the balance chosen here.
        self.fields["currency"].choices = [  # type: ignore[attr-defined]
            (
                line.currency,
                # The amount carries its currency sign; a code beside it would say the currency twice.
                _("%(available)s available") % {"available": money_format(line.available_minor, line.currency)},
            )
            for line in balances
        ]
        if balances:
            self.fields["currency"].initial = balances[0].currency
        choices: list[tuple[str, Any]] = [("", _("Choose an account or a charity"))]
        choices += [(f"d{d.pk}", d.masked) for d in destinations]
        choices += [(f"c{c.pk}", _("Donate to %(name)s") % {"name": c.name}) for c in charities]
        self.fields["target"].choices = choices  # type: ignore[attr-defined]
        self._destinations = {f"d{d.pk}": d for d in destinations}
        self._charities = {f"c{c.pk}": c for c in charities}

    def target_objects(self) -> tuple[PayoutDestination | None, Charity | None]:
        key = self.cleaned_data["target"]
        return self._destinations.get(key), self._charities.get(key)
