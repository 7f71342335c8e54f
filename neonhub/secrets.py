"""Secrets generated once into ``var/`` when the environment does not provide them.

``make run`` on a fresh clone must work with no configuration, yet a secret must never be
committed; so the first start writes random values to ``var/secrets.json`` (mode 0600) and
every later start reads them back.  Production sets ``NEONHUB_SECRET_KEY`` and
``NEONHUB_ENCRYPTION_KEYS`` instead.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from pathlib import Path


def _new_values() -> dict[str, str]:
    return {
        "secret_key": secrets.token_urlsafe(50),
        "encryption_keys": base64.urlsafe_b64encode(os.urandom(32)).decode(),
    }


def load_or_create(var_dir: Path) -> dict[str, str]:
    path = var_dir / "secrets.json"
    if path.exists():
        return json.loads(path.read_text())
    var_dir.mkdir(parents=True, exist_ok=True)
    values = _new_values()
    # O_EXCL: two processes starting at once must not both write different keys.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return json.loads(path.read_text())
    with os.fdopen(fd, "w") as fh:
        json.dump(values, fh)
    return values
