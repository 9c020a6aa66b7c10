"""Fixtures for retention tests: the handling fixtures (org, submit, api) and a world."""

from __future__ import annotations

from tests.handling.conftest import api, org, submit  # noqa: F401 - fixtures
