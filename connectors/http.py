"""The one HTTP seam: every outside call goes through ``HttpClient.request``.

- one pooled ``requests.Session`` per provider, reused across calls;
- connect and read timeouts and a User-Agent on every request;
- urllib3's ``Retry`` for short in-request retries: connection errors always (nothing
  was sent), a 429 always (the provider says it did not process the request), and
  502/503/504 and read errors only for requests that are safe to repeat, honouring
  ``Retry-After`` with jitter.  A request that is not safe to repeat is otherwise retried
  only when the provider makes it safe (an idempotency key it sends) and says so with
  ``safe_to_repeat=True``;
- a ``Retry-After`` longer than ``max_retry_after`` is not slept in a worker: the answer
  comes back at once for the provider to classify (``ConnectorRateLimited`` with
  ``retry_after``), and the run is rescheduled;
- an answer with a retryable status that the provider classifies as permanent (``is_final``:
  OpenAI's 429 ``insufficient_quota``) comes back at once too, instead of costing more calls;
- a read timeout on a request that is not safe to repeat is ``OutcomeUnknown``: it may
  have happened, so it is never blindly repeated;
- sessions keep no cookies: one provider's session serves every organization, and a
  cookie set for one tenant must never ride along on another tenant's request;
- redirects to private, loopback or link-local addresses are refused like any other
  organization-supplied address (``check_public_url``), and every connection's peer address is
  checked once connected, so a name that resolves differently a moment later (DNS rebinding)
  cannot reach a private address either.

This module is the only place that imports ``requests``.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import threading
from collections.abc import Callable
from contextvars import ContextVar
from functools import lru_cache
from http.cookiejar import DefaultCookiePolicy
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
import urllib3
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.exceptions import (
    ConnectTimeoutError,
    MaxRetryError,
    NameResolutionError,
    NewConnectionError,
    ProxyError,
    ReadTimeoutError,
)
from urllib3.exceptions import SSLError as Urllib3SSLError
from urllib3.util.retry import Retry

from neonhub.core.errors import (
    ConnectorRejected,
    ConnectorUnavailable,
    InvalidInput,
    OutcomeUnknown,
)

USER_AGENT = "NeonHub/1.0 (+https://github.com/neonhub; marketing operations hub)"
RETRY_STATUSES = frozenset({429, 502, 503, 504})
# Statuses that say the request was not processed, so repeating it is safe even when it is
# not safe to repeat: a 429 is refused before any work (RFC 6585; Twilio: "a request that
# receives a 429 is never processed and is always safe to retry").  A 502/503/504 may come
# after the work was done, and stays unrepeated.
NOT_PROCESSED_STATUSES = frozenset({429})
RETRY_AFTER_BODY_LIMIT = 65536


class KeptAnswer(Exception):  # noqa: N818 (control flow, not an error)
    """An answer that ends the in-request retries; it goes back to the provider as it is."""

    def __init__(self, status: int, headers: dict, body: bytes = b""):
        super().__init__(f"HTTP {status}")
        self.status = status
        self.headers = headers
        self.body = body


class RetryAfterTooLong(KeptAnswer):
    """The provider asked us to wait longer than a worker should sleep."""

    def __init__(self, status: int, retry_after: float, headers: dict, body: bytes = b""):
        super().__init__(status, headers, body)
        self.retry_after = retry_after


# The provider's judgement of a retryable status, for the request in progress: True when the
# answer is final whatever its status (OpenAI's 429 "insufficient_quota", Twilio's 20003 on a
# 503).  A context variable because the Retry object belongs to the provider's shared session.
_is_final: ContextVar[tuple[Callable[[requests.Response], bool], str] | None] = ContextVar(
    "neonhub_http_is_final", default=None
)  # (the judgement, the request's full URL)


class CappedRetry(Retry):
    """urllib3 Retry that refuses to sleep past ``max_retry_after`` seconds, and that asks the
    provider whether a retryable status is worth retrying."""

    max_retry_after: float = 10.0
    # Requests that are not safe to repeat: only an answer saying it was not processed is retried.
    not_processed_only: bool = False

    def new(self, **kw: Any) -> CappedRetry:
        new = super().new(**kw)
        new.max_retry_after = self.max_retry_after
        new.not_processed_only = self.not_processed_only
        return new

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        # urllib3 also retries any 413/503 that carries Retry-After, whatever the forcelist.
        if self.not_processed_only and status_code not in NOT_PROCESSED_STATUSES:
            return False
        return super().is_retry(method, status_code, has_retry_after)

    def parse_retry_after(self, retry_after: str) -> float:
        # Shopify sends decimal seconds ("Retry-After: 2.0"), which urllib3 refuses as invalid.
        try:
            return max(0.0, float(retry_after))
        except ValueError:
            return super().parse_retry_after(retry_after)

    def increment(
        self, method=None, url=None, response=None, error=None, _pool=None, _stacktrace=None
    ):
        # Checked here rather than in sleep_for_retry: urllib3 discards the body between the
        # two, and the provider's error code is in it (Twilio 20429, Meta code 4).
        if response is not None:
            retry_after = self.get_retry_after(response)
            if retry_after is not None and retry_after > self.max_retry_after:
                raise RetryAfterTooLong(
                    response.status, retry_after, dict(response.headers), _drain(response)
                )
        # Raises MaxRetryError when the retries are spent: urllib3 then returns the answer whole.
        new = super().increment(
            method, url, response=response, error=error, _pool=_pool, _stacktrace=_stacktrace
        )
        final = _is_final.get()
        if response is not None and final is not None:
            is_final, full_url = final
            kept = KeptAnswer(response.status, dict(response.headers), _drain(response))
            if is_final(_as_response(kept, full_url)):  # urllib3's url is only the path
                raise kept
        return new


def _drain(response) -> bytes:
    try:
        body = response.read(amt=RETRY_AFTER_BODY_LIMIT, decode_content=True) or b""
    except Exception:  # a broken body must not hide the Retry-After itself
        body = b""
    response.drain_conn()
    response.release_conn()
    return body


def _retry(*, attempts: int, backoff: float, safe: bool, max_retry_after: float) -> CappedRetry:
    retry = CappedRetry(
        total=attempts,
        connect=attempts,  # the connection was never made, so nothing was sent
        read=attempts if safe else 0,
        status=attempts,  # for a request not safe to repeat, only NOT_PROCESSED_STATUSES
        other=0,
        allowed_methods=None,  # we decide what is safe per request, not per HTTP verb
        status_forcelist=RETRY_STATUSES if safe else NOT_PROCESSED_STATUSES,
        backoff_factor=backoff,
        backoff_jitter=backoff,
        respect_retry_after_header=True,
        raise_on_status=False,
        redirect=3,
    )
    retry.max_retry_after = max_retry_after
    retry.not_processed_only = not safe
    return retry


class _PublicPeer:
    """Checks the address a connection actually reached, not only the one a name resolved to
    earlier: a host that answers public for ``check_public_url`` and private a moment later (DNS
    rebinding) is refused here, after connecting and before anything is sent.  Connections
    through a proxy reach the proxy, which is the operator's choice, and are not checked."""

    host: str
    proxy: Any

    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()  # type: ignore[misc]
        if self.proxy is None:
            check_public_peer(sock, host=self.host)
        return sock


