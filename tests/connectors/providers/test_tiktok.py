from __future__ import annotations

import json
import os
import struct
from datetime import date

import pytest
import responses
from pydantic import ValidationError
from werkzeug import Response

from connectors.budgets import budget_consume
from connectors.models import Health, OutboundMessage, OutboxStatus
from connectors.providers.tiktok import PENDING_KEY, TikTok
from connectors.providers.tiktok_upload import MIB, chunk_plan, mp4_duration
from connectors.services import connector_create, connector_execute
from neonhub.core.errors import (
    BudgetSpent,
    ConnectorAuth,
    ConnectorRateLimited,
    ConnectorRejected,
    ConnectorUnavailable,
    OutcomeUnknown,
)
from tests.connectors.providers.messaging_helpers import fixture, short_timeouts, wait_for_log

TOKEN = "act.example12345Example12345Example"
API = "https://open.tiktokapis.com"
MARKETING = "https://business-api.tiktok.com"
VIDEO = "https://media.acme.example/reels/pour-over.mp4"
PULL_ID = "v_pub_url~v2-1.7311480532893696000"
POST_ID = "7311481178390941000"
ADVERTISER = "7012345678901234567"
json_body = responses.matchers.json_params_matcher


def tt(name):
    return fixture("tiktok", name)


def make(recorder=None, base_url=None, state=None, marketing_base_url=None, **config):
    credentials = TikTok.Credentials(
        access_token=TOKEN, marketing_access_token="mkt-long-term-token-0123456789"
    )
    if marketing_base_url:
        config["marketing_base_url"] = marketing_base_url
    return TikTok(
        credentials=credentials,
        config=TikTok.Config(base_url=base_url, advertiser_id=ADVERTISER, **config),
        recorder=recorder,
        state=state,
        organization="acme",
    )


def run(provider, action, **data):
    return provider.run_action(action, TikTok.actions[action].schema(**data))


def publish(provider, **data):
    data.setdefault("video_url", VIDEO)
    data.setdefault("privacy_level", "SELF_ONLY")
    return run(provider, "publish_video", **data)


@pytest.fixture(autouse=True)
def quick_polls(monkeypatch):
    monkeypatch.setattr(TikTok, "poll_interval", 0.0)


@pytest.fixture
def mocked():
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        yield rsps


@pytest.fixture
def uploads(settings, tmp_path):
    settings.NEONHUB_UPLOAD_DIR = tmp_path
    (tmp_path / "acme").mkdir()
    return tmp_path / "acme"


def add(mocked, path, name, status=200, **kwargs):
    mocked.add(responses.POST, f"{API}{path}", json=tt(name), status=status, **kwargs)


CREATOR = "/v2/post/publish/creator_info/query/"
INIT = "/v2/post/publish/video/init/"
STATUS = "/v2/post/publish/status/fetch/"


# --- the exact requests ------------------------------------------------------------------------


def test_a_direct_post_asks_for_the_creator_options_then_inits_and_polls(mocked, recorder):
    expected = tt("request_video_init_pull.json")
    add(mocked, CREATOR, "creator_info.json")
    add(mocked, INIT, "video_init_pull.json", match=[json_body(expected["json"])])
    add(
        mocked,
        STATUS,
        "status_processing_download.json",
        match=[json_body({"publish_id": PULL_ID})],
    )
    add(mocked, STATUS, "status_publish_complete.json")

    result = publish(
        make(recorder),
        title="Pour-over in 60 seconds #coffee",
        privacy_level="MUTUAL_FOLLOW_FRIENDS",
        disable_duet=True,
        video_cover_timestamp_ms=1000,
    )

    creator, init = mocked.calls[0].request, mocked.calls[1].request
    assert (creator.method, creator.url, creator.body) == ("POST", f"{API}{CREATOR}", None)
    assert (init.method, init.url) == (expected["method"], expected["url"])
    for header, value in expected["headers"].items():
        assert init.headers[header] == value
    assert json.loads(init.body) == expected["json"]  # stitch stays off: the creator disabled it
    assert result.provider_id == POST_ID
    assert result.output == {
        "publish_id": PULL_ID,
        "post_id": POST_ID,
        "status": "PUBLISH_COMPLETE",
        "privacy_level": "MUTUAL_FOLLOW_FRIENDS",
        "url": f"https://www.tiktok.com/@acme.coffee/video/{POST_ID}",
    }
    assert [s.name for s in recorder.steps] == [
        "tiktok.creator_info",
        "tiktok.video_init",
        "tiktok.status_fetch",
        "tiktok.status_fetch",
    ]


