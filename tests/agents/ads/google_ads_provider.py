"""A test-only Google Ads provider answering the issue-15 contract's action shapes.

Registered under the slug ``google_ads`` by ``tests/agents/ads/conftest.py`` only, for the
Ads agent's tests until the real provider lands; then the fixture points at the real one's
sandbox and this file goes.  Its sandbox answers are fixed so the tests can check sums:

- two campaigns share budget 900 (50.00 a day), a third has budget 901 (20.00 a day);
- every day each campaign reports the same figures, and the days before ``SPLIT`` (the
  previous period of the tests) half of them, so a change is +100 %;
- ``campaign_budgets`` answers the budgets as they are, ``campaign_budget_update`` what it
  would set.
Live, it posts each action's input to ``<base_url>/<action>`` and answers the JSON it gets.
"""

from __future__ import annotations

from datetime import date, timedelta

import requests
from pydantic import Field, SecretStr

from connectors.base import (
    BaseConfig,
    CallResult,
    Provider,
    Schema,
    TestResult,
    action,
    error_for_status,
)
from neonhub.core.errors import ConnectorError

SPLIT = date(2026, 11, 30)  # days before it report half the figures
CAMPAIGNS = [
    # id, name, status, budget id, budget micros, cost micros/day, clicks, impressions, conv
    ("111", "Brand search", "ENABLED", "900", 50_000_000, 30_000_000, 60, 1_200, 3.0),
    ("222", "Spring sale", "ENABLED", "900", 50_000_000, 10_000_000, 20, 2_000, 1.0),
    ("333", "Display", "PAUSED", "901", 20_000_000, 0, 0, 0, 0.0),
]
BUDGETS = [
    {
        "budget_id": "900",
        "name": "Shared search",
        "amount_micros": 50_000_000,
        "period": "DAILY",
        "campaign_ids": ["111", "222"],
    },
    {
        "budget_id": "901",
        "name": "Display",
        "amount_micros": 20_000_000,
        "period": "DAILY",
        "campaign_ids": ["333"],
    },
]
PLANNER = {
    "email marketing": (12_100, "HIGH", 88, 1_230_000, 6_540_000),
    "email marketing tools": (2_900, "HIGH", 95, 4_100_000, 15_800_000),
    "how to email marketing": (390, "LOW", 12, None, None),
}
IDEAS = [
    ("email marketing", 12_100, "HIGH", 88),
    ("email newsletter software", 1_600, "MEDIUM", 55),
    ("bulk email service", 4_400, "HIGH", 90),
]


class Credentials(Schema):
    client_id: str = Field(min_length=1)
    client_secret: SecretStr
    refresh_token: SecretStr
    access_token: SecretStr | None = None
    developer_token: SecretStr


class Config(BaseConfig):
    customer_id: str = Field(pattern=r"^\d{10}$")
    login_customer_id: str | None = None
    api_version: str = "v21"


class Search(Schema):
    query: str = Field(min_length=1)
    page_token: str | None = None


class Dates(Schema):
    start_date: date
    end_date: date


class Empty(Schema):
    pass


class BudgetUpdate(Schema):
    budget_id: str = Field(pattern=r"^\d+$")
    amount_micros: int = Field(gt=0)


class Keywords(Schema):
    keywords: list[str] = Field(min_length=1, max_length=10_000)
    url: str | None = None
    language_id: str | None = None
    geo_target_ids: list[str] = Field(default_factory=list)


def _keyword(text, volume, competition, index, low=None, high=None) -> dict:
    return {
        "text": text,
        "avg_monthly_searches": volume,
        "competition": competition,
        "competition_index": index,
        "low_top_of_page_bid_micros": low,
        "high_top_of_page_bid_micros": high,
        "monthly_search_volumes": [{"year": 2026, "month": 10, "searches": volume or 0}],
    }


