"""NeonHub settings, read from the environment through django-environ.

Every variable is listed in ``.env.example``.  With none set, the product runs on its
embedded defaults: SQLite under ``var/``, django-q2's ORM broker and a local-memory cache.
"""

from __future__ import annotations

import ipaddress
import json
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import environ

from neonhub import observability
from neonhub.secrets import load_or_create

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

VAR_DIR = Path(env.str("NEONHUB_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

_generated: dict[str, str] = {}
if not (
    env.str("NEONHUB_SECRET_KEY", default="") and env.str("NEONHUB_ENCRYPTION_KEYS", default="")
):
    _generated = load_or_create(VAR_DIR)

SECRET_KEY = env.str("NEONHUB_SECRET_KEY", default="") or _generated["secret_key"]
# Credentials at rest: a key ring separate from SECRET_KEY (django-q2 signs tasks with that).
NEONHUB_ENCRYPTION_KEYS = [
    k.strip()
    for k in (
        env.str("NEONHUB_ENCRYPTION_KEYS", default="") or _generated["encryption_keys"]
    ).split(",")
    if k.strip()
]

DEBUG = env.bool("NEONHUB_DEBUG", default=False)
ALLOWED_HOSTS = env.list("NEONHUB_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
NEONHUB_PUBLIC_URL = env.str("NEONHUB_PUBLIC_URL", default="http://127.0.0.1:8000").rstrip("/")
CSRF_TRUSTED_ORIGINS = env.list("NEONHUB_CSRF_TRUSTED_ORIGINS", default=[NEONHUB_PUBLIC_URL])
NEONHUB_ALLOW_PRIVATE_URLS = env.bool("NEONHUB_ALLOW_PRIVATE_URLS", default=False)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "template_partials",
    "django_q",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    # Ninja's templates and static files: the API docs' Swagger UI without a CDN.
    "ninja",
    "neonhub.core",
    "connectors",
    "runs",
    "agents",
    "agents.audience",
    "agents.automation",
    "neonhub.ops",
    "neonhub.alerts",
    "agents.analytics",
    "agents.campaigns",
    "agents.mail",
    "agents.mailtemplates",
    "agents.segments",
    "agents.abtests",
    "agents.sequences",
]

MIDDLEWARE = [
    # First: every later log line of the request names it (and, once known, its organization).
    "neonhub.core.middleware.LogContextMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "neonhub.core.middleware.BodySizeLimitMiddleware",
    # Before the session: a NUL in a cookie or a header must not reach a query.
    "neonhub.core.nul.NulCharacterMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): signed in with a two-factor code in this session.
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "neonhub.core.middleware.OrganizationMiddleware",
    "neonhub.core.middleware.TwoFactorRequiredMiddleware",
    # Last, as django-axes asks: it turns a lockout raised during login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "neonhub.urls"
WSGI_APPLICATION = "neonhub.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "neonhub.core.context_processors.organization",
                "agents.context_processors.agents",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'neonhub.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Measured: with Django's defaults a web process and a worker writing at once failed
    # ~46% of transactions with "database is locked".  WAL lets readers run beside the
    # writer; IMMEDIATE takes the write lock at BEGIN so the busy timeout applies instead
    # of an instant failure on lock upgrade.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        # auto_vacuum=INCREMENTAL takes effect only on a database that has no tables yet (a new
        # one; an older file keeps NONE until `manage.py prune_data --vacuum`): pages freed by
        # the retention job are then handed back a few at a time (neonhub/ops/space.py) instead
        # of by a VACUUM that rewrites the whole file under the write lock.
        "init_command": (
            "PRAGMA auto_vacuum=INCREMENTAL; PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
        ),
    }
# Persistent connections: django-q2 closes "old" connections around every task and broker
# poll, which with the default of 0 means a new connection (and, on SQLite, the PRAGMAs
# above) for each of them.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("NEONHUB_CONN_MAX_AGE", default=600)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache and broker -----------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    # The overview keeps one small entry per organization, window and agent filter; Django's
    # default of 300 entries would start evicting at about a hundred organizations, and with them
    # the rollups' generation number.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "OPTIONS": {"MAX_ENTRIES": 20_000},
        }
    }

