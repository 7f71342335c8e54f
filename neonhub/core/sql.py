"""Plain statements for the hot paths: a run's INSERT, claim, finish and steps, a connector call's
outbox writes, an API request's key lookup, and the task queue's table (taking and deleting
tasks, ``neonhub.core.broker``).

The rule: plain SQL is written only for a statement on a measured hot path
(docs/PERFORMANCE.md), and only here; everything else goes through the ORM.  Migrations, the
benchmarks under ``bench/`` and the SQLite connection settings (``init_command`` in
settings.py, configuration rather than a query) are outside the rule.

Measured: building an UPDATE or INSERT through the ORM's query compiler cost 0.2–0.4 ms of CPU
per statement, more than the database took to run it, and a run's claim and finish are four
such statements of the same shape every time, a side effect two more.  These helpers keep what
the ORM does to values — each field's ``get_db_prep_save`` on the way in, the backend's and the
field's converters on the way out — and cache the statement text per shape.

Conditions are equalities, ``None`` meaning ``IS NULL`` as in ``filter(name=None)`` (SQL's NULL;
a JSON ``null`` stored in a JSONField is not matched), plus ``null_or_at_most`` for a column
that is NULL or not after a value (a run that is due).  Anything richer goes through the ORM.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from types import MappingProxyType
from typing import Any, TypeVar

from django.db import DEFAULT_DB_ALIAS, connection, connections, models

M = TypeVar("M", bound=models.Model)


def _qn(name: str) -> str:
    return connection.ops.quote_name(name)


def _field(model: type[models.Model], name: str) -> models.Field:
    return model._meta.get_field(name)  # accepts attnames too (organization_id)


def _db():
    """This thread's default connection itself: the ``connection`` proxy looks it up again on
    every attribute, which the fields' value preparation does a dozen times per statement
    (measured: a fifth of a run's worker CPU on SQLite)."""
    return connections[DEFAULT_DB_ALIAS]


def prep(model: type[models.Model], name: str, value: Any, db=None) -> Any:
    """``value`` as the database takes it for ``model.name``, as the ORM would send it."""
    if isinstance(value, models.Model):
        value = value.pk
    return _field(model, name).get_db_prep_save(value, db or _db())


@lru_cache(maxsize=256)
def _update_text(
    vendor: str,
    model: type[models.Model],
    set_names: tuple,
    add_names: tuple,
    where_names: tuple,
    null_names: tuple,
    due_names: tuple,
    returning: bool,
    least_names: tuple = (),
    greatest_names: tuple = (),
) -> str:
    def col(name: str) -> str:
        return _qn(_field(model, name).column)

    sets = [f"{col(n)} = %s" for n in set_names] + [f"{col(n)} = {col(n)} + %s" for n in add_names]
    # The smaller (larger) of the column and the value, a NULL column taking the value: CASE
    # rather than LEAST/MIN, whose NULL handling differs between PostgreSQL and SQLite.
    sets += [
        f"{col(n)} = CASE WHEN {col(n)} IS NULL OR {col(n)} {op} %s THEN %s ELSE {col(n)} END"
        for names, op in ((least_names, ">"), (greatest_names, "<"))
        for n in names
    ]
    where = (
        [f"{col(n)} = %s" for n in where_names]
        + [f"{col(n)} IS NULL" for n in null_names]
        + [f"({col(n)} IS NULL OR {col(n)} <= %s)" for n in due_names]
    )
    text = f"UPDATE {_qn(model._meta.db_table)} SET {', '.join(sets)} WHERE {' AND '.join(where)}"  # noqa: S608 (names only)
    if returning:
        text += " RETURNING " + ", ".join(_qn(f.column) for f in model._meta.concrete_fields)
    return text


def _shape(
    model: type[models.Model],
    values: Mapping,
    add: Mapping,
    where: Mapping,
    due: Mapping,
    returning: bool,
    least: Mapping = MappingProxyType({}),
    greatest: Mapping = MappingProxyType({}),
) -> tuple[str, list]:
    """The statement text (cached per shape) and its parameters; a ``None`` in ``where`` is
    ``IS NULL`` and takes no parameter (``= NULL`` would match no row)."""
    if not where:
        raise ValueError("an UPDATE without a condition would change every row")
    equal = {n: v for n, v in where.items() if v is not None}
    null = tuple(n for n, v in where.items() if v is None)
    db = _db()
    text = _update_text(
        db.vendor,
        model,
        tuple(values),
        tuple(add),
        tuple(equal),
        null,
        tuple(due),
        returning,
        tuple(least),
        tuple(greatest),
    )
    params = [prep(model, n, v, db) for part in (values, add) for n, v in part.items()]
    for part in (least, greatest):
        for n, v in part.items():
            params += [prep(model, n, v, db)] * 2
    params += [prep(model, n, v, db) for part in (equal, due) for n, v in part.items()]
    return text, params


_NOTHING: Mapping[str, Any] = MappingProxyType({})


# Commits that need not wait for their WAL flush (PostgreSQL; SQLite's WAL with
# synchronous=NORMAL never waits).  WAL order still puts such a commit behind every earlier one
# and before every later durable one, so a database crash can lose it, never reorder it: use it
# only for writes whose loss reads as something the system already recovers from (a claim or a
# step start looks like a lost worker; a lost "sent" reads as an attempted, unknown send).
_RELAX = "SET LOCAL synchronous_commit TO OFF"


def relax_transaction() -> None:
    """Let the transaction in progress commit without waiting for its WAL flush (see ``_RELAX``)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(_RELAX)


def _relaxed(text: str, durable: bool) -> tuple[str, bool]:
    """In autocommit, a statement that need not be durable goes as ``SET LOCAL …; <statement>``:
    one round trip, one implicit transaction.  Inside a caller's transaction it stays as durable
    as the rest (``relax_transaction`` is for that)."""
    if durable or connection.vendor != "postgresql" or connection.in_atomic_block:
        return text, False
    return f"{_RELAX}; {text}", True


def update(
    model: type[models.Model],
    *,
    where: Mapping[str, Any],
    values: Mapping[str, Any] = _NOTHING,
    add: Mapping[str, Any] = _NOTHING,
    least: Mapping[str, Any] = _NOTHING,
    greatest: Mapping[str, Any] = _NOTHING,
    durable: bool = True,
) -> int:
    """``UPDATE … SET`` each of ``values``, adding each of ``add`` to its column, keeping the
    smaller of each of ``least`` and its column (the larger, ``greatest``; a NULL column takes
    the value), ``WHERE`` every ``where`` item equals (``None``: ``IS NULL``); answers the
    number of rows changed.  ``durable=False``: see ``_relaxed``."""
    text, params = _shape(model, values, add, where, _NOTHING, False, least, greatest)
    text, relaxed = _relaxed(text, durable)
    with connection.cursor() as cursor:
        cursor.execute(text, params)
        if relaxed:
            cursor.nextset()
        return cursor.rowcount


def update_returning(
    model: type[M],
    *,
    where: Mapping[str, Any],
    values: Mapping[str, Any] = _NOTHING,
    add: Mapping[str, Any] = _NOTHING,
    null_or_at_most: Mapping[str, Any] = _NOTHING,
    durable: bool = True,
) -> M | None:
    """Like ``update`` for one row, answering the changed row as an instance (None if none changed).

    ``null_or_at_most``: each column is also NULL or not after its value (``next_attempt_at``
    unset or past: a run that is due).
    """
    text, params = _shape(model, values, add, where, null_or_at_most, True)
    text, relaxed = _relaxed(text, durable)
    with connection.cursor() as cursor:
        cursor.execute(text, params)
        if relaxed:
            cursor.nextset()
        rows = cursor.fetchall()
    return from_row(model, rows[0]) if rows else None


def _converters(model: type[models.Model]) -> list[tuple[int, list, Any]]:
    # Bound to this thread's connection and its operations (its time zone), so cached on it, not
    # on the module-wide proxy.
    db = _db()
    cache = db.__dict__.setdefault("_neonhub_converters", {})
    found = cache.get(model)
    if found is None:
        found = []
        for index, field in enumerate(model._meta.concrete_fields):
            col = field.get_col(model._meta.db_table)
            functions = db.ops.get_db_converters(col) + col.get_db_converters(db)
            if functions:
                found.append((index, functions, col))
        cache[model] = found
    return found


def from_row(model: type[M], row: Sequence[Any]) -> M:
    """An instance from a row of all concrete columns in field order."""
    values, db = list(row), _db()
    for index, functions, col in _converters(model):
        value = values[index]
        for function in functions:
            value = function(value, col, db)
        values[index] = value
    return model.from_db(db.alias, [f.attname for f in model._meta.concrete_fields], values)


@lru_cache(maxsize=16)
def _select_text(vendor: str, model: type[models.Model], related: str, where_names: tuple) -> str:
    fk = model._meta.get_field(related)
    other = fk.related_model._meta
    table, joined = _qn(model._meta.db_table), _qn(other.db_table)
    columns = [f"{table}.{_qn(f.column)}" for f in model._meta.concrete_fields] + [
        f"{joined}.{_qn(f.column)}" for f in other.concrete_fields
    ]
    where = " AND ".join(f"{table}.{_qn(_field(model, n).column)} = %s" for n in where_names)
    return (
        f"SELECT {', '.join(columns)} FROM {table} "  # noqa: S608 (names only)
        f"INNER JOIN {joined} ON {joined}.{_qn(fk.target_field.column)} = {table}.{_qn(fk.column)} "
        f"WHERE {where} LIMIT 1"
    )


def select_one_with(model: type[M], *, related: str, where: Mapping[str, Any]) -> M | None:
    """One row of ``model`` whose fields equal ``where`` (no ``None``), with the row its
    non-null foreign key ``related`` points to read in the same statement (``select_related``),
    or ``None``.  For a lookup on a unique column: without an ORDER BY, which of several
    matches is answered is up to the database."""
    if not where or any(value is None for value in where.values()):
        raise ValueError("select_one_with takes equalities with values")
    db = _db()
    text = _select_text(db.vendor, model, related, tuple(where))
    with db.cursor() as cursor:
        cursor.execute(text, [prep(model, n, v, db) for n, v in where.items()])
        row = cursor.fetchone()
    if row is None:
        return None
    fk = model._meta.get_field(related)
    own = len(model._meta.concrete_fields)
    obj = from_row(model, row[:own])
    fk.set_cached_value(obj, from_row(fk.related_model, row[own:]))
    return obj


@lru_cache(maxsize=64)
def _insert_text(vendor: str, model: type[models.Model], rows: int) -> tuple[str, tuple]:
    meta = model._meta
    fields = tuple(f for f in meta.concrete_fields if not (f.primary_key and f.db_returning))
    one = "(" + ", ".join(["%s"] * len(fields)) + ")"
    columns = ", ".join(_qn(f.column) for f in fields)
    text = f"INSERT INTO {_qn(meta.db_table)} ({columns}) VALUES {', '.join([one] * rows)}"  # noqa: S608
    if meta.pk.db_returning:
        text += f" RETURNING {_qn(meta.pk.column)}"
    return text, fields


def insert(objs: Iterable[models.Model]) -> None:
    """INSERT new instances of one model in one statement; database-made keys are set on them."""
    objs = list(objs)
    if not objs:
        return
    model = type(objs[0])
    db = _db()
    text, fields = _insert_text(db.vendor, model, len(objs))
    params = [f.get_db_prep_save(f.pre_save(obj, True), db) for obj in objs for f in fields]
    with db.cursor() as cursor:
        cursor.execute(text, params)
        keys = cursor.fetchall() if model._meta.pk.db_returning else None
    for index, obj in enumerate(objs):
        if keys is not None:
            obj.pk = keys[index][0]
        obj._state.adding = False
        obj._state.db = db.alias


# --- the task queue's table (django-q2's ORM broker, ``neonhub.core.broker``) ----------------


@lru_cache(maxsize=16)
def _take_text(vendor: str, model: type[models.Model]) -> str:
    table, pk = _qn(model._meta.db_table), _qn(model._meta.pk.column)
    key, lock = _qn(_field(model, "key").column), _qn(_field(model, "lock").column)
    # PostgreSQL: two clusters polling at once each skip the rows the other is taking; SQLite
    # runs one writing statement at a time, so the inner SELECT sees what the last one took.
    skip = " FOR UPDATE SKIP LOCKED" if vendor == "postgresql" else ""
    return (
        f"UPDATE {table} SET {lock} = %s WHERE {pk} IN ("  # noqa: S608 (names only)
        f"SELECT {pk} FROM {table} WHERE {key} = %s AND {lock} < %s "
        f"ORDER BY {pk} LIMIT %s{skip}) AND {lock} < %s "
        f"RETURNING {pk}, {_qn(_field(model, 'payload').column)}"
    )


def queue_take(
    model: type[models.Model], *, using: str, key: str, now: Any, until: Any, limit: int
) -> list[tuple[Any, str]]:
    """Take up to ``limit`` of the oldest tasks of queue ``key`` whose lock has passed, locking
    them until ``until``, in one statement (its own commit); answers ``(id, payload)`` pairs,
    oldest first."""
    db = connections[using]
    lock = _field(model, "lock")
    now_p, until_p = (lock.get_db_prep_save(v, db) for v in (now, until))
    with db.cursor() as cursor:
        cursor.execute(_take_text(db.vendor, model), [until_p, key, now_p, limit, now_p])
        rows = cursor.fetchall()
    return sorted(rows)


def delete_ids(model: type[models.Model], *, using: str, ids: Sequence[Any]) -> int:
    """``DELETE`` the rows with these primary keys in one statement; answers how many went."""
    if not ids:
        return 0
    db = connections[using]
    table, pk = _qn(model._meta.db_table), _qn(model._meta.pk.column)
    marks = ", ".join(["%s"] * len(ids))
    with db.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE {pk} IN ({marks})", list(ids))  # noqa: S608
        return cursor.rowcount
