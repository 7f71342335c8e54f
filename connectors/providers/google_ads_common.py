"""What the Google Ads provider needs besides its calls: GAQL for the reports, flattening the
answers into NeonHub's rows, the error taxonomy and the sandbox's data.

Facts from Google's documentation (cited in docs/CONNECTORS.md):

- REST answers use the proto3 JSON mapping: fields in lowerCamelCase, int64 values (ids,
  ``costMicros``, ``clicks``, ``impressions``, ``amountMicros``, ``avgMonthlySearches``) as
  strings, doubles (``conversions``, ``conversionsValue``) as numbers; a field left at its
  default is left out of the answer (no clicks: no ``clicks`` key).
- Errors: ``{"error": {"code", "message", "status", "details": [{"@type":
  "type.googleapis.com/google.ads.googleads.<v>.errors.GoogleAdsFailure", "errors":
  [{"errorCode": {"<category>": "<CODE>"}, "message", "location": {"fieldPathElements":
  [{"fieldName", "index"}]}, "details": {"quotaErrorDetails": {"retryDelay": "30s"}}}],
  "requestId"}]}}``.  ``searchStream`` answers a JSON array; an error there may come as an
  array holding one such object.
"""

from __future__ import annotations

import hashlib
import random
import re
from datetime import date, timedelta
from typing import Any

import requests

from connectors.base import error_for_status, retry_after_seconds
from neonhub.core.errors import (
    ConnectorAuth,
    ConnectorError,
    ConnectorRateLimited,
    ConnectorRejected,
    ConnectorUnavailable,
)

# errorCode categories that mean the credentials or the account access are wrong.
AUTH_CATEGORIES = frozenset({"authenticationError", "authorizationError"})
# Google's canonical statuses for a failure on its side (tried again later).
SERVER_STATUSES = frozenset({"INTERNAL", "UNAVAILABLE", "DEADLINE_EXCEEDED"})
AUTH_STATUSES = frozenset({"UNAUTHENTICATED", "PERMISSION_DENIED"})
# A daily quota answered without a delay waits an hour before the run tries again.
QUOTA_DEFAULT_WAIT = 3600.0
RATE_DEFAULT_WAIT = 60.0


# --- errors -------------------------------------------------------------------------------


def _body(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _error_object(body: Any) -> dict | None:
    if isinstance(body, list) and body and isinstance(body[0], dict):
        body = body[0]  # searchStream wraps its error in an array
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, dict) else None


def _failure(error: dict) -> dict:
    for detail in error.get("details") or []:
        if isinstance(detail, dict) and str(detail.get("@type", "")).endswith("GoogleAdsFailure"):
            return detail
    return {}


def _field_path(item: dict) -> str:
    """``operations[0].update.amount_micros`` from ``location.fieldPathElements``."""
    parts = []
    for element in (item.get("location") or {}).get("fieldPathElements") or []:
        if not isinstance(element, dict) or not element.get("fieldName"):
            continue
        name = str(element["fieldName"])
        if element.get("index") is not None:
            name += f"[{element['index']}]"
        parts.append(name)
    return ".".join(parts)


def _code(item: dict) -> str:
    category, code = next(iter((item.get("errorCode") or {}).items()), ("", ""))
    return f"{category}.{code}" if category else ""


def _detail(item: dict, request_id: str) -> dict:
    """One error for the run's failure detail: Google's code, message, field and request id
    (the id Google's support asks for; it carries no secret)."""
    detail = {"code": _code(item), "message": str(item.get("message") or "")[:200]}
    if field := _field_path(item):
        detail["field"] = field
    if request_id:
        detail["request_id"] = request_id
    return detail


def duration_seconds(value: Any) -> float | None:
    """A protobuf Duration in JSON ("30s", "1.5s")."""
    match = re.fullmatch(r"(\d+(?:\.\d+)?)s", str(value or ""))
    return float(match.group(1)) if match else None


