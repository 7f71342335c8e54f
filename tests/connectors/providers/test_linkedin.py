from __future__ import annotations

import json
import struct
import time
import zlib
from datetime import UTC, datetime, timedelta

import pytest
import responses
from django.utils import timezone
from pydantic import ValidationError
from werkzeug import Response

from connectors.providers.linkedin import DEFAULT_API_VERSION, LinkedIn, feed_url
from connectors.providers.linkedin_common import little_text
from neonhub.core.errors import (
    ConnectorAuth,
    ConnectorRateLimited,
    ConnectorRejected,
    ConnectorUnavailable,
    InvalidInput,
    OutcomeUnknown,
)
from tests.connectors.providers.messaging_helpers import fixture, short_timeouts, wait_for_log

TOKEN = "AQXlinkedin-token-0123456789"
ORG = "urn:li:organization:2414183"
PERSON = "urn:li:person:782bbtaQ"
SHARE = "urn:li:share:7402154837462016000"
API = "https://api.linkedin.com"


def make(recorder=None, base_url=None, author=ORG, **config):
    return LinkedIn(
        credentials=LinkedIn.Credentials(access_token=TOKEN),
        config=LinkedIn.Config(author_urn=author, base_url=base_url, **config),
        recorder=recorder,
    )


def run(provider, action, **data):
    return provider.run_action(action, LinkedIn.actions[action].schema(**data))


def li(name):
    return fixture("linkedin", name)


@pytest.fixture
def mocked():
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        yield rsps


