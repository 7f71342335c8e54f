from __future__ import annotations

import uuid

import pytest

from neonhub.core.errors import InvalidInput
from neonhub.core.ids import uuid_from


def test_uuid_from_takes_text_and_uuids():
    value = uuid.uuid4()
    assert uuid_from(str(value), field="list_id") == value
    assert uuid_from(value, field="list_id") is value


def test_uuid_from_names_the_field_of_a_malformed_id():
    with pytest.raises(InvalidInput) as caught:
        uuid_from("12; drop", field="list_id")
    assert caught.value.details == [{"field": "list_id", "message": "not a valid id"}]
