"""Starting, deciding and finishing A/B tests through real Email agent runs (sandbox SMTP)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from agents.abtests import selectors, services
from agents.abtests.models import ABTestRecipient
from agents.mail.models import EmailMessage
from agents.models import ABTestStatus
from connectors.models import OutboundMessage
from neonhub.core.errors import Conflict, InvalidInput
from runs.models import AgentRun

pytestmark = pytest.mark.django_db


def start(run_now, test):
    return run_now(services.abtest_start, test=test)


def test_start_sends_the_test_share_split_between_variants(run_now, smtp, draft):
    test = start(run_now, draft)
    assert test.status == ABTestStatus.WAITING
    assert test.split["test"] == 20 and test.split["rest"] == 80
    assert test.split["per_variant"] == {"A": 10, "B": 10}
    messages = EmailMessage.objects.filter(ab_test=test)
    assert messages.count() == 20
    assert {m.variant for m in messages} == {"A", "B"}
    assert messages.filter(variant="A", subject="Spring sale starts now").count() == 10
    runs = AgentRun.objects.filter(organization=test.organization, intent="send")
    assert sorted(r.idempotency_key for r in runs) == [
        f"abtest:{test.pk}:A:0",
        f"abtest:{test.pk}:B:0",
    ]
    assert all(r.status == "completed" for r in runs)
    assert test.window_ends_at == test.started_at + timedelta(hours=4)
