"""Batches: inputs read in chunks, one run per input, in-flight limits, pause/resume/cancel, resume after a crash."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from agents.automation import batches
from agents.automation.models import Batch, BatchItem, BatchStatus, ItemStatus
from connectors.models import OutboundMessage
from neonhub.core.errors import AgentNotRegistered, Conflict, InvalidInput
from runs.models import AgentRun, RunStatus
from tests.factories import (
    AgentRunFactory,
    ConnectorFactory,
    ContactListFactory,
    ContactListMembershipFactory,
    SuppressionFactory,
)

pytestmark = pytest.mark.django_db


def _csv(text: str) -> SimpleUploadedFile:
    return SimpleUploadedFile("inputs.csv", text.encode(), content_type="text/csv")


def _triage(n: int) -> list[dict]:
    return [{"content": f"Ticket {i}: checkout is down"} for i in range(n)]


def _finish_runs(batch, status=RunStatus.COMPLETED):
    ids = BatchItem.objects.filter(batch=batch, status=ItemStatus.QUEUED).values("run_id")
    AgentRun.objects.filter(pk__in=ids).update(status=status)


def test_a_json_batch_runs_every_input_once(org, sync_runs):
    with sync_runs():
        batch = batches.batch_create_json(
            organization=org,
            name="Triage",
            agent="support",
            intent="triage",
            items=_triage(7),
            defaults={"channel": "email"},
        )
    batch.refresh_from_db()
    assert (batch.status, batch.total, batch.done, batch.failed, batch.fed) == (
        "completed",
        7,
        7,
        0,
        7,
    )
    items = list(BatchItem.objects.filter(batch=batch).select_related("run"))
    assert [i.index for i in items] == list(range(7))
    assert {i.run.trigger for i in items} == {"batch"}
    assert items[3].run.idempotency_key == f"batch:{batch.pk}:3"
    assert items[3].input == {"channel": "email", "content": "Ticket 3: checkout is down"}
    progress = batches.batch_progress(batch)
    assert (
        progress["remaining"],
        progress["percent"],
        progress["in_flight"],
        progress["eta_seconds"],
    ) == (0, 100.0, 0, None)


def test_a_csv_campaign_sends_one_sms_per_row_and_an_opted_out_number_gets_none(
    org, twilio_sms, sync_runs
):
    SuppressionFactory(
        organization=org, channel="sms", address="+14155550102", source="opt_out_keyword"
    )
    text = (
        "Phone,First name,Offer\n+14155550100,Ada,20%\n+14155550101,Charles,15%\n"
        "+14155550102,Grace,10%\n"
    )
    with sync_runs():
        batch = batches.batch_create_csv(
            organization=org,
            name="Spring sale",
            agent="messaging",
            intent="send-sms",
            upload=_csv(text),
            mapping={"to": "Phone", "variables.name": "First name", "variables.offer": "Offer"},
            defaults={"body": "Hi {{name}}, {{offer}} off today only. Reply STOP to opt out."},
        )
    batch.refresh_from_db()
    assert (batch.status, batch.done, batch.failed) == ("completed", 2, 1)
    sent = OutboundMessage.objects.filter(status="sent").order_by("target")
    assert [m.response["body"] for m in sent] == [
        "Hi Ada, 20% off today only. Reply STOP to opt out.",
        "Hi Charles, 15% off today only. Reply STOP to opt out.",
    ]
    blocked = BatchItem.objects.get(batch=batch, status=ItemStatus.FAILED)
    assert blocked.index == 2 and "suppression list" in blocked.error
    assert not OutboundMessage.objects.filter(target="+14155550102", status="sent").exists()


def test_csv_without_a_mapping_uses_the_column_names(org, sync_runs):
    with sync_runs():
        batch = batches.batch_create_csv(
            organization=org,
            name="",
            agent="support",
            intent="triage",
            upload=_csv("content,channel\nHello there,chat\n"),
        )
    batch.refresh_from_db()
    assert batch.name == "support/triage" and batch.mapping == {
        "content": "content",
        "channel": "channel",
    }
    assert BatchItem.objects.get(batch=batch).input == {"content": "Hello there", "channel": "chat"}


def test_a_contact_list_batch_links_each_message_to_its_contact(org, twilio_sms, sync_runs):
    vip = ContactListFactory(organization=org, name="VIP")
    people = [
        ContactListMembershipFactory(contact_list=vip, contact__name=n, contact__phone=p).contact
        for n, p in (("Ada Lovelace", "+14155550100"), ("Grace Hopper", "+14155550101"))
    ]
    with sync_runs():
        batch = batches.batch_create_list(
            organization=org,
            name="VIP",
            agent="messaging",
            intent="send-sms",
            contact_list=vip,
            defaults={"body": "Hello {{first_name}}"},
        )
    batch.refresh_from_db()
    assert (batch.status, batch.done) == ("completed", 2)
    rows = {m.contact_id: m.response["body"] for m in OutboundMessage.objects.all()}
    assert rows == {people[0].pk: "Hello Ada", people[1].pk: "Hello Grace"}


def test_without_an_in_flight_limit_the_feeder_goes_a_chunk_at_a_time(org, settings):
    settings.NEONHUB_ORG_MAX_IN_FLIGHT = 0
    batch = batches.batch_create_json(
        organization=org, name="x", agent="support", intent="triage", items=_triage(8)
    )
    assert batches.batch_feed(batch_id=batch.pk)["fed"] == 8


def test_feeding_respects_the_organizations_in_flight_limit(org, settings):
    settings.NEONHUB_ORG_MAX_IN_FLIGHT = 3
    batch = batches.batch_create_json(
        organization=org, name="x", agent="support", intent="triage", items=_triage(8)
    )
    assert batches.batch_feed(batch_id=batch.pk)["fed"] == 3
    assert batches.batch_feed(batch_id=batch.pk)["fed"] == 0  # no room: three runs are still queued
    _finish_runs(batch)
    result = batches.batch_feed(batch_id=batch.pk)
    assert (result["finished"], result["fed"]) == (3, 3)
    batch.refresh_from_db()
    progress = batches.batch_progress(batch)
    assert (progress["done"], progress["in_flight"], progress["remaining"]) == (3, 3, 5)
    assert progress["rate_per_second"] > 0 and progress["eta_seconds"] is not None


def test_runs_of_other_work_in_the_organization_count_towards_the_limit(org, other_org, settings):
    settings.NEONHUB_ORG_MAX_IN_FLIGHT = 2
    from agents.services import run_start

    run_start(organization=org, agent="support", intent="triage", payload={"content": "api run"})
    run_start(
        organization=other_org, agent="support", intent="triage", payload={"content": "not ours"}
    )
    batch = batches.batch_create_json(
        organization=org, name="x", agent="support", intent="triage", items=_triage(4)
    )
    assert batches.batch_feed(batch_id=batch.pk)["fed"] == 1


def test_a_batch_pauses_itself_when_too_many_inputs_fail_and_says_why(org, settings, sync_runs):
    settings.NEONHUB_BATCH_FAILURE_MIN = 4
    settings.NEONHUB_BATCH_FAILURE_THRESHOLD = 0.5
    settings.NEONHUB_ORG_MAX_IN_FLIGHT = 2
    with sync_runs():
        batch = batches.batch_create_json(
            organization=org,
            name="x",
            agent="testing",
            intent="reject",
            items=[{"text": str(i)} for i in range(20)],
        )
    batch.refresh_from_db()
    assert batch.status == BatchStatus.PAUSED
    assert "failed" in batch.pause_reason and "50% threshold" in batch.pause_reason
    assert 4 <= batch.failed < 20 and batch.fed < 20


def test_resume_measures_the_failure_rate_afresh_and_feeds_again(org, settings):
    settings.NEONHUB_ORG_MAX_IN_FLIGHT = 2
    batch = batches.batch_create_json(
        organization=org, name="x", agent="support", intent="triage", items=_triage(5)
    )
    batches.batch_feed(batch_id=batch.pk)
    batches.batch_pause(batch=batch, reason="Checking the copy")
    _finish_runs(batch, RunStatus.FAILED)
    assert batches.batch_feed(batch_id=batch.pk)["fed"] == 0  # paused: counted, nothing new
    batch.refresh_from_db()
    assert (batch.status, batch.failed, batch.pause_reason) == ("paused", 2, "Checking the copy")
    with pytest.raises(Conflict):
        batches.batch_pause(batch=batch)
    batches.batch_resume(batch=batch)
    batch.refresh_from_db()
    assert (batch.rate_base_finished, batch.rate_base_failed) == (2, 2)
    assert batches.batch_feed(batch_id=batch.pk)["fed"] == 2
    with pytest.raises(Conflict):
        batches.batch_resume(batch=batch)


def test_cancel_stops_feeding_and_cancels_queued_runs(org, settings):
    settings.NEONHUB_ORG_MAX_IN_FLIGHT = 3
    batch = batches.batch_create_json(
        organization=org, name="x", agent="support", intent="triage", items=_triage(9)
    )
    batches.batch_feed(batch_id=batch.pk)
    batches.batch_cancel(batch=batch)
    assert set(AgentRun.objects.values_list("status", flat=True)) == {"cancelled"}
    batches.batch_feed(batch_id=batch.pk)
    batch.refresh_from_db()
    assert (batch.status, batch.cancelled, batch.fed, batch.feed_requested_at) == (
        "cancelled",
        3,
        3,
        None,
    )
    assert batches.batch_progress(batch)["remaining"] == 6
    with pytest.raises(Conflict):
        batches.batch_cancel(batch=batch)


def test_a_crash_while_feeding_leaves_nothing_half_done_and_the_next_pass_resumes(org, monkeypatch):
    batch = batches.batch_create_csv(
        organization=org,
        name="x",
        agent="support",
        intent="triage",
        upload=_csv("content\n" + "".join(f"Row {i}\n" for i in range(6))),
    )
    real = batches._start_item
    calls = {"n": 0}

    def dying(b, index, record):
        calls["n"] += 1
        if calls["n"] == 4:
            raise RuntimeError("worker killed")
        return real(b, index, record)

    monkeypatch.setattr(batches, "_start_item", dying)
    with pytest.raises(RuntimeError):
        batches.batch_feed(batch_id=batch.pk)
    batch.refresh_from_db()
    assert (batch.fed, batch.feed_cursor) == (0, 0)
    assert not BatchItem.objects.exists() and not AgentRun.objects.exists()
    monkeypatch.setattr(batches, "_start_item", real)
    batches.batch_feed(batch_id=batch.pk)
    items = list(BatchItem.objects.filter(batch=batch).order_by("index"))
    assert [i.input["content"] for i in items] == [f"Row {i}" for i in range(6)]
    assert AgentRun.objects.count() == 6


def test_csv_is_read_in_chunks_from_the_byte_offset_including_quoted_newlines(
    org, monkeypatch, settings
):
    monkeypatch.setattr(batches, "FEED_CHUNK", 2)
    text = 'content,channel\n"Line one\nline two",chat\n"Say ""hi""",email\nThird,\n\nFourth,phone\nFifth,chat\n'
    batch = batches.batch_create_csv(
        organization=org, name="x", agent="support", intent="triage", upload=_csv(text)
    )
    assert batch.total == 5
    for _ in range(3):
        batches.batch_feed(batch_id=batch.pk)
        _finish_runs(batch)
    batches.batch_feed(batch_id=batch.pk)
    batch.refresh_from_db()
    inputs = [i.input for i in BatchItem.objects.filter(batch=batch).order_by("index")]
    assert [i["content"] for i in inputs] == [
        "Line one\nline two",
        'Say "hi"',
        "Third",
        "Fourth",
        "Fifth",
    ]
    assert inputs[2] == {"content": "Third"}
    assert (batch.status, batch.done, batch.fed_all) == ("completed", 5, True)


