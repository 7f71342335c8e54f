"""The body size limit holds for every content type, declared length or none."""

from __future__ import annotations

import io
import json

import pytest
from django.test.client import ClientHandler

pytestmark = pytest.mark.django_db

MIB = 1_048_576


def _multipart(field: str, value: bytes, *, filename: str | None = None) -> tuple[bytes, str]:
    boundary = "neonhubboundary"
    disposition = f'form-data; name="{field}"' + (f'; filename="{filename}"' if filename else "")
    body = (
        f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n".encode()
        + value
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


def test_json_sent_as_multipart_over_the_limit_answers_413(client, api_key):
    body, content_type = _multipart("payload", b"x" * (2 * MIB))
    resp = client.post(
        "/api/v1/runs",
        data=body,
        content_type=content_type,
        headers={"Authorization": f"Bearer {api_key}"},
    )
    assert resp.status_code == 413
    assert resp.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"


def test_page_form_over_the_limit_answers_413(owner_client):
    body, content_type = _multipart("name", b"x" * (2 * MIB))
    resp = owner_client.post("/schedules/", data=body, content_type=content_type)
    assert resp.status_code == 413


def test_upload_paths_keep_their_larger_limit(owner_client, settings):
    settings.NEONHUB_MAX_UPLOAD_BYTES = 3 * MIB
    body, content_type = _multipart(
        "file", b"email\n" + b"a@example.com\n" * 150_000, filename="c.csv"
    )
    assert MIB < len(body) < 3 * MIB
    resp = owner_client.post("/contacts/import/upload", data=body, content_type=content_type)
    assert resp.status_code == 302 and "/contacts/import/" in resp["Location"]
    too_big, content_type = _multipart("file", b"x" * (4 * MIB), filename="c.csv")
    assert (
        owner_client.post("/contacts/import/upload", data=too_big, content_type=content_type)
    ).status_code == 413


def test_a_large_form_field_inside_an_upload_answers_413_not_500(api, settings):
    body, content_type = _multipart("mapping", b"x" * (2 * MIB))
    resp = api.client.post(
        "/api/v1/batches/upload", data=body, content_type=content_type, headers=api.headers
    )
    assert resp.status_code == 413


def _wsgi_post(path: str, body: bytes, token: str):
    """A chunked request as a WSGI server that decodes chunking hands it over: no
    Content-Length, and ``wsgi.input_terminated`` saying the input ends by itself."""
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "CONTENT_TYPE": "application/json",
        "HTTP_TRANSFER_ENCODING": "chunked",
        "HTTP_AUTHORIZATION": f"Bearer {token}",
        "wsgi.input": io.BytesIO(body),
        "wsgi.input_terminated": True,
        "wsgi.url_scheme": "http",
        "wsgi.errors": io.StringIO(),
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "wsgi.version": (1, 0),
    }
    # The test client's handler: the whole middleware stack, inside the test's transaction.
    return ClientHandler()(environ)


def test_chunked_body_without_length_over_the_limit_answers_413(api_key):
    resp = _wsgi_post("/api/v1/runs", b"[" + b"1," * MIB + b"1]", api_key)
    assert resp.status_code == 413


def test_chunked_body_within_the_limit_is_read(api_key):
    body = json.dumps({"agent": "support", "intent": "triage", "payload": {"content": "hi"}})
    resp = _wsgi_post("/api/v1/runs", body.encode(), api_key)
    assert resp.status_code == 202, resp.content
