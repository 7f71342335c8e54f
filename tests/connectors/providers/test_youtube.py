from __future__ import annotations

import json
import os
import re
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl

import pytest
import responses
from django.test import override_settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from pydantic import ValidationError
from werkzeug import Response

from connectors.providers.google_common import seconds_until_quota_reset
from connectors.providers.youtube import YouTube, quota_cost
from connectors.providers.youtube_upload import VideoSource
from neonhub.core.errors import (
    ConnectorAuth,
    ConnectorRateLimited,
    ConnectorRejected,
    ConnectorUnavailable,
    InvalidInput,
    OutcomeUnknown,
)
from tests.connectors.providers.messaging_helpers import fixture, short_timeouts, wait_for_log

CLIENT_ID = "123456789012-abcdefghijklmnopqrstuvwxyz012345.apps.googleusercontent.com"
CLIENT_SECRET = "GOCSPX-abcdefghijklmnopqrstuvwx"
REFRESH = "1//0gAbCdEfGhIjKlMnOpQrStUvWxYz"
TOKEN = "ya29.a0AfB_byDexampleAccessToken0123456789"
VIDEO_ID = "Ks-_Mh1QhMc"
CHANNEL = "UC_x5XG1OV2P6uZZ5FSM9Ttw"
OTHER_CHANNEL = "UCBR8-60-B28hp2BmDPdntcQ"
API = "https://www.googleapis.com/youtube/v3"
TOKEN_URL = "https://oauth2.googleapis.com/token"
UNIT = 256 * 1024
json_body = responses.matchers.json_params_matcher
q = responses.matchers.query_param_matcher


def make(
    recorder=None, base_url=None, auth_base_url=None, state=None, access_token=TOKEN, **config
):
    credentials = YouTube.Credentials(
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        refresh_token=REFRESH,
        access_token=access_token,
    )
    if state is None and access_token:
        state = {"token_expires_at": (timezone.now() + timedelta(minutes=30)).isoformat()}
    return YouTube(
        credentials=credentials,
        recorder=recorder,
        state=state,
        organization="acme",
        config=YouTube.Config(base_url=base_url, auth_base_url=auth_base_url, **config),
    )


def run(provider, action, **data):
    return provider.run_action(action, YouTube.actions[action].schema(**data))


def yt(name):
    return fixture("youtube", name)


@pytest.fixture(autouse=True)
def no_backoff(monkeypatch):
    monkeypatch.setattr(YouTube, "resume_backoff", 0.0)


@pytest.fixture
def mocked():
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        yield rsps


@pytest.fixture
def uploads(settings, tmp_path):
    """The upload directory of the organization "acme" (the providers of these tests)."""
    settings.NEONHUB_UPLOAD_DIR = tmp_path
    (tmp_path / "acme").mkdir()
    return tmp_path / "acme"


def video_file(directory, size, name="pour-over.mp4"):
    path = directory / name
    path.write_bytes(os.urandom(size))
    return path


class UploadSession:
    """A resumable upload session on loopback that behaves as Google documents it.

    ``fail``: data requests (by number) answered 503 without storing; ``partial``: data
    requests after which only that many of their bytes are kept; ``slow``: data requests
    stored and then answered after a delay; ``expired``: status queries find no session.
    """

    def __init__(self, *, fail=(), partial=None, slow=None, expired=False):
        self.expired = expired
        self.received = bytearray()
        self.ranges: list[str] = []
        self.data_requests = 0
        self.fail, self.partial, self.slow = set(fail), partial or {}, slow or {}

    def handler(self, request):
        content_range = request.headers["Content-Range"]
        self.ranges.append(content_range)
        status = re.match(r"^bytes \*/(\d+)$", content_range)
        if status and self.expired:
            return Response(
                json.dumps(
                    {
                        "error": {
                            "code": 404,
                            "message": "Not Found",
                            "errors": [{"reason": "notFound", "domain": "global"}],
                        }
                    }
                ),
                status=404,
                content_type="application/json",
            )
        if status:
            return self._answer(int(status.group(1)))
        start, end, total = map(int, re.match(r"^bytes (\d+)-(\d+)/(\d+)$", content_range).groups())
        body = request.get_data()
        assert len(body) == end - start + 1 and start <= len(self.received)
        number, self.data_requests = self.data_requests, self.data_requests + 1
        if number in self.fail:
            return Response(
                json.dumps(yt("error_backend.json")), status=503, content_type="application/json"
            )
        self.received[start:] = body
        if number in self.partial:
            del self.received[start + self.partial[number] :]
        if number in self.slow:
            time.sleep(self.slow[number])
        return self._answer(total)

    def _answer(self, total):
        if len(self.received) == total:
            return Response(
                json.dumps(yt("video_uploaded.json")), status=201, content_type="application/json"
            )
        headers = {"Range": f"bytes=0-{len(self.received) - 1}"} if self.received else {}
        return Response("", status=308, headers=headers)