def test_the_stored_input_file_is_deleted_once_the_batch_is_over(
    org, django_capture_on_commit_callbacks
):
    from django.core.files.storage import default_storage

    batch = batches.batch_create_csv(
        organization=org,
        name="x",
        agent="support",
        intent="triage",
        upload=_csv("content\nHello\n"),
    )
    name = batch.source_file.name
    batches.batch_feed(batch_id=batch.pk)
    _finish_runs(batch)
    assert default_storage.exists(name)
    with django_capture_on_commit_callbacks(execute=True):
        batches.batch_feed(batch_id=batch.pk)
    assert not default_storage.exists(name)


def test_an_input_the_intent_refuses_fails_alone(org):
    batch = batches.batch_create_json(
        organization=org,
        name="x",
        agent="support",
        intent="triage",
        items=[{"content": "ok"}, {"content": ""}, {"content": "ok too"}],
    )
    batches.batch_feed(batch_id=batch.pk)
    failed = BatchItem.objects.get(batch=batch, status=ItemStatus.FAILED)
    assert failed.index == 1 and failed.run_id is None and "Content" in failed.error
    batch.refresh_from_db()
    assert batch.failed == 1


def test_an_input_that_fails_its_pre_run_checks_fails_alone(org):
    ConnectorFactory(organization=org, provider="twilio_sms", name="Main")
    batch = batches.batch_create_json(
        organization=org,
        name="x",
        agent="messaging",
        intent="send-sms",
        items=[
            {"to": "+14155550100", "body": "hi"},
            {"to": "+14155550101", "body": "hi", "connector": "Gone"},
            {"to": "+14155550102", "body": "hi"},
        ],
    )
    batches.batch_feed(batch_id=batch.pk)
    failed = BatchItem.objects.get(batch=batch, status=ItemStatus.FAILED)
    assert failed.index == 1 and failed.run_id is None
    assert "There is no Twilio SMS connector named “Gone”" in failed.error
    assert AgentRun.objects.filter(batch_id=batch.pk).count() == 2
    batch.refresh_from_db()
    assert batch.failed == 1


