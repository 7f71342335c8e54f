"""Google Ads through its REST interface (``https://googleads.googleapis.com/<version>/``).

Every call carries ``Authorization: Bearer`` (the OAuth token, renewed with the refresh
token like YouTube's), ``developer-token`` and, when the account is reached through a
manager account, ``login-customer-id``.

- Reports are GAQL read with ``googleAds:searchStream`` (one answer, a JSON array of batches
  of ``results``); ``search`` pages by ``pageToken`` with Google's fixed page of 10,000 rows
  (``pageSize`` may no longer be sent).
- ``campaign_budget_update`` is one update operation with ``updateMask`` on
  ``campaignBudgets:mutate``; it is never repeated by the seam (an ambiguous failure is left
  for a person to check), and ``validate_only`` lets an agent preview it against the API.
- Keyword Planner: ``:generateKeywordIdeas`` and ``:generateKeywordHistoricalMetrics``.

Shapes and limits from Google's documentation; docs/CONNECTORS.md cites the pages.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any, ClassVar

import requests
from pydantic import Field, SecretStr, field_validator, model_validator

from connectors.base import (
    BaseConfig,
    Budget,
    CallResult,
    Provider,
    Schema,
    TestResult,
)
from connectors.base import (
    action as provider_action,
)
from connectors.providers import google_ads_common as ads
from connectors.providers.google_common import GoogleOAuth, token_error
from neonhub.core.errors import ConnectorAuth, NeonHubError

API_HOST = "https://googleads.googleapis.com"
DEFAULT_VERSION = "v26"
MAX_REPORT_DAYS = 366
MAX_SEARCH_PAGES = 20  # 200,000 rows: a larger report belongs in search_stream
MAX_KEYWORDS = 20  # Keyword Planner takes at most 20 seed keywords
MAX_HISTORICAL_KEYWORDS = 10_000
# Reports that read the budgets too: two requests, two operations.
TWO_READS = frozenset({"ad_group_report", "keyword_report"})


def customer_digits(value: str | None) -> str | None:
    """``123-456-7890`` → ``1234567890``: Google's URLs and headers take the digits only."""
    if value is None or value == "":
        return None
    digits = re.sub(r"[\s-]", "", str(value))
    if not re.fullmatch(r"\d{10}", digits):
        raise ValueError("a Google Ads customer id has 10 digits (dashes allowed)")
    return digits


class SearchIn(Schema):
    query: str = Field(min_length=1, max_length=20_000, description="A GAQL query")
    page_token: str | None = Field(default=None, max_length=2000)


class SearchStreamIn(Schema):
    query: str = Field(min_length=1, max_length=20_000, description="A GAQL query")


class ReportIn(Schema):
    start_date: date = Field(description="First day, YYYY-MM-DD (the account's time zone)")
    end_date: date = Field(description="Last day, YYYY-MM-DD, included")

    @model_validator(mode="after")
    def _range(self) -> ReportIn:
        if self.end_date < self.start_date:
            raise ValueError("end_date is before start_date")
        if (self.end_date - self.start_date).days >= MAX_REPORT_DAYS:
            raise ValueError(f"a report covers at most {MAX_REPORT_DAYS} days")
        return self


class BudgetsIn(Schema):
    pass


class BudgetUpdateIn(Schema):
    budget_id: str = Field(pattern=r"^\d{1,20}$")
    amount_micros: int = Field(
        gt=0, le=10**15, description="The new amount in micros of the account's currency"
    )
    validate_only: bool = Field(
        default=False, description="Ask Google to check the change without making it"
    )


class KeywordsIn(Schema):
    keywords: list[str] = Field(default_factory=list, max_length=MAX_HISTORICAL_KEYWORDS)
    url: str | None = Field(default=None, max_length=2000, pattern=r"^https?://")
    language_id: str = Field(
        default="1000", pattern=r"^\d{1,10}$", description="A language constant id (1000 English)"
    )
    geo_target_ids: list[str] = Field(
        default_factory=list,
        max_length=10,
        description="Geo target constant ids (2840 United States); none: everywhere",
    )
    network: str = Field(default="GOOGLE_SEARCH", pattern=r"^GOOGLE_SEARCH(_AND_PARTNERS)?$")

    @field_validator("keywords")
    @classmethod
    def _clean(cls, value: list[str]) -> list[str]:
        cleaned = [k.strip() for k in value if k and k.strip()]
        if any(len(k) > 80 for k in cleaned):
            raise ValueError("a keyword has at most 80 characters")
        return list(dict.fromkeys(cleaned))

    @field_validator("geo_target_ids")
    @classmethod
    def _geo(cls, value: list[str]) -> list[str]:
        if any(not re.fullmatch(r"\d{1,10}", g) for g in value):
            raise ValueError("geo target ids are numbers (e.g. 2840)")
        return value


