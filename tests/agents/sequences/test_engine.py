"""The engine: waits, conditions, exits, compliance and never sending a step twice."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from agents.mail.models import EmailEvent, EmailMessage, MessageStatus
from agents.sequences import engine, services
from agents.sequences.models import (
    Enrollment,
    EnrollmentStatus,
    EnrollmentStep,
    ExitReason,
    StepOutcome,
)
from connectors.models import OutboundMessage
from connectors.suppressions import suppression_add
from runs.models import AgentRun, RunStatus
from tests.agents.sequences.conftest import T0
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


def enroll(sequence, contacts, now=T0):
    return [
        services.enrollment_create(sequence=sequence, contact=c, now=now).enrollment
        for c in contacts
    ]


def message_to(address, step_subject):
    return EmailMessage.objects.get(to=address, subject__startswith=step_subject)


def test_first_step_goes_out_in_one_email_run_through_the_outbox(three_steps, people, tick):
    enroll(three_steps, people)
    done = tick()
    assert done["sent"] == 2
    runs = AgentRun.objects.filter(agent="email", intent="send")
    assert runs.count() == 1
    run = runs.get()
    assert run.status == RunStatus.COMPLETED
    assert run.trigger == "schedule"
    assert {r["email"] for r in run.input["recipients"]} == {"ada@example.org", "bob@example.org"}
    ada = message_to("ada@example.org", "Welcome")
    assert ada.subject == "Welcome Ada"
    assert OutboundMessage.objects.filter(organization=three_steps.organization).count() == 2
    steps = EnrollmentStep.objects.filter(outcome=StepOutcome.SENT)
    assert {s.run_id for s in steps} == {run.pk}
    e = Enrollment.objects.get(contact=people[0])
    assert e.position == 2
    assert e.next_step_at == T0 + timedelta(days=2)


def test_a_step_waits_its_wait_then_follows_the_condition(three_steps, people, tick):
    enroll(three_steps, people)
    tick()
    message_to("ada@example.org", "Welcome")
    EmailMessage.objects.filter(to="ada@example.org").update(first_opened_at=T0, opens=1)
    assert tick(now=T0 + timedelta(days=1))["sent"] == 0  # not due yet
    done = tick(now=T0 + timedelta(days=2))
    assert done == {**done, "sent": 1, "skipped": 1}
    assert EmailMessage.objects.filter(subject="Glad you looked").get().to == "ada@example.org"
    bob = Enrollment.objects.get(contact=people[1])
    assert bob.taken.get(step__position=2).outcome == StepOutcome.SKIPPED
    # The third step's wait counts from when the second was taken; then both are done.
    assert tick(now=T0 + timedelta(days=2, hours=4))["sent"] == 0
    done = tick(now=T0 + timedelta(days=2, hours=5))
    assert done["sent"] == 2 and done["completed"] == 2
    assert set(Enrollment.objects.values_list("status", flat=True)) == {EnrollmentStatus.COMPLETED}


@pytest.mark.parametrize(
    ("condition", "opened", "clicked", "replied", "sent"),
    [
        ("always", False, False, False, True),
        ("opened", True, False, False, True),
        ("opened", False, False, False, False),
        ("not_opened", False, False, False, True),
        ("not_opened", True, False, False, False),
        ("clicked", False, True, False, True),
        ("clicked", True, False, False, False),
        ("not_clicked", True, False, False, True),
        ("not_clicked", False, True, False, False),
        ("replied", False, False, True, True),
        ("replied", True, True, False, False),
        ("not_replied", False, False, False, True),
        ("not_replied", False, False, True, False),
    ],
)
def test_each_condition_reads_the_previous_email(condition, opened, clicked, replied, sent):
    message = EmailMessage(
        first_opened_at=timezone.now() if opened else None,
        first_clicked_at=timezone.now() if clicked else None,
        replied_at=timezone.now() if replied else None,
    )
    assert engine.condition_met(condition, message) is sent


def test_without_a_previous_email_only_the_negative_conditions_hold():
    assert engine.condition_met("opened", None) is False
    assert engine.condition_met("not_opened", None) is True


def test_a_reply_takes_the_contact_out(three_steps, people, tick):
    enroll(three_steps, people)
    tick()
    ada_msg = message_to("ada@example.org", "Welcome")
    EmailEvent.objects.create(
        organization=three_steps.organization,
        message=ada_msg,
        contact=people[0],
        kind="reply",
        at=T0 + timedelta(hours=3),
    )
    # The sweep takes her out at once, before her next step is due.
    tick(now=T0 + timedelta(hours=3, minutes=1))
    ada = Enrollment.objects.get(contact=people[0])
    assert (ada.status, ada.exit_reason) == (EnrollmentStatus.EXITED, ExitReason.REPLIED)
    assert Enrollment.objects.get(contact=people[1]).status == EnrollmentStatus.ACTIVE


def test_a_reply_does_not_exit_when_the_sequence_keeps_repliers(three_steps, people, tick):
    services.sequence_update(sequence=three_steps, exit_on_reply=False)
    enroll(three_steps, people[:1])
    tick()
    EmailEvent.objects.create(
        organization=three_steps.organization,
        message=message_to("ada@example.org", "Welcome"),
        contact=people[0],
        kind="reply",
        at=T0 + timedelta(hours=1),
    )
    tick(now=T0 + timedelta(days=5))
    assert Enrollment.objects.get().status == EnrollmentStatus.ACTIVE


def test_unsubscribed_and_suppressed_contacts_leave_before_the_next_step(three_steps, people, tick):
    enroll(three_steps, people)
    tick()
    EmailEvent.objects.create(
        organization=three_steps.organization,
        message=message_to("bob@example.org", "Welcome"),
        contact=people[1],
        kind="unsubscribe",
        at=T0 + timedelta(days=1),
    )
    suppression_add(
        organization=three_steps.organization,
        channel="email",
        address="ada@example.org",
        source="staff",
    )
    done = tick(now=T0 + timedelta(days=2))
    assert done["sent"] == 0 and done["exited"] == 2
    reasons = set(Enrollment.objects.values_list("exit_reason", flat=True))
    assert reasons == {ExitReason.UNSUBSCRIBED}
    assert not EmailMessage.objects.filter(subject="Glad you looked").exists()


def test_a_hard_bounce_exits_as_bounced(three_steps, people, tick):
    enroll(three_steps, people[:1])
    tick()
    EmailMessage.objects.filter(to="ada@example.org").update(status=MessageStatus.BOUNCED)
    tick(now=T0 + timedelta(days=2))
    assert Enrollment.objects.get().exit_reason == ExitReason.BOUNCED


def test_the_goal_reached_ends_the_sequence(three_steps, people, tick):
    services.sequence_update(sequence=three_steps, goal_kind="clicked", goal_value="/pricing")
    enroll(three_steps, people)
    tick()
    EmailEvent.objects.create(
        organization=three_steps.organization,
        message=message_to("ada@example.org", "Welcome"),
        contact=people[0],
        kind="click",
        url="https://acme.example/pricing?x=1",
        at=T0 + timedelta(hours=1),
    )
    EmailEvent.objects.create(  # a link scanner's click is not the person's
        organization=three_steps.organization,
        message=message_to("bob@example.org", "Welcome"),
        contact=people[1],
        kind="click",
        machine=True,
        url="https://acme.example/pricing",
        at=T0 + timedelta(hours=1),
    )
    tick(now=T0 + timedelta(days=2))
    assert Enrollment.objects.get(contact=people[0]).exit_reason == ExitReason.GOAL
    assert Enrollment.objects.get(contact=people[1]).status == EnrollmentStatus.ACTIVE


def test_a_tag_goal(three_steps, people, tick):
    services.sequence_update(sequence=three_steps, goal_kind="tag", goal_value="Customer")
    enroll(three_steps, people)
    tick()
    people[1].tags = ["customer"]
    people[1].save()
    tick(now=T0 + timedelta(days=2))
    assert Enrollment.objects.get(contact=people[1]).exit_reason == ExitReason.GOAL


def test_a_contact_without_required_consent_is_not_sent_and_leaves(three_steps, people, tick):
    org = three_steps.organization
    org.settings = {**(org.settings or {}), "require_consent": ["email"]}
    org.save()
    people[0].consent = {"email": {"status": "granted", "source": "form"}}
    people[0].save()
    enroll(three_steps, people)
    done = tick()
    assert done["sent"] == 1
    bob = Enrollment.objects.get(contact=people[1])
    assert (bob.status, bob.exit_reason) == (EnrollmentStatus.EXITED, ExitReason.UNSUBSCRIBED)
    assert not EmailMessage.objects.filter(to="bob@example.org").exists()


def test_a_repeated_tick_or_a_second_worker_never_sends_a_step_twice(three_steps, people, tick):
    enroll(three_steps, people)
    tick()
    tick()
    assert AgentRun.objects.filter(intent="send").count() == 1
    assert EmailMessage.objects.count() == 2
    # A second worker that read the same due rows before the first moved them takes nothing.
    enroll(
        three_steps, [ContactFactory(organization=three_steps.organization, email="c@example.org")]
    )
    late = Enrollment.objects.get(contact__email="c@example.org")
    Enrollment.objects.filter(pk=late.pk).update(position=2)  # moved on by the other worker
    done = engine.step_take(sequence_id=three_steps.pk, position=1, now=T0)
    assert done["claimed"] == 0


def test_a_claimed_chunk_is_not_taken_by_another_worker(three_steps, people):
    enroll(three_steps, people)
    Enrollment.objects.update(claim="00000000-0000-0000-0000-000000000001")
    assert engine.step_take(sequence_id=three_steps.pk, position=1, now=T0)["claimed"] == 0


def test_the_same_chunk_started_twice_is_one_run(three_steps, people):
    enrollments = enroll(three_steps, people)
    step = three_steps.steps.get(position=1)
    first, _ = engine._send(three_steps, step, enrollments)
    again, _ = engine._send(three_steps, step, enrollments)
    assert first == again
    assert AgentRun.objects.filter(intent="send").count() == 1


def test_a_step_that_cannot_start_stays_due_and_says_why(org, people, tick):
    # No SMTP connector: the run is refused before it exists.
    sequence = services.sequence_create(
        organization=org, name="No mail", steps=[{"subject": "Hi", "body": "Hello"}]
    )
    services.sequence_activate(sequence=sequence)
    enroll(sequence, people[:1])
    done = tick()
    assert done["sent"] == 0
    sequence.refresh_from_db()
    assert "could not be sent" in sequence.last_problem
    e = Enrollment.objects.get()
    assert (e.status, e.position, e.claim) == (EnrollmentStatus.ACTIVE, 1, None)
    assert not EnrollmentStep.objects.exists()


def test_a_missing_value_fails_that_contact_only(org, smtp, tick):
    sequence = services.sequence_create(
        organization=org,
        name="Plans",
        steps=[{"subject": "Your {{plan}}", "body": "Hi {{first_name|there}}"}],
    )
    services.sequence_activate(sequence=sequence)
    with_plan = ContactFactory(organization=org, email="p@example.org", attributes={"plan": "Pro"})
    without = ContactFactory(organization=org, email="n@example.org")
    enroll(sequence, [with_plan, without])
    done = tick()
    assert (done["sent"], done["failed"]) == (1, 1)
    assert EmailMessage.objects.get().subject == "Your Pro"
    assert Enrollment.objects.get(contact=without).taken.get().outcome == StepOutcome.FAILED


def test_a_paused_sequence_sends_nothing_until_activated(three_steps, people, tick):
    services.sequence_pause(sequence=three_steps)
    enroll(three_steps, people)
    assert tick()["sent"] == 0
    services.sequence_activate(sequence=three_steps)
    assert tick()["sent"] == 2


def test_chunks_of_at_most_the_chunk_size(three_steps, people, tick):
    enroll(
        three_steps,
        people + [ContactFactory(organization=three_steps.organization, email="c@example.org")],
    )
    done = tick(chunk=2)
    assert done["sent"] == 3
    assert AgentRun.objects.filter(intent="send").count() == 2


def test_a_contact_whose_email_was_removed_leaves(three_steps, people, tick):
    enroll(three_steps, people[:1])
    people[0].email = ""
    people[0].save()
    tick()
    assert Enrollment.objects.get().exit_reason == ExitReason.NO_EMAIL


def test_a_step_moved_first_is_sent_to_everyone_and_keeps_its_condition_for_later(
    three_steps, people, tick
):
    second = three_steps.steps.get(position=2)
    services.step_move(step=second, direction="up")
    second.refresh_from_db()
    assert (second.position, second.condition) == (1, "opened")
    enroll(three_steps, people)
    # The first step goes to all (after its own wait), whatever its condition says.
    assert tick(now=T0 + timedelta(days=2))["sent"] == 2
    services.step_move(step=second, direction="down")
    second.refresh_from_db()
    assert (second.position, second.condition) == (2, "opened")


def test_one_pass_takes_each_due_step_once(three_steps, org, tick, monkeypatch):
    contacts = [ContactFactory(organization=org, email=f"p{i}@example.org") for i in range(5)]
    for i, c in enumerate(contacts):
        services.enrollment_create(sequence=three_steps, contact=c, now=T0 - timedelta(seconds=i))
    calls = []
    take = engine.step_take
    monkeypatch.setattr(engine, "step_take", lambda **kw: calls.append(kw) or take(**kw))
    assert tick()["sent"] == 5
    assert [c["position"] for c in calls] == [1]
