"""The SQLite backend's writers take turns on a file lock (neonhub/core/sqlite/base.py)."""

from __future__ import annotations

import fcntl
import multiprocessing
import os
import threading
import time

import pytest
from django.db import connections, transaction

from neonhub.core.sqlite.base import DatabaseWrapper, Locked, WriterLock, writes

pytestmark = pytest.mark.skipif(
    connections["default"].vendor != "sqlite", reason="the SQLite backend only"
)


@pytest.fixture(autouse=True)
def _scratch_files_only(django_db_blocker):
    """These tests open their own database files, never the test database."""
    with django_db_blocker.unblock():
        yield


def wrapper(path, alias="scratch", timeout=20) -> DatabaseWrapper:
    """A connection to another file, known to ``connections`` in this thread under ``alias``
    (so ``transaction.atomic(using=alias)`` works on it)."""
    settings_dict = {
        **connections["default"].settings_dict,
        "NAME": str(path),
        "OPTIONS": {**connections["default"].settings_dict["OPTIONS"], "timeout": timeout},
        "CONN_MAX_AGE": 0,
    }
    db = DatabaseWrapper(settings_dict, alias)
    connections[alias] = db
    return db


def someone_writing(path) -> bool:
    """Whether some connection holds the turn: another descriptor cannot take it now."""
    fd = os.open(f"{path}-writer", os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


@pytest.fixture
def scratch(tmp_path):
    path = tmp_path / "scratch.sqlite3"
    db = wrapper(path)
    with db.cursor() as cursor:
        cursor.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER)")
    # probe() answers, from inside a statement, whether the turn is held while it runs
    db.ensure_connection()
    db.connection.create_function("probe", 0, lambda: int(someone_writing(path)))
    yield db, path
    db.close()
    del connections[db.alias]


def test_a_write_in_autocommit_holds_the_turn_only_while_it_runs(scratch):
    db, path = scratch
    with db.cursor() as cursor:
        cursor.execute("INSERT INTO t (n) VALUES (probe())")
        cursor.execute("SELECT n, probe() FROM t")
        inserted_under_turn, reading_under_turn = cursor.fetchone()
    assert inserted_under_turn == 1
    assert reading_under_turn == 0  # readers never queue
    assert not someone_writing(path)


def test_a_transaction_holds_the_turn_from_begin_to_commit_or_rollback(scratch):
    db, path = scratch
    with transaction.atomic(using=db.alias):
        assert someone_writing(path)
        with db.cursor() as cursor:
            cursor.execute("INSERT INTO t (n) VALUES (1)")
    assert not someone_writing(path)

    with pytest.raises(RuntimeError), transaction.atomic(using=db.alias):
        assert someone_writing(path)
        raise RuntimeError
    assert not someone_writing(path)
    with db.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM t")
        assert cursor.fetchone() == (1,)


def test_rows_returned_by_a_write_are_all_read_under_the_turn(scratch):
    db, path = scratch
    with db.cursor() as cursor:
        cursor.executemany("INSERT INTO t (n) VALUES (%s)", [(i,) for i in range(5)])
        cursor.execute("UPDATE t SET n = n + 10 WHERE n < 3 RETURNING n, probe()")
        first = cursor.fetchone()
        rest = cursor.fetchall()
        assert cursor.fetchone() is None
        cursor.execute("DELETE FROM t WHERE n < 10 RETURNING n")
        deleted = sorted(row[0] for row in cursor)
        cursor.execute("UPDATE t SET n = n RETURNING id")
        assert len(cursor.fetchmany(2)) == 2
        assert len(cursor.fetchmany(2)) == 1
    assert first[1] == 1  # the rows were produced while the turn was held
    assert sorted([first[0]] + [row[0] for row in rest]) == [10, 11, 12]
    assert deleted == [3, 4]
    assert not someone_writing(path)


def test_statements_that_write_are_recognised():
    for query in ("INSERT INTO t VALUES (1)", "  update t set n=1", "DELETE FROM t", "WITH x AS"):
        assert writes(query)
    for query in ("SELECT 1", "PRAGMA journal_mode", "EXPLAIN QUERY PLAN SELECT 1"):
        assert not writes(query)


def _hold(path, seconds, ready):
    lock = WriterLock(f"{path}-writer", timeout=1)
    lock.acquire()
    ready.set()
    time.sleep(seconds)
    lock.release()


def test_a_waiting_writer_gets_the_turn_as_soon_as_it_is_let_go(tmp_path):
    path = tmp_path / "db.sqlite3"
    ready = multiprocessing.get_context("fork").Event()
    holder = multiprocessing.get_context("fork").Process(target=_hold, args=(path, 0.3, ready))
    holder.start()
    try:
        assert ready.wait(10)
        lock = WriterLock(f"{path}-writer", timeout=10)
        started = time.monotonic()
        lock.acquire()
        waited = time.monotonic() - started
        lock.close()
    finally:
        holder.join(10)
    assert 0.1 < waited < 5


def test_a_turn_that_does_not_come_in_time_fails_as_sqlite_would(tmp_path):
    path = tmp_path / "db.sqlite3"
    holder = WriterLock(f"{path}-writer", timeout=1)
    holder.acquire()  # another descriptor: to flock, another connection
    waiter = WriterLock(f"{path}-writer", timeout=0.2)
    with pytest.raises(Locked, match="database is locked"):
        waiter.acquire()
    assert not waiter.held
    holder.release()
    waiter.acquire()
    assert waiter.held
    waiter.close()
    holder.close()


def test_threads_with_a_connection_each_write_in_turn_without_losing_a_write(tmp_path):
    path = tmp_path / "db.sqlite3"
    setup = wrapper(path)
    with setup.cursor() as cursor:
        cursor.execute("CREATE TABLE c (id INTEGER PRIMARY KEY, n INTEGER)")
        cursor.execute("INSERT INTO c (id, n) VALUES (1, 0)")
    setup.close()
    del connections["scratch"]
    errors: list[BaseException] = []

    def work():
        db = wrapper(path, alias="worker", timeout=20)
        try:
            for _ in range(100):
                with transaction.atomic(using="worker"), db.cursor() as cursor:
                    cursor.execute("SELECT n FROM c WHERE id = 1")
                    (n,) = cursor.fetchone()
                    cursor.execute("UPDATE c SET n = %s WHERE id = 1", [n + 1])
                with db.cursor() as cursor:  # and a write in autocommit
                    cursor.execute("UPDATE c SET n = n + 1 WHERE id = 1 RETURNING n")
                    cursor.fetchall()
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            db.close()
            del connections["worker"]

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    check = wrapper(path)
    with check.cursor() as cursor:
        cursor.execute("SELECT n FROM c WHERE id = 1")
        assert cursor.fetchone() == (800,)
    check.close()
    del connections["scratch"]
    assert errors == []


def test_the_default_database_uses_this_backend():
    assert isinstance(connections["default"], DatabaseWrapper)
