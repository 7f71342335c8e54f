"""Writes of the connect flows: an organization's app credentials, starting a flow, the
callback, choosing the account, and renewing tokens.

The state of a flow lives in the person's session (bound to the session cookie), names the
organization it was started for, is removed when used (single use) and expires after
``NEONHUB_OAUTH_STATE_MINUTES``.  Tokens granted wait, encrypted, in an ``OAuthGrant`` until
the person chooses the account; the choice creates or updates the connector.

Renewal (``connector_refresh``) never holds a lock while calling the provider: it reads the
refresh token, asks for new tokens, then in one transaction locks the connector row, reads
what is stored *now* and writes the new access token together with the rotated refresh token.
A send that renewed its own access token meanwhile merges into the row the same way
(``connectors.runtime.connector_persist``), so neither loses the other's token.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import MutableMapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from connectors import crypto
from connectors.crypto import CredentialsUnreadable, mask
from connectors.health import EXPIRING_WITHIN
from connectors.models import Connector, Health, Mode, OAuthApp, OAuthGrant, OAuthLink
from connectors.oauth import client
from connectors.oauth.accounts import (
    Connection,
    access_expiry,
    connection_from_token,
    connector_values,
    discover,
)
from connectors.oauth.client import Credentials, OAuthFailure
from connectors.oauth.specs import APPS, TARGETS, Target
from connectors.reconnect import start_url
from connectors.registry import all_paths
from connectors.runtime import connector_mark, credentials_load, credentials_store
from neonhub.core.audit import audit_record
from neonhub.core.errors import InvalidInput, NotFound
from neonhub.core.models import Organization

logger = logging.getLogger(__name__)
SESSION_KEY = "neonhub_oauth_states"
MAX_PENDING_STATES = 10
# Providers that renew their own short access tokens with the stored refresh token (YouTube,
# Reddit): the schedule leaves them alone and a "token expired" answer is theirs to handle.
SELF_RENEWING = frozenset({"youtube", "reddit"})


class FlowError(OAuthFailure):
    """A connect flow that cannot go on: what happened (``message``) and what to do (``advice``)."""

    def __init__(self, message: str, advice: str, *, code: str = "", status: int = 400):
        super().__init__(message, code=code)
        self.advice = advice
        self.status = status


# --- app credentials ---------------------------------------------------------------------------


def app_credentials(*, organization: Organization, app: str) -> Credentials | None:
    """The organization's own app if it entered one, else the installation's, else None."""
    own = OAuthApp.objects.filter(organization=organization, app=app).first()
    if own is not None:
        try:
            secret = crypto.decrypt(own.client_secret, aad=own.pk.bytes)
        except CredentialsUnreadable:
            # Its key left the key ring: as good as not set up until it is entered again.
            logger.warning(
                "the %s app secret of organization %s is unreadable", app, organization.pk
            )
            return None
        return Credentials(own.client_id, secret, own_app=True)
    spec = APPS[app]
    client_id, secret = spec.setting("client_id"), spec.setting("client_secret")
    if client_id and secret:
        return Credentials(client_id, secret, own_app=False)
    return None


def oauth_app_save(
    *,
    organization: Organization,
    app: str,
    client_id: str,
    client_secret: str,
    principal=None,
    request=None,
) -> OAuthApp:
    """Enter or replace an organization's own app (a blank secret keeps the stored one)."""
    if app not in APPS:
        raise NotFound(f"There is no OAuth app called {app!r}")
    client_id = client_id.strip()
    if not client_id:
        raise InvalidInput.for_field("client_id", "required", summary="Enter the client id")
    if len(client_id) > 255 or len(client_secret.strip()) > 1000:
        field = "client_id" if len(client_id) > 255 else "client_secret"
        raise InvalidInput.for_field(field, "too long", summary=f"The {field} is too long")
    row = OAuthApp.objects.filter(organization=organization, app=app).first()
    if row is None and not client_secret.strip():
        raise InvalidInput.for_field("client_secret", "required", summary="Enter the client secret")
    row = row or OAuthApp(organization=organization, app=app)
    before = {"client_id": row.client_id, "client_secret": row.client_secret_mask}
    row.client_id = client_id
    if client_secret.strip():
        row.client_secret = crypto.encrypt(client_secret.strip(), aad=row.pk.bytes)
        row.client_secret_mask = mask(client_secret.strip())
    with transaction.atomic():
        row.save()
        changes = {
            key: [before[key], value]
            for key, value in (
                ("client_id", row.client_id),
                ("client_secret", row.client_secret_mask),
            )
            if before[key] != value
        }
        audit_record(
            action="oauth_app.save",
            principal=principal,
            organization=organization,
            target=row,
            target_label=f"{APPS[app].label} app",
            changes=changes,
            request=request,
        )
    return row


