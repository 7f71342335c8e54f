from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest
from django.utils import timezone

from agents.automation.models import BatchItem
from neonhub.core.errors import InvalidInput
from neonhub.core.pagination import cursor_decode, cursor_encode, keyset_newer, keyset_page
from runs.models import AgentRun
from tests.factories import AgentRunFactory, BatchFactory, BatchItemFactory

pytestmark = pytest.mark.django_db


def test_pages_walk_every_row_once_newest_first_even_with_equal_times(org):
    now = timezone.now()
    runs = [AgentRunFactory(organization=org, created_at=now) for _ in range(4)]
    runs += [AgentRunFactory(organization=org, created_at=now - timedelta(seconds=1))]
    seen, cursor = [], None
    while True:
        page = keyset_page(AgentRun.objects.filter(organization=org), cursor=cursor, limit=2)
        seen += page.items
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    expected = sorted(runs, key=lambda r: (r.created_at, r.id), reverse=True)
    assert [r.id for r in seen] == [r.id for r in expected]


def test_the_last_full_page_has_no_next_cursor(org):
    AgentRunFactory.create_batch(2, organization=org)
    page = keyset_page(AgentRun.objects.all(), limit=2)
    assert len(page.items) == 2 and page.next_cursor is None


def test_a_cursor_is_opaque_and_round_trips(org):
    run = AgentRunFactory(organization=org)
    cursor = cursor_encode(run)
    assert str(run.id) not in cursor
    assert cursor_decode(cursor, model=AgentRun) == (run.created_at, run.id)


def test_a_cursor_handed_out_before_keys_were_named_still_reads(org):
    run = AgentRunFactory(organization=org)
    raw = json.dumps([run.created_at.isoformat(), str(run.pk)])
    old = base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")
    assert cursor_decode(old, model=AgentRun) == (run.created_at, run.id)


def _raw(value) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "x",
        "bm9wZQ",
        "W10",
        "WyJ4IiwgInkiXQ",
        "!!",
        _raw(["2026-01-01T00:00:00", "0b0f8d4e-6c4b-4a43-9d55-0f7c3f3c1f00"]),  # naive time
        _raw([1, 2]),
        _raw([None, None]),
        _raw([{}, []]),
        _raw(["2026-01-01T00:00:00+00:00"]),  # one key of two
    ],
)
def test_a_mangled_cursor_is_invalid_input_naming_it(cursor):
    with pytest.raises(InvalidInput) as caught:
        cursor_decode(cursor, model=AgentRun)
    assert caught.value.details[0]["field"] == "cursor"


def test_a_list_pages_on_its_own_ascending_key(org):
    batch = BatchFactory(organization=org)
    for index in (3, 0, 4, 1, 2):
        BatchItemFactory(batch=batch, index=index)
    BatchItemFactory(batch=BatchFactory(organization=org), index=9)
    seen, cursor = [], None
    while True:
        page = keyset_page(
            BatchItem.objects.filter(batch=batch), cursor=cursor, limit=2, order=("index",)
        )
        seen += [item.index for item in page.items]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == [0, 1, 2, 3, 4]


@pytest.mark.parametrize("key", [[10**30], [-(10**30)], [True], ["x"], [1.5], [7, 8]])
def test_a_mangled_index_cursor_is_invalid_input_not_a_database_error(key):
    with pytest.raises(InvalidInput) as caught:
        keyset_page(BatchItem.objects.all(), cursor=_raw(key), limit=2, order=("index",))
    assert caught.value.details[0]["field"] == "cursor"


def test_a_cursor_of_one_kind_of_list_is_refused_by_another(org):
    batch = BatchFactory(organization=org)
    BatchItemFactory.create_batch(3, batch=batch)
    page = keyset_page(BatchItem.objects.filter(batch=batch), limit=1, order=("index",))
    with pytest.raises(InvalidInput):
        keyset_page(AgentRun.objects.all(), cursor=page.next_cursor, limit=1)


def test_prev_cursors_walk_back_to_the_newest_page(org):
    now = timezone.now()
    for i in range(7):
        AgentRunFactory(organization=org, created_at=now - timedelta(seconds=i // 2))
    qs = AgentRun.objects.filter(organization=org)
    forward, cursor = [], None
    while True:
        page = keyset_page(qs, cursor=cursor, limit=3)
        forward.append([r.id for r in page.items])
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert [len(p) for p in forward] == [3, 3, 1]
    assert keyset_page(qs, limit=3).prev_cursor is None
    back = keyset_page(qs, cursor=page.prev_cursor, limit=3)
    assert [r.id for r in back.items] == forward[1]
    assert back.next_cursor is not None and back.prev_cursor is not None
    first = keyset_page(qs, cursor=back.prev_cursor, limit=3)
    assert [r.id for r in first.items] == forward[0] and first.prev_cursor is None
    assert [r.id for r in keyset_page(qs, cursor=first.next_cursor, limit=3).items] == forward[1]


def test_a_prev_cursor_says_its_direction_and_a_mangled_one_is_refused(org):
    run = AgentRunFactory(organization=org)
    backward = cursor_encode(run, backward=True)
    assert backward != cursor_encode(run)
    assert cursor_decode(backward, model=AgentRun) == cursor_decode(
        cursor_encode(run), model=AgentRun
    )
    with pytest.raises(InvalidInput):
        keyset_page(AgentRun.objects.all(), cursor=_raw([">", 1, 2]), limit=2)


def test_keyset_newer_answers_only_the_rows_newer_than_the_cursor(org):
    now = timezone.now()
    old = AgentRunFactory(organization=org, created_at=now - timedelta(seconds=5))
    qs = AgentRun.objects.filter(organization=org)
    assert keyset_newer(qs, cursor=cursor_encode(old), limit=2) == ([], False)
    same_time = AgentRunFactory(organization=org, created_at=old.created_at)
    newer = [
        AgentRunFactory(organization=org, created_at=now - timedelta(seconds=i)) for i in (2, 1)
    ]
    items, overflow = keyset_newer(qs, cursor=cursor_encode(old), limit=5)
    expected = sorted([same_time, *newer], key=lambda r: (r.created_at, r.id), reverse=True)
    expected = [r for r in expected if (r.created_at, r.id) > (old.created_at, old.id)]
    assert [r.id for r in items] == [r.id for r in expected] and not overflow
    items, overflow = keyset_newer(qs, cursor=cursor_encode(old), limit=1)
    assert [r.id for r in items] == [expected[-1].id] and overflow
