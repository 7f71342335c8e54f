"""End to end: a real qcluster sends the test share to a real SMTP server, the window is
shortened, the minute task chooses the winner and the rest get it; each address exactly once."""

from __future__ import annotations

from collections import Counter

import pytest
from django.utils import timezone
from django_q.conf import Conf
from django_q.models import Schedule

from agents.abtests import services, tasks
from agents.mail.models import EmailMessage
from agents.models import ABTest, ABTestStatus
from tests.connectors.providers.smtp_server import Mailbox, plain_smtp_connector, smtp_server
from tests.e2e.conftest import wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def broker(monkeypatch):
    monkeypatch.setattr(Conf, "SYNC", False)


@pytest.fixture
def mailbox():
    return Mailbox()


@pytest.fixture
def live_smtp(org, mailbox):
    with smtp_server(mailbox, mode="none", auth=False) as controller:
        plain_smtp_connector(org, controller.port, from_name="Acme")
        yield controller


def test_test_share_then_winner_to_the_rest_each_address_once(
    broker, worker, org, live_smtp, mailbox, make_audience
):
    # 120 people, half in the test: 30 per variant (just enough for the check), 60 for the winner.
    test = services.abtest_create(
        organization=org,
        name="Spring subject",
        variants=[
            {"subject": "Spring sale", "body": "Hi {{first_name|there}}"},
            {"subject": "20% off today", "body": "Hi {{first_name|there}}"},
        ],
        contact_list=make_audience(120),
        share_percent=50,
        window_hours=4,
    )
    worker()
    services.abtest_start(test=test)
    wait_for(lambda: len(mailbox.messages) == 60, timeout=120, interval=0.5)
    wait_for(
        lambda: EmailMessage.objects.filter(ab_test=test, status="sent").count() == 60, timeout=30
    )

    # People open B far more often than A (as the open pixel would record it).
    for variant, n in (("A", 3), ("B", 20)):
        ids = list(
            EmailMessage.objects.filter(ab_test=test, variant=variant).values_list("pk", flat=True)
        )
        EmailMessage.objects.filter(pk__in=ids[:n]).update(first_opened_at=timezone.now())

    # The window is shortened; the minute task runs now.
    ABTest.objects.filter(pk=test.pk).update(window_ends_at=timezone.now())
    tasks.ensure_schedules()
    Schedule.objects.filter(name=tasks.MINUTE_TASK_NAME).update(next_run=timezone.now())

    wait_for(lambda: len(mailbox.messages) == 120, timeout=180, interval=0.5)
    test = wait_for(
        lambda: ABTest.objects.filter(pk=test.pk, status=ABTestStatus.DONE).first(), timeout=30
    )
    assert test.winner == "B" and test.result["outcome"] == "winner"
    received = Counter(addr for m in mailbox.messages for addr in m["rcpt_tos"])
    assert len(received) == 120 and set(received.values()) == {1}
    subjects = Counter(m["message"]["Subject"] for m in mailbox.messages)
    assert subjects == {"Spring sale": 30, "20% off today": 30 + 60}
