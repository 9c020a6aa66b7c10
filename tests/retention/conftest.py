"""Fixtures for retention tests: handling's (org, submit, api) and the anonymous link's."""

from __future__ import annotations

from tests.anonymous.conftest import anon_app, anon_client  # noqa: F401 - fixtures
from tests.handling.conftest import api, org, submit  # noqa: F401 - fixtures
from tests.operations.conftest import pg_tools  # noqa: F401 - fixture
