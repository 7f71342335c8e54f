"""SocialAgent publish to TikTok: a video and a privacy level chosen from the account's options."""

from __future__ import annotations

import json

import pytest

from agents.forms import GROUP_SEP, IntentForm
from connectors.models import OutboundMessage
from connectors.services import connector_create
from neonhub.core.errors import InvalidInput
from runs.models import AgentRun
from tests.connectors.providers.messaging_helpers import fixture

pytestmark = pytest.mark.django_db

VIDEO = "https://cdn.acme.example/launch.mp4"
POST = {
    "text": "Calm releases in 60 seconds.",
    "videoUrl": VIDEO,
    "hashtags": ["launch"],
    "platforms": ["tiktok"],
    "tiktok": {"privacyLevel": "SELF_ONLY", "allowComments": True},
}


@pytest.fixture(autouse=True)
def quick_polls(monkeypatch):
    from connectors.providers.tiktok import TikTok

    monkeypatch.setattr(TikTok, "poll_interval", 0.0)


def tiktok(org, *, mode="sandbox", base_url=None):
    return connector_create(
        organization=org,
        provider="tiktok",
        name=f"TikTok {mode}",
        mode=mode,
        credentials={"access_token": "act.example12345Example12345Example"},
        config={"base_url": base_url} if base_url else {},
    )


def test_publish_to_tiktok_through_a_sandbox_connector(run_intent, org):
    tiktok(org)
    run = run_intent("social", "publish", POST)

    assert run.status == "completed", run.error_context
    result = run.output["results"]["tiktok"]
    assert (result["status"], result["action"], result["sandbox"]) == (
        "published",
        "publish_video",
        True,
    )
    assert result["permalink"].startswith("https://www.tiktok.com/@neonhub.sandbox/video/")
    row = OutboundMessage.objects.get(run_id=run.id)
    assert (row.provider, row.action, row.status) == ("tiktok", "publish_video", "sent")


def test_publish_live_to_tiktok_sends_the_choices_and_polls(run_intent, org, httpserver):
    tiktok(org, mode="live", base_url=httpserver.url_for("").rstrip("/"))
    httpserver.expect_request("/v2/post/publish/creator_info/query/").respond_with_json(
        fixture("tiktok", "creator_info.json")
    )
    httpserver.expect_request("/v2/post/publish/video/init/").respond_with_json(
        fixture("tiktok", "video_init_pull.json")
    )
    httpserver.expect_request("/v2/post/publish/status/fetch/").respond_with_json(
        fixture("tiktok", "status_publish_complete.json")
    )

    run = run_intent("social", "publish", POST)

    assert run.status == "completed", run.error_context
    assert run.output["results"]["tiktok"]["postId"] == "7311481178390941000"
    init = next(req for req, _ in httpserver.log if req.path.endswith("/video/init/"))
    assert init.get_json()["post_info"] == {
        "title": "Calm releases in 60 seconds.\n\n#launch",
        "privacy_level": "SELF_ONLY",
        "disable_comment": False,
        "disable_duet": True,
        "disable_stitch": True,
        "brand_content_toggle": False,
        "brand_organic_toggle": False,
        "is_aigc": False,
    }


def test_a_privacy_level_the_account_does_not_offer_is_reported_failed(run_intent, org, httpserver):
    tiktok(org, mode="live", base_url=httpserver.url_for("").rstrip("/"))
    httpserver.expect_request("/v2/post/publish/creator_info/query/").respond_with_json(
        fixture("tiktok", "creator_info_private.json")
    )
    run = run_intent(
        "social", "publish", {**POST, "tiktok": {"privacyLevel": "PUBLIC_TO_EVERYONE"}}
    )

    assert run.status == "completed", run.error_context
    result = run.output["results"]["tiktok"]
    assert (result["status"], result["providerCode"]) == (
        "failed",
        "privacy_level_option_mismatch",
    )
    assert [req.path for req, _ in httpserver.log] == ["/v2/post/publish/creator_info/query/"]


@pytest.mark.parametrize(
    "change, field",
    [
        ({"videoUrl": None}, "payload.videoUrl"),
        ({"tiktok": None}, "payload.tiktok.privacyLevel"),
        ({"tiktok": {"allowDuet": True}}, "payload.tiktok.privacyLevel"),
    ],
)
def test_a_tiktok_post_without_video_or_privacy_is_refused_up_front(run_intent, org, change, field):
    tiktok(org)
    with pytest.raises(InvalidInput) as refused:
        run_intent("social", "publish", {**POST, **change})
    assert refused.value.details[0]["field"] == field
    assert not AgentRun.objects.exists() and not OutboundMessage.objects.exists()


def form(org):
    from agents.registry import get_agent

    schema = get_agent("social").get_intent("publish").json_schema()
    return IntentForm(
        schema=schema, agent="social", intent="publish", organization=org, prefix="input"
    )


def test_the_publish_form_offers_only_the_accounts_privacy_levels_and_interactions(org):
    tiktok(org)  # the sandbox account: no FOLLOWER_OF_CREATOR, Stitch switched off

    fields = form(org).fields

    privacy = fields[f"tiktok{GROUP_SEP}privacyLevel"]
    assert [value for value, _ in privacy.choices] == [
        "",
        "PUBLIC_TO_EVERYONE",
        "MUTUAL_FOLLOW_FRIENDS",
        "SELF_ONLY",
    ]
    assert privacy.choices[0][1] == "Choose…"  # no privacy level is chosen in advance
    assert "@neonhub.sandbox" in privacy.help_text
    assert fields[f"tiktok{GROUP_SEP}allowStitch"].disabled
    assert not fields[f"tiktok{GROUP_SEP}allowComments"].disabled
    assert "600 seconds" in fields[f"tiktok{GROUP_SEP}durationSeconds"].help_text


