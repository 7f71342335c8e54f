"""Pages: batches with a live progress bar, schedules with the next five times, contacts import, triggers."""

from __future__ import annotations

from django.urls import reverse

from agents.audience.models import Contact
from tests.factories import ContactFactory, ContactListFactory
from tests.helpers import csv_file

# --- contacts -------------------------------------------------------------------------------


def test_import_contacts_with_a_preview_then_confirm(owner_client, org):
    vip = ContactListFactory(organization=org)
    resp = owner_client.post(
        reverse("audience:contact-import"),
        {"file": csv_file("name,phone,plan\nAda,+14155550100,pro\n")},
    )
    assert resp.status_code == 302
    preview = owner_client.get(resp["Location"]).content.decode()
    assert "New contacts" in preview and "plan=pro" in preview and "Import 1 contacts" in preview
    assert not Contact.objects.exists()
    done = owner_client.post(resp["Location"], {"list_id": str(vip.pk)})
    assert done.status_code == 302
    assert Contact.objects.get().lists.get() == vip
    listing = owner_client.get(reverse("audience:contact-list"), {"q": "Ada"}).content.decode()
    assert "+14155550100" in listing
    export = owner_client.get(reverse("audience:contact-export"))
    assert b"+14155550100" in b"".join(export.streaming_content)


def test_an_import_with_bad_rows_lists_them_and_offers_no_import(owner_client):
    resp = owner_client.post(
        reverse("audience:contact-import"), {"file": csv_file("phone\n+14155550100\n123\n")}
    )
    html = owner_client.get(resp["Location"]).content.decode()
    assert "Fix these rows" in html and "Import 2 contacts" not in html
    refused = owner_client.post(resp["Location"])
    assert refused.status_code == 422 and not Contact.objects.exists()


def test_import_page_edge_cases(owner_client, settings):
    assert owner_client.post(reverse("audience:contact-import"), {}).status_code == 302
    settings.NEONHUB_MAX_UPLOAD_BYTES = 5
    resp = owner_client.post(
        reverse("audience:contact-import"), {"file": csv_file("phone\n+14155550100\n")}, follow=True
    )
    assert "larger than" in resp.content.decode()
    settings.NEONHUB_MAX_UPLOAD_BYTES = 10_000
    resp = owner_client.post(reverse("audience:contact-import"), {"file": csv_file("\n")})
    assert "no header row" in owner_client.get(resp["Location"]).content.decode()
    assert (
        owner_client.get(reverse("audience:contact-import-preview", args=["f" * 32])).status_code
        == 404
    )
    assert owner_client.get(reverse("audience:contact-import")).status_code == 405


def test_contact_list_pages_with_a_cursor(owner_client, org):
    ContactFactory.create_batch(55, organization=org)
    html = owner_client.get(reverse("audience:contact-list")).content.decode()
    assert "Older contacts" in html
    assert (
        owner_client.get(reverse("audience:contact-list"), {"cursor": "broken"}).status_code == 200
    )


def test_the_contact_list_survives_a_mangled_cursor(owner_client, org):
    ContactFactory(organization=org, phone="+14155550100")
    resp = owner_client.get(reverse("audience:contact-list"), {"cursor": "%%%not-a-cursor"})
    assert resp.status_code == 200 and "+14155550100" in resp.content.decode()
