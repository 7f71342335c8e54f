from __future__ import annotations

from datetime import date

import pytest

from agents.ads import digest
from agents.ads.digest import Period


def row(day, cid="1", cost=0, clicks=0, imps=0, conv=0.0, **extra):
    return {
        "campaign_id": cid,
        "campaign_name": f"C{cid}",
        "status": "ENABLED",
        "date": day,
        "cost_micros": cost,
        "clicks": clicks,
        "impressions": imps,
        "conversions": conv,
        "conversions_value": 0.0,
        "budget_id": "9",
        "budget_amount_micros": extra.get("budget", 10_000_000),
        "budget_period": extra.get("period", "DAILY"),
    }


def test_previous_period_has_the_same_length_and_ends_the_day_before():
    period = Period(date(2026, 12, 1), date(2026, 12, 7))
    assert period.days == 7
    assert period.previous() == Period(date(2026, 11, 24), date(2026, 11, 30))
    assert digest.default_period(date(2026, 12, 8)) == period


def test_ctr_cpc_pacing_and_change_since_the_previous_period():
    period = Period(date(2026, 12, 1), date(2026, 12, 2))
    rows = [
        row("2026-11-29", cost=5_000_000, clicks=10, imps=500, conv=1),
        row("2026-11-30", cost=5_000_000, clicks=10, imps=500, conv=1),
        row("2026-12-01", cost=7_500_000, clicks=15, imps=600, conv=2),
        row("2026-12-02", cost=7_500_000, clicks=15, imps=400, conv=1),
        row("2026-11-01", cost=99_000_000, clicks=99, imps=999),  # outside both periods
    ]
    found = digest.campaign_digest(rows, period)
    (c,) = found["campaigns"]
    assert (c["spend"], c["clicks"], c["impressions"], c["conversions"]) == (15.0, 30, 1000, 3.0)
    assert c["ctr"] == 0.03 and c["cpc"] == 0.5
    # 10.00 a day for 2 days planned, 15.00 spent.
    assert c["pacing"] == {"planned": 20.0, "share": 0.75}
    assert c["previous"]["spend"] == 10.0 and c["previous"]["cpc"] == 0.5
    assert c["change"]["spend"] == 0.5 and c["change"]["clicks"] == 0.5
    assert c["change"]["cpc"] == 0.0 and c["change"]["ctr"] == 0.5
    assert found["totals"]["planned"] == 20.0 and found["totals"]["change"]["spend"] == 0.5


def test_zero_denominators_give_none_not_zero_or_infinity():
    period = Period(date(2026, 12, 1), date(2026, 12, 1))
    rows = [row("2026-12-01", cid="1"), row("2026-12-01", cid="2", cost=1_000_000, imps=10)]
    found = {c["campaign_id"]: c for c in digest.campaign_digest(rows, period)["campaigns"]}
    idle, spent = found["1"], found["2"]
    assert idle["ctr"] is None and idle["cpc"] is None
    assert spent["ctr"] == 0.0 and spent["cpc"] is None  # impressions but no clicks
    # Nothing in the previous period: no change, rather than "+infinity".
    assert spent["change"]["spend"] is None and spent["previous"]["spend"] == 0.0
    assert digest.change(5, 0) is None and digest.change(0, 5) == -1.0


@pytest.mark.parametrize(
    ("budget", "period", "expected"),
    [(0, "DAILY", None), (None, "DAILY", None), (10_000_000, "CUSTOM_PERIOD", None)],
)
def test_pacing_only_for_daily_budgets_with_an_amount(budget, period, expected):
    assert digest.pacing(spend=5, amount_micros=budget, budget_period=period, days=7) == expected


def test_summary_text_is_short_plain_words():
    period = Period(date(2026, 12, 1), date(2026, 12, 2))
    rows = [row("2026-12-01", cost=7_500_000, clicks=15, imps=600, conv=2)]
    text = digest.summary_text(digest.campaign_digest(rows, period), "EUR")
    assert text.startswith("Google Ads, 2026-12-01 to 2026-12-02 (2 days)")
    assert "Spend 7.50 EUR (— vs the previous 2 days), 15 clicks, CTR 2.5%, CPC 0.50 EUR" in text
    assert "- C1: 7.50 EUR (—), 15 clicks" in text and "37.5% of budget" in text
    empty = digest.summary_text(digest.campaign_digest([], period), "EUR")
    assert "No campaign spent" in empty and "CPC —" in empty