def test_a_privacy_level_the_creator_does_not_offer_is_refused_before_init(mocked):
    add(mocked, CREATOR, "creator_info_private.json")

    with pytest.raises(ConnectorRejected) as caught:
        publish(make(), privacy_level="PUBLIC_TO_EVERYONE")

    assert len(mocked.calls) == 1
    assert caught.value.provider_code == "privacy_level_option_mismatch"
    assert "input.privacy_level" in caught.value.message
    assert "FOLLOWER_OF_CREATOR, SELF_ONLY" in caught.value.message


def test_interactions_the_creator_switched_off_stay_off(mocked):
    add(mocked, CREATOR, "creator_info_private.json")
    add(mocked, INIT, "video_init_pull.json")
    add(mocked, STATUS, "status_complete_private.json")

    result = publish(make(), privacy_level="SELF_ONLY")

    post_info = json.loads(mocked.calls[1].request.body)["post_info"]
    assert (
        post_info["disable_comment"],
        post_info["disable_duet"],
        post_info["disable_stitch"],
    ) == (
        True,
        True,
        True,
    )
    # A private post has no public id: the publish id stands for it.
    assert (result.provider_id, result.output["post_id"]) == (PULL_ID, None)


def test_a_video_longer_than_the_creator_may_post_is_refused_before_init(mocked):
    add(mocked, CREATOR, "creator_info.json")

    with pytest.raises(ConnectorRejected) as caught:
        publish(make(), duration_seconds=301)

    assert len(mocked.calls) == 1
    assert caught.value.provider_code == "duration_check_failed"
    assert "at most 300 s" in caught.value.message
    assert caught.value.details == [
        {"field": "input.duration_seconds", "message": "longer than 300 seconds"}
    ]


def mp4(path, seconds, *, version=0, padding=0):
    """A minimal ISO BMFF file: ftyp, then moov holding an mvhd of ``seconds`` at 600 units/s."""
    if version == 1:
        mvhd_body = bytes([1, 0, 0, 0]) + bytes(16) + struct.pack(">IQ", 600, seconds * 600)
    else:
        mvhd_body = bytes(4) + bytes(8) + struct.pack(">II", 600, seconds * 600)
    mvhd = struct.pack(">I4s", 8 + len(mvhd_body), b"mvhd") + mvhd_body + bytes(80)
    mvhd = struct.pack(">I4s", len(mvhd), b"mvhd") + mvhd[8:]
    moov = struct.pack(">I4s", 8 + len(mvhd), b"moov") + mvhd
    ftyp = struct.pack(">I4s", 16, b"ftyp") + b"isom" + bytes(4)
    mdat = struct.pack(">I4s", 8 + padding, b"mdat") + os.urandom(padding)
    path.write_bytes(ftyp + mdat + moov)
    return path


@pytest.mark.parametrize("version", [0, 1])
def test_the_length_of_a_local_mp4_is_read_from_its_movie_header(tmp_path, version):
    assert mp4_duration(mp4(tmp_path / "a.mp4", 42, version=version, padding=1000)) == 42.0
    (tmp_path / "b.mp4").write_bytes(b"not a movie at all")
    assert mp4_duration(tmp_path / "b.mp4") is None


def test_a_local_file_longer_than_allowed_is_refused_naming_the_file(mocked, uploads):
    mp4(uploads / "long.mp4", 400)
    add(mocked, CREATOR, "creator_info.json")

    with pytest.raises(ConnectorRejected) as caught:
        run(make(), "publish_video", file_path="long.mp4", privacy_level="SELF_ONLY")

    assert caught.value.details[0]["field"] == "input.file_path"
    assert len(mocked.calls) == 1


