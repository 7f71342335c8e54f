from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
import responses
from django.utils import timezone
from pydantic import ValidationError
from werkzeug import Response

from connectors.providers.google_ads import GoogleAds
from neonhub.core.errors import (
    ConnectorAuth,
    ConnectorRateLimited,
    ConnectorRejected,
    ConnectorUnavailable,
    OutcomeUnknown,
)
from tests.connectors.providers.messaging_helpers import fixture, short_timeouts, wait_for_log

CLIENT_ID = "123456789012-abcdefghijklmnopqrstuvwxyz012345.apps.googleusercontent.com"
CLIENT_SECRET = "GOCSPX-abcdefghijklmnopqrstuvwx"
REFRESH = "1//0gAbCdEfGhIjKlMnOpQrStUvWxYz"
TOKEN = "ya29.a0AfB_byDexampleAccessToken0123456789"
DEV_TOKEN = "Abc123DevToken_xyz"
API = "https://googleads.googleapis.com/v26/customers/1234567890"
TOKEN_URL = "https://oauth2.googleapis.com/token"
json_body = responses.matchers.json_params_matcher


def make(recorder=None, access_token=TOKEN, state=None, **config):
    credentials = GoogleAds.Credentials(
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        refresh_token=REFRESH,
        access_token=access_token,
        developer_token=DEV_TOKEN,
    )
    if state is None and access_token:
        state = {"token_expires_at": (timezone.now() + timedelta(minutes=30)).isoformat()}
    config.setdefault("customer_id", "123-456-7890")
    return GoogleAds(
        credentials=credentials, config=GoogleAds.Config(**config), recorder=recorder, state=state
    )


def run(provider, action, **data):
    return provider.run_action(action, GoogleAds.actions[action].schema(**data))


def ga(name):
    return fixture("google_ads", name)


@pytest.fixture
def mocked():
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        yield rsps


@pytest.fixture
def local(httpserver, recorder):
    return make(recorder, base_url=httpserver.url_for("").rstrip("/"))


# --- the exact requests ---------------------------------------------------------------------


def test_campaign_report_sends_gaql_with_the_headers_and_flattens_the_stream(mocked):
    call = mocked.add(
        responses.POST, f"{API}/googleAds:searchStream", json=ga("search_stream_campaigns.json")
    )

    output = run(
        make(login_customer_id="987-654-3210"),
        "campaign_report",
        start_date="2026-11-30",
        end_date="2026-12-01",
    ).output

    request = call.calls[0].request
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.headers["developer-token"] == DEV_TOKEN
    assert request.headers["login-customer-id"] == "9876543210"
    query = json.loads(request.body)["query"]
    assert "FROM campaign WHERE segments.date BETWEEN '2026-11-30' AND '2026-12-01'" in query
    for field in (
        "metrics.cost_micros",
        "metrics.conversions_value",
        "campaign_budget.amount_micros",
        "campaign_budget.period",
        "customer.currency_code",
    ):
        assert field in query
    assert output["currency"] == "EUR"
    assert output["rows"] == [
        {
            "campaign_id": "17284519301",
            "campaign_name": "Brand - Search",
            "status": "ENABLED",
            "date": "2026-11-30",
            "cost_micros": 48210000,
            "clicks": 132,
            "impressions": 2210,
            "conversions": 17.0,
            "conversions_value": 842.5,
            "budget_id": "11893004512",
            "budget_amount_micros": 50000000,
            "budget_period": "DAILY",
        },
        {
            "campaign_id": "17284519302",
            "campaign_name": "Generic - Coffee beans",
            "status": "PAUSED",
            "date": "2026-11-30",
            "cost_micros": 0,
            "clicks": 0,
            "impressions": 0,
            "conversions": 0.0,
            "conversions_value": 0.0,
            "budget_id": "11893004513",
            "budget_amount_micros": 20000000,
            "budget_period": "DAILY",
        },
        {
            "campaign_id": "17284519301",
            "campaign_name": "Brand - Search",
            "status": "ENABLED",
            "date": "2026-12-01",
            "cost_micros": 49870000,
            "clicks": 141,
            "impressions": 2388,
            "conversions": 18.5,
            "conversions_value": 903.25,
            "budget_id": "11893004512",
            "budget_amount_micros": 50000000,
            "budget_period": "DAILY",
        },
    ]