def oauth_app_delete(*, organization: Organization, app: str, principal=None, request=None) -> None:
    with transaction.atomic():
        row = OAuthApp.objects.filter(organization=organization, app=app).first()
        if row is None:
            return
        audit_record(
            action="oauth_app.delete",
            principal=principal,
            organization=organization,
            target=row,
            target_label=f"{APPS[app].label} app",
            request=request,
        )
        row.delete()


# --- starting a flow and coming back ----------------------------------------------------------


def _target(key: str) -> Target:
    target = TARGETS.get(key)
    if target is None:
        raise FlowError(
            f"There is nothing called {key!r} to connect.",
            "Go back to the connectors page and use one of its Connect buttons.",
            code="unknown_target",
            status=404,
        )
    return target


def _not_configured(target: Target) -> FlowError:
    app = target.oauth_app
    return FlowError(
        f"Connecting with {app.label} is not set up yet: NeonHub has no client id and secret "
        f"for a {app.label} app.",
        "An owner or admin can enter the app's client id and secret under Settings › Connected "
        "apps (or the operator can set them for the whole installation); the page shows the "
        "redirect URL to register with the app.",
        code="not_configured",
    )


def flow_start(
    *,
    session: MutableMapping[str, Any],
    organization: Organization,
    target: str,
    reconnect: Connector | None = None,
) -> str:
    """The provider's consent URL; remembers the state (and PKCE verifier) in ``session``."""
    spec = _target(target)
    credentials = app_credentials(organization=organization, app=spec.app)
    if credentials is None:
        raise _not_configured(spec)
    url, state, verifier = client.authorization_url(spec, credentials)
    now = time.time()
    ttl = settings.NEONHUB_OAUTH_STATE_MINUTES * 60
    states = {k: v for k, v in dict(session.get(SESSION_KEY) or {}).items() if v["at"] + ttl > now}
    # Keep the newest few: a person who opens several consent tabs finishes any of them.
    for old in sorted(states, key=lambda k: states[k]["at"])[
        : max(0, len(states) - MAX_PENDING_STATES + 1)
    ]:
        states.pop(old)
    states[state] = {
        "target": spec.key,
        "organization": str(organization.pk),
        "verifier": verifier,
        "reconnect": str(reconnect.pk) if reconnect is not None else "",
        "at": now,
    }
    session[SESSION_KEY] = states
    return url


def _take_state(session: MutableMapping[str, Any], state: str) -> dict | None:
    states = dict(session.get(SESSION_KEY) or {})
    entry = states.pop(state, None) if state else None
    session[SESSION_KEY] = states
    return entry


