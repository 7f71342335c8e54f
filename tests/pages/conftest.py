from __future__ import annotations

import pytest

from neonhub.core.models import Role
from tests.factories import MembershipFactory


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner)
    return client


@pytest.fixture
def viewer(org):
    return MembershipFactory(organization=org, role=Role.VIEWER).user


@pytest.fixture
def viewer_client(client, viewer):
    client.force_login(viewer)
    return client
