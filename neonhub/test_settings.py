"""Test speed-ups only; everything else comes from the real settings."""

from __future__ import annotations

import os

os.environ.setdefault(
    "NEONHUB_SECRET_KEY", "test-secret-key-not-for-production-0123456789-abcdefghij"
)
os.environ.setdefault("NEONHUB_ENCRYPTION_KEYS", "dGVzdC1rZXktMDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY=")

from neonhub.settings import *  # noqa: E402,F403
from neonhub.settings import Q_CLUSTER  # noqa: E402

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Unit tests run tasks inline.  The end-to-end tests start a real qcluster subprocess with
# NEONHUB_TEST_WORKER=1, which must use the broker for real.
Q_CLUSTER = {**Q_CLUSTER, "sync": os.environ.get("NEONHUB_TEST_WORKER") != "1", "workers": 2}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # A file, not memory, so a worker process shares the test database.
    # One file per test process, so several test runs on one machine never share a database.
    DATABASES["default"]["TEST"] = {  # noqa: F405
        "NAME": os.environ.setdefault(
            "NEONHUB_TEST_DB",
            str(VAR_DIR / f"test-{os.getpid()}.sqlite3"),  # noqa: F405
        )
    }
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
NEONHUB_EXTRA_AGENTS = {"testing": "tests.agents.testing_agent.TestingAgent"}
NEONHUB_ALLOW_PRIVATE_URLS = True
NEONHUB_HEARTBEAT_MIN_INTERVAL = 0.0  # every step checks for cancellation, so tests are exact
NEONHUB_EXTRA_PROVIDERS = {
    "fake": "tests.connectors.fake_provider.FakeProvider",
    # A provider that calls us, proving that receiving webhooks needs one module and this line.
    "fake_hooks": "tests.connectors.fake_hooks_provider.FakeHooksProvider",
}
NEONHUB_HTTP_BACKOFF = 0.01  # in-request retries without the production waits

if os.environ.get("NEONHUB_TEST_WORKER") == "1" and os.environ.get("NEONHUB_TEST_DB_NAME"):
    # A worker started by the end-to-end tests uses the test process's database by its real name.
    DATABASES["default"]["NAME"] = os.environ["NEONHUB_TEST_DB_NAME"]  # noqa: F405