def flow_callback(
    *,
    session: MutableMapping[str, Any],
    organization: Organization,
    user,
    app: str,
    params: MutableMapping[str, str],
) -> OAuthGrant:
    """Check the state, exchange the code, discover the accounts: a grant waiting for a choice.

    Raises ``FlowError`` for everything a person can run into: consent denied, a state that
    is unknown, used, expired or for another organization, a failed exchange, no accounts.
    """
    entry = _take_state(session, params.get("state", ""))
    if entry is None:
        raise FlowError(
            "This sign-in link is not valid any more: it was already used, it was started in "
            "another browser, or NeonHub never issued it.",
            "Start again from the connectors page with the Connect button.",
            code="bad_state",
        )
    spec = _target(entry["target"])
    if spec.app != app:
        raise FlowError(
            "The answer came back to the wrong address for this connection.",
            "Start again from the connectors page.",
            code="bad_state",
        )
    if entry["at"] + settings.NEONHUB_OAUTH_STATE_MINUTES * 60 < time.time():
        raise FlowError(
            "This sign-in took too long and has expired.",
            "Start again from the connectors page; finish the provider's consent page within "
            f"{settings.NEONHUB_OAUTH_STATE_MINUTES} minutes.",
            code="expired_state",
        )
    if entry["organization"] != str(organization.pk):
        raise FlowError(
            "This connection was started for another organization than the one you are in now.",
            "Switch back to that organization and start again, or start again here.",
            code="other_organization",
        )
    error = params.get("error", "")
    if error:
        return _denied(spec, error, params)
    code = params.get("code", "")
    if not code:
        raise FlowError(
            f"{spec.oauth_app.label} came back without an authorization code.",
            "Start again from the connectors page.",
            code="no_code",
        )
    credentials = app_credentials(organization=organization, app=spec.app)
    if credentials is None:
        raise _not_configured(spec)
    try:
        token = client.exchange_code(spec, credentials, code=code, verifier=entry["verifier"])
        connection = connection_from_token(spec, token, credentials)
        accounts = discover(spec, connection)
    except OAuthFailure as exc:
        raise FlowError(
            f"Connecting with {spec.oauth_app.label} failed: {exc.message}",
            "Try again in a minute" if exc.transient else _advice_for(spec, exc),
            code=exc.code or "exchange_failed",
            status=502,
        ) from None
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        # An answer that is not shaped as documented: say so rather than fail the page.
        logger.warning("%s answered an unexpected shape: %s", spec.app, type(exc).__name__)
        raise FlowError(
            f"{spec.oauth_app.label} answered in a way NeonHub does not understand.",
            "Try again; if it keeps happening, the provider may have changed its API.",
            code="unexpected_answer",
            status=502,
        ) from None
    if not accounts:
        raise FlowError(
            f"{spec.oauth_app.label} connected, but it shows no {spec.description.split(',')[0]} "
            "this sign-in can manage.",
            _no_accounts_advice(spec),
            code="no_accounts",
        )
    return _grant_create(organization, user, spec, connection, accounts, entry["reconnect"])


def _denied(spec: Target, error: str, params) -> OAuthGrant:
    label = spec.oauth_app.label
    if error in (
        "access_denied",
        "user_denied",
        "user_cancelled_login",
        "user_cancelled_authorize",
    ):
        raise FlowError(
            f"You did not give NeonHub access on {label}, so nothing was connected.",
            f"To connect, start again and choose Allow (or Continue) on {label}'s page.",
            code="access_denied",
        )
    detail = (params.get("error_description") or params.get("error_reason") or "")[:150]
    raise FlowError(
        f"{label} refused the connection ({error}{': ' + detail if detail else ''}).",
        _advice_for(spec, OAuthFailure(error, code=error)),
        code=error[:32],
    )


def _advice_for(spec: Target, exc: OAuthFailure) -> str:
    app = spec.oauth_app
    if exc.code in (
        "invalid_client",
        "unauthorized_client",
        "invalid_scope",
        "redirect_uri_mismatch",
    ):
        return (
            f"The {app.label} app's settings need checking: its client id and secret, the "
            "redirect URL shown under Settings › Connected apps, and the scopes (permissions) "
            "it is approved for. Then start again."
        )
    return "Start again from the connectors page; if it keeps failing, check the app under Settings › Connected apps."


def _no_accounts_advice(spec: Target) -> str:
    if spec.key == "facebook":
        return (
            "Make sure you are an admin of the Facebook Page and that you selected it on "
            "Facebook's page; an Instagram account must be a business or creator account "
            "linked to a Page. Then start again."
        )
    if spec.key == "youtube":
        return "Create a YouTube channel for the Google account (or choose another account), then start again."
    return "Start again and sign in with the account you want to connect."


