"""Fixtures for the kernel's tests: an audit chain made by operator commands."""

from __future__ import annotations

import re

import pytest

from notifications import delivery
from tests.kernel.support import NEW_PASSWORD, entries
from tests.notifications.conftest import Mailbox, mailbox, use_smtp  # noqa: F401 - fixture
from trygg.roles import Role


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
                Role.EMPLOYEE.value,
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


# -- e-mail: a real SMTP server ----------------------------------------------------------

CODE = re.compile(r"[0-9A-Z]{4}(?:-[0-9A-Z]{4}){3}")


class Inbox:
    """What the test app e-mails, through a real SMTP server (aiosmtpd)."""

    def __init__(self, app, box: Mailbox) -> None:
        self.app = app
        self.box = box

    def deliver(self) -> None:
        with self.app.app_context():
            delivery.deliver_due("test")

    def texts(self, address: str) -> list[str]:
        self.deliver()
        return [self.box.text(m) for m in self.box.to(address)]

    def code(self, address: str) -> str:
        """The newest set-password code e-mailed to `address`."""
        found = [c for text in self.texts(address) for c in CODE.findall(text)]
        assert found, f"no code e-mailed to {address}"
        return found[-1]


@pytest.fixture
def inbox(app, mailbox, monkeypatch) -> Inbox:  # noqa: F811 - the fixture imported above
    use_smtp(app, monkeypatch, mailbox.port)
    return Inbox(app, mailbox)
