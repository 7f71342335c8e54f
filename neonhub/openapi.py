"""The API contract: what ``NeonHubAPI`` adds to the OpenAPI document ninja builds.

Done once here, for every router mounted now or later, so that an endpoint needs nothing of its
own to stay conformant:

* operation ids ``<tag>_<verb>`` (``runs_list``, ``runs_get``, ``contact_lists_add``), from the
  router's tag and the function name (:func:`operation_id`);
* the error answers of every operation, all with the ``Error`` envelope (:data:`ERROR_STATUSES`
  says which, :func:`add_error_responses` how they are chosen);
* ``agent`` and ``intent`` as enums from the agent registry, wherever a schema has them;
* ``POST /runs``'s body as one variant per (agent, intent), each with that intent's input schema
  as a named component (``SocialPublishIn``): built from the registry when the document is.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from neonhub.core.errors import NeonHubError

REF = "#/components/schemas/"

# The codes the API's own handlers answer with (neonhub/api.py); NeonHubError subclasses add theirs.
HTTP_ERROR_CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHENTICATED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    413: "PAYLOAD_TOO_LARGE",
    429: "RATE_LIMITED",
    500: "INTERNAL",
}
FALLBACK_CODE = "ERROR"

# Which error answers an operation documents:
#   every operation: 400 (a malformed request), 413 (a body or header over the limits),
#     422 (a parameter or body that does not validate, a NUL byte anywhere) and 429 (a rate limit);
#   unless the operation is public: 401 (no or a bad credential) and 403 (a role or a key's
#     scope that does not allow it);
#   with a path parameter or a request body: 404 (an id unknown or of another organization);
#   every write (not GET): 409 (a conflict with the row's state, an idempotency key reused).
# An operation may declare any of them itself (then its own description stays).
ERROR_STATUSES = (400, 401, 403, 404, 409, 413, 422, 429)
ERROR_DESCRIPTIONS = {
    400: "The request could not be read",
    401: "No valid API key or session",
    403: "The caller's role or the key's scope does not allow this",
    404: "Not found in the caller's organization",
    409: "Conflicts with the current state",
    413: "The request is too large",
    422: "Invalid input: `error.details` names each field",
    429: "Too many requests: wait for the `Retry-After` seconds",
}


def error_codes() -> list[str]:
    """Every ``error.code`` an answer can carry, in a stable order."""
    codes = set(HTTP_ERROR_CODES.values()) | {FALLBACK_CODE}
    todo = [NeonHubError]
    while todo:
        cls = todo.pop()
        codes.add(cls.code)
        todo.extend(cls.__subclasses__())
    return sorted(codes)


def error_components() -> dict[str, Any]:
    return {
        "FieldError": {
            "type": "object",
            "title": "FieldError",
            "description": "One invalid field: its dotted name and what is wrong with it",
            "properties": {
                "field": {"type": "string", "description": "e.g. `payload.text`"},
                "message": {"type": "string"},
            },
            "required": ["message"],
        },
        "Error": {
            "type": "object",
            "title": "Error",
            "description": "Every error answer of the API: one envelope, whatever the status",
            "properties": {
                "error": {
                    "type": "object",
                    "properties": {
                        "code": {
                            "type": "string",
                            "enum": error_codes(),
                            "description": "Stable: branch on it, not on the message",
                        },
                        "message": {"type": "string", "description": "For people"},
                        "details": {
                            "description": "A list of invalid fields (422), an object of facts "
                            "(e.g. the run an idempotency key belongs to), or null",
                            "anyOf": [
                                {"type": "array", "items": {"$ref": REF + "FieldError"}},
                                {"type": "object", "additionalProperties": True},
                                {"type": "null"},
                            ],
                        },
                    },
                    "required": ["code", "message", "details"],
                }
            },
            "required": ["error"],
        },
    }


def _singular(word: str) -> str:
    for plural, single in (("ies", "y"), ("ches", "ch"), ("shes", "sh"), ("sses", "ss")):
        if word.endswith(plural):
            return word[: -len(plural)] + single
    return word[:-1] if word.endswith("s") and not word.endswith("ss") else word


VERBS = {"detail": "get", "all": "list"}


def operation_id(tag: str, func_name: str) -> str:
    """``<tag>_<verb>``: the tag in snake case, then the function name less its entity prefix
    (``run_detail`` under *runs* is ``runs_get``, ``list_add`` under *contact lists* is
    ``contact_lists_add``). Stable while the tag and the function name are."""
    tag_id = re.sub(r"[^a-z0-9]+", "_", tag.lower()).strip("_") or "api"
    name = func_name.lower()
    last = tag_id.split("_")[-1]
    for prefix in (tag_id, _singular(tag_id), last, _singular(last)):
        if name == prefix:
            name = "list"
            break
        if name.startswith(prefix + "_"):
            name = name[len(prefix) + 1 :]
            break
    name = VERBS.get(name, name)
    return f"{tag_id}_{name}"


def add_error_responses(schema: dict) -> None:
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.update(error_components())
    for path, methods in schema.get("paths", {}).items():
        for method, op in methods.items():
            public = op.get("security") == [] or (
                "security" not in op and not schema.get("security")
            )
            has_path_id = "{" in path
            has_body = "requestBody" in op
            statuses = [400, 413, 422, 429]
            if not public:
                statuses += [401, 403]
            if has_path_id or has_body:
                statuses.append(404)
            if method != "get":
                statuses.append(409)
            responses = op.setdefault("responses", {})
            for status in sorted(statuses):
                if status in responses or str(status) in responses:
                    continue
                responses[status] = {
                    "description": ERROR_DESCRIPTIONS[status],
                    "content": {"application/json": {"schema": {"$ref": REF + "Error"}}},
                }


def _pascal(text: str) -> str:
    return "".join(part.capitalize() for part in re.split(r"[^A-Za-z0-9]+", text) if part)


def _rewrite_refs(node: Any, names: dict[str, str]) -> Any:
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.startswith("#/$defs/"):
                out[key] = REF + names[value[len("#/$defs/") :]]
            else:
                out[key] = _rewrite_refs(value, names)
        return out
    if isinstance(node, list):
        return [_rewrite_refs(v, names) for v in node]
    return node


def intent_components(agents) -> tuple[dict[str, Any], list[tuple[str, str, str]]]:
    """Each intent's input schema as a component named ``<Agent><Intent>In`` (its nested
    models prefixed with that name), and the (agent, intent, component) triples."""
    components: dict[str, Any] = {}
    triples = []
    for agent in agents:
        for intent in agent.intents.values():
            name = f"{_pascal(agent.slug)}{_pascal(intent.name)}In"
            raw = copy.deepcopy(intent.json_schema())
            defs = raw.pop("$defs", {})
            names = {key: f"{name}{key}" for key in defs}
            for key, sub in defs.items():
                components[names[key]] = _rewrite_refs(sub, names)
            body = _rewrite_refs(raw, names)
            body["title"] = name
            components[name] = body
            triples.append((agent.slug, intent.name, name))
    return components, triples


def add_agent_contract(schema: dict, agents) -> None:
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    slugs = sorted(agent.slug for agent in agents)
    intents = sorted({i for agent in agents for i in agent.intents})
    # agent/intent pairs wherever a schema carries them: a run, a schedule, a batch, a trigger.
    for component in components.values():
        props = component.get("properties", {})
        for field, values in (("agent", slugs), ("intent", intents)):
            prop = props.get(field)
            if isinstance(prop, dict) and prop.get("type") == "string" and "enum" not in prop:
                prop["enum"] = values
                for bound in ("minLength", "maxLength"):
                    prop.pop(bound, None)

    payloads, triples = intent_components(agents)
    clashes = sorted(set(payloads) & set(components))
    if clashes:  # A ninja schema named like an intent's input: rename one of them.
        raise ValueError(f"OpenAPI component names used twice: {', '.join(clashes)}")
    components.update(payloads)
    variants = []
    for slug, intent, payload in triples:
        variant = f"{payload[: -len('In')]}RunIn"
        components[variant] = {
            "type": "object",
            "title": variant,
            "description": f"Start a {slug}/{intent} run",
            "properties": {
                "agent": {"type": "string", "const": slug, "enum": [slug]},
                "intent": {"type": "string", "const": intent, "enum": [intent]},
                "payload": {"$ref": REF + payload},
            },
            "required": ["agent", "intent", "payload"],
            "additionalProperties": False,
        }
        variants.append({"$ref": REF + variant})
    for methods in schema.get("paths", {}).values():
        for op in methods.values():
            if op.get("operationId") != "runs_create":
                continue
            content = op.get("requestBody", {}).get("content", {}).get("application/json")
            if content is not None:
                content["schema"] = {"oneOf": variants}
