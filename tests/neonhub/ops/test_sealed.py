"""Key rotation and backups reach every encrypted field, not only connector credentials."""

from __future__ import annotations

import base64
import os
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from agents.automation.models import Trigger
from agents.automation.services import trigger_create
from agents.automation.webhooks import trigger_secret
from agents.mail.mailbox import mailbox_save
from connectors import crypto
from connectors.models import OAuthApp, OAuthGrant
from connectors.oauth.services import oauth_app_save
from neonhub.alerts import services as alerts
from neonhub.alerts.models import AlertDestination
from neonhub.ops.backup import keys_in_use
from neonhub.ops.sealed import SEALED
from tests.factories import OAuthGrantFactory

pytestmark = pytest.mark.django_db


def new_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


def rotate(*args) -> str:
    out = StringIO()
    call_command("rotate_encryption_key", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def secrets_kept(org, httpserver):
    trigger, _ = trigger_create(
        organization=org, name="Orders", source="generic", agent="support", intent="triage"
    )
    destination, _ = alerts.destination_create(
        organization=org, name="Pager", kind="webhook", target=httpserver.url_for("/hook")
    )
    app = oauth_app_save(
        organization=org, app="reddit", client_id="redditwebclient1", client_secret="s" * 24
    )
    grant = OAuthGrantFactory(organization=org)
    mailbox = mailbox_save(
        organization=org, host="imap.example.com", username="u", password="imap-pass-1"
    )  # two sealed fields: its password and its inbound token
    return trigger, destination, app, grant, mailbox, mailbox


def plain(sealed, row) -> str:
    stored = type(row).objects.get(pk=row.pk)
    return crypto.decrypt(getattr(stored, sealed.field), aad=sealed.aad(stored))


def test_rotation_moves_every_sealed_field_to_the_newest_key(settings, secrets_kept):
    rows = dict(zip([s.model for s in SEALED], secrets_kept, strict=True))
    before = {s.label: plain(s, rows[s.model]) for s in SEALED}
    trigger_before = trigger_secret(Trigger.objects.get(pk=secrets_kept[0].pk))
    old = list(settings.NEONHUB_ENCRYPTION_KEYS)
    settings.NEONHUB_ENCRYPTION_KEYS = [new_key(), *old]
    newest = crypto.current_key_id()

    assert "Would re-encrypt 6 other secret(s)" in rotate("--dry-run")
    assert "Re-encrypted 6 other secret(s)" in rotate()
    settings.NEONHUB_ENCRYPTION_KEYS = settings.NEONHUB_ENCRYPTION_KEYS[:1]  # the old key goes

    for sealed in SEALED:
        stored = sealed.model.objects.get(pk=rows[sealed.model].pk)
        assert crypto.token_key_id(getattr(stored, sealed.field)) == newest, sealed.label
        assert plain(sealed, stored) == before[sealed.label], sealed.label
    assert trigger_secret(Trigger.objects.get(pk=secrets_kept[0].pk)) == trigger_before
    assert keys_in_use() == [newest]
    assert "6 already used it" in rotate()


def test_the_backup_names_the_keys_of_every_sealed_field(settings, secrets_kept):
    first = crypto.current_key_id()
    settings.NEONHUB_ENCRYPTION_KEYS = [new_key(), *settings.NEONHUB_ENCRYPTION_KEYS]
    # Only an alert secret and an app's secret set again, under the new key.
    alerts.destination_rotate_secret(destination=AlertDestination.objects.get())
    oauth_app_save(
        organization=OAuthApp.objects.get().organization,
        app="reddit",
        client_id="redditwebclient1",
        client_secret="t" * 24,
    )
    assert keys_in_use() == sorted({first, crypto.current_key_id()})
    assert OAuthGrant.objects.exists()


def test_a_secret_no_key_can_read_is_named(settings, secrets_kept):
    settings.NEONHUB_ENCRYPTION_KEYS = [new_key()]
    with pytest.raises(CommandError) as err:
        rotate()
    assert "trigger signing secret" in str(err.value)
    assert str(secrets_kept[0].pk) in str(err.value)
