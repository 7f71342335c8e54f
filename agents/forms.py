"""The start-a-run form, built from an intent's JSON schema and made for people.

The schema decides the types; ``agents/fields.py`` decides the words (labels, help, choice
names) and which fields a person never fills in (hidden) or rarely does (advanced).  Besides
the plain kinds (text, number, yes/no, a choice, one value per line, JSON), some fields are
made for what they hold:

- a list of choices (platforms) → checkboxes with readable names;
- a date-time (``publishAt``) → a date-time picker read in the organization's timezone;
- ``brandId`` → the organization's brands by name;
- ``connector`` → the organization's connectors of the intent's provider, by name;
- URLs → URL inputs;
- an object of a few options (Reddit's subreddit, YouTube's title) → its own fields, grouped.

The agent's schema and pre-run checks stay the judge: their errors come back next to the fields.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from uuid import UUID

from django import forms
from django.utils import timezone

from agents.audience.models import ContactList
from agents.campaigns.forms import CampaignChoiceField
from agents.campaigns.models import Campaign
from agents.fields import (
    ADVANCED,
    HIDDEN,
    PLATFORM_ALIASES,
    TARGET_ALIASES,
    alias,
    choice_label,
    field_text,
    placement,
)
from agents.library import ads as ads_agent
from agents.mailtemplates.models import EmailTemplate
from agents.models import Brand
from agents.segments.models import Segment
from agents.sequences.models import Sequence
from connectors.models import Connector
from connectors.selectors import connector_for
from connectors.services import connector_execute
from neonhub.core.errors import NeonHubError
from neonhub.core.recording import NullRecorder

LONG_TEXT = 500  # longer limits get a text area: a subject or a title stays one line
NOT_SENT = object()
GROUP_SEP = "__"  # "reddit__subreddit": the subreddit of the Reddit options
URL_NAMES = frozenset({"url", "link", "imageUrl", "videoUrl"})
DATETIME_INPUT = "%Y-%m-%dT%H:%M"
DATE_INPUT = "%Y-%m-%d"
DEFAULT_BRAND = "default-brand"

# Intent fields that hold the id of one of the organization's objects: (model, empty choice).
OBJECT_CHOICES: dict[str, tuple[type, str]] = {
    "templateId": (EmailTemplate, "None"),
    "segmentId": (Segment, "None"),
    "listId": (ContactList, "None"),
    "sequenceId": (Sequence, "None"),
    "campaignId": (Campaign, "None"),
}

# The providers whose connectors a ``connector`` field chooses among, per intent.
CONNECTOR_PROVIDERS: dict[tuple[str, str], tuple[str, ...]] = {
    ("messaging", "send-sms"): ("twilio_sms",),
    ("messaging", "send-whatsapp"): ("twilio_whatsapp",),
    ("support", "reply"): ("twilio_sms", "twilio_whatsapp"),
    ("ads", "digest"): ("google_ads",),
    ("ads", "budget-change"): ("google_ads",),
}
# Lists of objects a person writes one value a line (the model turns each into an object).
LINE_LISTS = frozenset({("email", "send", "recipients")})


def field_label(name: str) -> str:
    """A label for a field of no intent in particular (``agents.fields`` has the table)."""
    return field_text("", "", name)[0]


def sentences(*parts: str) -> str:
    """Help texts as whole sentences: each part ends with a full stop, one space between."""
    out = []
    for part in parts:
        part = (part or "").strip()
        if part:
            out.append(part if part[-1] in ".!?)" else f"{part}.")
    return " ".join(out)


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
    if kind == "string" and prop.get("format") == "date-time":
        return "datetime"
    if kind == "string" and prop.get("format") == "date":
        return "date"
    if kind in ("string", "boolean", "integer", "number"):
        return kind
    items = prop.get("items", {})
    if kind == "array" and "enum" in items:
        return "multi"
    if kind == "array" and items.get("type") == "string":
        return "list"
    if kind == "object" and prop.get("properties"):
        return "group"
    return "json"


def _text_field(prop: dict, required: bool, *, url: bool) -> forms.Field:
    max_length = prop.get("maxLength")
    attrs = {"maxlength": max_length} if max_length else {}
    if url or prop.get("format") == "uri":
        attrs.update(placeholder="https://", inputmode="url")
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


def _choices(values: list) -> list[tuple[str, str]]:
    return [(str(v), choice_label(v)) for v in values]


def build_field(prop: dict, *, required: bool, defs: dict, url: bool = False):
    """A form field for one schema property; returns (field, kind, nullable)."""
    prop, nullable = _resolve(prop, defs)
    kind = _kind(prop)
    hint = ""
    if kind == "enum":
        values = {str(v): v for v in prop.get("enum", [prop.get("const")])}
        choices = _choices(list(values.values()))
        default = prop.get("default")
        empty = f"Default ({choice_label(default)})" if default is not None else "—"
        field: forms.Field = forms.TypedChoiceField(
            required=required,
            choices=choices if required else [("", empty), *choices],
            coerce=values.__getitem__,
            empty_value=None,
        )
    elif kind == "multi":
        field = forms.MultipleChoiceField(
            required=required and prop.get("minItems", 0) > 0,
            choices=_choices(prop["items"]["enum"]),
            widget=forms.CheckboxSelectMultiple,
        )
    elif kind == "boolean":
        field = forms.BooleanField(required=False)
    elif kind in ("integer", "number"):
        field = _number_field(prop, kind, required)
    elif kind == "datetime":
        field = forms.DateTimeField(
            required=required,
            input_formats=[DATETIME_INPUT, "%Y-%m-%dT%H:%M:%S"],
            widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_INPUT),
        )
    elif kind == "date":
        field = forms.DateField(
            required=required,
            input_formats=[DATE_INPUT],
            widget=forms.DateInput(attrs={"type": "date"}, format=DATE_INPUT),
        )
    elif kind == "string":
        field = _text_field(prop, required, url=url)
    else:
        hint = "One value per line." if kind == "list" else _json_hint(prop)
        field = forms.CharField(
            required=required,
            widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false"}),
        )
    default = prop.get("default")
    if default is not None and kind not in ("group", "datetime"):
        field.initial = (
            json.dumps(default)
            if kind == "json"
            else ("\n".join(default) if kind == "list" else default)
        )
    field.help_text = sentences(prop.get("description", ""), hint)
    return field, kind, nullable


class IntentForm(forms.Form):
    """Fields generated from ``schema``; ``payload()`` turns the answers into the run's input.

    ``agent`` and ``intent`` pick the words and the special fields; ``organization`` fills the
    brand and connector lists and is the timezone date-times are read in.
    """

    def __init__(
        self,
        *args: Any,
        schema: dict,
        agent: str = "",
        intent: str = "",
        organization=None,
        **kwargs: Any,
    ):
        super().__init__(*args, **kwargs)
        self.agent, self.intent, self.organization = agent, intent, organization
        self.tz = organization.tz if organization is not None else timezone.get_current_timezone()
        self.kinds: dict[str, tuple[str, bool]] = {}
        self.groups: dict[str, str] = {}  # group name → its legend
        required = set(schema.get("required", []))
        defs = schema.get("$defs", {})
        for name, prop in schema.get("properties", {}).items():
            where = placement(agent, intent, name)
            if where == HIDDEN:
                continue
            field, kind, nullable = self._field(name, prop, required=name in required, defs=defs)
            if name == "connectors" and prop.get("propertyNames", {}).get("enum"):
                self._add_connector_map(name, prop["propertyNames"]["enum"], advanced=True)
                continue
            if kind == "group":
                self._add_group(name, prop, defs, advanced=where == ADVANCED)
                continue
            self._place(name, field, kind, nullable, advanced=where == ADVANCED)

    # --- building ---------------------------------------------------------------------------

    def _field(self, name: str, prop: dict, *, required: bool, defs: dict):
        field, kind, nullable = build_field(
            prop, required=required, defs=defs, url=name in URL_NAMES
        )
        label, help_text = field_text(self.agent, self.intent, name)
        field.label = label
        if (self.agent, self.intent, name) in LINE_LISTS:
            kind, field.help_text = "list", ""
            field.widget.attrs["rows"] = 5
        if name == "brandId" and kind == "string":
            field, kind = self._brand_field(field), "brand"
        elif name == "connector" and (self.agent, self.intent) in CONNECTOR_PROVIDERS:
            field, kind = self._connector_field(field), "connector"
        elif name in OBJECT_CHOICES and kind == "string" and self.organization is not None:
            field = self._object_field(name, field, required=required)
        if kind == "datetime":
            field.help_text = sentences(help_text, f"Times are in {self.tz.key}")
            field.timezone = self.tz.key
        elif help_text:  # the table's words replace the schema's description
            per_line = kind == "list" and "line" not in help_text
            field.help_text = sentences(help_text, "One value per line" if per_line else "")
        if (self.agent, self.intent, name) == ("ads", "budget-change", "budgetId"):
            field = self._budget_field(field)
        return field, kind, nullable

    def _object_field(self, name: str, field: forms.Field, *, required: bool) -> forms.Field:
        """An id of one of the organization's templates, segments, lists, sequences or
        campaigns, chosen by name instead of typed."""
        model, empty = OBJECT_CHOICES[name]
        rows = model.objects.filter(organization=self.organization).order_by("name")
        choices = [(str(pk), label) for pk, label in rows.values_list("pk", "name")[:500]]
        new = forms.ChoiceField(
            required=required, choices=[("", "Choose…" if required else empty), *choices]
        )
        new.label, new.help_text = field.label, field.help_text
        if not choices:
            new.help_text = sentences(field.help_text, f"There is no {field.label.lower()} yet")
        return new

    def _brand_field(self, field: forms.Field) -> forms.Field:
        brands = (
            list(Brand.objects.filter(organization=self.organization).order_by("name"))
            if self.organization is not None
            else []
        )
        default = f"Your default brand ({brands[0].name})" if brands else "No brand"
        choices = [(DEFAULT_BRAND, default), *((b.slug, b.name) for b in brands)]
        new = forms.ChoiceField(required=False, choices=choices, initial=DEFAULT_BRAND)
        new.label = field.label
        new.help_text = (
            field.help_text
            if brands
            else sentences(field.help_text, "Add brands in the admin to write in their voice")
        )
        return new

    def _budget_field(self, field: forms.Field) -> forms.Field:
        """The Google Ads account's budgets by name and amount; the id typed in otherwise."""
        choices, reason = (
            ads_agent.budget_choices(self.organization)
            if self.organization is not None
            else ([], "no organization")
        )
        if not choices:
            field.help_text = sentences(
                field.help_text, f"The budgets could not be listed ({reason})"
            )
            return field
        new = forms.ChoiceField(required=True, choices=[("", "Choose…"), *choices])
        new.label, new.help_text = (
            field.label,
            "The budget as it is now; the change waits for approval.",
        )
        return new

    def _connector_field(self, field: forms.Field) -> forms.Field:
        providers = CONNECTOR_PROVIDERS[(self.agent, self.intent)]
        rows = (
            Connector.objects.filter(organization=self.organization, provider__in=providers)
            .order_by("provider", "name")
            .values_list("name", "provider", "enabled")
            if self.organization is not None
            else []
        )
        choices = [("", "The default one")]
        for name, provider, enabled in rows:
            off = "" if enabled else ", switched off"
            extra = f" ({choice_label(provider.removeprefix('twilio_'))}{off})"
            choices.append((name, f"{name}{extra if len(providers) > 1 or off else ''}"))
        new = forms.ChoiceField(required=False, choices=choices)
        new.label, new.help_text = field.label, field.help_text
        return new

    def _add_connector_map(self, name: str, providers: list[str], *, advanced: bool) -> None:
        """``{platform: connector name}`` as one drop-down per platform of its connectors."""
        for provider in providers:
            names = (
                list(
                    Connector.objects.filter(organization=self.organization, provider=provider)
                    .order_by("name")
                    .values_list("name", flat=True)
                )
                if self.organization is not None
                else []
            )
            field = forms.ChoiceField(
                required=False,
                choices=[("", "The default one"), *((n, n) for n in names)],
                label=f"{choice_label(provider)} connector",
            )
            self._place(
                f"{name}{GROUP_SEP}{provider}",
                field,
                "connector",
                False,
                advanced=advanced,
                group=name,
            )

    def _place(self, name, field, kind, nullable, *, advanced: bool, group: str = "") -> None:
        field.advanced = advanced
        field.group = group
        field.kind = kind
        self.fields[name] = field
        self.kinds[name] = (kind, nullable)

    def _add_group(self, name: str, prop: dict, defs: dict, *, advanced: bool) -> None:
        """An object of options becomes one field per option, under the object's legend."""
        prop, _ = _resolve(prop, defs)
        self.groups[name] = f"{field_text(self.agent, self.intent, name)[0]} options"
        for sub, sub_prop in prop.get("properties", {}).items():
            field, kind, nullable = build_field(
                sub_prop, required=False, defs=defs, url=sub in URL_NAMES
            )
            label, help_text = field_text("", "", sub)
            field.label = label
            field.initial = None  # a default would make the options appear for every post
            if help_text:
                field.help_text = sentences(help_text)
            if kind in ("group", "json", "multi"):
                kind = "json"
            self._place(
                f"{name}{GROUP_SEP}{sub}", field, kind, nullable, advanced=advanced, group=name
            )
        if (self.agent, self.intent, name) == ("social", "publish", "tiktok"):
            self._tiktok_options(name)

    def _tiktok_options(self, group: str) -> None:
        """TikTok's rule for posting from an app: offer the privacy levels and interactions
        the account allows right now (creator_info), none chosen in advance."""
        fields = {
            sub: self.fields.get(f"{group}{GROUP_SEP}{sub}")
            for sub in (
                "privacyLevel",
                "allowComments",
                "allowDuet",
                "allowStitch",
                "durationSeconds",
            )
        }
        # The TikTok connector chosen under Advanced (when the form comes back), else the default.
        key = f"connectors{GROUP_SEP}tiktok"
        chosen = (
            self.data.get(self.add_prefix(key), "") if self.is_bound else self.initial.get(key, "")
        )
        info, reason = tiktok_creator_info(self.organization, name=chosen or None)
        privacy = fields["privacyLevel"]
        if info is None:
            if privacy is not None:
                privacy.help_text = sentences(
                    privacy.help_text,
                    f"The account's options could not be read ({reason}); "
                    "they are checked again before posting",
                )
            return
        who = f"@{info.get('username') or 'the account'}"
        if privacy is not None:
            offered = [v for v in info.get("privacy_level_options") or [] if v in _values(privacy)]
            privacy.choices = [("", "Choose…"), *((v, choice_label(v)) for v in offered)]
            privacy.help_text = f"What {who} offers on TikTok now."
        for sub, key in (
            ("allowComments", "comment_disabled"),
            ("allowDuet", "duet_disabled"),
            ("allowStitch", "stitch_disabled"),
        ):
            if fields[sub] is not None and info.get(key):
                fields[sub].disabled = True
                fields[sub].help_text = f"Switched off in {who}'s TikTok settings."
        longest = info.get("max_video_post_duration_sec")
        if fields["durationSeconds"] is not None and longest:
            fields["durationSeconds"].help_text = f"{who} may post videos up to {longest} seconds."

    # --- sections for the template ------------------------------------------------------------

    def main_fields(self) -> list:
        return [f for f in self if not f.field.advanced and not f.field.group]

    def group_sections(self) -> list[dict]:
        return [
            {"name": g, "legend": legend, "fields": [f for f in self if f.field.group == g]}
            for g, legend in self.groups.items()
            if any(not f.field.advanced for f in self if f.field.group == g)
        ]

    def advanced_fields(self) -> list:
        return [f for f in self if f.field.advanced]

    # --- reading answers ----------------------------------------------------------------------

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
            group, _, sub = name.partition(GROUP_SEP)
            source = payload.get(group) if sub else payload
            key = sub or name
            if not isinstance(source, dict) or source.get(key) is None:
                continue
            self.initial[name] = self._as_typed(source[key], kind, self.fields[name])

    def _as_typed(self, value: Any, kind: str, field: forms.Field) -> Any:
        if kind in ("multi", "enum"):  # a run started with "ig" shows Instagram ticked
            return _canonical(value, {str(c[0]) for c in getattr(field, "choices", [])})
        if kind == "list" and isinstance(value, list):
            if all(isinstance(v, str) for v in value):
                return "\n".join(value)
            if all(isinstance(v, dict) and set(v) == {"email"} for v in value):
                return "\n".join(str(v["email"]) for v in value)
            return json.dumps(value, indent=2)
        if kind == "json":
            return json.dumps(value, indent=2)
        if kind == "datetime" and isinstance(value, str):
            try:
                moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                return value
            if timezone.is_aware(moment):
                moment = moment.astimezone(self.tz)
            return moment.replace(tzinfo=None).strftime(DATETIME_INPUT)
        if kind == "brand" and isinstance(value, str):
            brand = _brand_by_ref(self.organization, value)
            return brand.slug if brand is not None else value
        return value

    def payload(self) -> dict:
        """The run input: empty optional answers are left out so the schema's defaults apply."""
        payload: dict[str, Any] = {}
        for name, (kind, nullable) in self.kinds.items():
            value = self._payload_value(self.cleaned_data.get(name), kind, nullable)
            if value is NOT_SENT:
                continue
            group, _, sub = name.partition(GROUP_SEP)
            if sub:
                if kind == "boolean" and value is False:
                    continue  # an unticked option does not make the object appear
                payload.setdefault(group, {})[sub] = value
            else:
                payload[name] = value
        return payload

    def _payload_value(self, value: Any, kind: str, nullable: bool) -> Any:
        if kind == "boolean":
            return value if value or not nullable else NOT_SENT
        if value is None or value == "" or value == []:
            return NOT_SENT
        if kind == "date":
            return value.isoformat()
        if kind == "datetime":
            moment = value if timezone.is_naive(value) else value.replace(tzinfo=None)
            return timezone.make_aware(moment, self.tz).isoformat()
        if kind == "list":
            text = value.strip()
            if text.startswith("["):
                try:
                    return json.loads(text)
                except json.JSONDecodeError:
                    pass
            parts = text.splitlines() if "\n" in text else text.split(",")
            return [p.strip() for p in parts if p.strip()]
        return value

    def add_payload_errors(self, details: list[dict] | None) -> None:
        """Put the agent's errors ("payload.<field>…") next to their fields; the rest on top."""
        for detail in details or []:
            path = str(detail.get("field", "")).split(".")
            message = detail.get("message", "invalid")
            name = ""
            if len(path) > 1 and path[0] == "payload":
                nested = f"{path[1]}{GROUP_SEP}{path[2]}" if len(path) > 2 else ""
                name = nested if nested in self.fields else path[1]
            elif path[0] in self.fields:
                name = path[0]
            if name in self.fields:
                self.add_error(name, message)
            else:
                self.add_error(None, message)


