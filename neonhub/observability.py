"""Logs as JSON (or readable lines) and error reports to Sentry, both scrubbed.

``settings.py`` builds ``LOGGING`` with ``logging_config`` and calls ``sentry_init`` when
``SENTRY_DSN`` is set.  Both go through the secret scrubber the connectors use on what they record
(``connectors.secrets.scrub``: ``Authorization``/``Cookie`` values, ``Bearer``/``Basic`` tokens,
and the credentials of every connector used in the current context, in all their encodings, from
``neonhub.core.logcontext``), and lose query strings from URLs.  Error reports also lose message
bodies (keys such as ``body``, ``text``, ``html``), request bodies, local variables and personal
data (email addresses and phone numbers).
"""

from __future__ import annotations

import re
from typing import Any

import sentry_sdk
import structlog
from sentry_sdk.integrations.django import DjangoIntegration
from sentry_sdk.integrations.logging import LoggingIntegration
from sentry_sdk.transport import Transport

from connectors.secrets import REDACTED, scrub
from neonhub.core.logcontext import secrets_in_scope
from neonhub.core.logfilters import strip_query

# --- scrubbing ----------------------------------------------------------------------------------

# The query string of a URL in any text ("https://graph.facebook.com/me?access_token=…"): tokens
# and people's addresses travel there.
URL_QUERY = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^\s?#\"'<>]*)\?[^\s\"'<>]*", re.IGNORECASE)
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
# International numbers, as contacts are stored (E.164) or written (+1 415-555-0100).
PHONE = re.compile(r"\+\d[\d ().-]{6,18}\d")
# Keys whose values are credentials, whatever they hold (Sentry's own event scrubber also runs).
SECRET_KEYS = frozenset(
    {
        "access_token",
        "api_key",
        "apikey",
        "auth_token",
        "authorization",
        "client_secret",
        "cookie",
        "cookies",
        "credentials",
        "password",
        "private_key",
        "proxy-authorization",
        "refresh_token",
        "secret",
        "set-cookie",
        "token",
        "x-api-key",
    }
)
# Keys whose values are what people write or are sent: a message, a post, an email's text.
BODY_KEYS = frozenset(
    {
        "body",
        "caption",
        "comment",
        "content",
        "html",
        "html_body",
        "message_body",
        "post",
        "reply",
        "subject",
        "text",
        "text_body",
    }
)
BODY_REMOVED = "[body removed]"


def scrub_text(value: str, secrets: list[str]) -> str:
    value = scrub(value, secrets)
    return URL_QUERY.sub(r"\1", value)


def scrub_personal(value: str) -> str:
    return PHONE.sub("[phone]", EMAIL.sub("[email]", value))


def _scrub_report(value: Any, secrets: list[str]) -> Any:
    if isinstance(value, str):
        # Any query string, not only a whole URL's: a breadcrumb's "POST /send?key=…" too.
        return scrub_personal(strip_query(scrub(value, secrets)))
    if isinstance(value, dict):
        cleaned = {}
        for key, item in value.items():
            name = key.lower() if isinstance(key, str) else key
            if name in SECRET_KEYS:
                cleaned[key] = REDACTED
            elif name in BODY_KEYS and item:
                cleaned[key] = BODY_REMOVED
            else:
                cleaned[key] = _scrub_report(item, secrets)
        return cleaned
    if isinstance(value, list | tuple):
        return [_scrub_report(item, secrets) for item in value]
    return value


def before_send(event: dict, hint: dict) -> dict:
    """Sentry's last look at an event: no secret, message body, request body or address leaves."""
    request = event.get("request")
    if isinstance(request, dict):
        # A request body is a message, a form or a webhook payload; its query string carries
        # tokens (Meta's hub.verify_token) and search filters.
        for key in ("data", "query_string", "cookies"):
            if request.get(key):
                request[key] = REDACTED
    return _scrub_report(event, secrets_in_scope())


def before_breadcrumb(crumb: dict, hint: dict) -> dict:
    return _scrub_report(crumb, secrets_in_scope())


def sentry_init(
    *, dsn: str, environment: str = "", release: str = "", transport: type[Transport] | None = None
) -> None:
    """Report errors to Sentry: Django's requests, and errors logged by the web server and the
    workers (``logger.exception`` in the executor), tagged with the organization and run ids."""
    options: dict[str, Any] = {}
    if transport is not None:  # a test's transport, capturing envelopes instead of sending them
        options["transport"] = transport
    sentry_sdk.init(
        dsn=dsn,
        environment=environment or None,
        release=release or None,
        # No user, cookies or client address.  sentry-sdk 2.x warns that this option gives way to
        # data_collection, but with data_collection set its own EventScrubber is switched off.
        send_default_pii=False,
        # Local variables hold message bodies, addresses and decrypted credentials.
        include_local_variables=False,
        max_request_body_size="never",
        traces_sample_rate=0.0,
        before_send=before_send,
        before_breadcrumb=before_breadcrumb,
        integrations=[DjangoIntegration(), LoggingIntegration()],
        **options,
    )


# --- logs ---------------------------------------------------------------------------------------


def scrub_log_event(logger: Any, method: str, event_dict: dict) -> dict:
    """A structlog processor: the line without secrets or query strings.

    Django hands its request to the log record (``extra={"request": …}``); its repr carries the
    query string, and the path is in the context already, so it is left out.
    """
    event_dict.pop("request", None)
    secrets = secrets_in_scope()
    for key, value in event_dict.items():
        if isinstance(value, str):
            event_dict[key] = scrub_text(value, secrets)
        elif isinstance(value, dict | list | tuple):
            event_dict[key] = scrub(value, secrets)
    return event_dict


# What every line gets: the context's ids, the level, the logger, the time.  For stdlib
# ``logging`` calls these run as the formatter's ``foreign_pre_chain``.
_SHARED = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


def _renderer(fmt: str) -> Any:
    if fmt == "json":
        return structlog.processors.JSONRenderer()
    return structlog.dev.ConsoleRenderer(colors=False)


def log_formatter(fmt: str) -> dict:
    """The ``logging`` formatter (dictConfig form) that renders every record through structlog."""
    return {
        "()": "structlog.stdlib.ProcessorFormatter",
        "foreign_pre_chain": [*_SHARED, structlog.stdlib.ExtraAdder()],
        "processors": [
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            scrub_log_event,
            _renderer(fmt),
        ],
    }


def logging_config(*, fmt: str, level: str) -> dict:
    """``LOGGING``: one handler on stderr, formatted as ``fmt`` (``json`` or ``console``).

    The query-string filter stays on Django's request loggers; django-q2 gets the same handler
    (it adds a plain one of its own when its logger has none).
    """
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *_SHARED,
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"no_query_strings": {"()": "neonhub.core.logfilters.DropQueryStrings"}},
        "formatters": {"structured": log_formatter(fmt)},
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "structured"}},
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "django-q": {"handlers": ["console"], "level": "WARNING", "propagate": False},
            "django.request": {"filters": ["no_query_strings"]},
            "django.server": {
                "handlers": ["console"],
                "level": "INFO",
                "propagate": False,
                "filters": ["no_query_strings"],
            },
        },
    }
