"""Shopify's Admin GraphQL API underneath the provider: one POST per query, its cost-based rate
limit, its two kinds of error and its cursor pagination.

- Every query is ``POST https://{shop}.myshopify.com/admin/api/{version}/graphql.json`` with
  ``{"query": ..., "variables": ...}`` and the ``X-Shopify-Access-Token`` header.
- The rate limit is a bucket of points per app and store: each answer carries
  ``extensions.cost`` with ``requestedQueryCost``, ``actualQueryCost`` and ``throttleStatus``
  (``maximumAvailable``, ``currentlyAvailable``, ``restoreRate`` points a second).  The last
  known bucket is kept in the connector's state; before a query whose expected cost exceeds
  what is left we wait for the restore (a short sleep within the HTTP seam's cap, otherwise
  ``ConnectorRateLimited`` so the run is rescheduled), instead of being throttled first.  A
  ``THROTTLED`` answer still happens (another app, another process): it is retried once after
  the wait its own throttle status computes.
- Top-level ``errors`` (bad query, access denied, throttled) are mapped onto the taxonomy;
  a mutation's ``userErrors`` (``field``, ``message``, ``code``) are permanent refusals naming
  the field.

Hand-written because the official ``ShopifyAPI`` package is not a dependency and the client
is small: a POST, the bucket arithmetic and the error mapping.
"""

from __future__ import annotations

import time
from typing import Any

import requests

from connectors.base import error_for_status, retry_after_seconds
from neonhub.core.errors import (
    ConnectorAuth,
    ConnectorError,
    ConnectorRateLimited,
    ConnectorRejected,
    ConnectorUnavailable,
)

DEFAULT_API_VERSION = "2025-10"
# Shopify's documented cost of a mutation; a query's cost is estimated from its page size
# until an answer tells us its real requested cost (remembered per operation).
MUTATION_COST = 10
# What Shopify's errors[].extensions.code values mean for us.
AUTH_CODES = {"ACCESS_DENIED", "UNAUTHORIZED", "FORBIDDEN"}
UNAVAILABLE_CODES = {"INTERNAL_SERVER_ERROR", "SERVICE_UNAVAILABLE", "TIMEOUT"}


def gid(kind: str, value: str | int) -> str:
    """A global id (``gid://shopify/Order/450789469``) from a numeric id or a gid."""
    text = str(value).strip()
    if text.startswith("gid://shopify/"):
        return text
    if not text.isdigit():
        raise ConnectorRejected(f"{kind} id must be a number or a gid://shopify/{kind}/… id")
    return f"gid://shopify/{kind}/{text}"


def legacy_id(global_id: str | None) -> str:
    return str(global_id or "").rsplit("/", 1)[-1]


def _message(errors: list[dict]) -> str:
    parts = [str(e.get("message") or "") for e in errors if isinstance(e, dict)]
    return "; ".join(p for p in parts if p) or "the query was refused"


def _code(errors: list[dict]) -> str:
    for error in errors:
        code = ((error or {}).get("extensions") or {}).get("code")
        if code:
            return str(code)
    return ""


class Bucket:
    """The last known state of the store's cost bucket, kept in the connector's state."""

    def __init__(self, state: dict):
        self.state = state

    @property
    def known(self) -> dict | None:
        value = self.state.get("throttle")
        return value if isinstance(value, dict) and value.get("restore_rate") else None

    def available_now(self, now: float) -> float | None:
        known = self.known
        if known is None:
            return None
        elapsed = max(0.0, now - float(known.get("at") or now))
        refilled = float(known["available"]) + elapsed * float(known["restore_rate"])
        return min(float(known["maximum"]), refilled)

    def wait_for(self, cost: float, now: float) -> float:
        """Seconds until ``cost`` points are available (0 when they are, or nothing is known)."""
        available = self.available_now(now)
        known = self.known
        if available is None or known is None or cost <= available:
            return 0.0
        cost = min(cost, float(known["maximum"]))
        return (cost - available) / float(known["restore_rate"])

    def update(self, cost: dict | None, now: float) -> None:
        status = (cost or {}).get("throttleStatus") or {}
        try:
            self.state["throttle"] = {
                "maximum": float(status["maximumAvailable"]),
                "available": float(status["currentlyAvailable"]),
                "restore_rate": float(status["restoreRate"]),
                "at": now,
            }
        except (KeyError, TypeError, ValueError):
            return

    def remember_cost(self, operation: str, cost: dict | None) -> None:
        requested = (cost or {}).get("requestedQueryCost")
        if isinstance(requested, int | float) and operation:
            costs = self.state.setdefault("query_costs", {})
            costs[operation] = requested


