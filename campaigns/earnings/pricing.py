"""The pricing policy: what a share's verified metrics are worth, and the platform fee on top (ADR 7, ADR 14).

One object, ``PRICING``, is the only place the prices are written down. It yields

* the Python amounts: the per-row booking (``campaigns.earnings.services.earnings_accrue``), the offer
  estimate (``campaigns.matching.selectors``) and the budget estimate (``campaigns.pricing``);
* the SQL expressions of the same amounts for the set-based booking (``campaigns.earnings.batch``), which
  builds its columns, its sum and its explanation lines by iterating the same components.

The rules, identical in both forms: each component prices one cumulative count of the share; its exact value
``count x price / per_units`` is floored per component (cumulative, so the sum of all bookings is the value
of the final totals, never a cent lost or created); a share earns the sum of its components, at most the
campaign's per-share cap. The fee is ``earned x bps / 10,000`` rounded half up, on cumulative earnings.
An estimate rounds the exact sum *up* instead (a plan stays conservative).

Adding a pricing component is one entry in ``PRICING.components``: an object with ``metric``, ``counts``
and the methods of ``PriceComponent``. Booking, batch SQL, explanation lines and estimates all follow from
it; a count it adds is a ``ShareEarning`` column and a ``MetricDelta`` field of the same name, staged like
the others.

The participation fee (``ParticipationFee``) is such a component: a flat amount per share that
stayed up with its disclosure, optionally by audience band (``ParticipationBand``). Its price is fixed per
share when the offer is accepted (``participation_fee_for``, stored on ``campaigns.Share``) and travels
with the booking as a count (``participation_price_minor``) beside ``participations`` (0 or 1), so a later
change of followers or of the campaign's bands never changes a promised fee, and the set-based SQL reads it
like any other count.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from fractions import Fraction
from math import ceil
from typing import Any, Protocol

from django.utils.translation import gettext as _

from payouts.models import Metric

#: How long a post must stay up with its disclosure: the retention check (``campaigns.metrics.services``) runs
#: then, and a participation fee is earned for good once it passed.
RETENTION_AFTER = timedelta(days=7)

#: A campaign's price terms by field name (``cpm_minor``...); ``None`` means "not priced" (zero).
Terms = Mapping[str, int | None]


def floor_div_sql(numerator: str, denominator: int) -> str:
    """Python's ``//`` for any sign (PostgreSQL's integer ``/`` truncates toward zero), in bigint arithmetic
    (a ``numeric`` division per row cost seconds over a million deltas)."""
    if denominator == 1:
        return f"({numerator})"
    if denominator < 1:
        raise ValueError("floor_div_sql divides by a positive constant")
    n = f"(({numerator})::bigint)"
    return f"(CASE WHEN {n} >= 0 THEN {n} / {denominator} ELSE -((-{n} + {denominator - 1}) / {denominator}) END)"


class PriceComponent(Protocol):
    @property
    def metric(self) -> str:
        """The explanation line it books (``EarningLine.metric``)."""
        ...

    @property
    def counts(self) -> tuple[str, ...]:
        """The share's cumulative counts it reads: ``ShareEarning`` fields, ``MetricDelta`` fields, stage columns."""
        ...

    def price_fields(self) -> tuple[str, ...]: ...

    def value(self, counts: Mapping[str, int], terms: Terms) -> Fraction:
        """The exact value of the cumulative counts (the estimate rounds the sum of these up)."""
        ...

    def amount(self, counts: Mapping[str, int], terms: Terms) -> int:
        """What the cumulative counts earn, in minor units (``floor`` of ``value``)."""
        ...

    def amount_sql(self, counts: Mapping[str, str], terms: Mapping[str, str]) -> str:
        """``amount`` as a SQL expression over column expressions of the counts and the terms."""
        ...

    def units(self, before: Mapping[str, int], after: Mapping[str, int]) -> int:
        """The units its explanation line shows for a move from ``before`` to ``after``."""
        ...

    def units_sql(self, before: Mapping[str, str], after: Mapping[str, str]) -> str:
        """``units`` in SQL."""
        ...

    def line(self, terms: Terms, before: Mapping[str, int], after: Mapping[str, int]) -> tuple[int, int]:
        """``(price_minor, per_units)`` shown on its explanation line."""
        ...

    def line_sql(
        self, terms: Mapping[str, str], before: Mapping[str, str], after: Mapping[str, str]
    ) -> tuple[str, str]:
        """``line`` in SQL."""
        ...


