from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import timedelta
from urllib.parse import parse_qs, parse_qsl, urlsplit

import pytest
import responses
from django.utils import timezone
from pydantic import ValidationError
from werkzeug import Response

from connectors.providers.facebook_page import PAGE_METRICS, POST_METRICS, FacebookPage
from connectors.providers.meta_common import DEFAULT_API_VERSION
from neonhub.core.errors import (
    ConnectorAuth,
    ConnectorRateLimited,
    ConnectorRejected,
    ConnectorUnavailable,
    OutcomeUnknown,
)
from tests.connectors.providers.messaging_helpers import fixture, short_timeouts, wait_for_log

PAGE_ID = "104563452346"
POST_ID = f"{PAGE_ID}_122104567890123456"
TOKEN = "EAAGpagetoken0123456789abcdef"
GRAPH = f"https://graph.facebook.com/{DEFAULT_API_VERSION}"


def make(recorder=None, base_url=None, app_secret=None, **config):
    credentials = {"page_access_token": TOKEN}
    if app_secret:
        credentials["app_secret"] = app_secret
    return FacebookPage(
        credentials=FacebookPage.Credentials(**credentials),
        config=FacebookPage.Config(page_id=PAGE_ID, base_url=base_url, **config),
        recorder=recorder,
    )


def run(provider, action, **data):
    return provider.run_action(action, FacebookPage.actions[action].schema(**data))


def fb(name):
    return fixture("facebook_page", name)


@pytest.fixture
def mocked():
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        yield rsps


@pytest.fixture
def local(httpserver, recorder):
    return make(recorder, base_url=httpserver.url_for("").rstrip("/"))


def add_permalink(mocked):
    mocked.add(
        responses.GET,
        f"{GRAPH}/{POST_ID}",
        json=fb("post_permalink.json"),
        match=[responses.matchers.query_param_matcher({"fields": "permalink_url"})],
    )


# --- the exact request ---------------------------------------------------------------------


def test_create_post_posts_the_documented_form_to_the_page_feed(mocked, recorder):
    expected = fb("request_create_post.json")
    mocked.add(responses.POST, f"{GRAPH}/{PAGE_ID}/feed", json=fb("post_created.json"))
    add_permalink(mocked)

    result = run(
        make(recorder),
        "create_post",
        message=expected["form"]["message"],
        link=expected["form"]["link"],
    )

    request = mocked.calls[0].request
    assert (request.method, request.url) == (expected["method"], expected["url"])
    for name, value in expected["headers"].items():
        assert request.headers[name] == value
    assert dict(parse_qsl(request.body)) == expected["form"]
    assert TOKEN not in request.url  # the token travels in a header, never in an address
    assert result.provider_id == POST_ID
    assert result.output == {
        "post_id": POST_ID,
        "permalink": fb("post_permalink.json")["permalink_url"],
        "published": True,
        "scheduled_publish_time": None,
    }
    assert [s.name for s in recorder.steps] == [
        "facebook_page.create_post",
        "facebook_page.permalink",
    ]
    assert recorder.steps[0].detail == {"method": "POST", "url": expected["url"]}


def test_app_secret_adds_the_appsecret_proof_of_the_token(mocked):
    proof = hmac.new(b"app-secret-42", TOKEN.encode(), hashlib.sha256).hexdigest()
    mocked.add(
        responses.POST,
        f"{GRAPH}/{PAGE_ID}/feed",
        json=fb("post_created.json"),
        match=[responses.matchers.query_param_matcher({"appsecret_proof": proof})],
    )
    mocked.add(
        responses.GET,
        f"{GRAPH}/{POST_ID}",
        json=fb("post_permalink.json"),
        match=[
            responses.matchers.query_param_matcher(
                {"fields": "permalink_url", "appsecret_proof": proof}
            )
        ],
    )

    run(make(app_secret="app-secret-42"), "create_post", message="Hello")


def test_scheduled_post_is_sent_unpublished_with_a_unix_time(mocked):
    when = (timezone.now() + timedelta(days=2)).replace(microsecond=0)
    mocked.add(
        responses.POST,
        f"{GRAPH}/{PAGE_ID}/feed",
        json=fb("post_created.json"),
        match=[
            responses.matchers.urlencoded_params_matcher(
                {
                    "message": "Holiday hours",
                    "published": "false",
                    "scheduled_publish_time": str(int(when.timestamp())),
                }
            )
        ],
    )
    add_permalink(mocked)

    result = run(
        make(), "create_post", message="Holiday hours", scheduled_publish_time=when.isoformat()
    )

    assert result.output["published"] is False
    assert result.output["scheduled_publish_time"] == when.isoformat()


