from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from neonhub.core.errors import InvalidInput
from neonhub.core.pagination import cursor_decode, cursor_encode, keyset_page
from runs.models import AgentRun
from tests.factories import AgentRunFactory

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
    assert cursor_decode(cursor) == (run.created_at, run.id)


@pytest.mark.parametrize("cursor", ["x", "bm9wZQ", "W10", "WyJ4IiwgInkiXQ", "!!"])
def test_a_mangled_cursor_is_invalid_input_naming_it(cursor):
    with pytest.raises(InvalidInput) as caught:
        cursor_decode(cursor)
    assert caught.value.details[0]["field"] == "cursor"