def test_a_run_that_disappeared_counts_as_failed(org):
    batch = batches.batch_create_json(
        organization=org, name="x", agent="support", intent="triage", items=_triage(2)
    )
    batches.batch_feed(batch_id=batch.pk)
    AgentRun.objects.all().delete()
    batches.batch_feed(batch_id=batch.pk)
    batch.refresh_from_db()
    assert (batch.failed, batch.status) == (2, "completed")


@pytest.mark.parametrize(
    "items, field",
    [([], "items"), ("x", "items"), ([1], "items.0"), ([{"wrong": 1}], "payload.content")],
)
def test_json_batches_refuse_unusable_inputs(org, items, field):
    with pytest.raises(InvalidInput) as exc:
        batches.batch_create_json(
            organization=org, name="x", agent="support", intent="triage", items=items
        )
    assert field in exc.value.details[0]["field"]


def test_other_creation_errors(org, monkeypatch):
    monkeypatch.setattr(batches, "MAX_JSON_ITEMS", 2)
    with pytest.raises(InvalidInput, match="at most 2"):
        batches.batch_create_json(
            organization=org, name="x", agent="support", intent="triage", items=_triage(3)
        )
    with pytest.raises(AgentNotRegistered):
        batches.batch_create_json(
            organization=org, name="x", agent="nobody", intent="x", items=_triage(1)
        )
    with pytest.raises(InvalidInput, match="defaults"):
        batches.batch_create_json(
            organization=org,
            name="x",
            agent="support",
            intent="triage",
            items=_triage(1),
            defaults=["x"],
        )
    with pytest.raises(InvalidInput, match="no column named Phone"):
        batches.batch_create_csv(
            organization=org,
            name="x",
            agent="support",
            intent="triage",
            upload=_csv("content\nhi\n"),
            mapping={"content": "Phone"},
        )
    with pytest.raises(InvalidInput, match="no data rows"):
        batches.batch_create_csv(
            organization=org, name="x", agent="support", intent="triage", upload=_csv("content\n")
        )
    with pytest.raises(InvalidInput, match="row 2"):
        batches.batch_create_csv(
            organization=org,
            name="x",
            agent="support",
            intent="triage",
            upload=_csv("content\nfine\ntoo,many\n"),
        )
    with pytest.raises(InvalidInput, match="Row 1"):
        batches.batch_create_csv(
            organization=org,
            name="x",
            agent="support",
            intent="triage",
            upload=_csv("text\nhello\n"),
        )
    empty = ContactListFactory(organization=org, name="Empty")
    with pytest.raises(InvalidInput, match="no contacts"):
        batches.batch_create_list(
            organization=org, name="x", agent="messaging", intent="send-sms", contact_list=empty
        )
    assert not Batch.objects.exists()


