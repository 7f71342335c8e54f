"""Form helpers the pages of every app share.  The services stay the judges of input: their
field errors come back next to the fields."""

from __future__ import annotations

from typing import Any

from django import forms


def errors_to_form(form: forms.Form, details: Any, message: str, *, prefix: str = "") -> None:
    """Put a service's ``InvalidInput`` details next to the matching fields (or on the form)."""
    placed = False
    for detail in details if isinstance(details, list) else []:
        path = str(detail.get("field", "")).removeprefix(prefix)
        field = path.split(".")[0]
        if field in form.fields:
            # A payload error names the field inside the payload: say which.
            text = (
                f"{path}: {detail.get('message')}"
                if path != field
                else detail.get("message", message)
            )
            form.add_error(field, text)
            placed = True
    if not placed:
        form.add_error(None, message)
