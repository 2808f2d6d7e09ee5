"""Reads for tracking links and results. Every aggregate is computed in SQL: the number of queries
does not grow with the number of shares (asserted in tests for 10 vs 2,000 shares).

On PostgreSQL the results read the rollups the database keeps (``ShareResult``: one row per share;
``CampaignResultHour``: one row per campaign and hour), so the work per request grows with the
shares (a grouped join of one row each) but no longer with snapshots or clicks (ADR 12). On SQLite
(the embedded demo) the same numbers are computed from the raw rows."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import connection
from django.db.models import (
    BigIntegerField,
    Case,
    CharField,
    Count,
    F,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _

from campaigns.earnings.selectors import campaign_spend_get_for_campaign
from campaigns.earnings.selectors_participation import (
    participation_booked_minor_for_campaign,
    share_participation,
    shares_with_participation,
)
from campaigns.models import (
    Campaign,
    CampaignResultGroup,
    CampaignResultHour,
    CampaignResultReason,
    Click,
    ClickReason,
    MetricSnapshot,
    Share,
    ShareHold,
)
from linkilike.db_routing import analytics_read
from networks.providers.registry import network_label
from payouts.models import EarningAccrual, ShareEarning
from payouts.money import money_decimal_string

if TYPE_CHECKING:
    from influencers.models import InfluencerProfile

#: Earned-media-value prices in minor units, used when a campaign sets none: per 1,000 impressions
#: (reach when the network reports no impressions), per engagement, per unique click. An ESTIMATE.
EMV_DEFAULT_PRICES: dict[str, int] = {"impressions": 600, "engagements": 15, "clicks": 15}
INFLUENCER_BREAKDOWN_LIMIT = 50
METRICS = ("reach", "impressions", "engagements")


def page_number(value: str | None) -> int:
    """A 1-based page number from the query string; anything else is page 1."""
    try:
        return max(1, int(value or 1))
    except ValueError:
        return 1


def _latest_snapshot(column: str) -> Subquery:
    return Subquery(
        MetricSnapshot.objects.filter(share_id=OuterRef("pk")).order_by("-collected_at", "-pk").values(column)[:1]
    )


def _unique_clicks() -> Coalesce:
    counted = (
        Click.objects.filter(link__share_id=OuterRef("pk"), billable=True)
        .order_by()
        .values("link__share_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def _earned() -> Coalesce:
    return Coalesce(
        Subquery(ShareEarning.objects.filter(share_key=Cast(OuterRef("pk"), CharField())).values("earned_minor")[:1]),
        0,
    )


def rollups_enabled() -> bool:
    """The rollup tables are kept by PostgreSQL triggers (migration 0007); SQLite reads the raw rows."""
    return connection.vendor == "postgresql"


def shares_with_results(queryset: QuerySet[Share], *, raw: bool = False) -> QuerySet[Share]:
    """Each share annotated with its latest snapshot (reach, impressions, engagements), unique clicks, earnings.

    ``raw`` computes from snapshots, clicks and earnings even where the rollup exists (consistency checks).
    """
    on_hold = Q(pk__in=ShareHold.objects.filter(released_at__isnull=True).values("share_id"))
    if rollups_enabled() and not raw:
        return queryset.annotate(
            latest_reach=F("result__reach"),
            latest_impressions=F("result__impressions"),
            latest_engagements=F("result__engagements"),
            unique_clicks=Coalesce(F("result__unique_clicks"), Value(0)),
            earned_minor=Coalesce(F("result__earned_minor"), Value(0)),
            on_hold=on_hold,
        )
    return queryset.annotate(
        latest_reach=_latest_snapshot("reach"),
        latest_impressions=_latest_snapshot("impressions"),
        latest_engagements=_latest_snapshot("engagements"),
        unique_clicks=_unique_clicks(),
        earned_minor=_earned(),
        on_hold=on_hold,
    )


@dataclass
class Totals:
    shares: int = 0
    reach: int | None = None
    impressions: int | None = None
    engagements: int | None = None
    unique_clicks: int = 0
    earned_minor: int = 0

    def add(self, other: Totals) -> None:
        self.shares += other.shares
        for name in METRICS:
            value = getattr(other, name)
            if value is not None:
                setattr(self, name, (getattr(self, name) or 0) + value)
        self.unique_clicks += other.unique_clicks
        self.earned_minor += other.earned_minor


@dataclass(frozen=True)
class BreakdownRow:
    key: str
    label: str
    totals: Totals
    #: The currency of ``totals.earned_minor`` where rows of one table differ (an influencer's campaigns).
    currency: str = ""


@dataclass(frozen=True)
class UnbilledClicks:
    """Recorded clicks that are not paid, for one reason (results show them beside the billable count)."""

    reason: str
    label: str
    count: int


@dataclass(frozen=True)
class SeriesPoint:
    day: date
    reach: int
    engagements: int
    unique_clicks: int


@dataclass
class Results:
    currency: str
    totals: Totals
    by_network: list[BreakdownRow]
    by_influencer: list[BreakdownRow]
    series: list[SeriesPoint]
    spend_minor: int = 0
    fee_minor: int = 0
    emv_prices: dict[str, int] = field(default_factory=dict)
    open_holds: list[ShareHold] = field(default_factory=list)
    influencers_total: int = 0
    influencer_page: int = 1
    #: reason -> recorded clicks that are not billable (``ClickReason``); ``totals.unique_clicks`` are the paid ones.
    clicks_not_billable: dict[str, int] = field(default_factory=dict)
    #: Participation fees booked and not taken back, part of the earnings; 0 when none.
    participation_minor: int = 0
    #: (currency, earned) per currency where the shares earn in more than one (an influencer working with
    #: brands that pay in different currencies): ``totals.earned_minor`` then adds up amounts that cannot be
    #: added, and pages show these instead.
    earned_by_currency: list[tuple[str, int]] = field(default_factory=list)

    @property
    def clicks_not_billable_rows(self) -> list[UnbilledClicks]:
        labels = dict(ClickReason.choices)
        return [
            UnbilledClicks(reason=reason, label=str(labels.get(reason, reason)), count=count)
            for reason, count in sorted(self.clicks_not_billable.items(), key=lambda item: (-item[1], item[0]))
        ]

    @property
    def influencer_pages(self) -> int:
        return max(1, -(-self.influencers_total // INFLUENCER_BREAKDOWN_LIMIT))

    @property
    def earned_minor(self) -> int:
        return self.spend_minor - self.fee_minor

    @property
    def audience(self) -> int | None:
        """What CPM is computed on: impressions where reported, else reach."""
        return self.totals.impressions if self.totals.impressions is not None else self.totals.reach

    @staticmethod
    def _per(amount: int, units: int | None, scale: int = 1) -> int | None:
        if not units:
            return None
        return (amount * scale + units // 2) // units

    @property
    def effective_cpm_minor(self) -> int | None:
        return self._per(self.spend_minor, self.audience, 1000)

    @property
    def effective_cpe_minor(self) -> int | None:
        return self._per(self.spend_minor, self.totals.engagements)

    @property
    def effective_cpc_minor(self) -> int | None:
        return self._per(self.spend_minor, self.totals.unique_clicks)

    @property
    def emv_minor(self) -> int:
        prices = self.emv_prices
        return (
            (self.audience or 0) * prices["impressions"] // 1000
            + (self.totals.engagements or 0) * prices["engagements"]
            + self.totals.unique_clicks * prices["clicks"]
        )

    @property
    def has_data(self) -> bool:
        return self.totals.shares > 0


def clicks_not_billable_for_shares(shares: QuerySet[Share]) -> dict[str, int]:
    """Reason -> recorded clicks that are not billable, over these shares (one grouped query on a partial
    index of the unpaid clicks, so it does not read the billable ones)."""
    rows = (
        Click.objects.filter(link__share__in=shares, billable=False)
        .order_by()
        .values_list("reason")
        .annotate(n=Count("pk"))
    )
    return {reason: int(count) for reason, count in rows}


def clicks_not_billable_for_campaign(*, campaign: Campaign, raw: bool = False) -> dict[str, int]:
    """Reason -> the campaign's recorded clicks that are not billable, from the ``CampaignResultReason`` rollup
    (one query over a row per reason, migration 0020); ``raw`` (and SQLite) counts the clicks."""
    if raw or not rollups_enabled():
        return clicks_not_billable_for_shares(Share.objects.filter(campaign=campaign))
    rows = CampaignResultReason.objects.filter(campaign=campaign, clicks__gt=0).values_list("reason", "clicks")
    return {reason: int(count) for reason, count in rows}


def emv_prices_for_campaign(*, campaign: Campaign) -> dict[str, int]:
    prices = dict(EMV_DEFAULT_PRICES)
    for key, value in (campaign.emv_prices or {}).items():
        if key in prices and isinstance(value, int) and value >= 0:
            prices[key] = value
    return prices


def _totals_from(row: dict[str, Any]) -> Totals:
    return Totals(
        shares=int(row["n_shares"]),
        reach=row["reach"],
        impressions=row["impressions"],
        engagements=row["engagements"],
        unique_clicks=int(row["clicks"] or 0),
        earned_minor=int(row["earned"] or 0),
    )


def _grouped(queryset: QuerySet[Share], *group: str, raw: bool = False, **named: Any) -> QuerySet[Any]:
    return (
        shares_with_results(queryset, raw=raw)
        .order_by()
        .values(*group, **named)
        .annotate(
            n_shares=Count("pk"),
            reach=Sum("latest_reach"),
            impressions=Sum("latest_impressions"),
            engagements=Sum("latest_engagements"),
            clicks=Sum("unique_clicks"),
            earned=Sum("earned_minor"),
        )
    )


def _series(shares: QuerySet[Share]) -> list[SeriesPoint]:
    """Cumulative reach, engagements and unique clicks per day (2 queries)."""

    def previous(value: Coalesce) -> Coalesce:
        return Coalesce(
            Subquery(
                # Earlier in time, or pulled in the same moment (one catch-up pull records several windows
                # with one timestamp) and saved before: otherwise each of those counts the full total.
                MetricSnapshot.objects.filter(
                    Q(collected_at__lt=OuterRef("collected_at"))
                    | Q(collected_at=OuterRef("collected_at"), pk__lt=OuterRef("pk")),
                    share_id=OuterRef("share_id"),
                )
                .order_by("-collected_at", "-pk")
                .annotate(value=value)
                .values("value")[:1]
            ),
            0,
        )

    # Reach, else impressions (networks without reach), compared with the previous snapshot's same value.
    reach_like = Coalesce(F("reach"), F("impressions"), 0)
    engagements = Coalesce(F("engagements"), 0)
    gains: dict[date, list[int]] = {}
    snapshot_days = (
        MetricSnapshot.objects.filter(share__in=shares)
        .annotate(day=TruncDate("collected_at"))
        .order_by()
        .values("day")
        .annotate(
            reach=Sum(reach_like - previous(Coalesce(F("reach"), F("impressions"), 0))),
            engagements=Sum(engagements - previous(Coalesce(F("engagements"), 0))),
        )
    )
    for row in snapshot_days:
        gains.setdefault(row["day"], [0, 0, 0])
        gains[row["day"]][0] += int(row["reach"] or 0)
        gains[row["day"]][1] += int(row["engagements"] or 0)
    click_days = (
        Click.objects.filter(link__share__in=shares, billable=True)
        .annotate(day=TruncDate("occurred_at"))
        .order_by()
        .values("day")
        .annotate(n=Count("pk"))
    )
    for row in click_days:
        gains.setdefault(row["day"], [0, 0, 0])
        gains[row["day"]][2] += int(row["n"])
    return _cumulative(gains)


def _series_from_hours(campaign: Campaign) -> tuple[list[SeriesPoint], int, int]:
    """The over-time series from the campaign's hourly rollup (days in the active time zone), and the
    spend (earned, fee) that rollup adds up too. One query, at most 24 rows per day of the campaign."""
    gains: dict[date, list[int]] = {}
    earned = fee = 0
    rows = CampaignResultHour.objects.filter(campaign=campaign).values_list(
        "hour", "snapshots", "reach_gain", "engagements_gain", "unique_clicks", "earned_minor", "fee_minor"
    )
    zone = timezone.get_current_timezone()
    for hour, snapshots, reach, engagements, clicks, hour_earned, hour_fee in rows:
        earned += hour_earned
        fee += hour_fee
        if snapshots or clicks or reach or engagements:
            day = hour.astimezone(zone).date()
            gain = gains.setdefault(day, [0, 0, 0, 0])
            gain[0] += reach
            gain[1] += engagements
            gain[2] += clicks
            gain[3] += snapshots + clicks
    # A day is on the chart when it had a snapshot or a billable click (as computed from the raw rows).
    return _cumulative({day: gain[:3] for day, gain in gains.items() if gain[3]}), earned, fee


def _cumulative(gains: dict[date, list[int]]) -> list[SeriesPoint]:
    points = []
    reach = engagements = clicks = 0
    for day in sorted(gains):
        reach += gains[day][0]
        engagements += gains[day][1]
        clicks += gains[day][2]
        points.append(SeriesPoint(day=day, reach=reach, engagements=engagements, unique_clicks=clicks))
    return points


GROUP_COLUMNS = (
    "shares",
    "reach",
    "reach_shares",
    "impressions",
    "impressions_shares",
    "engagements",
    "engagements_shares",
    "unique_clicks",
    "earned_minor",
)


def _group_totals(row: dict[str, Any]) -> Totals:
    return Totals(
        shares=row["shares"],
        reach=row["reach"] if row["reach_shares"] else None,
        impressions=row["impressions"] if row["impressions_shares"] else None,
        engagements=row["engagements"] if row["engagements_shares"] else None,
        unique_clicks=row["unique_clicks"],
        earned_minor=row["earned_minor"],
    )


def _results_from_groups(
    *, campaign: Campaign, currency: str, emv_prices: dict[str, int], influencer_page: int
) -> Results:
    """The breakdowns from ``CampaignResultGroup``: a row per network, 50 influencer rows (2 queries)."""
    by_network = []
    totals = Totals()
    groups = CampaignResultGroup.objects.filter(campaign=campaign, shares__gt=0)
    for row in groups.filter(influencer__isnull=True).order_by("key").values("key", *GROUP_COLUMNS):
        row_totals = _group_totals(row)
        totals.add(row_totals)
        network = row["key"].removeprefix("n:")
        by_network.append(BreakdownRow(key=network, label=network_label(network), totals=row_totals))
    offset = (influencer_page - 1) * INFLUENCER_BREAKDOWN_LIMIT
    # "Not reported" (no share reports engagements) sorts last, as a SUM of NULLs did.
    ranked = Case(When(engagements_shares=0, then=None), default=F("engagements"), output_field=BigIntegerField())
    by_influencer = [
        BreakdownRow(key=str(row["influencer_id"]), label=row["influencer__display_name"], totals=_group_totals(row))
        for row in groups.filter(influencer__isnull=False)
        .annotate(ranked=ranked)
        .order_by(F("ranked").desc(nulls_last=True), "influencer__display_name", "influencer_id")
        .values("influencer_id", "influencer__display_name", *GROUP_COLUMNS)[
            offset : offset + INFLUENCER_BREAKDOWN_LIMIT
        ]
    ]
    return Results(
        currency=currency,
        totals=totals,
        by_network=by_network,
        by_influencer=by_influencer,
        series=[],
        emv_prices=emv_prices,
        influencer_page=influencer_page,
        open_holds=_open_holds(Share.objects.filter(campaign=campaign)),
    )


def _open_holds(shares: QuerySet[Share]) -> list[ShareHold]:
    return list(
        ShareHold.objects.filter(share__in=shares, released_at__isnull=True).select_related(
            "share__influencer", "share__connected_account"
        )[:20]
    )


def _results(
    *,
    shares: QuerySet[Share],
    currency: str,
    emv_prices: dict[str, int],
    series: list[SeriesPoint] | None = None,
    influencer_page: int = 1,
    raw: bool = False,
    by_currency: bool = False,
    per_influencer: bool = True,
) -> Results:
    """``by_currency``: the shares' campaigns may pay in different currencies (an influencer's results). One
    currency is shown as itself; several are never added up: each network's row is split per currency and
    ``earned_by_currency`` holds the totals. ``per_influencer=False`` leaves the by-influencer table empty."""
    by_network = []
    totals = Totals()
    split = ("campaign__currency",) if by_currency else ()
    rows = list(_grouped(shares, *split, raw=raw, network=F("connected_account__network")).order_by("network", *split))
    currencies = sorted({row["campaign__currency"] for row in rows}) if by_currency else []
    if len(currencies) == 1:
        currency = currencies[0]
    earned_by_currency: dict[str, int] = defaultdict(int)
    for row in rows:
        row_totals = _totals_from(row)
        totals.add(row_totals)
        if len(currencies) > 1:
            row_currency = row["campaign__currency"]
            earned_by_currency[row_currency] += row_totals.earned_minor
            label = _("%(network)s (%(currency)s)") % {
                "network": network_label(row["network"]),
                "currency": row_currency,
            }
            key = f"{row['network']}:{row_currency}"
            by_network.append(BreakdownRow(key=key, label=label, totals=row_totals, currency=row_currency))
        else:
            by_network.append(BreakdownRow(key=row["network"], label=network_label(row["network"]), totals=row_totals))
    # Paged: a campaign with thousands of influencers shows 50 per page (the CSV export has every share).
    offset = (influencer_page - 1) * INFLUENCER_BREAKDOWN_LIMIT
    by_influencer = (
        [
            BreakdownRow(key=str(row["influencer_id"]), label=row["influencer__display_name"], totals=_totals_from(row))
            for row in _grouped(shares, "influencer_id", "influencer__display_name", raw=raw).order_by(
                F("engagements").desc(nulls_last=True), "influencer__display_name", "influencer_id"
            )[offset : offset + INFLUENCER_BREAKDOWN_LIMIT]
        ]
        if per_influencer
        else []
    )
    return Results(
        currency=currency,
        totals=totals,
        by_network=by_network,
        by_influencer=by_influencer,
        series=_series(shares) if series is None else series,
        influencer_page=influencer_page,
        emv_prices=emv_prices,
        open_holds=_open_holds(shares),
        earned_by_currency=sorted(earned_by_currency.items()),
    )


@analytics_read
def campaign_results_get_for_campaign(*, campaign: Campaign, influencer_page: int = 1, raw: bool = False) -> Results:
    """Reach, impressions, engagements, unique clicks, spend (with fees) and breakdowns of one campaign.

    Read from the analytics replica where one is configured (``linkilike.db_routing``).

    ``influencer_page`` pages the by-influencer table (out-of-range pages show the last one);
    ``raw`` computes from the raw rows even where the rollups exist (consistency checks).
    """
    shares = Share.objects.filter(campaign=campaign)
    emv_prices = emv_prices_for_campaign(campaign=campaign)
    if rollups_enabled() and not raw:
        influencers_total = CampaignResultGroup.objects.filter(
            campaign=campaign, influencer__isnull=False, shares__gt=0
        ).count()
        influencer_page = min(max(1, influencer_page), max(1, -(-influencers_total // INFLUENCER_BREAKDOWN_LIMIT)))
        series, _earned, _fee = _series_from_hours(campaign)
        results = _results_from_groups(
            campaign=campaign, currency=campaign.currency, emv_prices=emv_prices, influencer_page=influencer_page
        )
        results.series = series
    else:
        influencers_total = shares.values("influencer_id").distinct().count()
        influencer_page = min(max(1, influencer_page), max(1, -(-influencers_total // INFLUENCER_BREAKDOWN_LIMIT)))
        results = _results(
            shares=shares,
            currency=campaign.currency,
            emv_prices=emv_prices,
            series=_series(shares),
            influencer_page=influencer_page,
            raw=raw,
        )
    # The ledger's figure (payouts.selectors): the same spend as the overview, the campaign list and Funds.
    spend = campaign_spend_get_for_campaign(campaign=campaign)
    results.fee_minor = spend.fee_minor
    results.spend_minor = spend.spent_minor
    results.influencers_total = influencers_total
    results.clicks_not_billable = clicks_not_billable_for_campaign(campaign=campaign, raw=raw)
    results.participation_minor = participation_booked_minor_for_campaign(campaign=campaign)
    return results


#: The currency an influencer's results are shown in before any share earned (campaigns default to it).
DEFAULT_RESULTS_CURRENCY = "EUR"


@analytics_read
def influencer_results_get_for_influencer(*, influencer: InfluencerProfile) -> Results:
    """The influencer's own shares across campaigns, with what they earned (from the analytics replica)."""
    shares = Share.objects.filter(influencer=influencer)
    results = _results(
        shares=shares,
        currency=DEFAULT_RESULTS_CURRENCY,
        emv_prices=dict(EMV_DEFAULT_PRICES),
        by_currency=True,
        per_influencer=False,
    )
    results.clicks_not_billable = clicks_not_billable_for_shares(shares)
    return results


