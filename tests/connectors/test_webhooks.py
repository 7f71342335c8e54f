"""The request a provider's webhook hooks read: its form and JSON bodies, refused clearly."""

from __future__ import annotations

import pytest

from connectors.webhooks import BodyMalformed, WebhookRequest, constant_equal


def request(body: bytes, content_type: str) -> WebhookRequest:
    return WebhookRequest(
        "POST", "", "https://hub.example.com/hooks/x/1", {}, {}, body, content_type
    )


def test_a_form_body_keeps_repeated_names_in_order():
    form = request(b"a=1&b=&a=2", "application/x-www-form-urlencoded; charset=utf-8").form()
    assert form == [("a", "1"), ("b", ""), ("a", "2")]
    assert request(b"", "application/x-www-form-urlencoded").form() == []


@pytest.mark.parametrize(
    ("body", "content_type", "reason"),
    [
        (b'{"a": 1}', "application/json", "form-encoded"),
        (b"a=1&&&b", "application/x-www-form-urlencoded", "cannot be parsed"),
        (b"\xff=1", "application/x-www-form-urlencoded", "cannot be parsed"),
    ],
)
def test_a_body_that_is_not_a_form_is_malformed(body, content_type, reason):
    with pytest.raises(BodyMalformed, match=reason) as err:
        request(body, content_type).form()
    assert err.value.status == 400


@pytest.mark.parametrize(("body", "reason"), [(b"nope", "not JSON"), (b"[1]", "JSON object")])
def test_a_json_body_must_be_an_object(body, reason):
    assert request(b'{"a": 1}', "application/json").json() == {"a": 1}
    with pytest.raises(BodyMalformed, match=reason):
        request(body, "application/json").json()


def test_constant_equal():
    assert constant_equal("abc", "abc")
    assert not constant_equal("abc", "abd")
