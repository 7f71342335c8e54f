"""The OpenAPI document: every operation has a stable id of its own, free of module paths."""

from __future__ import annotations

from neonhub.api import api


def test_operation_ids_are_unique_function_names():
    ids = [
        op["operationId"]
        for ops in api.get_openapi_schema()["paths"].values()
        for op in ops.values()
    ]
    assert len(ids) == len(set(ids))
    assert "run_list" in ids and "connector_action" in ids
    assert not [i for i in ids if "agents_" in i or "_api_" in i]
