"""A database created before the move into audience and automation migrates forward with its data."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

# The leaf migrations of the layout before the audience app existed.
BEFORE = [
    ("core", "0001_initial"),
    ("connectors", "0003_outbox_purpose"),
    ("runs", "0003_run_created_index"),
    ("agents", "0001_initial"),
    ("triggers", "0001_initial"),
]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def test_contacts_lists_and_batches_survive_the_move():
    old = _migrate(BEFORE)
    org = old.get_model("core", "Organization").objects.create(slug="acme", name="Acme")
    Contact = old.get_model("triggers", "Contact")
    ada = Contact.objects.create(organization=org, name="Ada", phone="+14155550100")
    vip = old.get_model("triggers", "ContactList").objects.create(organization=org, name="VIP")
    old.get_model("triggers", "ContactListMembership").objects.create(contact_list=vip, contact=ada)
    old.get_model("triggers", "InboundMessage").objects.create(
        organization=org, contact=ada, channel="sms", address="+14155550100", body="hi"
    )
    old.get_model("triggers", "Batch").objects.create(
        organization=org,
        name="Spring",
        agent="messaging",
        intent="send-sms",
        source="contact_list",
        contact_list=vip,
    )

    executor = MigrationExecutor(connection)
    new = _migrate(executor.loader.graph.leaf_nodes())

    contact = new.get_model("audience", "Contact").objects.get()
    assert (contact.name, contact.phone) == ("Ada", "+14155550100")
    assert [
        c.name for c in new.get_model("audience", "ContactList").objects.get().contacts.all()
    ] == ["Ada"]
    assert new.get_model("audience", "InboundMessage").objects.get().contact_id == contact.pk
    batch = new.get_model("triggers", "Batch").objects.select_related("contact_list").get()
    assert batch.contact_list.name == "VIP"