def test_an_inbox_upload_skips_the_creator_options_and_ends_in_the_inbox(mocked):
    add(
        mocked,
        "/v2/post/publish/inbox/video/init/",
        "inbox_init_pull.json",
        match=[json_body({"source_info": {"source": "PULL_FROM_URL", "video_url": VIDEO}})],
    )
    add(mocked, STATUS, "status_inbox.json")

    result = run(make(), "publish_video", video_url=VIDEO, mode="inbox")

    assert result.output["status"] == "SEND_TO_USER_INBOX"
    assert result.provider_id == "v_inbox_url~v2-1.7311480532893696002"


@pytest.mark.parametrize(
    "data, message",
    [
        ({"privacy_level": "SELF_ONLY"}, "exactly one of video_url or file_path"),
        ({"video_url": VIDEO}, "needs a privacy_level"),
        ({"video_url": VIDEO, "privacy_level": "FRIENDS"}, "PUBLIC_TO_EVERYONE"),
        ({"video_url": VIDEO, "privacy_level": "SELF_ONLY", "title": "x" * 2201}, "2200"),
    ],
)
def test_a_post_is_checked_before_any_call(data, message):
    with pytest.raises(ValidationError, match=message):
        TikTok.actions["publish_video"].schema(**data)


# --- chunked FILE_UPLOAD and status polling on loopback ------------------------------------------


class UploadTarget:
    """TikTok's upload_url as documented: 206 for each part, 201 once every byte is in."""

    def __init__(self):
        self.received = bytearray()
        self.ranges: list[str] = []
        self.types: list[str] = []

    def handler(self, request):
        self.ranges.append(request.headers["Content-Range"])
        self.types.append(request.headers["Content-Type"])
        start, _, total = (
            request.headers["Content-Range"].removeprefix("bytes ").replace("/", "-").split("-")
        )
        assert int(start) == len(self.received)
        self.received += request.get_data()
        return Response("", status=201 if len(self.received) == int(total) else 206)


def test_a_local_file_goes_up_in_the_documented_chunks(httpserver, uploads, recorder):
    size = 12 * MIB + 12345
    content = os.urandom(size)
    (uploads / "pour-over.mp4").write_bytes(content)
    target = UploadTarget()
    file_init = tt("video_init_file.json")
    file_init["data"]["upload_url"] = httpserver.url_for(
        "/upload/?upload_id=67890&upload_token=Xza123"
    )
    httpserver.expect_request(CREATOR, method="POST").respond_with_json(tt("creator_info.json"))
    httpserver.expect_request(INIT, method="POST").respond_with_json(file_init)
    httpserver.expect_request("/upload/", method="PUT").respond_with_handler(target.handler)
    httpserver.expect_request(STATUS, method="POST").respond_with_json(
        tt("status_publish_complete.json")
    )
    provider = make(
        recorder, base_url=httpserver.url_for("").rstrip("/"), upload_chunk_size=5 * MIB
    )

    result = run(provider, "publish_video", file_path="pour-over.mp4", privacy_level="SELF_ONLY")

    init = next(e[0] for e in httpserver.log if e[0].path == INIT)
    assert init.get_json()["source_info"] == {
        "source": "FILE_UPLOAD",
        "video_size": size,
        "chunk_size": 5 * MIB,
        "total_chunk_count": 2,  # 12 MB / 5 MB rounded down: the last chunk takes the rest
    }
    assert target.ranges == [
        f"bytes 0-{5 * MIB - 1}/{size}",
        f"bytes {5 * MIB}-{size - 1}/{size}",
    ]
    assert target.types == ["video/mp4", "video/mp4"]
    assert bytes(target.received) == content
    assert result.output["status"] == "PUBLISH_COMPLETE"
    assert [s.name for s in recorder.steps].count("tiktok.upload_chunk") == 2


@pytest.mark.parametrize(
    "size, preferred, expected",
    [
        (3 * MIB, 10 * MIB, (3 * MIB, 1)),  # under 5 MB: whole
        (9 * MIB, 10 * MIB, (9 * MIB, 1)),  # fits one chunk
        (100 * MIB, 64 * MIB, (64 * MIB, 1)),  # the last (only) chunk holds up to 128 MB
        (130 * MIB, 64 * MIB, (64 * MIB, 2)),
        (50 * MIB, 1 * MIB, (5 * MIB, 10)),  # never under 5 MB
        (51 * MIB, 5 * MIB, (5 * MIB, 10)),
    ],
)
def test_chunk_sizes_follow_the_media_transfer_rules(size, preferred, expected):
    plan = chunk_plan(size, preferred)
    assert (plan.chunk_size, plan.total_chunk_count) == expected
    assert plan.ranges()[-1][1] == size - 1
    assert plan.ranges()[-1][1] - plan.ranges()[-1][0] + 1 <= 128 * MIB


