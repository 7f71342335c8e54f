"""The start-a-run form, generated from an intent's JSON schema.

strings → text input (a textarea when longer than 200 characters), enums → select,
booleans → checkbox, integers and numbers → number inputs, arrays of strings → a textarea
with one value per line (or comma separated), objects and anything else → a JSON textarea.
The agent's own schema stays the judge: pydantic's errors come back next to the fields.
"""

from __future__ import annotations

import json
import re
from typing import Any

from django import forms

LONG_TEXT = 200
NOT_SENT = object()


def field_label(name: str) -> str:
    words = re.sub(r"(?<=[a-z0-9])([A-Z])", r" \1", name).replace("_", " ").replace("-", " ")
    return words[:1].upper() + words[1:].lower()


def _resolve(prop: dict, defs: dict) -> tuple[dict, bool]:
    """Follow ``$ref`` and unwrap ``Optional[...]`` (anyOf with null); returns (schema, nullable)."""
    nullable = False
    if "anyOf" in prop:
        options = [p for p in prop["anyOf"] if p.get("type") != "null"]
        nullable = len(options) < len(prop["anyOf"])
        if len(options) == 1:
            prop = {**prop, **options[0]}
            prop.pop("anyOf", None)
    ref = prop.get("$ref", "")
    if ref.startswith("#/$defs/"):
        prop = {
            **defs.get(ref.removeprefix("#/$defs/"), {}),
            **{k: v for k, v in prop.items() if k != "$ref"},
        }
    return prop, nullable


def _kind(prop: dict) -> str:
    kind = prop.get("type")
    if "enum" in prop or "const" in prop:
        return "enum"
    if kind in ("string", "boolean", "integer", "number"):
        return kind
    if kind == "array" and prop.get("items", {}).get("type") == "string":
        return "list"
    return "json"


def _text_field(prop: dict, required: bool) -> forms.Field:
    max_length = prop.get("maxLength")
    attrs = {"maxlength": max_length} if max_length else {}
    if prop.get("format") == "uri":
        return forms.CharField(required=required, widget=forms.URLInput(attrs=attrs))
    widget = (
        forms.Textarea(attrs={"rows": 5, **attrs})
        if (max_length or 0) > LONG_TEXT
        else forms.TextInput(attrs=attrs)
    )
    return forms.CharField(required=required, strip=True, widget=widget)


def _number_field(prop: dict, kind: str, required: bool) -> forms.Field:
    bounds = {
        "min_value": prop.get("minimum", prop.get("exclusiveMinimum")),
        "max_value": prop.get("maximum", prop.get("exclusiveMaximum")),
    }
    bounds = {k: v for k, v in bounds.items() if v is not None}
    if kind == "integer":
        return forms.IntegerField(required=required, **bounds)
    return forms.FloatField(
        required=required, widget=forms.NumberInput(attrs={"step": "any"}), **bounds
    )


def _json_hint(prop: dict) -> str:
    if prop.get("type") == "object" or "properties" in prop:
        return 'A JSON object, like {"key": "value"}.'
    if prop.get("type") == "array":
        return 'A JSON list, like ["a", "b"] or [{"key": "value"}].'
    return "A JSON value."


def build_field(prop: dict, *, required: bool, defs: dict) -> tuple[forms.Field, str, bool]:
    """A form field for one schema property; returns (field, kind, nullable)."""
    prop, nullable = _resolve(prop, defs)
    kind = _kind(prop)
    if kind == "enum":
        values = {str(v): v for v in prop.get("enum", [prop.get("const")])}
        choices = [(key, key) for key in values]
        field: forms.Field = forms.TypedChoiceField(
            required=required,
            choices=choices if required else [("", "—"), *choices],
            coerce=values.__getitem__,
            empty_value=None,
        )
    elif kind == "boolean":
        field = forms.BooleanField(required=False)
    elif kind in ("integer", "number"):
        field = _number_field(prop, kind, required)
    elif kind == "string":
        field = _text_field(prop, required)
    else:
        help_text = (
            "One value per line, or separated by commas." if kind == "list" else _json_hint(prop)
        )
        field = forms.CharField(
            required=required,
            widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false"}),
            help_text=help_text,
        )
    default = prop.get("default")
    if default is not None:
        field.initial = (
            json.dumps(default)
            if kind == "json"
            else ("\n".join(default) if kind == "list" else default)
        )
    description = prop.get("description")
    if description:
        field.help_text = f"{description} {field.help_text}".strip()
    return field, kind, nullable


class IntentForm(forms.Form):
    """Fields generated from ``schema``; ``payload()`` turns the answers into the run's input."""

    def __init__(self, *args: Any, schema: dict, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.kinds: dict[str, tuple[str, bool]] = {}
        required = set(schema.get("required", []))
        defs = schema.get("$defs", {})
        for name, prop in schema.get("properties", {}).items():
            field, kind, nullable = build_field(prop, required=name in required, defs=defs)
            field.label = field_label(name)
            self.fields[name] = field
            self.kinds[name] = (kind, nullable)

    def clean(self) -> dict:
        data = super().clean()
        for name, (kind, _) in self.kinds.items():
            raw = data.get(name)
            if kind == "json" and isinstance(raw, str) and raw.strip():
                try:
                    data[name] = json.loads(raw)
                except json.JSONDecodeError as exc:
                    self.add_error(
                        name, f"Not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})."
                    )
        return data

    def initial_from(self, payload: dict) -> None:
        """Prefill the fields with a run's input, as a person would have typed it."""
        for name, (kind, _) in self.kinds.items():
            if name not in payload or payload[name] is None:
                continue
            value = payload[name]
            if kind == "list" and isinstance(value, list):
                value = "\n".join(map(str, value))
            elif kind == "json":
                value = json.dumps(value, indent=2)
            self.initial[name] = value

    def payload(self) -> dict:
        """The run input: empty optional answers are left out so the schema's defaults apply."""
        payload = {}
        for name, (kind, nullable) in self.kinds.items():
            value = _payload_value(self.cleaned_data.get(name), kind, nullable)
            if value is not NOT_SENT:
                payload[name] = value
        return payload

    def add_payload_errors(self, details: list[dict] | None) -> None:
        """Put the agent's validation errors ("payload.<field>…") next to their fields."""
        for detail in details or []:
            path = str(detail.get("field", "")).split(".")
            name = path[1] if len(path) > 1 and path[0] == "payload" else ""
            message = detail.get("message", "invalid")
            if name in self.fields:
                where = ".".join(path[2:])
                self.add_error(name, f"{where}: {message}" if where else message)
            else:
                self.add_error(None, message)


def _payload_value(value: Any, kind: str, nullable: bool) -> Any:
    if kind == "boolean":
        return value if value or not nullable else NOT_SENT
    if value is None or value == "":
        return NOT_SENT
    if kind == "list":
        parts = value.splitlines() if "\n" in value else value.split(",")
        return [p.strip() for p in parts if p.strip()]
    return value
