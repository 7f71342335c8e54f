"""The HTTP seam against a real local server (pytest-httpserver) and raw sockets."""

from __future__ import annotations

import socket
import threading
import time

import pytest
from werkzeug import Response

from connectors import http
from connectors.http import USER_AGENT, HttpClient, check_public_url, client_for
from neonhub.core.errors import (
    ConnectorRateLimited,
    ConnectorRejected,
    ConnectorUnavailable,
    InvalidInput,
    OutcomeUnknown,
)


@pytest.fixture
def client() -> HttpClient:
    return HttpClient(name="example", attempts=2, backoff=0.01, timeout=(1.0, 0.3))


def answers(httpserver, path: str, *responses: Response, method: str = "GET") -> list:
    """Serve ``responses`` in order (the last one repeats) and keep each request seen."""
    seen: list = []
    queue = list(responses)

    def handler(request):
        seen.append(request)
        return queue.pop(0) if len(queue) > 1 else queue[0]

    httpserver.expect_request(path, method=method).respond_with_handler(handler)
    return seen


def test_safe_request_is_retried_on_503_then_succeeds(httpserver, client):
    seen = answers(
        httpserver, "/x", Response("busy", 503), Response("busy", 503), Response("ok", 200)
    )
    response = client.request("GET", httpserver.url_for("/x"), safe_to_repeat=True)
    assert response.status_code == 200
    assert len(seen) == 3
    assert len(response.raw.retries.history) == 2


def test_safe_request_gives_up_after_its_attempts_and_returns_the_last_answer(httpserver, client):
    seen = answers(httpserver, "/x", Response("busy", 502))
    response = client.request("GET", httpserver.url_for("/x"), safe_to_repeat=True)
    assert response.status_code == 502
    assert len(seen) == 3  # the first try and two retries


def test_unsafe_request_is_not_retried(httpserver, client):
    seen = answers(httpserver, "/send", Response("busy", 503), Response("ok", 200), method="POST")
    response = client.request(
        "POST", httpserver.url_for("/send"), safe_to_repeat=False, data={"a": "1"}
    )
    assert response.status_code == 503
    assert len(seen) == 1


def test_unsafe_request_is_repeated_after_a_429_which_says_it_was_not_processed(httpserver, client):
    seen = answers(
        httpserver,
        "/send",
        Response("slow down", 429, headers={"Retry-After": "0"}),
        Response("ok", 201),
        method="POST",
    )
    response = client.request("POST", httpserver.url_for("/send"), safe_to_repeat=False)
    assert (response.status_code, len(seen)) == (201, 2)


def test_unsafe_request_is_not_repeated_after_a_503_even_with_a_short_retry_after(
    httpserver, client
):
    # urllib3 retries any 503 carrying Retry-After; a 503 may come after the work was done.
    seen = answers(
        httpserver, "/send", Response("", 503, headers={"Retry-After": "0"}), method="POST"
    )
    response = client.request("POST", httpserver.url_for("/send"), safe_to_repeat=False)
    assert (response.status_code, len(seen)) == (503, 1)


def test_short_retry_after_is_honoured_within_the_request(httpserver, client):
    seen = answers(
        httpserver,
        "/x",
        Response("slow down", 429, headers={"Retry-After": "0"}),
        Response("ok", 200),
    )
    assert client.request("GET", httpserver.url_for("/x"), safe_to_repeat=True).status_code == 200
    assert len(seen) == 2


def test_long_retry_after_comes_back_at_once_with_its_body(httpserver, client):
    body = '{"code": 20429, "message": "Too Many Requests"}'
    seen = answers(
        httpserver, "/x", Response(body, 429, headers={"Retry-After": "120"}), Response("ok", 200)
    )
    started = time.monotonic()
    response = client.request("GET", httpserver.url_for("/x"), safe_to_repeat=True)
    assert time.monotonic() - started < 1.0  # nothing slept
    assert len(seen) == 1
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "120"
    assert response.json()["code"] == 20429


