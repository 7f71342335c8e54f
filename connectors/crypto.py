"""Credentials at rest: AES-256-GCM with a key ring.

``settings.NEONHUB_ENCRYPTION_KEYS`` is a list of urlsafe-base64 32-byte keys: the first
encrypts, every one decrypts, so a key is rotated by putting a new one first, running
``manage.py rotate_encryption_key`` and then dropping the old one.  Each value gets a fresh
96-bit nonce and is stored as ``v1.<key id>.<base64(nonce + ciphertext + tag)>``; the key id
(the first 8 hex digits of the key's SHA-256) says which key to decrypt with, without
revealing it.  The caller's ``aad`` (the connector id) binds a value to its row, so a
ciphertext copied onto another connector does not decrypt.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from neonhub.core.errors import ConnectorAuth

VERSION = "v1"
NONCE_BYTES = 12


class CredentialsUnreadable(ConnectorAuth):
    """Stored credentials cannot be decrypted: a missing key, or a damaged value.

    A ``ConnectorAuth``: the connector needs its credentials entered again (or the operator
    needs to restore the missing key, which the message names by id).
    """


@dataclass(frozen=True)
class Key:
    id: str
    aead: AESGCM


def key_id(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()[:8]


def _decode_key(value: str, position: int) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32:
        # Name the position, never the value.
        raise ImproperlyConfigured(
            f"NEONHUB_ENCRYPTION_KEYS entry {position + 1} is not 32 bytes of urlsafe base64"
        )
    return raw


def key_ring() -> list[Key]:
    """The configured keys, newest (encrypting) first.  Read on every call: settings may change in tests."""
    values = list(settings.NEONHUB_ENCRYPTION_KEYS)
    if not values:
        raise ImproperlyConfigured(
            "NEONHUB_ENCRYPTION_KEYS is empty; credentials cannot be encrypted"
        )
    cache_key = tuple(values)
    ring = _RING_CACHE.get(cache_key)
    if ring is None:
        ring = []
        for position, value in enumerate(values):
            raw = _decode_key(value, position)
            ring.append(Key(id=key_id(raw), aead=AESGCM(raw)))
        _RING_CACHE.clear()
        _RING_CACHE[cache_key] = ring
    return ring


_RING_CACHE: dict[tuple[str, ...], list[Key]] = {}


def current_key_id() -> str:
    return key_ring()[0].id


def encrypt(plaintext: str, *, aad: bytes = b"") -> str:
    key = key_ring()[0]
    nonce = os.urandom(NONCE_BYTES)
    sealed = key.aead.encrypt(nonce, plaintext.encode("utf-8"), aad)
    return f"{VERSION}.{key.id}.{base64.urlsafe_b64encode(nonce + sealed).decode()}"


def token_key_id(token: str) -> str:
    """The id of the key a stored value was encrypted with ('' when the value is not a token)."""
    parts = token.split(".")
    return parts[1] if len(parts) == 3 and parts[0] == VERSION else ""


def decrypt(token: str, *, aad: bytes = b"") -> str:
    parts = token.split(".")
    if len(parts) != 3 or parts[0] != VERSION:
        raise CredentialsUnreadable(
            "The stored credentials are not in a known format; enter them again"
        )
    kid = parts[1]
    key = next((k for k in key_ring() if k.id == kid), None)
    if key is None:
        raise CredentialsUnreadable(
            f"The credentials were encrypted with key {kid}, which is not in NEONHUB_ENCRYPTION_KEYS"
        )
    try:
        blob = base64.urlsafe_b64decode(parts[2])
        return key.aead.decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], aad).decode("utf-8")
    except (InvalidTag, binascii.Error, ValueError) as exc:
        raise CredentialsUnreadable(
            f"The stored credentials could not be decrypted with key {kid} (damaged or moved); enter them again"
        ) from exc


MASK_SHORT = "••••"


def mask(value: str) -> str:
    """First 4 + "…" + last 4 characters, or "••••" for values shorter than 12 characters."""
    value = str(value)
    if len(value) < 12:
        return MASK_SHORT
    return f"{value[:4]}…{value[-4:]}"