def _grant_create(
    organization: Organization,
    user,
    spec: Target,
    connection: Connection,
    accounts: list,
    reconnect_id: str,
) -> OAuthGrant:
    now = timezone.now()
    OAuthGrant.objects.filter(expires_at__lt=now).delete()  # prune the abandoned
    reconnect = (
        Connector.objects.filter(organization=organization, pk=reconnect_id).first()
        if reconnect_id
        else None
    )
    grant = OAuthGrant(
        organization=organization,
        user=user,
        target=spec.key,
        accounts=[account.public() for account in accounts],
        scopes=connection.scopes,
        reconnect=reconnect,
        expires_at=now + timedelta(minutes=settings.NEONHUB_OAUTH_GRANT_MINUTES),
    )
    secrets = {
        **connection.secrets(),
        "accounts": {account.id: account.secret for account in accounts if account.secret},
    }
    grant.secrets = crypto.encrypt(json.dumps(secrets), aad=grant.pk.bytes)
    grant.save()
    return grant


def grant_get(*, organization: Organization, user, grant_id) -> OAuthGrant:
    grant = OAuthGrant.objects.filter(
        organization=organization, user=user, pk=grant_id, expires_at__gte=timezone.now()
    ).first()
    if grant is None:
        raise FlowError(
            "This connection is not waiting for a choice any more: it was completed, it expired, "
            "or it belongs to someone else.",
            "Start again from the connectors page.",
            code="grant_gone",
            status=404,
        )
    return grant


# --- choosing the account ---------------------------------------------------------------------


@dataclass
class Chosen:
    connector: Connector
    created: bool


def grant_choose(*, grant: OAuthGrant, account_id: str, principal=None, request=None) -> Chosen:
    """Turn the chosen account into a connector: the one being reconnected, the one already
    linked to that account, or a new one.  A reconnected connector keeps its id, name, mode
    and history; only its tokens (and the account's config fields) change."""
    account = next((a for a in grant.accounts if a["id"] == account_id), None)
    if account is None:
        raise InvalidInput.for_field(
            "account",
            "not one of the accounts offered",
            summary="Choose one of the accounts listed",
        )
    spec = TARGETS[grant.target]
    organization = grant.organization
    credentials = app_credentials(organization=organization, app=spec.app)
    if credentials is None:
        raise _not_configured(spec)
    secrets = json.loads(crypto.decrypt(grant.secrets, aad=grant.pk.bytes))
    creds, config, expires_at = connector_values(spec, account, secrets, credentials)
    with transaction.atomic():
        locked = OAuthGrant.objects.select_for_update().filter(pk=grant.pk).first()
        if locked is None:  # chosen twice at once: the first choice won
            raise FlowError(
                "This connection was already completed.",
                "Look for it on the connectors page.",
                code="grant_gone",
                status=404,
            )
        existing = _existing(grant, account)
        before = _link_snapshot(existing)
        if existing is not None:
            connector = _reconnect(existing, creds, config, expires_at, principal, request)
            created = False
        else:
            connector = _create(
                organization, account, creds, config, expires_at, grant, principal, request
            )
            created = True
        _link(connector, spec, account, grant, credentials, access_expiry(secrets))
        audit_record(
            action="connector.reconnect" if not created else "connector.connect",
            principal=principal,
            organization=organization,
            target=connector,
            changes={
                "account": [before["account"], f"{account['name']} ({account['id']})"],
                "scopes": [before["scopes"], ", ".join(grant.scopes)],
                "token_expires_at": [
                    before["token_expires_at"],
                    expires_at.isoformat() if expires_at else "no expiry",
                ],
            },
            request=request,
        )
        locked.delete()
    return Chosen(connector, created)


def _link_snapshot(connector: Connector | None) -> dict[str, str]:
    """What the audit log shows as "before" of a reconnect (never a token)."""
    link = OAuthLink.objects.filter(connector=connector).first() if connector else None
    expires = connector.token_expires_at if connector else None
    return {
        "account": f"{link.account_name} ({link.account_id})" if link else "",
        "scopes": ", ".join(link.scopes) if link else "",
        "token_expires_at": expires.isoformat() if expires else "",
    }


def _existing(grant: OAuthGrant, account: dict) -> Connector | None:
    target = grant.reconnect
    if target is not None and target.provider == account["provider"]:
        return target
    link = (
        OAuthLink.objects.select_related("connector")
        .filter(
            connector__organization=grant.organization,
            connector__provider=account["provider"],
            target=grant.target,
            account_id=account["id"],
        )
        .first()
    )
    return link.connector if link is not None else None


def _registered(provider: str) -> bool:
    return provider in all_paths()


