"""A segment's rules: checked strictly, then compiled to one ``Q`` on ``Contact``.

The format (documented for marketers in docs/SEGMENTS.md)::

    {"match": "all" | "any", "conditions": [<condition>, ...]}

Each condition is an object with a ``kind``:

- ``{"kind": "tag", "op": "has" | "has_not", "value": "vip"}``
- ``{"kind": "consent", "channel": "email" | "sms" | "whatsapp",
  "op": "granted" | "revoked" | "not_given"}``
- ``{"kind": "field", "field": "name" | "email" | "phone" | "timezone",
  "op": "is_set" | "is_empty" | "contains" | "equals", "value": "..."}``
- ``{"kind": "attribute", "name": "plan",
  "op": "equals" | "contains" | "is_set" | "is_empty" | "greater_than" | "less_than",
  "value": "gold" | 42}``
- ``{"kind": "created", "days": 30}`` (added in the last N days)
- ``{"kind": "list", "op": "member" | "not_member", "list_id": "<uuid>"}``
- ``{"kind": "engagement", "event": "open" | "click" | "reply" | "bounce" | "unsubscribe",
  "op": "in_last" | "not_in_last", "days": 30}`` (people only: machine opens and link
  scanners' clicks never count)
- ``{"kind": "campaign", "op": "received" | "opened" | "clicked" | "not_received",
  "campaign_id": "<uuid>"}``

No conditions match every contact.  Erased contacts never match.  Every problem is an
``InvalidInput`` naming its exact path (``rules.conditions.2.days``), so the API answers 422
with it and the builder shows it beside its row.  Engagement and campaign conditions are
``EXISTS`` subqueries (indexed: ``emailevent_contact``, ``emailmsg_contact``), so nothing is
loaded into Python and the same SQL works on SQLite and PostgreSQL.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from django.db import connection
from django.db.models import Case, Exists, FloatField, OuterRef, Q, TextField, When
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Lower
from django.db.models.lookups import Exact, GreaterThan, IContains, IsNull, LessThan, Regex
from django.utils import timezone

from agents.audience.models import ContactList, ContactListMembership
from agents.campaigns.models import Campaign
from agents.mail.models import EmailEvent, EmailMessage, MessageStatus
from neonhub.core.errors import InvalidInput
from neonhub.core.models import Organization

ROOT = "rules"
MAX_CONDITIONS = 30
MAX_DAYS = 3650
CHANNELS = ("email", "sms", "whatsapp")
FIELDS = ("name", "email", "phone", "timezone")
EVENTS = ("open", "click", "reply", "bounce", "unsubscribe")

# kind -> {op: label}, the words the builder shows.
OPS: dict[str, dict[str, str]] = {
    "tag": {"has": "has", "has_not": "does not have"},
    "consent": {"granted": "granted", "revoked": "revoked", "not_given": "not given"},
    "field": {
        "is_set": "is set",
        "is_empty": "is empty",
        "contains": "contains",
        "equals": "equals",
    },
    "attribute": {
        "equals": "equals",
        "contains": "contains",
        "is_set": "is set",
        "is_empty": "is empty",
        "greater_than": "is greater than",
        "less_than": "is less than",
    },
    "created": {"in_last": "in the last"},
    "list": {"member": "is on", "not_member": "is not on"},
    "engagement": {"in_last": "in the last", "not_in_last": "not in the last"},
    "campaign": {
        "received": "received",
        "opened": "opened",
        "clicked": "clicked",
        "not_received": "did not receive",
    },
}
# The keys each kind may carry besides "kind" and "op".
KEYS: dict[str, tuple[str, ...]] = {
    "tag": ("value",),
    "consent": ("channel",),
    "field": ("field", "value"),
    "attribute": ("name", "value"),
    "created": ("days",),
    "list": ("list_id",),
    "engagement": ("event", "days"),
    "campaign": ("campaign_id",),
}
VALUE_OPS = {"contains", "equals", "greater_than", "less_than"}
NUMBER_OPS = {"greater_than", "less_than"}
# A number in an attribute (as JSON, or as text from a CSV import): only these are compared,
# so "gold" never makes PostgreSQL's cast fail.
NUMBER_PATTERN = r"^ *-?[0-9]+(\.[0-9]+)? *$"


def _bad(path: str, message: str) -> InvalidInput:
    return InvalidInput.for_field(path, message)


# --- checking ---------------------------------------------------------------------------------


def rules_clean(*, organization: Organization | None, rules: Any) -> dict:
    """The rules, checked and normalised (ids as strings, days as integers, text trimmed).

    With ``organization``, list and campaign ids must be that organization's (another
    organization's id is refused like an unknown one); without it only the shape is checked.
    """
    if rules is None or rules == {}:
        return {"match": "all", "conditions": []}
    if not isinstance(rules, dict):
        raise _bad(ROOT, "must be an object with match and conditions")
    unknown = sorted(set(rules) - {"match", "conditions"})
    if unknown:
        raise _bad(f"{ROOT}.{unknown[0]}", "unknown key")
    match = rules.get("match", "all")
    if match not in ("all", "any"):
        raise _bad(f"{ROOT}.match", "expected all or any")
    conditions = rules.get("conditions", [])
    if not isinstance(conditions, list):
        raise _bad(f"{ROOT}.conditions", "must be a list")
    if len(conditions) > MAX_CONDITIONS:
        raise _bad(f"{ROOT}.conditions", f"at most {MAX_CONDITIONS} conditions")
    cleaned = [
        _condition_clean(c, f"{ROOT}.conditions.{i}", organization)
        for i, c in enumerate(conditions)
    ]
    return {"match": match, "conditions": cleaned}


def _condition_clean(raw: Any, path: str, organization: Organization | None) -> dict:
    if not isinstance(raw, dict):
        raise _bad(path, "must be an object with a kind")
    kind = raw.get("kind")
    if kind not in OPS:
        raise _bad(f"{path}.kind", f"expected one of {', '.join(OPS)}")
    unknown = sorted(set(raw) - {"kind", "op", *KEYS[kind]})
    if unknown:
        raise _bad(f"{path}.{unknown[0]}", f"not used by a {kind} condition")
    op = raw.get("op", "in_last" if kind == "created" else None)
    if op not in OPS[kind]:
        raise _bad(f"{path}.op", f"expected one of {', '.join(OPS[kind])}")
    out: dict[str, Any] = {"kind": kind, "op": op}
    if kind == "tag":
        out["value"] = _text(raw.get("value"), f"{path}.value", limit=50)
    elif kind == "consent":
        out["channel"] = _choice(raw.get("channel"), f"{path}.channel", CHANNELS)
    elif kind == "field":
        out["field"] = _choice(raw.get("field"), f"{path}.field", FIELDS)
        if op in VALUE_OPS:
            out["value"] = _text(raw.get("value"), f"{path}.value", limit=254)
    elif kind == "attribute":
        out["name"] = _text(raw.get("name"), f"{path}.name", limit=100)
        if op in NUMBER_OPS:
            out["value"] = _number(raw.get("value"), f"{path}.value")
        elif op in VALUE_OPS:
            out["value"] = _text(raw.get("value"), f"{path}.value", limit=254, numbers=True)
    elif kind == "created":
        out["days"] = _days(raw.get("days"), f"{path}.days")
    elif kind == "list":
        out["list_id"] = _owned(raw.get("list_id"), f"{path}.list_id", ContactList, organization)
    elif kind == "engagement":
        out["event"] = _choice(raw.get("event"), f"{path}.event", EVENTS)
        out["days"] = _days(raw.get("days"), f"{path}.days")
    elif kind == "campaign":
        out["campaign_id"] = _owned(
            raw.get("campaign_id"), f"{path}.campaign_id", Campaign, organization
        )
    return out


def _text(value: Any, path: str, *, limit: int, numbers: bool = False) -> str:
    if numbers and isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        raise _bad(path, "required")
    if len(value.strip()) > limit:
        raise _bad(path, f"at most {limit} characters")
    return value.strip()


def _choice(value: Any, path: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise _bad(path, f"expected one of {', '.join(choices)}")
    return value


def _number(value: Any, path: str) -> float:
    if isinstance(value, bool):
        raise _bad(path, "must be a number")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise _bad(path, "must be a number") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise _bad(path, "must be a number")
    return int(number) if number.is_integer() else number


def _days(value: Any, path: str) -> int:
    if isinstance(value, bool):
        raise _bad(path, "must be a whole number of days")
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if not isinstance(value, int):
        raise _bad(path, "must be a whole number of days")
    if not 1 <= value <= MAX_DAYS:
        raise _bad(path, f"between 1 and {MAX_DAYS} days")
    return value


def _owned(value: Any, path: str, model, organization: Organization | None) -> str:
    try:
        pk = uuid.UUID(str(value)) if value else None
    except ValueError:
        pk = None
    if pk is None:
        raise _bad(path, "not a valid id")
    if (
        organization is not None
        and not model.objects.filter(organization=organization, pk=pk).exists()
    ):
        what = "contact list" if model is ContactList else "campaign"
        raise _bad(path, f"no such {what} in this organization")
    return str(pk)


# --- compiling --------------------------------------------------------------------------------


def rules_q(*, organization: Organization, rules: Any, now=None) -> Q:
    """One ``Q`` on ``Contact`` for the rules (checked for shape here; ids as saved).

    The organization and "not erased" are part of it, so the answer never reaches another
    organization's contacts or an erased one, whatever the rules say."""
    cleaned = rules_clean(organization=None, rules=rules)
    now = now or timezone.now()
    parts = [_condition_q(c, organization, now) for c in cleaned["conditions"]]
    combined = Q()
    for part in parts:
        combined = (combined & part) if cleaned["match"] == "all" else (combined | part)
    return Q(organization=organization, erased_at__isnull=True) & combined