def test_no_login_customer_id_header_without_a_manager(mocked):
    call = mocked.add(
        responses.POST, f"{API}/googleAds:searchStream", json=ga("search_stream_campaigns.json")
    )

    run(make(), "campaign_report", start_date="2026-11-30", end_date="2026-12-01")

    assert "login-customer-id" not in call.calls[0].request.headers


def test_keyword_report_rows_name_the_keyword_and_its_budget(mocked):
    call = mocked.add(
        responses.POST, f"{API}/googleAds:searchStream", json=ga("search_stream_keywords.json")
    )
    mocked.add(
        responses.POST, f"{API}/googleAds:searchStream", json=ga("search_stream_budgets.json")
    )

    output = run(make(), "keyword_report", start_date="2026-12-01", end_date="2026-12-01").output

    assert "FROM keyword_view" in json.loads(call.calls[0].request.body)["query"]
    assert "FROM campaign " in json.loads(mocked.calls[1].request.body)["query"]
    (row,) = output["rows"]
    assert row["keyword_text"] == "neon coffee" and row["match_type"] == "PHRASE"
    assert row["ad_group_id"] == "140559832211" and row["ad_group_name"] == "Brand terms"
    assert (row["budget_id"], row["budget_amount_micros"], row["budget_period"]) == (
        "11893004512",
        50000000,
        "DAILY",
    )
    assert (row["cost_micros"], row["clicks"], row["conversions"]) == (18330000, 57, 6.0)


def test_search_pages_with_the_token_and_sends_no_page_size(mocked):
    first = mocked.add(responses.POST, f"{API}/googleAds:search", json=ga("search_page_1.json"))
    query = "SELECT campaign.id, campaign.name FROM campaign"

    page = run(make(), "search", query=query).output
    assert page["total_results_count"] == 2
    assert page["rows"][0]["campaign"]["id"] == "17284519301"
    token = page["next_page_token"]
    assert token.startswith("CPii5a")

    mocked.remove(first)
    second = mocked.add(
        responses.POST,
        f"{API}/googleAds:search",
        json=ga("search_page_2.json"),
        match=[
            json_body(
                {
                    "query": query,
                    "pageToken": token,
                    "searchSettings": {"returnTotalResultsCount": True},
                }
            )
        ],
    )
    page = run(make(), "search", query=query, page_token=token).output

    assert page["next_page_token"] is None
    assert page["rows"][0]["campaign"]["id"] == "17284519302"
    assert "pageSize" not in json.loads(first.calls[0].request.body)
    assert len(second.calls) == 1


def test_search_stream_joins_the_batches(mocked):
    mocked.add(
        responses.POST, f"{API}/googleAds:searchStream", json=ga("search_stream_campaigns.json")
    )

    rows = run(make(), "search_stream", query="SELECT campaign.id FROM campaign").output["rows"]

    assert [r["segments"]["date"] for r in rows] == ["2026-11-30", "2026-11-30", "2026-12-01"]


def test_campaign_budgets_group_the_campaigns_sharing_one(mocked):
    mocked.add(
        responses.POST, f"{API}/googleAds:searchStream", json=ga("search_stream_budgets.json")
    )

    assert run(make(), "campaign_budgets").output == {
        "budgets": [
            {
                "budget_id": "11893004512",
                "name": "Shared brand budget",
                "amount_micros": 50000000,
                "period": "DAILY",
                "campaign_ids": ["17284519301", "17284519303"],
            },
            {
                "budget_id": "11893004513",
                "name": "Generic budget",
                "amount_micros": 20000000,
                "period": "DAILY",
                "campaign_ids": ["17284519302"],
            },
        ]
    }


def test_budget_update_sends_one_update_operation_with_its_mask(mocked):
    call = mocked.add(
        responses.POST,
        f"{API}/campaignBudgets:mutate",
        json=ga("mutate_budget.json"),
        match=[
            json_body(
                {
                    "operations": [
                        {
                            "updateMask": "amountMicros",
                            "update": {
                                "resourceName": "customers/1234567890/campaignBudgets/11893004512",
                                "amountMicros": "65000000",
                            },
                        }
                    ]
                }
            )
        ],
    )

    result = run(make(), "campaign_budget_update", budget_id="11893004512", amount_micros=65000000)

    assert result.output == {
        "budget_id": "11893004512",
        "amount_micros": 65000000,
        "resource_name": "customers/1234567890/campaignBudgets/11893004512",
        "validate_only": False,
    }
    assert result.provider_id == "customers/1234567890/campaignBudgets/11893004512"
    assert call.calls[0].request.headers["developer-token"] == DEV_TOKEN