def test_a_retryable_status_the_provider_calls_final_comes_back_at_once_with_its_body(
    httpserver, client
):
    body = '{"error": {"code": "insufficient_quota"}}'
    seen = answers(httpserver, "/x", Response(body, 429), Response("ok", 200))
    judged = []

    def is_final(response):
        judged.append((response.status_code, response.url))
        return response.json()["error"]["code"] == "insufficient_quota"

    response = client.request(
        "GET", httpserver.url_for("/x?a=1"), safe_to_repeat=True, is_final=is_final
    )
    assert (response.status_code, response.json()["error"]["code"], len(seen), judged) == (
        429,
        "insufficient_quota",
        1,
        [(429, httpserver.url_for("/x?a=1"))],
    )


def test_a_retryable_status_the_provider_calls_transient_is_retried_and_the_last_answer_is_whole(
    httpserver, client
):
    seen = answers(
        httpserver,
        "/x",
        Response('{"n": 1}', 503),
        Response('{"n": 2}', 503),
        Response('{"n": 3}', 503),
    )
    response = client.request(
        "GET", httpserver.url_for("/x"), safe_to_repeat=True, is_final=lambda r: False
    )
    assert (response.status_code, response.json(), len(seen)) == (503, {"n": 3}, 3)
    # The judgement applies to that request only: the shared session retries as before.
    answers(httpserver, "/y", Response("busy", 503), Response("ok", 200))
    assert client.request("GET", httpserver.url_for("/y"), safe_to_repeat=True).status_code == 200


def test_long_retry_after_on_an_unsafe_request_is_not_retried(httpserver, client):
    seen = answers(
        httpserver, "/send", Response("", 503, headers={"Retry-After": "3600"}), method="POST"
    )
    response = client.request("POST", httpserver.url_for("/send"), safe_to_repeat=False)
    assert response.status_code == 503 and len(seen) == 1


def _slow(seconds: float):
    def handler(request):
        time.sleep(seconds)
        return Response("late", 200)

    return handler


def test_read_timeout_on_an_unsafe_request_is_outcome_unknown(threaded_server, client):
    calls = []
    threaded_server.expect_request("/send", method="POST").respond_with_handler(
        lambda request: calls.append(1) or _slow(0.6)(request)
    )
    with pytest.raises(OutcomeUnknown) as err:
        client.request("POST", threaded_server.url_for("/send"), safe_to_repeat=False)
    assert err.value.code == "TIMEOUT"
    assert "may have been carried out" in err.value.message
    assert len(calls) == 1


def test_read_timeout_on_a_safe_request_is_retried_then_unavailable(threaded_server, client):
    calls = []
    threaded_server.expect_request("/x").respond_with_handler(
        lambda request: calls.append(1) or _slow(0.6)(request)
    )
    with pytest.raises(ConnectorUnavailable, match="no answer in time"):
        client.request("GET", threaded_server.url_for("/x"), safe_to_repeat=True)
    assert len(calls) == 3


def closed_port() -> int:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


@pytest.mark.parametrize("safe", [True, False])
def test_connection_refused_is_unavailable_even_when_unsafe(client, safe):
    with pytest.raises(ConnectorUnavailable, match="could not connect"):
        client.request("POST", f"http://127.0.0.1:{closed_port()}/send", safe_to_repeat=safe)