class _HTTPConnection(_PublicPeer, urllib3.connection.HTTPConnection):
    pass


class _HTTPSConnection(_PublicPeer, urllib3.connection.HTTPSConnection):
    pass


class _HTTPPool(urllib3.HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(urllib3.HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


class _Adapter(HTTPAdapter):
    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}


@lru_cache(maxsize=1024)
def _env_proxies(scheme: str, netloc: str) -> dict[str, str]:
    """The proxies the environment names for one origin (``HTTPS_PROXY``, ``NO_PROXY``, ...)."""
    return requests.utils.get_environ_proxies(f"{scheme}://{netloc}/", no_proxy=None)


@lru_cache(maxsize=1)
def _env_verify() -> str | bool:
    return os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True


def env_settings_clear() -> None:
    """Read the proxy and CA bundle environment again (it is read once per process and origin)."""
    _env_proxies.cache_clear()
    _env_verify.cache_clear()


class _Session(requests.Session):
    """A session that checks where it is redirected to, and that never stores cookies.

    requests reads the proxy environment twice per request when ``trust_env`` is on (measured:
    ~0.15 ms of every outside call); here it is read once per origin and passed explicitly.
    A ``.netrc`` is never consulted: provider calls carry their own credentials, nothing else.
    """

    def __init__(self) -> None:
        super().__init__()
        self.trust_env = False
        self.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
        self.headers["User-Agent"] = USER_AGENT

    def request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        parts = urlsplit(url)
        if kwargs.get("proxies") is None:
            kwargs["proxies"] = dict(_env_proxies(parts.scheme, parts.netloc))
        if kwargs.get("verify") is None:
            kwargs["verify"] = _env_verify()
        return super().request(method, url, **kwargs)

    def rebuild_proxies(
        self, prepared_request: requests.PreparedRequest, proxies: dict | None
    ) -> dict:
        # A redirect to another origin takes that origin's proxies (or none, under NO_PROXY).
        parts = urlsplit(prepared_request.url or "")
        return super().rebuild_proxies(prepared_request, _env_proxies(parts.scheme, parts.netloc))

    def get_redirect_target(self, resp: requests.Response) -> str | None:
        target = super().get_redirect_target(resp)
        if target:
            check_public_url(urljoin(resp.url, target), field="redirect")
        return target


class HttpClient:
    """Pooled sessions for one provider: one that retries, one that does not."""

    def __init__(
        self,
        *,
        name: str,
        attempts: int = 2,
        backoff: float = 0.5,
        timeout: tuple[float, float] = (5.0, 30.0),
        max_retry_after: float = 10.0,
    ):
        self.name = name
        self.timeout = timeout
        self.max_retry_after = max_retry_after
        self._sessions = {
            safe: self._session(
                _retry(
                    attempts=attempts, backoff=backoff, safe=safe, max_retry_after=max_retry_after
                )
            )
            for safe in (True, False)
        }

    @staticmethod
    def _session(retry: Retry) -> requests.Session:
        session = _Session()
        adapter = _Adapter(max_retries=retry, pool_connections=4, pool_maxsize=16)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        return session

    def request(
        self,
        method: str,
        url: str,
        *,
        safe_to_repeat: bool,
        timeout: tuple[float, float] | None = None,
        is_final: Callable[[requests.Response], bool] | None = None,
        **kwargs: Any,
    ) -> requests.Response:
        """``is_final``, given an answer with a retryable status (429, 502–504), says whether it is
        final anyway; then it comes back at once instead of being retried."""
        session = self._sessions[safe_to_repeat]
        token = _is_final.set((is_final, url) if is_final is not None else None)
        try:
            return session.request(method, url, timeout=timeout or self.timeout, **kwargs)
        except KeptAnswer as exc:
            return _as_response(exc, url)
        except InvalidInput as exc:  # a redirect to a private address
            raise ConnectorRejected(f"{self.name}: {exc.message}", provider=self.name) from exc
        except requests.exceptions.ConnectTimeout as exc:
            raise ConnectorUnavailable(
                f"{self.name}: connection timed out", provider=self.name
            ) from exc
        except requests.exceptions.ReadTimeout as exc:
            raise self._timed_out(safe_to_repeat) from exc
        except requests.exceptions.RetryError as exc:
            raise ConnectorUnavailable(
                f"{self.name}: still failing after retries", provider=self.name
            ) from exc
        except requests.exceptions.ConnectionError as exc:
            raise self._connection_failed(exc, safe_to_repeat) from exc
        except (
            requests.exceptions.InvalidURL,
            requests.exceptions.MissingSchema,
            requests.exceptions.InvalidSchema,
        ) as exc:
            raise ConnectorRejected(
                f"{self.name}: the request URL is not valid", provider=self.name
            ) from exc
        except requests.exceptions.RequestException as exc:
            # The answer started but broke off (chunked encoding, decoding): it was received.
            if safe_to_repeat:
                raise ConnectorUnavailable(
                    f"{self.name}: the answer broke off", provider=self.name
                ) from exc
            raise OutcomeUnknown(
                f"{self.name}: the answer broke off; the request may have been carried out",
                provider=self.name,
            ) from exc
        finally:
            _is_final.reset(token)

    def _timed_out(self, safe_to_repeat: bool) -> ConnectorUnavailable | OutcomeUnknown:
        if safe_to_repeat:
            return ConnectorUnavailable(f"{self.name}: no answer in time", provider=self.name)
        return OutcomeUnknown(
            f"{self.name}: no answer in time; the request may have been carried out",
            provider=self.name,
        )

    def _connection_failed(self, exc: requests.exceptions.ConnectionError, safe_to_repeat: bool):
        reason = _reason(exc)
        # requests reports a read timeout that exhausted urllib3's retries as a ConnectionError.
        if isinstance(reason, ReadTimeoutError):
            return self._timed_out(safe_to_repeat)
        if _nothing_sent(reason):
            return ConnectorUnavailable(f"{self.name}: could not connect", provider=self.name)
        if safe_to_repeat:
            return ConnectorUnavailable(f"{self.name}: connection lost", provider=self.name)
        return OutcomeUnknown(
            f"{self.name}: connection lost mid-request; it may have been carried out",
            provider=self.name,
        )


def _reason(exc: Exception) -> BaseException | None:
    """The urllib3 error under a requests exception (unwrapping MaxRetryError)."""
    inner = exc.args[0] if exc.args else None
    if isinstance(inner, MaxRetryError):
        return inner.reason
    return inner if isinstance(inner, BaseException) else None


def _nothing_sent(reason: BaseException | None) -> bool:
    # NewConnectionError and NameResolutionError subclass ConnectTimeoutError in urllib3 2.
    return isinstance(
        reason,
        (ConnectTimeoutError, NewConnectionError, NameResolutionError, ProxyError, Urllib3SSLError),
    )


def _as_response(exc: KeptAnswer, url: str) -> requests.Response:
    """A kept answer as an ordinary response, for the provider to classify."""
    response = requests.Response()
    response.status_code = exc.status
    response.headers.update(exc.headers)
    response.url = url
    response._content = exc.body
    response.encoding = "utf-8"
    return response


_clients: dict[str, HttpClient] = {}
_lock = threading.Lock()


def client_for(name: str, **kwargs: Any) -> HttpClient:
    """The shared client of a provider, created on first use (never at import time).

    ``settings.NEONHUB_HTTP_BACKOFF`` (seconds, default 0.5) scales the wait between
    in-request retries.
    """
    with _lock:
        if name not in _clients:
            kwargs.setdefault("backoff", getattr(settings, "NEONHUB_HTTP_BACKOFF", 0.5))
            _clients[name] = HttpClient(name=name, **kwargs)
        return _clients[name]


def is_public_address(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # ::ffff:127.0.0.1 is loopback too
    return address.is_global and not address.is_multicast


def check_public_peer(sock: socket.socket, *, host: str, field: str = "url") -> None:
    """Refuse a connected socket whose peer is private, loopback or link-local (and close it).

    Called once a connection is made and before anything is sent on it, so a name that
    resolved to a public address for ``check_public_url`` and to a private one for the
    connection (DNS rebinding) reaches nothing.  Allowed when ``NEONHUB_ALLOW_PRIVATE_URLS``.
    """
    if settings.NEONHUB_ALLOW_PRIVATE_URLS:
        return
    peer = ipaddress.ip_address(str(sock.getpeername()[0]).split("%", 1)[0])
    if not is_public_address(peer):
        sock.close()
        raise InvalidInput(
            f"{host} reached a private or local address ({peer}), which is not allowed",
            details=[{"field": field, "message": "private, loopback or link-local address"}],
        )


def check_public_url(url: str, *, field: str = "url") -> str:
    """Refuse private, loopback and link-local targets for addresses an organization supplies.

    Allowed when ``NEONHUB_ALLOW_PRIVATE_URLS`` is true (tests, local set-ups).  Every
    address the host resolves to must be public (shared, reserved and unspecified ranges
    are refused too).
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput.for_field(
            field, "not an http(s) URL", summary=f"{field} must be an http(s) URL"
        )
    if settings.NEONHUB_ALLOW_PRIVATE_URLS:
        return url
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        infos = socket.getaddrinfo(parts.hostname, port, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError, ValueError) as exc:
        raise InvalidInput.for_field(
            field, "unresolvable host", summary=f"{field}: cannot resolve {parts.hostname}"
        ) from exc
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])  # drop an IPv6 scope id
        if not is_public_address(address):
            raise InvalidInput.for_field(
                field,
                "private, loopback or link-local address",
                summary=f"{field} points to a private or local address, which is not allowed",
            )
    return url
