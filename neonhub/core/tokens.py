"""API key tokens: ``<prefix>.<secret>``, stored only as a SHA-256 hash beside the prefix."""

from __future__ import annotations

import hashlib

KEY_PREFIX = "nh_"


def hash_secret(secret: str) -> str:
    # API keys carry 256 bits of randomness, so a fast hash is enough (no password stretching).
    return hashlib.sha256(secret.encode()).hexdigest()