@pytest.mark.parametrize("delta", [timedelta(minutes=5), timedelta(days=31), timedelta(hours=-1)])
def test_schedule_outside_ten_minutes_to_thirty_days_is_refused(delta):
    with pytest.raises(ValidationError, match="10 minutes to 30 days"):
        FacebookPage.actions["create_post"].schema(
            message="x", scheduled_publish_time=timezone.now() + delta
        )


def test_schedule_without_time_zone_is_refused():
    with pytest.raises(ValidationError, match="time zone"):
        FacebookPage.actions["create_post"].schema(
            message="x", scheduled_publish_time="2030-01-01T10:00:00"
        )


def test_a_post_needs_a_message_or_a_link():
    with pytest.raises(ValidationError, match="message, a link or both"):
        FacebookPage.actions["create_post"].schema(published=True)


def test_a_failed_permalink_read_does_not_fail_the_published_post(mocked, recorder):
    mocked.add(responses.POST, f"{GRAPH}/{PAGE_ID}/feed", json=fb("post_created.json"))
    mocked.add(responses.GET, f"{GRAPH}/{POST_ID}", json=fb("error_2_transient.json"), status=500)

    result = run(make(recorder), "create_post", message="Hello")

    assert result.output["permalink"] == f"https://www.facebook.com/{POST_ID}"
    assert recorder.steps[1].provider_error_code == "2"


def test_post_insights_asks_for_current_metrics_and_keeps_the_latest_values(mocked):
    metrics = [
        "post_media_view",
        "post_total_media_view_unique",
        "post_clicks",
        "post_reactions_by_type_total",
    ]
    mocked.add(
        responses.GET,
        f"{GRAPH}/{POST_ID}/insights",
        json=fb("post_insights.json"),
        match=[
            responses.matchers.query_param_matcher({"metric": ",".join(metrics)}),
            responses.matchers.header_matcher({"Authorization": f"Bearer {TOKEN}"}),
        ],
    )

    result = run(make(), "get_post_insights", post_id=POST_ID)

    assert result.output == {
        "post_id": POST_ID,
        "metrics": {
            "post_media_view": 1842,
            "post_total_media_view_unique": 1310,
            "post_clicks": 97,
            "post_reactions_by_type_total": {"like": 41, "love": 12, "wow": 2},
        },
    }


def test_page_insights_sends_period_and_range_and_returns_the_series(mocked):
    since = timezone.now() - timedelta(days=3)
    until = timezone.now()
    mocked.add(
        responses.GET,
        f"{GRAPH}/{PAGE_ID}/insights",
        json=fb("page_insights.json"),
        match=[
            responses.matchers.query_param_matcher(
                {
                    "metric": "page_media_view,page_post_engagements,page_daily_follows_unique",
                    "period": "day",
                    "since": str(int(since.timestamp())),
                    "until": str(int(until.timestamp())),
                }
            )
        ],
    )

    result = run(make(), "get_page_insights", since=since, until=until)

    assert result.output["metrics"] == {
        "page_media_view": 634,
        "page_post_engagements": 71,
        "page_daily_follows_unique": 5,
    }
    assert result.output["series"]["page_media_view"][0] == {
        "end_time": "2026-11-21T08:00:00+0000",
        "value": 512,
    }


@pytest.mark.parametrize(
    ("action", "metric"),
    [
        ("get_post_insights", "post_impressions"),  # retired November 2025
        ("get_post_insights", "post_impressions_unique"),  # retired with v26.0
        ("get_page_insights", "page_fans"),
        ("get_page_insights", "page_impressions_unique"),
    ],
)
def test_retired_metrics_are_refused_naming_the_metrics_field(action, metric):
    with pytest.raises(ValidationError) as caught:
        FacebookPage.actions[action].schema(
            post_id=POST_ID, metrics=[metric]
        ) if action == "get_post_insights" else FacebookPage.actions[action].schema(
            metrics=[metric]
        )
    error = caught.value.errors()[0]
    assert error["loc"] == ("metrics",)
    assert metric in error["msg"]


def test_known_metric_lists_hold_no_retired_names():
    retired = {
        "page_impressions",
        "page_impressions_unique",
        "page_fans",
        "page_engaged_users",
        "post_impressions",
        "post_impressions_unique",
        "post_engaged_users",
    }
    assert not retired & (PAGE_METRICS | POST_METRICS)


