"""The segment builder's rows, the segment form, and ``SegmentChoiceField`` for other apps.

A builder row is a set of form fields named ``c-<key>-<part>`` (``key`` is a short random
handle, so rows added and removed in the browser never collide); the rows are read in the order
the browser sends them.  Its first select (``what``) says what the row looks at, in a
marketer's words ("Opened an email"); ``condition_of`` turns a row into a rules condition and
``row_of`` turns a saved condition back into a row.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from django import forms

from agents.segments.models import Segment
from agents.segments.rules import OPS
from agents.segments.selectors import segment_count, segment_list

# What a row looks at: (value of the first select, label).  "engagement:<event>" rows are
# engagement conditions for that event.
WHAT = [
    ("tag", "Tag"),
    ("consent", "Consent"),
    ("field", "Contact field"),
    ("attribute", "Attribute"),
    ("created", "Added"),
    ("list", "Contact list"),
    ("engagement:open", "Opened an email"),
    ("engagement:click", "Clicked a link in an email"),
    ("engagement:reply", "Replied to an email"),
    ("engagement:bounce", "Had an email bounce"),
    ("engagement:unsubscribe", "Unsubscribed"),
    ("campaign", "Campaign"),
]
WHAT_VALUES = {value for value, _ in WHAT}
CHANNEL_LABELS = {"email": "Email", "sms": "SMS", "whatsapp": "WhatsApp"}
FIELD_LABELS = {"name": "Name", "email": "Email address", "phone": "Phone", "timezone": "Timezone"}
# The parts a row of each kind has besides what and op, in the order they are shown.
PARTS = {
    "tag": ("value",),
    "consent": ("channel",),
    "field": ("field", "value"),
    "attribute": ("name", "value"),
    "created": ("days",),
    "list": ("list_id",),
    "engagement": ("days",),
    "campaign": ("campaign_id",),
}
# Plain words for a rules path's last part, in error messages.
PART_LABELS = {
    "value": "value",
    "channel": "channel",
    "field": "field",
    "name": "attribute name",
    "days": "number of days",
    "list_id": "list",
    "campaign_id": "campaign",
    "op": "choice",
    "kind": "condition",
    "event": "condition",
}
KEY_PATTERN = re.compile(r"^c-([A-Za-z0-9]{1,16})-what$")
VALUELESS_OPS = {"is_set", "is_empty"}


def new_key() -> str:
    return secrets.token_hex(4)


def _kind_of(what: str) -> tuple[str, str]:
    kind, _, event = what.partition(":")
    return kind, event


def rows_from(data) -> list[dict]:
    """The builder's rows in the order sent: ``{"key", "what", <part>: value}``."""
    rows = []
    for name in data:
        found = KEY_PATTERN.match(name)
        if not found:
            continue
        key = found.group(1)
        row = {"key": key, "what": data.get(name, "")}
        for part in ("op", "value", "channel", "field", "name", "days", "list_id", "campaign_id"):
            row[part] = (data.get(f"c-{key}-{part}") or "").strip()
        rows.append(row)
    return rows


def condition_of(row: dict) -> dict:
    """A rules condition from a row (the rules module judges it)."""
    what = row.get("what", "")
    if what not in WHAT_VALUES:
        return {"kind": what}
    kind, event = _kind_of(what)
    condition: dict[str, Any] = {"kind": kind, "op": row.get("op") or next(iter(OPS[kind]))}
    if event:
        condition["event"] = event
    for part in PARTS[kind]:
        if part == "value" and condition["op"] in VALUELESS_OPS:
            continue
        condition[part] = row.get(part, "")
    return condition


def rules_of(match: str, rows: list[dict]) -> dict:
    return {
        "match": match if match in ("all", "any") else "all",
        "conditions": [condition_of(r) for r in rows],
    }


def row_of(condition: dict) -> dict:
    """A saved condition as a builder row."""
    kind = condition.get("kind", "tag")
    what = f"engagement:{condition.get('event')}" if kind == "engagement" else kind
    row = {"key": new_key(), "what": what, "op": condition.get("op", "")}
    for part in PARTS.get(kind, ()):
        value = condition.get(part, "")
        row[part] = "" if value is None else str(value)
    return row


def errors_by_row(details: Any, rows: list[dict]) -> tuple[dict[str, dict[str, str]], list[str]]:
    """A rules error placed on its row and part (``rules.conditions.2.days`` → row 3, days);
    anything else is a message for the whole form."""
    placed: dict[str, dict[str, str]] = {}
    general: list[str] = []
    for detail in details if isinstance(details, list) else []:
        parts = str(detail.get("field", "")).split(".")
        message = str(detail.get("message", ""))
        if len(parts) >= 4 and parts[:2] == ["rules", "conditions"] and parts[2].isdigit():
            index = int(parts[2])
            if index < len(rows):
                part = "what" if parts[3] in ("kind", "event") else parts[3]
                placed.setdefault(rows[index]["key"], {})[part] = message
                continue
        general.append(plain_error(detail))
    return placed, general


def plain_error(detail: dict) -> str:
    """``rules.conditions.2.days: between 1 and 3650 days`` in a marketer's words."""
    parts = str(detail.get("field", "")).split(".")
    message = str(detail.get("message", ""))
    if len(parts) >= 3 and parts[:2] == ["rules", "conditions"] and parts[2].isdigit():
        what = PART_LABELS.get(parts[3], parts[3]) if len(parts) > 3 else "condition"
        if message == "required":
            return f"Condition {int(parts[2]) + 1}: fill in the {what}"
        return f"Condition {int(parts[2]) + 1}, {what}: {message}"
    if parts == ["rules", "match"]:
        return f"Match: {message}"
    return message