def google_ads_error(response: requests.Response) -> ConnectorError | None:
    status = response.status_code
    if status < 400:
        return None
    error = _error_object(_body(response))
    if error is None:
        return error_for_status(
            status, f"Google Ads answered HTTP {status}", retry_after=retry_after_seconds(response)
        )
    return error_from(error, status, header_wait=retry_after_seconds(response))


def error_from(error: dict, status: int, *, header_wait: float | None = None) -> ConnectorError:
    """The taxonomy's error for Google's ``error`` object (``header_wait``: a Retry-After)."""
    failure = _failure(error)
    items = [item for item in failure.get("errors") or [] if isinstance(item, dict)]
    first = items[0] if items else {}
    category, code = next(iter((first.get("errorCode") or {}).items()), ("", ""))
    canonical = str(error.get("status") or "")
    provider_code = f"{category}.{code}" if category else canonical or str(status)
    field = _field_path(first)
    text = str(first.get("message") or error.get("message") or provider_code)
    message = f"Google Ads: {text}" + (f" (field {field})" if field else "")
    request_id = str(failure.get("requestId") or "")
    details = [_detail(item, request_id) for item in items] or (
        [{"request_id": request_id}] if request_id else None
    )
    kwargs: dict[str, Any] = {
        "http_status": status,
        "provider_code": provider_code,
        "details": details,
    }
    if category == "quotaError" or canonical == "RESOURCE_EXHAUSTED" or status == 429:
        delay = duration_seconds(
            ((first.get("details") or {}).get("quotaErrorDetails") or {}).get("retryDelay")
        )
        default = RATE_DEFAULT_WAIT if "TEMPORARILY" in str(code) else QUOTA_DEFAULT_WAIT
        wait = delay or header_wait or default
        return ConnectorRateLimited(message, retry_after=wait, **kwargs)
    if category in AUTH_CATEGORIES or canonical in AUTH_STATUSES or status == 401:
        return ConnectorAuth(message, **kwargs)
    if canonical in SERVER_STATUSES or status >= 500 or category == "internalError":
        return ConnectorUnavailable(message, retry_after=header_wait, **kwargs)
    # requestError, queryError, fieldError, rangeError, campaignBudgetError, mutateError...
    return ConnectorRejected(message, **kwargs)


# --- numbers ------------------------------------------------------------------------------


def as_int(value: Any) -> int | None:
    """An int64 of the JSON mapping (a string), or None when absent."""
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def as_float(value: Any) -> float | None:
    if value is None or value == "":
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def last_id(resource_name: Any) -> str | None:
    """``customers/123/campaignBudgets/456`` → ``456``."""
    text = str(resource_name or "")
    return text.rsplit("/", 1)[-1] or None if text else None


# --- GAQL ---------------------------------------------------------------------------------

METRICS = (
    "metrics.cost_micros, metrics.clicks, metrics.impressions, "
    "metrics.conversions, metrics.conversions_value"
)


def _gaql(select: str, resource: str, start: date, end: date, order: str) -> str:
    # Only date objects are put into the query (GAQL takes dates as quoted YYYY-MM-DD).
    where = f"segments.date BETWEEN '{start.isoformat()}' AND '{end.isoformat()}'"
    return f"SELECT {select} FROM {resource} WHERE {where} ORDER BY {order}"  # noqa: S608


def campaign_query(start: date, end: date) -> str:
    select = (
        f"campaign.id, campaign.name, campaign.status, segments.date, {METRICS}, "
        "campaign_budget.id, campaign_budget.amount_micros, campaign_budget.period, "
        "customer.currency_code"
    )
    return _gaql(select, "campaign", start, end, "segments.date, campaign.id")


def ad_group_query(start: date, end: date) -> str:
    # The budget is named through the campaign's campaign_budget resource name; the provider
    # reads its amount and period from the budgets.
    select = (
        "campaign.id, campaign.name, campaign.campaign_budget, ad_group.id, ad_group.name, "
        f"ad_group.status, segments.date, {METRICS}, customer.currency_code"
    )
    return _gaql(select, "ad_group", start, end, "segments.date, ad_group.id")


