"""Keeping secrets out of records: the values to hide, and the scrubbing of errors and steps.

Every failure and step a connector records passes through here before it is stored, so a
secret that a provider echoes back (in an error body, a URL) is replaced with ``[redacted]``.
Masks for pages (``AC12…9f3e``) are ``connectors.crypto.mask``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pydantic import SecretBytes, SecretStr

from connectors.base import Provider
from neonhub.core.errors import NeonHubError
from neonhub.core.recording import Recorder, StepRecord

REDACTED = "[redacted]"
MIN_SECRET_LENGTH = 4


# --- secrets ----------------------------------------------------------------------------------


def reveal(value: Any) -> Any:
    """A model dump with secret values unwrapped, for encryption (and nothing else)."""
    if isinstance(value, SecretStr | SecretBytes):
        return reveal(value.get_secret_value())
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, dict):
        return {key: reveal(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [reveal(item) for item in value]
    return value


def secrets_of(provider: Provider | None) -> list[str]:
    """The provider's secret values (its SecretStr fields and refreshed tokens), longest first."""
    if provider is None:
        return []
    values = [
        str(reveal(v))
        for v in vars(provider.credentials).values()
        if isinstance(v, SecretStr | SecretBytes)
    ]
    values += [str(v) for v in (provider.updated_credentials or {}).values() if v]
    return sorted({v for v in values if len(v) >= MIN_SECRET_LENGTH}, key=len, reverse=True)


def scrub(value: Any, secrets: list[str]) -> Any:
    """``value`` with every secret replaced: the last line of defence before anything is stored."""
    if not secrets:
        return value
    if isinstance(value, str):
        for secret in secrets:
            value = value.replace(secret, REDACTED)
        return value
    if isinstance(value, dict):
        return {key: scrub(item, secrets) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [scrub(item, secrets) for item in value]
    return value


def scrub_error(exc: BaseException, secrets: list[str]) -> None:
    """Scrub an error in place: its message, its arguments (the run's stack shows them) and context."""
    if not secrets:
        return
    if isinstance(exc, NeonHubError):
        exc.message = scrub(exc.message, secrets)
        exc.context = scrub(exc.context, secrets)
        exc.details = scrub(exc.details, secrets)
    exc.args = tuple(scrub(arg, secrets) if isinstance(arg, str) else arg for arg in exc.args)


class ScrubbingRecorder:
    """Wraps the run's recorder so no step detail or step error carries a secret."""

    def __init__(self, inner: Recorder, secrets: list[str]):
        self.inner = inner
        self.secrets = secrets

    @contextmanager
    def step(
        self, name: str, *, kind: str = "step", provider: str = "", action: str = ""
    ) -> Iterator[StepRecord]:
        with self.inner.step(name, kind=kind, provider=provider, action=action) as record:
            try:
                yield record
            except BaseException as exc:
                scrub_error(exc, self.secrets)
                raise
            finally:
                record.detail = scrub(record.detail, self.secrets)

    def add_cost(self, amount) -> None:
        self.inner.add_cost(amount)
