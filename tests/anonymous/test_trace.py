"""The trace test: an anonymous reporter leaves nothing that identifies them.

A real server (werkzeug, in a thread) on a really committed database; a client on its
own loopback address sends unique User-Agent, Referer and X-Forwarded-For markers while
it reports and follows up through the pages and the JSON API: reads a handler's
question, answers, says who it is, adds information and a picture. Then the raw database
(SQLite files, or a pg_dump of PostgreSQL) and every log record are searched for the
markers, the client's address and the receipt codes.
"""

from __future__ import annotations

import http.client
import io
import json
import logging
import re
import secrets
import shutil
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest
from PIL import Image
from sqlalchemy import select
from sqlalchemy.engine import make_url
from werkzeug.serving import make_server

from handling import service as handling_service
from handling.models import Case, CaseEvent, CaseMessage
from handling.states import Side
from reporting import anonymous
from reporting.codes import ReportStatus
from reporting.models import AnonymousThrottle, Attachment, Report
from tests.conftest import ENGINE
from tests.factories import page_token
from trygg.accounts import service as accounts
from trygg.app import create_app
from trygg.audit import AuditEntry
from trygg.extensions import db
from trygg.privacy import RANDOM_ID_MIN
from trygg.roles import Role

OSLO = ZoneInfo("Europe/Oslo")
CLIENT_IP = "127.0.0.77"  # the client's own loopback address: the "real" IP
FORWARDED_IP = "198.51.100.213"  # what a proxy would say the client is


@dataclass
class Browser:
    """A tiny HTTP client with a cookie jar, sending the markers with every request."""

    port: int
    headers: dict[str, str]
    cookies: dict[str, str] = field(default_factory=dict)
    urls: list[str] = field(default_factory=list)
    response_headers: list[str] = field(default_factory=list)

    def request(
        self, method: str, path: str, body: bytes | None = None, content_type: str | None = None
    ) -> tuple[int, dict[str, str], str]:
        conn = http.client.HTTPConnection(
            "127.0.0.1", self.port, timeout=30, source_address=(CLIENT_IP, 0)
        )
        headers = dict(self.headers)
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if content_type:
            headers["Content-Type"] = content_type
        self.urls.append(path)
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        text = response.read().decode("utf-8")
        for name, value in response.getheaders():
            self.response_headers.append(f"{name}: {value}")
            if name.lower() == "set-cookie":
                cookie_name, _, rest = value.partition("=")
                self.cookies[cookie_name] = rest.split(";", 1)[0]
            if name.lower() == "location":
                self.urls.append(value)
        conn.close()
        return response.status, dict(response.getheaders()), text

    def page_token(self, path: str) -> str:
        status, _, html = self.request("GET", path)
        assert status == 200, html[:300]
        return page_token(html)

    def post_form(self, path: str, data: list[tuple[str, str]]) -> tuple[int, dict, str]:
        return self.request(
            "POST", path, urlencode(data).encode(), "application/x-www-form-urlencoded"
        )

    def api(self, method: str, path: str, payload: Any = None) -> tuple[int, Any]:
        _, _, token_body = self.request("GET", "/api/v1/csrf")
        self.headers["X-CSRFToken"] = json.loads(token_body)["csrf_token"]
        body = None if payload is None else json.dumps(payload).encode()
        status, _, text = self.request(method, path, body, "application/json")
        del self.headers["X-CSRFToken"]
        return status, json.loads(text) if text else None


@pytest.fixture(params=[0, 1], ids=["direct", "behind-proxy"])
def server(request, scratch_database, base_settings) -> Iterator[tuple[Any, int, int]]:
    """The app on a scratch database, served by werkzeug in a thread."""
    hops = request.param
    app = create_app(
        {
            **base_settings,
            "database_url": scratch_database,
            "anonymous_enabled": True,
            "proxy_hops": hops,
            "log_level": "DEBUG",
        }
    )
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield app, httpd.server_port, hops
    finally:
        httpd.shutdown()
        thread.join(timeout=10)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def database_bytes(url: str) -> bytes:
    """Everything the database holds on disk (SQLite) or dumps (PostgreSQL)."""
    parsed = make_url(url)
    if ENGINE == "postgres":
        pg_dump = shutil.which("pg_dump")
        assert pg_dump, "pg_dump is needed for the trace test on PostgreSQL"
        dump = subprocess.run(
            [
                pg_dump,
                "-h",
                parsed.host or "127.0.0.1",
                "-p",
                str(parsed.port or 5432),
                "-U",
                parsed.username or "postgres",
                parsed.database or "",
            ],
            check=True,
            capture_output=True,
        )
        return dump.stdout
    base = Path(parsed.database or "")
    return b"".join(
        p.read_bytes() for p in (base, Path(f"{base}-wal"), Path(f"{base}-shm")) if p.exists()
    )


