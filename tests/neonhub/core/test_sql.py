"""The hot-path statements read and write exactly what the ORM would."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from neonhub.core import sql
from runs import services
from runs.models import AgentRun, RunStatus, RunStep
from tests.factories import AgentRunFactory

pytestmark = pytest.mark.django_db


def test_update_sets_and_adds_only_on_matching_rows(org):
    run = AgentRunFactory(organization=org, status=RunStatus.RUNNING, attempt=2)
    other = AgentRunFactory(organization=org, status=RunStatus.RUNNING, attempt=2)
    changed = sql.update(
        AgentRun,
        where={"id": run.pk, "status": RunStatus.RUNNING},
        values={"output": {"a": [1, "é"]}, "cost": Decimal("1.250000"), "error_code": "X"},
        add={"attempt": 3},
    )
    assert changed == 1
    run.refresh_from_db()
    other.refresh_from_db()
    assert (run.output, run.cost, run.error_code, run.attempt) == (
        {"a": [1, "é"]},
        Decimal("1.25"),
        "X",
        5,
    )
    assert (other.output, other.error_code, other.attempt) == (None, "", 2)
    assert (
        sql.update(
            AgentRun, where={"id": run.pk, "status": RunStatus.QUEUED}, values={"error_code": "Y"}
        )
        == 0
    )


def test_none_in_where_means_is_null(org):
    run = AgentRunFactory(organization=org, status=RunStatus.RUNNING)  # started_at is NULL
    started = AgentRunFactory(organization=org, status=RunStatus.RUNNING, started_at=timezone.now())
    # "= NULL" would match neither row; IS NULL matches the one without a start.
    assert sql.update(AgentRun, where={"started_at": None}, values={"error_code": "N"}) == 1
    assert AgentRun.objects.get(pk=run.pk).error_code == "N"
    assert AgentRun.objects.get(pk=started.pk).error_code == ""
    got = sql.update_returning(
        AgentRun, where={"id": run.pk, "started_at": None}, values={"error_code": "M"}
    )
    assert got.pk == run.pk and got.error_code == "M"
    assert (
        sql.update_returning(
            AgentRun, where={"id": started.pk, "started_at": None}, values={"error_code": "M"}
        )
        is None
    )


def test_none_in_where_is_rendered_as_is_null_without_a_parameter(org):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    run = AgentRunFactory(organization=org)
    with CaptureQueriesContext(connection) as queries:
        sql.update(AgentRun, where={"id": run.pk, "parent_id": None}, values={"error_code": "A"})
    assert "IS NULL" in queries[0]["sql"] and "= NULL" not in queries[0]["sql"]
    assert AgentRun.objects.get(pk=run.pk).error_code == "A"


def test_an_update_without_a_condition_is_refused(org):
    AgentRunFactory(organization=org)
    with pytest.raises(ValueError, match="every row"):
        sql.update(AgentRun, where={}, values={"error_code": "X"})
    assert not AgentRun.objects.filter(error_code="X").exists()


def test_update_returning_converts_like_the_orm(org):
    run = AgentRunFactory(organization=org, input={"content": "x", "n": 1}, cost=Decimal("0.5"))
    now = timezone.now()
    got = sql.update_returning(
        AgentRun, where={"id": run.pk}, values={"heartbeat_at": now}, add={"attempt": 1}
    )
    expected = AgentRun.objects.get(pk=run.pk)
    assert isinstance(got.id, uuid.UUID) and got.id == run.id
    for field in AgentRun._meta.concrete_fields:
        assert getattr(got, field.attname) == getattr(expected, field.attname), field.name
    assert got.heartbeat_at == now and got.heartbeat_at.tzinfo is not None
    assert got.input == {"content": "x", "n": 1} and got.cost == Decimal("0.5")
    assert got._state.adding is False and got.organization == org  # a usable instance
    assert (
        sql.update_returning(AgentRun, where={"id": uuid.uuid4()}, values={"heartbeat_at": now})
        is None
    )


def test_insert_sets_database_keys_in_order(org):
    run = AgentRunFactory(organization=org)
    rows = [
        RunStep(run=run, seq=seq, name=f"step {seq}", detail={"seq": seq}, cost=Decimal("0.1"))
        for seq in (1, 2, 3)
    ]
    sql.insert(rows)
    assert all(row.pk and not row._state.adding for row in rows)
    for row in rows:
        stored = RunStep.objects.get(pk=row.pk)
        assert (stored.seq, stored.name, stored.detail, stored.cost) == (
            row.seq,
            row.name,
            {"seq": row.seq},
            Decimal("0.1"),
        )
    sql.insert([])  # nothing to do


def test_claim_takes_a_due_queued_run_once(org):
    run = AgentRunFactory(organization=org)
    claimed = services.run_claim(run_id=str(run.pk))
    assert (
        claimed.status == RunStatus.RUNNING
        and claimed.attempt == 1
        and claimed.started_at is not None
    )
    assert services.run_claim(run_id=run.pk) is None  # a duplicate delivery


def test_claim_leaves_a_run_that_is_not_due_or_not_there(org):
    later = AgentRunFactory(organization=org, next_attempt_at=timezone.now() + timedelta(minutes=5))
    assert services.run_claim(run_id=later.pk) is None
    assert AgentRun.objects.get(pk=later.pk).status == RunStatus.QUEUED
    due = AgentRunFactory(organization=org, next_attempt_at=timezone.now() - timedelta(seconds=1))
    assert services.run_claim(run_id=due.pk).next_attempt_at is None
    assert services.run_claim(run_id="not-a-uuid") is None
    assert services.run_claim(run_id=uuid.uuid4()) is None


@pytest.mark.django_db(transaction=True)
def test_a_statement_that_need_not_wait_for_the_wal_flush_answers_the_same(org):
    """Outside a transaction on PostgreSQL it goes as SET LOCAL + the statement, in one round trip."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    run = AgentRunFactory(organization=org)
    with CaptureQueriesContext(connection) as queries:
        assert (
            sql.update(AgentRun, where={"id": run.pk}, values={"error_code": "A"}, durable=False)
            == 1
        )
        assert (
            sql.update(
                AgentRun, where={"id": uuid.uuid4()}, values={"error_code": "B"}, durable=False
            )
            == 0
        )
        got = sql.update_returning(
            AgentRun, where={"id": run.pk}, values={"error_code": "C"}, durable=False
        )
    assert got.pk == run.pk and got.error_code == "C" and got.input == {"content": "hello"}
    assert AgentRun.objects.get(pk=run.pk).error_code == "C"
    relaxed = [
        q["sql"].startswith("SET LOCAL synchronous_commit TO OFF; UPDATE")
        for q in queries.captured_queries
    ]
    assert relaxed == [connection.vendor == "postgresql"] * 3