def test_a_finished_batch_run_nudges_its_feeder_once(org, monkeypatch):
    batch = batches.batch_create_json(
        organization=org, name="x", agent="support", intent="triage", items=_triage(2)
    )
    batches.batch_feed(batch_id=batch.pk)
    sent = []
    monkeypatch.setattr(batches, "_enqueue", lambda batch_id: sent.append(batch_id))
    run = AgentRun.objects.filter(trigger="batch").first()
    batches.batch_run_finished(run_id=run.pk)
    assert sent == []  # still queued: nothing freed
    AgentRun.objects.filter(pk=run.pk).update(status="completed")
    batches.batch_run_finished(run_id=run.pk)
    batches.batch_run_finished(run_id=run.pk)  # a nudge is already pending: no second feeder
    assert sent == [batch.pk]
    other = AgentRunFactory(organization=org, status=RunStatus.COMPLETED)
    batches.batch_run_finished(run_id=other.pk)
    assert len(sent) == 1


def test_a_run_finds_its_batch_by_its_batch_id_column_not_its_key(org, monkeypatch):
    batch = batches.batch_create_json(
        organization=org, name="x", agent="support", intent="triage", items=_triage(2)
    )
    batches.batch_feed(batch_id=batch.pk)
    assert set(AgentRun.objects.filter(trigger="batch").values_list("batch_id", flat=True)) == {
        batch.pk
    }
    Batch.objects.filter(pk=batch.pk).update(feed_pending=False)
    sent = []
    monkeypatch.setattr(batches, "_enqueue", lambda batch_id: sent.append(batch_id))
    lookalike = AgentRunFactory(
        organization=org, trigger="batch", status="completed", idempotency_key=f"batch:{batch.pk}:7"
    )
    batches.batch_run_finished(run=lookalike)
    assert sent == []  # a key that looks like a batch's is not an origin
    keyless = AgentRunFactory(organization=org, trigger="batch", status="failed", batch_id=batch.pk)
    batches.batch_run_finished(run=keyless)
    assert sent == [batch.pk]


