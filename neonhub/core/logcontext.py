"""What the log lines and error reports of this moment are about: the run, the organization.

The ids are bound in context variables (structlog's, which the log formatter merges into every
line, stdlib ``logging`` calls included) and set as Sentry tags, when a run executes
(``run_scope``, in the executor) and when a request is authenticated (``bind``, in the
organization middleware and the API key check); ``clear`` forgets them when a request ends.

The secrets in play (a connector's credentials, once its provider is built) are kept here too,
so the log formatter and Sentry's ``before_send`` hide them wherever they turn up.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import sentry_sdk
import structlog

_secrets: ContextVar[tuple[str, ...]] = ContextVar("neonhub_secrets", default=())


def secrets_add(values: Iterable[str]) -> None:
    """Hide ``values`` (every encoded form already made) in this context's logs and reports."""
    current = _secrets.get()
    new = {*current, *values}
    if len(new) != len(current):
        _secrets.set(tuple(sorted(new, key=len, reverse=True)))


def secrets_in_scope() -> list[str]:
    return list(_secrets.get())


def _clean(ids: dict[str, Any]) -> dict[str, str]:
    return {key: str(value) for key, value in ids.items() if value is not None}


def bind(**ids: Any) -> None:
    """Add ids (``organization_id=…``) to every later log line and error report of this context."""
    ids = _clean(ids)
    structlog.contextvars.bind_contextvars(**ids)
    for key, value in ids.items():
        sentry_sdk.set_tag(key, value)


def clear() -> None:
    """Forget what ``bind`` and ``secrets_add`` recorded (a request begins or ends)."""
    structlog.contextvars.clear_contextvars()
    _secrets.set(())


@contextmanager
def run_scope(**ids: Any) -> Iterator[None]:
    """The ids of one run, on its log lines and error reports while it executes, then gone.

    Sentry's isolation scope keeps the tags to this run in a worker that executes one run
    after another.
    """
    ids = _clean(ids)
    with sentry_sdk.isolation_scope() as scope:
        for key, value in ids.items():
            scope.set_tag(key, value)
        tokens = structlog.contextvars.bind_contextvars(**ids)
        secrets = _secrets.set(())
        try:
            yield
        finally:
            _secrets.reset(secrets)
            structlog.contextvars.reset_contextvars(**tokens)
