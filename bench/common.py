"""What every benchmark here sets up the same way: its own var/ folder and database, and a
bounded wait for the worker."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def bench_environment(name: str) -> Path:
    """A fresh ``var/<name>`` with its own SQLite database, unless DATABASE_URL points elsewhere
    (then the folder is kept: it holds only secrets and logs)."""
    var = ROOT / "var" / name
    if not os.environ.get("DATABASE_URL"):
        shutil.rmtree(var, ignore_errors=True)
    var.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("NEONHUB_VAR_DIR", str(var))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "neonhub.settings")
    os.environ.setdefault("NEONHUB_LOG_LEVEL", "WARNING")
    return var


def wait_until(
    predicate: Callable[[], bool],
    timeout: float,
    what: str = "the worker",
    interval: float = 0.05,
) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(interval)