def test_a_post_still_processing_reschedules_and_the_next_attempt_only_polls(httpserver):
    base = httpserver.url_for("").rstrip("/")
    httpserver.expect_ordered_request(CREATOR, method="POST").respond_with_json(
        tt("creator_info.json")
    )
    httpserver.expect_ordered_request(INIT, method="POST").respond_with_json(
        tt("video_init_pull.json")
    )
    for _ in range(TikTok.poll_attempts):
        httpserver.expect_ordered_request(STATUS, method="POST").respond_with_json(
            tt("status_processing_download.json")
        )
    httpserver.expect_ordered_request(STATUS, method="POST").respond_with_json(
        tt("status_publish_complete.json")
    )
    state: dict = {}

    with pytest.raises(ConnectorUnavailable) as caught:
        publish(make(base_url=base, state=state))
    assert caught.value.retry_after == TikTok.reschedule_seconds
    assert caught.value.provider_code == "PROCESSING"
    assert [entry["id"] for entry in state[PENDING_KEY].values()] == [PULL_ID]

    result = publish(make(base_url=base, state=state))  # the rescheduled attempt

    paths = [entry[0].path for entry in httpserver.log]
    assert paths == [CREATOR, INIT] + [STATUS] * (TikTok.poll_attempts + 1)
    assert result.provider_id == POST_ID
    assert state[PENDING_KEY] == {}


def test_a_failed_publish_names_the_fail_reason_and_is_forgotten(mocked):
    add(mocked, CREATOR, "creator_info.json")
    add(mocked, INIT, "video_init_pull.json")
    add(mocked, STATUS, "status_failed.json")
    state: dict = {}

    with pytest.raises(ConnectorRejected) as caught:
        publish(make(state=state))

    assert caught.value.provider_code == "video_pull_failed"
    assert "video_pull_failed" in caught.value.message
    assert state[PENDING_KEY] == {}


# --- the standard failures ------------------------------------------------------------------------


def test_reading_creator_info_is_retried_after_a_503(httpserver, recorder):
    httpserver.expect_ordered_request(CREATOR).respond_with_json(
        tt("error_internal.json"), status=503
    )
    httpserver.expect_ordered_request(CREATOR).respond_with_json(tt("creator_info.json"))

    result = run(make(recorder, base_url=httpserver.url_for("").rstrip("/")), "creator_info")

    assert len(httpserver.log) == 2
    assert result.output["privacy_level_options"][0] == "PUBLIC_TO_EVERYONE"
    assert recorder.steps[0].detail["retries"] == 1


def test_the_video_init_is_not_repeated_after_a_503(httpserver):
    httpserver.expect_request(CREATOR).respond_with_json(tt("creator_info.json"))
    httpserver.expect_request(INIT).respond_with_json(tt("error_internal.json"), status=503)

    with pytest.raises(ConnectorUnavailable):
        publish(make(base_url=httpserver.url_for("").rstrip("/")))

    assert [entry[0].path for entry in httpserver.log] == [CREATOR, INIT]


def test_an_init_timeout_is_an_unknown_outcome_and_not_repeated(httpserver, monkeypatch):
    short_timeouts(monkeypatch, TikTok)
    httpserver.expect_request(CREATOR).respond_with_json(tt("creator_info.json"))

    def slow(request):
        import time

        time.sleep(0.6)
        return Response(json.dumps(tt("video_init_pull.json")), content_type="application/json")

    httpserver.expect_request(INIT).respond_with_handler(slow)

    with pytest.raises(OutcomeUnknown):
        publish(make(base_url=httpserver.url_for("").rstrip("/")))
    assert wait_for_log(httpserver, 2) == 2


