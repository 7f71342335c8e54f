"""Contacts and contact lists: create, change, import from CSV (preview, then all or nothing), export.

A contact is found by its phone (E.164) or its email (lowercased), each unique within an
organization; an import row matching an existing contact updates it (tags and attributes
are merged, consent per channel is replaced by the row's).  Columns the import does not
know become attributes (``first_name``, ``plan``) usable as ``{{placeholders}}``.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from agents.audience import selectors
from agents.audience.models import (
    ConsentEvent,
    ConsentStatus,
    Contact,
    ContactList,
    ContactListMembership,
    InboundMessage,
)
from connectors.addresses import normalize_address
from connectors.models import OutboundMessage
from connectors.suppressions import suppression_add_erased
from neonhub.core import audit
from neonhub.core.csvio import (
    RecordError,
    csv_header,
    csv_line_writer,
    csv_records,
    open_stored,
    store_upload,
)
from neonhub.core.errors import Conflict, InvalidInput, NotFound
from neonhub.core.models import Organization

CHANNELS = ("sms", "whatsapp", "email")
KNOWN_COLUMNS = {
    "name",
    "email",
    "phone",
    "timezone",
    "tags",
    "consent_source",
    *(f"consent_{c}" for c in CHANNELS),
}
IMPORT_CHUNK = 500
PREVIEW_ROWS = 20
MAX_LISTED_ERRORS = 200
EXPORT_COLUMNS = [
    "id",
    "name",
    "email",
    "phone",
    "timezone",
    "tags",
    "consent_sms",
    "consent_whatsapp",
    "consent_email",
    "created_at",
]
UNSET: Any = object()


# --- cleaning ---------------------------------------------------------------------------------


def clean_email(value: Any) -> str:
    value = str(value or "").strip()
    if not value:
        return ""
    try:
        return normalize_address(channel="email", address=value)
    except InvalidInput:
        raise InvalidInput.for_field("email", "not an email address") from None


def clean_phone(value: Any) -> str:
    value = str(value or "").strip()
    if not value:
        return ""
    try:
        return normalize_address(channel="sms", address=value)
    except InvalidInput as exc:
        # The address check says what is wrong (no country code, no such number range).
        raise InvalidInput.for_field("phone", exc.details[0]["message"]) from None


def clean_timezone(value: Any) -> str:
    value = str(value or "").strip()
    if value and value not in zoneinfo.available_timezones():
        raise InvalidInput.for_field("timezone", f"unknown timezone {value!r}")
    return value


def clean_tags(value: Any) -> list[str]:
    if isinstance(value, str):
        value = [part for part in value.replace(",", ";").split(";")]
    if not isinstance(value, list) or not all(isinstance(tag, str) for tag in value):
        raise InvalidInput.for_field("tags", "a list of strings (or 'a;b' in a CSV)")
    tags = [tag.strip()[:50] for tag in value if tag.strip()]
    return list(dict.fromkeys(tags))[:50]


def consent_entry(status: str, source: str = "", at: Any = None) -> dict:
    if status not in ConsentStatus.values:
        raise InvalidInput.for_field("consent", "status must be granted or revoked")
    when = at if isinstance(at, datetime) else (parse_datetime(str(at)) if at else None)
    if at and when is None:
        raise InvalidInput.for_field("consent", "at must be an ISO 8601 time")
    when = when or timezone.now()
    if timezone.is_naive(when):
        when = timezone.make_aware(when, UTC)
    return {"status": status, "source": str(source or "")[:100], "at": when.isoformat()}


def clean_consent(value: Any) -> dict:
    if not isinstance(value, dict):
        raise InvalidInput.for_field(
            "consent",
            'an object per channel, e.g. {"sms": {"status": "granted", "source": "web form"}}',
        )
    consent = {}
    for channel, entry in value.items():
        if channel not in CHANNELS or not isinstance(entry, dict):
            raise InvalidInput.for_field(
                f"consent.{channel}", "channels are sms, whatsapp and email, each an object"
            )
        consent[channel] = consent_entry(
            str(entry.get("status", "")), entry.get("source", ""), entry.get("at")
        )
    return consent


def clean_attributes(value: Any) -> dict:
    if not isinstance(value, dict) or not all(
        isinstance(v, str | int | float | bool) or v is None for v in value.values()
    ):
        raise InvalidInput.for_field("attributes", "an object of plain values")
    if len(value) > 100:
        raise InvalidInput.for_field("attributes", "at most 100 attributes")
    return {str(k)[:64]: v for k, v in value.items()}


CLEANERS = {
    "email": clean_email,
    "phone": clean_phone,
    "timezone": clean_timezone,
    "tags": clean_tags,
    "consent": clean_consent,
    "attributes": clean_attributes,
    "name": lambda v: str(v or "").strip()[:200],
}


def contact_clean(data: dict) -> dict:
    """Clean the given fields; raises ``InvalidInput`` naming the first bad one."""
    return {field: CLEANERS[field](value) for field, value in data.items() if field in CLEANERS}


# --- contacts -------------------------------------------------------------------------------


def _with_source(consent: Any, entered_by: str) -> Any:
    """Consent entries without a source get "entered by <who>": never an unexplained grant."""
    if not entered_by or not isinstance(consent, dict):
        return consent
    return {
        channel: (
            {**entry, "source": entry.get("source") or f"entered by {entered_by}"}
            if isinstance(entry, dict)
            else entry
        )
        for channel, entry in consent.items()
    }


def _consent_events(contact: Contact, before: dict, after: dict) -> list[ConsentEvent]:
    """The history rows for the channels whose consent changed from ``before`` to ``after``."""
    events = []
    for channel, entry in (after or {}).items():
        if (before or {}).get(channel) == entry:
            continue
        events.append(
            ConsentEvent(
                organization_id=contact.organization_id,
                contact=contact,
                channel=channel,
                status=entry["status"],
                source=entry.get("source", "")[:100],
                at=parse_datetime(entry["at"]) or timezone.now(),
            )
        )
    return events


# Who is told of consent changes (the automation app keeps the shop's customers in step): each
# listener gets the new ConsentEvent ids once the transaction that recorded them commits.
ConsentListener = Callable[[list[str]], None]
_consent_listeners: dict[str, ConsentListener] = {}


def consent_listener_add(key: str, listener: ConsentListener) -> None:
    """Register (or replace, by ``key``) a listener of recorded consent changes."""
    _consent_listeners[key] = listener


def consent_events_record(events: list[ConsentEvent]) -> None:
    """Save consent history rows and tell the listeners after the commit."""
    ConsentEvent.objects.bulk_create(events)
    ids = [str(event.pk) for event in events]
    if ids and _consent_listeners:
        listeners = list(_consent_listeners.values())
        transaction.on_commit(lambda: [listener(ids) for listener in listeners])


# Apps above this one that keep a person's data of their own (the mail app's record of each
# email) erase it with the contact: each listener runs inside the erasure's transaction with the
# contact and its addresses, and answers counts for the audit log.
EraseListener = Callable[[Contact, set[str]], dict[str, int]]
_erase_listeners: dict[str, EraseListener] = {}


def erase_listener_add(key: str, listener: EraseListener) -> None:
    """Register (or replace, by ``key``) a listener that erases its own data of a contact."""
    _erase_listeners[key] = listener


def contact_consent_report(
    *, organization: Organization, channel: str, address: str, status: str, at: str, source: str
) -> Contact | None:
    """Another system's word about a person's consent (a shop's customer record), applied to
    the contact with that address on ``channel``.  Nothing changes when the contact's consent
    already says so (an echo of a change we pushed) or says something newer; answers the
    contact when it changed."""
    if channel not in CHANNELS:
        return None
    field, clean = ("email", clean_email) if channel == "email" else ("phone", clean_phone)
    try:
        value = clean(address)
        entry = consent_entry(status, source, at)
    except InvalidInput:
        return None
    contact = (
        Contact.objects.filter(organization=organization, erased_at__isnull=True, **{field: value})
        .order_by("created_at")
        .first()
    )
    if contact is None or not value:
        return None
    current = (contact.consent or {}).get(channel) or {}
    if current.get("status") == status:
        return None
    current_at = parse_datetime(str(current.get("at") or ""))
    if current_at is not None and current_at > parse_datetime(entry["at"]):
        return None
    return contact_consent_set(
        contact=contact, channel=channel, status=status, source=source, at=entry["at"]
    )


def contact_create(*, organization: Organization, entered_by: str = "", **data: Any) -> Contact:
    """Create a contact.  Consent is recorded only for the channels given, each also in the
    consent history; a channel given without a source gets "entered by <entered_by>"."""
    if "consent" in data:
        data["consent"] = _with_source(data["consent"], entered_by)
    fields = contact_clean(data)
    if not (fields.get("email") or fields.get("phone")):
        raise InvalidInput.for_field("phone", "a contact needs a phone or an email")
    contact = Contact(organization=organization, **fields)
    with transaction.atomic():
        _save(contact)
        consent_events_record(_consent_events(contact, {}, contact.consent))
    return contact


def _save(contact: Contact) -> None:
    try:
        with transaction.atomic():
            contact.save()
    except IntegrityError:
        raise Conflict.for_field(
            "phone",
            "phone or email already used",
            summary="Another contact already has this phone or email",
        ) from None


def _not_erased(contact: Contact) -> None:
    if contact.erased_at:
        raise Conflict("This contact's data was erased; it cannot be changed")


def contact_update(*, contact: Contact, entered_by: str = "", **data: Any) -> Contact:
    """Change the given fields.  ``consent`` here changes only the channels it names (the
    others stay as they were); each change is added to the consent history."""
    _not_erased(contact)
    if "consent" in data:
        data["consent"] = _with_source(data["consent"], entered_by)
    fields = contact_clean(data)
    before = dict(contact.consent or {})
    if "consent" in fields:
        fields["consent"] = {**before, **fields["consent"]}
    for field, value in fields.items():
        setattr(contact, field, value)
    if not (contact.email or contact.phone):
        raise InvalidInput.for_field("phone", "a contact needs a phone or an email")
    with transaction.atomic():
        _save(contact)
        consent_events_record(_consent_events(contact, before, contact.consent))
    return contact


def contact_consent_set(
    *, contact: Contact, channel: str, status: str, source: str = "", at=None, entered_by: str = ""
) -> Contact:
    _not_erased(contact)
    if channel not in CHANNELS:
        raise InvalidInput.for_field("channel", "expected sms, whatsapp or email")
    if not source and entered_by:
        source = f"entered by {entered_by}"
    before = dict(contact.consent or {})
    contact.consent = {**before, channel: consent_entry(status, source, at)}
    with transaction.atomic():
        contact.save(update_fields=["consent", "updated_at"])
        consent_events_record(_consent_events(contact, before, contact.consent))
    return contact


def contact_delete(*, contact: Contact) -> None:
    contact.delete()


# --- privacy: erasure -------------------------------------------------------------------------

ERASED = "[erased]"


def _contact_addresses(contact: Contact) -> list[tuple[str, str]]:
    """(channel, address) pairs the contact can be messaged at."""
    pairs = []
    if contact.phone:
        pairs += [("sms", contact.phone), ("whatsapp", contact.phone)]
    if contact.email:
        pairs.append(("email", contact.email))
    return pairs


def contact_erase(*, contact: Contact, confirm: str, principal=None, request=None) -> dict:
    """Erase a person's data, keeping the record that messages were exchanged.

    ``confirm`` must be the contact's name (or, without a name, its email or phone).  In one
    transaction: the contact's name, email, phone, timezone, tags, attributes and consent are
    cleared and ``erased_at`` set; its consent history and list memberships are deleted; its
    outbox rows keep their provider, action, status, cost and times but their target becomes
    ``[erased]``, their stored provider response is replaced by ``{"erased": true}`` and the
    address is cut out of their error text; its inbound messages keep channel and time with
    address and body ``[erased]``.  Each address is suppressed on its channels, stored only as a
    keyed hash (``connectors.addresses.address_digest``).  The audit log records the erasure
    with counts, never the erased data.
    """
    _not_erased(contact)
    expected = contact.name or contact.email or contact.phone
    if (confirm or "").strip() != expected:
        raise InvalidInput.for_field(
            "confirm",
            "type the contact's name exactly as shown to confirm",
            summary="The confirmation does not match the contact's name",
        )
    organization = contact.organization
    addresses = _contact_addresses(contact)
    plain = {a for _, a in addresses}
    if contact.phone:
        plain.add(f"whatsapp:{contact.phone}")
    with transaction.atomic():
        outbound = selectors.contact_messages_sent(
            organization=organization, contact=contact, limit=None
        )
        for row in outbound:
            error = row.error
            for address in sorted(plain, key=len, reverse=True):
                error = error.replace(address, ERASED)
            row.error = error
            row.target = ERASED
            row.response = {"erased": True}
            row.contact_id = contact.pk
        OutboundMessage.objects.bulk_update(
            outbound, ["error", "target", "response", "contact_id"], batch_size=500
        )
        inbound_ids = [
            m.pk
            for m in selectors.contact_messages_received(
                organization=organization, contact=contact, limit=None
            )
        ]
        inbound = InboundMessage.objects.filter(pk__in=inbound_ids).update(
            address=ERASED, body=ERASED, provider_id="", contact=contact, updated_at=timezone.now()
        )
        consent_events = ConsentEvent.objects.filter(contact=contact).delete()[0]
        lists = ContactListMembership.objects.filter(contact=contact).delete()[0]
        for channel, address in addresses:
            suppression_add_erased(
                organization=organization,
                channel=channel,
                address=address,
                reason="The person's data was erased",
            )
        erased_elsewhere: dict[str, int] = {}
        for listener in list(_erase_listeners.values()):
            erased_elsewhere.update(listener(contact, plain))
        contact.name = contact.email = contact.phone = contact.timezone = ""
        contact.tags, contact.attributes, contact.consent = [], {}, {}
        contact.erased_at = timezone.now()
        contact.save()
        counts = {
            "messages_anonymised": len(outbound),
            "inbound_anonymised": inbound,
            "consent_events_deleted": consent_events,
            "lists_left": lists,
            "channels_suppressed": sorted({c for c, _ in addresses}),
            **erased_elsewhere,
        }
        audit.audit_record(
            action="contact.erase",
            principal=principal,
            organization=organization,
            target=contact,
            target_label="Erased contact",
            changes=counts,
            request=request,
        )
    return counts


# --- lists ----------------------------------------------------------------------------------


def contact_list_create(
    *, organization: Organization, name: str, description: str = ""
) -> ContactList:
    try:
        with transaction.atomic():
            return ContactList.objects.create(
                organization=organization, name=name.strip()[:100], description=description[:300]
            )
    except IntegrityError:
        raise Conflict.for_field(
            "name", "already used", summary=f"A list named {name!r} already exists"
        ) from None


def contact_list_add(*, contact_list: ContactList, contact_ids: list) -> int:
    """Add the organization's contacts with these ids (others are refused); answers how many were new."""
    contacts = list(
        Contact.objects.filter(
            organization_id=contact_list.organization_id, pk__in=contact_ids
        ).values_list("pk", flat=True)
    )
    if len(contacts) != len(set(map(str, contact_ids))):
        raise NotFound("Contact not found")
    before = contact_list.memberships.count()
    ContactListMembership.objects.bulk_create(
        [ContactListMembership(contact_list=contact_list, contact_id=pk) for pk in contacts],
        ignore_conflicts=True,
    )
    return contact_list.memberships.count() - before


def contact_list_remove(*, contact_list: ContactList, contact_ids: list) -> int:
    deleted, _ = ContactListMembership.objects.filter(
        contact_list=contact_list, contact_id__in=contact_ids
    ).delete()
    return deleted


def contact_list_delete(*, contact_list: ContactList) -> None:
    contact_list.delete()


def contact_list_update(
    *, contact_list: ContactList, name: str | None = None, description: str | None = None
) -> ContactList:
    if name is not None:
        name = name.strip()[:100]
        if not name:
            raise InvalidInput.for_field("name", "a list needs a name")
        contact_list.name = name
    if description is not None:
        contact_list.description = description.strip()[:300]
    try:
        with transaction.atomic():
            contact_list.save()
    except IntegrityError:
        raise Conflict.for_field(
            "name", "already used", summary=f"A list named {name!r} already exists"
        ) from None
    return contact_list


def contact_list_add_matching(
    *, contact_list: ContactList, search: str = "", tag: str = "", consent: str = ""
) -> int:
    """Add every contact matching the filter (text search, tag, consent granted on a channel)
    in one ``INSERT … SELECT`` statement; answers how many were added (already members are not
    counted).  Erased contacts never match.  An empty filter is refused: use it on purpose."""
    from django.db import connection
    from django.db.models import F

    from agents.audience.selectors import contact_filter

    if consent and consent not in CHANNELS:
        raise InvalidInput.for_field("consent", "expected sms, whatsapp or email")
    if not (search.strip() or tag.strip() or consent):
        raise InvalidInput.for_field(
            "search", "give a search, a tag or a consent channel", summary="The filter is empty"
        )
    matching = contact_filter(
        organization=contact_list.organization, search=search, tag=tag, consent=consent
    )
    select_sql, select_params = (
        matching.order_by().values(matching_id=F("pk")).query.sql_with_params()
    )
    membership = ContactListMembership._meta
    list_column = membership.get_field("contact_list").column
    contact_column = membership.get_field("contact").column
    list_id = membership.get_field("contact_list").get_db_prep_value(contact_list.pk, connection)
    now = membership.get_field("added_at").get_db_prep_value(
        timezone.now(), connection, prepared=False
    )
    table = connection.ops.quote_name(membership.db_table)
    lc, cc = connection.ops.quote_name(list_column), connection.ops.quote_name(contact_column)
    # Identifiers come from the model's metadata, quoted; every value is a parameter.
    added_at = connection.ops.quote_name("added_at")
    insert = f"INSERT INTO {table} ({lc}, {cc}, {added_at}) "
    select = f"SELECT %s, matching.matching_id, %s FROM ({select_sql}) matching "  # noqa: S608
    member = f"SELECT 1 FROM {table} m WHERE m.{lc} = %s AND m.{cc} = matching.matching_id"  # noqa: S608
    sql = f"{insert}{select}WHERE NOT EXISTS ({member})"
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, [list_id, now, *select_params, list_id])
        return cursor.rowcount