def serve_session(httpserver, session, quota_error=None):
    location = (
        httpserver.url_for("/upload/youtube/v3/videos")
        + "?uploadType=resumable&upload_id=ADPycdt9-xyz"
    )
    start = httpserver.expect_request(
        "/upload/youtube/v3/videos",
        method="POST",
        query_string={"uploadType": "resumable", "part": "snippet,status"},
    )
    if quota_error:
        start.respond_with_json(yt(quota_error), status=403)
    else:
        start.respond_with_response(Response("", status=200, headers={"Location": location}))
    httpserver.expect_request(
        "/upload/youtube/v3/videos",
        method="PUT",
        query_string={"uploadType": "resumable", "upload_id": "ADPycdt9-xyz"},
    ).respond_with_handler(session.handler)


@pytest.fixture
def local(httpserver, recorder):
    return make(recorder, base_url=httpserver.url_for("").rstrip("/"), upload_chunk_size=UNIT)


# --- upload: the exact request and the chunks ------------------------------------------------------


def test_upload_opens_a_resumable_session_with_the_documented_request(mocked, uploads):
    expected = yt("request_upload_start.json")
    path = video_file(uploads, 1000)
    session_url = (
        "https://www.googleapis.com/upload/youtube/v3/videos?uploadType=resumable&upload_id=AbC123"
    )
    mocked.add(
        responses.POST,
        "https://www.googleapis.com/upload/youtube/v3/videos",
        status=200,
        headers={"Location": session_url},
        match=[
            q({"uploadType": "resumable", "part": "snippet,status"}),
            json_body(expected["json"]),
        ],
    )
    mocked.add(responses.PUT, session_url, json=yt("video_uploaded.json"), status=200)

    result = run(
        make(),
        "upload_video",
        file_path=path.name,
        title="Pour-over in 60 seconds",
        description="Our head roaster shows the 4:6 method.",
        tags=["coffee", "pour over"],
        category_id="26",
        privacy_status="unlisted",
        made_for_kids=False,
    )

    start, chunk = mocked.calls[0].request, mocked.calls[1].request
    assert (start.method, start.url) == (expected["method"], expected["url"])
    for name, value in expected["headers"].items():
        assert start.headers[name] == value
    assert start.headers["X-Upload-Content-Length"] == "1000"
    assert start.headers["Authorization"] == f"Bearer {TOKEN}"
    assert chunk.headers["Content-Range"] == "bytes 0-999/1000"
    assert chunk.body == path.read_bytes()
    assert result.provider_id == VIDEO_ID
    assert result.output == {
        "video_id": VIDEO_ID,
        "url": f"https://www.youtube.com/watch?v={VIDEO_ID}",
        "title": "Pour-over in 60 seconds",
        "privacy_status": "unlisted",
        "upload_status": "uploaded",
        "bytes": 1000,
    }


def test_a_local_file_goes_up_in_chunks_of_the_configured_size(
    httpserver, local, uploads, recorder
):
    path = video_file(uploads, 2 * UNIT + 1000)
    session = UploadSession()
    serve_session(httpserver, session)

    result = run(local, "upload_video", file_path=str(path), title="Pour-over in 60 seconds")

    assert session.ranges == [
        f"bytes 0-{UNIT - 1}/{2 * UNIT + 1000}",
        f"bytes {UNIT}-{2 * UNIT - 1}/{2 * UNIT + 1000}",
        f"bytes {2 * UNIT}-{2 * UNIT + 999}/{2 * UNIT + 1000}",
    ]
    assert bytes(session.received) == path.read_bytes()
    assert result.output["video_id"] == VIDEO_ID
    assert [s.name for s in recorder.steps] == ["youtube.upload_start"] + [
        "youtube.upload_chunk"
    ] * 3


def test_a_failed_chunk_is_resumed_from_what_the_session_has(httpserver, local, uploads):
    path = video_file(uploads, 3 * UNIT)
    session = UploadSession(fail={1})
    serve_session(httpserver, session)

    run(local, "upload_video", file_path=path.name, title="Pour-over")

    assert session.ranges == [
        f"bytes 0-{UNIT - 1}/{3 * UNIT}",
        f"bytes {UNIT}-{2 * UNIT - 1}/{3 * UNIT}",
        f"bytes */{3 * UNIT}",
        f"bytes {UNIT}-{2 * UNIT - 1}/{3 * UNIT}",
        f"bytes {2 * UNIT}-{3 * UNIT - 1}/{3 * UNIT}",
    ]
    assert bytes(session.received) == path.read_bytes()


def test_a_chunk_taken_only_in_part_continues_from_the_range(httpserver, local, uploads):
    path = video_file(uploads, 2 * UNIT)
    session = UploadSession(partial={0: 1000})
    serve_session(httpserver, session)

    run(local, "upload_video", file_path=path.name, title="Pour-over")

    assert session.ranges[1] == f"bytes 1000-{1000 + UNIT - 1}/{2 * UNIT}"
    assert bytes(session.received) == path.read_bytes()


