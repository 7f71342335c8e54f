"""Plain statements for the hot paths: a run's claim, finish and steps, and a connector call's
outbox writes.

Measured: building an UPDATE or INSERT through the ORM's query compiler cost 0.2–0.4 ms of CPU
per statement, more than the database took to run it, and a run's claim and finish are four
such statements of the same shape every time, a side effect two more (docs/PERFORMANCE.md).  These helpers keep what
the ORM does to values — each field's ``get_db_prep_save`` on the way in, the backend's and the
field's converters on the way out — and cache the statement text per shape.  Only plain
equality conditions (``None`` is not ``IS NULL``: pass that as ``extra_where``); anything richer
goes through the ORM.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from types import MappingProxyType
from typing import Any, TypeVar

from django.db import connection, connections, models

M = TypeVar("M", bound=models.Model)


def _qn(name: str) -> str:
    return connection.ops.quote_name(name)


def _field(model: type[models.Model], name: str) -> models.Field:
    return model._meta.get_field(name)  # accepts attnames too (organization_id)


def prep(model: type[models.Model], name: str, value: Any) -> Any:
    """``value`` as the database takes it for ``model.name``, as the ORM would send it."""
    if isinstance(value, models.Model):
        value = value.pk
    return _field(model, name).get_db_prep_save(value, connection)


@lru_cache(maxsize=256)
def _update_text(
    vendor: str,
    model: type[models.Model],
    set_names: tuple,
    add_names: tuple,
    where_names: tuple,
    returning: bool,
) -> str:
    columns = [_qn(_field(model, n).column) for n in set_names]
    sets = [f"{c} = %s" for c in columns] + [
        f"{c} = {c} + %s" for c in (_qn(_field(model, n).column) for n in add_names)
    ]
    where = " AND ".join(f"{_qn(_field(model, n).column)} = %s" for n in where_names)
    text = f"UPDATE {_qn(model._meta.db_table)} SET {', '.join(sets)} WHERE {where}"  # noqa: S608 (names only)
    if returning:
        text += " RETURNING " + ", ".join(_qn(f.column) for f in model._meta.concrete_fields)
    return text


def _update_params(
    model: type[models.Model], values: Mapping, add: Mapping, where: Mapping
) -> list:
    return [prep(model, n, v) for part in (values, add, where) for n, v in part.items()]


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
    durable: bool = True,
) -> int:
    """``UPDATE … SET`` each of ``values``, adding each of ``add`` to its column, ``WHERE`` every
    ``where`` item equals; answers the number of rows changed.  ``durable=False``: see ``_relaxed``."""
    text, relaxed = _relaxed(
        _update_text(connection.vendor, model, tuple(values), tuple(add), tuple(where), False),
        durable,
    )
    with connection.cursor() as cursor:
        cursor.execute(text, _update_params(model, values, add, where))
        if relaxed:
            cursor.nextset()
        return cursor.rowcount


def update_returning(
    model: type[M],
    *,
    where: Mapping[str, Any],
    values: Mapping[str, Any] = _NOTHING,
    add: Mapping[str, Any] = _NOTHING,
    extra_where: str = "",
    extra_params: Sequence[Any] = (),
    durable: bool = True,
) -> M | None:
    """Like ``update`` for one row, answering the changed row as an instance (None if none changed).

    ``extra_where`` is more SQL for the condition (``AND …``), with its own parameters.
    """
    text = _update_text(connection.vendor, model, tuple(values), tuple(add), tuple(where), True)
    if extra_where:
        head, _, tail = text.partition(" RETURNING ")
        text = f"{head} {extra_where} RETURNING {tail}"
    text, relaxed = _relaxed(text, durable)
    with connection.cursor() as cursor:
        cursor.execute(text, [*_update_params(model, values, add, where), *extra_params])
        if relaxed:
            cursor.nextset()
        rows = cursor.fetchall()
    return from_row(model, rows[0]) if rows else None


def _converters(model: type[models.Model]) -> list[tuple[int, list, Any]]:
    # Bound to this thread's connection and its operations (its time zone), so cached on it, not
    # on the module-wide proxy.
    cache = connections[connection.alias].__dict__.setdefault("_neonhub_converters", {})
    found = cache.get(model)
    if found is None:
        found = []
        for index, field in enumerate(model._meta.concrete_fields):
            col = field.get_col(model._meta.db_table)
            functions = connection.ops.get_db_converters(col) + col.get_db_converters(connection)
            if functions:
                found.append((index, functions, col))
        cache[model] = found
    return found


def from_row(model: type[M], row: Sequence[Any]) -> M:
    """An instance from a row of all concrete columns in field order."""
    values = list(row)
    for index, functions, col in _converters(model):
        value = values[index]
        for function in functions:
            value = function(value, col, connection)
        values[index] = value
    return model.from_db(connection.alias, [f.attname for f in model._meta.concrete_fields], values)


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
    text, fields = _insert_text(connection.vendor, model, len(objs))
    params = [f.get_db_prep_save(f.pre_save(obj, True), connection) for obj in objs for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(text, params)
        keys = cursor.fetchall() if model._meta.pk.db_returning else None
    for index, obj in enumerate(objs):
        if keys is not None:
            obj.pk = keys[index][0]
        obj._state.adding = False
        obj._state.db = connection.alias
