from __future__ import annotations

import pytest
from django.urls import reverse

from agents.mailtemplates.models import EmailTemplate
from tests.factories import OrganizationFactory

pytestmark = pytest.mark.django_db


def test_staff_list_and_open_templates(staff_client):
    template = EmailTemplate.objects.create(organization=OrganizationFactory(), name="Hello")
    assert (
        b"Hello"
        in staff_client.get(reverse("admin:mailtemplates_emailtemplate_changelist")).content
    )
    page = staff_client.get(reverse("admin:mailtemplates_emailtemplate_change", args=[template.pk]))
    assert page.status_code == 200