def test_budget_update_can_be_validated_only(mocked):
    mocked.add(
        responses.POST,
        f"{API}/campaignBudgets:mutate",
        json={},
        match=[responses.matchers.json_params_matcher({"validateOnly": True}, strict_match=False)],
    )

    result = run(
        make(),
        "campaign_budget_update",
        budget_id="11893004512",
        amount_micros=65000000,
        validate_only=True,
    )

    assert result.output["validate_only"] is True and result.provider_id == ""


def test_keyword_ideas_send_the_seed_and_flatten_the_metrics(mocked):
    mocked.add(
        responses.POST,
        f"{API}:generateKeywordIdeas",
        json=ga("keyword_ideas.json"),
        match=[
            json_body(
                {
                    "language": "languageConstants/1000",
                    "geoTargetConstants": ["geoTargetConstants/2826"],
                    "keywordPlanNetwork": "GOOGLE_SEARCH",
                    "keywordAndUrlSeed": {
                        "url": "https://neon.example/coffee",
                        "keywords": ["coffee beans"],
                    },
                }
            )
        ],
    )

    keywords = run(
        make(),
        "keyword_ideas",
        keywords=["coffee beans", " coffee beans "],
        url="https://neon.example/coffee",
        geo_target_ids=["2826"],
    ).output["keywords"]

    assert keywords[0] == {
        "text": "coffee beans",
        "avg_monthly_searches": 22200,
        "competition": "HIGH",
        "competition_index": 78,
        "low_top_of_page_bid_micros": 410000,
        "high_top_of_page_bid_micros": 1930000,
        "monthly_search_volumes": [
            {"year": 2026, "month": 11, "searches": 27100},
            {"year": 2026, "month": 10, "searches": 22200},
        ],
    }
    assert keywords[1]["low_top_of_page_bid_micros"] is None
    assert keywords[2] == {
        "text": "coffee beans wholesale uk",
        "avg_monthly_searches": None,
        "competition": None,
        "competition_index": None,
        "low_top_of_page_bid_micros": None,
        "high_top_of_page_bid_micros": None,
        "monthly_search_volumes": [],
    }


@pytest.mark.parametrize(
    ("data", "seed"),
    [
        ({"keywords": ["espresso"]}, {"keywordSeed": {"keywords": ["espresso"]}}),
        ({"url": "https://neon.example/"}, {"urlSeed": {"url": "https://neon.example/"}}),
    ],
)
def test_keyword_ideas_use_the_seed_given(mocked, data, seed):
    mocked.add(
        responses.POST,
        f"{API}:generateKeywordIdeas",
        json={"results": []},
        match=[responses.matchers.json_params_matcher(seed, strict_match=False)],
    )

    assert run(make(), "keyword_ideas", **data).output == {"keywords": []}


def test_historical_metrics_flatten_to_the_contract(mocked):
    mocked.add(
        responses.POST,
        f"{API}:generateKeywordHistoricalMetrics",
        json=ga("keyword_historical_metrics.json"),
        match=[
            json_body(
                {
                    "keywords": ["burr grinder"],
                    "language": "languageConstants/1000",
                    "geoTargetConstants": [],
                    "keywordPlanNetwork": "GOOGLE_SEARCH",
                }
            )
        ],
    )

    (keyword,) = run(make(), "keyword_historical_metrics", keywords=["burr grinder"]).output[
        "keywords"
    ]

    assert keyword["avg_monthly_searches"] == 12100 and keyword["competition"] == "MEDIUM"
    assert keyword["monthly_search_volumes"][0] == {"year": 2025, "month": 12, "searches": 14800}


# --- tokens ---------------------------------------------------------------------------------


def test_an_expired_token_is_renewed_first(mocked):
    mocked.add(responses.POST, TOKEN_URL, json=ga("token.json"))
    call = mocked.add(responses.POST, f"{API}/googleAds:searchStream", json=[])
    provider = make(access_token=None)

    run(provider, "campaign_budgets")

    assert call.calls[0].request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert provider.updated_credentials == {"access_token": TOKEN}