def keyword_query(start: date, end: date) -> str:
    select = (
        "campaign.id, campaign.name, campaign.campaign_budget, ad_group.id, ad_group.name, "
        "ad_group_criterion.criterion_id, ad_group_criterion.status, "
        "ad_group_criterion.keyword.text, ad_group_criterion.keyword.match_type, "
        f"segments.date, {METRICS}, customer.currency_code"
    )
    return _gaql(
        select, "keyword_view", start, end, "segments.date, ad_group_criterion.criterion_id"
    )


BUDGETS_QUERY = (
    "SELECT campaign_budget.id, campaign_budget.name, campaign_budget.amount_micros, "
    "campaign_budget.period, campaign.id "
    "FROM campaign "
    "WHERE campaign.status != 'REMOVED'"
)


# --- flattening ---------------------------------------------------------------------------


def _metrics(row: dict) -> dict:
    metrics = row.get("metrics") or {}
    # An absent metric is zero: the JSON mapping leaves default values out.
    return {
        "cost_micros": as_int(metrics.get("costMicros")) or 0,
        "clicks": as_int(metrics.get("clicks")) or 0,
        "impressions": as_int(metrics.get("impressions")) or 0,
        "conversions": as_float(metrics.get("conversions")) or 0.0,
        "conversions_value": as_float(metrics.get("conversionsValue")) or 0.0,
    }


def campaign_row(row: dict) -> dict:
    campaign = row.get("campaign") or {}
    budget = row.get("campaignBudget") or {}
    return {
        "campaign_id": str(campaign.get("id") or ""),
        "campaign_name": str(campaign.get("name") or ""),
        "status": str(campaign.get("status") or ""),
        "date": str((row.get("segments") or {}).get("date") or ""),
        **_metrics(row),
        "budget_id": str(budget["id"])
        if budget.get("id")
        else last_id(campaign.get("campaignBudget")),
        "budget_amount_micros": as_int(budget.get("amountMicros")),
        "budget_period": budget.get("period") or None,
    }


def ad_group_row(row: dict) -> dict:
    ad_group = row.get("adGroup") or {}
    return {
        **campaign_row(row),
        "status": str(ad_group.get("status") or ""),
        "ad_group_id": str(ad_group.get("id") or ""),
        "ad_group_name": str(ad_group.get("name") or ""),
    }


def keyword_row(row: dict) -> dict:
    criterion = row.get("adGroupCriterion") or {}
    keyword = criterion.get("keyword") or {}
    return {
        **ad_group_row(row),
        "status": str(criterion.get("status") or ""),
        "keyword_id": str(criterion.get("criterionId") or ""),
        "keyword_text": str(keyword.get("text") or ""),
        "match_type": str(keyword.get("matchType") or ""),
    }


def currency_of(rows: list[dict]) -> str | None:
    for row in rows:
        code = (row.get("customer") or {}).get("currencyCode")
        if code:
            return str(code)
    return None


def budgets_of(rows: list[dict]) -> list[dict]:
    """One entry per budget with the campaigns that share it."""
    found: dict[str, dict] = {}
    for row in rows:
        budget = row.get("campaignBudget") or {}
        budget_id = str(budget.get("id") or last_id(budget.get("resourceName")) or "")
        if not budget_id:
            continue
        entry = found.setdefault(
            budget_id,
            {
                "budget_id": budget_id,
                "name": str(budget.get("name") or ""),
                "amount_micros": as_int(budget.get("amountMicros")),
                "period": budget.get("period") or None,
                "campaign_ids": [],
            },
        )
        campaign_id = str((row.get("campaign") or {}).get("id") or "")
        if campaign_id and campaign_id not in entry["campaign_ids"]:
            entry["campaign_ids"].append(campaign_id)
    return list(found.values())


MONTHS = (
    "JANUARY",
    "FEBRUARY",
    "MARCH",
    "APRIL",
    "MAY",
    "JUNE",
    "JULY",
    "AUGUST",
    "SEPTEMBER",
    "OCTOBER",
    "NOVEMBER",
    "DECEMBER",
)


def _month(value: Any) -> int | None:
    text = str(value or "")
    return MONTHS.index(text) + 1 if text in MONTHS else as_int(text)


