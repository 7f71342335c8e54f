"""The one HTTP seam: every outside call goes through ``HttpClient.request``.

- one pooled ``requests.Session`` per provider, reused across calls;
- connect and read timeouts and a User-Agent on every request;
- urllib3's ``Retry`` for short in-request retries: connection errors always (nothing
  was sent), and 429/502/503/504 and read errors only for requests that are safe to
  repeat, honouring ``Retry-After`` with jitter;
- a ``Retry-After`` longer than ``max_retry_after`` is not slept in a worker: it becomes
  ``ConnectorRateLimited(retry_after=...)`` and the run is rescheduled;
- a read timeout on a request that is not safe to repeat is ``OutcomeUnknown``: it may
  have happened, so it is never blindly repeated.

This module is the only place that imports ``requests``.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from typing import Any
from urllib.parse import urlsplit

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from neonhub.core.errors import ConnectorUnavailable, InvalidInput, OutcomeUnknown

USER_AGENT = "NeonHub/1.0 (+https://github.com/neonhub; marketing operations hub)"
RETRY_STATUSES = frozenset({429, 502, 503, 504})


class RetryAfterTooLong(Exception):
    """The provider asked us to wait longer than a worker should sleep."""

    def __init__(self, status: int, retry_after: float, headers: dict):
        super().__init__(f"Retry-After {retry_after}s")
        self.status = status
        self.retry_after = retry_after
        self.headers = headers


class CappedRetry(Retry):
    """urllib3 Retry that refuses to sleep past ``max_retry_after`` seconds."""

    max_retry_after: float = 10.0

    def new(self, **kw: Any) -> CappedRetry:
        new = super().new(**kw)
        new.max_retry_after = self.max_retry_after
        return new

    def sleep_for_retry(self, response) -> bool:
        retry_after = self.get_retry_after(response)
        if retry_after is not None and retry_after > self.max_retry_after:
            response.drain_conn()
            raise RetryAfterTooLong(response.status, retry_after, dict(response.headers))
        return super().sleep_for_retry(response)


def _retry(*, attempts: int, backoff: float, safe: bool, max_retry_after: float) -> CappedRetry:
    retry = CappedRetry(
        total=attempts,
        connect=attempts,
        read=attempts if safe else 0,
        status=attempts if safe else 0,
        other=0,
        allowed_methods=None,  # we decide what is safe per request, not per HTTP verb
        status_forcelist=RETRY_STATUSES if safe else (),
        backoff_factor=backoff,
        backoff_jitter=backoff,
        respect_retry_after_header=True,
        raise_on_status=False,
        redirect=3,
    )
    retry.max_retry_after = max_retry_after
    return retry


class HttpClient:
    """Pooled sessions for one provider: one that retries, one that does not."""

    def __init__(self, *, name: str, attempts: int = 2, backoff: float = 0.5, timeout: tuple[float, float] = (5.0, 30.0),
                 max_retry_after: float = 10.0):
        self.name = name
        self.timeout = timeout
        self._sessions = {
            safe: self._session(_retry(attempts=attempts, backoff=backoff, safe=safe, max_retry_after=max_retry_after))
            for safe in (True, False)
        }

    @staticmethod
    def _session(retry: Retry) -> requests.Session:
        session = requests.Session()
        adapter = HTTPAdapter(max_retries=retry, pool_connections=4, pool_maxsize=16)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        session.headers["User-Agent"] = USER_AGENT
        return session

    def request(self, method: str, url: str, *, safe_to_repeat: bool, timeout: tuple[float, float] | None = None,
                **kwargs: Any) -> requests.Response:
        session = self._sessions[safe_to_repeat]
        try:
            return session.request(method, url, timeout=timeout or self.timeout, **kwargs)
        except RetryAfterTooLong as exc:
            return _synthetic_response(exc, url)
        except requests.exceptions.ConnectTimeout as exc:
            raise ConnectorUnavailable(f"{self.name}: connection timed out", provider=self.name) from exc
        except requests.exceptions.ReadTimeout as exc:
            if safe_to_repeat:
                raise ConnectorUnavailable(f"{self.name}: no answer in time", provider=self.name) from exc
            raise OutcomeUnknown(
                f"{self.name}: no answer in time; the request may have been carried out", provider=self.name
            ) from exc
        except requests.exceptions.RetryError as exc:
            raise ConnectorUnavailable(f"{self.name}: still failing after retries", provider=self.name) from exc
        except requests.exceptions.ConnectionError as exc:
            if safe_to_repeat or _nothing_sent(exc):
                raise ConnectorUnavailable(f"{self.name}: could not connect", provider=self.name) from exc
            raise OutcomeUnknown(f"{self.name}: connection lost mid-request", provider=self.name) from exc


def _nothing_sent(exc: requests.exceptions.ConnectionError) -> bool:
    text = repr(exc)
    return any(marker in text for marker in ("NewConnectionError", "NameResolutionError", "ConnectionRefused",
                                             "Failed to establish"))


def _synthetic_response(exc: RetryAfterTooLong, url: str) -> requests.Response:
    """Turn a refused long Retry-After into an ordinary response for the provider to classify."""
    response = requests.Response()
    response.status_code = exc.status
    response.headers.update(exc.headers)
    response.url = url
    response._content = b""
    return response


_clients: dict[str, HttpClient] = {}
_lock = threading.Lock()


def client_for(name: str, **kwargs: Any) -> HttpClient:
    """The shared client of a provider, created on first use (never at import time)."""
    with _lock:
        if name not in _clients:
            _clients[name] = HttpClient(name=name, **kwargs)
        return _clients[name]


def check_public_url(url: str, *, field: str = "url") -> str:
    """Refuse private, loopback and link-local targets for addresses an organization supplies.

    Allowed when ``NEONHUB_ALLOW_PRIVATE_URLS`` is true (tests, local set-ups).
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput(f"{field} must be an http(s) URL", details=[{"field": field, "message": "not an http(s) URL"}])
    if settings.NEONHUB_ALLOW_PRIVATE_URLS:
        return url
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
    except socket.gaierror as exc:
        raise InvalidInput(f"{field}: cannot resolve {parts.hostname}", details=[{"field": field, "message": "unresolvable host"}]) from exc
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if address.is_private or address.is_loopback or address.is_link_local or address.is_reserved \
                or address.is_multicast or address.is_unspecified:
            raise InvalidInput(
                f"{field} points to a private or local address, which is not allowed",
                details=[{"field": field, "message": "private, loopback or link-local address"}],
            )
    return url