def test_least_and_greatest_keep_the_extremes_and_fill_a_null_column(org):
    from runs.models import RunRollup

    cell = {
        "organization_id": org.pk,
        "hour": timezone.now().replace(minute=0, second=0, microsecond=0),
        "agent": "a",
        "status": "completed",
        "error_code": "",
        "connector": "",
    }
    RunRollup.objects.create(**cell)
    for ms in (300, 120, 900, 450):
        assert sql.update(
            RunRollup,
            where=cell,
            add={"count": 1},
            least={"duration_min_ms": ms},
            greatest={"duration_max_ms": ms},
        )
    row = RunRollup.objects.get()
    assert (row.count, row.duration_min_ms, row.duration_max_ms) == (4, 120, 900)


def test_select_one_with_reads_the_row_and_its_related_row_as_the_orm_does(org, other_org):
    from neonhub.core.models import ApiKey
    from neonhub.core.services import api_key_create

    api_key_create(organization=other_org, name="theirs")
    key = api_key_create(organization=org, name="ours").api_key
    found = sql.select_one_with(ApiKey, related="organization", where={"prefix": key.prefix})
    expected = ApiKey.objects.select_related("organization").get(pk=key.pk)
    assert found is not None
    assert {f.attname: getattr(found, f.attname) for f in ApiKey._meta.concrete_fields} == {
        f.attname: getattr(expected, f.attname) for f in ApiKey._meta.concrete_fields
    }
    assert found.organization == org
    assert found.organization.name == org.name and found.organization.tz == org.tz
    assert ApiKey.organization.is_cached(found)  # no second query for it
    assert sql.select_one_with(ApiKey, related="organization", where={"prefix": "nope"}) is None
    with pytest.raises(ValueError):
        sql.select_one_with(ApiKey, related="organization", where={"prefix": None})
