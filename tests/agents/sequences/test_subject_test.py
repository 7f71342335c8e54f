"""A subject line under A/B test inside a sequence: the test share, the held contacts, the
winner sent once by the sequence, and the step records pointing at the right run."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from django.urls import reverse

from agents.abtests import services as ab_services
from agents.abtests.models import ABTestRecipient, RecipientGroup
from agents.mail.models import EmailMessage
from agents.models import ABTest, ABTestStatus
from agents.sequences import engine, services, subject_tests
from agents.sequences.models import Enrollment, EnrollmentStep, StepOutcome
from neonhub.core.errors import Conflict, InvalidInput
from runs.models import AgentRun
from tests.agents.sequences.conftest import T0
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def tested(org, smtp):
    sequence = services.sequence_create(
        organization=org,
        name="Spring",
        steps=[
            {"subject": "Welcome {{first_name|friend}}", "body": "Hi {{first_name|there}}."},
            {"wait_days": 1, "condition": "opened", "subject": "You looked", "body": "More."},
        ],
    )
    step = sequence.steps.get(position=1)
    subject_tests.step_test_set(
        step=step, subject_b="Hello {{first_name|friend}}", share_percent=40, min_sample=2
    )
    return services.sequence_activate(sequence=sequence)


@pytest.fixture
def ten(org):
    return [
        ContactFactory(organization=org, name=f"P{i} Person", email=f"p{i}@example.org")
        for i in range(10)
    ]


def enroll(sequence, contacts, now=T0):
    for c in contacts:
        services.enrollment_create(sequence=sequence, contact=c, now=now)


def first_step_messages():
    return EmailMessage.objects.exclude(subject="You looked")


def decide(run_now, test, opened_variant="B"):
    EmailMessage.objects.filter(ab_test=test, variant=opened_variant).update(
        first_opened_at=T0, opens=1
    )
    test.refresh_from_db()
    return run_now(
        ab_services.abtest_decide,
        test_id=test.pk,
        now=test.window_ends_at + timedelta(minutes=1),
    )


def test_the_test_share_gets_a_or_b_and_the_others_wait_for_the_winner(tested, ten, tick, run_now):
    enroll(tested, ten)
    done = tick()
    assert (done["sent"], done["held"]) == (4, 6)
    test = ABTest.objects.get()
    assert test.status == ABTestStatus.WAITING and test.campaign_id == tested.campaign_id
    subjects = Counter(m.subject.split()[0] for m in EmailMessage.objects.all())
    assert subjects == {"Welcome": 2, "Hello": 2}
    assert ABTestRecipient.objects.filter(test=test, group=RecipientGroup.REST).count() == 6
    # Still waiting: nobody else gets anything, however often the engine runs.
    assert tick(now=T0 + timedelta(minutes=1))["sent"] == 0
    assert EmailMessage.objects.count() == 4
    # Someone enrolled while the test waits is held too.
    late = ContactFactory(organization=tested.organization, name="Late Comer", email="l@ex.org")
    enroll(tested, [late], now=T0 + timedelta(minutes=2))
    assert tick(now=T0 + timedelta(minutes=3))["sent"] == 0

    test = decide(run_now, test)
    assert (test.status, test.winner) == (ABTestStatus.DONE, "B")
    # The A/B app sent nothing to the rest: the sequence does.
    assert not AgentRun.objects.filter(idempotency_key__contains=":winner:").exists()
    assert EmailMessage.objects.count() == 4

    done = tick(now=T0 + timedelta(minutes=4))
    assert done["sent"] == 7
    assert tick(now=T0 + timedelta(minutes=5))["sent"] == 0
    per_address = Counter(m.to for m in first_step_messages())
    assert set(per_address.values()) == {1} and len(per_address) == 11
    rest = EmailMessage.objects.exclude(
        contact_id__in=ABTestRecipient.objects.filter(test=test, group=RecipientGroup.TEST).values(
            "contact_id"
        )
    )
    assert {m.subject.split()[0] for m in rest} == {"Hello"}
    assert {(m.ab_test_id, m.variant) for m in rest} == {(test.pk, "B")}
    # The test's own numbers count the test share only.
    numbers = ab_services.abtest_verdict(test=test)["variants"]
    assert [(v["key"], v["sent"], v["opened"]) for v in numbers] == [("A", 2, 0), ("B", 2, 2)]


def test_each_step_record_points_at_the_run_that_sent_it(tested, ten, tick, run_now):
    enroll(tested, ten)
    tick()
    test = decide(run_now, ABTest.objects.get())
    tick(now=T0 + timedelta(minutes=1))
    for record in EnrollmentStep.objects.filter(outcome=StepOutcome.SENT).select_related(
        "enrollment__contact"
    ):
        message = EmailMessage.objects.get(to=record.enrollment.contact.email)
        assert record.run_id in (message.run_id, message.lineage_id)
    # Step 2 ("opened the previous email") reaches the B openers of the test share, and one
    # of the held contacts who opened the winner.
    held = EmailMessage.objects.filter(ab_test=test, variant="B").exclude(first_opened_at=None)
    openers = set(held.values_list("to", flat=True))
    winner_mail = EmailMessage.objects.filter(first_opened_at=None).first()
    EmailMessage.objects.filter(pk=winner_mail.pk).update(first_opened_at=T0, opens=1)
    done = tick(now=T0 + timedelta(days=1, minutes=10))
    assert done["sent"] == len(openers) + 1
    second = set(EmailMessage.objects.filter(subject="You looked").values_list("to", flat=True))
    assert second == openers | {winner_mail.to}


def test_a_stopped_test_lets_the_step_go_out_as_written(tested, ten, tick, run_now):
    enroll(tested, ten)
    tick()
    step = tested.steps.get(position=1)
    subject_tests.step_test_remove(step=step)
    assert ABTest.objects.get().status == ABTestStatus.CANCELLED
    assert tick(now=T0 + timedelta(minutes=1))["sent"] == 6
    assert Counter(m.to for m in EmailMessage.objects.all()).most_common(1)[0][1] == 1


def test_a_started_test_cannot_change_but_the_step_can(tested, ten, tick):
    enroll(tested, ten)
    tick()
    step = tested.steps.get(position=1)
    with pytest.raises(Conflict):
        subject_tests.step_test_set(step=step, subject_b="Other", share_percent=40, min_sample=2)
    # The same settings (the step's own fields changed in the same form): no error.
    subject_tests.step_test_set(
        step=step, subject_b="Hello {{first_name|friend}}", share_percent=40, min_sample=2
    )


def test_draft_test_follows_the_step_and_bad_settings_name_the_field(tested):
    step = tested.steps.get(position=1)
    services.step_update(step=step, subject="Hi there")
    assert ABTest.objects.get().variants[0]["subject"] == "Hi there"
    with pytest.raises(InvalidInput) as bad:
        subject_tests.step_test_set(step=step, subject_b="B", min_sample=0)
    assert bad.value.details[0]["field"] == "min_sample"
    with pytest.raises(InvalidInput) as bad:
        subject_tests.step_test_set(step=step, subject_b="B", share_percent=80)
    assert bad.value.details[0]["field"] == "share_percent"
    subject_tests.step_test_remove(step=step)
    assert not ABTest.objects.exists()


def test_the_builder_sets_up_the_test_and_the_pages_show_it(
    owner_client, tested, ten, tick, run_now
):
    step = tested.steps.get(position=2)
    url = reverse("sequences:step-edit", args=[tested.pk, step.pk])
    prefix = f"step-{step.pk}"
    answer = owner_client.post(
        url,
        {
            f"{prefix}-wait_days": "1",
            f"{prefix}-wait_hours": "0",
            f"{prefix}-condition": "opened",
            f"{prefix}-subject": "You looked",
            f"{prefix}-body": "More.",
            f"{prefix}-subject_b": "Still curious?",
            f"{prefix}-share_percent": "",
            f"{prefix}-min_sample": "",
        },
        HTTP_HX_REQUEST="true",
    )
    assert answer.status_code == 200
    test = ABTest.objects.get(sequence_step=step)
    assert (test.share_percent, test.window_hours, test.confidence, test.metric) == (
        20,
        4,
        95,
        "opens",
    )
    assert test.min_sample == 30
    bad = owner_client.post(
        url,
        {
            f"{prefix}-wait_days": "1",
            f"{prefix}-condition": "opened",
            f"{prefix}-subject": "You looked",
            f"{prefix}-body": "More.",
            f"{prefix}-subject_b": "Still curious?",
            f"{prefix}-share_percent": "90",
        },
        HTTP_HX_REQUEST="true",
    )
    assert "Ensure this value is less than or equal to 50" in bad.content.decode()

    enroll(tested, ten)
    tick()
    decide(run_now, ABTest.objects.get(sequence_step__position=1))
    page = owner_client.get(reverse("sequences:detail", args=[tested.pk])).content.decode()
    assert "Subject test" in page and "Variant B won: everyone else gets its subject." in page
    assert "Hello {{first_name|friend}}" in page
    first = ABTest.objects.get(sequence_step__position=1)
    assert reverse("abtests:detail", args=[first.pk]) in page
    detail = owner_client.get(reverse("abtests:detail", args=[first.pk])).content.decode()
    assert "Email 1 of the sequence" in detail and "Spring" in detail
    assert "the sequence sends its subject to everyone else" in detail


def test_a_foreign_engine_run_cannot_start_the_test_twice(tested, ten, tick):
    enroll(tested, ten)
    test = ABTest.objects.get()
    ABTest.objects.filter(pk=test.pk).update(status=ABTestStatus.TESTING)  # another worker's
    assert engine.step_take(sequence_id=tested.pk, position=1, now=T0)["held"] == 10
    assert not EmailMessage.objects.exists()
    assert Enrollment.objects.filter(position=1).count() == 10


def test_the_api_sets_shows_and_removes_a_subject_test(api, viewer_api, other_api, tested):
    step = tested.steps.get(position=2)
    url = f"/sequences/{tested.pk}/steps/{step.pk}/subject-test"
    made = api.put(url, {"subject_b": "Still curious?", "window_hours": 6})
    assert made.status_code == 200
    test = made.json()["subject_test"]
    assert (test["subject_a"], test["subject_b"], test["window_hours"], test["status"]) == (
        "You looked",
        "Still curious?",
        6,
        "draft",
    )
    assert (test["share_percent"], test["confidence"], test["min_sample"]) == (20, 95, 30)
    bad = api.put(url, {"subject_b": "X", "confidence": 80})
    assert bad.status_code == 422 and "confidence" in bad.content.decode()
    assert viewer_api.put(url, {"subject_b": "X"}).status_code == 403
    assert other_api.put(url, {"subject_b": "X"}).status_code == 404
    detail = api.get(f"/sequences/{tested.pk}").json()
    assert [s["subject_test"] and s["subject_test"]["subject_b"] for s in detail["steps"]] == [
        "Hello {{first_name|friend}}",
        "Still curious?",
    ]
    assert api.delete(url).status_code == 204
    assert api.get(f"/sequences/{tested.pk}").json()["steps"][1]["subject_test"] is None
    # Removing the step takes its draft test with it.
    api.delete(f"/sequences/{tested.pk}/steps/{tested.steps.get(position=1).pk}")
    assert not ABTest.objects.exists()


def test_the_api_names_a_missing_second_subject(api, tested):
    step = tested.steps.get(position=2)
    bad = api.put(f"/sequences/{tested.pk}/steps/{step.pk}/subject-test", {})
    assert bad.status_code == 422
    assert bad.json()["error"]["details"][0]["field"] == "subject_b"


def test_deleting_the_sequence_removes_its_draft_test(tested):
    services.sequence_delete(sequence=tested)
    assert not ABTest.objects.exists()