def test_a_revoked_refresh_token_is_named_and_not_retried(mocked):
    mocked.add(responses.POST, TOKEN_URL, json=ga("token_invalid_grant.json"), status=400)

    with pytest.raises(ConnectorAuth) as caught:
        run(make(access_token=None), "campaign_budgets")

    assert caught.value.provider_code == "invalid_grant"
    assert REFRESH not in caught.value.message and CLIENT_SECRET not in caught.value.message
    assert len(mocked.calls) == 1


# --- errors ---------------------------------------------------------------------------------


def test_an_invalid_developer_token_is_named(mocked):
    mocked.add(
        responses.POST,
        f"{API}/googleAds:searchStream",
        json=ga("error_developer_token.json"),
        status=401,
    )

    with pytest.raises(ConnectorAuth) as caught:
        run(make(), "campaign_budgets")

    assert caught.value.provider_code == "authenticationError.DEVELOPER_TOKEN_INVALID"
    assert "developer token is not valid" in caught.value.message
    assert DEV_TOKEN not in caught.value.message
    assert caught.value.details[0]["request_id"] == "aZ4kQ7pLmX2n9bVcR1tYsw"
    assert len(mocked.calls) == 1  # a new OAuth token would not help


def test_an_expired_access_token_is_renewed_once_on_a_401(mocked):
    mocked.add(
        responses.POST,
        f"{API}/googleAds:searchStream",
        json={
            "error": {
                "code": 401,
                "message": "Request had invalid authentication credentials.",
                "status": "UNAUTHENTICATED",
                "details": [
                    {
                        "@type": "type.googleapis.com/google.ads.googleads.v26.errors."
                        "GoogleAdsFailure",
                        "errors": [
                            {
                                "errorCode": {"authenticationError": "OAUTH_TOKEN_EXPIRED"},
                                "message": "Oauth token in the header has expired.",
                            }
                        ],
                        "requestId": "Zt8rQ2mVbN4c1xPaL7wKse",
                    }
                ],
            }
        },
        status=401,
    )
    mocked.add(responses.POST, TOKEN_URL, json=ga("token.json"))
    mocked.add(
        responses.POST, f"{API}/googleAds:searchStream", json=ga("search_stream_budgets.json")
    )

    output = run(make(access_token="ya29.expired"), "campaign_budgets").output

    assert len(output["budgets"]) == 2
    assert mocked.calls[2].request.headers["Authorization"] == f"Bearer {TOKEN}"


def test_a_missing_manager_header_is_an_authorization_error(mocked):
    mocked.add(
        responses.POST, f"{API}/googleAds:searchStream", json=ga("error_auth.json"), status=403
    )

    with pytest.raises(ConnectorAuth) as caught:
        run(make(), "campaign_report", start_date="2026-12-01", end_date="2026-12-01")

    assert caught.value.provider_code == "authorizationError.USER_PERMISSION_DENIED"
    assert len(mocked.calls) == 1


def test_a_rejected_budget_names_the_field_and_keeps_the_request_id(mocked):
    mocked.add(
        responses.POST, f"{API}/campaignBudgets:mutate", json=ga("error_field.json"), status=400
    )

    with pytest.raises(ConnectorRejected) as caught:
        run(make(), "campaign_budget_update", budget_id="11893004512", amount_micros=1)

    error = caught.value
    assert error.provider_code == "rangeError.TOO_LOW"
    assert "operations[0].update.amount_micros" in error.message
    assert error.details == [
        {
            "code": "rangeError.TOO_LOW",
            "message": "Too low.",
            "field": "operations[0].update.amount_micros",
            "request_id": "gB8kV3nXqLw0c5PzA1tYmQ",
        }
    ]
    assert len(mocked.calls) == 1


def test_a_query_error_inside_the_stream_array_is_rejected(mocked):
    mocked.add(
        responses.POST,
        f"{API}/googleAds:searchStream",
        json=ga("error_query_stream.json"),
        status=400,
    )

    with pytest.raises(ConnectorRejected, match="campaign.nmae") as caught:
        run(make(), "search_stream", query="SELECT campaign.nmae FROM campaign")

    assert caught.value.provider_code == "queryError.UNRECOGNIZED_FIELD"


def test_a_quota_error_waits_the_delay_google_gives(mocked):
    # 30 s is longer than the seam sleeps within a request: the run is rescheduled instead.
    mocked.add(
        responses.POST, f"{API}/googleAds:searchStream", json=ga("error_quota.json"), status=429
    )

    with pytest.raises(ConnectorRateLimited) as caught:
        run(make(), "campaign_budgets")

    assert caught.value.provider_code == "quotaError.RESOURCE_TEMPORARILY_EXHAUSTED"
    assert caught.value.retry_after == 30.0
    assert len(mocked.calls) == 1