def share_list_for_campaign(*, campaign: Campaign) -> QuerySet[Share]:
    """Shares of a campaign for the shares tab, newest first, with publication, link, clicks and participation fee."""
    return (
        shares_with_participation(shares_with_results(Share.objects.filter(campaign=campaign)))
        .select_related("influencer", "connected_account", "publication", "tracking_link")
        .order_by("-created_at", "-pk")
    )


def share_list_for_influencer(*, influencer: InfluencerProfile) -> QuerySet[Share]:
    return (
        shares_with_participation(shares_with_results(Share.objects.filter(influencer=influencer)))
        .select_related("campaign", "connected_account", "publication", "tracking_link")
        .order_by("-created_at", "-pk")
    )


CSV_HEADER = [
    "share_id",
    "campaign",
    "network",
    "influencer",
    "state",
    "post_url",
    "published_at",
    "reach (network-reported)",
    "impressions (network-reported)",
    "engagements (network-reported)",
    "unique_clicks (measured)",
    # The participation fee: the share's promised fee and where it stands (promised, on_hold,
    # earned, taken_back); empty when the campaign pays none. Part of "earned" once booked.
    "participation_fee",
    "participation_fee_state",
    "earned",
    "currency",
    # What the influencer's earnings page shows as "On hold until <date>": earnings in the hold period.
    "earned_on_hold",
    "on_hold_until",
    # A share put on hold for review (fraud checks); the pages' "On hold for review" badge.
    "held_for_review",
    "clicks_not_billable (by reason)",
]
#: The brand's export only, after "earned": what each share cost (the influencer's export leaves the fee out).
CSV_COST_COLUMNS = ["platform_fee", "spend"]


