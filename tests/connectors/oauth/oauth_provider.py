"""A provider of the tests that holds OAuth tokens and cannot renew them itself (as the
LinkedIn and TikTok providers do): what the connect flows renew after a "token expired"
answer.  Registered per test through ``NEONHUB_EXTRA_PROVIDERS``.

Its API: ``POST /posts`` ``{"text"}`` → ``{"id"}`` with the bearer token; 401 when the token
is refused.  ``GET /me`` may answer ``{"new_access_token"}``, which the provider keeps as a
renewed token (as a provider that renews its own short tokens does).
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, SecretStr

from connectors.base import BaseConfig, CallResult, Provider, Schema, TestResult, action


class PostIn(Schema):
    text: str = Field(min_length=1)


class ReadIn(Schema):
    pass


class OAuthTestProvider(Provider):
    slug = "fake_oauth"
    label = "Fake OAuth"
    auth_kind: ClassVar[str] = "oauth2"
    default_base_url = "https://api.fake-oauth.invalid"

    class Credentials(Schema):
        access_token: SecretStr
        refresh_token: SecretStr | None = None

    Config = BaseConfig

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secret('access_token')}"}

    @action("post", PostIn, safe_to_repeat=False, side_effect=True)
    def post(self, data: PostIn) -> CallResult:
        body = self.request("POST", "/posts", json={"text": data.text}, headers=self._headers())
        return CallResult(output=body.json(), provider_id=str(body.json()["id"]))

    @action("read", ReadIn, safe_to_repeat=True)
    def read(self, data: ReadIn) -> dict:
        body = self.request("GET", "/me", headers=self._headers()).json()
        if body.get("new_access_token"):
            self.updated_credentials = {"access_token": body["new_access_token"]}
        return {"ok": True}

    def test(self) -> TestResult:
        return TestResult(True, "ok")

    def sandbox(self, action_name, data) -> CallResult:
        return CallResult(output={"id": "sandbox"})