class GraphQLClient:
    """Mixed into the Shopify provider: ``graphql(operation, query, variables)``."""

    # Wall time, not time.monotonic: the bucket's time is kept in the connector's state and read
    # by other processes.
    clock = staticmethod(time.time)
    sleep = staticmethod(time.sleep)

    @property
    def graphql_path(self) -> str:
        return f"/admin/api/{self.config.api_version or DEFAULT_API_VERSION}/graphql.json"

    def _headers(self) -> dict[str, str]:
        return {
            "X-Shopify-Access-Token": self.secret("access_token"),
            "Content-Type": "application/json",
            "Accept": "application/json",
        }

    def expected_cost(self, operation: str, variables: dict | None, mutation: bool) -> float:
        known = (self.state.get("query_costs") or {}).get(operation)
        if isinstance(known, int | float):
            return float(known)
        if mutation:
            return float(MUTATION_COST)
        return float(2 + int((variables or {}).get("first") or 1))

    def graphql(
        self,
        operation: str,
        query: str,
        variables: dict | None = None,
        *,
        mutation: bool = False,
        step: str | None = None,
    ) -> dict:
        """Run one query; answer its ``data``.  Waits for the bucket first; retries one THROTTLED."""
        bucket = Bucket(self.state)
        self._wait_for_bucket(bucket, self.expected_cost(operation, variables, mutation))
        try:
            return self._post(bucket, operation, query, variables, step)
        except ConnectorRateLimited as exc:
            if exc.provider_code != "THROTTLED" or (exc.retry_after or 0) > self._cap():
                raise
            self.sleep(exc.retry_after or 0)
            return self._post(bucket, operation, query, variables, step)

    def _cap(self) -> float:
        return float(self.http.max_retry_after)

    def _wait_for_bucket(self, bucket: Bucket, cost: float) -> None:
        wait = bucket.wait_for(cost, self.clock())
        if wait <= 0:
            return
        if wait > self._cap():
            raise ConnectorRateLimited(
                f"Shopify: the store's API budget needs {wait:.0f} s to refill for this query",
                provider_code="THROTTLE_PREDICTED",
                retry_after=wait,
                provider=self.slug,
                action=self._action.name if self._action else "test",
            )
        self.waited = getattr(self, "waited", 0.0) + wait
        self.sleep(wait)

    def _post(
        self, bucket: Bucket, operation: str, query: str, variables: dict | None, step: str | None
    ) -> dict:
        response = self.request(
            "POST",
            self.graphql_path,
            headers=self._headers(),
            json={"query": query, "variables": variables or {}},
            step=step,
            measure=lambda resp, rec: self._measure(resp, rec, bucket, operation),
        )
        body = _json(response)
        return body.get("data") or {}

    def _measure(self, response: requests.Response, rec, bucket: Bucket, operation: str) -> None:
        cost = (_json(response).get("extensions") or {}).get("cost")
        bucket.update(cost, self.clock())
        bucket.remember_cost(operation, cost)
        if cost:
            rec.detail["query_cost"] = {
                "requested": cost.get("requestedQueryCost"),
                "actual": cost.get("actualQueryCost"),
                "available": (cost.get("throttleStatus") or {}).get("currentlyAvailable"),
            }
        if getattr(self, "waited", 0.0):
            rec.detail["waited_for_budget_seconds"] = round(self.waited, 3)
            self.waited = 0.0

    def classify(self, response: requests.Response) -> ConnectorError | None:
        body = _json(response)
        errors = body.get("errors")
        if response.status_code >= 400:
            detail = errors if isinstance(errors, str) else _message(_as_list(errors))
            return error_for_status(
                response.status_code,
                f"Shopify: {detail} (HTTP {response.status_code})"[:200],
                provider_code=_code(_as_list(errors)) or None,
                retry_after=retry_after_seconds(response),
            )
        if not errors:
            return None
        return self._graphql_error(_as_list(errors), body, response)

    def _graphql_error(
        self, errors: list[dict], body: dict, response: requests.Response
    ) -> ConnectorError:
        code = _code(errors)
        message = f"Shopify: {_message(errors)}"[:200]
        if code == "THROTTLED":
            Bucket(self.state).update((body.get("extensions") or {}).get("cost"), self.clock())
            return ConnectorRateLimited(
                message, provider_code=code, retry_after=_throttle_wait(body)
            )
        if code in AUTH_CODES:
            return ConnectorAuth(message, provider_code=code, http_status=response.status_code)
        if code in UNAVAILABLE_CODES:
            return ConnectorUnavailable(message, provider_code=code, retry_after=5)
        return ConnectorRejected(message, provider_code=code or "GRAPHQL_ERROR")