def test_an_answer_without_a_google_error_is_classified_by_status(mocked):
    mocked.add(responses.POST, f"{API}/googleAds:searchStream", body="<html>", status=404)

    with pytest.raises(ConnectorRejected, match="HTTP 404"):
        run(make(), "campaign_budgets")


def test_a_report_is_retried_after_an_internal_error(httpserver, local):
    path = "/v26/customers/1234567890/googleAds:searchStream"
    httpserver.expect_ordered_request(path).respond_with_json(ga("error_internal.json"), status=503)
    httpserver.expect_ordered_request(path).respond_with_json(ga("search_stream_campaigns.json"))

    output = run(local, "campaign_report", start_date="2026-11-30", end_date="2026-12-01").output

    assert len(output["rows"]) == 3
    assert len(httpserver.log) == 2


def test_a_budget_update_is_not_repeated_after_an_internal_error(httpserver, local):
    httpserver.expect_request("/v26/customers/1234567890/campaignBudgets:mutate").respond_with_json(
        ga("error_internal.json"), status=503
    )

    with pytest.raises(ConnectorUnavailable) as caught:
        run(local, "campaign_budget_update", budget_id="11893004512", amount_micros=65000000)

    assert caught.value.provider_code == "internalError.INTERNAL_ERROR"
    assert wait_for_log(httpserver, 1) == 1


def _slow(seconds, payload):
    def handler(request):
        time.sleep(seconds)
        return Response(json.dumps(payload), content_type="application/json")

    return handler


def test_a_budget_update_timeout_is_an_unknown_outcome_sent_once(httpserver, monkeypatch):
    short_timeouts(monkeypatch, GoogleAds)
    httpserver.expect_request(
        "/v26/customers/1234567890/campaignBudgets:mutate"
    ).respond_with_handler(_slow(0.8, ga("mutate_budget.json")))

    with pytest.raises(OutcomeUnknown):
        run(
            make(base_url=httpserver.url_for("").rstrip("/")),
            "campaign_budget_update",
            budget_id="11893004512",
            amount_micros=65000000,
        )

    assert wait_for_log(httpserver, 1) == 1


def test_a_report_timeout_is_unavailable_after_the_retries(httpserver, monkeypatch):
    short_timeouts(monkeypatch, GoogleAds, timeout=(1.0, 0.2))
    httpserver.expect_request(
        "/v26/customers/1234567890/googleAds:searchStream"
    ).respond_with_handler(_slow(0.3, ga("search_stream_campaigns.json")))

    with pytest.raises(ConnectorUnavailable):
        run(
            make(base_url=httpserver.url_for("").rstrip("/")),
            "campaign_report",
            start_date="2026-11-30",
            end_date="2026-12-01",
        )

    assert wait_for_log(httpserver, 3) == 3


# --- inputs, test and sandbox ---------------------------------------------------------------


def test_customer_ids_are_stored_as_digits_and_checked():
    assert GoogleAds.Config(customer_id="123-456-7890").customer_id == "1234567890"
    with pytest.raises(ValidationError, match="10 digits"):
        GoogleAds.Config(customer_id="123-456")


@pytest.mark.parametrize(
    ("action", "data"),
    [
        ("campaign_report", {"start_date": "2026-12-02", "end_date": "2026-12-01"}),
        ("campaign_report", {"start_date": "2024-01-01", "end_date": "2026-12-01"}),
        ("keyword_ideas", {}),
        ("keyword_historical_metrics", {"keywords": []}),
        ("campaign_budget_update", {"budget_id": "x1", "amount_micros": 5}),
        ("campaign_budget_update", {"budget_id": "1", "amount_micros": 0}),
    ],
)
def test_bad_inputs_are_refused_before_calling(action, data):
    with pytest.raises(ValidationError):
        GoogleAds.actions[action].schema(**data)


def test_the_connection_test_names_the_account(mocked):
    call = mocked.add(
        responses.POST, f"{API}/googleAds:searchStream", json=ga("search_stream_customer.json")
    )

    result = make().test()

    assert result.ok and "Neon Coffee Roasters" in result.message
    assert "FROM customer" in json.loads(call.calls[0].request.body)["query"]