def test_a_refusal_is_one_call_naming_the_field(mocked):
    add(mocked, CREATOR, "creator_info.json")
    add(mocked, INIT, "error_url_ownership_unverified.json", status=403)

    with pytest.raises(ConnectorRejected) as caught:
        publish(make())

    assert len(mocked.calls) == 2
    assert caught.value.provider_code == "url_ownership_unverified"
    assert caught.value.message.startswith("TikTok refused input.video_url:")
    assert caught.value.details[0]["field"] == "input.video_url"


def test_a_daily_post_cap_is_rejected_with_tiktoks_code(mocked):
    add(mocked, CREATOR, "error_spam_risk_too_many_posts.json", status=403)
    with pytest.raises(ConnectorRejected) as caught:
        publish(make())
    assert caught.value.provider_code == "spam_risk_too_many_posts"
    assert len(mocked.calls) == 1


def test_an_invalid_token_is_named_and_marks_the_connector(org, mocked, recorder):
    connector = connector_create(
        organization=org,
        provider="tiktok",
        name="Acme TikTok",
        credentials={"access_token": TOKEN},
        config={"open_id": "-000acme-open-id"},
    )
    add(mocked, CREATOR, "error_access_token_invalid.json", status=401)

    with pytest.raises(ConnectorAuth) as caught:
        connector_execute(connector=connector, action="creator_info", input={}, recorder=recorder)

    assert len(mocked.calls) == 1
    assert caught.value.provider_code == "access_token_invalid"
    assert "access token is invalid" in caught.value.message
    connector.refresh_from_db()
    assert connector.health == Health.NEEDS_RECONNECT


def test_tiktoks_rate_limit_is_rate_limited_with_a_wait(mocked):
    add(mocked, CREATOR, "error_rate_limit_exceeded.json", status=429)
    with pytest.raises(ConnectorRateLimited) as caught:
        run(make(), "creator_info")
    assert caught.value.retry_after == 60.0
    assert caught.value.provider_code == "rate_limit_exceeded"


# --- the documented limits, before sending --------------------------------------------------------


def test_the_seventh_post_in_a_minute_waits_naming_the_init_limit(org):
    connector = connector_create(
        organization=org, provider="tiktok", name="Acme TikTok", credentials={"access_token": TOKEN}
    )
    data = {"video_url": VIDEO, "privacy_level": "SELF_ONLY"}
    for _ in range(6):
        budget_consume(
            connector=connector, budgets=TikTok.budgets, action="publish_video", data=data
        )

    with pytest.raises(BudgetSpent) as caught:
        budget_consume(
            connector=connector, budgets=TikTok.budgets, action="publish_video", data=data
        )

    assert "tiktok_video_init_6_per_minute" in caught.value.message
    assert "creator_info" not in caught.value.message  # only the limit that is used up
    assert caught.value.provider_code == "tiktok_video_init_6_per_minute"
    assert 0 < caught.value.retry_after <= 60


def test_a_sixth_pending_share_in_a_day_waits_naming_the_limit(org, mocked, recorder):
    connector = connector_create(
        organization=org, provider="tiktok", name="Acme TikTok", credentials={"access_token": TOKEN}
    )
    # Spread over minutes so only the daily limit can be reached: earlier shares are moved back.
    from datetime import timedelta

    from django.utils import timezone

    from connectors.models import BudgetUsage

    for _ in range(5):
        budget_consume(
            connector=connector,
            budgets=TikTok.budgets,
            action="publish_video",
            data={"video_url": VIDEO, "mode": "inbox"},
        )
        BudgetUsage.objects.filter(connector=connector).update(
            used_at=timezone.now() - timedelta(minutes=5)
        )

    with pytest.raises(BudgetSpent) as caught:
        connector_execute(
            connector=connector,
            action="publish_video",
            input={"video_url": VIDEO, "mode": "inbox"},
            recorder=recorder,
            idempotency_key="share-6",
        )

    assert "tiktok_pending_shares_5_per_day" in caught.value.message
    assert len(mocked.calls) == 0  # nothing was sent
    assert caught.value.retry_after > 3600


# --- post metrics ---------------------------------------------------------------------------------


