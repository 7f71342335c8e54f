from __future__ import annotations

from neonhub.core.errors import Conflict, ConnectorMissing, InvalidInput


def test_for_field_names_the_field_in_details_and_message():
    exc = InvalidInput.for_field("cron", "not a cron expression")

    assert exc.details == [{"field": "cron", "message": "not a cron expression"}]
    assert exc.message == "cron: not a cron expression"
    assert exc.status == 422


def test_for_field_keeps_a_summary_and_the_class_and_its_arguments():
    exc = ConnectorMissing.for_field(
        "connector", "add one", summary="No connector", context={"provider": "x"}
    )

    assert isinstance(exc, ConnectorMissing)
    assert exc.message == "No connector"
    assert exc.context == {"provider": "x"}
    assert Conflict.for_field("name", "already used").status == 409
