"""A loopback authorization server (pytest-httpserver) playing one provider app: its consent
page (an Allow link back to the redirect URL with the code and the state, or a Deny link with
``error=access_denied``), its token endpoint (the authorization code and refresh token grants)
and its account endpoints, answering with the documented shapes of tests/fixtures/oauth/."""

from __future__ import annotations

import html
import json
from urllib.parse import urlencode

from werkzeug.wrappers import Request, Response

from tests.connectors.oauth.conftest import oauth_settings, payload

CODE = "loopback-code-0001"
# Per app: the token endpoint's path, its first answer, and the account reads (path → fixture).
APPS = {
    "google": ("/token", "google_token", {"/youtube/v3/channels": "youtube_channels_mine"}),
    "meta": (
        "/v26.0/oauth/access_token",
        "meta_token",
        {"/v26.0/me/accounts": "meta_accounts"},
    ),
    "linkedin": ("/oauth/v2/accessToken", "linkedin_token", {"/v2/userinfo": "linkedin_userinfo"}),
    "tiktok": ("/v2/oauth/token/", "tiktok_token", {"/v2/user/info/": "tiktok_user_info"}),
    "reddit": ("/api/v1/access_token", "reddit_token", {"/api/v1/me": "reddit_me"}),
}
API_PREFIX = {"meta": "/v26.0"}


class Loopback:
    def __init__(self, httpserver, app: str):
        self.server, self.app = httpserver, app
        self.token_requests: list[dict] = []
        token_path, self.first_token, reads = APPS[app]
        httpserver.expect_request("/authorize").respond_with_handler(self.consent)
        httpserver.expect_request("/favicon.ico").respond_with_data(
            "", status=204
        )  # a browser asks
        httpserver.expect_request(token_path).respond_with_handler(self.token)
        for path, fixture in reads.items():
            httpserver.expect_request(path).respond_with_json(payload(fixture))

    @property
    def base(self) -> str:
        return self.server.url_for("").rstrip("/")

    def settings(self) -> dict:
        token_path = APPS[self.app][0]
        return oauth_settings(
            **{
                self.app: {
                    "authorize_url": f"{self.base}/authorize",
                    "token_url": f"{self.base}{token_path}",
                    "api_url": f"{self.base}{API_PREFIX.get(self.app, '')}",
                }
            }
        )

    def consent(self, request: Request) -> Response:
        back = request.args["redirect_uri"]
        allow = f"{back}?{urlencode({'code': CODE, 'state': request.args['state']})}"
        deny = f"{back}?{urlencode({'error': 'access_denied', 'state': request.args['state']})}"
        body = (
            "<!doctype html><title>Loopback consent</title><h1>Allow NeonHub?</h1>"
            f"<p>Scopes: {html.escape(request.args.get('scope', ''))}</p>"
            f'<a id="allow" href="{html.escape(allow)}">Allow</a> '
            f'<a id="deny" href="{html.escape(deny)}">Deny</a>'
        )
        return Response(body, content_type="text/html")

    def token(self, request: Request) -> Response:
        values = {**request.args.to_dict(), **request.form.to_dict()}
        self.token_requests.append(values)
        if values.get("grant_type") == "fb_exchange_token":
            answer = payload("meta_long_lived")
        elif values.get("grant_type") == "refresh_token":
            answer = {
                "access_token": f"renewed-{len(self.token_requests)}-000000",
                "expires_in": 3600,
            }
        elif values.get("code") != CODE:
            return Response(
                json.dumps({"error": "invalid_grant", "error_description": "Bad code"}),
                status=400,
                content_type="application/json",
            )
        else:
            answer = payload(self.first_token)
        return Response(json.dumps(answer), content_type="application/json")
