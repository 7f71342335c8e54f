"""Every route that takes an id answers 404 for another organization's object."""

from __future__ import annotations

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from neonhub.api import api as ninja_api
from tests.isolation import FOREIGN_OBJECTS, PLAIN_VALUES, PUBLIC_PREFIXES

pytestmark = pytest.mark.django_db

PARAM = re.compile(r"\{(\w+)\}|<(?:\w+:)?(\w+)>")


def api_routes():
    for prefix, router in ninja_api._routers:
        for path, path_view in router.path_operations.items():
            full = (prefix.rstrip("/") + "/" + path.lstrip("/")).rstrip("/") if path else prefix
            for operation in path_view.operations:
                for method in operation.methods:
                    if PARAM.search(full):
                        yield method, "/api/v1/" + full.lstrip("/")


def page_routes(patterns=None, prefix=""):
    for pattern in patterns if patterns is not None else get_resolver().url_patterns:
        text = prefix + str(pattern.pattern)
        if text.startswith(("admin/", "api/", "static/", *PUBLIC_PREFIXES)):
            continue
        if isinstance(pattern, URLResolver):
            yield from page_routes(pattern.url_patterns, text)
        elif isinstance(pattern, URLPattern) and PARAM.search(text):
            yield "/" + text


def fill(path, other_org):
    def value(match):
        name = match.group(1) or match.group(2)
        if name in PLAIN_VALUES:
            return PLAIN_VALUES[name]
        assert name in FOREIGN_OBJECTS, f"add a factory for '{name}' to tests/isolation.py ({path})"
        return str(FOREIGN_OBJECTS[name](other_org))

    return PARAM.sub(value, path)


API_ROUTES = sorted(set(api_routes()))
PAGE_ROUTES = sorted(set(page_routes()))


def test_routes_were_found():
    assert API_ROUTES and PAGE_ROUTES


@pytest.mark.parametrize("method,path", API_ROUTES)
def test_api_answers_404_for_another_organizations_object(api, other_org, method, path):
    url = fill(path, other_org)
    resp = api._call(method.lower(), url.removeprefix("/api/v1"), {} if method != "GET" else None)
    assert resp.status_code == 404, (method, url, resp.status_code, resp.content[:200])


@pytest.mark.parametrize("path", PAGE_ROUTES)
def test_pages_answer_404_for_another_organizations_object(client, owner, other_org, path):
    client.force_login(owner)
    url = fill(path, other_org)
    for method in ("get", "post"):
        resp = getattr(client, method)(url)
        assert resp.status_code in (404, 405), (method, url, resp.status_code)
        assert resp.status_code == 404 or method == "post"