def test_a_chunk_timeout_asks_the_session_and_carries_on(httpserver, monkeypatch, uploads):
    short_timeouts(monkeypatch, YouTube, timeout=(1.0, 0.3))
    path = video_file(uploads, 2 * UNIT)
    session = UploadSession(slow={0: 0.6})
    serve_session(httpserver, session)
    provider = make(base_url=httpserver.url_for("").rstrip("/"), upload_chunk_size=UNIT)

    run(provider, "upload_video", file_path=path.name, title="Pour-over")

    # The first chunk is never sent twice: the session is asked (once, or again if that
    # question also timed out while the server was still busy) and the upload carries on.
    first, *asked, last = session.ranges
    assert (first, last) == (
        f"bytes 0-{UNIT - 1}/{2 * UNIT}",
        f"bytes {UNIT}-{2 * UNIT - 1}/{2 * UNIT}",
    )
    assert asked and set(asked) == {f"bytes */{2 * UNIT}"}
    assert bytes(session.received) == path.read_bytes()


def test_an_upload_gives_up_after_the_resume_limit(httpserver, local, uploads, monkeypatch):
    monkeypatch.setattr(YouTube, "max_resumes", 2)
    path = video_file(uploads, 2 * UNIT)
    session = UploadSession(fail={0, 1, 2})
    serve_session(httpserver, session)

    with pytest.raises(ConnectorUnavailable) as caught:
        run(local, "upload_video", file_path=path.name, title="Pour-over")

    assert caught.value.provider_code == "backendError"
    assert session.data_requests == 3


def test_an_expired_session_is_unavailable_so_the_upload_starts_over(httpserver, local, uploads):
    path = video_file(uploads, UNIT)
    serve_session(httpserver, UploadSession(fail={0}, expired=True))

    with pytest.raises(ConnectorUnavailable, match="session expired") as caught:
        run(local, "upload_video", file_path=path.name, title="Pour-over")

    assert caught.value.http_status == 404


def test_a_download_of_known_size_is_relayed_chunk_by_chunk(httpserver, local):
    content = os.urandom(2 * UNIT + 500)
    httpserver.expect_request("/media/pour-over.mp4").respond_with_data(
        content, content_type="video/mp4"
    )
    session = UploadSession(partial={1: 300})
    serve_session(httpserver, session)

    result = run(
        local,
        "upload_video",
        video_url=httpserver.url_for("/media/pour-over.mp4"),
        title="Pour-over",
    )

    assert bytes(session.received) == content
    assert result.output["bytes"] == len(content)
    start = next(entry[0] for entry in httpserver.log if entry[0].method == "POST")
    assert start.headers["X-Upload-Content-Type"] == "video/mp4"
    assert start.headers["X-Upload-Content-Length"] == str(len(content))


def test_a_download_without_a_length_is_spooled_to_a_temporary_file(httpserver, local):
    content = os.urandom(UNIT + 10)

    def chunked(request):
        return Response(
            iter([content[:UNIT], content[UNIT:]]),
            content_type="application/octet-stream",
            direct_passthrough=True,
        )

    httpserver.expect_request("/media/live.mov").respond_with_handler(chunked)
    session = UploadSession(
        fail={0}
    )  # a resume needs bytes the stream already gave: the spool has them
    serve_session(httpserver, session)

    result = run(
        local, "upload_video", video_url=httpserver.url_for("/media/live.mov"), title="Live pour"
    )

    assert bytes(session.received) == content
    assert result.output["bytes"] == len(content)
    start = next(entry[0] for entry in httpserver.log if entry[0].method == "POST")
    assert start.headers["X-Upload-Content-Type"] == "video/quicktime"


def test_a_spooled_download_is_bounded(httpserver, local, monkeypatch):
    monkeypatch.setattr(YouTube, "max_spool_bytes", 1000)

    def chunked(request):
        return Response(iter([b"x" * 800, b"x" * 800]), direct_passthrough=True)

    httpserver.expect_request("/media/huge.mp4").respond_with_handler(chunked)

    with pytest.raises(ConnectorRejected, match="larger than 1000 bytes"):
        run(local, "upload_video", video_url=httpserver.url_for("/media/huge.mp4"), title="Huge")


def test_an_empty_download_is_rejected(httpserver, local):
    httpserver.expect_request("/media/empty.mp4").respond_with_handler(
        lambda request: Response(iter([b""]), direct_passthrough=True)
    )

    with pytest.raises(ConnectorRejected, match="empty"):
        run(local, "upload_video", video_url=httpserver.url_for("/media/empty.mp4"), title="Empty")


@pytest.mark.parametrize(
    ("status", "error"), [(404, ConnectorRejected), (502, ConnectorUnavailable)]
)
def test_a_failed_download_names_the_video_url(mocked, status, error):
    mocked.add(
        responses.GET, "https://cdn.acme.example/reels/pour-over.mp4", body="nope", status=status
    )

    with pytest.raises(error, match=f"input.video_url answered HTTP {status}"):
        run(
            make(),
            "upload_video",
            video_url="https://cdn.acme.example/reels/pour-over.mp4",
            title="Pour-over",
        )