@pytest.fixture
def hang_up_server():
    """A server that reads the request and closes the connection without answering."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    accepted = []

    def serve():
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            accepted.append(1)
            conn.recv(65536)
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}", accepted
    listener.close()


def test_connection_lost_mid_request_is_outcome_unknown_when_unsafe(client, hang_up_server):
    url, accepted = hang_up_server
    with pytest.raises(OutcomeUnknown, match="connection lost"):
        client.request("POST", f"{url}/send", safe_to_repeat=False, data={"to": "x"})
    assert len(accepted) == 1


def test_connection_lost_on_a_safe_request_is_retried_then_unavailable(client, hang_up_server):
    url, accepted = hang_up_server
    with pytest.raises(ConnectorUnavailable, match="connection lost"):
        client.request("GET", f"{url}/x", safe_to_repeat=True)
    assert len(accepted) == 3


@pytest.mark.parametrize("url", ["http://", "no-scheme.example/x", "ftp://example.com/x"])
def test_malformed_urls_are_rejected_before_sending(client, url):
    with pytest.raises(ConnectorRejected, match="not valid"):
        client.request("GET", url, safe_to_repeat=True)


def test_every_request_carries_the_user_agent_and_no_stored_cookies(httpserver, client):
    first = Response("ok", 200)
    first.set_cookie("session", "tenant-a-secret")
    seen = answers(httpserver, "/x", first, Response("ok", 200))
    client.request("GET", httpserver.url_for("/x"), safe_to_repeat=True)
    client.request("GET", httpserver.url_for("/x"), safe_to_repeat=True)
    assert [r.headers.get("User-Agent") for r in seen] == [USER_AGENT, USER_AGENT]
    # One provider's session serves every organization: a cookie must not follow.
    assert "Cookie" not in seen[1].headers


def test_a_providers_own_user_agent_wins(httpserver, client):
    seen = answers(httpserver, "/x", Response("ok", 200))
    client.request(
        "GET",
        httpserver.url_for("/x"),
        safe_to_repeat=True,
        headers={"User-Agent": "web:app:1.0 (by /u/me)"},
    )
    assert seen[0].headers["User-Agent"] == "web:app:1.0 (by /u/me)"


def test_client_for_reuses_one_client_per_provider():
    assert client_for("reuse-test") is client_for("reuse-test")
    assert client_for("reuse-test") is not client_for("reuse-test-2")


def test_redirect_to_a_private_address_is_refused_when_not_allowed(
    httpserver, client, settings, monkeypatch
):
    settings.NEONHUB_ALLOW_PRIVATE_URLS = False
    public = http.is_public_address
    monkeypatch.setattr(
        http, "is_public_address", lambda address: address.is_loopback or public(address)
    )  # the test server
    answers(
        httpserver,
        "/x",
        Response("", 302, headers={"Location": "http://169.254.169.254/latest/meta-data"}),
    )
    with pytest.raises(ConnectorRejected, match="redirect points to a private or local address"):
        client.request("GET", httpserver.url_for("/x"), safe_to_repeat=True)


def test_a_connection_that_reaches_a_private_address_sends_nothing(httpserver, client, settings):
    settings.NEONHUB_ALLOW_PRIVATE_URLS = False
    seen = answers(httpserver, "/x", Response("ok", 200))
    with pytest.raises(
        ConnectorRejected, match=r"reached a private or local address \(127.0.0.1\)"
    ):
        client.request("POST", httpserver.url_for("/x"), safe_to_repeat=False, data={"a": "1"})
    assert seen == []


def test_a_name_that_turns_private_after_the_check_is_refused_at_connect(
    httpserver, client, settings, monkeypatch
):
    """DNS rebinding: public when checked, loopback when connected."""
    settings.NEONHUB_ALLOW_PRIVATE_URLS = False
    seen = answers(httpserver, "/x", Response("ok", 200))
    resolve = socket.getaddrinfo
    lookups = []

    def rebinding(host, port, *args, **kwargs):
        if host != "rebind.example":
            return resolve(host, port, *args, **kwargs)
        lookups.append(host)
        address = "93.184.215.14" if len(lookups) == 1 else "127.0.0.1"
        return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    url = f"http://rebind.example:{httpserver.port}/x"
    assert check_public_url(url, field="config.base_url") == url
    with pytest.raises(
        ConnectorRejected, match="rebind.example reached a private or local address"
    ):
        client.request("GET", url, safe_to_repeat=True)
    assert seen == [] and len(lookups) >= 2


def test_redirects_are_followed_when_allowed(httpserver, client):
    answers(httpserver, "/x", Response("", 302, headers={"Location": "/y"}))
    answers(httpserver, "/y", Response("there", 200))
    assert client.request("GET", httpserver.url_for("/x"), safe_to_repeat=True).text == "there"


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/x",
        "http://localhost:8000/",
        "http://10.1.2.3/",
        "http://192.168.1.1/",
        "http://172.16.0.1/",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/",
        "http://[fe80::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://100.64.0.1/",
        "http://0.0.0.0/",
        "http://224.0.0.1/",
    ],
)
def test_private_loopback_and_link_local_addresses_are_refused(settings, url):
    settings.NEONHUB_ALLOW_PRIVATE_URLS = False
    with pytest.raises(InvalidInput) as err:
        check_public_url(url, field="config.base_url")
    assert err.value.details[0]["field"] == "config.base_url"
    assert err.value.status == 422


def test_public_addresses_pass(settings):
    settings.NEONHUB_ALLOW_PRIVATE_URLS = False
    assert check_public_url("https://93.184.215.14/api") == "https://93.184.215.14/api"
    assert check_public_url("http://[2606:4700::1111]/") == "http://[2606:4700::1111]/"


def test_private_addresses_pass_when_allowed(settings):
    settings.NEONHUB_ALLOW_PRIVATE_URLS = True
    assert check_public_url("http://127.0.0.1:9000/x") == "http://127.0.0.1:9000/x"


@pytest.mark.parametrize(
    "url", ["ftp://example.com/", "javascript:alert(1)", "http:///nohost", "not a url"]
)
def test_non_http_urls_are_refused_even_when_private_allowed(settings, url):
    settings.NEONHUB_ALLOW_PRIVATE_URLS = True
    with pytest.raises(InvalidInput, match="http\\(s\\) URL"):
        check_public_url(url, field="input.media_url")


def test_unresolvable_host_is_invalid_input(settings):
    settings.NEONHUB_ALLOW_PRIVATE_URLS = False
    with pytest.raises(InvalidInput, match="cannot resolve"):
        check_public_url("http://no-such-host.invalid/", field="config.base_url")


def test_long_retry_after_through_a_provider_is_rate_limited_with_retry_after(
    httpserver, live, steps
):
    from connectors.execution import connector_session

    answers(
        httpserver,
        "/messages/m1",
        Response('{"error": {"code": "slow"}}', 429, headers={"Retry-After": "90"}),
    )
    with (
        connector_session(connector=live, recorder=steps) as session,
        pytest.raises(ConnectorRateLimited) as err,
    ):
        session.execute(action="lookup", input={"id": "m1"})
    assert err.value.retry_after == 90
    assert err.value.provider_code == "slow"
    assert steps.steps[0].http_status == 429


@pytest.fixture
def proxy_env(monkeypatch):
    for name in (
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "NO_PROXY",
        "no_proxy",
        "ALL_PROXY",
        "all_proxy",
    ):
        monkeypatch.delenv(name, raising=False)
    http.env_settings_clear()
    yield monkeypatch
    http.env_settings_clear()


def test_the_proxy_environment_is_honoured_per_origin(httpserver, client, proxy_env, settings):
    settings.NEONHUB_ALLOW_PRIVATE_URLS = (
        False  # a proxy is the operator's choice: its address is not checked
    )
    seen = answers(httpserver, "/x", Response("via proxy", 200))
    proxy_env.setenv("HTTP_PROXY", httpserver.url_for("/").rstrip("/"))
    proxy_env.setenv("NO_PROXY", "direct.invalid")
    response = client.request("GET", "http://api.provider.invalid/x", safe_to_repeat=True)
    assert response.text == "via proxy" and seen[0].headers["Host"] == "api.provider.invalid"
    with pytest.raises(
        ConnectorUnavailable, match="could not connect"
    ):  # NO_PROXY: straight to a name
        client.request(
            "GET", "http://direct.invalid/x", safe_to_repeat=True
        )  # that does not resolve
    assert len(seen) == 1


def test_the_environment_is_read_once_per_origin(client, proxy_env, monkeypatch):
    reads = []
    real = http.requests.utils.get_environ_proxies
    monkeypatch.setattr(
        http.requests.utils, "get_environ_proxies", lambda *a, **k: reads.append(a) or real(*a, **k)
    )
    for _ in range(3):
        assert http._env_proxies("https", "api.twilio.com") == {}
    assert len(reads) == 1