# --- CSV import -----------------------------------------------------------------------------


def contacts_import_store(*, organization: Organization, upload) -> str:
    """Keep an uploaded CSV until it is confirmed; answers the import id."""
    name = store_upload(
        folder=f"imports/{organization.pk}", upload=upload, limit=settings.NEONHUB_MAX_UPLOAD_BYTES
    )
    return name.rsplit("/", 1)[-1].removesuffix(".csv")


def _import_path(organization: Organization, import_id: str) -> str:
    if not (import_id.isalnum() and len(import_id) == 32):
        raise NotFound("Import not found")
    path = f"imports/{organization.pk}/{import_id}.csv"
    if not default_storage.exists(path):
        raise NotFound("Import not found")
    return path


def row_fields(record: dict[str, str]) -> dict:
    """A CSV row as contact fields; unknown columns become attributes."""
    fields: dict[str, Any] = {
        k: record[k] for k in ("name", "email", "phone", "timezone", "tags") if record.get(k)
    }
    consent = {
        c: {
            "status": record[f"consent_{c}"].lower(),
            "source": record.get("consent_source") or "csv import",
        }
        for c in CHANNELS
        if record.get(f"consent_{c}")
    }
    if consent:
        fields["consent"] = consent
    attributes = {k: v for k, v in record.items() if k not in KNOWN_COLUMNS and v != ""}
    if attributes:
        fields["attributes"] = attributes
    return fields