def _create(
    organization, account, creds, config, expires_at, grant, principal, request
) -> Connector:
    from connectors import services as connector_services

    name = _free_name(organization, account["provider"], account["name"])
    if _registered(account["provider"]):
        return connector_services.connector_create(
            organization=organization,
            provider=account["provider"],
            name=name,
            mode=Mode.LIVE,
            credentials=creds,
            config=config,
            token_expires_at=expires_at,
            created_by=grant.user,
            principal=principal,
            request=request,
        )
    # A provider this installation does not have yet (its module is another release's): the
    # row is saved with the provider's documented field names and shows as "not installed".
    connector = Connector(
        organization=organization,
        provider=account["provider"],
        name=name,
        mode=Mode.LIVE,
        config=config,
        token_expires_at=expires_at,
        created_by=grant.user,
    )
    credentials_store(connector, creds)
    connector.save()
    return connector


def _free_name(organization, provider: str, name: str) -> str:
    base = name[:90] or provider
    taken = set(
        Connector.objects.filter(
            organization=organization, provider=provider, name__startswith=base
        ).values_list("name", flat=True)
    )
    if base not in taken:
        return base
    return next(f"{base} ({n})" for n in range(2, len(taken) + 3) if f"{base} ({n})" not in taken)


def _reconnect(connector, creds, config, expires_at, principal, request) -> Connector:
    from connectors import services as connector_services

    if _registered(connector.provider):
        return connector_services.connector_update(
            connector=connector,
            credentials=creds,
            config=config,
            token_expires_at=expires_at,
            principal=principal,
            request=request,
        )
    locked = Connector.objects.select_for_update().get(pk=connector.pk)
    credentials_store(locked, {**credentials_load(connector=locked), **creds})
    locked.config = {**locked.config, **config}
    locked.token_expires_at = expires_at
    if locked.health in (Health.NEEDS_RECONNECT, Health.DISABLED):
        locked.health, locked.last_error = Health.UNTESTED, ""
    locked.save()
    return locked


def _link(
    connector, spec: Target, account: dict, grant: OAuthGrant, credentials, access_expires_at
) -> None:
    OAuthLink.objects.update_or_create(
        connector=connector,
        defaults={
            "target": spec.key,
            "account_id": account["id"],
            "account_name": account["name"][:255],
            "scopes": grant.scopes,
            "own_app": credentials.own_app,
            "connected_by": grant.user,
            "access_expires_at": access_expires_at,
            "refreshed_at": timezone.now(),
            "refresh_error": "",
        },
    )


def oauth_buttons() -> list[dict[str, str]]:
    """The "Connect with …" buttons of the connectors page."""
    return [
        {
            "key": t.key,
            "label": t.label,
            "app": t.oauth_app.label,
            "description": t.description,
            "url": start_url(t.key),
        }
        for t in TARGETS.values()
        if t.ready()
    ]


def _has_link(connector: Connector) -> bool:
    try:
        connector.oauth_link  # noqa: B018 - the reverse one-to-one raises when absent
    except OAuthLink.DoesNotExist:
        return False
    return True


# --- renewing tokens --------------------------------------------------------------------------


@dataclass
class Refreshed:
    ok: bool
    message: str


def connector_refresh(*, connector_id) -> Refreshed:
    """Renew an OAuth-connected connector's access token with its refresh token.

    A refusal of the refresh token (revoked, expired) marks the connector ``needs_reconnect``;
    a failure to reach the provider changes nothing (the next run of the schedule tries again).
    """
    connector = (
        Connector.objects.select_related("organization", "oauth_link")
        .filter(pk=connector_id)
        .first()
    )
    if connector is None or not _has_link(connector):
        return Refreshed(False, "Not a connected account")
    link = connector.oauth_link
    spec = TARGETS.get(link.target)
    used = credentials_load(connector=connector).get("refresh_token") or ""
    if spec is None or not used:
        return _no_refresh_token(connector)
    credentials = app_credentials(organization=connector.organization, app=spec.app)
    if credentials is None:
        message = (
            f"The {spec.oauth_app.label} app is not configured any more; tokens cannot be renewed"
        )
        OAuthLink.objects.filter(pk=link.pk).update(refresh_error=message[:200])
        return Refreshed(False, message)
    try:
        token = client.refresh(spec.oauth_app, credentials, refresh_token=used)
    except OAuthFailure as exc:
        return _refresh_failed(connector, link, used, exc)
    tokens_save(
        connector=connector,
        used_refresh_token=used,
        token=token,
        renews_itself=connector.provider in SELF_RENEWING,
    )
    OAuthLink.objects.filter(pk=link.pk).update(refreshed_at=timezone.now(), refresh_error="")
    return Refreshed(True, "Renewed")


