"""What other apps plug into connectors.  They register here; ``connectors`` imports none of them.

``connector_dependents(connector)`` answers what depends on a connector, for its page and the
confirmation before deleting it: triggers tied to it, schedules, batches and runs that name
it.  Only the apps that own those rows know them, so each registers a finder at start-up
(the automation app does, in ``AutomationConfig.ready``, with
``connector_dependents_finder_add``).  Without one the list is empty, and the page says what
it knows itself (the connector's own outbox stays).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from connectors.models import Connector


@dataclass(frozen=True)
class DependentItem:
    label: str
    url: str = ""


@dataclass(frozen=True)
class Dependents:
    """One kind of thing that depends on a connector, and what deleting it does to them.

    ``kind`` is plural ("Triggers"), ``fate`` a sentence ("Deleted with the connector."),
    ``count`` may exceed ``items`` (the page lists the first few).
    """

    kind: str
    fate: str
    count: int
    items: list[DependentItem] = field(default_factory=list)


Finder = Callable[["Connector"], list[Dependents]]
_finders: dict[str, Finder] = {}


def connector_dependents_finder_add(key: str, finder: Finder) -> None:
    """Register (or replace, by ``key``) a finder of a connector's dependents."""
    _finders[key] = finder


def connector_dependents(connector: Connector) -> list[Dependents]:
    """Every registered finder's dependents of ``connector`` that are not empty."""
    found: list[Dependents] = []
    for finder in _finders.values():
        found += [group for group in finder(connector) if group.count]
    return found


# --- renewing a refused token -----------------------------------------------------------------
# After a "token expired" answer, the execution asks the registered renewer (the OAuth flows,
# registered in ``ConnectorsConfig.ready``) to renew the connector's tokens once.  Registered
# rather than imported: the flows build on the connector services, which build on execution.

TokenRenewer = Callable[["Connector"], bool]
_renewers: list[TokenRenewer] = []


def token_renewer_set(renewer: TokenRenewer) -> None:
    _renewers[:] = [renewer]


def token_renew(connector: Connector) -> bool:
    """Whether new tokens were saved for ``connector`` (False when no renewer can)."""
    return any(renewer(connector) for renewer in _renewers)
