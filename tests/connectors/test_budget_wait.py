"""``budget_wait``: how long until an action fits, without spending anything."""

from __future__ import annotations

import pytest

from connectors.base import Budget
from connectors.budgets import budget_consume, budget_wait
from connectors.models import BudgetUsage
from tests.connectors.test_budgets import counter  # noqa: F401 - each counter, DB and Redis
from tests.factories import ConnectorFactory

pytestmark = pytest.mark.django_db

BUDGETS = (
    Budget(name="all", limit=3, per_seconds=60),
    Budget(name="reads", limit=2, per_seconds=60, actions=("read",)),
)


def test_looking_spends_nothing_and_answers_the_wait(counter):  # noqa: F811 - the fixture
    connector = ConnectorFactory()
    for _ in range(3):  # looking again and again spends nothing
        assert budget_wait(connector=connector, budgets=BUDGETS, action="read") is None
    assert BudgetUsage.objects.count() == 0
    for _ in range(2):
        budget_consume(connector=connector, budgets=BUDGETS, action="read")
    wait = budget_wait(connector=connector, budgets=BUDGETS, action="read")
    assert wait is not None and 0 < wait <= 60
    # Another action is not held back by the reads' share, only by the shared budget.
    assert budget_wait(connector=connector, budgets=BUDGETS, action="send") is None
    budget_consume(connector=connector, budgets=BUDGETS, action="send")
    assert budget_wait(connector=connector, budgets=BUDGETS, action="send") is not None