class KeywordIdeasIn(KeywordsIn):
    @model_validator(mode="after")
    def _seed(self) -> KeywordIdeasIn:
        if not self.keywords and not self.url:
            raise ValueError("give keywords, a url, or both")
        if len(self.keywords) > MAX_KEYWORDS:
            raise ValueError(f"keyword ideas take at most {MAX_KEYWORDS} seed keywords")
        return self


class HistoricalMetricsIn(KeywordsIn):
    @model_validator(mode="after")
    def _some(self) -> HistoricalMetricsIn:
        if not self.keywords:
            raise ValueError("give at least one keyword")
        return self


class GoogleAds(GoogleOAuth, Provider):
    slug: ClassVar[str] = "google_ads"
    label: ClassVar[str] = "Google Ads"
    auth_kind: ClassVar[str] = "oauth2"
    default_base_url: ClassVar[str] = API_HOST
    docs_url: ClassVar[str] = "https://developers.google.com/google-ads/api/rest/overview"
    demo_credentials = {
        "client_id": "demo-client.apps.googleusercontent.com",
        "client_secret": "demo-secret",
        "refresh_token": "demo-refresh-token",
        "developer_token": "demo-developer-token",
    }
    demo_config = {"customer_id": "1234567890"}
    # Basic access allows 15,000 operations a day per developer token (each search request
    # and each mutate operation counts; paging a query already run does not).
    budgets: ClassVar[tuple[Budget, ...]] = (
        Budget(
            name="google_ads_operations",
            limit=15_000,
            per_seconds=86400,
            cost=lambda action_name, data: 2 if action_name in TWO_READS else 1,
        ),
    )
    renewed_credentials: ClassVar[tuple[str, ...] | None] = ("access_token",)

    class Credentials(Schema):
        client_id: str = Field(min_length=10, description="OAuth client id (Google Cloud console)")
        client_secret: SecretStr
        refresh_token: SecretStr = Field(description="Granted with the adwords scope")
        access_token: SecretStr | None = Field(
            default=None, description="Kept up to date by NeonHub"
        )
        developer_token: SecretStr = Field(
            description="From the API Center of a Google Ads manager account"
        )

    class Config(BaseConfig):
        customer_id: str = Field(description="The Google Ads account, 10 digits (dashes allowed)")
        login_customer_id: str | None = Field(
            default=None, description="The manager account the access goes through, if any"
        )
        api_version: str = Field(default=DEFAULT_VERSION, pattern=r"^v\d{2,3}$")
        auth_base_url: str | None = Field(
            default=None, description="Override the token endpoint host (oauth2.googleapis.com)"
        )

        @field_validator("customer_id", "login_customer_id")
        @classmethod
        def _digits(cls, value: str | None) -> str | None:
            return customer_digits(value)

    # --- GAQL ------------------------------------------------------------------------------

    @provider_action(
        "search",
        SearchIn,
        safe_to_repeat=True,
        description="Run a GAQL query; one page of up to 10,000 rows",
    )
    def search(self, data: SearchIn) -> dict:
        body: dict[str, Any] = {"query": data.query}
        if data.page_token:
            body["pageToken"] = data.page_token
        # returnTotalResultsCount is what makes Google answer totalResultsCount.
        body["searchSettings"] = {"returnTotalResultsCount": True}
        answer = self._api("POST", self._customer_path("googleAds:search"), json=body).json()
        return {
            "rows": answer.get("results") or [],
            "next_page_token": answer.get("nextPageToken") or None,
            "total_results_count": ads.as_int(answer.get("totalResultsCount")),
        }

    @provider_action(
        "search_stream",
        SearchStreamIn,
        safe_to_repeat=True,
        description="Run a GAQL query and read every row in one answer",
    )
    def search_stream(self, data: SearchStreamIn) -> dict:
        return {"rows": self._stream(data.query)}

    def _stream(self, query: str) -> list[dict]:
        answer = self._api(
            "POST", self._customer_path("googleAds:searchStream"), json={"query": query}
        ).json()
        batches = answer if isinstance(answer, list) else [answer]
        for batch in batches:
            # An error after the stream began arrives as a last element of a 200 answer.
            if isinstance(batch, dict) and isinstance(batch.get("error"), dict):
                error = ads.error_from(batch["error"], int(batch["error"].get("code") or 500))
                error.provider, error.action = self.slug, self._action.name if self._action else ""
                raise error
        return [
            row
            for batch in batches
            if isinstance(batch, dict)
            for row in batch.get("results") or []
        ]

    # --- reports ---------------------------------------------------------------------------

    @provider_action(
        "campaign_report",
        ReportIn,
        safe_to_repeat=True,
        description="Cost, clicks, impressions and conversions per campaign per day, "
        "with each campaign's budget",
    )
    def campaign_report(self, data: ReportIn) -> dict:
        return self._report(ads.campaign_query(data.start_date, data.end_date), ads.campaign_row)

    @provider_action(
        "ad_group_report",
        ReportIn,
        safe_to_repeat=True,
        description="Cost, clicks, impressions and conversions per ad group per day",
    )
    def ad_group_report(self, data: ReportIn) -> dict:
        report = self._report(ads.ad_group_query(data.start_date, data.end_date), ads.ad_group_row)
        return self._with_budgets(report)

    @provider_action(
        "keyword_report",
        ReportIn,
        safe_to_repeat=True,
        description="Cost, clicks, impressions and conversions per keyword per day",
    )
    def keyword_report(self, data: ReportIn) -> dict:
        report = self._report(ads.keyword_query(data.start_date, data.end_date), ads.keyword_row)
        return self._with_budgets(report)

    def _with_budgets(self, report: dict) -> dict:
        """Ad group and keyword rows name their campaign's budget; its amount and period come
        from one more read of the budgets (only when there are rows)."""
        if report["rows"]:
            budgets = {b["budget_id"]: b for b in ads.budgets_of(self._stream(ads.BUDGETS_QUERY))}
            for row in report["rows"]:
                budget = budgets.get(row["budget_id"] or "")
                if budget:
                    row["budget_amount_micros"] = budget["amount_micros"]
                    row["budget_period"] = budget["period"]
        return report

    def _report(self, query: str, flatten) -> dict:
        rows = self._stream(query)
        return {"currency": ads.currency_of(rows), "rows": [flatten(row) for row in rows]}

    # --- budgets ---------------------------------------------------------------------------

    @provider_action(
        "campaign_budgets",
        BudgetsIn,
        safe_to_repeat=True,
        description="The account's campaign budgets and the campaigns sharing each",
    )
    def campaign_budgets(self, data: BudgetsIn) -> dict:
        return {"budgets": ads.budgets_of(self._stream(ads.BUDGETS_QUERY))}

    @provider_action(
        "campaign_budget_update",
        BudgetUpdateIn,
        safe_to_repeat=False,
        side_effect=True,
        description="Set a campaign budget's amount (micros); validate_only previews it",
    )
    def campaign_budget_update(self, data: BudgetUpdateIn) -> CallResult:
        resource = f"customers/{self.config.customer_id}/campaignBudgets/{data.budget_id}"
        body: dict[str, Any] = {
            "operations": [
                {
                    # The proto field amount_micros; a FieldMask in JSON names it in
                    # lowerCamelCase, like every other field of the JSON mapping.
                    "updateMask": "amountMicros",
                    "update": {"resourceName": resource, "amountMicros": str(data.amount_micros)},
                }
            ]
        }
        if data.validate_only:
            body["validateOnly"] = True
        answer = self._api("POST", self._customer_path("campaignBudgets:mutate"), json=body).json()
        results = answer.get("results") or []
        # A validate_only answer has no results: nothing was changed.
        name = str(results[0].get("resourceName") or resource) if results else resource
        output = {
            "budget_id": data.budget_id,
            "amount_micros": data.amount_micros,
            "resource_name": name,
            "validate_only": data.validate_only,
        }
        return CallResult(output=output, provider_id="" if data.validate_only else name)

    # --- Keyword Planner -------------------------------------------------------------------

    def _planner_options(self, data: KeywordsIn) -> dict:
        return {
            "language": f"languageConstants/{data.language_id}",
            "geoTargetConstants": [f"geoTargetConstants/{g}" for g in data.geo_target_ids],
            "keywordPlanNetwork": data.network,
        }

    @provider_action(
        "keyword_ideas",
        KeywordIdeasIn,
        safe_to_repeat=True,
        description="Keyword Planner ideas from seed keywords and/or a page, with volumes, "
        "competition and bid ranges",
    )
    def keyword_ideas(self, data: KeywordIdeasIn) -> dict:
        body = self._planner_options(data)
        if data.keywords and data.url:
            body["keywordAndUrlSeed"] = {"url": data.url, "keywords": data.keywords}
        elif data.url:
            body["urlSeed"] = {"url": data.url}
        else:
            body["keywordSeed"] = {"keywords": data.keywords}
        answer = self._api("POST", self._customer_path(":generateKeywordIdeas"), json=body).json()
        return {"keywords": ads.ideas_of(answer)}

    @provider_action(
        "keyword_historical_metrics",
        HistoricalMetricsIn,
        safe_to_repeat=True,
        description="Keyword Planner's monthly searches, competition and bid ranges for "
        "the given keywords",
    )
    def keyword_historical_metrics(self, data: HistoricalMetricsIn) -> dict:
        body = {"keywords": data.keywords, **self._planner_options(data)}
        answer = self._api(
            "POST", self._customer_path(":generateKeywordHistoricalMetrics"), json=body
        ).json()
        return {"keywords": ads.historical_of(answer)}

    # --- calls -----------------------------------------------------------------------------

    def _customer_path(self, method: str) -> str:
        # ``customers/{id}/googleAds:search`` but ``customers/{id}:generateKeywordIdeas``.
        separator = "" if method.startswith(":") else "/"
        return f"/{self.config.api_version}/customers/{self.config.customer_id}{separator}{method}"

    def _headers(self, token: str) -> dict[str, str]:
        headers = {
            "Authorization": f"Bearer {token}",
            "developer-token": self.secret("developer_token"),
        }
        if self.config.login_customer_id:
            headers["login-customer-id"] = self.config.login_customer_id
        return headers

    def _api(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """A call with the bearer token; on a 401 the token is renewed once."""
        try:
            return self.request(method, path, headers=self._headers(self._token()), **kwargs)
        except ConnectorAuth as exc:
            # A new OAuth token cannot mend a bad developer token (or a customer not enabled).
            if exc.http_status != 401 or "DEVELOPER_TOKEN" in (exc.provider_code or ""):
                raise
        return self.request(method, path, headers=self._headers(self._new_token()), **kwargs)

    def classify(self, response: requests.Response) -> NeonHubError | None:
        if (response.url or "").startswith(self._token_url()):
            return token_error(response)
        return ads.google_ads_error(response)

    # --- connection test, outbox and sandbox -----------------------------------------------

    def outbox_target(self, action_name: str, data: Schema) -> str:
        budget = getattr(data, "budget_id", None)
        return f"budget {budget}" if budget else f"customer {self.config.customer_id}"

    def test(self) -> TestResult:
        query = (
            "SELECT customer.id, customer.descriptive_name, customer.currency_code FROM customer"
        )
        try:
            rows = self._stream(query)
        except (NeonHubError, ValueError, KeyError) as exc:
            return TestResult(
                ok=False, message=getattr(exc, "message", "") or "Google Ads answered unexpectedly"
            )
        customer = (rows[0].get("customer") or {}) if rows else {}
        if not customer:
            return TestResult(ok=False, message="Google Ads returned no account for this id")
        name = customer.get("descriptiveName") or self.config.customer_id
        return TestResult(
            ok=True,
            message=f"Connected to Google Ads account {name} ({customer.get('currencyCode')})",
        )

    def sandbox(self, action_name: str, data: Schema) -> CallResult:
        customer = self.config.customer_id
        if action_name == "search":
            return CallResult(
                output={"rows": [], "next_page_token": None, "total_results_count": 0}
            )
        if action_name == "search_stream":
            return CallResult(output={"rows": []})
        if action_name in ("campaign_report", "ad_group_report", "keyword_report"):
            build = {
                "campaign_report": ads.sandbox_campaign_rows,
                "ad_group_report": ads.sandbox_ad_group_rows,
                "keyword_report": ads.sandbox_keyword_rows,
            }[action_name]
            return CallResult(
                output={"currency": "EUR", "rows": build(data.start_date, data.end_date)}
            )
        if action_name == "campaign_budgets":
            return CallResult(output={"budgets": ads.sandbox_budgets()})
        if action_name == "campaign_budget_update":
            name = f"customers/{customer}/campaignBudgets/{data.budget_id}"
            output = {
                "budget_id": data.budget_id,
                "amount_micros": data.amount_micros,
                "resource_name": name,
                "validate_only": data.validate_only,
            }
            return CallResult(output=output, provider_id="" if data.validate_only else name)
        context = (data.language_id, ",".join(data.geo_target_ids), data.network)
        if action_name == "keyword_ideas":
            return CallResult(
                output={"keywords": ads.sandbox_ideas(data.keywords, data.url, *context)}
            )
        return CallResult(
            output={"keywords": [ads.sandbox_keyword(k, *context) for k in data.keywords]}
        )
