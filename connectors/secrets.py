"""Keeping secrets out of records: the values to hide, and the scrubbing of errors and steps.

Every failure and step a connector records passes through here before it is stored, so a
secret that a provider echoes back (in an error body, a URL) is replaced with ``[redacted]``,
in every form it travels in: raw, percent-encoded, JSON-escaped, and base64-encoded as HTTP
Basic (``user:secret``) and SMTP AUTH send it, with or without padding.  A proxy that echoes
the request's ``Authorization: Basic …`` header in its error page must not leave the pair in a
connector's last error.  Masks for pages (``AC12…9f3e``) are ``connectors.crypto.mask``.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any
from urllib.parse import quote, quote_plus

from pydantic import SecretBytes, SecretStr

from connectors.base import Provider
from neonhub.core.errors import NeonHubError
from neonhub.core.recording import Recorder, StepRecord

REDACTED = "[redacted]"
MIN_SECRET_LENGTH = 4
# A secret base64-encoded inside a longer value (an unknown user name before it) shows only
# its middle unchanged; that middle is hidden too once it is long enough not to match by chance.
MIN_CORE_LENGTH = 8
# A provider's message is cut (at 200 characters) before it reaches us: an encoded secret at the
# end may be cut short, so a value that ends with this much of one loses that end.
MIN_TAIL_LENGTH = 6
# Headers that carry credentials: their values are never kept, whoever echoes them.
CREDENTIAL_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key", "api-key"}
)
# "Authorization: Bearer <token>" or "Basic <base64>" quoted back, whatever the token: a
# credential we do not hold (one renewed during the call) is hidden all the same.  A digit is
# required so that prose ("Basic authentication failed") stays readable.
AUTH_VALUE = re.compile(
    r"\b(Bearer|Basic)(\s+|%20|\+)(?=[A-Za-z0-9._~+/-]*\d)[A-Za-z0-9._~+/-]{16,}=*",
    re.IGNORECASE,
)


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
    """Every form of the provider's secret values (its SecretStr fields and refreshed tokens)
    that may travel or be echoed back, longest first."""
    if provider is None:
        return []
    fields = [v for v in vars(provider.credentials).values() if v is not None]
    values = [str(reveal(v)) for v in fields if isinstance(v, SecretStr | SecretBytes)]
    values += [str(v) for v in (provider.updated_credentials or {}).values() if v]
    # Any credential may be the user half of a Basic pair (Twilio's account SID, a client id).
    users = {str(reveal(v)) for v in fields if isinstance(v, str | SecretStr | SecretBytes)}
    forms: set[str] = set()
    for secret in {v for v in values if len(v) >= MIN_SECRET_LENGTH}:
        forms |= encoded_forms(secret, users)
    return sorted({f for f in forms if len(f) >= MIN_SECRET_LENGTH}, key=len, reverse=True)


def encoded_forms(secret: str, users: Iterable[str] = ()) -> set[str]:
    """``secret`` as it is sent or quoted: raw, percent-encoded, JSON-escaped, and base64 alone
    (SMTP AUTH LOGIN), in an HTTP Basic pair with each of ``users`` (``user:secret``, and the
    secret as the user), and in SMTP AUTH PLAIN (``\\0user\\0secret``)."""
    forms = {secret, quote(secret), quote(secret, safe=""), quote_plus(secret)}
    forms.add(json.dumps(secret)[1:-1])
    plain = [secret]
    for user in {"", *users} - {secret}:
        plain += [f"{user}:{secret}", f"{secret}:{user}", f"\0{user}\0{secret}"]
    for text in plain:
        forms |= _base64_forms(text.encode())
    forms |= _base64_cores(secret.encode())
    return forms


def _base64_forms(data: bytes) -> set[str]:
    encoded = {base64.b64encode(data).decode(), base64.urlsafe_b64encode(data).decode()}
    return encoded | {form.rstrip("=") for form in encoded}


def _base64_cores(data: bytes) -> set[str]:
    """What base64 shows of ``data`` wherever it sits in a longer value: each 4 characters
    encode 3 bytes, so at each of the 3 alignments the groups made of ``data`` alone are the
    same whatever surrounds it."""
    cores = set()
    for offset in range(3):
        encoded = base64.b64encode(b"\0" * offset + data).decode()
        start, end = 4 * -(-offset // 3), 4 * ((offset + len(data)) // 3)
        for core in (encoded[start:end], encoded[start:end].replace("+", "-").replace("/", "_")):
            if len(core) >= MIN_CORE_LENGTH:
                cores.add(core)
    return cores


@lru_cache(maxsize=256)
def _patterns(secrets: tuple[str, ...]) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """One pass over a value for all the forms (longest first, so a pair wins over its parts),
    and one for the beginnings of the forms, to find one cut short at the end."""
    whole = re.compile("|".join(re.escape(secret) for secret in secrets))
    heads = {secret[:MIN_TAIL_LENGTH] for secret in secrets if len(secret) > MIN_TAIL_LENGTH}
    return whole, re.compile("|".join(map(re.escape, sorted(heads))) or r"(?!)")


def _scrub_text(value: str, secrets: tuple[str, ...]) -> str:
    value = AUTH_VALUE.sub(rf"\1\2{REDACTED}", value)
    if not secrets:
        return value
    whole, heads = _patterns(secrets)
    value = whole.sub(REDACTED, value)
    for found in heads.finditer(value, max(0, len(value) - len(secrets[0]))):
        if any(secret.startswith(value[found.start() :]) for secret in secrets):
            return value[: found.start()] + REDACTED
    return value


def scrub(value: Any, secrets: list[str]) -> Any:
    """``value`` with every secret replaced: the last line of defence before anything is stored.

    Credential headers (``Authorization``, ``Cookie``, …) found as keys lose their values, and
    an ``Authorization`` value quoted in text (``Bearer …``, ``Basic …``) is hidden even when
    it is not one of ``secrets``.
    """
    key = tuple(secrets)
    return value if _clean(value, key) else _scrub(value, key)


def _clean(value: Any, secrets: tuple[str, ...]) -> bool:
    """Whether ``value`` holds nothing to scrub, found in one pass over all its strings at once.

    Nearly every step detail is clean, and going string by string through every encoded form
    of every secret cost a quarter of a millisecond per connector call (measured in
    bench/connector_overhead.py); a value that is not clean is scrubbed string by string.
    """
    texts: list[str] = []
    if not _collect(value, texts):
        return False
    blob = "\0".join(texts)
    if AUTH_VALUE.search(blob):
        return False
    if not secrets:
        return True
    whole, heads = _patterns(secrets)
    if whole.search(blob):
        return False
    for found in heads.finditer(blob):
        end = blob.find("\0", found.start())
        rest = blob[found.start() : end if end >= 0 else len(blob)]
        if any(secret.startswith(rest) for secret in secrets):
            return False
    return True


def _collect(value: Any, texts: list[str]) -> bool:
    """Gather the strings of ``value``; False when it has a credential header as a key."""
    if isinstance(value, str):
        texts.append(value)
    elif isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and key.lower() in CREDENTIAL_HEADERS:
                return False
            if not _collect(item, texts):
                return False
    elif isinstance(value, list | tuple):
        for item in value:
            if not _collect(item, texts):
                return False
    return True


def _scrub(value: Any, secrets: tuple[str, ...]) -> Any:
    if isinstance(value, str):
        return _scrub_text(value, secrets)
    if isinstance(value, dict):
        return {
            key: REDACTED
            if isinstance(key, str) and key.lower() in CREDENTIAL_HEADERS
            else _scrub(item, secrets)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [_scrub(item, secrets) for item in value]
    return value


def scrub_error(exc: BaseException, secrets: list[str]) -> None:
    """Scrub an error in place: its message, its arguments (the run's stack shows them) and
    context, and those of the errors it was raised from (the stack shows them too)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, NeonHubError):
            current.message = scrub(current.message, secrets)
            current.context = scrub(current.context, secrets)
            current.details = scrub(current.details, secrets)
        current.args = tuple(
            scrub(arg, secrets) if isinstance(arg, str) else arg for arg in current.args
        )
        current = current.__cause__ or current.__context__


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
