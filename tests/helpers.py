"""Small helpers several test modules share."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext


def csv_file(text: str, name: str = "in.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(), content_type="text/csv")


def api_upload(api, path: str, text: str, **fields):
    """A multipart CSV upload through the API client (its bearer key included)."""
    file = csv_file(text, "data.csv")
    return api.client.post(f"/api/v1{path}", data={"file": file, **fields}, headers=api.headers)


def assert_same_queries_for_5_and_50(client, url, make_rows, django_assert_num_queries):
    """A list page's query count does not grow with its rows: 5 rows, then 50."""
    make_rows(5)
    with CaptureQueriesContext(connection) as five:
        resp = client.get(url)
        assert resp.status_code == 200
    make_rows(45)
    with django_assert_num_queries(len(five.captured_queries)):
        resp = client.get(url)
        assert resp.status_code == 200
    return resp


def run_until_failed(run):
    """Run a queued run's automatic attempts now instead of after their backoff, to its end."""
    from agents import executor
    from runs.models import AgentRun

    while run.status == "queued":
        AgentRun.objects.filter(pk=run.pk).update(next_attempt_at=None)
        executor.execute_run(run.id)
        run.refresh_from_db()
    return run


SENDING_PROVIDERS = (
    "facebook_page",
    "instagram",
    "reddit",
    "youtube",
    "smtp_email",
    "twilio_sms",
    "twilio_whatsapp",
)


def sandbox_connectors(org, providers=SENDING_PROVIDERS) -> None:
    """A sandbox connector of each provider, so runs that send pass their pre-run checks
    (a publish or a send with no connector is refused before a run exists)."""
    from connectors.registry import get_provider_class
    from connectors.services import connector_create, placeholders

    for provider in providers:
        cls = get_provider_class(provider)
        connector_create(
            organization=org,
            provider=provider,
            name=f"{cls.label} (sandbox for the tests)",
            mode="sandbox",
            credentials=placeholders(cls.Credentials),
            config=placeholders(cls.Config),
        )


def scrape(client, **headers) -> dict:
    """``/metrics`` parsed: ``{(sample name, ((label, value), ...)): value}``."""
    from prometheus_client.parser import text_string_to_metric_families

    resp = client.get("/metrics", headers=headers)
    assert resp.status_code == 200, resp.content
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(resp.content.decode())
        for s in family.samples
    }


def sample(scraped: dict, name: str, **labels) -> float:
    """One sample of a scrape, 0 when absent (a counter not incremented yet has no sample)."""
    return scraped.get((name, tuple(sorted(labels.items()))), 0.0)