def tokens_save(
    *, connector: Connector, used_refresh_token: str, token: dict, renews_itself: bool
) -> None:
    """Write a refresh's answer: one transaction, the row locked, merged into what is stored
    now (a token a send saved meanwhile is kept unless this answer replaces it)."""
    with transaction.atomic():
        row = Connector.objects.select_for_update().get(pk=connector.pk)
        values = credentials_load(connector=row)
        values["access_token"] = str(token["access_token"])
        if token.get("refresh_token"):
            values["refresh_token"] = str(token["refresh_token"])
        credentials_store(row, values)
        fields = {"credentials": row.credentials, "credentials_masks": row.credentials_masks}
        if not renews_itself:
            now = timezone.now()
            access = _seconds(token.get("expires_in"))
            ends = _seconds(
                token.get("refresh_expires_in") or token.get("refresh_token_expires_in")
            )
            if access:
                OAuthLink.objects.filter(connector_id=row.pk).update(
                    access_expires_at=now + timedelta(seconds=access)
                )
            if ends:  # the connection now ends when the (new) refresh token does
                fields["token_expires_at"] = now + timedelta(seconds=ends)
            elif access and not values.get("refresh_token"):
                fields["token_expires_at"] = now + timedelta(seconds=access)
        if row.health == Health.NEEDS_RECONNECT and row.last_error.startswith("Renewing"):
            fields.update(health=Health.HEALTHY, last_error="")
        Connector.objects.filter(pk=row.pk).update(**fields)
    for key, value in fields.items():
        setattr(connector, key, value)


def _seconds(value) -> int:
    try:
        return max(0, int(value))
    except (TypeError, ValueError):
        return 0


def _refresh_failed(
    connector: Connector, link: OAuthLink, used: str, exc: OAuthFailure
) -> Refreshed:
    message = f"Renewing the token failed: {exc.message}"
    OAuthLink.objects.filter(pk=link.pk).update(refresh_error=message[:200])
    if exc.transient:
        return Refreshed(False, message)
    stored = Connector.objects.filter(pk=connector.pk).first()
    if (
        stored is not None
        and (credentials_load(connector=stored).get("refresh_token") or "") != used
    ):
        # Someone else renewed (and rotated) it meanwhile: their tokens stand.
        return Refreshed(True, "Renewed elsewhere")
    connector_mark(
        connector=connector,
        health=Health.NEEDS_RECONNECT,
        error=f"Renewing the token failed ({exc.code or 'refused'}); reconnect the account",
    )
    return Refreshed(False, message)


def _no_refresh_token(connector: Connector) -> Refreshed:
    expires = connector.token_expires_at
    if (
        expires is not None
        and expires <= timezone.now()
        and connector.health != Health.NEEDS_RECONNECT
    ):
        connector_mark(
            connector=connector,
            health=Health.NEEDS_RECONNECT,
            error="Renewing is not possible (no refresh token) and the token expired; reconnect the account",
        )
    return Refreshed(False, "No refresh token; reconnect before the token expires")


def connector_renew(*, connector: Connector) -> bool:
    """After a "token expired" answer: one refresh for an OAuth-connected connector whose
    provider does not renew its own tokens.  True when new tokens were saved."""
    if connector.provider in SELF_RENEWING or connector.is_sandbox:
        return False
    if not OAuthLink.objects.filter(connector_id=connector.pk).exists():
        return False
    return connector_refresh(connector_id=connector.pk).ok


