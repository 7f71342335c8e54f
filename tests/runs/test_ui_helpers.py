from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from runs import charts
from runs.overview import Bucket
from runs.templatetags import neonhub_ui as ui


@pytest.mark.parametrize(
    "ms, text",
    [
        (None, "–"),
        (0, "0 ms"),
        (999, "999 ms"),
        (2400, "2.4 s"),
        (192_000, "3 min 12 s"),
        (7_500_000, "2 h 5 min"),
    ],
)
def test_durations_read_like_people_say_them(ms, text):
    assert ui.duration(ms) == text


@pytest.mark.parametrize(
    "amount, text",
    [
        (None, "–"),
        (Decimal("0"), "$0.00"),
        (Decimal("0.0123"), "$0.0123"),
        (Decimal("1234.5"), "$1,234.50"),
    ],
)
def test_money(amount, text):
    assert ui.money(amount) == text


def test_percent_and_times_handle_nothing():
    assert ui.percent(None) == "–" and ui.percent(0.756) == "75.6%"
    assert ui.reltime(None) == "–" and ui.exacttime(None, "never") == "never"


def test_exact_time_is_local_with_the_relative_one_on_hover():
    moment = timezone.now() - timedelta(hours=3)
    with timezone.override("Europe/Paris"):
        html = ui.exacttime(moment)
    assert html.startswith(f'<time datetime="{moment.isoformat()}" title="3') and (
        "CET" in html or "CEST" in html
    )


@pytest.mark.parametrize(
    "value, ceiling", [(0, 1), (1, 1), (3, 5), (7, 10), (11, 20), (0.003, 0.005), (250, 500)]
)
def test_nice_ceiling(value, ceiling):
    assert charts.nice_ceiling(value) == pytest.approx(ceiling)


def test_status_chart_stacks_segments_to_scale():
    start = datetime(2025, 1, 1, tzinfo=UTC)
    buckets = [
        Bucket(start=start + timedelta(hours=i), end=start + timedelta(hours=i + 1))
        for i in range(3)
    ]
    buckets[0].counts = {"completed": 6, "failed": 4}
    buckets[2].counts = {"cancelled": 5}
    with timezone.override(UTC):
        chart = charts.status_chart(buckets, 1)
    first = chart.bars[0]
    assert [s.status for s in first.segments] == ["completed", "failed"]
    assert first.segments[0].height == pytest.approx(first.segments[1].height * 1.5)
    assert first.segments[1].y + first.segments[1].height == pytest.approx(first.segments[0].y)
    assert chart.bars[1].segments == [] and chart.bars[1].title == "01:00: no runs"
    assert chart.summary == "15 finished runs in 3 periods; busiest 00:00 with 10"
    assert [t.label for t in chart.ticks] == ["0", "5", "10"]
    buckets[0].counts = {"completed": 4}
    with timezone.override(UTC):
        assert [t.label for t in charts.status_chart(buckets, 1).ticks] == ["0", "5"]


def test_cost_chart_and_labels_for_longer_buckets():
    start = datetime(2025, 1, 6, tzinfo=UTC)  # a Monday
    buckets = [
        Bucket(start=start + timedelta(days=i), end=start + timedelta(days=i + 1))
        for i in range(30)
    ]
    buckets[3].cost = Decimal("1.5")
    with timezone.override(UTC):
        chart = charts.cost_chart(buckets, 24)
        assert charts.bucket_label(start, 6) == "Mon 00:00"
    assert chart.bars[3].height > 0 and chart.bars[0].height == 0
    assert chart.summary == "$1.50 spent in 30 periods" and len(chart.x_labels) <= 8
    assert chart.x_labels[0].text == "Jan 06"