def test_post_metrics_reads_the_display_api_counts(mocked):
    mocked.add(
        responses.POST,
        f"{API}/v2/video/query/",
        json=tt("video_query.json"),
        match=[
            responses.matchers.query_param_matcher(
                {"fields": "id,view_count,like_count,comment_count,share_count"}
            ),
            json_body({"filters": {"video_ids": [POST_ID]}}),
        ],
    )

    result = run(make(), "post_metrics", post_id=POST_ID)

    assert result.output == {
        "post_id": POST_ID,
        "metrics": {"views": 10233, "likes": 412, "comments": 37, "shares": 19},
    }


def test_post_metrics_of_a_publish_id_looks_up_the_public_video(mocked):
    add(mocked, STATUS, "status_publish_complete.json", match=[json_body({"publish_id": PULL_ID})])
    mocked.add(responses.POST, f"{API}/v2/video/query/", json=tt("video_query.json"))

    result = run(make(), "post_metrics", post_id=PULL_ID)

    assert result.output["post_id"] == PULL_ID
    assert result.output["metrics"]["views"] == 10233


def test_post_metrics_of_a_private_post_says_why_there_are_none(mocked):
    add(mocked, STATUS, "status_complete_private.json")
    with pytest.raises(ConnectorRejected, match="no public video id"):
        run(make(), "post_metrics", post_id=PULL_ID)


# --- Marketing API report ------------------------------------------------------------------------


def test_the_ads_report_reads_every_page_with_the_access_token_header(httpserver, recorder):
    path = "/open_api/v1.3/report/integrated/get/"
    for page in (1, 2):
        httpserver.expect_ordered_request(
            path,
            method="GET",
            query_string={
                "advertiser_id": ADVERTISER,
                "report_type": "BASIC",
                "service_type": "AUCTION",
                "data_level": "AUCTION_CAMPAIGN",
                "dimensions": '["campaign_id", "stat_time_day"]',
                "metrics": '["spend", "impressions", "clicks"]',
                "start_date": "2026-11-30",
                "end_date": "2026-11-30",
                "page": str(page),
                "page_size": "1",
            },
            headers={"Access-Token": "mkt-long-term-token-0123456789"},
        ).respond_with_json(tt(f"report_page_{page}.json"))
    provider = make(recorder, marketing_base_url=httpserver.url_for("").rstrip("/"))

    output = run(
        provider,
        "ads_report",
        start_date=date(2026, 11, 30),
        end_date=date(2026, 11, 30),
        metrics=["spend", "impressions", "clicks"],
        page_size=1,
    ).output

    assert output["rows"] == [
        {
            "campaign_id": "1774100000000001",
            "stat_time_day": "2026-11-30 00:00:00",
            "spend": "12.50",
            "impressions": "5321",
            "clicks": "88",
        },
        {
            "campaign_id": "1774100000000002",
            "stat_time_day": "2026-11-30 00:00:00",
            "spend": "3.10",
            "impressions": "987",
            "clicks": "12",
        },
    ]
    assert (output["total_rows"], output["complete"]) == (2, True)


@pytest.mark.parametrize(
    "name, error, code",
    [
        ("report_error_40105.json", ConnectorAuth, "40105"),
        ("report_error_40100.json", ConnectorRateLimited, "40100"),
        ("report_error_40002.json", ConnectorRejected, "40002"),
    ],
)
def test_a_report_envelope_with_a_code_is_an_error(mocked, name, error, code):
    mocked.add(responses.GET, f"{MARKETING}/open_api/v1.3/report/integrated/get/", json=tt(name))

    with pytest.raises(error) as caught:
        run(make(), "ads_report", start_date=date(2026, 11, 1), end_date=date(2026, 11, 30))

    assert caught.value.provider_code == code
    assert tt(name)["message"] in caught.value.message
    assert len(mocked.calls) == 1


def test_the_ads_report_needs_the_marketing_token_and_advertiser():
    provider = TikTok(
        credentials=TikTok.Credentials(access_token=TOKEN),
        config=TikTok.Config(),
    )
    with pytest.raises(Exception, match="marketing_access_token"):
        run(provider, "ads_report", start_date=date(2026, 11, 1), end_date=date(2026, 11, 30))


# --- connection test, outbox and sandbox ------------------------------------------------------------