@dataclass(frozen=True)
class PerUnitPrice:
    """A price per ``per_units`` of one count: CPM on impressions, CPE on engagements, CPC on unique clicks."""

    metric: str
    count: str
    price_field: str
    per_units: int = 1

    @property
    def counts(self) -> tuple[str, ...]:
        return (self.count,)

    def price_fields(self) -> tuple[str, ...]:
        return (self.price_field,)

    def value(self, counts: Mapping[str, int], terms: Terms) -> Fraction:
        return Fraction(counts[self.count] * (terms[self.price_field] or 0), self.per_units)

    def amount(self, counts: Mapping[str, int], terms: Terms) -> int:
        return counts[self.count] * (terms[self.price_field] or 0) // self.per_units

    def amount_sql(self, counts: Mapping[str, str], terms: Mapping[str, str]) -> str:
        return floor_div_sql(f"{counts[self.count]} * COALESCE({terms[self.price_field]}, 0)", self.per_units)

    def units(self, before: Mapping[str, int], after: Mapping[str, int]) -> int:
        return after[self.count] - before[self.count]

    def units_sql(self, before: Mapping[str, str], after: Mapping[str, str]) -> str:
        return f"({after[self.count]} - {before[self.count]})"

    def line(self, terms: Terms, before: Mapping[str, int], after: Mapping[str, int]) -> tuple[int, int]:
        return terms[self.price_field] or 0, self.per_units

    def line_sql(
        self, terms: Mapping[str, str], before: Mapping[str, str], after: Mapping[str, str]
    ) -> tuple[str, str]:
        return f"COALESCE({terms[self.price_field]}, 0)", str(self.per_units)


@dataclass(frozen=True)
class ParticipationFee:
    """A flat fee per share once it is booked (``participations`` above zero): its promised price, carried
    by the share as the count ``price`` (set with the participation, taken back with it).

    Its explanation line shows the participations booked or taken back (1 or -1) at that price.
    """

    metric: str
    count: str = "participations"
    price: str = "participation_price_minor"

    @property
    def counts(self) -> tuple[str, ...]:
        return (self.count, self.price)

    def price_fields(self) -> tuple[str, ...]:
        return ()

    def value(self, counts: Mapping[str, int], terms: Terms) -> Fraction:
        return Fraction(self.amount(counts, terms))

    def amount(self, counts: Mapping[str, int], terms: Terms) -> int:
        return counts[self.price] if counts[self.count] > 0 else 0

    def amount_sql(self, counts: Mapping[str, str], terms: Mapping[str, str]) -> str:
        return f"(CASE WHEN {counts[self.count]} > 0 THEN {counts[self.price]} ELSE 0 END)"

    def units(self, before: Mapping[str, int], after: Mapping[str, int]) -> int:
        return after[self.count] - before[self.count]

    def units_sql(self, before: Mapping[str, str], after: Mapping[str, str]) -> str:
        return f"({after[self.count]} - {before[self.count]})"

    def line(self, terms: Terms, before: Mapping[str, int], after: Mapping[str, int]) -> tuple[int, int]:
        return max(before[self.price], after[self.price]), 1

    def line_sql(
        self, terms: Mapping[str, str], before: Mapping[str, str], after: Mapping[str, str]
    ) -> tuple[str, str]:
        return f"GREATEST({before[self.price]}, {after[self.price]})", "1"


@dataclass(frozen=True)
class ParticipationBand:
    """Audiences up to ``up_to`` followers (``None``: any larger audience) earn ``fee_minor`` per share."""

    up_to: int | None
    fee_minor: int


def participation_bands(raw: object) -> tuple[ParticipationBand, ...]:
    """A campaign's ``participation_bands`` (a list of ``{"up_to": int | null, "fee_minor": int}``), smallest
    audience first; entries that are not such objects are left out (forms and the API validate them)."""
    bands = []
    for item in raw if isinstance(raw, list) else []:
        if not isinstance(item, dict):
            continue
        up_to, fee = item.get("up_to"), item.get("fee_minor")
        if isinstance(fee, int) and (up_to is None or isinstance(up_to, int)):
            bands.append(ParticipationBand(up_to=up_to, fee_minor=fee))
    return tuple(sorted(bands, key=lambda band: (band.up_to is None, band.up_to or 0)))


def participation_fee_for(*, fee_minor: int | None, bands: Sequence[ParticipationBand], followers: int) -> int:
    """The participation fee for an audience: the first band that covers ``followers``, else the flat fee
    (``fee_minor``, for every audience no band covers), else nothing."""
    for band in bands:
        if band.up_to is None or followers <= band.up_to:
            return max(band.fee_minor, 0)
    return max(fee_minor or 0, 0)


def campaign_participation_fee(campaign: Any, *, followers: int) -> int:
    """A campaign's (or a form's cleaned data's) participation fee for an account with ``followers``."""
    return participation_fee_for(
        fee_minor=getattr(campaign, "participation_fee_minor", None),
        bands=participation_bands(getattr(campaign, "participation_bands", None)),
        followers=followers,
    )


def campaign_participation_priced(campaign: Any) -> bool:
    """The campaign pays a participation fee to some audience."""
    bands = participation_bands(getattr(campaign, "participation_bands", None))
    return bool(getattr(campaign, "participation_fee_minor", None)) or any(band.fee_minor > 0 for band in bands)


