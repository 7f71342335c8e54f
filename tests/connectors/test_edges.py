"""Edges of the connector layer: the base provider's defaults, secret handling, form fields,
seam error mapping and outbox races."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import Enum
from typing import Annotated, Literal

import pytest
import requests
from django import forms
from pydantic import BaseModel, Field, SecretBytes, SecretStr

from connectors import selectors, services, suppressions
from connectors.base import Provider, Schema
from connectors.forms import field_for
from connectors.http import HttpClient, _drain, _reason
from connectors.models import Health, OutboundMessage, OutboxStatus
from connectors.runtime import token_expiry_from_state
from connectors.secrets import ScrubbingRecorder, reveal, scrub, scrub_error
from neonhub.core.errors import (
    ConnectorAuth,
    ConnectorRejected,
    ConnectorUnavailable,
    InvalidInput,
    OutcomeUnknown,
)
from neonhub.core.recording import NullRecorder
from tests.connectors.fake_provider import FakeProvider
from tests.factories import OutboundMessageFactory

SEND = {"to": "+14155550100", "text": "hi"}


# --- the base provider's defaults ---------------------------------------------------------------


class Plain(Provider):
    slug = "plain"
    label = "Plain"


def response(status: int, headers: dict | None = None) -> requests.Response:
    r = requests.Response()
    r.status_code = status
    r.headers.update(headers or {})
    return r


@pytest.mark.parametrize(
    "status, error",
    [
        (401, ConnectorAuth),
        (403, ConnectorAuth),
        (404, ConnectorRejected),
        (408, ConnectorUnavailable),
        (500, ConnectorUnavailable),
    ],
)
def test_default_classification_by_status(status, error):
    provider = Plain(credentials=Schema(), config=Plain.Config())
    assert provider.classify(response(200)) is None
    classified = provider.classify(response(status))
    assert type(classified) is error and classified.message == f"Plain answered HTTP {status}"


def test_retry_after_as_a_date_is_read():
    from email.utils import format_datetime

    from django.utils import timezone

    from connectors.base import retry_after_seconds

    later = timezone.now().replace(microsecond=0) + timedelta(seconds=120)
    assert 100 < retry_after_seconds(response(429, {"Retry-After": format_datetime(later)})) <= 120
    assert retry_after_seconds(response(429, {"Retry-After": "soon"})) is None
    assert retry_after_seconds(response(429)) is None


def test_outbox_target_defaults():
    provider = Plain(credentials=Schema(), config=Plain.Config())

    class Post(BaseModel):
        subreddit: str
        title: str

    assert provider.outbox_target("submit", Post(subreddit="python", title="x")) == "python"
    assert provider.outbox_target("x", Schema()) == ""


def test_token_renewal_is_declared_or_inferred():
    class Refreshing(Provider):
        slug, label = "r", "R"

        class Credentials(Schema):
            refresh_token: SecretStr

    class Declared(Provider):
        slug, label, token_renewal = "d", "D", True

    assert Refreshing.renews_tokens() and Declared.renews_tokens()
    assert not FakeProvider.renews_tokens()


def test_request_urls_keep_token_names_only():
    from connectors.base import _redact_url

    assert (
        _redact_url("https://graph.example/x?access_token=abc&fields=id")
        == "https://graph.example/x?access_token=%E2%80%A6&fields=id"
    )
    assert _redact_url("https://graph.example/x") == "https://graph.example/x"


# --- secrets ------------------------------------------------------------------------------------


def test_reveal_and_scrub_walk_nested_values():
    nested = {
        "a": SecretStr("s3cret-value"),
        "b": [SecretBytes(b"bytes-secret"), b"raw"],
        "c": (1, "x"),
    }
    assert reveal(nested) == {"a": "s3cret-value", "b": ["bytes-secret", "raw"], "c": [1, "x"]}
    assert scrub({"k": ["has s3cret-value inside", 5]}, ["s3cret-value"]) == {
        "k": ["has [redacted] inside", 5]
    }
    assert scrub("unchanged", []) == "unchanged"


def test_scrub_error_without_secrets_changes_nothing():
    exc = ConnectorRejected("token abc")
    scrub_error(exc, [])
    assert exc.message == "token abc"
    plain = ValueError("token abcdef")
    scrub_error(plain, ["abcdef"])
    assert plain.args == ("token [redacted]",)


def test_scrubbing_recorder_passes_cost_through(steps):
    recorder = ScrubbingRecorder(steps, ["secret-1"])
    recorder.add_cost(Decimal("0.5"))
    with recorder.step("x") as rec:
        rec.detail = {"echo": "secret-1"}
    assert steps.cost == Decimal("0.5") and steps.steps[0].detail == {"echo": "[redacted]"}


def test_token_expiry_from_state():
    aware = datetime(2030, 1, 1, tzinfo=UTC)
    assert token_expiry_from_state({"token_expires_at": aware}) == aware
    assert token_expiry_from_state({"token_expires_at": "2030-01-01T00:00:00"}) == aware
    assert token_expiry_from_state({"token_expires_at": "never"}) is None
    assert token_expiry_from_state({}) is None


# --- form fields from schemas -------------------------------------------------------------------


class Colour(Enum):
    RED = "red"


class Options(BaseModel):
    region: Literal["us", "eu"] = "us"
    colour: Colour | None = None
    verbose: bool = False
    tags: list[str] = Field(default_factory=list)
    extra: Options | None = None
    port: Annotated[int, Field(ge=1)] = 587
    name: str | None = None


Options.model_rebuild()


def test_form_fields_follow_the_schema_types():
    kinds = {name: type(field_for(name, info)) for name, info in Options.model_fields.items()}
    assert kinds == {
        "region": forms.ChoiceField,
        "colour": forms.ChoiceField,
        "verbose": forms.NullBooleanField,
        "tags": forms.JSONField,
        "extra": forms.JSONField,
        "port": forms.CharField,
        "name": forms.CharField,
    }
    assert ("red", "red") in field_for("colour", Options.model_fields["colour"]).choices


@pytest.mark.django_db
def test_forms_can_be_used_outside_the_admin(org):
    from connectors.forms import ConnectorForm, connector_form_class

    class PageForm(connector_form_class(FakeProvider)):
        class Meta(ConnectorForm.Meta):
            fields = ["name", "mode", "enabled", "token_expires_at"]

    form = PageForm(
        {"name": "From a page", "mode": "sandbox", "cred__api_token": "", "cred__account": ""},
        organization=org,
    )
    assert form.is_valid(), form.errors
    connector = form.save_connector()
    assert (connector.organization, connector.mode) == (org, "sandbox")
    unnamed = PageForm({"name": "", "mode": "sandbox"}, organization=org)
    assert not unnamed.is_valid() and "name" in unnamed.errors


# --- the seam's error mapping -------------------------------------------------------------------


@pytest.mark.parametrize(
    "raised, safe, expected",
    [
        (requests.exceptions.ConnectTimeout("x"), False, ConnectorUnavailable),
        (requests.exceptions.ReadTimeout("x"), True, ConnectorUnavailable),
        (requests.exceptions.ReadTimeout("x"), False, OutcomeUnknown),
        (requests.exceptions.RetryError("x"), True, ConnectorUnavailable),
        (requests.exceptions.ChunkedEncodingError("x"), True, ConnectorUnavailable),
        (requests.exceptions.ChunkedEncodingError("x"), False, OutcomeUnknown),
    ],
)
def test_seam_maps_request_errors(monkeypatch, raised, safe, expected):
    client = HttpClient(name="mapping")

    def fail(*args, **kwargs):
        raise raised

    monkeypatch.setattr(client._sessions[safe], "request", fail)
    with pytest.raises(expected):
        client.request("GET", "https://example.com/", safe_to_repeat=safe)


def test_reason_and_drain_tolerate_odd_values():
    assert _reason(requests.exceptions.ConnectionError("plain text")) is None
    assert _reason(requests.exceptions.ConnectionError()) is None

    class Broken:
        released = False

        def read(self, amt=None, decode_content=None):
            raise OSError("gone")

        def drain_conn(self):
            pass

        def release_conn(self):
            self.released = True

    broken = Broken()
    assert _drain(broken) == b"" and broken.released


# --- outbox races and failures ------------------------------------------------------------------


@pytest.mark.django_db
def test_a_refusal_by_our_own_checks_marks_the_row_failed(live, steps, monkeypatch):
    def refuse(self, data):
        raise InvalidInput(
            "media URL is private", details=[{"field": "input.media", "message": "private"}]
        )

    monkeypatch.setitem(
        FakeProvider.actions,
        "send",
        FakeProvider.actions["send"].__class__(
            **{**FakeProvider.actions["send"].__dict__, "method": refuse}
        ),
    )
    with pytest.raises(InvalidInput):
        services.connector_execute(
            connector=live, action="send", input=SEND, recorder=steps, idempotency_key="k"
        )
    row = OutboundMessage.objects.get()
    assert (row.status, row.error_code) == (OutboxStatus.FAILED, "INVALID_INPUT")


@pytest.mark.django_db
def test_a_concurrent_attempt_is_not_doubled(live, steps, org, monkeypatch):
    from connectors.execution import ConnectorSession

    OutboundMessageFactory(
        connector=live, action="send", idempotency_key="k", status=OutboxStatus.FAILED, attempts=1
    )
    stale = OutboundMessage.objects.get()
    stale.attempts = 7  # another process took it meanwhile: the conditional update matches nothing
    monkeypatch.setattr(ConnectorSession, "_existing", lambda self, key: stale)
    with pytest.raises(ConnectorUnavailable, match="Another attempt") as err:
        services.connector_execute(
            connector=live, action="send", input=SEND, recorder=steps, idempotency_key="k"
        )
    assert err.value.retry_after == 30


@pytest.mark.django_db
def test_a_broken_target_does_not_stop_the_send(make_connector, steps, monkeypatch):
    monkeypatch.setattr(FakeProvider, "outbox_target", lambda self, action, data: 1 / 0)
    connector = make_connector(mode="sandbox")
    services.connector_execute(
        connector=connector, action="send", input=SEND, recorder=steps, idempotency_key="k"
    )
    assert OutboundMessage.objects.get().target == ""


@pytest.mark.django_db
def test_closing_a_provider_that_fails_is_logged_not_raised(
    make_connector, steps, monkeypatch, caplog
):
    from connectors.execution import connector_session

    monkeypatch.setattr(FakeProvider, "close", lambda self: 1 / 0)
    connector = make_connector(mode="sandbox")
    with (
        caplog.at_level(logging.WARNING),
        connector_session(connector=connector, recorder=steps) as session,
    ):
        session.execute(action="lookup", input={"id": "1"})
    assert "closing the fake provider failed" in caplog.text


@pytest.mark.django_db
def test_account_level_failure_in_a_test_disables(httpserver, live):
    httpserver.expect_request("/me").respond_with_json(
        {"error": {"code": "x", "message": "suspended", "disable": True}}, status=400
    )
    assert not services.connector_test(connector=live).ok
    live.refresh_from_db()
    assert live.health == Health.DISABLED


@pytest.mark.django_db
def test_patches_must_be_objects(live):
    with pytest.raises(InvalidInput) as err:
        services.connector_update(connector=live, credentials="token")
    assert err.value.details == [{"field": "credentials", "message": "must be an object"}]


@pytest.mark.django_db
def test_concurrent_suppressions_keep_one(org, monkeypatch):
    from django.db import IntegrityError

    from connectors.models import Suppression

    suppressions.suppression_add(
        organization=org, channel="email", address="a@b.co", source="bounce"
    )
    original = Suppression.objects.get_or_create

    def racing(**kwargs):
        original(**kwargs)
        raise IntegrityError("duplicate key")

    monkeypatch.setattr(Suppression.objects, "get_or_create", racing)
    again = suppressions.suppression_add(
        organization=org, channel="email", address="A@B.co", source="staff"
    )
    assert again.source == "bounce" and Suppression.objects.count() == 1


@pytest.mark.django_db
def test_outbox_selectors(org, make_connector, steps):
    connector = make_connector(mode="sandbox")
    services.connector_execute(
        connector=connector, action="send", input=SEND, recorder=steps, idempotency_key="k1"
    )
    row = OutboundMessage.objects.get()
    assert selectors.outbox_for_connector(organization=org, connector=connector) == [row]
    assert selectors.outbox_get(organization=org, idempotency_key="k1") == row
    assert selectors.outbox_get(organization=org, idempotency_key="nope") is None


def test_null_recorder_records_nothing():
    recorder = NullRecorder()
    with recorder.step("x", kind="call", provider="p", action="a") as rec:
        rec.http_status = 200
    assert recorder.add_cost(Decimal("1")) is None