def test_page_insights_range_is_at_most_ninety_days():
    with pytest.raises(ValidationError, match="90 days"):
        FacebookPage.actions["get_page_insights"].schema(
            since=timezone.now() - timedelta(days=100), until=timezone.now()
        )


# --- transient failures, retries and timeouts ------------------------------------------------


def test_insights_read_is_retried_after_a_503(httpserver, local, recorder):
    path = f"/{DEFAULT_API_VERSION}/{POST_ID}/insights"
    httpserver.expect_ordered_request(path).respond_with_data("Service Unavailable", status=503)
    httpserver.expect_ordered_request(path).respond_with_json(fb("post_insights.json"))

    result = run(local, "get_post_insights", post_id=POST_ID, metrics=["post_clicks"])

    assert result.output["metrics"]["post_clicks"] == 97
    assert len(httpserver.log) == 2
    assert len(recorder.steps) == 1


def test_create_post_is_not_repeated_after_a_503(httpserver, local):
    httpserver.expect_request(
        f"/{DEFAULT_API_VERSION}/{PAGE_ID}/feed", method="POST"
    ).respond_with_data("Service Unavailable", status=503)

    with pytest.raises(ConnectorUnavailable, match="HTTP 503"):
        run(local, "create_post", message="Hello")

    assert len(httpserver.log) == 1


def test_a_transient_graph_error_is_unavailable(mocked):
    mocked.add(
        responses.POST, f"{GRAPH}/{PAGE_ID}/feed", json=fb("error_2_transient.json"), status=500
    )

    with pytest.raises(ConnectorUnavailable) as caught:
        run(make(), "create_post", message="Hello")

    assert caught.value.provider_code == "2"
    assert len(mocked.calls) == 1


def test_page_throttling_is_rate_limited_with_the_business_use_case_wait(mocked):
    usage = {
        PAGE_ID: [
            {
                "type": "pages",
                "call_count": 100,
                "total_cputime": 34,
                "total_time": 38,
                "estimated_time_to_regain_access": 7,
            }
        ]
    }
    mocked.add(
        responses.GET,
        f"{GRAPH}/{POST_ID}/insights",
        json=fb("error_32_page_throttled.json"),
        status=400,
        headers={"X-Business-Use-Case-Usage": json.dumps(usage)},
    )

    with pytest.raises(ConnectorRateLimited) as caught:
        run(make(), "get_post_insights", post_id=POST_ID)

    assert (caught.value.provider_code, caught.value.retry_after) == ("32", 420.0)


def test_throttling_without_a_usage_header_waits_a_minute(mocked):
    mocked.add(
        responses.GET,
        f"{GRAPH}/{POST_ID}/insights",
        json=fb("error_32_page_throttled.json"),
        status=400,
        headers={"X-Business-Use-Case-Usage": "not json"},
    )

    with pytest.raises(ConnectorRateLimited) as caught:
        run(make(), "get_post_insights", post_id=POST_ID)

    assert caught.value.retry_after == 60.0


def _slow(seconds, payload):
    def handler(request):
        time.sleep(seconds)
        return Response(json.dumps(payload), content_type="application/json")

    return handler


def test_create_post_timeout_is_an_unknown_outcome_and_not_repeated(
    httpserver, monkeypatch, recorder
):
    short_timeouts(monkeypatch, FacebookPage)
    httpserver.expect_request(f"/{DEFAULT_API_VERSION}/{PAGE_ID}/feed").respond_with_handler(
        _slow(0.8, fb("post_created.json"))
    )

    with pytest.raises(OutcomeUnknown):
        run(
            make(recorder, base_url=httpserver.url_for("").rstrip("/")),
            "create_post",
            message="Hello",
        )

    assert wait_for_log(httpserver, 1) == 1


def test_insights_timeout_is_unavailable_after_the_retries(httpserver, monkeypatch):
    short_timeouts(monkeypatch, FacebookPage, timeout=(1.0, 0.2))
    httpserver.expect_request(f"/{DEFAULT_API_VERSION}/{POST_ID}/insights").respond_with_handler(
        _slow(0.3, fb("post_insights.json"))
    )

    with pytest.raises(ConnectorUnavailable):
        run(make(base_url=httpserver.url_for("").rstrip("/")), "get_post_insights", post_id=POST_ID)

    assert wait_for_log(httpserver, 3) == 3


