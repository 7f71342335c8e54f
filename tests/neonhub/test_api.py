"""The OpenAPI document is a contract a frontend can generate a client from: short stable
operation ids, every error answer documented with the one envelope, enums where the values are
fixed, a typed payload per intent, and docs that work without the internet."""

from __future__ import annotations

import re

import jsonschema_rs
import pytest

from agents.registry import all_agents
from neonhub import openapi
from neonhub.api import api
from neonhub.core.errors import Conflict, NeonHubError
from runs.models import RunStatus

ERRORS = {"400", "401", "403", "404", "409", "413", "422", "429"}


@pytest.fixture(scope="module")
def doc():
    # As served, with string status keys.
    import json

    return json.loads(json.dumps(api.get_openapi_schema(path_prefix="/api/v1/")))


def operations(doc):
    for path, methods in doc["paths"].items():
        for method, op in methods.items():
            yield path, method, op


def test_operation_ids_are_short_unique_and_tag_verb(doc):
    ids = [op["operationId"] for _, _, op in operations(doc)]
    assert len(ids) == len(set(ids))
    bad = [i for i in ids if not re.fullmatch(r"[a-z]+(_[a-z]+)+", i) or len(i) > 40]
    assert bad == []
    assert {"runs_list", "runs_create", "runs_get", "connectors_list", "agents_list"} <= set(ids)
    assert "contact_lists_add" in ids and "connectors_action" in ids
    for _, _, op in operations(doc):
        tag = re.sub(r"[^a-z0-9]+", "_", op["tags"][0].lower())
        assert op["operationId"].startswith(tag + "_"), op["operationId"]


@pytest.mark.parametrize(
    ("tag", "func", "expected"),
    [
        ("runs", "run_detail", "runs_get"),
        ("batches", "batch_items", "batches_items"),
        ("contact lists", "list_all", "contact_lists_list"),
        ("api keys", "api_key_create", "api_keys_create"),
        ("members", "member_remove", "members_remove"),
        ("calendar", "calendar_list", "calendar_list"),
        ("triggers", "delivery_list", "triggers_delivery_list"),
    ],
)
def test_operation_id_rule(tag, func, expected):
    assert openapi.operation_id(tag, func) == expected


def test_every_operation_documents_its_error_answers_with_the_envelope(doc):
    for path, method, op in operations(doc):
        responses = op["responses"]
        expected = {"400", "401", "403", "413", "422", "429"}
        if "{" in path or "requestBody" in op:
            expected.add("404")
        if method != "get":
            expected.add("409")
        assert expected <= set(responses), (method, path)
        assert set(responses) - {"200", "201", "202", "204"} <= ERRORS, (method, path)
        for status in expected:
            schema = responses[status]["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/Error"}, (method, path, status)
    runs_get = doc["paths"]["/api/v1/runs/{run_id}"]["get"]["responses"]
    assert "404" in runs_get and "409" not in runs_get
    assert "404" not in doc["paths"]["/api/v1/runs"]["get"]["responses"]


def test_error_component_has_every_code_as_an_enum(doc):
    error = doc["components"]["schemas"]["Error"]
    body = error["properties"]["error"]
    assert body["required"] == ["code", "message", "details"]
    codes = body["properties"]["code"]["enum"]
    assert {"INVALID_INPUT", "NOT_FOUND", "UNAUTHENTICATED", "RATE_LIMITED", "FORBIDDEN"} <= set(
        codes
    )
    assert Conflict.code in codes and "CONNECTOR_RATE_LIMITED" in codes

    class Brand(NeonHubError):  # A new error class is in the document without a change here.
        code = "BRAND_MISSING_FOR_TEST"

    assert "BRAND_MISSING_FOR_TEST" in openapi.error_codes()


def test_error_envelope_validates_real_answers(doc, client, owner):
    validator = _validator(doc, "Error")
    client.force_login(owner)
    for resp in (
        client.get("/api/v1/runs/00000000-0000-0000-0000-000000000000"),
        client.post("/api/v1/runs", data={"agent": "nope"}, content_type="application/json"),
        client.get("/api/v1/runs?limit=0"),
    ):
        assert resp.status_code in (404, 422)
        validator.validate(resp.json())
    client.logout()
    resp = client.get("/api/v1/runs")
    assert resp.status_code == 401
    validator.validate(resp.json())


