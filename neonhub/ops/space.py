"""Handing the pages the retention job freed back to the file system.

SQLite keeps deleted pages on its free list and reuses them, but the file never shrinks on
its own.  New databases are created with ``auto_vacuum=INCREMENTAL`` (``neonhub/settings.py``),
so ``PRAGMA incremental_vacuum(N)`` moves up to N free pages to the end of the file and
truncates it, each step a short write transaction of its own.  A ``VACUUM`` would do the same
by rewriting the whole database while holding the write lock, seconds to minutes in which no
run can finish, so it is left to an operator (``manage.py prune_data --vacuum``), who also
needs it once to switch a database created before this setting to incremental.

PostgreSQL needs nothing here: autovacuum marks the deleted rows' space for reuse.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from django.db import connection

INCREMENTAL = 2  # PRAGMA auto_vacuum: 0 none, 1 full, 2 incremental
PAGES_PER_STEP = 2000  # about 8 MB of 4 KiB pages per write transaction


@dataclass
class Space:
    engine: str
    auto_vacuum: str = ""
    pages: int = 0
    free_pages_before: int = 0
    free_pages_after: int = 0
    reclaimed_pages: int = 0
    skipped: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


def _pragma(cursor, name: str) -> int:
    cursor.execute(f"PRAGMA {name}")
    return int(cursor.fetchone()[0])


def space_reclaim(*, pages_per_step: int = PAGES_PER_STEP, max_steps: int = 1000) -> Space:
    """On SQLite with incremental auto-vacuum, return the free pages in small steps."""
    if connection.vendor != "sqlite":
        return Space(engine=connection.vendor, auto_vacuum="autovacuum (server)")
    if connection.in_atomic_block:
        # Each step commits (executescript would commit the caller's transaction too).
        return Space(engine="sqlite", skipped="inside a transaction")
    with connection.cursor() as cursor:
        mode = _pragma(cursor, "auto_vacuum")
        free = before = _pragma(cursor, "freelist_count")
        if mode == INCREMENTAL:
            for _ in range(max_steps):
                if free == 0:
                    break
                # executescript, not execute: Python's sqlite3 steps a statement once, and each
                # step of incremental_vacuum frees one page (measured: 1 page per execute, 1000
                # pages in ~60 ms per executescript).
                connection.connection.executescript(
                    f"PRAGMA incremental_vacuum({int(pages_per_step)});"
                )
                free = _pragma(cursor, "freelist_count")
        pages = _pragma(cursor, "page_count")
    return Space(
        engine="sqlite",
        auto_vacuum={0: "none", 1: "full", 2: "incremental"}.get(mode, str(mode)),
        pages=pages,
        free_pages_before=before,
        free_pages_after=free,
        reclaimed_pages=before - free,
    )


def space_vacuum() -> Space:
    """A full ``VACUUM`` (SQLite): rewrites the file, and switches a database created before
    incremental auto-vacuum to it.  Holds the write lock throughout: run it when quiet."""
    if connection.vendor != "sqlite":
        return Space(engine=connection.vendor, auto_vacuum="autovacuum (server)")
    with connection.cursor() as cursor:
        before = _pragma(cursor, "freelist_count")
        cursor.execute("PRAGMA auto_vacuum=INCREMENTAL")
        cursor.execute("VACUUM")
        return Space(
            engine="sqlite",
            auto_vacuum="incremental" if _pragma(cursor, "auto_vacuum") == INCREMENTAL else "none",
            pages=_pragma(cursor, "page_count"),
            free_pages_before=before,
            free_pages_after=_pragma(cursor, "freelist_count"),
            reclaimed_pages=before,
        )