def test_a_download_shorter_than_announced_is_unavailable(uploads):
    class Truncated:
        def read(self, amount, decode_content=False):
            return b""

    source = VideoSource(Truncated(), 5000, "video/mp4", stream=True)
    with pytest.raises(ConnectorUnavailable, match="ended before its announced length"):
        make(upload_chunk_size=UNIT)._put_chunk("https://www.googleapis.com/upload/x", source, 0)


def test_a_stream_cannot_rewind_past_the_chunk_it_keeps():

    class Stream:
        def __init__(self):
            self.data = memoryview(bytes(range(256)) * 8)

        def read(self, amount, decode_content=False):
            piece, self.data = bytes(self.data[:amount]), self.data[amount:]
            return piece

    source = VideoSource(Stream(), 2048, "video/mp4", stream=True)
    assert source.read(0, 512) == bytes(range(256)) * 2
    assert source.read(1024, 256) == bytes(range(256))  # skips what was never kept
    with pytest.raises(ConnectorUnavailable, match="cannot replay"):
        source.read(100, 10)


def test_quota_exhaustion_waits_until_midnight_pacific(httpserver, local, uploads):
    path = video_file(uploads, 100)
    serve_session(httpserver, UploadSession(), quota_error="error_quota_exceeded.json")

    with pytest.raises(ConnectorRateLimited) as caught:
        run(local, "upload_video", file_path=path.name, title="Pour-over")

    assert caught.value.provider_code == "quotaExceeded"
    assert abs(caught.value.retry_after - seconds_until_quota_reset()) < 5


def test_a_session_without_location_is_unavailable(mocked, uploads):
    video_file(uploads, 100)
    mocked.add(responses.POST, "https://www.googleapis.com/upload/youtube/v3/videos", status=200)

    with pytest.raises(ConnectorUnavailable, match="no Location"):
        run(make(), "upload_video", file_path="pour-over.mp4", title="Pour-over")


# --- upload input ----------------------------------------------------------------------------------


def test_a_local_file_must_be_inside_the_upload_directory(uploads, tmp_path_factory):
    outside = tmp_path_factory.mktemp("elsewhere") / "secrets.json"
    outside.write_text("{}")
    for path in (
        str(outside),
        "../" + outside.parent.name + "/secrets.json",
        "../other/clip.mp4",
        " ",
    ):
        with pytest.raises(ValidationError) as caught:
            YouTube.actions["upload_video"].schema(file_path=path, title="x")
        assert caught.value.errors()[0]["loc"] == ("file_path",)
        assert "inside the upload directory" in caught.value.errors()[0]["msg"]


@pytest.mark.parametrize(
    ("size", "message"),
    [(None, "no such file in this organization's upload directory"), (0, "empty")],
)
def test_a_local_file_must_exist_and_hold_bytes(uploads, size, message):
    if size is not None:
        (uploads / "clip.mp4").write_bytes(b"")
    with pytest.raises(ConnectorRejected, match=message) as caught:
        run(make(), "upload_video", file_path="clip.mp4", title="x")
    assert caught.value.details[0]["field"] == "input.file_path" and not caught.value.transient


def test_an_organization_reads_only_its_own_upload_directory(uploads):
    other = uploads.parent / "globex"
    other.mkdir()
    video_file(other, 100, name="launch.mp4")
    video_file(uploads.parent, 100, name="shared.mp4")  # the old shared root is not read either
    for name in ("launch.mp4", "shared.mp4"):
        with pytest.raises(ConnectorRejected, match="no such file"):
            run(make(), "upload_video", file_path=name, title="x")
    with pytest.raises(ConnectorRejected, match="inside the upload directory"):
        run(
            make(), "upload_video", file_path=str(other / "launch.mp4"), title="x"
        )  # absolute, someone else's
    stranger = make()
    stranger.organization = ""
    video_file(uploads, 100, name="launch.mp4")
    with pytest.raises(ConnectorRejected, match="only be uploaded by an organization's connector"):
        run(stranger, "upload_video", file_path="launch.mp4", title="x")


@pytest.mark.parametrize(
    "data",
    [
        {"title": "x"},
        {"title": "x", "file_path": "a.mp4", "video_url": "https://cdn.acme.example/a.mp4"},
    ],
)
def test_an_upload_takes_exactly_one_source(uploads, data):
    (uploads / "a.mp4").write_bytes(b"1")
    with pytest.raises(ValidationError, match="exactly one"):
        YouTube.actions["upload_video"].schema(**data)


@pytest.mark.parametrize(
    ("data", "loc"),
    [
        ({"title": "<b>Loud</b>"}, "title"),
        ({"title": "x" * 101}, "title"),
        ({"title": "ok", "tags": ["t" * 250, "u" * 250]}, "tags"),
        ({"title": "ok", "privacy_status": "secret"}, "privacy_status"),
    ],
)
def test_video_metadata_follows_youtubes_rules(data, loc):
    with pytest.raises(ValidationError) as caught:
        YouTube.actions["upload_video"].schema(video_url="https://cdn.acme.example/a.mp4", **data)
    assert caught.value.errors()[0]["loc"] == (loc,)