# --- how a row is drawn -----------------------------------------------------------------------


def _select(
    part: str, label: str, options: list[tuple[str, str]], value: str, *, gone: str = ""
) -> dict:
    if value and value not in {v for v, _ in options}:
        # A tag no contact has any more, or (``gone``) a list or campaign deleted since.
        options = [*options, (value, gone or value)]
    return {"part": part, "type": "select", "label": label, "options": options, "value": value}


def row_widgets(row: dict, choices: dict, errors: dict[str, str] | None = None) -> list[dict]:
    """The inputs of one row after its first select: each ``{"part", "type", "label",
    "options", "value", "error", "suffix"}``, for ``segments/_row.html``."""
    kind, _ = _kind_of(row.get("what") or "tag")
    if kind not in OPS:
        kind = "tag"
    op = row.get("op") or next(iter(OPS[kind]))
    widgets: list[dict] = []
    if kind == "consent":
        widgets.append(
            _select("channel", "Channel", list(CHANNEL_LABELS.items()), row.get("channel", ""))
        )
    if kind == "field":
        widgets.append(_select("field", "Field", list(FIELD_LABELS.items()), row.get("field", "")))
    if kind == "attribute":
        widgets.append(
            {
                "part": "name",
                "type": "text",
                "label": "Attribute name",
                "value": row.get("name", ""),
                "datalist": choices.get("attributes", []),
                "placeholder": "e.g. plan",
            }
        )
    if kind != "created":
        widgets.append(_select("op", "Choice", list(OPS[kind].items()), op))
    else:
        widgets.append({"part": "op", "type": "hidden", "value": "in_last", "text": "in the last"})
    if kind == "tag":
        tags = [(t, t) for t in choices.get("tags", [])]
        if tags:
            widgets.append(
                _select("value", "Tag", [("", "Choose a tag…"), *tags], row.get("value", ""))
            )
        else:
            widgets.append(
                {
                    "part": "value",
                    "type": "text",
                    "label": "Tag",
                    "value": row.get("value", ""),
                    "placeholder": "e.g. vip",
                }
            )
    if kind in ("field", "attribute") and op not in VALUELESS_OPS:
        number = op in ("greater_than", "less_than")
        widgets.append(
            {
                "part": "value",
                "type": "number" if number else "text",
                "label": "Value",
                "value": row.get("value", ""),
                "placeholder": "a number" if number else "text",
            }
        )
    if kind in ("created", "engagement"):
        widgets.append(
            {
                "part": "days",
                "type": "number",
                "label": "Number of days",
                "value": row.get("days") or "30",
                "suffix": "days",
                "min": 1,
                "max": 3650,
            }
        )
    if kind == "list":
        lists = [(str(pk), name) for pk, name in choices.get("lists", [])]
        widgets.append(
            _select(
                "list_id",
                "List",
                [("", "Choose a list…"), *lists],
                row.get("list_id", ""),
                gone="(a deleted list)",
            )
        )
    if kind == "campaign":
        campaigns = [(str(pk), name) for pk, name in choices.get("campaigns", [])]
        widgets.append(
            _select(
                "campaign_id",
                "Campaign",
                [("", "Choose a campaign…"), *campaigns],
                row.get("campaign_id", ""),
                gone="(a deleted campaign)",
            )
        )
    for widget in widgets:
        widget["error"] = (errors or {}).get(widget["part"], "")
    return widgets


def row_context(row: dict, choices: dict, errors: dict[str, str] | None = None) -> dict:
    return {
        "key": row["key"],
        "what": row.get("what") or "tag",
        "what_options": WHAT,
        "what_error": (errors or {}).get("what", ""),
        "widgets": row_widgets(row, choices, errors),
    }


# --- the form around the rows -----------------------------------------------------------------


class SegmentForm(forms.Form):
    name = forms.CharField(max_length=200, label="Segment name")
    description = forms.CharField(
        max_length=500,
        required=False,
        label="Description",
        help_text="Optional: what these people have in common, for your team",
    )
    match = forms.ChoiceField(
        choices=[("all", "all of the conditions"), ("any", "any of the conditions")],
        initial="all",
        label="Contacts match when they meet",
        widget=forms.RadioSelect,
    )


# --- for other apps' forms (A/B tests, sequences, batches) -------------------------------------

COUNTS_UP_TO = 25  # more segments than this: their counts would slow the form down


class SegmentChoiceField(forms.ModelChoiceField):
    """The organization's segments, labelled with how many contacts each matches now (while
    there are at most 25 of them; each count is one query).

    Pass ``organization``; a form that declares the field on its class can instead set
    ``field.queryset = segment_list(organization=...)`` in its ``__init__``."""

    def __init__(self, *, organization=None, required: bool = False, **kwargs: Any):
        kwargs.setdefault("label", "Segment")
        kwargs.setdefault("empty_label", "Choose a segment…")
        if "queryset" not in kwargs:
            kwargs["queryset"] = (
                segment_list(organization=organization)
                if organization is not None
                else Segment.objects.none()
            )
        super().__init__(required=required, **kwargs)
        self.with_counts: bool | None = None

    def label_from_instance(self, obj: Segment) -> str:
        if self.with_counts is None:
            self.with_counts = self.queryset.count() <= COUNTS_UP_TO
        if not self.with_counts:
            return obj.name
        count = segment_count(segment=obj)
        return f"{obj.name} ({count} contact{'' if count == 1 else 's'})"