# --- permanent failures and credentials --------------------------------------------------------


def test_expired_token_is_an_auth_error_after_one_call(mocked, recorder):
    mocked.add(
        responses.POST, f"{GRAPH}/{PAGE_ID}/feed", json=fb("error_190_expired.json"), status=400
    )

    with pytest.raises(ConnectorAuth) as caught:
        run(make(recorder), "create_post", message="Hello")

    assert len(mocked.calls) == 1
    error = caught.value
    assert (error.code, error.provider_code, error.http_status) == (
        "CONNECTOR_AUTH",
        "190/463",
        400,
    )
    assert "access token is expired, revoked or invalid" in error.message
    assert (error.provider, error.action) == ("facebook_page", "create_post")
    assert not error.transient
    assert recorder.steps[0].provider_error_code == "190/463"


def test_missing_permission_is_an_auth_error(mocked):
    mocked.add(
        responses.POST, f"{GRAPH}/{PAGE_ID}/feed", json=fb("error_200_permission.json"), status=403
    )

    with pytest.raises(ConnectorAuth, match="permission missing"):
        run(make(), "create_post", message="Hello")


def test_an_error_inside_a_200_answer_is_classified(mocked):
    mocked.add(
        responses.POST, f"{GRAPH}/{PAGE_ID}/feed", json=fb("error_190_expired.json"), status=200
    )

    with pytest.raises(ConnectorAuth):
        run(make(), "create_post", message="Hello")


@pytest.mark.parametrize(
    ("name", "code"),
    [("error_100_invalid_param.json", "100"), ("error_368_blocked.json", "368/1390008")],
)
def test_invalid_parameter_and_policy_block_are_rejected_once(mocked, name, code):
    mocked.add(responses.POST, f"{GRAPH}/{PAGE_ID}/feed", json=fb(name), status=400)

    with pytest.raises(ConnectorRejected) as caught:
        run(make(), "create_post", message="Hello", link="https://acme.example/menu")

    assert caught.value.provider_code == code
    assert not caught.value.transient
    assert len(mocked.calls) == 1


def test_a_token_quoted_in_an_error_message_is_scrubbed(mocked):
    body = {
        "error": {
            "message": f"Invalid OAuth access token - Cannot parse access token {TOKEN}",
            "type": "OAuthException",
            "code": 190,
            "fbtrace_id": "X",
        }
    }
    mocked.add(responses.POST, f"{GRAPH}/{PAGE_ID}/feed", json=body, status=400)

    with pytest.raises(ConnectorAuth) as caught:
        run(make(), "create_post", message="Hello")

    assert TOKEN not in caught.value.message and TOKEN not in str(caught.value)
    assert len(caught.value.message) <= 200


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        ("<html>oops</html>", 200, ConnectorUnavailable),
        ("[1, 2]", 200, ConnectorUnavailable),
        ("<html>bad gateway</html>", 502, ConnectorUnavailable),
        ("<html>gone</html>", 404, ConnectorRejected),
    ],
)
def test_answers_that_are_not_graph_json_are_classified(mocked, body, status, error):
    mocked.add(responses.GET, f"{GRAPH}/{POST_ID}/insights", body=body, status=status)

    with pytest.raises(error):
        run(make(), "get_post_insights", post_id=POST_ID)


def test_credentials_and_config_fields_are_named():
    with pytest.raises(ValidationError) as caught:
        FacebookPage.Credentials()
    assert caught.value.errors()[0]["loc"] == ("page_access_token",)
    with pytest.raises(ValidationError) as caught:
        FacebookPage.Config(page_id="acme-coffee")
    assert caught.value.errors()[0]["loc"] == ("page_id",)
    with pytest.raises(ValidationError) as caught:
        FacebookPage.Config(page_id=PAGE_ID, api_version="23")
    assert caught.value.errors()[0]["loc"] == ("api_version",)


def test_only_the_page_id_is_required_not_an_ad_account():
    assert FacebookPage.Config(page_id=PAGE_ID).api_version == DEFAULT_API_VERSION
    assert set(FacebookPage.Config.model_fields) == {"base_url", "api_version", "page_id"}


def test_token_is_never_shown():
    credentials = FacebookPage.Credentials(page_access_token=TOKEN, app_secret="app-secret-42")
    assert TOKEN not in repr(credentials) and "app-secret-42" not in credentials.model_dump_json()