class _Importer:
    """One pass over an import: every row checked, and written only when ``write``."""

    def __init__(
        self, organization: Organization, *, write: bool, contact_list: ContactList | None = None
    ):
        self.organization, self.write, self.contact_list = organization, write, contact_list
        self.errors: list[dict] = []
        self.error_count = self.rows = self.created = self.updated = 0
        self.sample: list[dict] = []
        self.by_phone: dict[str, Contact] = {}
        self.by_email: dict[str, Contact] = {}

    def error(self, row: int, field: str, message: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_LISTED_ERRORS:
            self.errors.append({"row": row, "field": field, "message": message})

    def run(self, path: str) -> None:
        with open_stored(path) as stream:
            columns, offset = csv_header(stream)
            if not {"phone", "email"} & set(columns):
                raise InvalidInput.for_field("file", "the CSV needs a phone or an email column")
            chunk: list[tuple[int, dict]] = []
            try:
                for record, _ in csv_records(stream, columns=columns, offset=offset):
                    self.rows += 1
                    chunk.append((self.rows, record))
                    if len(chunk) >= IMPORT_CHUNK:
                        self.chunk(chunk)
                        chunk = []
            except RecordError as exc:
                self.error(exc.row, exc.field, str(exc))
            self.chunk(chunk)

    def chunk(self, chunk: list[tuple[int, dict]]) -> None:
        cleaned = []
        for row, record in chunk:
            try:
                fields = contact_clean(row_fields(record))
            except InvalidInput as exc:
                detail = (exc.details or [{}])[0]
                self.error(row, detail.get("field", "row"), detail.get("message", exc.message))
                continue
            if not (fields.get("phone") or fields.get("email")):
                self.error(row, "phone", "a contact needs a phone or an email")
                continue
            cleaned.append((row, fields))
        self._load_existing(cleaned)
        self.new: dict = {}
        self.changed: dict = {}
        self.consents: list[tuple[Contact, dict]] = []
        for row, fields in cleaned:
            self.apply(row, fields)
        if self.write:
            self._flush()

    @transaction.atomic
    def _flush(self) -> None:
        Contact.objects.bulk_create(self.new.values())
        changed = [c for pk, c in self.changed.items() if pk not in self.new]
        if changed:
            Contact.objects.bulk_update(
                changed,
                [
                    "name",
                    "email",
                    "phone",
                    "timezone",
                    "tags",
                    "consent",
                    "attributes",
                    "updated_at",
                ],
            )
        consent_events_record(
            [
                event
                for contact, consent in self.consents
                for event in _consent_events(contact, {}, consent)
            ]
        )
        if self.contact_list is not None:
            members = {*self.new, *self.changed}
            ContactListMembership.objects.bulk_create(
                [
                    ContactListMembership(contact_list=self.contact_list, contact_id=pk)
                    for pk in members
                ],
                ignore_conflicts=True,
            )

    def _load_existing(self, cleaned: list[tuple[int, dict]]) -> None:
        phones = {f["phone"] for _, f in cleaned if f.get("phone")} - self.by_phone.keys()
        emails = {f["email"] for _, f in cleaned if f.get("email")} - self.by_email.keys()
        if not (phones or emails):
            return
        found = Contact.objects.filter(
            organization=self.organization, phone__in=phones
        ) | Contact.objects.filter(organization=self.organization, email__in=emails)
        for contact in found:
            self._index(contact)

    def _index(self, contact: Contact) -> None:
        if contact.phone:
            self.by_phone[contact.phone] = contact
        if contact.email:
            self.by_email[contact.email] = contact

    def apply(self, row: int, fields: dict) -> None:
        by_phone = self.by_phone.get(fields.get("phone", ""))
        by_email = self.by_email.get(fields.get("email", ""))
        if by_phone and by_email and by_phone is not by_email:
            self.error(row, "email", "the phone and the email belong to two different contacts")
            return
        existing = by_phone or by_email
        if len(self.sample) < PREVIEW_ROWS:
            self.sample.append({"row": row, "action": "update" if existing else "create", **fields})
        if existing is None:
            self.created += 1
            existing = Contact(organization=self.organization, **fields)
            self.new[existing.pk] = existing
        else:
            self.updated += 1
            _merge(existing, fields)
            existing.updated_at = timezone.now()
            self.changed[existing.pk] = existing
        if fields.get("consent"):
            self.consents.append((existing, fields["consent"]))
        self._index(existing)

    def answer(self) -> dict:
        return {
            "rows": self.rows,
            "valid": self.rows - self.error_count,
            "create": self.created,
            "update": self.updated,
            "error_count": self.error_count,
            "errors": self.errors,
            "sample": self.sample,
        }


def _merge(contact: Contact, fields: dict) -> None:
    for field in ("name", "email", "phone", "timezone"):
        if fields.get(field):
            setattr(contact, field, fields[field])
    if fields.get("tags"):
        contact.tags = list(dict.fromkeys([*(contact.tags or []), *fields["tags"]]))
    if fields.get("consent"):
        contact.consent = {**(contact.consent or {}), **fields["consent"]}
    if fields.get("attributes"):
        contact.attributes = {**(contact.attributes or {}), **fields["attributes"]}


def contacts_import_preview(*, organization: Organization, import_id: str) -> dict:
    """Check every row without writing: counts, the first rows as they would be saved, per-row errors."""
    importer = _Importer(organization, write=False)
    importer.run(_import_path(organization, import_id))
    return {"import_id": import_id, **importer.answer()}


def contacts_import_commit(
    *, organization: Organization, import_id: str, contact_list: ContactList | None = None
) -> dict:
    """Import every row, or nothing: any bad row raises ``InvalidInput`` listing the errors.

    A first pass checks every row without writing; the second writes chunk by chunk, each in
    its own short transaction, so a large file never holds SQLite's one write lock (and with it
    every worker) for the whole import.  Rows are matched by phone and email, so an import cut
    short by a crash can simply be run again.
    """
    path = _import_path(organization, import_id)
    check = _Importer(organization, write=False)
    check.run(path)
    _raise_errors(check)
    importer = _Importer(organization, write=True, contact_list=contact_list)
    importer.run(path)
    _raise_errors(importer, written=True)  # a contact changed by someone else between the passes
    default_storage.delete(path)
    return {"import_id": import_id, **importer.answer()}


def _raise_errors(importer: _Importer, *, written: bool = False) -> None:
    if not importer.error_count:
        return
    outcome = "the other rows were imported" if written else "nothing was imported"
    raise InvalidInput(
        f"{importer.error_count} row(s) have errors; {outcome}",
        details=[
            {"field": f"row {e['row']}.{e['field']}", "message": e["message"]}
            for e in importer.errors
        ],
    )


# --- export ---------------------------------------------------------------------------------


def contacts_export_lines(
    *, organization: Organization, contact_list: ContactList | None = None
) -> Iterator[str]:
    """CSV lines of the organization's contacts (or one list's), read in chunks; cells that a
    spreadsheet would take for a formula (phone numbers too) start with a single quote."""
    line = csv_line_writer()

    contacts = Contact.objects.filter(organization=organization)
    if contact_list is not None:
        contacts = contacts.filter(memberships__contact_list=contact_list)
    attribute_names = _attribute_names(contacts)
    yield line(EXPORT_COLUMNS + attribute_names)
    for c in contacts.order_by("created_at", "id").iterator(chunk_size=2000):
        consent = c.consent or {}
        values = [
            c.pk,
            c.name,
            c.email,
            c.phone,
            c.timezone,
            ";".join(c.tags or []),
            *[(consent.get(ch) or {}).get("status", "") for ch in CHANNELS],
            c.created_at.isoformat(),
        ]
        yield line(values + [(c.attributes or {}).get(name, "") for name in attribute_names])


def _attribute_names(contacts) -> list[str]:
    names: set[str] = set()
    for attributes in (
        contacts.exclude(attributes={})
        .values_list("attributes", flat=True)
        .iterator(chunk_size=2000)
    ):
        names.update(attributes or {})
        if len(names) >= 100:
            break
    return sorted(names)[:100]