def _condition_q(c: dict, organization: Organization, now) -> Q:
    return {
        "tag": _tag_q,
        "consent": _consent_q,
        "field": _field_q,
        "attribute": _attribute_q,
        "created": _created_q,
        "list": _list_q,
        "engagement": _engagement_q,
        "campaign": _campaign_q,
    }[c["kind"]](c, organization=organization, now=now)


def _tag_q(c: dict, **_: Any) -> Q:
    # Exact membership of the JSON list: containment on PostgreSQL, the quoted item on SQLite
    # (as agents.audience.selectors.contact_filter matches tags).
    has = (
        Q(tags__contains=[c["value"]])
        if connection.features.supports_json_field_contains
        else Q(tags__icontains=f'"{c["value"]}"')
    )
    return has if c["op"] == "has" else ~has


def _consent_q(c: dict, **_: Any) -> Q:
    status = f"consent__{c['channel']}__status"
    if c["op"] == "not_given":
        return Q(**{f"{status}__isnull": True}) | ~Q(**{f"{status}__in": ["granted", "revoked"]})
    return Q(**{status: c["op"]})


def _field_q(c: dict, **_: Any) -> Q:
    name, op = c["field"], c["op"]
    if op == "is_set":
        return ~Q(**{name: ""})
    if op == "is_empty":
        return Q(**{name: ""})
    lookup = "icontains" if op == "contains" else "iexact"
    return Q(**{f"{name}__{lookup}": c["value"]})


