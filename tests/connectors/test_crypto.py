from __future__ import annotations

import base64
import os

import pytest
from django.core.exceptions import ImproperlyConfigured

from connectors import crypto
from connectors.crypto import CredentialsUnreadable


def new_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


@pytest.fixture
def ring(settings):
    keys = [new_key(), new_key()]
    settings.NEONHUB_ENCRYPTION_KEYS = keys
    return keys


def test_round_trip(ring):
    token = crypto.encrypt("s3cr3t ünïcode", aad=b"row-1")
    assert crypto.decrypt(token, aad=b"row-1") == "s3cr3t ünïcode"
    assert "s3cr3t" not in token


def test_each_value_gets_a_fresh_nonce(ring):
    first, second = crypto.encrypt("same", aad=b"x"), crypto.encrypt("same", aad=b"x")
    assert first != second
    nonce = lambda token: base64.urlsafe_b64decode(token.split(".")[2])[:12]  # noqa: E731
    assert nonce(first) != nonce(second)


def test_token_carries_the_id_of_the_newest_key(ring):
    token = crypto.encrypt("value")
    version, kid, _ = token.split(".")
    assert version == "v1"
    assert kid == crypto.key_id(base64.urlsafe_b64decode(ring[0])) == crypto.current_key_id()
    assert crypto.token_key_id(token) == kid
    assert crypto.token_key_id("not a token") == ""


def test_rotation_keeps_old_values_readable_and_encrypts_with_the_newest(settings, ring):
    old = crypto.encrypt("before rotation")
    settings.NEONHUB_ENCRYPTION_KEYS = [new_key(), *ring]
    assert crypto.decrypt(old) == "before rotation"
    fresh = crypto.encrypt("after rotation")
    assert crypto.token_key_id(fresh) == crypto.current_key_id() != crypto.token_key_id(old)


def test_missing_key_fails_naming_the_key_id(settings, ring):
    token = crypto.encrypt("value")
    settings.NEONHUB_ENCRYPTION_KEYS = [new_key()]
    with pytest.raises(CredentialsUnreadable) as err:
        crypto.decrypt(token)
    assert crypto.token_key_id(token) in err.value.message
    assert err.value.code == "CONNECTOR_AUTH"


def test_wrong_aad_or_tampering_fails_clearly(ring):
    token = crypto.encrypt("value", aad=b"row-1")
    with pytest.raises(CredentialsUnreadable, match="could not be decrypted"):
        crypto.decrypt(token, aad=b"row-2")
    version, kid, blob = token.split(".")
    raw = bytearray(base64.urlsafe_b64decode(blob))
    raw[-1] ^= 1
    with pytest.raises(CredentialsUnreadable, match="could not be decrypted"):
        crypto.decrypt(
            f"{version}.{kid}.{base64.urlsafe_b64encode(bytes(raw)).decode()}", aad=b"row-1"
        )
    with pytest.raises(CredentialsUnreadable, match="could not be decrypted"):
        crypto.decrypt(f"{version}.{kid}.%%%", aad=b"row-1")


def test_unknown_format_fails_clearly(ring):
    with pytest.raises(CredentialsUnreadable, match="not in a known format"):
        crypto.decrypt("plain text")


@pytest.mark.parametrize("keys", [[], ["short"], ["!!!not base64!!!"]])
def test_bad_key_ring_is_a_configuration_error_without_the_key(settings, keys):
    settings.NEONHUB_ENCRYPTION_KEYS = keys
    with pytest.raises(ImproperlyConfigured) as err:
        crypto.encrypt("value")
    for key in keys:
        assert key not in str(err.value)
