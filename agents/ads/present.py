"""How the Ads agent's outputs and the SEO agent's Keyword Planner figures read on a run's page.

Presenters for ``agents/results.py``: each reads an output it does not trust (a missing or
mistyped field is left out) and answers the context of its template, or ``None``.
"""

from __future__ import annotations

from typing import Any

from agents.ads.digest import amount, percent
from agents.analytics.charts import bar_chart

COMPETITION = {"LOW": "Low", "MEDIUM": "Medium", "HIGH": "High"}
CHART_LABEL = 14  # characters of a campaign name under its bar


def _number(value: Any) -> int | float | None:
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _dicts(value: Any) -> list[dict]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


# --- keyword research -----------------------------------------------------------------------


def planner_figures(item: dict) -> dict:
    """A keyword's volume, competition and bid range as the table shows them."""
    index = _number(item.get("competitionIndex"))
    level = COMPETITION.get(str(item.get("competition") or ""))
    competition = f"{level} ({index})" if level and index is not None else level
    low, high = _number(item.get("lowTopOfPageBid")), _number(item.get("highTopOfPageBid"))
    if low is not None and high is not None:
        bids = f"{low:,.2f}–{high:,.2f}"
    else:
        bids = f"{low or high:,.2f}" if (low or high) is not None else None
    return {
        "volume": _number(item.get("volume")),
        "competition": competition,
        "bids": bids,
        "source": _text(item.get("source")),
    }


def planner_words(rows: list[dict]) -> str | None:
    """One sentence on the figures: the most searched keyword and how many have figures."""
    known = [r for r in rows if r.get("volume") is not None]
    if not known:
        return None
    top = max(known, key=lambda r: (r["volume"], r["keyword"]))
    return (
        f"“{top['keyword']}” is searched most: {top['volume']:,} times a month on average. "
        f"{len(known)} of {len(rows)} keywords have Google Ads figures."
    )


# --- the digest -----------------------------------------------------------------------------


def _figures(c: dict, currency: str) -> dict:
    change = _dict(c.get("change"))
    pacing = _dict(c.get("pacing"))
    share = _number(pacing.get("share"))
    return {
        "spend": amount(_number(c.get("spend")), currency),
        "spend_change": percent(_number(change.get("spend")), signed=True),
        "clicks": _number(c.get("clicks")),
        "clicks_change": percent(_number(change.get("clicks")), signed=True),
        "ctr": percent(_number(c.get("ctr"))),
        "ctr_change": percent(_number(change.get("ctr")), signed=True),
        "cpc": amount(_number(c.get("cpc")), currency),
        "cpc_change": percent(_number(change.get("cpc")), signed=True),
        "conversions": _number(c.get("conversions")),
        "conversions_change": percent(_number(change.get("conversions")), signed=True),
        "planned": amount(_number(pacing.get("planned")), currency) if pacing else None,
        "pacing": percent(share) if share is not None else None,
        "over": share is not None and share > 1,
    }


def digest(output: dict, payload: dict) -> dict | None:
    period, summary = _dict(output.get("period")), _text(output.get("summary"))
    if not period or summary is None:
        return None
    currency = _text(output.get("currency")) or ""
    campaigns = [
        {"name": str(c.get("name")), "status": _text(c.get("status")), **_figures(c, currency)}
        for c in _dicts(output.get("campaigns"))
        if c.get("name") is not None
    ]
    points = [
        (str(c.get("name"))[:CHART_LABEL], _number(c.get("spend")))
        for c in _dicts(output.get("campaigns"))
    ]
    return {
        "period": period,
        "previous": _dict(output.get("previous_period")),
        "currency": currency,
        "campaigns": campaigns,
        "totals": _figures(_dict(output.get("totals")), currency),
        "chart": bar_chart(points, what=f"{currency} spent".strip()) if points else None,
        "summary": summary,
        "sandbox": output.get("sandbox") is True,
        "connector": _text(output.get("connector")),
        "emailed": [
            {
                "email": e["email"],
                "status": _text(e.get("status")),
                "message": _text(e.get("message")),
            }
            for e in _dicts(output.get("emailed"))
            if _text(e.get("email"))
        ],
    }


def budget_change(output: dict, payload: dict) -> dict | None:
    old, new = _number(output.get("old_amount")), _number(output.get("new_amount"))
    if old is None or new is None:
        return None
    per = "a day" if output.get("period") in (None, "DAILY") else str(output["period"]).lower()
    return {
        "name": _text(output.get("name")) or str(output.get("budget_id")),
        "budget_id": output.get("budget_id"),
        "old": f"{old:,.2f} {per}",
        "new": f"{new:,.2f} {per}",
        "change": percent(_number(output.get("change")), signed=True),
        "campaigns": [str(c.get("name") or c.get("id")) for c in _dicts(output.get("campaigns"))]
        or [str(c) for c in output.get("campaign_ids") or []],
        "sandbox": output.get("sandbox") is True,
        "connector": _text(output.get("connector")),
        "already_sent_in_run": _text(output.get("already_sent_in_run")),
    }
