"""Fixtures for the connector framework's tests: a recording recorder and fake connectors."""

from __future__ import annotations

import pytest

from tests.connectors.recorders import ListRecorder

TOKEN = "tok_live_4f9a2c7e1b3d5f60"


@pytest.fixture
def steps() -> ListRecorder:
    return ListRecorder()


@pytest.fixture
def make_connector(org):
    """Create a fake connector through the service (live by default, pointed at ``base_url``)."""
    from connectors.services import connector_create

    def make(
        base_url: str | None = None,
        *,
        mode: str = "live",
        name: str = "Main",
        organization=None,
        credentials: dict | None = None,
        config: dict | None = None,
        **kwargs,
    ):
        conf = {"base_url": base_url} if base_url else {}
        return connector_create(
            organization=organization or org,
            provider="fake",
            name=name,
            mode=mode,
            credentials=credentials
            if credentials is not None
            else {"api_token": TOKEN, "account": "acct_main"},
            config={**conf, **(config or {})},
            **kwargs,
        )

    return make


@pytest.fixture
def server_url(httpserver) -> str:
    return httpserver.url_for("").rstrip("/")


@pytest.fixture
def live(make_connector, server_url):
    """A live fake connector pointed at the local HTTP server."""
    return make_connector(server_url)


@pytest.fixture
def threaded_server():
    """A pytest-httpserver that answers requests concurrently (for slow handlers)."""
    from pytest_httpserver import HTTPServer

    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    yield server
    server.clear()
    if server.is_running():
        server.stop()
