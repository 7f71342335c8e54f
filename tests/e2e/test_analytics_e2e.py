"""A real qcluster reads a published post's numbers from a provider served on loopback."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from django_q.conf import Conf
from django_q.models import Schedule

from agents.analytics import tasks
from agents.analytics.models import CollectionStatus, MetricsCollection
from agents.analytics.services import post_track
from connectors.services import connector_create
from tests.e2e.conftest import wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


@pytest.fixture
def broker(monkeypatch):
    monkeypatch.setattr(Conf, "SYNC", False)


def test_the_minute_task_collects_a_due_post_in_a_real_worker(broker, worker, org, httpserver):
    base = httpserver.url_for("").rstrip("/")
    connector = connector_create(
        organization=org,
        provider="reddit",
        name="Reddit",
        mode="live",
        credentials={
            "client_id": "p-jcoLKBynTLew",
            "client_secret": "gko_LXELoV07ZBNUXrvWZfzE3aI",
            "username": "acme_bot",
            "password": "hunter2-e2e",
        },
        config={
            "user_agent": "web:com.acme.neonhub:v1.0 (by /u/acme_bot)",
            "base_url": base,
            "auth_base_url": base,
        },
    )
    httpserver.expect_request("/api/v1/access_token", method="POST").respond_with_data(
        (FIXTURES / "reddit" / "token.json").read_text(), content_type="application/json"
    )
    httpserver.expect_request(
        "/api/info", query_string={"id": "t3_1h8x2kq", "raw_json": "1"}
    ).respond_with_data(
        (FIXTURES / "reddit" / "info_post.json").read_text(), content_type="application/json"
    )
    post = post_track(
        connector=connector,
        provider_post_id="t3_1h8x2kq",
        published_at=timezone.now() - timedelta(hours=2),
    )
    tasks.ensure_schedules()
    Schedule.objects.filter(name=tasks.MINUTE_TASK_NAME).update(next_run=timezone.now())
    worker()

    def collected():
        return MetricsCollection.objects.filter(
            post=post, hours_after=1, status=CollectionStatus.COLLECTED
        ).first()

    first = wait_for(collected, timeout=120, interval=0.5)
    assert dict(first.metrics.values_list("name", "value")) == {"likes": 128, "comments": 23}
    assert first.calls == 2  # the token, then /api/info
    info = next(req for req, _ in httpserver.log if req.path == "/api/info")
    assert json.loads(json.dumps(dict(info.args))) == {"id": "t3_1h8x2kq", "raw_json": "1"}
    assert MetricsCollection.objects.filter(post=post, status=CollectionStatus.DUE).count() == 3
