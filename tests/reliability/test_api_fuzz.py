"""Generated bad and odd input for every API operation never becomes a server error.

Schemathesis reads the OpenAPI document from the Django app itself (WSGI, in process, through
the full middleware stack) and sends examples built from it, authenticated with an API key of
an owner of the organization.  Each answer must be no server error, have a status code the
document lists for its operation, and match that status's documented schema (the contract).  The examples are derandomized (the same on every run); the
short form sends a few per operation (fuzzing phase), the long form many more and adds
schemathesis's coverage phase (boundary and negative cases, about 1,800 requests).
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from neonhub.core.models import Role
from neonhub.core.services import api_key_create
from neonhub.wsgi import application
from tests.reliability.conftest import LONG, size

pytestmark = [pytest.mark.reliability, pytest.mark.timeout(size(120, 1800))]


@pytest.fixture(autouse=True)
def keep_test_connection(db):
    """As Django's test client does: the test's database connection (and its transaction) must
    outlive each request, so a request's start and end do not close it."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.fixture
def owner_key(org):
    return api_key_create(organization=org, name="fuzz", role=Role.OWNER).token


# The document the app serves (one request at collection; no database involved).
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)
# The coverage phase's boundary cases (about 1,800 requests) belong to the long form.
schema.config.phases.coverage.enabled = LONG


@schema.parametrize()
@settings(
    max_examples=size(3, 150),
    derandomize=True,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_generated_requests_get_documented_answers_never_a_server_error(case, owner_key):
    case.call_and_validate(
        headers={"Authorization": f"Bearer {owner_key}"},
        checks=[not_a_server_error, status_code_conformance, response_schema_conformance],
    )