def test_connection_test_names_the_account_and_its_options(mocked):
    add(mocked, CREATOR, "creator_info.json")
    result = make().test()
    assert result.ok
    assert "@acme.coffee" in result.message


def test_connection_test_names_a_rejected_token_without_raising(mocked):
    add(mocked, CREATOR, "error_access_token_invalid.json", status=401)
    result = make().test()
    assert not result.ok
    assert "access token" in result.message


def test_a_sandbox_post_is_recorded_in_the_outbox_and_checked_like_a_live_one(
    org, recorder, mocked
):
    connector = connector_create(
        organization=org,
        provider="tiktok",
        name="Sandbox TikTok",
        credentials={"access_token": TOKEN},
        mode="sandbox",
    )
    result = connector_execute(
        connector=connector,
        action="publish_video",
        input={"video_url": VIDEO, "privacy_level": "PUBLIC_TO_EVERYONE", "title": "Hi"},
        recorder=recorder,
        idempotency_key="sandbox-1",
    )
    assert result.output["status"] == "PUBLISH_COMPLETE"
    assert result.output["url"].startswith("https://www.tiktok.com/@neonhub.sandbox/video/")
    row = OutboundMessage.objects.get(idempotency_key="sandbox-1")
    assert (row.status, row.sandbox) == (OutboxStatus.SENT, True)

    with pytest.raises(ConnectorRejected, match="input.privacy_level"):
        connector_execute(
            connector=connector,
            action="publish_video",
            input={"video_url": VIDEO, "privacy_level": "FOLLOWER_OF_CREATOR"},
            recorder=recorder,
            idempotency_key="sandbox-2",
        )
    assert len(mocked.calls) == 0


def test_a_tiktok_connector_is_created_by_pasting_tokens(owner_client, org):
    form = owner_client.get("/connectors/new/?provider=tiktok").content.decode()
    assert '<input type="password" name="cred__access_token"' in form
    assert '<input type="password" name="cred__marketing_access_token"' in form
    assert 'name="conf__advertiser_id"' in form

    answer = owner_client.post(
        "/connectors/new/?provider=tiktok",
        {
            "provider": "tiktok",
            "name": "Acme TikTok",
            "mode": "live",
            "enabled": "on",
            "cred__access_token": TOKEN,
            "conf__open_id": "-000acme-open-id",
            "conf__marketing_base_url": MARKETING,
            "conf__upload_chunk_size": str(10 * MIB),
        },
    )

    assert answer.status_code in (200, 302), answer.content.decode()[:2000]
    from connectors.models import Connector

    connector = Connector.objects.get(organization=org, provider="tiktok")
    assert connector.config["open_id"] == "-000acme-open-id"
    assert TOKEN not in json.dumps(connector.config)


def test_a_frontend_reads_the_ads_report_through_the_actions_api(api, org, mocked):
    connector = connector_create(
        organization=org,
        provider="tiktok",
        name="Acme TikTok",
        credentials={"access_token": TOKEN, "marketing_access_token": "mkt-token-0123456789"},
        config={"advertiser_id": ADVERTISER},
    )
    mocked.add(
        responses.GET,
        f"{MARKETING}/open_api/v1.3/report/integrated/get/",
        json=tt("report_page_2.json")
        | {
            "data": {
                **tt("report_page_2.json")["data"],
                "page_info": {"page": 1, "page_size": 200, "total_number": 1, "total_page": 1},
            }
        },
        match=[responses.matchers.header_matcher({"Access-Token": "mkt-token-0123456789"})],
    )

    answer = api.post(
        f"/connectors/{connector.pk}/actions/ads_report",
        {"input": {"start_date": "2026-11-30", "end_date": "2026-11-30"}},
    )

    assert answer.status_code == 200, answer.json()
    body = answer.json()
    assert body["status"] == "completed"
    assert body["output"]["output"]["rows"][0]["spend"] == "3.10"
    assert "mkt-token-0123456789" not in json.dumps(body)

    refused = api.post(
        f"/connectors/{connector.pk}/actions/ads_report",
        {"input": {"start_date": "2026-11-30", "end_date": "2026-11-01"}},
    )
    assert refused.status_code == 422
    assert "end_date is before start_date" in json.dumps(refused.json())