def keyword_metrics(text: str, metrics: dict | None) -> dict:
    metrics = metrics or {}
    volumes = []
    for item in metrics.get("monthlySearchVolumes") or []:
        year, month = as_int(item.get("year")), _month(item.get("month"))
        if year and month:
            volumes.append(
                {"year": year, "month": month, "searches": as_int(item.get("monthlySearches")) or 0}
            )
    return {
        "text": text,
        "avg_monthly_searches": as_int(metrics.get("avgMonthlySearches")),
        "competition": metrics.get("competition") or None,
        "competition_index": as_int(metrics.get("competitionIndex")),
        "low_top_of_page_bid_micros": as_int(metrics.get("lowTopOfPageBidMicros")),
        "high_top_of_page_bid_micros": as_int(metrics.get("highTopOfPageBidMicros")),
        "monthly_search_volumes": volumes,
    }


def ideas_of(body: dict) -> list[dict]:
    return [
        keyword_metrics(str(item.get("text") or ""), item.get("keywordIdeaMetrics"))
        for item in body.get("results") or []
        if isinstance(item, dict) and item.get("text")
    ]


def historical_of(body: dict) -> list[dict]:
    return [
        keyword_metrics(str(item.get("text") or ""), item.get("keywordMetrics"))
        for item in body.get("results") or []
        if isinstance(item, dict) and item.get("text")
    ]


# --- sandbox ------------------------------------------------------------------------------

SANDBOX_CAMPAIGNS = (
    ("900000001", "Sandbox · Brand search", "ENABLED", "800000001", 25_000_000),
    ("900000002", "Sandbox · Generic search", "ENABLED", "800000002", 60_000_000),
    ("900000003", "Sandbox · Remarketing", "PAUSED", "800000003", 15_000_000),
)
SANDBOX_AD_GROUPS = {
    "900000001": (("700000011", "Sandbox · Brand terms"),),
    "900000002": (("700000021", "Sandbox · Coffee beans"), ("700000022", "Sandbox · Grinders")),
    "900000003": (("700000031", "Sandbox · Past visitors"),),
}
SANDBOX_KEYWORDS = {
    "700000011": (("600000111", "sandbox brand", "EXACT"),),
    "700000021": (("600000211", "buy coffee beans", "PHRASE"), ("600000212", "coffee", "BROAD")),
    "700000022": (("600000221", "burr grinder", "PHRASE"),),
    "700000031": (("600000311", "sandbox shop", "BROAD"),),
}


def seeded(*parts: Any) -> random.Random:
    """A generator fixed by the input, so a sandbox answer never changes between calls."""
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))  # noqa: S311 - sample data, not security


def days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