def refresh_due(*, now=None) -> dict:
    """The schedule's work: renew every connected token expiring within the refresh window,
    and mark those that expired without a way to renew them.

    Due: a token expiring within ``NEONHUB_OAUTH_REFRESH_AHEAD_HOURS`` (TikTok's 24-hour
    tokens), or one that would show as expiring (within 7 days) and was not renewed in the
    last day (LinkedIn's 60-day tokens renew before anyone sees them as expiring, without
    renewing a one-day token every quarter of an hour).
    """
    now = now or timezone.now()
    ahead = now + timedelta(hours=settings.NEONHUB_OAUTH_REFRESH_AHEAD_HOURS)
    soon = Q(access_expires_at__lte=now + EXPIRING_WITHIN) & (
        Q(refreshed_at__isnull=True) | Q(refreshed_at__lte=now - timedelta(days=1))
    )
    # A connection ending soon with no way to renew it is looked at too (to mark it).
    ending = Q(connector__token_expires_at__lte=now)
    due = (
        OAuthLink.objects.filter(
            Q(access_expires_at__lte=ahead) | soon | ending,
            connector__mode=Mode.LIVE,
            connector__enabled=True,
        )
        .exclude(connector__health=Health.NEEDS_RECONNECT)
        .exclude(connector__provider__in=SELF_RENEWING)
        .values_list("connector_id", flat=True)
    )
    OAuthGrant.objects.filter(expires_at__lt=now).delete()  # connections abandoned mid-way
    counts = {"renewed": 0, "failed": 0}
    jobs = [(connector_refresh, connector_id) for connector_id in due[:500]]
    jobs += [(instagram_refresh, connector_id) for connector_id in _instagram_due(now)]
    for renew, connector_id in jobs:
        try:
            result = renew(connector_id=connector_id)
        except Exception:  # one connector's surprise must not stop the others' renewal
            logger.exception("renewing the tokens of connector %s failed", connector_id)
            result = Refreshed(False, "error")
        counts["renewed" if result.ok else "failed"] += 1
    return counts


# --- Instagram Login tokens, pasted ------------------------------------------------------------
# A long-lived Instagram User token from Instagram Login (used against graph.instagram.com)
# lasts 60 days and renews itself with GET /refresh_access_token?grant_type=ig_refresh_token
# once it is a day old.  Connectors made with "Connect with Facebook and Instagram" use a Page
# token instead, which does not expire; this is for tokens a person pasted.

INSTAGRAM_LOGIN_HOST = "graph.instagram.com"


def _instagram_due(now) -> list:
    rows = Connector.objects.filter(
        provider="instagram",
        mode=Mode.LIVE,
        enabled=True,
        token_expires_at__lte=now + EXPIRING_WITHIN,
        token_expires_at__gt=now,
        config__base_url__icontains=INSTAGRAM_LOGIN_HOST,
    ).exclude(health=Health.NEEDS_RECONNECT)
    return list(rows.values_list("pk", flat=True)[:500])


def instagram_refresh(*, connector_id) -> Refreshed:
    """Renew a pasted Instagram Login token (a new 60-day token replaces it)."""
    connector = Connector.objects.filter(pk=connector_id).first()
    if connector is None:
        return Refreshed(False, "Not found")
    base = str(connector.config.get("base_url") or "").rstrip("/")
    token = credentials_load(connector=connector).get("access_token") or ""
    app = APPS["meta"]
    try:
        body = client.api_get(
            app,
            f"{base}/refresh_access_token",
            token=token,
            grant_type="ig_refresh_token",
            access_token=token,
        )
    except OAuthFailure as exc:
        if exc.transient:
            return Refreshed(False, exc.message)
        connector_mark(
            connector=connector,
            health=Health.NEEDS_RECONNECT,
            error="Renewing the Instagram token failed; enter a new token or connect again",
        )
        return Refreshed(False, exc.message)
    if not body.get("access_token"):
        return Refreshed(False, "Instagram answered without a token")
    tokens_save(connector=connector, used_refresh_token="", token=body, renews_itself=False)
    return Refreshed(True, "Renewed")


__all__ = [
    "FlowError",
    "app_credentials",
    "connector_refresh",
    "connector_renew",
    "flow_callback",
    "flow_start",
    "grant_choose",
    "grant_get",
    "oauth_app_delete",
    "oauth_app_save",
    "refresh_due",
    "tokens_save",
]