def participation_bands_problems(bands: Sequence[ParticipationBand]) -> list[str]:
    """What is wrong with a list of bands, in words (empty: fine). Sorted by ``participation_bands``."""
    problems = []
    limits = [band.up_to for band in bands]
    if any(limit is not None and limit < 1 for limit in limits):
        problems.append(_("Each band's audience limit must be at least 1 follower."))
    if len([limit for limit in limits if limit is not None]) != len({limit for limit in limits if limit is not None}):
        problems.append(_("Two bands have the same audience limit."))
    if limits.count(None) > 1:
        problems.append(_("Only one band can be open-ended (no upper limit)."))
    if any(band.fee_minor < 0 for band in bands):
        problems.append(_("A band's fee cannot be negative."))
    return problems


@dataclass(frozen=True)
class Amounts:
    """What cumulative counts earn, per component (in ``PRICING.components`` order), before the cap."""

    parts: tuple[int, ...]

    @property
    def total(self) -> int:
        return sum(self.parts)


@dataclass(frozen=True)
class PricingPolicy:
    components: tuple[PriceComponent, ...]
    #: The campaign field of the per-share cap (``None``: no cap).
    cap_field: str = "per_share_cap_minor"
    #: The fee is in basis points of the earnings: 1500 = 15 %.
    fee_denominator: int = 10_000

    # --- shape ------------------------------------------------------------------------

    @property
    def counts(self) -> tuple[str, ...]:
        """Every cumulative count a share carries for pricing, in a fixed order."""
        seen: dict[str, None] = {}
        for component in self.components:
            seen.update(dict.fromkeys(component.counts))
        return tuple(seen)

    @property
    def price_fields(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for component in self.components:
            seen.update(dict.fromkeys(component.price_fields()))
        return tuple(seen)

    def terms(self, campaign: Any) -> dict[str, int | None]:
        """A campaign's (or a form's) price terms and cap, by field name."""
        return {name: getattr(campaign, name, None) for name in (*self.price_fields, self.cap_field)}

    # --- Python -----------------------------------------------------------------------

    def amounts(self, counts: Mapping[str, int], terms: Terms) -> Amounts:
        return Amounts(tuple(component.amount(counts, terms) for component in self.components))

    def capped(self, total: int, terms: Terms) -> int:
        cap = terms.get(self.cap_field)
        return total if cap is None else min(total, cap)

    def fee_minor(self, *, earned_minor: int, fee_bps: int) -> int:
        """The platform fee on cumulative earnings, rounded half up (0.90 at 15 % is 0.135: 0.14).

        Commercial rounding, as on an invoice; cumulative earnings are never negative, so "half up" and
        "half away from zero" agree. ``fee_sql`` is the same rule in SQL.
        """
        return (earned_minor * fee_bps + self.fee_denominator // 2) // self.fee_denominator

    def earnings_within(self, *, budget_minor: int, fee_bps: int) -> int:
        """The part of a budget that can be earned when the fee is paid on top: budget / (1 + fee)."""
        return budget_minor * self.fee_denominator // (self.fee_denominator + max(fee_bps, 0))

    def estimate_per_share(self, counts: Mapping[str, int], terms: Terms) -> tuple[int, bool]:
        """A share's expected cost for planning and whether the cap set it: the exact value rounded up
        (estimates stay conservative), at most the cap when one above zero is set."""
        cost = ceil(sum((component.value(counts, terms) for component in self.components), Fraction(0)))
        cap = terms.get(self.cap_field)
        if cap is not None and 0 < cap < cost:
            return cap, True
        return cost, False

    # --- SQL --------------------------------------------------------------------------

    def amount_sql(self, component: PriceComponent, counts: Mapping[str, str], campaign: str) -> str:
        """One component's amount over count columns and the campaign table's alias."""
        return component.amount_sql(counts, {name: f"{campaign}.{name}" for name in component.price_fields()})

    def line_sql(
        self, component: PriceComponent, campaign: str, before: Mapping[str, str], after: Mapping[str, str]
    ) -> tuple[str, str]:
        """A component's ``(price, per_units)`` for its explanation line, over the campaign table's alias and
        column expressions of the counts before and after."""
        return component.line_sql({name: f"{campaign}.{name}" for name in component.price_fields()}, before, after)

    def capped_sql(self, total: str, campaign: str) -> str:
        cap = f"{campaign}.{self.cap_field}"
        return f"CASE WHEN {cap} IS NULL THEN {total} ELSE LEAST({total}, {cap}) END"

    def fee_sql(self, earned: str, bps: str) -> str:
        """``fee_minor`` in SQL: the fee on ``earned`` rounded half up."""
        half = self.fee_denominator // 2
        return floor_div_sql(f"({earned}) * ({bps}) + {half}", self.fee_denominator)


PRICING = PricingPolicy(
    components=(
        PerUnitPrice(metric=Metric.REACH, count="impressions", price_field="cpm_minor", per_units=1000),
        PerUnitPrice(metric=Metric.ENGAGEMENTS, count="engagements", price_field="cpe_minor"),
        PerUnitPrice(metric=Metric.UNIQUE_CLICKS, count="unique_clicks", price_field="cpc_minor"),
        ParticipationFee(metric=Metric.PARTICIPATION),
    )
)
