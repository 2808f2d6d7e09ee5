"""Forms for the money pages. They only parse input; services decide."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from payouts.models import Charity, DestinationKind, PayoutDestination
from payouts.money import money_format, money_parse
from payouts.selectors import CurrencyBalance


class AmountField(forms.CharField):
    """An amount typed as "25" / "25.50" / "25,50", cleaned to integer minor units."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 16)
        super().__init__(**kwargs)
        self.widget.attrs.update({"inputmode": "decimal", "autocomplete": "off"})

    def clean(self, value: Any) -> int:  # type: ignore[override]
        text = super().clean(value)
        amount = money_parse(text)
        if amount is None or amount <= 0:
            raise forms.ValidationError(_("Enter an amount like 250 or 250.00."))
        return amount


class TopUpForm(forms.Form):
    amount = AmountField(label=_("Amount (EUR)"), help_text=_("You pay by card on the next page."))


class PayoutDestinationForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Paid to"),
        choices=[(DestinationKind.SEPA, _("Bank account (IBAN)")), (DestinationKind.PAYPAL, _("PayPal"))],
    )
    holder_name = forms.CharField(
        label=_("Account holder"), max_length=140, required=False, help_text=_("For a bank account: the name on it.")
    )
    iban = forms.CharField(label=_("IBAN"), max_length=42, required=False)
    bic = forms.CharField(label=_("BIC (optional)"), max_length=11, required=False)
    paypal_email = forms.EmailField(
        label=_("PayPal email"), required=False, help_text=_("For PayPal: the email address of your PayPal account.")
    )


class PayoutRequestForm(forms.Form):
    currency = forms.ChoiceField(
        label=_("From your balance in"),
        required=False,  # left out: the only balance the person holds (see the view)
        help_text=_("Bank transfers (SEPA) and donations are paid in EUR; PayPal also pays CHF, GBP and USD."),
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
                _("%(currency)s (%(available)s available)")
                % {"currency": line.currency, "available": money_format(line.available_minor, line.currency)},
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