def test_statuses_are_enums(doc):
    schemas = doc["components"]["schemas"]

    def enum_of(name, field):
        prop = schemas[name]["properties"][field]
        if "$ref" in prop:
            prop = schemas[prop["$ref"].rsplit("/", 1)[1]]
        for option in prop.get("anyOf", [prop]):
            if "$ref" in option:
                option = schemas[option["$ref"].rsplit("/", 1)[1]]
            if "enum" in option:
                return set(option["enum"])
        raise AssertionError(f"{name}.{field} is not an enum: {prop}")

    assert enum_of("RunOut", "status") == set(RunStatus.values)
    assert "awaiting_approval" in enum_of("RunOut", "status")
    assert {"healthy", "untested"} <= enum_of("ConnectorOut", "health")
    assert "skipped" in enum_of("StepOut", "status")
    assert "pending" in enum_of("ApprovalOut", "state")
    assert "running" in enum_of("BatchOut", "status")
    assert "completed" in enum_of("BatchItemOut", "status")
    assert "failed" in enum_of("DeliveryOut", "status")
    assert "interval" in enum_of("ScheduleOut", "kind")
    slugs = {a.slug for a in all_agents()}
    intents = {i for a in all_agents() for i in a.intents}
    for name in ("RunOut", "ScheduleOut", "BatchOut"):
        assert enum_of(name, "agent") == slugs
        assert enum_of(name, "intent") == intents


def test_run_create_body_is_one_variant_per_intent(doc):
    schemas = doc["components"]["schemas"]
    body = doc["paths"]["/api/v1/runs"]["post"]["requestBody"]["content"]["application/json"]
    variants = [v["$ref"].rsplit("/", 1)[1] for v in body["schema"]["oneOf"]]
    pairs = {(a.slug, i) for a in all_agents() for i in a.intents}
    seen = set()
    for name in variants:
        variant = schemas[name]
        agent = variant["properties"]["agent"]["const"]
        intent = variant["properties"]["intent"]["const"]
        seen.add((agent, intent))
        payload = variant["properties"]["payload"]["$ref"].rsplit("/", 1)[1]
        assert payload == name.removesuffix("RunIn") + "In"
        jsonschema_rs.meta.validate(schemas[payload])
    assert seen == pairs
    assert "SocialPublishIn" in schemas and "SocialPublishRunIn" in variants


def test_payload_schemas_accept_and_refuse_what_the_agent_does(doc):
    validator = _validator(doc, "SupportTriageIn")
    validator.validate({"content": "My order never arrived"})
    assert not validator.is_valid({})
    run_in = _validator(doc, "SupportTriageRunIn")
    run_in.validate({"agent": "support", "intent": "triage", "payload": {"content": "Hi"}})
    assert not run_in.is_valid({"agent": "seo", "intent": "triage", "payload": {"content": "Hi"}})


def test_docs_page_works_offline(client):
    resp = client.get("/api/v1/docs")
    assert resp.status_code == 200
    html = resp.content.decode()
    assert "swagger-ui-bundle.js" in html
    assert not re.findall(r"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}", html), html
    # The assets it names are served by the app itself.
    for asset in re.findall(r'(?:src|href)="([^"]+)"', html):
        assert asset.startswith("/"), asset


def _validator(doc, name):
    """A validator of one component, resolving its $refs against the document."""
    schema = {"$ref": f"#/components/schemas/{name}", "components": doc["components"]}
    return jsonschema_rs.Draft202012Validator(schema)


def test_no_two_api_schemas_share_a_name(doc):
    """The OpenAPI document names each schema by its class: two classes of one name would
    silently document one of them for both (a frontend would then trust the wrong shape)."""
    from collections import defaultdict

    from ninja import Schema

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    ours = ("agents", "runs", "connectors", "neonhub")
    by_name = defaultdict(set)
    for cls in subclasses(Schema):
        if cls.__module__.split(".")[0] in ours and cls.__name__ in doc["components"]["schemas"]:
            by_name[cls.__name__].add(f"{cls.__module__}.{cls.__qualname__}")
    assert {name: paths for name, paths in by_name.items() if len(paths) > 1} == {}
