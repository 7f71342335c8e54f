"""The OAuth apps and what each "Connect with …" button connects.

An *app* is the registration at the provider (client id and secret, the redirect URL):
``meta``, ``google``, ``linkedin``, ``tiktok``, ``reddit``.  A *target* is what a person
connects with an app, with its own scopes and the connector it becomes: ``facebook`` (Pages
and their Instagram business accounts), ``youtube`` and ``google_ads`` (two targets of the one
Google app, each with its own scopes), ``linkedin``, ``tiktok``, ``reddit``.

Addresses and facts come from the providers' documentation (cited in docs/CONNECTORS.md):

- Meta: Facebook Login's manual flow, ``/dialog/oauth`` and ``/oauth/access_token`` (GET),
  then ``grant_type=fb_exchange_token`` for the long-lived user token; Page tokens read
  from ``/me/accounts`` with it do not expire.  PKCE only exists in Meta's OIDC flow, which
  Meta calls "still in testing", so it is not used.
- Google: ``accounts.google.com/o/oauth2/v2/auth`` with ``access_type=offline`` and
  ``prompt=consent`` (a refresh token every time), PKCE S256, ``oauth2.googleapis.com/token``.
- LinkedIn: ``/oauth/v2/authorization`` and ``/oauth/v2/accessToken``; PKCE is for native
  apps LinkedIn enables on request, so web apps do not send it.  Refresh tokens are given to
  approved Marketing partners only; without one a token lives 60 days.
- TikTok: ``www.tiktok.com/v2/auth/authorize/`` with ``client_key``, scopes comma-separated;
  ``open.tiktokapis.com/v2/oauth/token/`` takes ``client_key`` and ``client_secret`` in the
  body; access tokens live 24 hours and the refresh token rotates.  PKCE is required for
  desktop and mobile clients and accepted for web ones: it is sent.
- Reddit: ``/api/v1/authorize`` with ``duration=permanent`` (a refresh token), the token
  endpoint with HTTP Basic client authentication and a descriptive User-Agent.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings

from connectors.reconnect import TARGET_OF_PROVIDER, linked, reconnect_target

META_VERSION = "v26.0"  # the Graph version the Facebook and Instagram providers default to


@dataclass(frozen=True)
class App:
    key: str
    label: str
    authorize_url: str
    token_url: str
    api_url: str
    # How the token endpoint takes the client's credentials: client_secret_basic,
    # client_secret_post, "client_secret_query" (Meta's GET) or "tiktok" (client_key and
    # client_secret in the body).
    token_auth: str = "client_secret_post"
    token_method: str = "POST"
    pkce: bool = False
    scope_separator: str = " "
    console_url: str = ""
    docs: tuple[str, ...] = ()

    def setting(self, name: str) -> str:
        return (getattr(settings, "NEONHUB_OAUTH", {}).get(self.key) or {}).get(name) or ""

    @property
    def authorize(self) -> str:
        return self.setting("authorize_url") or self.authorize_url

    @property
    def token(self) -> str:
        return self.setting("token_url") or self.token_url

    @property
    def api(self) -> str:
        return (self.setting("api_url") or self.api_url).rstrip("/")


@dataclass(frozen=True)
class Target:
    key: str
    label: str
    app: str
    provider: str  # the connector's provider slug (a Page becomes facebook_page, etc.)
    scopes: tuple[str, ...]
    # Extra authorization parameters (Google's offline access, Reddit's permanent duration).
    authorize_params: dict[str, str] = field(default_factory=dict)
    description: str = ""
    # Installation settings the target cannot work without (Google Ads' developer token): its
    # Connect button is left out until they are set.
    needs_settings: tuple[str, ...] = ()

    def ready(self) -> bool:
        return all(getattr(settings, name, "") for name in self.needs_settings)

    @property
    def oauth_app(self) -> App:
        return APPS[self.app]

    def scope_list(self) -> list[str]:
        override = self.oauth_app.setting("scopes")
        return override.split() if override else list(self.scopes)

    def scope_param(self) -> str:
        return self.oauth_app.scope_separator.join(self.scope_list())


APPS: dict[str, App] = {
    "meta": App(
        key="meta",
        label="Meta (Facebook and Instagram)",
        authorize_url=f"https://www.facebook.com/{META_VERSION}/dialog/oauth",
        token_url=f"https://graph.facebook.com/{META_VERSION}/oauth/access_token",
        api_url=f"https://graph.facebook.com/{META_VERSION}",
        token_auth="client_secret_query",
        token_method="GET",
        scope_separator=",",
        console_url="https://developers.facebook.com/apps/",
    ),
    "google": App(
        key="google",
        label="Google",
        authorize_url="https://accounts.google.com/o/oauth2/v2/auth",
        token_url="https://oauth2.googleapis.com/token",
        api_url="https://www.googleapis.com",
        pkce=True,
        console_url="https://console.cloud.google.com/apis/credentials",
    ),
    "linkedin": App(
        key="linkedin",
        label="LinkedIn",
        authorize_url="https://www.linkedin.com/oauth/v2/authorization",
        token_url="https://www.linkedin.com/oauth/v2/accessToken",
        api_url="https://api.linkedin.com",
        console_url="https://www.linkedin.com/developers/apps",
    ),
    "tiktok": App(
        key="tiktok",
        label="TikTok",
        authorize_url="https://www.tiktok.com/v2/auth/authorize/",
        token_url="https://open.tiktokapis.com/v2/oauth/token/",
        api_url="https://open.tiktokapis.com",
        token_auth="tiktok",
        pkce=True,
        scope_separator=",",
        console_url="https://developers.tiktok.com/apps/",
    ),
    "reddit": App(
        key="reddit",
        label="Reddit",
        authorize_url="https://www.reddit.com/api/v1/authorize",
        token_url="https://www.reddit.com/api/v1/access_token",
        api_url="https://oauth.reddit.com",
        token_auth="client_secret_basic",
        console_url="https://www.reddit.com/prefs/apps",
    ),
}

TARGETS: dict[str, Target] = {
    "facebook": Target(
        key="facebook",
        label="Facebook and Instagram",
        app="meta",
        provider="facebook_page",
        scopes=(
            "pages_show_list",
            "pages_read_engagement",
            "pages_manage_posts",
            "pages_manage_engagement",
            "pages_manage_metadata",
            "instagram_basic",
            "instagram_content_publish",
            "instagram_manage_comments",
            "business_management",
        ),
        description="a Facebook Page, or the Instagram business account linked to one",
    ),
    "youtube": Target(
        key="youtube",
        label="YouTube",
        app="google",
        provider="youtube",
        scopes=(
            "https://www.googleapis.com/auth/youtube.upload",
            "https://www.googleapis.com/auth/youtube.force-ssl",
        ),
        # offline: a refresh token; consent: one every time, also when reconnecting.
        authorize_params={"access_type": "offline", "prompt": "consent"},
        description="a YouTube channel",
    ),
    "google_ads": Target(
        key="google_ads",
        label="Google Ads",
        app="google",
        provider="google_ads",
        scopes=("https://www.googleapis.com/auth/adwords",),
        authorize_params={"access_type": "offline", "prompt": "consent"},
        description="a Google Ads account",
        needs_settings=("NEONHUB_GOOGLE_ADS_DEVELOPER_TOKEN",),
    ),
    "linkedin": Target(
        key="linkedin",
        label="LinkedIn",
        app="linkedin",
        provider="linkedin",
        scopes=("openid", "profile", "w_member_social"),
        description="your LinkedIn profile, or a company page you administer",
    ),
    "tiktok": Target(
        key="tiktok",
        label="TikTok",
        app="tiktok",
        provider="tiktok",
        scopes=("user.info.basic", "video.publish", "video.upload", "video.list"),
        description="a TikTok account",
    ),
    "reddit": Target(
        key="reddit",
        label="Reddit",
        app="reddit",
        provider="reddit",
        scopes=("identity", "read", "submit"),
        authorize_params={"duration": "permanent"},
        description="a Reddit account",
    ),
}


def redirect_uri(app: str) -> str:
    """The callback URL to register with the provider: fixed, shown on the settings page."""
    return f"{settings.NEONHUB_PUBLIC_URL}/connectors/oauth/{app}/callback/"


__all__ = [
    "APPS",
    "TARGETS",
    "TARGET_OF_PROVIDER",
    "App",
    "Target",
    "linked",
    "reconnect_target",
    "redirect_uri",
]
