"""What other apps plug into the record.  They subscribe here; ``runs`` imports none of them.

- ``run_finished`` is sent by the worker once a run is completed, failed or cancelled (not
  when it goes back on the queue for another attempt), with ``run``.  Batches listen to it
  to feed their next inputs.
- ``retry_verdict(run)`` says whether a Retry can fix a run and, if not, why: ``(ok, reason)``.
  Only the agents know (the error taxonomy, the connectors), so they install it at start-up
  (``retry_verdict_set``); without one, failed and cancelled runs may be retried.
- ``agent_slug(name)`` turns a name someone typed (``SupportAgent``, ``support-agent``) into
  the agent's slug for the run filters; the agents app installs its registry's resolver at
  start-up (``agent_resolver_set``).  Without one, the name is taken as it is.
"""

from __future__ import annotations

from collections.abc import Callable

from django.dispatch import Signal

run_finished = Signal()

_agent_resolver: Callable[[str], str] | None = None
_retry_verdict: Callable[[object], tuple[bool, str]] | None = None


def retry_verdict_set(verdict: Callable[[object], tuple[bool, str]]) -> None:
    global _retry_verdict
    _retry_verdict = verdict


def retry_verdict(run) -> tuple[bool, str]:
    if _retry_verdict is not None:
        return _retry_verdict(run)
    return run.status in ("failed", "cancelled"), ""


def agent_resolver_set(resolver: Callable[[str], str]) -> None:
    global _agent_resolver
    _agent_resolver = resolver


def agent_slug(name: str) -> str:
    return _agent_resolver(name) if _agent_resolver is not None else name
