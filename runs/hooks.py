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
- ``result_view(run)`` / ``result_text(run)``: the run page's readable result (a template and
  its context) and the text a run wrote, for Copy and the ``.md`` / ``.html`` downloads.  Only
  the agents know what an intent's output means; they install a presenter at start-up
  (``result_presenter_set``).  Without one, or for an output it cannot read, the page shows
  the raw JSON.
- ``agent_catalog()`` lists the registered agents and their intents, for the run list's
  drop-downs; the agents app installs it at start-up (``agent_catalog_set``).  Without one
  the list is empty and the filters take any name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.dispatch import Signal

if TYPE_CHECKING:
    from runs.models import AgentRun

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


# --- a run's result, readable -------------------------------------------------------------------


@dataclass(frozen=True)
class ResultView:
    """A template that shows a completed run's output to a person, and what it needs."""

    template: str
    context: dict[str, Any]


@dataclass(frozen=True)
class ResultText:
    """The text a run wrote (an article, a summary), for Copy and the downloads.

    ``markdown`` is False for plain text whose line breaks matter (a LinkedIn post).
    """

    title: str
    text: str
    markdown: bool = True


_result_view: Callable[[AgentRun], ResultView | None] | None = None
_result_text: Callable[[AgentRun], ResultText | None] | None = None


def result_presenter_set(
    *,
    view: Callable[[AgentRun], ResultView | None],
    text: Callable[[AgentRun], ResultText | None],
) -> None:
    global _result_view, _result_text
    _result_view, _result_text = view, text


def result_view(run: AgentRun) -> ResultView | None:
    """How the run page shows this run's output; None: only the raw JSON."""
    if _result_view is None or run.output is None:
        return None
    return _result_view(run)


def result_text(run: AgentRun) -> ResultText | None:
    """The text this run wrote, if it wrote one."""
    if _result_text is None or run.output is None:
        return None
    return _result_text(run)


@dataclass(frozen=True)
class CatalogAgent:
    """One registered agent as the run filters show it: its slug, its name and its intents."""

    slug: str
    name: str
    intents: tuple[str, ...]


_agent_catalog: Callable[[], list[CatalogAgent]] | None = None


def agent_catalog_set(catalog: Callable[[], list[CatalogAgent]]) -> None:
    global _agent_catalog
    _agent_catalog = catalog


def agent_catalog() -> list[CatalogAgent]:
    return _agent_catalog() if _agent_catalog is not None else []
