"""Fixtures for notifications: a real SMTP server (aiosmtpd) and the clock.

The SMTP server listens on a free loopback port; `mailbox.stop()` and `mailbox.start()`
take it away and bring it back on the same port (an outage). Received messages are
parsed; count them by Message-ID.
"""

from __future__ import annotations

import email
import email.policy
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from email.message import EmailMessage
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from aiosmtpd.controller import Controller
from flask import Flask

from notifications import scheduler
from tests.handling.conftest import api, org, submit  # noqa: F401 - shared fixtures
from tests.reporting.conftest import scratch_app  # noqa: F401 - shared fixture
from tests.reporting.test_canary import all_logs_at_debug  # noqa: F401 - shared fixture
from trygg.extensions import db

OSLO = ZoneInfo("Europe/Oslo")


@dataclass
class Received:
    rcpt: list[str]
    raw: bytes
    message: EmailMessage


@dataclass
class Mailbox:
    port: int
    messages: list[Received] = field(default_factory=list)
    controller: Controller | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        raw = envelope.original_content or envelope.content
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        self.messages.append(Received(list(envelope.rcpt_tos), raw, parsed))  # type: ignore[arg-type]
        return "250 Message accepted"

    def start(self) -> None:
        self.controller = Controller(
            self, hostname="127.0.0.1", port=self.port, server_hostname="localhost"
        )
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def to(self, address: str) -> list[Received]:
        return [m for m in self.messages if address in m.rcpt]

    def message_ids(self) -> list[str]:
        return [str(m.message["Message-ID"]) for m in self.messages]

    def text(self, received: Received) -> str:
        parts = [
            p.get_content() for p in received.message.walk() if p.get_content_maintype() == "text"
        ]
        return "\n".join(parts)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox(_free_port())
    box.start()
    yield box
    box.stop()


def use_smtp(app: Flask, monkeypatch: pytest.MonkeyPatch, port: int) -> None:
    cfg = app.config["TRYGG"]
    monkeypatch.setitem(cfg, "smtp_host", "127.0.0.1")
    monkeypatch.setitem(cfg, "smtp_port", port)
    monkeypatch.setitem(cfg, "smtp_security", "none")
    monkeypatch.setitem(cfg, "smtp_timeout_seconds", 5)
    monkeypatch.setitem(cfg, "base_url", "https://trygg.example.org")
    monkeypatch.setitem(cfg, "mail_from", "Trygg <trygg@example.org>")


@pytest.fixture
def smtp_app(app: Flask, mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch) -> Flask:
    """The test app sending mail to the test SMTP server."""
    use_smtp(app, monkeypatch, mailbox.port)
    return app


def tomorrow_at_ten_in_oslo(now: datetime) -> datetime:
    """10:00 tomorrow, Oslo time: a working moment, always ahead of the real clock."""
    day = now.astimezone(OSLO).date() + timedelta(days=1)
    return datetime.combine(day, time(10), tzinfo=OSLO).astimezone(UTC)


@pytest.fixture(autouse=True)
def working_hours(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every notifications test runs at 10:00 Oslo time (the clock keeps ticking).

    The tests count the rows and mails an event makes. Run in the last hour before an
    Oslo midnight, a report's same-day leader-contact deadline is reminded at once and
    adds a row: the count would depend on the time of day the suite runs.

    A test marked `real_clock` starts other processes, which read the real clock: a
    deadline it writes an hour from a travelled "now" could lie a day or more ahead of
    them, so it stays on the real clock and counts only what it made itself."""
    if request.node.get_closest_marker("real_clock"):
        yield
        return
    with time_machine.travel(tomorrow_at_ten_in_oslo(datetime.now(UTC)), tick=True):
        yield


@pytest.fixture
def clock() -> Iterator[Any]:
    """time-machine travel, started now; `clock.shift(seconds)` moves it on."""
    with time_machine.travel(datetime.now(UTC), tick=False) as traveller:
        yield traveller


def run_tick(app: Flask, owner: str = "test") -> scheduler.TickResult:
    with app.app_context():
        try:
            return scheduler.tick(owner=owner)
        finally:
            db.session.remove()
