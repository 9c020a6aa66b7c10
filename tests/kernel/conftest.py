"""Fixtures for the kernel's tests: an audit chain made by operator commands."""

from __future__ import annotations

import pytest

from tests.kernel.support import NEW_PASSWORD, entries


@pytest.fixture
def chain(app, runner):
    """Five entries made by operator commands."""
    for args, stdin in [
        (["units", "create", "Sykehuset"], None),
        (["units", "create", "Akutten", "--parent", "Sykehuset"], None),
        (
            [
                "users",
                "create",
                "kari@example.org",
                "--name",
                "Kari Nordmann",
                "--role",
                "employee",
                "--unit",
                "Akutten",
                "--password-stdin",
            ],
            "first passphrase 1\n",
        ),
        (["users", "set-password", "kari@example.org", "--password-stdin"], NEW_PASSWORD + "\n"),
        (["users", "deactivate", "kari@example.org"], None),
    ]:
        result = runner.invoke(args=args, input=stdin)
        assert result.exit_code == 0, result.output
    return entries(app)
