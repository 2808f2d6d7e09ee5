"""Forms for the money pages. They only parse input; services decide."""

from __future__ import annotations

from typing import Any, ClassVar

from django import forms
from django.core.validators import validate_email
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
    amount = AmountField(label=_("Amount in €"), help_text=_("You pay by card on the next page."))


class PayoutDestinationForm(forms.Form):
    """A payout account: how the person wants to be paid first, then only that method's fields.

    ``kind`` is chosen on the page (radio buttons named ``method``: a round trip without JavaScript,
    instant with ``js/payout-account.js``) and posted as a hidden field. Fields of the other methods are
    posted too (hidden on the page) and ignored. Missing fields are named in words; whether an IBAN or a
    Stripe account id is valid is the service's decision (``payout_destination_add``).
    """

    METHOD_CHOICES: ClassVar[list[tuple[str, Any]]] = [
        (DestinationKind.SEPA, _("Bank account (IBAN)")),
        (DestinationKind.PAYPAL, _("PayPal")),
        (DestinationKind.STRIPE, _("Stripe Connect")),
    ]
    #: The fields each method shows and saves, in page order.
    METHOD_FIELDS: ClassVar[dict[str, tuple[str, ...]]] = {
        DestinationKind.SEPA: ("holder_name", "iban", "bic"),
        DestinationKind.PAYPAL: ("paypal_email",),
        DestinationKind.STRIPE: ("stripe_account",),
    }
    REQUIRED: ClassVar[dict[str, Any]] = {
        "holder_name": _("Enter the name of the account holder."),
        "iban": _("Enter your IBAN."),
        "paypal_email": _("Enter the email address of your PayPal account."),
        "stripe_account": _("Enter your Stripe account ID."),
    }

    kind = forms.ChoiceField(
        label=_("Paid to"),
        choices=METHOD_CHOICES,
        widget=forms.HiddenInput,
        error_messages={
            "required": _("Choose how you want to be paid."),
            "invalid_choice": _("Choose how you want to be paid."),
        },
    )
    holder_name = forms.CharField(
        label=_("Account holder"), max_length=140, required=False, help_text=_("The name on the bank account.")
    )
    iban = forms.CharField(label=_("IBAN"), max_length=42, required=False)
    bic = forms.CharField(label=_("BIC (optional)"), max_length=11, required=False)
    paypal_email = forms.CharField(
        label=_("PayPal email"),
        max_length=254,
        required=False,
        help_text=_("The email address you sign in to PayPal with."),
    )
    stripe_account = forms.CharField(
        label=_("Stripe account ID"),
        max_length=64,
        required=False,
        help_text=_("It starts with acct_; Stripe shows it in your account settings."),
    )

    def __init__(self, *args: Any, method: str = "", **kwargs: Any) -> None:
        """``method``: the method chosen on the page before anything was posted (``?method=``)."""
        if method in self.METHOD_FIELDS:
            kwargs.setdefault("initial", {})["kind"] = method
        super().__init__(*args, **kwargs)
        self.fields["paypal_email"].widget.attrs.update({"type": "email", "autocomplete": "email"})
        self.fields["holder_name"].widget.attrs.update({"autocomplete": "name"})

    @property
    def chosen_method(self) -> str:
        """The method whose fields the page shows ("" before one is chosen)."""
        value = self.data.get("kind", "") if self.is_bound else self.initial.get("kind", "")
        return str(value) if value in self.METHOD_FIELDS else ""

    def method_fieldsets(self) -> list[tuple[str, Any, list[forms.BoundField]]]:
        """(method, label, its bound fields) for every method: the page hides all but the chosen one."""
        return [
            (method, label, [self[name] for name in self.METHOD_FIELDS[method]])
            for method, label in self.METHOD_CHOICES
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        method = cleaned.get("kind")
        if method not in self.METHOD_FIELDS:
            return cleaned
        for name in self.METHOD_FIELDS[method]:
            value = str(cleaned.get(name) or "").strip()
            cleaned[name] = value
            if not value and name in self.REQUIRED:
                self.add_error(name, self.REQUIRED[name])
        if method == DestinationKind.PAYPAL and cleaned.get("paypal_email"):
            try:
                validate_email(cleaned["paypal_email"])
            except forms.ValidationError:
                self.add_error("paypal_email", self.REQUIRED["paypal_email"])
        return cleaned

    def destination_fields(self) -> dict[str, str]:
        """What the service needs: the method and its own fields only (the others stay empty)."""
        method = self.cleaned_data["kind"]
        return {"kind": method, **{name: self.cleaned_data[name] for name in self.METHOD_FIELDS[method]}}


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
