"""django-q2's ORM broker with fewer write transactions (``Q_CLUSTER['broker_class']`` when the
task queue is a table of our own database, i.e. without Redis).

Measured (docs/PERFORMANCE.md, draining a queue): on SQLite a run's rate is bounded by the one
write lock, not by CPU, and django-q2's ORM broker spends two of a run's five write transactions
on its own table, from two more processes: the cluster's pusher locks each task with its own
UPDATE (after a SELECT), and its monitor DELETEs each task once it has run.  Here:

- **Taking** is one ``UPDATE … WHERE id IN (SELECT … LIMIT n) RETURNING``, up to
  ``batch`` tasks at once (the cluster's worker count by default), each locked until
  ``retry`` seconds from now exactly as django-q2 does; on PostgreSQL the inner SELECT skips
  rows another cluster is taking (``FOR UPDATE SKIP LOCKED``).
- **Acknowledging** (deleting a task that has run) is gathered for up to ``ACK_DELAY`` seconds,
  or ``ACK_BATCH`` tasks, and done in one DELETE by a thread of the monitor process; whatever is
  gathered is deleted when the process ends, normally or by SIGTERM (django-q2 leaves its
  processes' SIGTERM at the default, so stopping a whole process group kills them at once).  A task whose acknowledgement is lost (the monitor
  killed within that window) is delivered again once its lock passes, as with django-q2's own
  broker when a cluster dies between a task's end and its acknowledgement: delivery stays
  at least once, and our tasks are written for it (a run's claim takes a run once).
- **Enqueueing** is one plain INSERT (``neonhub.core.sql.insert``) instead of the ORM's.

Everything else (queue size, purge, the admin's queued tasks) is django-q2's.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from datetime import timedelta
from multiprocessing.util import Finalize

from django import db
from django.utils import timezone
from django_q.brokers.orm import ORM
from django_q.conf import Conf
from django_q.models import OrmQ

from neonhub.core import sql

logger = logging.getLogger(__name__)

ACK_DELAY = 0.05
ACK_BATCH = 200


class ORMBroker(ORM):
    """The ORM broker: batched takes, batched acknowledgements, plain INSERTs."""

    def __init__(self, list_key: str | None = None):
        super().__init__(list_key=list_key)
        self._acks: list[int] = []
        self._acks_lock = threading.RLock()  # RLock: the SIGTERM handler may interrupt a holder
        self._acks_ready = threading.Event()
        self._flusher: tuple[int, threading.Thread] | None = None

    def __setstate__(self, state):
        super().__setstate__(state)
        self._acks, self._acks_lock = [], threading.RLock()
        self._acks_ready, self._flusher = threading.Event(), None

    @property
    def batch(self) -> int:
        return max(int(Conf.BULK or 1), int(Conf.WORKERS or 1))

    def enqueue(self, task) -> int:
        row = OrmQ(key=self.list_key or Conf.CLUSTER_NAME, payload=task, lock=timezone.now())
        if Conf.ORM != db.DEFAULT_DB_ALIAS:  # the plain INSERT writes to the default database
            return super().enqueue(task)
        sql.insert([row])
        return row.pk

    def dequeue(self):
        self.get_connection()  # django-q2's: close stale connections when not in a transaction
        now = timezone.now()
        tasks = sql.queue_take(
            OrmQ,
            using=Conf.ORM,
            key=self.list_key,
            now=now,
            until=now + timedelta(seconds=Conf.RETRY),
            limit=self.batch,
        )
        if tasks:
            return tasks
        # empty queue: wait as django-q2 does
        threading.Event().wait(Conf.POLL)
        return None

    # --- acknowledgements -----------------------------------------------------------------

    def acknowledge(self, task_id) -> None:
        """Delete the task soon (see the module's docstring), in one DELETE with others."""
        with self._acks_lock:
            self._acks.append(task_id)
            full = len(self._acks) >= ACK_BATCH
        self._flusher_start()
        if full:
            self.acknowledge_flush()
        else:
            self._acks_ready.set()

    def acknowledge_flush(self) -> int:
        """Delete every gathered task now; answers how many rows went."""
        with self._acks_lock:
            ids, self._acks = self._acks, []
        if not ids:
            return 0
        try:
            return sql.delete_ids(OrmQ, using=Conf.ORM, ids=ids)
        except Exception:
            # Kept for the next flush; a task never deleted is delivered again (at least once).
            logger.exception("Could not acknowledge %s tasks", len(ids))
            with self._acks_lock:
                self._acks[:0] = ids
            return 0

    def _flusher_start(self) -> None:
        pid = os.getpid()
        if self._flusher is not None and self._flusher[0] == pid:
            return
        thread = threading.Thread(target=self._flush_loop, name="ack-flusher", daemon=True)
        self._flusher = (pid, thread)
        thread.start()
        # Runs when a django-q2 process (multiprocessing) ends normally, and at interpreter exit.
        Finalize(self, self.acknowledge_flush, exitpriority=10)
        if threading.current_thread() is threading.main_thread():
            previous = signal.getsignal(signal.SIGTERM)
            signal.signal(signal.SIGTERM, lambda signum, frame: self._terminated(signum, previous))

    def _terminated(self, signum: int, previous) -> None:
        """SIGTERM: delete what is gathered, then do what the signal did before (by default,
        end the process)."""
        self.acknowledge_flush()
        signal.signal(signum, previous)
        os.kill(os.getpid(), signum)

    def _flush_loop(self) -> None:
        while True:
            self._acks_ready.wait()
            threading.Event().wait(ACK_DELAY)  # gather the acknowledgements that follow
            self._acks_ready.clear()
            db.close_old_connections()
            self.acknowledge_flush()