@override_settings(NEONHUB_ALLOW_PRIVATE_URLS=False)
def test_a_video_url_must_be_public(mocked):
    with pytest.raises(InvalidInput) as caught:
        run(make(), "upload_video", video_url="http://169.254.169.254/latest/meta-data", title="x")
    assert caught.value.details[0]["field"] == "input.video_url"


@pytest.mark.parametrize("size", [1000, 3 * UNIT + 1])
def test_chunk_size_must_be_a_multiple_of_256_kib(size):
    with pytest.raises(ValidationError) as caught:
        YouTube.Config(upload_chunk_size=size)
    assert caught.value.errors()[0]["loc"] == ("upload_chunk_size",)


# --- update, stats, comments -------------------------------------------------------------------------


def test_update_keeps_the_fields_it_does_not_change(mocked):
    mocked.add(
        responses.GET,
        f"{API}/videos",
        json=yt("videos_list_snippet.json"),
        match=[q({"part": "snippet", "id": VIDEO_ID})],
    )
    mocked.add(
        responses.PUT,
        f"{API}/videos",
        json=yt("video_updated.json"),
        match=[
            q({"part": "snippet"}),
            json_body(
                {
                    "id": VIDEO_ID,
                    "snippet": {
                        "title": "Pour-over in 60 seconds (4:6 method)",
                        "description": "Our head roaster shows the 4:6 method.",
                        "tags": ["coffee", "pour over", "brewing"],
                        "categoryId": "26",
                        "defaultLanguage": "en",
                    },
                }
            ),
        ],
    )

    result = run(
        make(), "update_video", video_id=VIDEO_ID, title="Pour-over in 60 seconds (4:6 method)"
    )

    assert result.output["title"] == "Pour-over in 60 seconds (4:6 method)"
    assert result.output["category_id"] == "26"
    assert result.provider_id == VIDEO_ID


def test_making_a_video_public_keeps_its_status_and_drops_the_schedule(mocked):
    mocked.add(
        responses.GET,
        f"{API}/videos",
        json=yt("videos_list_snippet_status.json"),
        match=[q({"part": "snippet,status", "id": VIDEO_ID})],
    )
    mocked.add(
        responses.PUT,
        f"{API}/videos",
        json=yt("video_updated_public.json"),
        match=[
            q({"part": "snippet,status"}),
            json_body(
                {
                    "id": VIDEO_ID,
                    "snippet": {
                        "title": "Pour-over in 60 seconds",
                        "description": "Our head roaster shows the 4:6 method.",
                        "tags": ["pour over"],
                        "categoryId": "26",
                        "defaultLanguage": "en",
                    },
                    "status": {
                        "privacyStatus": "public",
                        "license": "youtube",
                        "embeddable": True,
                        "publicStatsViewable": True,
                        "selfDeclaredMadeForKids": False,
                    },
                }
            ),
        ],
    )

    result = run(
        make(), "update_video", video_id=VIDEO_ID, tags=["pour over"], privacy_status="public"
    )

    assert result.output["privacy_status"] == "public"


def test_keeping_a_video_private_keeps_its_scheduled_publish_time(mocked):
    mocked.add(responses.GET, f"{API}/videos", json=yt("videos_list_snippet_status.json"))
    mocked.add(responses.PUT, f"{API}/videos", json=yt("video_updated.json"))

    run(make(), "update_video", video_id=VIDEO_ID, privacy_status="private")

    assert json.loads(mocked.calls[1].request.body)["status"]["publishAt"] == "2026-12-01T17:00:00Z"


def test_update_of_an_unknown_video_is_rejected_after_one_read(mocked):
    mocked.add(responses.GET, f"{API}/videos", json=yt("videos_list_empty.json"))

    with pytest.raises(ConnectorRejected, match="not found") as caught:
        run(make(), "update_video", video_id=VIDEO_ID, title="x")

    assert caught.value.provider_code == "videoNotFound"
    assert len(mocked.calls) == 1


def test_update_needs_something_to_change():
    with pytest.raises(ValidationError, match="at least one field"):
        YouTube.actions["update_video"].schema(video_id=VIDEO_ID)


def test_update_of_someone_elses_video_is_rejected(mocked):
    mocked.add(responses.GET, f"{API}/videos", json=yt("videos_list_snippet.json"))
    mocked.add(responses.PUT, f"{API}/videos", json=yt("error_forbidden.json"), status=403)

    with pytest.raises(ConnectorRejected) as caught:
        run(make(), "update_video", video_id=VIDEO_ID, title="x")

    assert caught.value.provider_code == "forbidden"
    assert len(mocked.calls) == 2