def test_cancelling_a_batch_cancels_its_queued_runs_found_by_batch_id(org):
    batch = batches.batch_create_json(
        organization=org, name="x", agent="support", intent="triage", items=_triage(3)
    )
    batches.batch_feed(batch_id=batch.pk)
    other = AgentRunFactory(organization=org, status="queued")
    batches.batch_cancel(batch=batch)
    statuses = AgentRun.objects.filter(batch_id=batch.pk).values_list("status", flat=True)
    assert list(statuses) == ["cancelled"] * 3
    other.refresh_from_db()
    assert other.status == "queued"


def test_the_minute_sweep_nudges_batches_whose_nudge_was_lost(org, monkeypatch):
    from agents.automation.tasks import schedules_due

    batch = batches.batch_create_json(
        organization=org, name="x", agent="support", intent="triage", items=_triage(2)
    )
    sent = []
    monkeypatch.setattr(batches, "_enqueue", lambda batch_id: sent.append(batch_id))
    assert batches.batches_sweep() == 0  # asked for just now
    Batch.objects.filter(pk=batch.pk).update(
        feed_requested_at=timezone.now() - timedelta(minutes=5)
    )
    assert schedules_due()["batches_nudged"] == 1
    assert sent == [batch.pk]


def test_feeding_a_deleted_batch_does_nothing(org):
    import uuid

    assert batches.batch_feed(batch_id=uuid.uuid4()) == {"gone": True}


def test_the_feeder_task_entry_point(org):
    from agents.automation.tasks import batch_feed

    batch = batches.batch_create_json(
        organization=org, name="x", agent="support", intent="triage", items=_triage(1)
    )
    assert batch_feed(str(batch.pk))["fed"] == 1


def test_a_scheduled_run_holds_no_place_in_the_batch_in_flight_limit(org):
    AgentRunFactory(organization=org, next_attempt_at=timezone.now() + timedelta(days=7))
    AgentRunFactory(organization=org)
    AgentRunFactory(organization=org, status=RunStatus.RUNNING)
    assert batches.org_in_flight(org.id) == 2