def test_action_flags():
    assert (
        FacebookPage.actions["create_post"].side_effect
        and not FacebookPage.actions["create_post"].safe_to_repeat
    )
    assert FacebookPage.actions["get_post_insights"].safe_to_repeat
    assert FacebookPage.actions["get_page_insights"].safe_to_repeat


def test_api_version_can_be_pinned(mocked):
    mocked.add(
        responses.GET,
        f"https://graph.facebook.com/v25.0/{POST_ID}/insights",
        json=fb("post_insights.json"),
    )

    run(make(api_version="v25.0"), "get_post_insights", post_id=POST_ID)


# --- connection test and sandbox ----------------------------------------------------------------


def test_connection_test_confirms_a_page_token(mocked):
    mocked.add(
        responses.GET,
        f"{GRAPH}/{PAGE_ID}",
        json=fb("page.json"),
        match=[responses.matchers.query_param_matcher({"fields": "id,name"})],
    )
    mocked.add(
        responses.GET,
        f"{GRAPH}/me",
        json=fb("me_page_token.json"),
        match=[responses.matchers.query_param_matcher({"fields": "id"})],
    )

    result = make().test()

    assert result.ok
    assert "Acme Coffee Roasters" in result.message


def test_connection_test_spots_a_user_token(mocked):
    mocked.add(responses.GET, f"{GRAPH}/{PAGE_ID}", json=fb("page.json"))
    mocked.add(responses.GET, f"{GRAPH}/me", json=fb("me_user_token.json"))

    result = make().test()

    assert not result.ok
    assert "not this Page's access token" in result.message


def test_connection_test_names_an_expired_token_without_raising(mocked):
    mocked.add(responses.GET, f"{GRAPH}/{PAGE_ID}", json=fb("error_190_expired.json"), status=400)

    result = make().test()

    assert not result.ok
    assert "access token is expired" in result.message


def test_connection_test_never_raises_on_a_bad_base_url():
    result = make(base_url="ftp://graph.example").test()
    assert not result.ok and "base_url" in result.message


def test_sandbox_answers_like_the_graph_without_network(mocked):
    provider = make()
    post = provider.sandbox("create_post", FacebookPage.actions["create_post"].schema(message="Hi"))
    assert post.provider_id.startswith(f"{PAGE_ID}_")
    assert post.output["permalink"] == f"https://www.facebook.com/{post.provider_id}"
    insights = provider.sandbox(
        "get_post_insights", FacebookPage.actions["get_post_insights"].schema(post_id=POST_ID)
    )
    assert insights.output["metrics"]["post_clicks"] == 0
    page = provider.sandbox("get_page_insights", FacebookPage.actions["get_page_insights"].schema())
    assert set(page.output["metrics"]) == {
        "page_media_view",
        "page_post_engagements",
        "page_daily_follows_unique",
    }
    assert len(mocked.calls) == 0


def test_requests_go_to_the_configured_base_url(httpserver, local):
    httpserver.expect_request(
        f"/{DEFAULT_API_VERSION}/{POST_ID}/insights", query_string={"metric": "post_clicks"}
    ).respond_with_json(fb("post_insights.json"))

    run(local, "get_post_insights", post_id=POST_ID, metrics=["post_clicks"])

    assert parse_qs(urlsplit(httpserver.log[0][0].url).query) == {"metric": ["post_clicks"]}


def test_outbox_target_names_the_page():
    data = FacebookPage.actions["create_post"].schema(message="Hi")
    assert make().outbox_target("create_post", data) == f"Facebook Page {PAGE_ID}"


def test_an_unknown_graph_error_on_a_server_error_is_unavailable(mocked):
    body = {
        "error": {
            "message": "Something broke",
            "type": "GraphMethodException",
            "code": 12345,
            "fbtrace_id": "Z",
        }
    }
    mocked.add(responses.GET, f"{GRAPH}/{POST_ID}/insights", json=body, status=500)

    with pytest.raises(ConnectorUnavailable) as caught:
        run(make(), "get_post_insights", post_id=POST_ID)

    assert caught.value.provider_code == "12345"


def test_a_retry_after_header_wins_over_the_usage_header(mocked):
    mocked.add(
        responses.GET,
        f"{GRAPH}/{POST_ID}/insights",
        json=fb("error_32_page_throttled.json"),
        status=400,
        headers={"Retry-After": "90", "X-Business-Use-Case-Usage": "{}"},
    )

    with pytest.raises(ConnectorRateLimited) as caught:
        run(make(), "get_post_insights", post_id=POST_ID)

    assert caught.value.retry_after == 90.0
