"""The Ads digest's figures: per campaign spend, clicks, CTR, CPC, conversions and pacing.

Rows come from the Google Ads connector's ``campaign_report`` action (one row per campaign per
day, money in micros of the account's currency).  One report covering the previous period and
this one is split by date, so each figure has its change since the previous period of the same
length.  A ratio whose denominator is zero (CTR without impressions, CPC without clicks, a
change from nothing) is ``None``, never 0 or infinity: the page says "—".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

MICROS = Decimal(1_000_000)
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Period:
        """The period of the same length that ends the day before this one starts."""
        end = self.start - timedelta(days=1)
        return Period(start=end - timedelta(days=self.days - 1), end=end)

    def holds(self, day: date) -> bool:
        return self.start <= day <= self.end

    def as_dict(self) -> dict:
        return {"start": self.start.isoformat(), "end": self.end.isoformat(), "days": self.days}


def default_period(today: date, days: int = 7) -> Period:
    """The last ``days`` whole days, ending yesterday (today's figures are still moving)."""
    end = today - timedelta(days=1)
    return Period(start=end - timedelta(days=days - 1), end=end)


def money(micros: int | Decimal) -> Decimal:
    return (Decimal(micros) / MICROS).quantize(CENT, rounding=ROUND_HALF_UP)


def ratio(part: float | Decimal, whole: float | Decimal) -> Decimal | None:
    """``part / whole``, or None when ``whole`` is zero."""
    whole = Decimal(str(whole))
    return Decimal(str(part)) / whole if whole else None


def change(now: float | Decimal | None, before: float | Decimal | None) -> float | None:
    """The relative change from ``before`` to ``now`` (0.25 = up 25 %); None from nothing."""
    if now is None or before is None or not before:
        return None
    return round(float((Decimal(str(now)) - Decimal(str(before))) / Decimal(str(before))), 4)


@dataclass
class Totals:
    cost_micros: int = 0
    clicks: int = 0
    impressions: int = 0
    conversions: float = 0.0
    conversions_value: float = 0.0

    def add(self, row: dict) -> None:
        self.cost_micros += int(row.get("cost_micros") or 0)
        self.clicks += int(row.get("clicks") or 0)
        self.impressions += int(row.get("impressions") or 0)
        self.conversions += float(row.get("conversions") or 0)
        self.conversions_value += float(row.get("conversions_value") or 0)

    def figures(self) -> dict:
        spend = money(self.cost_micros)
        ctr = ratio(self.clicks, self.impressions)
        cpc = ratio(spend, self.clicks)
        return {
            "spend": float(spend),
            "clicks": self.clicks,
            "impressions": self.impressions,
            "ctr": round(float(ctr), 4) if ctr is not None else None,
            "cpc": float(cpc.quantize(CENT, rounding=ROUND_HALF_UP)) if cpc is not None else None,
            "conversions": round(self.conversions, 2),
            "conversions_value": round(self.conversions_value, 2),
        }


CHANGED = ("spend", "clicks", "impressions", "ctr", "cpc", "conversions")


def changes(now: dict, before: dict) -> dict:
    return {name: change(now.get(name), before.get(name)) for name in CHANGED}


def pacing(*, spend: float, amount_micros: int | None, budget_period: str | None, days: int):
    """Spend against a DAILY budget × the days of the period; None for other or no budgets."""
    if budget_period != "DAILY" or not amount_micros:
        return None
    planned = money(amount_micros) * days
    return {
        "planned": float(planned),
        "share": round(float(Decimal(str(spend)) / planned), 4) if planned else None,
    }


def _day(value) -> date | None:
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return None


def campaign_digest(rows: list[dict], period: Period) -> dict:
    """Per-campaign and overall figures of ``period`` and of the period before it."""
    previous = period.previous()
    now: dict[str, Totals] = {}
    before: dict[str, Totals] = {}
    latest: dict[str, tuple[date, dict]] = {}
    for row in rows:
        day, cid = _day(row.get("date")), str(row.get("campaign_id") or "")
        if day is None or not cid:
            continue
        if period.holds(day):
            now.setdefault(cid, Totals()).add(row)
        elif previous.holds(day):
            before.setdefault(cid, Totals()).add(row)
        else:
            continue
        if cid not in latest or day >= latest[cid][0]:
            latest[cid] = (day, row)  # the name, status and budget as of the newest day
    campaigns = [
        _campaign(latest[cid][1], now.get(cid, Totals()), before.get(cid, Totals()), period)
        for cid in latest
    ]
    campaigns.sort(key=lambda c: (-c["spend"], c["name"]))
    total_now, total_before = Totals(), Totals()
    for totals, target in ((now, total_now), (before, total_before)):
        for part in totals.values():
            for name in ("cost_micros", "clicks", "impressions"):
                setattr(target, name, getattr(target, name) + getattr(part, name))
            target.conversions += part.conversions
            target.conversions_value += part.conversions_value
    overall, overall_before = total_now.figures(), total_before.figures()
    planned = [c["pacing"]["planned"] for c in campaigns if c["pacing"]]
    return {
        "period": period.as_dict(),
        "previous_period": previous.as_dict(),
        "campaigns": campaigns,
        "totals": {
            **overall,
            "previous": overall_before,
            "change": changes(overall, overall_before),
            "planned": round(sum(planned), 2) if planned else None,
        },
    }


def _campaign(row: dict, now: Totals, before: Totals, period: Period) -> dict:
    figures, earlier = now.figures(), before.figures()
    amount = row.get("budget_amount_micros")
    return {
        "campaign_id": str(row.get("campaign_id")),
        "name": str(row.get("campaign_name") or row.get("campaign_id")),
        "status": str(row.get("status") or ""),
        **figures,
        "budget": {
            "id": row.get("budget_id"),
            "amount": float(money(amount)) if isinstance(amount, int) else None,
            "period": row.get("budget_period"),
        },
        "pacing": pacing(
            spend=figures["spend"],
            amount_micros=amount if isinstance(amount, int) else None,
            budget_period=row.get("budget_period"),
            days=period.days,
        ),
        "previous": earlier,
        "change": changes(figures, earlier),
    }


def percent(value: float | None, *, signed: bool = False) -> str:
    if value is None:
        return "—"
    text = f"{value * 100:+.1f}%" if signed else f"{value * 100:.1f}%"
    return text.replace(".0%", "%")


def amount(value: float | None, currency: str) -> str:
    return "—" if value is None else f"{value:,.2f} {currency}".strip()


def summary_text(digest: dict, currency: str) -> str:
    """A short plain-text summary, as a weekly email would carry it."""
    period, totals = digest["period"], digest["totals"]
    lines = [
        f"Google Ads, {period['start']} to {period['end']} ({period['days']} days)",
        "",
        f"Spend {amount(totals['spend'], currency)} ({percent(totals['change']['spend'], signed=True)} "
        f"vs the previous {period['days']} days), {totals['clicks']:,} clicks, "
        f"CTR {percent(totals['ctr'])}, CPC {amount(totals['cpc'], currency)}, "
        f"{totals['conversions']:g} conversions.",
    ]
    if totals.get("planned"):
        lines.append(
            f"Daily budgets planned {amount(totals['planned'], currency)} for the period; "
            f"spent {percent(totals['spend'] / totals['planned'])} of it."
        )
    if digest["campaigns"]:
        lines += ["", "Per campaign:"]
    for c in digest["campaigns"]:
        pace = f", {percent(c['pacing']['share'])} of budget" if c["pacing"] else ""
        lines.append(
            f"- {c['name']}: {amount(c['spend'], currency)} "
            f"({percent(c['change']['spend'], signed=True)}), {c['clicks']:,} clicks, "
            f"CTR {percent(c['ctr'])}, CPC {amount(c['cpc'], currency)}, "
            f"{c['conversions']:g} conversions{pace}"
        )
    if not digest["campaigns"]:
        lines += ["", "No campaign spent or showed ads in this period or the one before."]
    return "\n".join(lines) + "\n"