def _earnings_on_hold() -> tuple[Coalesce, Subquery]:
    """(amount still in the hold period, when the last of it is released) of each share's accruals."""
    held = (
        EarningAccrual.objects.filter(share__share_key=Cast(OuterRef("pk"), CharField()), pending_minor__gt=0)
        .order_by()
        .values("share_id")
    )
    amount = Subquery(held.annotate(total=Sum("pending_minor")).values("total")[:1], output_field=BigIntegerField())
    return Coalesce(amount, 0), Subquery(held.annotate(last=Max("hold_until")).values("last")[:1])


def _fee() -> Coalesce:
    return Coalesce(
        Subquery(ShareEarning.objects.filter(share_key=Cast(OuterRef("pk"), CharField())).values("fee_minor")[:1]),
        0,
    )


def share_results_rows(
    *, shares: QuerySet[Share], currency: str, with_costs: bool = False
) -> Iterator[Sequence[object]]:
    """One CSV row per share (streamed in chunks; names are display names only).

    Cells are raw values: ``linkilike.csv_export`` neutralises spreadsheet formulas for every export.
    Counts and amounts are numbers (None for "not reported") so they stay numbers in a spreadsheet.
    ``with_costs`` (the brand's export) adds the platform fee and the spend (earned + fee) of each share;
    the spend column adds up to the campaign's spend in ``payouts.selectors``.
    """

    def amount(minor: int) -> Decimal:
        return Decimal(money_decimal_string(int(minor)))

    header = list(CSV_HEADER)
    if with_costs:
        at = header.index("earned") + 1
        header[at:at] = CSV_COST_COLUMNS
    yield header
    held_minor, held_until = _earnings_on_hold()
    queryset = (
        shares_with_participation(shares_with_results(shares))
        .annotate(held_minor=held_minor, held_until=held_until, fee_minor=_fee())
        .select_related("campaign", "influencer", "connected_account", "publication")
        .order_by("pk")
    )
    # unique_clicks are the paid ones; the others by reason ("duplicate=3; post_removed=2"), one query.
    unbilled: dict[int, list[str]] = defaultdict(list)
    for share_id, reason, count in (
        Click.objects.filter(link__share__in=shares, billable=False)
        .order_by("link__share_id", "reason")
        .values_list("link__share_id", "reason")
        .annotate(n=Count("pk"))
    ):
        unbilled[share_id].append(f"{reason}={count}")
    for share in queryset.iterator(chunk_size=500):
        publication = getattr(share, "publication", None)
        published_at: datetime | None = publication.published_at if publication else None
        until: datetime | None = share.held_until
        earned = int(share.earned_minor)  # type: ignore[attr-defined]
        fee = int(share.fee_minor)
        costs = [amount(fee), amount(earned + fee)] if with_costs else []
        participation = share_participation(share)
        yield [
            share.pk,
            share.campaign.name,
            network_label(share.connected_account.network),
            share.influencer.display_name,
            publication.get_state_display() if publication else share.get_status_display(),
            publication.external_url if publication else "",
            published_at.isoformat() if published_at else "",
            share.latest_reach,  # type: ignore[attr-defined]
            share.latest_impressions,  # type: ignore[attr-defined]
            share.latest_engagements,  # type: ignore[attr-defined]
            share.unique_clicks,  # type: ignore[attr-defined]
            amount(participation.amount_minor) if participation.state else None,
            participation.state,
            amount(earned),
            *costs,
            currency or share.campaign.currency,
            amount(share.held_minor),
            # In the active time zone, like the date on the influencer's earnings page.
            timezone.localtime(until).replace(microsecond=0).isoformat() if until else "",
            "yes" if share.on_hold else "no",  # type: ignore[attr-defined]
            "; ".join(unbilled.get(share.pk, [])),
        ]