def test_the_connection_test_reports_an_invalid_developer_token(mocked):
    mocked.add(
        responses.POST,
        f"{API}/googleAds:searchStream",
        json=ga("error_developer_token.json"),
        status=401,
    )

    result = make().test()

    assert not result.ok and "developer token" in result.message


def test_the_sandbox_answers_the_contract_shapes_and_stays_the_same():
    provider = make()
    schema = GoogleAds.actions["campaign_report"].schema
    data = schema(start_date="2026-11-01", end_date="2026-11-07")

    first = provider.sandbox("campaign_report", data).output
    assert first == provider.sandbox("campaign_report", data).output
    assert first["currency"] == "EUR" and len(first["rows"]) == 7 * 3
    assert all(row["campaign_name"].startswith("Sandbox") for row in first["rows"])
    for row in first["rows"]:
        if row["budget_amount_micros"]:
            assert row["cost_micros"] <= row["budget_amount_micros"]

    keywords = provider.sandbox(
        "keyword_historical_metrics",
        GoogleAds.actions["keyword_historical_metrics"].schema(keywords=["coffee", "tea"]),
    ).output["keywords"]
    assert [k["text"] for k in keywords] == ["coffee", "tea"]
    assert keywords[0]["competition"] in ("LOW", "MEDIUM", "HIGH")
    assert len(keywords[0]["monthly_search_volumes"]) == 12

    ideas = provider.sandbox(
        "keyword_ideas", GoogleAds.actions["keyword_ideas"].schema(keywords=["coffee"])
    ).output["keywords"]
    assert ideas[0]["text"] == "coffee" and len(ideas) > 1

    budgets = provider.sandbox("campaign_budgets", GoogleAds.actions["campaign_budgets"].schema())
    assert {"budget_id", "name", "amount_micros", "period", "campaign_ids"} <= set(
        budgets.output["budgets"][0]
    )


# --- through the connector service ----------------------------------------------------------


def test_a_sandbox_connector_answers_through_the_normal_path(org, steps):
    from connectors import services
    from connectors.models import OutboundMessage

    connector = services.connector_create(
        organization=org, provider="google_ads", name="Ads (try)", mode="sandbox"
    )
    report = services.connector_execute(
        connector=connector,
        action="campaign_report",
        input={"start_date": "2026-11-01", "end_date": "2026-11-02"},
        recorder=steps,
    )
    assert report.output["currency"] == "EUR" and len(report.output["rows"]) == 6

    update = services.connector_execute(
        connector=connector,
        action="campaign_budget_update",
        input={"budget_id": "800000001", "amount_micros": 30000000},
        recorder=steps,
        idempotency_key="ads-budget-1",
    )
    assert update.output["amount_micros"] == 30000000
    row = OutboundMessage.objects.get(organization=org)
    assert (row.status, row.sandbox, row.target) == ("sent", True, "budget 800000001")


def test_pasted_credentials_keep_the_customer_id_as_digits(org):
    from connectors import services

    connector = services.connector_create(
        organization=org,
        provider="google_ads",
        name="Ads",
        credentials={
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "refresh_token": REFRESH,
            "developer_token": DEV_TOKEN,
        },
        config={"customer_id": "123-456-7890", "login_customer_id": "987-654-3210"},
    )

    assert connector.config["customer_id"] == "1234567890"
    assert connector.config["login_customer_id"] == "9876543210"
    assert DEV_TOKEN not in connector.credentials


def test_an_error_at_the_end_of_a_stream_is_not_taken_for_rows(mocked):
    batches = ga("search_stream_campaigns.json")[:1] + [ga("error_internal.json")]
    mocked.add(responses.POST, f"{API}/googleAds:searchStream", json=batches)

    with pytest.raises(ConnectorUnavailable) as caught:
        run(make(), "campaign_report", start_date="2026-11-30", end_date="2026-12-01")

    assert caught.value.provider_code == "internalError.INTERNAL_ERROR"
    assert caught.value.details[0]["request_id"] == "Nw5eR2yHcT8q0aLmK3pXvd"


def test_the_daily_operations_budget_counts_the_reports_that_read_twice():
    (budget,) = GoogleAds.budgets
    assert (budget.limit, budget.per_seconds) == (15_000, 86400)
    assert budget.cost("keyword_report", {}) == 2 and budget.cost("campaign_report", {}) == 1