def test_video_stats_are_numbers(mocked):
    mocked.add(
        responses.GET,
        f"{API}/videos",
        json=yt("videos_list_statistics.json"),
        match=[
            q({"part": "statistics", "id": VIDEO_ID}),
            responses.matchers.header_matcher({"Authorization": f"Bearer {TOKEN}"}),
        ],
    )

    result = run(make(), "get_video_stats", video_id=VIDEO_ID)

    assert result.output == {
        "video_id": VIDEO_ID,
        "views": 15234,
        "likes": 812,
        "comments": 97,
        "favorites": 0,
    }


def test_hidden_likes_are_reported_as_unknown(mocked):
    mocked.add(responses.GET, f"{API}/videos", json=yt("videos_list_statistics_hidden_likes.json"))

    assert run(make(), "get_video_stats", video_id=VIDEO_ID).output["likes"] is None


def test_post_comment_finds_the_videos_channel_and_inserts_a_thread(mocked):
    expected = yt("request_comment_thread.json")
    listing = yt("videos_list_snippet.json")
    listing["items"][0]["snippet"]["channelId"] = OTHER_CHANNEL
    mocked.add(
        responses.GET, f"{API}/videos", json=listing, match=[q({"part": "snippet", "id": VIDEO_ID})]
    )
    mocked.add(
        responses.POST,
        f"{API}/commentThreads",
        json=yt("comment_thread.json"),
        match=[q({"part": "snippet"}), json_body(expected["json"])],
    )

    result = run(
        make(), "post_comment", video_id=VIDEO_ID, text="Great technique, thanks for sharing!"
    )

    assert (mocked.calls[1].request.method, mocked.calls[1].request.url) == (
        expected["method"],
        expected["url"],
    )
    assert result.output["comment_id"] == "UgzDE2tasfmrYLyNkGt4AaABAg"
    assert (
        result.output["url"]
        == f"https://www.youtube.com/watch?v={VIDEO_ID}&lc=UgzDE2tasfmrYLyNkGt4AaABAg"
    )


def test_post_comment_with_a_known_channel_makes_one_call(mocked):
    mocked.add(responses.POST, f"{API}/commentThreads", json=yt("comment_thread.json"))

    run(make(), "post_comment", video_id=VIDEO_ID, text="Nice", channel_id=OTHER_CHANNEL)

    assert len(mocked.calls) == 1


def test_comments_disabled_is_rejected(mocked):
    mocked.add(
        responses.POST, f"{API}/commentThreads", json=yt("error_comments_disabled.json"), status=403
    )

    with pytest.raises(ConnectorRejected) as caught:
        run(make(), "post_comment", video_id=VIDEO_ID, text="Nice", channel_id=OTHER_CHANNEL)

    assert caught.value.provider_code == "commentsDisabled"


# --- tokens and errors -------------------------------------------------------------------------------


def test_without_an_access_token_one_is_refreshed_and_handed_back(mocked, recorder):
    expected = yt("request_token.json")
    mocked.add(responses.POST, TOKEN_URL, json=yt("token.json"))
    mocked.add(responses.GET, f"{API}/videos", json=yt("videos_list_statistics.json"))
    provider = make(recorder, access_token=None)

    run(provider, "get_video_stats", video_id=VIDEO_ID)

    token_request = mocked.calls[0].request
    assert (token_request.method, token_request.url) == (expected["method"], expected["url"])
    assert dict(parse_qsl(token_request.body)) == expected["form"]
    assert provider.updated_credentials == {"access_token": TOKEN}
    assert (
        timedelta(minutes=59)
        < parse_datetime(provider.state["token_expires_at"]) - timezone.now()
        <= timedelta(hours=1)
    )
    assert [s.name for s in recorder.steps] == ["youtube.token", "youtube.videos_list.statistics"]


def test_a_401_refreshes_the_token_once_and_repeats(mocked):
    mocked.add(
        responses.GET, f"{API}/videos", json=yt("error_invalid_credentials.json"), status=401
    )
    mocked.add(responses.POST, TOKEN_URL, json=yt("token.json"))
    mocked.add(responses.GET, f"{API}/videos", json=yt("videos_list_statistics.json"))

    run(make(access_token="ya29.revoked"), "get_video_stats", video_id=VIDEO_ID)

    assert mocked.calls[2].request.headers["Authorization"] == f"Bearer {TOKEN}"


def test_a_revoked_refresh_token_is_named_and_not_retried(mocked):
    mocked.add(responses.POST, TOKEN_URL, json=yt("token_invalid_grant.json"), status=400)

    with pytest.raises(ConnectorAuth) as caught:
        run(make(access_token=None), "get_video_stats", video_id=VIDEO_ID)

    assert caught.value.provider_code == "invalid_grant"
    assert "refresh token" in caught.value.message and "expired or revoked" in caught.value.message
    assert REFRESH not in caught.value.message and CLIENT_SECRET not in caught.value.message
    assert len(mocked.calls) == 1