def tiktok_creator_info(organization, name: str | None = None) -> tuple[dict | None, str]:
    """The TikTok account's posting options (``creator_info`` of the connector called ``name``,
    or of the default one), or ``None`` and why not."""
    if organization is None:
        return None, "no organization"
    connector = connector_for(
        organization=organization, provider="tiktok", name=name, required=False
    )
    if connector is None:
        return None, f"no TikTok connector called {name}" if name else "no TikTok connector yet"
    try:
        result = connector_execute(
            connector=connector, action="creator_info", input={}, recorder=NullRecorder()
        )
    except NeonHubError as exc:
        return None, exc.message
    return result.output, ""


def _values(field: forms.Field) -> set[str]:
    return {str(value) for value, _ in getattr(field, "choices", []) if value != ""}


def _brand_by_ref(organization, ref: str) -> Brand | None:
    if organization is None:
        return None
    brands = Brand.objects.filter(organization=organization)
    try:
        by_id = brands.filter(pk=UUID(ref)).first()
    except ValueError:
        by_id = None
    return by_id or brands.filter(slug=ref).first()


def _canonical(value: Any, known: set[str]) -> Any:
    """A stored choice as the form knows it: "Facebook" or "fb" → the value among ``known``."""
    if isinstance(value, list):
        return [_canonical(v, known) for v in value]
    if not isinstance(value, str) or value in known:
        return value
    for aliases in (TARGET_ALIASES, PLATFORM_ALIASES):
        found = alias(aliases)(value)
        if found in known:
            return found
    return value


class RunCampaignForm(forms.Form):
    """The optional "Campaign" of a new run: the organization's campaigns still running."""

    def __init__(self, *args: Any, organization, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["campaign"] = CampaignChoiceField(organization=organization)
