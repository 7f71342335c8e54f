"""What the outbox says at scrape time: side effects not settled yet.

Registered with the kernel's metrics in ``ConnectorsConfig.ready``.  Only the open states are
counted (``pending``: being sent now or left by a crash; ``unknown``: the request may have left
and nobody knows whether it arrived), from the partial index ``outbox_open`` that holds only
those rows, so a scrape costs the same with a thousand or a hundred million messages sent.  What
was sent, delivered or failed is ``neonhub_connector_requests_total``.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import Count
from prometheus_client.core import GaugeMetricFamily, Metric

from connectors.models import OPEN_OUTBOX_STATUSES, OutboundMessage


def collect() -> Iterator[Metric]:
    rows = (
        OutboundMessage.objects.filter(status__in=OPEN_OUTBOX_STATUSES)
        .values("status", "provider")
        .annotate(n=Count("id"))
        .order_by()
    )
    found = {(row["status"], row["provider"]): row["n"] for row in rows}
    total = GaugeMetricFamily(
        "neonhub_outbox_open_messages",
        "Side effects in the outbox not settled yet: pending (being sent, or left by a crash) "
        "and unknown (may have left; not repeated blindly).",
        labels=["status"],
    )
    # Every open status is present, at 0 when empty, so an alert on it always has a series.
    for status in OPEN_OUTBOX_STATUSES:
        total.add_metric([status], sum(n for (s, _), n in found.items() if s == status))
    yield total
    by_provider = GaugeMetricFamily(
        "neonhub_outbox_open_messages_by_provider",
        "neonhub_outbox_open_messages by the provider the side effect goes through.",
        labels=["status", "provider"],
    )
    for (status, provider), n in sorted(found.items()):
        by_provider.add_metric([status, provider], n)
    yield by_provider