def user_errors(payload: dict | None, what: str) -> None:
    """A mutation's ``userErrors``: a permanent refusal naming the field."""
    found = (payload or {}).get("userErrors") or []
    if not found:
        return
    first = found[0]
    field = ".".join(str(f) for f in (first.get("field") or [])) or "input"
    text = "; ".join(
        f"{'.'.join(map(str, e.get('field') or [])) or 'input'}: {e.get('message')}" for e in found
    )
    raise ConnectorRejected(
        f"Shopify refused {what}: {text}"[:200],
        provider_code=str(first.get("code") or "USER_ERROR"),
        context={"field": field, "user_errors": found[:10]},
    )


def gather(fetch, *, connection: str, max_pages: int, after: str | None) -> dict:
    """Follow ``pageInfo { hasNextPage endCursor }`` for at most ``max_pages`` pages.

    ``fetch(after)`` answers the query's data; ``connection`` names the connection in it.
    Answers the nodes and where to continue (``end_cursor`` while ``has_next_page``).
    """
    nodes: list[dict] = []
    page_info: dict = {}
    for _ in range(max_pages):
        data = fetch(after) or {}
        found = data.get(connection) or {}
        nodes += [edge.get("node") or {} for edge in found.get("edges") or []] + list(
            found.get("nodes") or []
        )
        page_info = found.get("pageInfo") or {}
        after = page_info.get("endCursor")
        if not page_info.get("hasNextPage") or not after:
            break
    return {
        "nodes": nodes,
        "page_info": {
            "has_next_page": bool(page_info.get("hasNextPage")),
            "end_cursor": page_info.get("endCursor"),
        },
    }


def _throttle_wait(body: dict) -> float:
    cost = (body.get("extensions") or {}).get("cost") or {}
    status = cost.get("throttleStatus") or {}
    try:
        needed = float(cost.get("requestedQueryCost") or 0) - float(status["currentlyAvailable"])
        return max(1.0, needed / float(status["restoreRate"]))
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        return 2.0


def _as_list(errors: Any) -> list[dict]:
    if isinstance(errors, list):
        return [e for e in errors if isinstance(e, dict)]
    if isinstance(errors, dict):
        return [{"message": f"{k}: {v}"} for k, v in errors.items()]
    if isinstance(errors, str):
        return [{"message": errors}]
    return []


def _json(response: requests.Response) -> dict:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