NEONHUB_TASK_TIMEOUT = env.int("NEONHUB_TASK_TIMEOUT", default=300)
Q_CLUSTER = {
    "name": "neonhub",
    "workers": env.int("NEONHUB_WORKERS", default=2),
    "timeout": NEONHUB_TASK_TIMEOUT,
    # retry is redelivery, not a retry policy: it must exceed timeout plus queue wait, or a
    # running task is handed out a second time.  Our own run state machine decides retries.
    "retry": NEONHUB_TASK_TIMEOUT + 120,
    "max_attempts": 1,
    "ack_failures": True,
    "save_limit": -1,  # runs are recorded in our tables; django-q2's result table is not the record
    "catch_up": False,
    "poll": 0.2,
    "guard_cycle": 0.5,
    "label": "Task queue",
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"
    # Takes tasks in batches and acknowledges them in batches: fewer write transactions on
    # the database the runs share (neonhub/core/broker.py, docs/PERFORMANCE.md).
    Q_CLUSTER["broker_class"] = "neonhub.core.broker.ORMBroker"

# --- Auth, i18n, static ---------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
# Brute-force protection (django-axes): failed logins on /login/ and /admin/login/ are counted
# per account and per client address in the database (works on SQLite and PostgreSQL, shared by
# every web process).  Either reaching the limit locks logins for the cool-off, with the right
# password too; a success resets the account's count.  Staff unlock in the admin (Axes ›
# Access attempts) or with `manage.py axes_reset_username <name>` / `axes_reset_ip <address>`.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_FAILURE_LIMIT = env.int("NEONHUB_LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("NEONHUB_LOGIN_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
# The client address as everything else reads it: X-Forwarded-For only from configured proxies.
AXES_CLIENT_IP_CALLABLE = "neonhub.core.clientip.client_address"
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False  # no start-up banner on every command; failures and lockouts are still logged

# --- Email and the team -----------------------------------------------------------------------
# Invitations and password resets go out through Django's email backend: the console (printed by
# `make run`) unless an SMTP server is configured.
EMAIL_BACKEND = env.str(
    "NEONHUB_EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend"
)
EMAIL_HOST = env.str("NEONHUB_EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("NEONHUB_EMAIL_PORT", default=587)
EMAIL_HOST_USER = env.str("NEONHUB_EMAIL_USER", default="")
EMAIL_HOST_PASSWORD = env.str("NEONHUB_EMAIL_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("NEONHUB_EMAIL_USE_TLS", default=True)
EMAIL_TIMEOUT = 20
DEFAULT_FROM_EMAIL = env.str("NEONHUB_DEFAULT_FROM_EMAIL", default="NeonHub <noreply@localhost>")
# An invitation link works this many days, once.
NEONHUB_INVITATION_DAYS = env.int("NEONHUB_INVITATION_DAYS", default=7)
# A password reset link works this long (Django's PASSWORD_RESET_TIMEOUT, in seconds).
PASSWORD_RESET_TIMEOUT = env.int("NEONHUB_PASSWORD_RESET_SECONDS", default=3 * 3600)
# The issuer shown by authenticator apps next to the account.
OTP_TOTP_ISSUER = "NeonHub"

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "runs:list"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Where collectstatic puts the files whitenoise serves. The container image sets it outside the
# var/ volume, so an upgraded image's files are not hidden by the old volume's copy.
STATIC_ROOT = Path(env.str("NEONHUB_STATIC_ROOT", default=str(VAR_DIR / "staticfiles")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)

# Request bodies: larger answers 413 (NeonHub's middleware) instead of Django's 400.
NEONHUB_MAX_BODY_BYTES = env.int("NEONHUB_MAX_BODY_BYTES", default=1_048_576)
DATA_UPLOAD_MAX_MEMORY_SIZE = NEONHUB_MAX_BODY_BYTES
# CSV uploads (contacts, batches) may be larger; they are streamed to a file, never held whole.
NEONHUB_MAX_UPLOAD_BYTES = env.int("NEONHUB_MAX_UPLOAD_BYTES", default=52_428_800)
# Stored uploads (batch input files, contact imports awaiting confirmation).
MEDIA_ROOT = Path(env.str("NEONHUB_MEDIA_DIR", default=str(VAR_DIR / "media")))
# Local video files a YouTube connector may upload (input file_path), in <dir>/<organization slug>/;
# nothing outside the organization's own directory is read.
NEONHUB_UPLOAD_DIR = Path(env.str("NEONHUB_UPLOAD_DIR", default=str(VAR_DIR / "uploads")))

# --- Triggers, schedules and batches --------------------------------------------------------
# Webhook bodies larger than this answer 413 (and the rejection is recorded).
NEONHUB_WEBHOOK_MAX_BYTES = env.int("NEONHUB_WEBHOOK_MAX_BYTES", default=262_144)
# Webhook deliveries (accepted and refused) are kept this long, then pruned by the minute task.
NEONHUB_WEBHOOK_RETENTION_DAYS = env.int("NEONHUB_WEBHOOK_RETENTION_DAYS", default=30)
# Refused deliveries (bad signature, malformed, unknown id) kept per organization: anyone can
# send one, so a flood replaces the oldest instead of filling the database.
NEONHUB_WEBHOOK_REFUSED_KEEP = env.int("NEONHUB_WEBHOOK_REFUSED_KEEP", default=200)
# Runs of one organization in the queue at once: more are parked in its lane and let in this
# many at a time (agents.admission); batches feed only within it.  0: one first-in, first-out queue.
NEONHUB_ORG_MAX_IN_FLIGHT = env.int("NEONHUB_ORG_MAX_IN_FLIGHT", default=50)
# A batch pauses itself when more than this share of its finished inputs failed, once at
# least NEONHUB_BATCH_FAILURE_MIN have finished.
NEONHUB_BATCH_FAILURE_THRESHOLD = env.float("NEONHUB_BATCH_FAILURE_THRESHOLD", default=0.2)
NEONHUB_BATCH_FAILURE_MIN = env.int("NEONHUB_BATCH_FAILURE_MIN", default=50)

# --- Runs -----------------------------------------------------------------------------------
NEONHUB_RUN_HEARTBEAT_TIMEOUT = env.int("NEONHUB_RUN_HEARTBEAT_TIMEOUT", default=120)
# Least seconds between heartbeat writes (each is also the cancellation check).
NEONHUB_HEARTBEAT_MIN_INTERVAL = env.float("NEONHUB_HEARTBEAT_MIN_INTERVAL", default=1.0)
# Requests one API key may make per window ("<n>/<second|minute|hour|day>"); a key's own limit,
# set on the API keys page, wins.  Counted in Redis when REDIS_URL is set, else in the database.
NEONHUB_API_RATE_LIMIT = env.str("NEONHUB_API_RATE_LIMIT", default="600/minute")
# A run's steps in its first seconds are written with its finish (see runs/recorder.py).
NEONHUB_STEP_BUFFER_SECONDS = env.float("NEONHUB_STEP_BUFFER_SECONDS", default=1.0)
NEONHUB_RETRY_BASE_SECONDS = env.float("NEONHUB_RETRY_BASE_SECONDS", default=5.0)
NEONHUB_RETRY_MAX_SECONDS = env.float("NEONHUB_RETRY_MAX_SECONDS", default=900.0)
NEONHUB_EXTRA_AGENTS: dict[str, str] = {}
# Providers beyond connectors/registry.py (slug → dotted path); the tests add one.
NEONHUB_EXTRA_PROVIDERS: dict[str, str] = {}
# Called by `manage.py demo` with the demo organization: one sandbox connector per provider.
NEONHUB_DEMO_HOOKS = [
    "connectors.services.demo_connectors_ensure",
    "agents.automation.services.demo_automation_ensure",
    "agents.automation.demo.demo_email_ensure",
]
# The admin's Retry and Cancel run actions: agents' services, named here because the runs
# app must not import agents.
NEONHUB_RUN_ACTIONS = {"retry": "agents.services.run_retry", "cancel": "agents.services.run_cancel"}

# --- Retention -------------------------------------------------------------------------------
# Days an organization keeps its finished runs (with their steps and approvals), outbox rows
# and webhook deliveries, unless it sets its own (Settings -> Data retention); the hourly
# retention job deletes what is older.  Runs in flight, awaiting approval or scheduled, and
# side effects whose outcome is not known yet, are never deleted.  At least 7: the frequency
# caps count a week of messages.
NEONHUB_RETENTION_DAYS = env.int("NEONHUB_RETENTION_DAYS", default=90)
# Runs deleted per transaction (with their steps, approvals and outbox rows): small, so the
# write lock (on SQLite, the whole database's) is never held for long.
NEONHUB_RETENTION_BATCH = env.int("NEONHUB_RETENTION_BATCH", default=100)

# --- Prices (USD) for the cost of a run: list prices at the time of writing; override them
# with NEONHUB_PRICES_JSON (same shape; "llm" entries are merged by model name).
NEONHUB_PRICES: dict = {
    "sms_segment": Decimal("0.0083"),
    "whatsapp_message": Decimal("0.005"),
    "email_message": Decimal("0"),
    "llm": {
        "default": {"input_per_1k": Decimal("0.00015"), "output_per_1k": Decimal("0.0006")},
        "gpt-4o-mini": {"input_per_1k": Decimal("0.00015"), "output_per_1k": Decimal("0.0006")},
        "gpt-4o": {"input_per_1k": Decimal("0.0025"), "output_per_1k": Decimal("0.01")},
        "gpt-4.1": {"input_per_1k": Decimal("0.002"), "output_per_1k": Decimal("0.008")},
        "gpt-4.1-mini": {"input_per_1k": Decimal("0.0004"), "output_per_1k": Decimal("0.0016")},
        "gpt-4.1-nano": {"input_per_1k": Decimal("0.0001"), "output_per_1k": Decimal("0.0004")},
    },
}
_prices_override = json.loads(env.str("NEONHUB_PRICES_JSON", default="{}"), parse_float=Decimal)
NEONHUB_PRICES = {
    **NEONHUB_PRICES,
    **_prices_override,
    "llm": {**NEONHUB_PRICES["llm"], **_prices_override.get("llm", {})},
}

# --- Security (production) ------------------------------------------------------------------
SESSION_COOKIE_SECURE = env.bool(
    "NEONHUB_SECURE_COOKIES", default=not DEBUG and NEONHUB_PUBLIC_URL.startswith("https")
)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = env.bool("NEONHUB_SSL_REDIRECT", default=False)
SECURE_HSTS_SECONDS = env.int("NEONHUB_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = SECURE_HSTS_SECONDS > 0
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("NEONHUB_BEHIND_PROXY", default=False) else None
)
USE_X_FORWARDED_HOST = env.bool("NEONHUB_BEHIND_PROXY", default=False)
SECURE_CONTENT_TYPE_NOSNIFF = True
# Reverse proxies in front of NeonHub that append to X-Forwarded-For.  0: the header is ignored
# and the client is REMOTE_ADDR (anyone can send the header; only our own proxies' entries count).
NEONHUB_TRUSTED_PROXY_COUNT = env.int("NEONHUB_TRUSTED_PROXY_COUNT", default=0)

# /metrics: a scraper must pass every check configured here.  The token (sent as
# "Authorization: Bearer <token>") and the address allow-list (addresses or networks); with
# neither set, only loopback is served.  The list is parsed now so a typo fails at start-up.
NEONHUB_METRICS_TOKEN = env.str("NEONHUB_METRICS_TOKEN", default="")
NEONHUB_METRICS_ALLOWED_IPS = [
    str(ipaddress.ip_network(net.strip(), strict=False))
    for net in env.list("NEONHUB_METRICS_ALLOWED_IPS", default=[])
    if net.strip()
] or ([] if NEONHUB_METRICS_TOKEN else ["127.0.0.0/8", "::1/128"])
X_FRAME_OPTIONS = "DENY"
# Probes (load balancers, the container's HEALTHCHECK) speak plain HTTP to the process itself.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

# /healthz (neonhub/core/health.py): how long the costlier checks (migrations, workers, disk)
# are reused in a process; how old the workers' last tick of the watchdog (every minute) may be;
# the least free space beside a SQLite database file.
NEONHUB_HEALTH_CACHE_SECONDS = env.float("NEONHUB_HEALTH_CACHE_SECONDS", default=5.0)
NEONHUB_HEALTH_WORKER_STALE_SECONDS = env.int("NEONHUB_HEALTH_WORKER_STALE_SECONDS", default=180)
NEONHUB_HEALTH_MIN_FREE_DISK_MB = env.int("NEONHUB_HEALTH_MIN_FREE_DISK_MB", default=500)

# --- Logging and error reporting ------------------------------------------------------------
# Every log line (Django's, django-q2's, ours) goes through structlog's formatter: JSON objects,
# one a line, with the run and organization ids of the moment, or readable lines ("console") for
# a person at a terminal; both lose secrets and query strings (neonhub/observability.py).
# Request logs keep their query-string filter: Meta's webhook verification puts its verify token
# there.  gunicorn's access log: neonhub/gunicorn_conf.py.
NEONHUB_LOG_FORMAT = env.str("NEONHUB_LOG_FORMAT", default="console" if DEBUG else "json")
if NEONHUB_LOG_FORMAT not in ("json", "console"):
    raise environ.ImproperlyConfigured("NEONHUB_LOG_FORMAT must be json or console")
LOGGING = observability.logging_config(
    fmt=NEONHUB_LOG_FORMAT, level=env.str("NEONHUB_LOG_LEVEL", default="INFO")
)

# Errors to Sentry when set (scrubbed: see neonhub/observability.py), logs otherwise.
SENTRY_DSN = env.str("SENTRY_DSN", default="")
if SENTRY_DSN:
    observability.sentry_init(
        dsn=SENTRY_DSN,
        environment=env.str("SENTRY_ENVIRONMENT", default=""),
        release=env.str("SENTRY_RELEASE", default=""),
    )

# --- Metrics --------------------------------------------------------------------------------
# prometheus-client's multiprocess mode: every web and worker process of one machine writes its
# counts to files in this directory and /metrics adds them up.  prometheus-client reads the
# variable from the environment when it is imported, so it must be set for the processes, not
# only here.  Unset: each process serves its own counts (one process: runserver).
PROMETHEUS_MULTIPROC_DIR = env.str("PROMETHEUS_MULTIPROC_DIR", default="")
if PROMETHEUS_MULTIPROC_DIR:
    Path(PROMETHEUS_MULTIPROC_DIR).mkdir(parents=True, exist_ok=True)

# --- Post analytics -------------------------------------------------------------------------
# How many due post-metrics collections the minute task reads per tick, and for how long at
# most (it stops early and leaves the rest for the next tick).
NEONHUB_POST_METRICS_BATCH = env.int("NEONHUB_POST_METRICS_BATCH", default=20)
NEONHUB_POST_METRICS_TICK_SECONDS = env.float("NEONHUB_POST_METRICS_TICK_SECONDS", default=40.0)

# --- "Connect with …" (OAuth 2.0 apps, connectors/oauth/) --------------------------------------
# One registered app per provider for the whole installation: NEONHUB_OAUTH_<APP>_CLIENT_ID and
# _CLIENT_SECRET (an organization may enter its own app on Settings › Connected apps instead).
# Each app's authorization, token and API addresses default to the provider's documented ones;
# overriding them points the flow at another server (a regional endpoint, a test server).
# _SCOPES overrides the scopes asked for (space-separated).  The redirect URL to register with
# the provider is NEONHUB_PUBLIC_URL + /connectors/oauth/<app>/callback/.
NEONHUB_OAUTH_APPS = ("meta", "google", "linkedin", "tiktok", "reddit")
NEONHUB_OAUTH = {
    app: {
        key: env.str(f"NEONHUB_OAUTH_{app.upper()}_{key.upper()}", default="")
        for key in ("client_id", "client_secret", "authorize_url", "token_url", "api_url", "scopes")
    }
    for app in NEONHUB_OAUTH_APPS
}
# How long a person has between leaving for the provider's consent page and coming back, and
# then between coming back and choosing the account.
NEONHUB_OAUTH_STATE_MINUTES = env.int("NEONHUB_OAUTH_STATE_MINUTES", default=10)
NEONHUB_OAUTH_GRANT_MINUTES = env.int("NEONHUB_OAUTH_GRANT_MINUTES", default=30)
# The refresh schedule renews a token this long before it expires.
NEONHUB_OAUTH_REFRESH_AHEAD_HOURS = env.int("NEONHUB_OAUTH_REFRESH_AHEAD_HOURS", default=6)
# "Connect with Google Ads": the installation's Google Ads developer token (API Center of its
# manager account), stored encrypted in each connector it connects; and the API host (Google's
# unless a test server stands in).
NEONHUB_GOOGLE_ADS_DEVELOPER_TOKEN = env.str("NEONHUB_GOOGLE_ADS_DEVELOPER_TOKEN", default="")
NEONHUB_GOOGLE_ADS_API_URL = env.str("NEONHUB_GOOGLE_ADS_API_URL", default="")

# --- Alerts ----------------------------------------------------------------------------------
# Alert notifications (the deliveries log) are kept this many days, then pruned by the alerts'
# minute task.
NEONHUB_ALERT_DELIVERY_RETENTION_DAYS = env.int("NEONHUB_ALERT_DELIVERY_RETENTION_DAYS", default=90)

# --- Bounces ---------------------------------------------------------------------------------
# The VERP return path of every email (local+<token>@domain); an organization may set its own.
NEONHUB_BOUNCE_ADDRESS = env.str("NEONHUB_BOUNCE_ADDRESS", default="")
