"""Django's SQLite backend, with the processes that write taking turns on a file lock.

SQLite lets one connection write at a time.  A writer that finds the database's lock taken
waits in SQLite's busy handler, which sleeps 1, 2, 5, 10, 15, 20, 25 … 100 ms between tries
while a holder here keeps the lock for 0.1–0.5 ms (a run's claim, its finishing transaction, a
task's INSERT).  Measured (docs/PERFORMANCE.md, draining a queue): with the web server, two
workers, the pusher and the acknowledgements writing at once, most of a run's time in the
cluster was spent asleep in that handler, with the processor idle.

Here every connection to a database file first takes an exclusive ``flock`` on a file beside
it (``<database>-writer``) before it writes: at ``BEGIN IMMEDIATE`` (every transaction is
immediate, see settings) until the COMMIT or ROLLBACK, and around a write statement run in
autocommit.  A process waiting for it is woken by the kernel the moment the holder lets go.
SQLite's own locking is untouched and still decides who may write: the file lock only lines
the writers up, so a writer that does not take it (the ``sqlite3`` shell, a backup) is as
safe as before, and a process that dies holding it loses it with its file descriptors.

Hand-written rather than a file-lock library (filelock, portalocker): their waits poll at a
fixed interval (filelock's 50 ms default), the very delay this replaces, and they keep one lock
per path and process, while each connection here needs its own (a process's threads have a
connection each, and they must queue like processes).

The wait is bounded like SQLite's: after the database's ``timeout`` (20 s in settings) the
statement fails with "database is locked", as it would have without this.
"""

from __future__ import annotations

import fcntl
import os
import time

from django.db.backends.sqlite3 import base

# Statements that write, as their first word (a CTE may write, so WITH counts).  A write that is
# not recognised is still safe: it only waits in SQLite's busy handler as before.
WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE", "WITH", "CREATE", "DROP", "ALTER")

# The first tries are quick: a holder keeps the lock for a fraction of a millisecond.
FIRST_WAIT = 0.00005
LONGEST_WAIT = 0.001


class Locked(base.Database.OperationalError):
    """The writer's turn did not come within the database's timeout."""


class WriterLock:
    """One connection's turn to write: an exclusive ``flock`` on ``path``, held at most once."""

    def __init__(self, path: str, timeout: float):
        self.path = path
        self.timeout = timeout
        self.fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        self.held = False

    def acquire(self) -> None:
        if self.held:
            return
        try:  # the usual case: nobody is writing
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._wait()
        self.held = True

    def _wait(self) -> None:
        # A blocking flock would wake at once but cannot give up after a timeout (no syscall
        # takes one, and a signal can only interrupt the main thread); short sleeps that grow
        # to 1 ms keep the wake-up within a millisecond of the holder's release.
        deadline = time.monotonic() + self.timeout
        pause = FIRST_WAIT
        while True:
            time.sleep(pause)
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise Locked("database is locked") from None
                pause = min(pause * 2, LONGEST_WAIT)

    def release(self) -> None:
        if self.held:
            self.held = False
            fcntl.flock(self.fd, fcntl.LOCK_UN)

    def close(self) -> None:
        self.release()
        os.close(self.fd)


def _in_memory(name: str) -> bool:
    return name == ":memory:" or "mode=memory" in name


def writes(query: str) -> bool:
    return query.lstrip()[:8].upper().startswith(WRITES)


class CursorWrapper(base.SQLiteCursorWrapper):
    """Takes the connection's turn around a write statement run in autocommit.  A statement
    with RETURNING keeps SQLite's lock until its rows are read, so they are read under the turn
    and handed out from memory."""

    writer: WriterLock | None = None
    database: DatabaseWrapper | None = None
    _rows: list | None = None

    def execute(self, query, params=None):
        if not self._turn_needed(query):
            return super().execute(query, params)
        self.writer.acquire()
        try:
            result = super().execute(query, params)
            if self.description is not None:  # RETURNING: read every row while it is our turn
                self._rows = super().fetchall()
            return result
        finally:
            self.writer.release()

    def executemany(self, query, param_list):
        if not self._turn_needed(query):
            return super().executemany(query, param_list)
        self.writer.acquire()
        try:
            return super().executemany(query, param_list)
        finally:
            self.writer.release()

    def _turn_needed(self, query: str) -> bool:
        self._rows = None
        return (
            self.writer is not None
            and not self.writer.held
            and self.database.get_autocommit()
            and writes(query)
        )

    def fetchone(self):
        if self._rows is None:
            return super().fetchone()
        return self._rows.pop(0) if self._rows else None

    def fetchmany(self, size=None):
        if self._rows is None:
            return super().fetchmany() if size is None else super().fetchmany(size)
        size = self.arraysize if size is None else size
        taken, self._rows = self._rows[:size], self._rows[size:]
        return taken

    def fetchall(self):
        if self._rows is None:
            return super().fetchall()
        taken, self._rows = self._rows, []
        return taken

    def __next__(self):
        if self._rows is None:
            return super().__next__()
        if not self._rows:
            raise StopIteration
        return self._rows.pop(0)


class DatabaseWrapper(base.DatabaseWrapper):
    writer: WriterLock | None = None

    def get_new_connection(self, conn_params):
        connection = super().get_new_connection(conn_params)
        name = str(conn_params["database"])
        if self.writer is not None:  # a connection replaced without close()
            self.writer.close()
            self.writer = None
        if not _in_memory(name):
            self.writer = WriterLock(f"{name}-writer", timeout=conn_params.get("timeout", 5.0))
        return connection

    def create_cursor(self, name=None):
        cursor = self.connection.cursor(factory=CursorWrapper)
        cursor.writer, cursor.database = self.writer, self
        return cursor

    def _start_transaction_under_autocommit(self):
        if self.writer is not None:
            self.writer.acquire()
        try:
            super()._start_transaction_under_autocommit()
        except BaseException:
            self._release()
            raise

    def _commit(self):
        try:
            return super()._commit()
        finally:
            self._release()

    def _rollback(self):
        try:
            return super()._rollback()
        finally:
            self._release()

    def _close(self):
        try:
            return super()._close()
        finally:
            if self.writer is not None:
                self.writer.close()
                self.writer = None

    def _release(self) -> None:
        if self.writer is not None:
            self.writer.release()
