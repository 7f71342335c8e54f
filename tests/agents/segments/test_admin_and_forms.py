"""The staff page of segments and the segment select other apps' forms use."""

from __future__ import annotations

import pytest
from django import forms
from django.urls import reverse

from agents.segments.forms import COUNTS_UP_TO, SegmentChoiceField
from agents.segments.services import segment_create
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


def test_staff_see_a_segment_with_its_count(staff_client, org):
    ContactFactory(organization=org, tags=["vip"])
    segment = segment_create(
        organization=org,
        name="VIPs",
        rules={"conditions": [{"kind": "tag", "op": "has", "value": "vip"}]},
    )
    assert "VIPs" in staff_client.get(reverse("admin:segments_segment_changelist")).content.decode()
    html = staff_client.get(reverse("admin:segments_segment_change", args=[segment.pk])).content
    assert b"Contacts matching now" in html


class PickForm(forms.Form):
    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["segment"] = SegmentChoiceField(organization=organization)


def test_the_segment_field_lists_only_the_organizations_segments_with_counts(org, other_org):
    ContactFactory(organization=org, tags=["vip"])
    mine = segment_create(
        organization=org,
        name="VIPs",
        rules={"conditions": [{"kind": "tag", "op": "has", "value": "vip"}]},
    )
    theirs = segment_create(organization=other_org, name="Theirs", rules={})
    field = PickForm(organization=org).fields["segment"]
    assert field.label == "Segment"
    assert [label for _, label in field.choices] == ["Choose a segment…", "VIPs (1 contact)"]
    assert PickForm({"segment": str(mine.pk)}, organization=org).is_valid()
    assert not PickForm({"segment": str(theirs.pk)}, organization=org).is_valid()


def test_many_segments_are_listed_without_counts(org, django_assert_max_num_queries):
    for i in range(COUNTS_UP_TO + 1):
        segment_create(organization=org, name=f"S{i:02d}", rules={})
    field = PickForm(organization=org).fields["segment"]
    with django_assert_max_num_queries(2):
        labels = [label for _, label in field.choices]
    assert labels[1] == "S00"


class DeclaredForm(forms.Form):
    segment = SegmentChoiceField()

    def __init__(self, *args, organization, **kwargs):
        from agents.segments.selectors import segment_list

        super().__init__(*args, **kwargs)
        self.fields["segment"].queryset = segment_list(organization=organization)


def test_the_segment_field_declared_on_a_form_class(org, other_org):
    mine = segment_create(organization=org, name="Everyone", rules={})
    theirs = segment_create(organization=other_org, name="Theirs", rules={})
    assert DeclaredForm({"segment": str(mine.pk)}, organization=org).is_valid()
    assert not DeclaredForm({"segment": str(theirs.pk)}, organization=org).is_valid()
    assert DeclaredForm({}, organization=org).is_valid()  # optional by default
