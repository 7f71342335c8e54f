"""A small provider used only by the framework's tests (registered in neonhub/test_settings.py).

It is a real ``Provider`` subclass that talks HTTP through the seam, so the tests point it
at pytest-httpserver or ``responses`` and exercise the whole connector layer without
depending on any of the real providers.  Its server speaks a tiny documented-style API:

- ``POST /messages`` ``{"to", "text"}`` → ``{"id", "status", "price"}``
- ``GET /messages/<id>`` → ``{"id", "status"}``; an answer may carry ``"new_token"`` and
  ``"expires_at"``, as an OAuth refresh would
- ``GET /me`` → ``{"account"}``
- errors: ``{"error": {"code", "message", "disable"?, "suppress"?}}``
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

import requests
from pydantic import Field, SecretStr

from connectors.base import (
    BaseConfig,
    Budget,
    CallResult,
    Provider,
    Schema,
    TestResult,
    action,
    error_for_status,
    retry_after_seconds,
)
from neonhub.core.errors import ConnectorError, ConnectorRejected, NeonHubError


class FakeCredentials(Schema):
    api_token: SecretStr = Field(min_length=8, description="API token")
    account: str = Field(pattern=r"^acct_[a-z0-9]+$", description="Account id (acct_…)")


class FakeConfig(BaseConfig):
    sender: str = Field(default="NeonHub", max_length=11)
    region: Literal["us", "eu"] = "us"


class SendIn(Schema):
    to: str = Field(pattern=r"^\+[1-9]\d{6,14}$")
    text: str = Field(min_length=1, max_length=500)


class LookupIn(Schema):
    id: str = Field(min_length=1)


class FakeProvider(Provider):
    slug = "fake"
    label = "Fake Messaging"
    default_base_url = "https://fake.invalid"
    Credentials = FakeCredentials
    Config = FakeConfig
    budgets = (Budget("sends_per_minute", limit=3, per_seconds=60, actions=("send",)),)

    @action("send", SendIn, safe_to_repeat=False, side_effect=True, description="Send a text")
    def send(self, data: SendIn) -> CallResult:
        def measure(response: requests.Response, rec) -> None:
            rec.cost = Decimal(str(response.json().get("price", "0")))

        response = self.request(
            "POST",
            "/messages",
            json={"to": data.to, "text": data.text, "from": self.config.sender},
            headers=self._auth(),
            measure=measure,
        )
        body = response.json()
        return CallResult(
            output={"id": body["id"], "status": body["status"], "to": data.to},
            cost=Decimal(str(body.get("price", "0"))),
            provider_id=body["id"],
            status=body["status"],
        )

    @action("lookup", LookupIn, safe_to_repeat=True, description="Read a message")
    def lookup(self, data: LookupIn) -> dict:
        body = self.request("GET", f"/messages/{data.id}", headers=self._auth()).json()
        if body.get("new_token"):
            self.updated_credentials = {"api_token": body["new_token"]}
            self.state["token_expires_at"] = body.get("expires_at")
        return {"id": body["id"], "status": body["status"]}

    def classify(self, response: requests.Response) -> ConnectorError | None:
        if response.status_code < 400:
            return None
        try:
            error = response.json().get("error") or {}
        except ValueError:
            error = {}
        code = str(error.get("code") or "") or None
        message = f"Fake: {error.get('message') or 'HTTP ' + str(response.status_code)}"
        if error.get("disable") or error.get("suppress"):
            context = {"disable": True} if error.get("disable") else {"suppress": error["suppress"]}
            return ConnectorRejected(message, provider_code=code, context=context)
        return error_for_status(
            response.status_code,
            message,
            provider_code=code,
            retry_after=retry_after_seconds(response),
        )

    def sandbox(self, action_name: str, data) -> CallResult:
        if action_name == "send":
            return CallResult(
                output={"id": "sbx_1", "status": "queued", "to": data.to, "sandbox": True},
                cost=Decimal("0.01"),
                provider_id="sbx_1",
                status="queued",
            )
        return CallResult(output={"id": data.id, "status": "delivered", "sandbox": True})

    def test(self) -> TestResult:
        try:
            body = self.request("GET", "/me", headers=self._auth()).json()
        except NeonHubError as exc:
            return TestResult(False, exc.message)
        return TestResult(True, f"Connected to {body.get('account')}")

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secret('api_token')}"}


class BrokenProvider(Provider):
    """Not registered; used to show a registry entry of the wrong kind fails clearly."""

    slug = "something_else"
    label = "Broken"
