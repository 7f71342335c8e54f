"""Small pieces: mapping paths, the trigger services' checks, the template helper."""

from __future__ import annotations

import pytest

from agents.automation.mapping import MISSING, apply_mapping, assign, lookup, mapping_validate
from neonhub.core.errors import InvalidInput


def test_lookup_follows_keys_dots_and_list_indexes():
    record = {"entry": [{"id": "1", "changes": [{"value": {"text": "hi"}}]}], "a.b": "exact"}
    assert lookup(record, "entry.0.changes.0.value.text") == "hi"
    assert lookup(record, "a.b") == "exact"
    assert lookup(record, "entry.5.id") is MISSING
    assert lookup(record, "entry.x") is MISSING
    assert lookup("not a dict", "x") is MISSING


def test_apply_mapping_builds_nested_fields_and_leaves_missing_ones_out():
    payload = apply_mapping(
        {"Phone": "+1", "Name": "", "Age": None},
        {"to": "Phone", "variables.name": "Name", "age": "Age", "gone": "Nope"},
        {"body": "hi", "variables": {"x": 1}},
    )
    assert payload == {"body": "hi", "variables": {"x": 1}, "to": "+1"}
    target = {"a": "not a dict"}
    assign(target, "a.b", 1)
    assert target == {"a": {"b": 1}}


@pytest.mark.parametrize("mapping", [[], {"": "x"}, {"a": 1}, {"a": "x" * 201}])
def test_bad_mappings_are_refused(mapping):
    with pytest.raises(InvalidInput):
        mapping_validate(mapping)