def test_the_publish_form_reads_a_live_accounts_options(org, httpserver):
    tiktok(org, mode="live", base_url=httpserver.url_for("").rstrip("/"))
    httpserver.expect_request("/v2/post/publish/creator_info/query/").respond_with_json(
        fixture("tiktok", "creator_info_private.json")
    )

    fields = form(org).fields

    assert [v for v, _ in fields[f"tiktok{GROUP_SEP}privacyLevel"].choices] == [
        "",
        "FOLLOWER_OF_CREATOR",
        "SELF_ONLY",
    ]
    assert all(
        fields[f"tiktok{GROUP_SEP}{name}"].disabled
        for name in ("allowComments", "allowDuet", "allowStitch")
    )


def test_the_publish_form_says_when_the_options_cannot_be_read(org):
    help_text = form(org).fields[f"tiktok{GROUP_SEP}privacyLevel"].help_text
    assert "no TikTok connector yet" in help_text


def test_the_start_page_shows_the_tiktok_choices_and_refuses_a_missing_privacy_level(
    org, owner_client
):
    tiktok(org)
    page = owner_client.get("/runs/new/?task=social/publish").content.decode()
    assert '<option value="SELF_ONLY">Only me</option>' in page
    assert "FOLLOWER_OF_CREATOR" not in page
    stitch = page[page.index('name="input-tiktok__allowStitch"') - 200 :][:400]
    assert "disabled" in stitch

    answer = owner_client.post(
        "/runs/new/",
        {
            "task": "social/publish",
            "input-text": "Calm releases.",
            "input-videoUrl": VIDEO,
            "input-platforms": ["tiktok"],
            "input-tiktok__allowComments": "on",
        },
    )

    assert answer.status_code == 422
    assert "TikTok needs a privacy level" in answer.content.decode()
    assert not AgentRun.objects.exists()


def test_a_video_still_processing_reschedules_the_run_which_then_posts_once(
    run_intent, org, httpserver
):
    from agents import executor
    from agents.registry import get_agent

    tiktok(org, mode="live", base_url=httpserver.url_for("").rstrip("/"))
    httpserver.expect_request("/v2/post/publish/creator_info/query/").respond_with_json(
        fixture("tiktok", "creator_info.json")
    )
    httpserver.expect_request("/v2/post/publish/video/init/").respond_with_json(
        fixture("tiktok", "video_init_pull.json")
    )
    polls = []

    def status(request):
        from werkzeug import Response

        polls.append(request.get_json()["publish_id"])
        name = (
            "status_processing_download.json" if len(polls) <= 4 else "status_publish_complete.json"
        )
        return Response(json.dumps(fixture("tiktok", name)), content_type="application/json")

    httpserver.expect_request("/v2/post/publish/status/fetch/").respond_with_handler(status)

    run = run_intent("social", "publish", POST)

    assert (run.status, run.error_code) == ("queued", "CONNECTOR_UNAVAILABLE")
    assert run.next_attempt_at is not None  # waits in the queue, not in a worker
    assert run.max_attempts == get_agent("social").max_attempts + 1  # the wait used no attempt
    AgentRun.objects.filter(pk=run.pk).update(next_attempt_at=None)
    executor.execute_run(run.id)
    run.refresh_from_db()

    assert run.status == "completed", run.error_context
    assert run.output["results"]["tiktok"]["postId"] == "7311481178390941000"
    paths = [req.path for req, _ in httpserver.log]
    assert paths.count("/v2/post/publish/video/init/") == 1  # the second attempt only polls
    assert set(polls) == {"v_pub_url~v2-1.7311480532893696000"}
    assert OutboundMessage.objects.get(run_id=run.id).status == "sent"


@pytest.mark.parametrize("intent", ["generate-post", "optimize-caption"])
def test_captions_are_written_for_tiktok_within_its_limit(run_intent, intent):
    long = "Our calm release planning keeps small teams shipping every week. " * 60 + "#launch"
    run = run_intent("social", intent, {"content": long, "platform": "TT"})

    assert run.status == "completed", run.error_context
    assert run.metrics["platform"] == "tiktok"
    assert len(run.output["content"]) <= 2200


def test_the_form_reads_the_options_of_the_tiktok_connector_chosen(org, httpserver):
    live = tiktok(org, mode="live", base_url=httpserver.url_for("").rstrip("/"))
    tiktok(org)  # the sandbox account, the most recently edited: the default one
    httpserver.expect_request("/v2/post/publish/creator_info/query/").respond_with_json(
        fixture("tiktok", "creator_info_private.json")
    )
    from agents.registry import get_agent

    schema = get_agent("social").get_intent("publish").json_schema()
    chosen = IntentForm(
        {"input-connectors__tiktok": live.name},
        schema=schema,
        agent="social",
        intent="publish",
        organization=org,
        prefix="input",
    )
    assert [v for v, _ in chosen.fields[f"tiktok{GROUP_SEP}privacyLevel"].choices] == [
        "",
        "FOLLOWER_OF_CREATOR",
        "SELF_ONLY",
    ]
    assert len(httpserver.log) == 1
