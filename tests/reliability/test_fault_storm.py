"""A provider that fails a lot: 5xx, 429 with Retry-After, lost answers, slow bodies.

What must hold whatever the retry policy in detail (in-request or a later attempt): every run
ends, no message is sent twice, and no request repeats a rate-limited one before its
Retry-After has passed.
"""

from __future__ import annotations

from collections import defaultdict

import pytest

from runs.models import AgentRun
from tests.reliability.conftest import (
    LONG,
    audit,
    check_runs_agree_with_outbox,
    drain,
    size,
    start_sends,
)

pytestmark = [
    pytest.mark.reliability,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(size(120, 1800)),
]

# What a run may fail with under this storm; INTERNAL would be a bug.
EXPECTED_FAILURES = {"CONNECTOR_UNAVAILABLE", "CONNECTOR_RATE_LIMITED", "TIMEOUT"}


def storm(rng, req):
    x = rng.random()
    if x < 0.30:
        return "5xx", None
    if x < 0.40:
        # The long form adds waits longer than the HTTP seam's in-request cap (10 s).
        return "429", rng.choice((1, 2, 12) if LONG else (1, 2))
    if x < 0.45:
        return "drop", None  # the request was read and acted on; the answer never came
    if x < 0.52:
        return "slow", None
    if LONG and x < 0.54:
        return "hang", None  # held past the client's read timeout
    return "ok", None


def test_every_run_ends_without_duplicate_sends_and_retry_after_is_honoured(
    broker, worker, org, twilio, twilio_connector, settings
):
    settings.NEONHUB_RUN_HEARTBEAT_TIMEOUT = 60  # a held answer is a timeout, not a lost worker
    twilio.plan.choose = storm
    twilio.plan.latency = (0.0, 0.05)
    run_ids = start_sends(org, size(30, 200))
    worker(NEONHUB_RUN_HEARTBEAT_TIMEOUT="60", NEONHUB_RETRY_BASE_SECONDS="0.5")

    statuses = drain(run_ids, timeout=size(120, 900))

    counts = audit(org, twilio)
    check_runs_agree_with_outbox(org, statuses)
    failures = set(
        AgentRun.objects.filter(pk__in=run_ids, status="failed").values_list(
            "error_code", flat=True
        )
    )
    assert failures <= EXPECTED_FAILURES, failures
    faults = {r.fault for r in twilio.requests()}
    assert {"5xx", "429", "ok"} <= faults, faults
    assert counts.get("sent", 0) >= len(run_ids) // 2, counts
    _assert_retry_after_honoured(twilio.requests())


def _assert_retry_after_honoured(requests) -> None:
    by_recipient = defaultdict(list)
    for req in requests:
        by_recipient[req.to].append(req)
    checked = 0
    for to, reqs in by_recipient.items():
        reqs.sort(key=lambda r: r.at)
        for limited, following in zip(reqs, reqs[1:], strict=False):
            if limited.fault != "429":
                continue
            waited = following.at - limited.at
            assert waited >= limited.retry_after, (to, limited.retry_after, round(waited, 3))
            checked += 1
    assert checked, "no rate-limited message was tried again"
