from __future__ import annotations

import base64
import os
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from connectors import crypto
from connectors.models import Connector
from connectors.runtime import credentials_load
from tests.connectors.conftest import TOKEN

pytestmark = pytest.mark.django_db


def new_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


def rotate(*args) -> str:
    out = StringIO()
    call_command("rotate_encryption_key", *args, stdout=out)
    return out.getvalue()


def test_rotation_re_encrypts_under_the_newest_key(settings, make_connector):
    old = list(settings.NEONHUB_ENCRYPTION_KEYS)
    first = make_connector(name="A")
    second = make_connector(name="B")
    make_connector(name="Empty", mode="sandbox", credentials={})
    settings.NEONHUB_ENCRYPTION_KEYS = [new_key(), *old]
    newest = crypto.current_key_id()
    assert "Would re-encrypt 2 connector(s)" in rotate("--dry-run")
    assert crypto.token_key_id(Connector.objects.get(pk=first.pk).credentials) != newest
    assert "Re-encrypted 2 connector(s)" in rotate()
    settings.NEONHUB_ENCRYPTION_KEYS = settings.NEONHUB_ENCRYPTION_KEYS[
        :1
    ]  # the old key can go now
    for connector in (first, second):
        stored = Connector.objects.get(pk=connector.pk)
        assert crypto.token_key_id(stored.credentials) == newest
        assert credentials_load(connector=stored)["api_token"] == TOKEN
        assert stored.credentials_masks["api_token"] == "tok_…5f60"
    assert "Re-encrypted 0 connector(s)" in rotate() and "2 already used it" in rotate()


def test_unreadable_credentials_are_reported_by_id(settings, make_connector):
    connector = make_connector()
    settings.NEONHUB_ENCRYPTION_KEYS = [new_key()]
    with pytest.raises(CommandError) as err:
        rotate()
    assert str(connector.pk) in str(err.value)