def png(width=4, height=3) -> bytes:
    """A real (tiny) PNG: signature, IHDR, one IDAT, IEND."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    rows = b"".join(b"\x00" + b"\x80\x80\x80" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


# --- the exact request ---------------------------------------------------------------------


def test_create_post_sends_the_documented_request_and_reads_the_urn_header(mocked, recorder):
    expected = li("request_create_post.json")
    mocked.add(responses.POST, f"{API}/rest/posts", status=201, headers={"x-restli-id": SHARE})

    result = run(
        make(recorder),
        "create_post",
        text="Calmer release planning (for small teams) is here. #launch",
    )

    request = mocked.calls[0].request
    assert (request.method, request.url) == (expected["method"], expected["url"])
    for name, value in expected["headers"].items():
        assert request.headers[name] == value
    assert json.loads(request.body) == expected["json"]
    assert TOKEN not in request.url
    assert result.provider_id == SHARE
    assert result.output == {
        "post_id": SHARE,
        "url": f"https://www.linkedin.com/feed/update/{SHARE}",
        "author": ORG,
        "visibility": "PUBLIC",
        "image": None,
    }
    assert [s.name for s in recorder.steps] == ["linkedin.create_post"]


def test_a_link_becomes_an_article_with_its_title(mocked):
    mocked.add(
        responses.POST,
        f"{API}/rest/posts",
        status=201,
        headers={"x-restli-id": "urn:li:ugcPost:7402154837462016001"},
        match=[
            responses.matchers.json_params_matcher(
                {
                    "content": {
                        "article": {
                            "source": "https://acme.example/blog/calm-releases",
                            "title": "Calm releases",
                            "description": "How small teams ship",
                        }
                    },
                    "visibility": "CONNECTIONS",
                },
                strict_match=False,
            )
        ],
    )

    result = run(
        make(author=PERSON),
        "create_post",
        text="New on the blog",
        link="https://acme.example/blog/calm-releases",
        link_title="Calm releases",
        link_description="How small teams ship",
        visibility="CONNECTIONS",
    )

    assert result.provider_id == "urn:li:ugcPost:7402154837462016001"


def test_little_text_escapes_markup_but_keeps_hashtags():
    assert little_text("Q&A (live) @ 5 | {x} [y] <z> *a* _b_ ~c~ \\ C# #1 #Launch2026") == (
        "Q&A \\(live\\) \\@ 5 \\| \\{x\\} \\[y\\] \\<z\\> \\*a\\* \\_b\\_ \\~c\\~ \\\\ "
        "C\\# #1 #Launch2026"
    )


def test_limits_are_checked_before_sending():
    schema = LinkedIn.actions["create_post"].schema
    with pytest.raises(ValidationError) as caught:
        schema(text="x" * 3001)
    assert caught.value.errors()[0]["loc"] == ("text",)
    with pytest.raises(ValidationError, match="link_title"):
        schema(text="x", link="https://acme.example")
    with pytest.raises(ValidationError) as caught:
        schema(text="x", visibility="FRIENDS")
    assert caught.value.errors()[0]["loc"] == ("visibility",)


def test_connections_visibility_is_only_for_a_member(mocked):
    with pytest.raises(ConnectorRejected) as caught:
        run(make(), "create_post", text="Hi", visibility="CONNECTIONS")
    assert caught.value.details == [{"field": "input.visibility", "message": "PUBLIC or LOGGED_IN"}]
    assert len(mocked.calls) == 0


# --- images, on a real socket -------------------------------------------------------------------


def test_an_image_is_fetched_uploaded_and_posted(httpserver, recorder):
    image = png()
    base = httpserver.url_for("").rstrip("/")
    initialized = li("image_initialized.json")
    initialized["value"]["uploadUrl"] = f"{base}/dms-uploads/D4E10AQFoyyAjHPMQuQ/uploaded-image/0"
    httpserver.expect_oneshot_request("/media/launch.png").respond_with_data(
        image, content_type="image/png"
    )
    httpserver.expect_oneshot_request(
        "/rest/images",
        method="POST",
        query_string="action=initializeUpload",
        json={"initializeUploadRequest": {"owner": ORG}},
        headers={"LinkedIn-Version": DEFAULT_API_VERSION, "X-Restli-Protocol-Version": "2.0.0"},
    ).respond_with_json(initialized)
    httpserver.expect_oneshot_request(
        "/dms-uploads/D4E10AQFoyyAjHPMQuQ/uploaded-image/0",
        method="PUT",
        data=image,
        headers={"Authorization": f"Bearer {TOKEN}"},
    ).respond_with_data("", status=201)
    httpserver.expect_oneshot_request("/rest/posts", method="POST").respond_with_data(
        "", status=201, headers={"x-restli-id": SHARE}
    )

    result = run(
        make(recorder, base_url=base),
        "create_post",
        text="Our new office",
        image_url=f"{base}/media/launch.png",
        image_alt_text="A bright office",
    )

    post = json.loads(httpserver.log[-1][0].get_data())
    assert post["content"] == {
        "media": {"id": "urn:li:image:D4E10AQFoyyAjHPMQuQ", "altText": "A bright office"}
    }
    assert result.output["image"] == "urn:li:image:D4E10AQFoyyAjHPMQuQ"
    assert [s.name for s in recorder.steps] == [
        "linkedin.fetch_image",
        "linkedin.image_start",
        "linkedin.image_upload",
        "linkedin.create_post",
    ]
    httpserver.check_assertions()


def test_a_link_with_an_image_uses_the_image_as_the_thumbnail(httpserver):
    base = httpserver.url_for("").rstrip("/")
    initialized = li("image_initialized.json")
    initialized["value"]["uploadUrl"] = f"{base}/upload"
    httpserver.expect_request("/media/a.png").respond_with_data(png(), content_type="image/png")
    httpserver.expect_request("/rest/images", method="POST").respond_with_json(initialized)
    httpserver.expect_request("/upload", method="PUT").respond_with_data("", status=201)
    httpserver.expect_request("/rest/posts", method="POST").respond_with_data(
        "", status=201, headers={"x-restli-id": SHARE}
    )

    run(
        make(base_url=base),
        "create_post",
        text="Read this",
        link="https://acme.example/a",
        link_title="A",
        image_url=f"{base}/media/a.png",
    )

    post = json.loads(httpserver.log[-1][0].get_data())
    assert post["content"]["article"]["thumbnail"] == "urn:li:image:D4E10AQFoyyAjHPMQuQ"


@pytest.mark.parametrize(
    ("body", "reason"),
    [(b"<html>not an image</html>", "not a JPG, PNG or GIF"), (png(7000, 6000), "pixels")],
)
def test_an_image_linkedin_would_refuse_is_refused_before_anything_is_uploaded(
    httpserver, body, reason
):
    httpserver.expect_request("/media/x").respond_with_data(body)
    base = httpserver.url_for("").rstrip("/")

    with pytest.raises(ConnectorRejected, match=reason) as caught:
        run(make(base_url=base), "create_post", text="x", image_url=f"{base}/media/x")

    assert caught.value.details[0]["field"] == "input.image_url"
    assert [r.path for r, _ in httpserver.log] == ["/media/x"]


def test_an_image_larger_than_the_bound_is_refused(httpserver, monkeypatch):
    monkeypatch.setattr(LinkedIn, "max_image_bytes", 100)
    httpserver.expect_request("/big.png").respond_with_data(png(64, 64))
    base = httpserver.url_for("").rstrip("/")

    with pytest.raises(ConnectorRejected, match="larger than 100 bytes"):
        run(make(base_url=base), "create_post", text="x", image_url=f"{base}/big.png")


def test_a_missing_image_is_rejected_naming_the_field(httpserver):
    httpserver.expect_request("/gone.png").respond_with_data("nope", status=404)
    base = httpserver.url_for("").rstrip("/")

    with pytest.raises(ConnectorRejected, match="input.image_url answered HTTP 404"):
        run(make(base_url=base), "create_post", text="x", image_url=f"{base}/gone.png")


def test_a_private_image_address_is_refused(settings, mocked):
    settings.NEONHUB_ALLOW_PRIVATE_URLS = False
    with pytest.raises(InvalidInput) as caught:
        run(make(), "create_post", text="x", image_url="http://127.0.0.1/a.png")
    assert caught.value.details[0]["field"] == "input.image_url"
    assert len(mocked.calls) == 0


# --- statistics ---------------------------------------------------------------------------------


def test_post_metrics_of_an_organization_post_read_its_share_statistics(mocked):
    mocked.add(
        responses.GET,
        f"{API}/rest/organizationalEntityShareStatistics",
        json=li("share_statistics_post.json"),
    )

    result = run(make(), "post_metrics", post_id=SHARE)

    assert mocked.calls[0].request.url == (
        f"{API}/rest/organizationalEntityShareStatistics?q=organizationalEntity"
        "&organizationalEntity=urn%3Ali%3Aorganization%3A2414183"
        "&shares=List(urn%3Ali%3Ashare%3A7402154837462016000)"
    )
    assert result.output == {
        "post_id": SHARE,
        "metrics": {
            "impressions": 1722,
            "reach": 1210,
            "clicks": 38,
            "likes": 51,
            "comments": 7,
            "shares": 4,
        },
    }


def test_post_metrics_refuse_an_id_that_is_not_a_post_urn(mocked):
    with pytest.raises(InvalidInput) as caught:
        run(make(), "post_metrics", post_id="104563452346_122104567890123456")
    assert caught.value.details[0]["field"] == "input.post_id"
    assert len(mocked.calls) == 0


def test_post_metrics_leave_out_what_linkedin_did_not_report(mocked):
    mocked.add(
        responses.GET,
        f"{API}/rest/organizationalEntityShareStatistics",
        json={"elements": [{"totalShareStatistics": {"impressionCount": 10, "clickCount": None}}]},
    )
    result = run(make(), "post_metrics", post_id="urn:li:ugcPost:7402154837462016001")
    assert "ugcPosts=List(urn%3Ali%3AugcPost%3A7402154837462016001)" in mocked.calls[0].request.url
    assert result.output["metrics"] == {"impressions": 10}


def test_post_metrics_of_a_member_post_ask_each_analytics_type(mocked):
    counts = {"MEMBERS_REACHED": 1800, "RESHARE": 3, "REACTION": 77}
    mocked.add(
        responses.GET,
        f"{API}/rest/memberCreatorPostAnalytics",
        json=li("member_analytics_impression.json"),
        match=[
            responses.matchers.query_param_matcher({"queryType": "IMPRESSION"}, strict_match=False)
        ],
    )
    for query_type, count in counts.items():
        mocked.add(
            responses.GET,
            f"{API}/rest/memberCreatorPostAnalytics",
            json={"elements": [{"count": count}]},
            match=[
                responses.matchers.query_param_matcher(
                    {"queryType": query_type}, strict_match=False
                )
            ],
        )
    mocked.add(
        responses.GET,
        f"{API}/rest/memberCreatorPostAnalytics",
        json={"elements": []},
        match=[
            responses.matchers.query_param_matcher({"queryType": "COMMENT"}, strict_match=False)
        ],
    )

    result = run(make(author=PERSON), "post_metrics", post_id=SHARE)

    assert mocked.calls[0].request.url == (
        f"{API}/rest/memberCreatorPostAnalytics?q=entity"
        "&entity=(share:urn%3Ali%3Ashare%3A7402154837462016000)&queryType=IMPRESSION"
        "&aggregation=TOTAL"
    )
    assert result.output["metrics"] == {
        "impressions": 2984,
        "reach": 1800,
        "shares": 3,
        "reactions": 77,
    }


def test_time_bound_share_statistics_per_day(mocked):
    start = datetime(2026, 12, 6, tzinfo=UTC)
    end = datetime(2026, 12, 8, tzinfo=UTC)
    mocked.add(
        responses.GET,
        f"{API}/rest/organizationalEntityShareStatistics",
        json=li("share_statistics_daily.json"),
    )

    result = run(make(), "get_share_statistics", start=start, end=end)

    assert mocked.calls[0].request.url.endswith(
        "&timeIntervals=(timeRange:(start:1796515200000,end:1796688000000),timeGranularityType:DAY)"
    )
    assert result.output["lifetime"] is False and result.output["granularity"] == "DAY"
    assert result.output["periods"][0] == {
        "start": "2026-12-06T00:00:00+00:00",
        "end": "2026-12-07T00:00:00+00:00",
        "metrics": {"impressions": 640, "clicks": 9, "likes": 12, "comments": 2, "shares": 1},
        "engagement": 0.021,
    }


def test_share_statistics_ranges_are_checked():
    schema = LinkedIn.actions["get_share_statistics"].schema
    with pytest.raises(ValidationError, match="both start and end"):
        schema(start=timezone.now())
    with pytest.raises(ValidationError, match="12 months"):
        schema(start=timezone.now() - timedelta(days=400), end=timezone.now())


def test_share_statistics_need_an_organization_author(mocked):
    with pytest.raises(ConnectorRejected) as caught:
        run(make(author=PERSON), "get_share_statistics")
    assert caught.value.details[0]["field"] == "config.author_urn"


# --- transient failures, retries and timeouts ------------------------------------------------


def test_metrics_read_is_retried_after_a_503(httpserver, recorder):
    path = "/rest/organizationalEntityShareStatistics"
    httpserver.expect_ordered_request(path).respond_with_json(li("error_500.json"), status=503)
    httpserver.expect_ordered_request(path).respond_with_json(li("share_statistics_post.json"))

    result = run(
        make(recorder, base_url=httpserver.url_for("").rstrip("/")), "post_metrics", post_id=SHARE
    )

    assert result.output["metrics"]["impressions"] == 1722
    assert len(httpserver.log) == 2 and len(recorder.steps) == 1


def test_create_post_is_not_repeated_after_a_503(httpserver):
    httpserver.expect_request("/rest/posts", method="POST").respond_with_json(
        li("error_500.json"), status=503
    )

    with pytest.raises(ConnectorUnavailable):
        run(make(base_url=httpserver.url_for("").rstrip("/")), "create_post", text="Hello")

    assert len(httpserver.log) == 1


def _slow(seconds):
    def handler(request):
        time.sleep(seconds)
        return Response("", status=201, headers={"x-restli-id": SHARE})

    return handler


def test_create_post_timeout_is_an_unknown_outcome_and_not_repeated(httpserver, monkeypatch):
    short_timeouts(monkeypatch, LinkedIn)
    httpserver.expect_request("/rest/posts").respond_with_handler(_slow(0.8))

    with pytest.raises(OutcomeUnknown):
        run(make(base_url=httpserver.url_for("").rstrip("/")), "create_post", text="Hello")

    assert wait_for_log(httpserver, 1) == 1


def test_metrics_timeout_is_unavailable_after_the_retries(httpserver, monkeypatch):
    short_timeouts(monkeypatch, LinkedIn, timeout=(1.0, 0.2))
    httpserver.expect_request("/rest/organizationalEntityShareStatistics").respond_with_handler(
        _slow(0.3)
    )

    with pytest.raises(ConnectorUnavailable):
        run(make(base_url=httpserver.url_for("").rstrip("/")), "post_metrics", post_id=SHARE)

    assert wait_for_log(httpserver, 3) == 3


def test_throttling_waits_for_retry_after_or_for_midnight_utc(mocked):
    mocked.add(
        responses.POST,
        f"{API}/rest/posts",
        json=li("error_429_throttled.json"),
        status=429,
        headers={"Retry-After": "3600"},
    )
    with pytest.raises(ConnectorRateLimited) as caught:
        run(make(), "create_post", text="Hello")
    assert (caught.value.retry_after, caught.value.provider_code) == (3600.0, "TOO_MANY_REQUESTS")
    assert len(mocked.calls) == 1

    mocked.replace(
        responses.POST, f"{API}/rest/posts", json=li("error_429_throttled.json"), status=429
    )
    with pytest.raises(ConnectorRateLimited) as caught:
        run(make(), "create_post", text="Hello")
    now = datetime.now(tz=UTC)
    midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    assert abs(caught.value.retry_after - (midnight - now).total_seconds()) < 5


# --- permanent failures and credentials --------------------------------------------------------


def test_a_validation_error_is_rejected_once_naming_the_field(mocked, recorder):
    mocked.add(
        responses.POST, f"{API}/rest/posts", json=li("error_422_commentary.json"), status=422
    )

    with pytest.raises(ConnectorRejected) as caught:
        run(make(recorder), "create_post", text="Hello")

    assert len(mocked.calls) == 1
    assert caught.value.details == [
        {
            "field": "input.text",
            "message": "ERROR :: /commentary :: length of the commentary exceeds the maximum of 3000\n",
        }
    ]
    assert not caught.value.transient
    assert recorder.steps[0].provider_error_code == ""  # the 422 body has no code of its own


def test_a_duplicate_post_is_rejected_with_linkedins_code(mocked):
    mocked.add(responses.POST, f"{API}/rest/posts", json=li("error_422_duplicate.json"), status=422)
    with pytest.raises(ConnectorRejected, match="duplicate") as caught:
        run(make(), "create_post", text="Hello")
    assert caught.value.provider_code == "DUPLICATE_POST"


def test_a_sunset_api_version_names_the_config_field(mocked):
    mocked.add(responses.POST, f"{API}/rest/posts", json=li("error_426_version.json"), status=426)
    with pytest.raises(ConnectorRejected) as caught:
        run(make(api_version="202401"), "create_post", text="Hello")
    assert caught.value.details[0]["field"] == "config.api_version"
    assert mocked.calls[0].request.headers["LinkedIn-Version"] == "202401"


def test_a_revoked_token_is_an_auth_error_named_clearly(mocked, recorder):
    mocked.add(responses.POST, f"{API}/rest/posts", json=li("error_401_revoked.json"), status=401)

    with pytest.raises(ConnectorAuth) as caught:
        run(make(recorder), "create_post", text="Hello")

    error = caught.value
    assert len(mocked.calls) == 1
    assert (error.code, error.provider_code, error.http_status) == (
        "CONNECTOR_AUTH",
        "REVOKED_ACCESS_TOKEN",
        401,
    )
    assert "access token is expired, revoked or invalid" in error.message
    assert (error.provider, error.action) == ("linkedin", "create_post")


def test_a_missing_permission_is_an_auth_error(mocked):
    mocked.add(
        responses.POST, f"{API}/rest/posts", json=li("error_403_access_denied.json"), status=403
    )
    with pytest.raises(ConnectorAuth, match="permission missing"):
        run(make(), "create_post", text="Hello")


def test_a_token_quoted_in_an_error_is_scrubbed(mocked):
    body = {"status": 401, "message": f"Invalid access token {TOKEN}"}
    mocked.add(responses.POST, f"{API}/rest/posts", json=body, status=401)
    with pytest.raises(ConnectorAuth) as caught:
        run(make(), "create_post", text="Hello")
    assert TOKEN not in str(caught.value)


def test_credentials_and_config_fields_are_named():
    with pytest.raises(ValidationError) as caught:
        LinkedIn.Credentials()
    assert caught.value.errors()[0]["loc"] == ("access_token",)
    with pytest.raises(ValidationError) as caught:
        LinkedIn.Config(author_urn="acme")
    assert caught.value.errors()[0]["loc"] == ("author_urn",)
    with pytest.raises(ValidationError) as caught:
        LinkedIn.Config(author_urn=ORG, api_version="2026-07")
    assert caught.value.errors()[0]["loc"] == ("api_version",)
    assert LinkedIn.Config(author_urn=ORG).api_version == DEFAULT_API_VERSION
    assert TOKEN not in repr(LinkedIn.Credentials(access_token=TOKEN))


def test_action_flags_and_budget():
    assert LinkedIn.actions["create_post"].side_effect
    assert not LinkedIn.actions["create_post"].safe_to_repeat
    metrics = LinkedIn.actions["post_metrics"]
    assert metrics.safe_to_repeat and not metrics.side_effect
    (budget,) = LinkedIn.budgets
    assert (budget.limit, budget.per_seconds, budget.actions) == (150, 86400, ("create_post",))


# --- connection test and sandbox ----------------------------------------------------------------


def test_connection_test_of_a_member_checks_whose_token_it_is(mocked):
    mocked.add(responses.GET, f"{API}/v2/userinfo", json=li("userinfo.json"))
    assert make(author=PERSON).test().message == "Posting as Ana Lopez"
    mocked.add(responses.GET, f"{API}/v2/userinfo", json={**li("userinfo.json"), "sub": "other"})
    result = make(author=PERSON).test()
    assert not result.ok and "urn:li:person:other" in result.message


def test_connection_test_of_an_organization_needs_an_approved_role(mocked):
    mocked.add(
        responses.GET,
        f"{API}/rest/organizationAcls",
        json=li("organization_acls.json"),
        match=[responses.matchers.query_param_matcher({"q": "roleAssignee", "state": "APPROVED"})],
    )
    assert make().test().ok
    result = make(author="urn:li:organization:99").test()
    assert not result.ok and "no approved role" in result.message


def test_connection_test_names_a_revoked_token_without_raising(mocked):
    mocked.add(
        responses.GET, f"{API}/rest/organizationAcls", json=li("error_401_revoked.json"), status=401
    )
    result = make().test()
    assert not result.ok and "revoked" in result.message


def test_sandbox_answers_like_linkedin_without_network(mocked):
    provider = make()
    post = provider.sandbox("create_post", LinkedIn.actions["create_post"].schema(text="Hi"))
    assert post.provider_id.startswith("urn:li:share:")
    assert post.output["url"] == feed_url(post.provider_id)
    metrics = provider.sandbox(
        "post_metrics", LinkedIn.actions["post_metrics"].schema(post_id=post.provider_id)
    )
    assert set(metrics.output["metrics"]) == {
        "impressions",
        "reach",
        "clicks",
        "likes",
        "comments",
        "shares",
    }
    assert len(mocked.calls) == 0


# --- a connector made by pasting a token ----------------------------------------------------------


@pytest.mark.django_db
def test_a_marketer_adds_a_linkedin_connector_by_pasting_a_token(owner_client, org):
    from connectors.models import Connector
    from connectors.runtime import credentials_load

    form = owner_client.get("/connectors/new/?provider=linkedin").content.decode()
    assert 'name="cred__access_token"' in form and 'name="conf__author_urn"' in form

    refused = owner_client.post(
        "/connectors/new/?provider=linkedin",
        {"name": "Acme", "mode": "live", "cred__access_token": TOKEN, "conf__author_urn": "acme"},
    )
    assert refused.status_code == 422 and not Connector.objects.exists()

    resp = owner_client.post(
        "/connectors/new/?provider=linkedin",
        {
            "name": "Acme on LinkedIn",
            "mode": "live",
            "enabled": "on",
            "cred__access_token": TOKEN,
            "conf__author_urn": ORG,
            "conf__api_version": DEFAULT_API_VERSION,
        },
    )
    assert resp.status_code == 302
    connector = Connector.objects.get(organization=org, provider="linkedin")
    assert TOKEN not in connector.credentials
    assert credentials_load(connector=connector)["access_token"] == TOKEN
    assert connector.config["author_urn"] == ORG
    assert TOKEN not in owner_client.get(f"/connectors/{connector.id}/edit/").content.decode()


@pytest.mark.django_db
def test_a_revoked_token_marks_the_connector_for_reconnecting_after_one_call(mocked, org, recorder):
    from connectors.models import Health, OutboundMessage, OutboxStatus
    from connectors.services import connector_create, connector_execute

    connector = connector_create(
        organization=org,
        provider="linkedin",
        name="Acme on LinkedIn",
        mode="live",
        credentials={"access_token": TOKEN},
        config={"author_urn": ORG},
    )
    mocked.add(responses.POST, f"{API}/rest/posts", json=li("error_401_revoked.json"), status=401)

    with pytest.raises(ConnectorAuth):
        connector_execute(
            connector=connector, action="create_post", input={"text": "Hello"}, recorder=recorder
        )

    assert len(mocked.calls) == 1
    connector.refresh_from_db()
    assert connector.health == Health.NEEDS_RECONNECT
    assert "connect the account again" in connector.last_error
    assert OutboundMessage.objects.get().status == OutboxStatus.FAILED
