"""What other apps plug into the record.  They subscribe here; ``runs`` imports none of them.

- ``run_finished`` is sent by the worker once a run is completed, failed or cancelled (not
  when it goes back on the queue for another attempt), with ``run``.  Batches listen to it
  to feed their next inputs.
- ``agent_slug(name)`` turns a name someone typed (``SupportAgent``, ``support-agent``) into
  the agent's slug for the run filters; the agents app installs its registry's resolver at
  start-up (``agent_resolver_set``).  Without one, the name is taken as it is.
- ``agent_catalog()`` lists the registered agents and their intents, for the run list's
  drop-downs; the agents app installs it at start-up (``agent_catalog_set``).  Without one
  the list is empty and the filters take any name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.dispatch import Signal

run_finished = Signal()

_agent_resolver: Callable[[str], str] | None = None


def agent_resolver_set(resolver: Callable[[str], str]) -> None:
    global _agent_resolver
    _agent_resolver = resolver


def agent_slug(name: str) -> str:
    return _agent_resolver(name) if _agent_resolver is not None else name


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