def _attribute_q(c: dict, **_: Any) -> Q:
    # KeyTextTransform takes the name as one key, so a name with dots or "__" stays one key.
    raw = KeyTextTransform(c["name"], "attributes")
    text = Cast(raw, output_field=TextField())
    op = c["op"]
    is_set = Q(IsNull(raw, False)) & ~Q(Exact(text, ""))
    if op == "is_set":
        return is_set
    if op == "is_empty":
        return ~is_set
    if op == "equals":
        return Q(IsNull(raw, False)) & Q(Exact(Lower(text), str(c["value"]).lower()))
    if op == "contains":
        return Q(IsNull(raw, False)) & Q(IContains(text, str(c["value"])))
    number = Case(
        When(Regex(text, NUMBER_PATTERN), then=Cast(text, output_field=FloatField())),
        default=None,
        output_field=FloatField(),
    )
    compare = GreaterThan if op == "greater_than" else LessThan
    return Q(compare(number, float(c["value"])))


def _created_q(c: dict, *, now, **_: Any) -> Q:
    return Q(created_at__gte=now - timedelta(days=c["days"]))


def _list_q(c: dict, **_: Any) -> Q:
    member = Exists(
        ContactListMembership.objects.filter(contact_list_id=c["list_id"], contact=OuterRef("pk"))
    )
    return Q(member) if c["op"] == "member" else ~Q(member)


def _engagement_q(c: dict, *, organization: Organization, now) -> Q:
    # People only: an Apple Mail proxy's open or a link scanner's click is machine=True.
    happened = Exists(
        EmailEvent.objects.filter(
            organization=organization,
            contact=OuterRef("pk"),
            kind=c["event"],
            machine=False,
            at__gte=now - timedelta(days=c["days"]),
        )
    )
    return Q(happened) if c["op"] == "in_last" else ~Q(happened)


def _campaign_q(c: dict, *, organization: Organization, **_: Any) -> Q:
    messages = EmailMessage.objects.filter(
        organization=organization, campaign_id=c["campaign_id"], contact=OuterRef("pk")
    )
    op = c["op"]
    if op == "opened":
        return Q(Exists(messages.filter(first_opened_at__isnull=False)))
    if op == "clicked":
        return Q(Exists(messages.filter(first_clicked_at__isnull=False)))
    # Received: sent and not returned (a bounce never reached the person).
    received = Exists(
        messages.filter(sent_at__isnull=False).exclude(
            status__in=[MessageStatus.FAILED, MessageStatus.BOUNCED]
        )
    )
    return Q(received) if op == "received" else ~Q(received)
