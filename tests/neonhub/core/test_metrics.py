from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db

OUTSIDE = "203.0.113.9"


def test_metrics_default_to_loopback_only(client):
    assert client.get("/metrics").status_code == 200  # the test client is 127.0.0.1
    resp = client.get("/metrics", REMOTE_ADDR=OUTSIDE)
    assert resp.status_code == 403 and b"python_info" not in resp.content


def test_forwarded_for_is_ignored_without_trusted_proxies(client, settings):
    settings.NEONHUB_METRICS_ALLOWED_IPS = ["10.0.0.0/8"]
    resp = client.get("/metrics", REMOTE_ADDR=OUTSIDE, headers={"X-Forwarded-For": "10.1.2.3"})
    assert resp.status_code == 403


def test_forwarded_for_counts_behind_a_configured_proxy(client, settings):
    settings.NEONHUB_METRICS_ALLOWED_IPS = ["10.0.0.0/8"]
    settings.NEONHUB_TRUSTED_PROXY_COUNT = 1
    # The client forged the left entry; our proxy appended the real one on the right.
    headers = {"X-Forwarded-For": "10.9.9.9, 198.51.100.7"}
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1", headers=headers).status_code == 403
    headers = {"X-Forwarded-For": "198.51.100.7, 10.1.2.3"}
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1", headers=headers).status_code == 200


def test_metrics_token_is_required_when_set(client, settings):
    settings.NEONHUB_METRICS_TOKEN = "scrape-secret"
    settings.NEONHUB_METRICS_ALLOWED_IPS = []
    resp = client.get("/metrics", REMOTE_ADDR=OUTSIDE)
    assert resp.status_code == 401 and resp["WWW-Authenticate"] == "Bearer"
    wrong = {"Authorization": "Bearer nope"}
    assert client.get("/metrics", REMOTE_ADDR=OUTSIDE, headers=wrong).status_code == 401
    right = {"Authorization": "Bearer scrape-secret"}
    resp = client.get("/metrics", REMOTE_ADDR=OUTSIDE, headers=right)
    assert resp.status_code == 200 and b"python_info" in resp.content


def test_token_and_allow_list_together_need_both(client, settings):
    settings.NEONHUB_METRICS_TOKEN = "scrape-secret"
    settings.NEONHUB_METRICS_ALLOWED_IPS = ["192.0.2.0/24"]
    right = {"Authorization": "Bearer scrape-secret"}
    assert client.get("/metrics", REMOTE_ADDR=OUTSIDE, headers=right).status_code == 403
    assert client.get("/metrics", REMOTE_ADDR="192.0.2.4", headers=right).status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="192.0.2.4").status_code == 401