def variants(text: str) -> set[bytes]:
    """A marker as it may be stored: as is, lower case, UTF-16, or hex (pg_dump bytea)."""
    out: set[bytes] = set()
    for form in {text, text.lower(), text.upper()}:
        raw = form.encode()
        out |= {raw, form.encode("utf-16-le"), raw.hex().encode()}
    return out


def picture() -> bytes:
    raw = io.BytesIO()
    Image.new("RGB", (4, 4), "green").save(raw, format="PNG")
    return raw.getvalue()


def multipart(fields: list[tuple[str, str]], file: tuple[str, str, bytes]) -> tuple[bytes, str]:
    """A multipart/form-data body with text fields and one file, and its content type."""
    boundary = "trace" + secrets.token_hex(8)
    parts = []
    for name, value in fields:
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
            f"{value}\r\n".encode()
        )
    name, filename, data = file
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
        f'filename="{filename}"\r\nContent-Type: image/png\r\n\r\n'.encode()
        + data
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def at_oslo_midnight(moment: datetime) -> bool:
    local = moment.astimezone(OSLO)
    return (local.hour, local.minute, local.second, local.microsecond) == (0, 0, 0, 0)


def test_an_anonymous_reporter_leaves_no_trace(server, scratch_database, caplog):
    caplog.set_level(logging.DEBUG)
    app, port, hops = server
    tag = secrets.token_hex(6)
    user_agent = f"TraceAgent/{tag} (marker)"
    referrer_host = f"intranet-{tag}.example"
    browser = Browser(
        port,
        {
            "User-Agent": user_agent,
            "Referer": f"https://{referrer_host}/links?from=trace{tag}",
            "X-Forwarded-For": FORWARDED_IP,
            "Accept-Language": "nb-NO,nb;q=0.9",
        },
    )
    occurred = (datetime.now(OSLO) - timedelta(days=2)).date().isoformat()

    # 1. Report through the page, and read the receipt code off the receipt page.
    token = browser.page_token("/varsle")
    status, _, html = browser.post_form(
        "/varsle",
        [
            ("csrf_token", token),
            ("form_id", "trace-form"),
            ("incident_types", "bullying"),
            ("occurred_on", occurred),
            ("place_type", "other"),
            ("counterpart_category", "leader"),
            ("severity", "2"),
            ("narrative", "My leader humiliates me in front of the team."),
        ],
    )
    assert status == 200, html[:2000]
    groups = re.findall(r'<span class="app-receipt__group">([0-9A-Z]{4})</span>', html)
    assert len(groups) == 5
    page_receipt = "-".join(groups)
    title = re.search(r"<title>(.*?)</title>", html, re.S)
    assert title
    assert page_receipt not in title.group(1)

    # 2. Report through the JSON API.
    status, body = browser.api(
        "POST",
        "/api/v1/anonymous/reports",
        {
            "incident_types": ["threat"],
            "occurred_at": f"{occurred}T13:45:00+01:00",
            "place_type": "digital",
            "counterpart_category": "colleague",
            "severity": 3,
            "narrative": "A colleague sent me threatening messages.",
        },
    )
    assert status == 201, body
    api_receipt = body["receipt"]
    api_reference = body["reference"]

    # A case handler asks the API reporter a question (through the service: the handler's
    # side is not what this test is about).
    with app.app_context():
        handler = accounts.create_user(
            email="trace-handler@example.org",
            name="Trace Handler",
            roles=[Role.HANDLER],
            units=[],
            password="a long enough password for the trace",
            actor="test",
        )
        db.session.flush()
        report = db.session.scalar(select(Report).where(Report.reference == api_reference))
        case = handling_service.case_for_report(report)
        assert case is not None
        handling_service.post_message(case, handler, "When did it start?")
        db.session.commit()

    # 3. Follow up through the API, then through the pages.
    status, body = browser.api("POST", "/api/v1/anonymous/session", {"receipt": api_receipt})
    assert status == 200, body
    status, _, text = browser.request("GET", "/api/v1/anonymous/report")
    assert status == 200
    assert json.loads(text)["status"] == ReportStatus.SUBMITTED
    status, _, text = browser.request("GET", "/api/v1/anonymous/messages")
    assert status == 200
    assert [m["body"] for m in json.loads(text)] == ["When did it start?"]
    status, body = browser.api("POST", "/api/v1/anonymous/messages", {"body": "In March."})
    assert status == 201, body
    status, body = browser.api(
        "POST", "/api/v1/anonymous/messages", {"body": "I am the night nurse.", "identity": True}
    )
    assert status == 201, body
    assert browser.api("DELETE", "/api/v1/anonymous/session")[0] == 200
    status, body = browser.api("POST", "/api/v1/anonymous/session", {"receipt": "WRONG"})
    assert status == 401

    token = browser.page_token("/varsle/folg-opp")
    status, headers, _ = browser.post_form(
        "/varsle/folg-opp", [("csrf_token", token), ("receipt", page_receipt.lower())]
    )
    assert status == 303
    status, _, html = browser.request("GET", "/varsle/folg-opp")
    assert status == 200
    assert "VAR-" in html
    token = page_token(html)
    # Add information and a picture through the page.
    fields = [("csrf_token", token), ("action", "info"), ("body", "One more thing.")]
    body, content_type = multipart(fields, ("attachments", "IMG_0042.png", picture()))
    status, _, html = browser.request("POST", "/varsle/folg-opp", body, content_type)
    assert status == 303, html[:2000]
    assert (
        browser.post_form("/varsle/folg-opp", [("csrf_token", token), ("action", "end")])[0] == 303
    )
    browser.request("GET", "/static/css/app.css")  # an ordinary, logged request

    receipts = [page_receipt, api_receipt]
    secrets_to_find = {
        "user agent": user_agent,
        "user agent tag": f"TraceAgent/{tag}",
        "referrer": referrer_host,
        "referrer query": f"trace{tag}",
        "client address": CLIENT_IP,
        "forwarded address": FORWARDED_IP,
    }
    for receipt in receipts:
        secrets_to_find[f"receipt {receipt}"] = receipt
        secrets_to_find[f"receipt {receipt} plain"] = anonymous.normalise_receipt(receipt) or ""

    # The receipt code is in no URL and no response header.
    for receipt in receipts:
        for form in {receipt, receipt.replace("-", ""), receipt.lower()}:
            assert not any(form in url for url in browser.urls)
            assert not any(form in header for header in browser.response_headers)

    # No log record mentions any of them (the access log included).
    records = list(caplog.records)
    assert any(r.name == "werkzeug" for r in records), "the access log was not exercised"
    for record in records:
        text = record.getMessage() + (record.exc_text or "")
        for label, secret in secrets_to_find.items():
            assert secret not in text, f"{label} in log record {record.name}: {text!r}"
        if record.name == "werkzeug":
            assert "/varsle" not in text, text
            assert "/api/v1/anonymous" not in text, text

    # The database holds none of them, in any encoding.
    with app.app_context():
        db.session.remove()
        db.engine.dispose()  # SQLite: let the connection close; the WAL is read too
    stored = database_bytes(scratch_database)
    assert len(stored) > 10_000
    for label, secret in secrets_to_find.items():
        for form in variants(secret):
            assert form not in stored, f"{label} found in the database"

    # Anonymous rows are dated to the day; throttle counters to the hour or minute.
    with app.app_context():
        reports = db.session.scalars(select(Report)).all()
        assert len(reports) == 2
        assert all(r.anonymous for r in reports)
        assert all(at_oslo_midnight(r.created_at) for r in reports)
        attachments = db.session.scalars(select(Attachment)).all()
        assert len(attachments) == 1
        assert all(at_oslo_midnight(a.created_at) for a in attachments)
        assert all(a.id >= RANDOM_ID_MIN for a in attachments)
        entries = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "report.submit")
        ).all()
        # Nothing the reporters did is in the sequential audit chain: its order would date
        # it among staff entries. The case timeline keeps it, by day, under random ids.
        assert entries == []
        assert (
            db.session.scalars(select(AuditEntry).where(AuditEntry.actor == "reporter")).all() == []
        )
        # Their messages and timeline events: the day, random ids, no author.
        messages = db.session.scalars(
            select(CaseMessage).where(CaseMessage.author_kind == Side.REPORTER)
        ).all()
        assert len(messages) == 3
        assert sum(m.identity for m in messages) == 1
        for message in messages:
            assert at_oslo_midnight(message.created_at)
            assert message.id >= RANDOM_ID_MIN
            assert message.author_user_id is None
        events = db.session.scalars(select(CaseEvent).where(CaseEvent.actor == "reporter"))
        kinds = set()
        for event in events:
            assert at_oslo_midnight(event.at), (event.kind, event.at)
            assert event.id >= RANDOM_ID_MIN
            kinds.add(event.kind)
        assert kinds == {"opened", "message", "attachments_added"}
        # Their cases and the rows written when the cases opened: random ids too.
        cases = db.session.scalars(select(Case)).all()
        assert len(cases) == 2
        assert all(c.id >= RANDOM_ID_MIN and at_oslo_midnight(c.opened_at) for c in cases)
        assert all(d.id >= RANDOM_ID_MIN for c in cases for d in c.deadlines)
        for row in db.session.scalars(select(AnonymousThrottle)):
            assert row.bucket.second == 0
            assert row.kind != "submit" or row.bucket.minute == 0
        today = datetime.now(UTC).astimezone(OSLO).date()
        assert {r.created_at.astimezone(OSLO).date() for r in reports} == {today}
    assert hops in (0, 1)
