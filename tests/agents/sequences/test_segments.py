"""Enrolling a segment's contacts: once, without those lacking an email, and new matches later.

Uses the segments app's selectors (``segment_contacts``), so it runs where that app is present.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from agents.segments.models import Segment
from agents.sequences import services
from agents.sequences.engine import engine_tick
from agents.sequences.models import Enrollment
from tests.agents.sequences.conftest import T0
from tests.factories import ContactFactory

pytest.importorskip("agents.segments.selectors", reason="the segments app's selectors")
pytestmark = pytest.mark.django_db

VIP = {"match": "all", "conditions": [{"kind": "tag", "op": "has", "value": "vip"}]}


@pytest.fixture
def segment(org):
    return Segment.objects.create(organization=org, name="VIPs", rules=VIP)


@pytest.fixture
def sequence(org, segment):
    return services.sequence_create(
        organization=org,
        name="VIP drip",
        segment=segment,
        steps=[{"subject": "Hi", "body": "Hello {{first_name|there}}"}],
    )


def test_a_segment_is_enrolled_once_and_contacts_without_email_are_counted(org, segment, sequence):
    ContactFactory(organization=org, email="a@example.org", tags=["vip"])
    ContactFactory(organization=org, tags=["vip"])  # phone only
    ContactFactory(organization=org, email="other@example.org")
    done = services.segment_enroll(sequence=sequence, segment=segment)
    assert done == {"enrolled": 1, "already_enrolled": 0, "no_email": 1}
    again = services.segment_enroll(sequence=sequence, segment=segment)
    assert again == {"enrolled": 0, "already_enrolled": 1, "no_email": 1}


def test_the_page_shows_the_count_before_enrolling(owner_client, org, segment, sequence):
    ContactFactory(organization=org, email="a@example.org", tags=["vip"])
    ContactFactory(organization=org, email="b@example.org", tags=["vip"])
    url = reverse("sequences:enroll-segment", args=[sequence.pk])
    html = owner_client.get(
        url, {"segment": str(segment.pk)}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "Enroll the 2 contacts of VIPs now" in html
    owner_client.post(url, {"segment": str(segment.pk)})
    assert Enrollment.objects.filter(sequence=sequence).count() == 2


def test_new_matches_are_enrolled_while_active(org, segment, sequence, smtp, run_now):
    services.sequence_update(sequence=sequence, keep_enrolling=True)
    services.sequence_activate(sequence=sequence)
    ContactFactory(organization=org, email="late@example.org", tags=["vip"])
    done = run_now(engine_tick, now=T0)
    assert done["enrolled"] == 1 and done["sent"] == 1


def test_the_api_enrolls_a_segment(api, org, segment, sequence):
    ContactFactory(organization=org, email="a@example.org", tags=["vip"])
    answer = api.post(
        f"/sequences/{sequence.pk}/enrollments/segment", {"segment_id": str(segment.pk)}
    )
    assert answer.json() == {"enrolled": 1, "already_enrolled": 0, "no_email": 0}