@pytest.mark.parametrize(
    ("body", "status", "error", "text"),
    [
        (yt("token_invalid_client.json"), 401, ConnectorAuth, "client id or client secret"),
        ({"error": "invalid_scope"}, 400, ConnectorAuth, "invalid_scope"),
        ({}, 503, ConnectorUnavailable, "HTTP 503"),
    ],
)
def test_token_endpoint_failures_are_classified(mocked, body, status, error, text):
    mocked.add(responses.POST, TOKEN_URL, json=body, status=status)

    with pytest.raises(error, match=text):
        run(make(access_token=None), "get_video_stats", video_id=VIDEO_ID)


def test_a_missing_scope_is_an_auth_error(mocked):
    mocked.add(
        responses.POST,
        f"{API}/commentThreads",
        json=yt("error_insufficient_permissions.json"),
        status=403,
    )

    with pytest.raises(ConnectorAuth):
        run(make(), "post_comment", video_id=VIDEO_ID, text="Nice", channel_id=OTHER_CHANNEL)


def test_a_rate_limit_reason_waits_a_minute(mocked):
    mocked.add(responses.GET, f"{API}/videos", json=yt("error_rate_limit.json"), status=403)

    with pytest.raises(ConnectorRateLimited) as caught:
        run(make(), "get_video_stats", video_id=VIDEO_ID)

    assert (caught.value.provider_code, caught.value.retry_after) == ("rateLimitExceeded", 60.0)


def test_an_invalid_title_is_rejected(mocked):
    mocked.add(responses.GET, f"{API}/videos", json=yt("videos_list_snippet.json"))
    mocked.add(responses.PUT, f"{API}/videos", json=yt("error_invalid_title.json"), status=400)

    with pytest.raises(ConnectorRejected, match="invalid video title"):
        run(make(), "update_video", video_id=VIDEO_ID, title="Pour-over")


@pytest.mark.parametrize(
    ("status", "error"), [(502, ConnectorUnavailable), (404, ConnectorRejected)]
)
def test_an_answer_without_a_google_error_is_classified_by_status(mocked, status, error):
    mocked.add(responses.GET, f"{API}/videos", body="<html>oops</html>", status=status)

    with pytest.raises(error):
        run(make(), "get_video_stats", video_id=VIDEO_ID)


def test_a_read_is_retried_after_a_backend_error(httpserver, local):
    httpserver.expect_ordered_request("/youtube/v3/videos").respond_with_json(
        yt("error_backend.json"), status=503
    )
    httpserver.expect_ordered_request("/youtube/v3/videos").respond_with_json(
        yt("videos_list_statistics.json")
    )

    assert run(local, "get_video_stats", video_id=VIDEO_ID).output["views"] == 15234
    assert len(httpserver.log) == 2


def test_a_comment_is_not_repeated_after_a_backend_error(httpserver, local):
    httpserver.expect_request("/youtube/v3/commentThreads", method="POST").respond_with_json(
        yt("error_backend.json"), status=503
    )

    with pytest.raises(ConnectorUnavailable) as caught:
        run(local, "post_comment", video_id=VIDEO_ID, text="Nice", channel_id=OTHER_CHANNEL)

    assert caught.value.provider_code == "backendError"
    assert len(httpserver.log) == 1


def _slow(seconds, payload):
    def handler(request):
        time.sleep(seconds)
        return Response(json.dumps(payload), content_type="application/json")

    return handler


def test_a_comment_timeout_is_an_unknown_outcome(httpserver, monkeypatch):
    short_timeouts(monkeypatch, YouTube)
    httpserver.expect_request("/youtube/v3/commentThreads").respond_with_handler(
        _slow(0.8, yt("comment_thread.json"))
    )

    with pytest.raises(OutcomeUnknown):
        run(
            make(base_url=httpserver.url_for("").rstrip("/")),
            "post_comment",
            video_id=VIDEO_ID,
            text="Nice",
            channel_id=OTHER_CHANNEL,
        )

    assert wait_for_log(httpserver, 1) == 1


def test_a_stats_timeout_is_unavailable_after_the_retries(httpserver, monkeypatch):
    short_timeouts(monkeypatch, YouTube, timeout=(1.0, 0.2))
    httpserver.expect_request("/youtube/v3/videos").respond_with_handler(
        _slow(0.3, yt("videos_list_statistics.json"))
    )

    with pytest.raises(ConnectorUnavailable):
        run(make(base_url=httpserver.url_for("").rstrip("/")), "get_video_stats", video_id=VIDEO_ID)

    assert wait_for_log(httpserver, 3) == 3


def test_the_token_endpoint_can_be_overridden(httpserver):
    base = httpserver.url_for("").rstrip("/")
    httpserver.expect_ordered_request("/token", method="POST").respond_with_json(yt("token.json"))
    httpserver.expect_ordered_request("/youtube/v3/videos").respond_with_json(
        yt("videos_list_statistics.json")
    )

    run(
        make(base_url=base, auth_base_url=base, access_token=None),
        "get_video_stats",
        video_id=VIDEO_ID,
    )

    assert httpserver.log[1][0].headers["Authorization"] == f"Bearer {TOKEN}"


