"""Every condition kind, compiled to SQL (run on SQLite and on PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from agents.mail.models import MessageStatus
from agents.segments.rules import rules_clean
from agents.segments.selectors import attribute_names, rules_contacts, tag_names
from neonhub.core.errors import InvalidInput
from tests.agents.segments.conftest import email_event, email_message
from tests.factories import ContactFactory, ContactListFactory, ContactListMembershipFactory

pytestmark = pytest.mark.django_db


def names(org, *conditions, match="all"):
    rules = {"match": match, "conditions": list(conditions)}
    return sorted(c.name for c in rules_contacts(organization=org, rules=rules))


def test_tags_has_and_has_not(org):
    ContactFactory(organization=org, name="ada", tags=["vip", "newsletter"])
    ContactFactory(organization=org, name="bob", tags=["vipish"])
    ContactFactory(organization=org, name="cy", tags=[])
    assert names(org, {"kind": "tag", "op": "has", "value": "vip"}) == ["ada"]
    assert names(org, {"kind": "tag", "op": "has_not", "value": "vip"}) == ["bob", "cy"]


def test_consent_granted_revoked_and_not_given(org):
    ContactFactory(organization=org, name="yes", consent={"email": {"status": "granted"}})
    ContactFactory(organization=org, name="no", consent={"email": {"status": "revoked"}})
    ContactFactory(organization=org, name="sms only", consent={"sms": {"status": "granted"}})
    ContactFactory(organization=org, name="none", consent={})
    consent = {"kind": "consent", "channel": "email"}
    assert names(org, {**consent, "op": "granted"}) == ["yes"]
    assert names(org, {**consent, "op": "revoked"}) == ["no"]
    assert names(org, {**consent, "op": "not_given"}) == ["none", "sms only"]


def test_fields_set_empty_contains_equals(org):
    ContactFactory(organization=org, name="Ada Lovelace", email="ada@example.com", phone="")
    ContactFactory(organization=org, name="Bob", email="", timezone="Europe/Paris")
    field = {"kind": "field"}
    assert names(org, {**field, "field": "email", "op": "is_set"}) == ["Ada Lovelace"]
    assert names(org, {**field, "field": "email", "op": "is_empty"}) == ["Bob"]
    assert names(org, {**field, "field": "name", "op": "contains", "value": "love"}) == [
        "Ada Lovelace"
    ]
    assert names(org, {**field, "field": "timezone", "op": "equals", "value": "europe/paris"}) == [
        "Bob"
    ]
    assert names(org, {**field, "field": "phone", "op": "is_empty"}) == ["Ada Lovelace"]


def test_attributes_text_and_numbers(org):
    ContactFactory(organization=org, name="a", attributes={"plan": "Gold", "orders": 12})
    ContactFactory(organization=org, name="b", attributes={"plan": "silver", "orders": "3"})
    ContactFactory(organization=org, name="c", attributes={"plan": "", "orders": "many"})
    ContactFactory(organization=org, name="d", attributes={})
    attr = {"kind": "attribute"}
    assert names(org, {**attr, "name": "plan", "op": "equals", "value": "gold"}) == ["a"]
    assert names(org, {**attr, "name": "plan", "op": "contains", "value": "ILV"}) == ["b"]
    assert names(org, {**attr, "name": "plan", "op": "is_set"}) == ["a", "b"]
    assert names(org, {**attr, "name": "plan", "op": "is_empty"}) == ["c", "d"]
    assert names(org, {**attr, "name": "orders", "op": "greater_than", "value": 5}) == ["a"]
    assert names(org, {**attr, "name": "orders", "op": "less_than", "value": "5"}) == ["b"]
    assert names(org, {**attr, "name": "orders", "op": "equals", "value": 12}) == ["a"]


def test_attribute_names_with_dots_stay_one_key(org):
    ContactFactory(organization=org, name="a", attributes={"shop.plan": "gold"})
    ContactFactory(organization=org, name="b", attributes={"shop": {"plan": "gold"}})
    cond = {"kind": "attribute", "name": "shop.plan", "op": "equals", "value": "gold"}
    assert names(org, cond) == ["a"]


def test_created_in_the_last_days(org):
    ContactFactory(organization=org, name="new")
    old = ContactFactory(organization=org, name="old")
    type(old).objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=40))
    assert names(org, {"kind": "created", "days": 30}) == ["new"]


def test_list_member_and_not_member(org):
    vip = ContactListFactory(organization=org, name="VIPs")
    ContactListMembershipFactory(contact_list=vip, contact__name="on")
    ContactFactory(organization=org, name="off")
    on = {"kind": "list", "list_id": str(vip.pk)}
    assert names(org, {**on, "op": "member"}) == ["on"]
    assert names(org, {**on, "op": "not_member"}) == ["off"]


@pytest.mark.parametrize("event", ["open", "click", "reply", "bounce", "unsubscribe"])
def test_engagement_in_and_not_in_the_last_days(org, event):
    recent = ContactFactory(organization=org, name="recent")
    email_event(recent, event, days_ago=3)
    old = ContactFactory(organization=org, name="old")
    email_event(old, event, days_ago=45)
    ContactFactory(organization=org, name="never")
    cond = {"kind": "engagement", "event": event, "days": 30}
    assert names(org, {**cond, "op": "in_last"}) == ["recent"]
    assert names(org, {**cond, "op": "not_in_last"}) == ["never", "old"]


def test_engagement_counts_people_not_machines(org):
    proxy = ContactFactory(organization=org, name="apple proxy")
    email_event(proxy, "open", days_ago=1, machine=True)
    scanner = ContactFactory(organization=org, name="scanner")
    email_event(scanner, "click", days_ago=1, machine=True)
    assert names(org, {"kind": "engagement", "event": "open", "op": "in_last", "days": 30}) == []
    assert names(org, {"kind": "engagement", "event": "click", "op": "in_last", "days": 30}) == []


def test_engagement_of_another_organization_does_not_count(org, other_org):
    mine = ContactFactory(organization=org, name="mine", email="a@example.com")
    theirs = ContactFactory(organization=other_org, name="theirs", email="a@example.com")
    email_event(theirs, "open", days_ago=1)
    assert names(org, {"kind": "engagement", "event": "open", "op": "in_last", "days": 30}) == []
    assert mine.name == "mine"


def test_campaign_received_opened_clicked_and_not_received(org, campaign):
    now = timezone.now()
    got = ContactFactory(organization=org, name="got")
    email_message(got, campaign=campaign)
    opened = ContactFactory(organization=org, name="opened")
    email_message(opened, campaign=campaign, first_opened_at=now)
    clicked = ContactFactory(organization=org, name="clicked")
    email_message(clicked, campaign=campaign, first_opened_at=now, first_clicked_at=now)
    bounced = ContactFactory(organization=org, name="bounced")
    email_message(bounced, campaign=campaign, status=MessageStatus.BOUNCED)
    ContactFactory(organization=org, name="other campaign")
    email_message(
        ContactFactory(organization=org, name="pending"),
        campaign=campaign,
        status=MessageStatus.PENDING,
    )
    cond = {"kind": "campaign", "campaign_id": str(campaign.pk)}
    assert names(org, {**cond, "op": "received"}) == ["clicked", "got", "opened"]
    assert names(org, {**cond, "op": "opened"}) == ["clicked", "opened"]
    assert names(org, {**cond, "op": "clicked"}) == ["clicked"]
    assert names(org, {**cond, "op": "not_received"}) == ["bounced", "other campaign", "pending"]


def test_match_all_and_any(org):
    ContactFactory(organization=org, name="both", tags=["vip"], email="b@example.com")
    ContactFactory(organization=org, name="tag only", tags=["vip"])
    ContactFactory(organization=org, name="email only", email="e@example.com")
    ContactFactory(organization=org, name="neither")
    tag = {"kind": "tag", "op": "has", "value": "vip"}
    email = {"kind": "field", "field": "email", "op": "is_set"}
    assert names(org, tag, email) == ["both"]
    assert names(org, tag, email, match="any") == ["both", "email only", "tag only"]


def test_no_conditions_match_everyone_but_the_erased_and_other_organizations(org, other_org):
    ContactFactory(organization=org, name="here")
    ContactFactory(organization=org, name="gone", erased_at=timezone.now(), tags=["vip"])
    ContactFactory(organization=other_org, name="elsewhere", tags=["vip"])
    assert names(org) == ["here"]
    assert names(org, {"kind": "tag", "op": "has_not", "value": "x"}, match="any") == ["here"]


def test_tag_and_attribute_names_for_the_builder(org, other_org):
    ContactFactory(organization=org, tags=["vip", "b2b"], attributes={"plan": "x", "city": "y"})
    ContactFactory(organization=org, tags=["vip"], attributes={"plan": "z"})
    ContactFactory(organization=other_org, tags=["secret"], attributes={"hidden": 1})
    assert tag_names(organization=org) == ["b2b", "vip"]
    assert attribute_names(organization=org) == ["city", "plan"]


# --- checking ---------------------------------------------------------------------------------


def path_of(org, rules) -> str:
    with pytest.raises(InvalidInput) as caught:
        rules_clean(organization=org, rules=rules)
    return caught.value.details[0]["field"]


@pytest.mark.parametrize(
    ("rules", "path"),
    [
        ([], "rules"),
        ({"match": "some"}, "rules.match"),
        ({"conditions": {}}, "rules.conditions"),
        ({"extra": 1}, "rules.extra"),
        ({"conditions": ["x"]}, "rules.conditions.0"),
        ({"conditions": [{"kind": "weather"}]}, "rules.conditions.0.kind"),
        ({"conditions": [{"kind": "tag", "op": "is", "value": "a"}]}, "rules.conditions.0.op"),
        ({"conditions": [{"kind": "tag", "op": "has", "value": " "}]}, "rules.conditions.0.value"),
        (
            {"conditions": [{"kind": "tag", "op": "has", "value": "a", "days": 3}]},
            "rules.conditions.0.days",
        ),
        (
            {"conditions": [{"kind": "consent", "op": "granted", "channel": "fax"}]},
            "rules.conditions.0.channel",
        ),
        (
            {"conditions": [{"kind": "field", "op": "is_set", "field": "password"}]},
            "rules.conditions.0.field",
        ),
        (
            {
                "conditions": [
                    {"kind": "created", "days": 3},
                    {"kind": "created", "days": 7},
                    {"kind": "engagement", "event": "open", "op": "in_last", "days": 0},
                ]
            },
            "rules.conditions.2.days",
        ),
        (
            {"conditions": [{"kind": "engagement", "event": "open", "op": "in_last", "days": "x"}]},
            "rules.conditions.0.days",
        ),
        (
            {"conditions": [{"kind": "engagement", "event": "view", "op": "in_last", "days": 3}]},
            "rules.conditions.0.event",
        ),
        (
            {
                "conditions": [
                    {"kind": "attribute", "name": "n", "op": "greater_than", "value": "ten"}
                ]
            },
            "rules.conditions.0.value",
        ),
        (
            {"conditions": [{"kind": "list", "op": "member", "list_id": "nope"}]},
            "rules.conditions.0.list_id",
        ),
        (
            {"conditions": [{"kind": "campaign", "op": "opened"}]},
            "rules.conditions.0.campaign_id",
        ),
        ({"conditions": [{"kind": "created", "days": 1}] * 31}, "rules.conditions"),
    ],
)
def test_bad_rules_name_their_exact_path(org, rules, path):
    assert path_of(org, rules) == path


def test_another_organizations_list_or_campaign_is_refused(org, other_org):
    from agents.campaigns.models import Campaign

    theirs = ContactListFactory(organization=other_org)
    their_campaign = Campaign.objects.create(organization=other_org, name="Theirs")
    rules = {"conditions": [{"kind": "list", "op": "member", "list_id": str(theirs.pk)}]}
    assert path_of(org, rules) == "rules.conditions.0.list_id"
    rules = {
        "conditions": [
            {"kind": "created", "days": 1},
            {"kind": "campaign", "op": "opened", "campaign_id": str(their_campaign.pk)},
        ]
    }
    assert path_of(org, rules) == "rules.conditions.1.campaign_id"


def test_clean_rules_are_normalised(org):
    rules = rules_clean(
        organization=org,
        rules={
            "conditions": [
                {"kind": "created", "days": "30"},
                {"kind": "tag", "op": "has", "value": " vip "},
            ]
        },
    )
    assert rules == {
        "match": "all",
        "conditions": [
            {"kind": "created", "op": "in_last", "days": 30},
            {"kind": "tag", "op": "has", "value": "vip"},
        ],
    }


def test_a_saved_segment_naming_a_deleted_list_matches_as_documented(org):
    from agents.segments.selectors import segment_contacts
    from agents.segments.services import segment_create

    gone = ContactListFactory(organization=org)
    ContactListMembershipFactory(contact_list=gone, contact__name="was on it")
    ContactFactory(organization=org, name="never on it")
    member = segment_create(
        organization=org,
        name="On it",
        rules={"conditions": [{"kind": "list", "op": "member", "list_id": str(gone.pk)}]},
    )
    not_member = segment_create(
        organization=org,
        name="Not on it",
        rules={"conditions": [{"kind": "list", "op": "not_member", "list_id": str(gone.pk)}]},
    )
    gone.delete()
    assert list(segment_contacts(segment=member)) == []
    assert sorted(c.name for c in segment_contacts(segment=not_member)) == [
        "never on it",
        "was on it",
    ]