class GoogleAdsTestProvider(Provider):
    slug = "google_ads"
    label = "Google Ads"
    auth_kind = "oauth2"
    default_base_url = "https://googleads.invalid"
    Credentials = Credentials
    Config = Config

    def _post(self, name: str, data) -> dict:
        return self.request("POST", f"/{name}", json=data.model_dump(mode="json")).json()

    @action("search", Search, safe_to_repeat=True)
    def search(self, data: Search) -> dict:
        return self._post("search", data)

    @action("campaign_report", Dates, safe_to_repeat=True)
    def campaign_report(self, data: Dates) -> dict:
        return self._post("campaign_report", data)

    @action("campaign_budgets", Empty, safe_to_repeat=True)
    def campaign_budgets(self, data: Empty) -> dict:
        return self._post("campaign_budgets", data)

    @action("campaign_budget_update", BudgetUpdate, safe_to_repeat=False, side_effect=True)
    def campaign_budget_update(self, data: BudgetUpdate) -> CallResult:
        body = self._post("campaign_budget_update", data)
        return CallResult(output=body, provider_id=body.get("resource_name", ""))

    @action("keyword_historical_metrics", Keywords, safe_to_repeat=True)
    def keyword_historical_metrics(self, data: Keywords) -> dict:
        return self._post("keyword_historical_metrics", data)

    @action("keyword_ideas", Keywords, safe_to_repeat=True)
    def keyword_ideas(self, data: Keywords) -> dict:
        return self._post("keyword_ideas", data)

    def classify(self, response: requests.Response) -> ConnectorError | None:
        if response.status_code < 400:
            return None
        return error_for_status(response.status_code, f"Google Ads: HTTP {response.status_code}")

    def test(self) -> TestResult:
        return TestResult(True, "test provider")

    def sandbox(self, action_name: str, data) -> CallResult:
        return CallResult(output=getattr(self, f"_sandbox_{action_name}")(data))

    def _sandbox_campaign_report(self, data: Dates) -> dict:
        rows, day = [], data.start_date
        while day <= data.end_date:
            half = 2 if day < SPLIT else 1
            for cid, name, status, bid, bmicros, cost, clicks, imps, conv in CAMPAIGNS:
                rows.append(
                    {
                        "campaign_id": cid,
                        "campaign_name": name,
                        "status": status,
                        "date": day.isoformat(),
                        "cost_micros": cost // half,
                        "clicks": clicks // half,
                        "impressions": imps // half,
                        "conversions": conv / half,
                        "conversions_value": conv * 40 / half,
                        "budget_id": bid,
                        "budget_amount_micros": bmicros,
                        "budget_period": "DAILY",
                    }
                )
            day += timedelta(days=1)
        return {"currency": "EUR", "rows": rows}

    def _sandbox_search(self, data: Search) -> dict:
        # Only the campaign names query the Ads agent sends; Google's REST result shape.
        rows = [
            {
                "campaign": {
                    "resourceName": f"customers/1234567890/campaigns/{c[0]}",
                    "id": c[0],
                    "name": c[1],
                }
            }
            for c in CAMPAIGNS
            if c[0] in data.query
        ]
        return {"rows": rows, "next_page_token": None, "total_results_count": len(rows)}

    def _sandbox_campaign_budgets(self, data: Empty) -> dict:
        return {"budgets": [dict(b) for b in BUDGETS]}

    def _sandbox_campaign_budget_update(self, data: BudgetUpdate) -> dict:
        return {
            "budget_id": data.budget_id,
            "amount_micros": data.amount_micros,
            "resource_name": f"customers/1234567890/campaignBudgets/{data.budget_id}",
        }

    def _sandbox_keyword_historical_metrics(self, data: Keywords) -> dict:
        found = [
            _keyword(k.lower(), *PLANNER[k.lower()]) for k in data.keywords if k.lower() in PLANNER
        ]
        return {"keywords": found}

    def _sandbox_keyword_ideas(self, data: Keywords) -> dict:
        return {"keywords": [_keyword(*idea) for idea in IDEAS]}