# --- quota ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "seconds"),
    [
        (datetime(2026, 11, 24, 7, 0, tzinfo=UTC), 3600.0),  # 23:00 PST
        (datetime(2026, 11, 1, 7, 30, tzinfo=UTC), 24.5 * 3600),  # 00:30 PDT on the day DST ends
        (
            datetime(2026, 3, 8, 7, 59, 30, tzinfo=UTC),
            60.0,
        ),  # 23:59:30 PST: never less than a minute
    ],
)
def test_quota_resets_at_midnight_pacific(now, seconds):
    assert seconds_until_quota_reset(now) == seconds


def test_budgets_follow_the_quota_buckets():
    quota, metrics, uploads = YouTube.budgets
    assert (metrics.limit, metrics.actions) == (1000, ("post_metrics",))
    assert "post_metrics" in quota.actions and quota_cost("post_metrics", {}) == 1
    assert (quota.limit, quota.per_seconds) == (10_000, 86400)
    assert "upload_video" not in quota.actions
    assert (uploads.limit, uploads.per_seconds, uploads.actions) == (100, 86400, ("upload_video",))
    assert quota_cost("update_video", {}) == 51
    assert quota_cost("get_video_stats", {}) == 1
    assert quota_cost("post_comment", {}) == 51
    assert quota_cost("post_comment", {"channel_id": OTHER_CHANNEL}) == 50
    assert quota.cost is quota_cost
    # The framework hands the validated input, not a dict.
    comment = YouTube.actions["post_comment"].schema(
        video_id=VIDEO_ID, text="Hi", channel_id=OTHER_CHANNEL
    )
    assert quota_cost("post_comment", comment) == 50


def test_outbox_target_names_the_video_or_the_channel(uploads):
    provider = make(channel_id=CHANNEL)
    comment = YouTube.actions["post_comment"].schema(video_id=VIDEO_ID, text="Hi")
    upload = YouTube.actions["upload_video"].schema(
        video_url="https://cdn.acme.example/a.mp4", title="x"
    )
    assert provider.outbox_target("post_comment", comment) == VIDEO_ID
    assert provider.outbox_target("upload_video", upload) == CHANNEL


def test_action_flags():
    for name in ("upload_video", "update_video", "post_comment"):
        assert YouTube.actions[name].side_effect and not YouTube.actions[name].safe_to_repeat
    assert YouTube.actions["get_video_stats"].safe_to_repeat


def test_credentials_are_named_and_never_shown():
    with pytest.raises(ValidationError) as caught:
        YouTube.Credentials(client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
    assert caught.value.errors()[0]["loc"] == ("refresh_token",)
    credentials = YouTube.Credentials(
        client_id=CLIENT_ID, client_secret=CLIENT_SECRET, refresh_token=REFRESH
    )
    assert REFRESH not in repr(credentials) and CLIENT_SECRET not in credentials.model_dump_json()


# --- connection test and sandbox ------------------------------------------------------------------------


def test_connection_test_reads_the_channel(mocked):
    mocked.add(
        responses.GET,
        f"{API}/channels",
        json=yt("channels_mine.json"),
        match=[q({"part": "id", "mine": "true"})],
    )

    result = make(channel_id=CHANNEL).test()

    assert result.ok and CHANNEL in result.message


def test_connection_test_spots_another_channel(mocked):
    mocked.add(responses.GET, f"{API}/channels", json=yt("channels_mine.json"))

    result = make(channel_id=OTHER_CHANNEL).test()

    assert not result.ok and f"not {OTHER_CHANNEL}" in result.message


def test_connection_test_reports_an_account_without_a_channel(mocked):
    mocked.add(responses.GET, f"{API}/channels", json=yt("channels_none.json"))

    assert not make().test().ok


def test_connection_test_reports_a_revoked_grant_without_raising(mocked):
    mocked.add(responses.POST, TOKEN_URL, json=yt("token_invalid_grant.json"), status=400)

    result = make(access_token=None).test()

    assert not result.ok and "refresh token" in result.message


def test_sandbox_answers_like_youtube_without_network(mocked):
    provider = make(channel_id=CHANNEL)
    upload = provider.sandbox(
        "upload_video",
        YouTube.actions["upload_video"].schema(
            video_url="https://cdn.acme.example/a.mp4", title="Pour-over"
        ),
    )
    update = provider.sandbox(
        "update_video", YouTube.actions["update_video"].schema(video_id=VIDEO_ID, title="New")
    )
    comment = provider.sandbox(
        "post_comment", YouTube.actions["post_comment"].schema(video_id=VIDEO_ID, text="Hi")
    )
    stats = provider.sandbox(
        "get_video_stats", YouTube.actions["get_video_stats"].schema(video_id=VIDEO_ID)
    )

    assert len(upload.provider_id) == 11 and upload.output["url"].endswith(upload.provider_id)
    assert update.output["title"] == "New"
    assert comment.output["channel_id"] == CHANNEL and comment.output["text"] == "Hi"
    assert stats.output["views"] == 0
    assert len(mocked.calls) == 0
