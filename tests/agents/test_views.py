from __future__ import annotations

import uuid

import pytest

from agents import services
from runs.models import AgentRun, RunStatus
from tests.factories import AgentRunFactory

pytestmark = pytest.mark.django_db


def test_start_page_lists_every_agent_and_intent(owner_client):
    page = owner_client.get("/runs/new/").content.decode()
    assert (
        '<option value="support/triage"' in page
        and '<a href="?task=support/triage">triage</a>' in page
    )
    assert "<title>Start a run · NeonHub</title>" in page


def test_choosing_an_intent_shows_labelled_fields_from_its_schema(owner_client):
    page = owner_client.get("/runs/new/?task=support/triage").content.decode()
    assert '<label for="id_input-content">Content' in page and 'id="id_input-content"' in page
    assert '<select name="input-channel" id="id_input-channel">' in page
    assert '<input type="hidden" name="task" value="support/triage">' in page


def test_submitting_the_form_starts_a_ui_run_and_lands_on_it(
    owner_client, owner, org, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        resp = owner_client.post(
            "/runs/new/",
            {
                "task": "support/triage",
                "input-content": "Site is down, urgent!",
                "input-channel": "email",
            },
        )
    run = AgentRun.objects.get()
    assert resp.status_code == 302 and resp["Location"] == f"/runs/{run.id}/"
    assert (run.trigger, run.created_by, run.input) == (
        "ui",
        owner,
        {"content": "Site is down, urgent!", "channel": "email"},
    )
    run.refresh_from_db()
    assert run.status == RunStatus.COMPLETED and run.output["priority"] == "urgent"


def test_schema_errors_come_back_next_to_the_field_with_422(owner_client):
    resp = owner_client.post(
        "/runs/new/", {"task": "support/triage", "input-content": "x" * 20_001}
    )
    assert resp.status_code == 422
    page = resp.content.decode()
    assert "at most 20000 characters" in page and 'class="field invalid"' in page
    assert AgentRun.objects.count() == 0


def test_whole_input_errors_are_shown_above_the_fields(owner_client):
    resp = owner_client.post("/runs/new/", {"task": "support/support"})
    assert resp.status_code == 422
    assert "Notes or subject is required." in resp.content.decode()


def test_an_outside_failure_before_the_run_exists_is_said_above_the_fields(
    owner_client, monkeypatch
):
    from neonhub.core.errors import ConnectorUnavailable

    def refuse(**kwargs):
        raise ConnectorUnavailable("Google Ads did not answer; try again in a minute")

    monkeypatch.setattr(services, "run_start", refuse)
    resp = owner_client.post(
        "/runs/new/", {"task": "support/triage", "input-content": "Checkout is down"}
    )
    assert resp.status_code == 503
    page = resp.content.decode()
    assert "The run could not start: Google Ads did not answer" in page
    assert "Checkout is down" in page  # the input is kept
    assert AgentRun.objects.count() == 0


def test_form_errors_are_422_and_nothing_starts(owner_client):
    resp = owner_client.post(
        "/runs/new/", {"task": "support/triage", "input-content": "", "input-metadata": "{"}
    )
    assert resp.status_code == 422
    page = resp.content.decode()
    assert "This field is required." in page and "Not valid JSON" in page
    assert AgentRun.objects.count() == 0


@pytest.mark.parametrize("task", ["nope/triage", "support/dance"])
def test_unknown_agent_or_intent_is_422_on_the_chooser(owner_client, task):
    resp = owner_client.get(f"/runs/new/?task={task}")
    assert resp.status_code == 422
    assert 'id="task-error"' in resp.content.decode()


def test_viewers_see_no_form_and_cannot_post(viewer_client):
    page = viewer_client.get("/runs/new/?task=support/triage").content.decode()
    assert "can look at runs but not start them" in page and "input-content" not in page
    assert "Start a run</a>" not in page.split("<main")[0]  # not in the navigation either
    resp = viewer_client.post("/runs/new/", {"task": "support/triage", "input-content": "hi"})
    assert resp.status_code == 403 and AgentRun.objects.count() == 0


def test_start_page_refuses_other_methods(owner_client):
    assert owner_client.put("/runs/new/").status_code == 405


def test_cancel_a_queued_run(owner_client, org):
    run = AgentRunFactory(organization=org)
    resp = owner_client.post(f"/runs/{run.id}/cancel/", follow=True)
    run.refresh_from_db()
    assert run.status == RunStatus.CANCELLED
    assert (
        resp.redirect_chain[-1][0] == f"/runs/{run.id}/"
        and "Run cancelled." in resp.content.decode()
    )


def test_cancel_a_running_run_asks_it_to_stop(owner_client, org):
    run = AgentRunFactory(organization=org, status=RunStatus.RUNNING)
    page = owner_client.post(f"/runs/{run.id}/cancel/", follow=True).content.decode()
    run.refresh_from_db()
    assert run.cancel_requested_at is not None and "stops at its next step" in page


def test_cancelling_a_finished_run_explains_why_not(owner_client, org):
    run = AgentRunFactory(organization=org, status=RunStatus.COMPLETED)
    page = owner_client.post(f"/runs/{run.id}/cancel/", follow=True).content.decode()
    assert "The run is already completed" in page


def test_retry_a_failed_run_lands_on_the_new_linked_run(owner_client, owner, org, run_now):
    failed, _ = run_now(
        services.run_start,
        organization=org,
        agent="testing",
        intent="boom",
        payload={"text": "x"},
    )
    resp = run_now(owner_client.post, f"/runs/{failed.id}/retry/")
    new = AgentRun.objects.get(parent=failed)
    assert resp.status_code == 302 and resp["Location"] == f"/runs/{new.id}/"
    assert (new.trigger, new.created_by, new.input) == ("retry", owner, {"text": "x"})


def test_retrying_a_completed_run_explains_why_not(owner_client, org):
    run = AgentRunFactory(organization=org, status=RunStatus.COMPLETED)
    page = owner_client.post(f"/runs/{run.id}/retry/", follow=True).content.decode()
    assert "Only failed or cancelled runs can be retried" in page


@pytest.mark.parametrize("action", ["cancel", "retry"])
def test_viewers_cannot_cancel_or_retry(viewer_client, org, action):
    run = AgentRunFactory(
        organization=org, status=RunStatus.FAILED if action == "retry" else RunStatus.QUEUED
    )
    assert viewer_client.post(f"/runs/{run.id}/{action}/").status_code == 403
    run.refresh_from_db()
    assert (
        run.status in (RunStatus.FAILED, RunStatus.QUEUED)
        and not AgentRun.objects.filter(parent=run).exists()
    )


@pytest.mark.parametrize("action", ["cancel", "retry"])
def test_actions_need_post_and_a_run_of_this_organization(owner_client, org, other_org, action):
    mine = AgentRunFactory(organization=org)
    assert owner_client.get(f"/runs/{mine.id}/{action}/").status_code == 405
    assert owner_client.post(f"/runs/{uuid.uuid4()}/{action}/").status_code == 404
    assert (
        owner_client.post(
            f"/runs/{AgentRunFactory(organization=other_org).id}/{action}/"
        ).status_code
        == 404
    )


def test_viewers_see_everything_but_no_buttons(viewer_client, org):
    failed = AgentRunFactory(organization=org, status=RunStatus.FAILED, error_code="TIMEOUT")
    queued = AgentRunFactory(organization=org)
    assert str(failed.id) in viewer_client.get("/").content.decode()
    assert "Start a run" not in viewer_client.get("/").content.decode()
    for run in (failed, queued):
        page = viewer_client.get(f"/runs/{run.id}/").content.decode()
        assert "/retry/" not in page and "/cancel/" not in page
    assert viewer_client.get("/overview/").status_code == 200


def test_run_again_shows_the_old_input_and_starts_a_new_lineage(owner_client, owner, org, run_now):
    old = AgentRunFactory(
        organization=org,
        agent="support",
        intent="triage",
        status=RunStatus.COMPLETED,
        input={"content": "login broken"},
    )
    detail = owner_client.get(f"/runs/{old.id}/").content.decode()
    assert f'href="/runs/{old.id}/rerun/" id="run-rerun"' in detail
    form = owner_client.get(f"/runs/{old.id}/rerun/").content.decode()
    assert "login broken</textarea>" in form and "use Retry on its page, when it offers one" in form
    resp = run_now(owner_client.post, f"/runs/{old.id}/rerun/", {"input-content": "reset fails"})
    new = AgentRun.objects.get(parent=old)
    assert resp.status_code == 302 and resp["Location"] == f"/runs/{new.id}/"
    assert (new.trigger, new.created_by, new.input) == ("ui", owner, {"content": "reset fails"})
    assert new.lineage_id == new.id != old.lineage_id
    page = owner_client.get(f"/runs/{new.id}/").content.decode()
    assert "Run again from" in page


def test_run_again_keeps_bad_input_in_the_form_and_refuses_strangers(owner_client, org, other_org):
    old = AgentRunFactory(organization=org, status=RunStatus.FAILED)
    resp = owner_client.post(f"/runs/{old.id}/rerun/", {"input-content": ""})
    assert resp.status_code == 422 and not AgentRun.objects.filter(parent=old).exists()
    foreign = AgentRunFactory(organization=other_org, status=RunStatus.FAILED)
    assert owner_client.get(f"/runs/{foreign.id}/rerun/").status_code == 404


def test_viewers_cannot_run_again(viewer_client, org):
    old = AgentRunFactory(organization=org, status=RunStatus.FAILED)
    assert viewer_client.post(f"/runs/{old.id}/rerun/", {"input-content": "x"}).status_code == 403
    assert not AgentRun.objects.filter(parent=old).exists()


# --- prefilled start forms: Duplicate, use_output_of, use_draft --------------------------------


def test_duplicate_opens_the_same_intent_prefilled(owner_client, org):
    old = AgentRunFactory(
        organization=org,
        agent="social",
        intent="publish",
        status=RunStatus.COMPLETED,
        input={
            "text": "Spring sale",
            "platforms": ["ig", "reddit"],
            "reddit": {"subreddit": "acme"},
        },
    )
    page = owner_client.get(f"/runs/new/?duplicate={old.id}")
    html = page.content.decode()
    assert page.status_code == 200
    assert 'name="task" value="social/publish"' in html
    assert "Spring sale</textarea>" in html
    # "ig" was stored as typed: the form ticks Instagram.
    assert 'value="instagram" id="id_input-platforms_1" checked' in html
    assert 'value="reddit" id="id_input-platforms_2" checked' in html
    assert 'name="input-reddit__subreddit" value="acme"' in html
    assert f"A copy of the input of run {old.id}." in html


def test_use_output_of_puts_the_article_into_the_new_intents_text(owner_client, org):
    article = AgentRunFactory(
        organization=org,
        agent="content",
        intent="generate-draft",
        status=RunStatus.COMPLETED,
        output={"title": "Spring is here", "body": "# Spring is here\n\nBloom.", "draftId": "x"},
    )
    post = owner_client.get(f"/runs/new/?task=social/publish&use_output_of={article.id}")
    # A post shows no formatting: the article comes as plain text, without "# ".
    assert ">\nSpring is here\n\nBloom.</textarea>" in post.content.decode()
    email = owner_client.get(f"/runs/new/?task=email/send&use_output_of={article.id}")
    html = email.content.decode()
    assert "Bloom.</textarea>" in html and 'name="input-subject" value="Spring is here"' in html
    assert "Body and Subject filled from run" in html


def test_use_output_of_a_sequence_takes_its_first_email(owner_client, org):
    run = AgentRunFactory(
        organization=org,
        agent="email",
        intent="generate-sequence",
        status=RunStatus.COMPLETED,
        output={"sequence": [{"day": 0, "subject": "Welcome", "body": "Hello there"}]},
    )
    html = owner_client.get(f"/runs/new/?task=email/send&use_output_of={run.id}").content.decode()
    assert "Hello there</textarea>" in html and 'value="Welcome"' in html


def test_use_draft_fills_body_and_title(owner_client, org):
    from tests.factories import ContentDraftFactory

    draft = ContentDraftFactory(organization=org, title="Launch notes", body="We launched.")
    html = owner_client.get(f"/runs/new/?task=email/send&use_draft={draft.id}").content.decode()
    assert "We launched.</textarea>" in html and 'name="input-subject" value="Launch notes"' in html


@pytest.mark.parametrize("param", ["duplicate", "use_output_of", "use_draft"])
def test_foreign_unknown_or_malformed_ids_are_404(owner_client, org, other_org, param):
    from tests.factories import ContentDraftFactory

    foreign = (
        ContentDraftFactory(organization=other_org)
        if param == "use_draft"
        else AgentRunFactory(organization=other_org, status=RunStatus.COMPLETED)
    )
    base = "/runs/new/?task=social/publish&" if param != "duplicate" else "/runs/new/?"
    for value in (foreign.id, uuid.uuid4(), "not-an-id"):
        assert owner_client.get(f"{base}{param}={value}").status_code == 404, value


def test_a_completed_run_offers_duplicate_and_edit_and_run_again(owner_client, org):
    run = AgentRunFactory(organization=org, status=RunStatus.COMPLETED, output={"category": "x"})
    page = owner_client.get(f"/runs/{run.id}/").content.decode()
    assert f'href="/runs/new/?duplicate={run.id}" id="run-duplicate"' in page
    assert f'href="/runs/{run.id}/rerun/" id="run-rerun"' in page and "Edit and run again" in page
    assert "/retry/" not in page


def test_a_pre_run_check_puts_its_message_next_to_the_field(owner_client, org, settings):
    settings.NEONHUB_ALLOW_PRIVATE_URLS = False
    resp = owner_client.post(
        "/runs/new/",
        {"task": "seo/seo-audit", "input-url": "http://192.168.1.10/"},
    )
    html = resp.content.decode()
    assert resp.status_code == 422 and not AgentRun.objects.exists()
    assert 'id="id_input-url_error"' in html
    assert "URL points to a private or local address; use a public one." in html


def test_a_missing_connector_without_a_field_is_shown_above_the_form(owner_client, org):
    resp = owner_client.post(
        "/runs/new/",
        {
            "task": "email/send",
            "input-subject": "Hi",
            "input-body": "Text",
            "input-recipients": "a@example.com",
        },
    )
    assert resp.status_code == 422 and not AgentRun.objects.exists()
    assert "There is no SMTP email connector to send email" in resp.content.decode()