def sandbox_metrics(spend_cap_micros: int, *key: Any) -> dict:
    """A day's numbers spending 55-100% of ``spend_cap_micros`` at a 0.30-1.80 cost per click."""
    rng = seeded(*key)
    cost = int(spend_cap_micros * rng.uniform(0.55, 1.0)) // 10_000 * 10_000
    clicks = max(1, cost // rng.randint(300_000, 1_800_000))
    impressions = clicks * rng.randint(8, 30)
    conversions = round(clicks * rng.uniform(0.02, 0.09), 2)
    return {
        "cost_micros": cost,
        "clicks": clicks,
        "impressions": impressions,
        "conversions": conversions,
        "conversions_value": round(conversions * rng.uniform(20, 60), 2),
    }


def sandbox_budgets(amounts: dict[str, int] | None = None) -> list[dict]:
    amounts = amounts or {}
    return [
        {
            "budget_id": budget_id,
            "name": f"{name} budget",
            "amount_micros": amounts.get(budget_id, amount),
            "period": "DAILY",
            "campaign_ids": [campaign_id],
        }
        for campaign_id, name, _status, budget_id, amount in SANDBOX_CAMPAIGNS
    ]


def sandbox_campaign_rows(start: date, end: date) -> list[dict]:
    return [
        {
            "campaign_id": campaign_id,
            "campaign_name": name,
            "status": status,
            "date": day.isoformat(),
            **(sandbox_metrics(amount, campaign_id, day) if status == "ENABLED" else _zero()),
            "budget_id": budget_id,
            "budget_amount_micros": amount,
            "budget_period": "DAILY",
        }
        for day in days(start, end)
        for campaign_id, name, status, budget_id, amount in SANDBOX_CAMPAIGNS
    ]


def _zero() -> dict:
    return {
        "cost_micros": 0,
        "clicks": 0,
        "impressions": 0,
        "conversions": 0.0,
        "conversions_value": 0.0,
    }


def sandbox_ad_group_rows(start: date, end: date) -> list[dict]:
    return [
        {k: v for k, v in row.items() if k != "spend_cap"} for row in _sandbox_groups(start, end)
    ]


def _sandbox_groups(start: date, end: date) -> list[dict]:
    """Ad group rows with the share of the budget each may spend (``spend_cap``)."""
    rows = []
    for day in days(start, end):
        for campaign_id, name, status, budget_id, amount in SANDBOX_CAMPAIGNS:
            groups = SANDBOX_AD_GROUPS[campaign_id]
            for ad_group_id, ad_group_name in groups:
                share = amount // len(groups)
                rows.append(
                    {
                        "campaign_id": campaign_id,
                        "campaign_name": name,
                        "status": status,
                        "date": day.isoformat(),
                        **(
                            sandbox_metrics(share, ad_group_id, day)
                            if status == "ENABLED"
                            else _zero()
                        ),
                        "spend_cap": share,
                        "budget_id": budget_id,
                        "budget_amount_micros": amount,
                        "budget_period": "DAILY",
                        "ad_group_id": ad_group_id,
                        "ad_group_name": ad_group_name,
                    }
                )
    return rows


def sandbox_keyword_rows(start: date, end: date) -> list[dict]:
    rows = []
    for group in _sandbox_groups(start, end):
        keywords = SANDBOX_KEYWORDS[group["ad_group_id"]]
        for keyword_id, text, match in keywords:
            metrics = (
                sandbox_metrics(group["spend_cap"] // len(keywords), keyword_id, group["date"])
                if group["status"] == "ENABLED"
                else _zero()
            )
            rows.append(
                {
                    **{k: v for k, v in group.items() if k != "spend_cap"},
                    **metrics,
                    "keyword_id": keyword_id,
                    "keyword_text": text,
                    "match_type": match,
                }
            )
    return rows


def sandbox_keyword(text: str, *context: Any) -> dict:
    rng = seeded(text.lower(), *context)
    average = rng.choice((10, 30, 70, 140, 260, 590, 1300, 2400, 5400, 9900))
    index = rng.randint(0, 100)
    low = rng.randint(20, 150) * 10_000
    today = date.today().replace(day=1)
    volumes = []
    for back in range(12, 0, -1):
        month = (today.month - back - 1) % 12 + 1
        year = today.year + (today.month - back - 1) // 12
        volumes.append(
            {"year": year, "month": month, "searches": int(average * rng.uniform(0.7, 1.3))}
        )
    return {
        "text": text,
        "avg_monthly_searches": average,
        "competition": "LOW" if index < 34 else "MEDIUM" if index < 67 else "HIGH",
        "competition_index": index,
        "low_top_of_page_bid_micros": low,
        "high_top_of_page_bid_micros": low * rng.randint(2, 5),
        "monthly_search_volumes": volumes,
    }


IDEA_SUFFIXES = ("near me", "best", "price", "online", "reviews", "for beginners", "how to choose")


def sandbox_ideas(keywords: list[str], url: str | None, *context: Any) -> list[dict]:
    seeds = list(keywords) or [re.sub(r"^https?://(www\.)?", "", url or "sandbox").split("/")[0]]
    ideas: list[dict] = []
    for seed in seeds:
        ideas.append(sandbox_keyword(seed, *context))
        for suffix in IDEA_SUFFIXES[: 3 + len(seed) % 4]:
            ideas.append(sandbox_keyword(f"{seed} {suffix}", *context))
    return ideas
