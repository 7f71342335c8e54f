"""Shared fixtures for provider tests: a recorder that keeps what it records in lists."""

from __future__ import annotations

import pytest

from tests.connectors.recorders import ListRecorder


@pytest.fixture
def recorder() -> ListRecorder:
    return ListRecorder()
