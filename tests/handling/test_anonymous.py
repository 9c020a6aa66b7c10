"""The anonymous reporter's conversation with the case handlers, both ways.

The reporter follows up with the receipt code only (tests/anonymous/conftest.py); the
handler works through the normal case API and pages. What the reporter writes is dated to
the Oslo day, has random ids, and is logged as "reporter"; internal notes never reach them.
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import select

from handling import service
from handling.models import Case, CaseEvent, CaseMessage
from handling.states import CaseState, Side
from reporting.models import Report
from reporting.service import attachment_name, attachment_stream
from tests.anonymous.conftest import follow
from tests.factories import (
    choose_language,
    csrf_token,
    form_login,
    form_token,
    page_token,
    user_obj,
)
from tests.factories import submit_anonymous as submit
from tests.handling.conftest import get_case
from trygg import site_settings
from trygg.audit import AuditEntry
from trygg.extensions import db
from trygg.privacy import RANDOM_ID_MAX, RANDOM_ID_MIN

OSLO = ZoneInfo("Europe/Oslo")
MESSAGES = "/api/v1/anonymous/messages"


def oslo_midnight(moment: datetime) -> bool:
    local = moment.astimezone(OSLO)
    return (local.hour, local.minute, local.second, local.microsecond) == (0, 0, 0, 0)


def random_id(row_id: int) -> bool:
    return RANDOM_ID_MIN <= row_id <= RANDOM_ID_MAX


@dataclass
class Followed:
    """An anonymous reporter's browser with an open follow-up session."""

    client: FlaskClient
    reference: str
    report_id: int
    case_id: int
    receipt: str = ""

    def send(self, method: str, path: str, body: Any = None) -> Any:
        return self.client.open(
            path, method=method, json=body, headers={"X-CSRFToken": csrf_token(self.client)}
        )

    def write(self, body: str, **more: Any) -> Any:
        return self.send("POST", MESSAGES, {"body": body, **more})


@pytest.fixture
def link(app: Flask, make_app: Any, org: Any) -> Flask:
    """The app with the anonymous link on, sharing the organisation's database."""
    built: Flask = make_app(anonymous_enabled=True)
    return built


def start(link: Flask, **changes: Any) -> Followed:
    """Report anonymously (bullying by a leader: the whistleblowing group) and follow up."""
    client = link.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"  # the assertions read English
    choose_language(client, "en")
    body = submit(client, **changes).get_json()
    assert follow(client, body["receipt"]).status_code == 200
    with link.app_context():
        report = db.session.scalar(select(Report).where(Report.reference == body["reference"]))
        assert report is not None
        case = service.case_for_report(report)
        assert case is not None
        return Followed(client, body["reference"], report.id, case.id, body["receipt"])


def test_the_handler_asks_and_the_anonymous_reporter_answers(link, org, api):
    reporter = start(link)
    handler = api(org.whistle_handler)
    theirs = f"/api/v1/cases/{reporter.case_id}/messages"
    assert reporter.client.get(MESSAGES).get_json() == []

    assert handler.post(theirs, {"body": "When did it start?"}).status_code == 201
    note = handler.post(theirs, {"body": "Check who leads that team", "internal": True})
    assert note.status_code == 201

    today = datetime.now(OSLO).date().isoformat()
    seen = reporter.client.get("/api/v1/anonymous/report").get_json()
    assert seen["messages"] == [
        {"author_kind": Side.HANDLER, "body": "When did it start?", "day": today, "identity": False}
    ]
    assert reporter.client.get(MESSAGES).get_json() == seen["messages"]

    answer = reporter.write("  In March, after the reorganisation.  ")
    assert answer.status_code == 201
    assert answer.get_json() == {
        "author_kind": Side.REPORTER,
        "body": "In March, after the reorganisation.",
        "day": today,
        "identity": False,
    }
    assert [m["body"] for m in reporter.client.get(MESSAGES).get_json()] == [
        "When did it start?",
        "In March, after the reorganisation.",
    ]

    back = handler.get(theirs).get_json()
    assert [(m["author_kind"], m["internal"], m["body"]) for m in back] == [
        (Side.HANDLER, False, "When did it start?"),
        (Side.HANDLER, True, "Check who leads that team"),
        (Side.REPORTER, False, "In March, after the reorganisation."),
    ]
    assert back[2]["author_user_id"] is None
    assert back[2]["author_name"] is None
    assert oslo_midnight(datetime.fromisoformat(back[2]["created_at"]))
    summary = handler.get(f"/api/v1/cases/{reporter.case_id}").get_json()
    assert summary["anonymous"] is True
    assert summary["confidential"] is True


def test_internal_notes_never_reach_the_anonymous_reporter(link, org, api):
    reporter = start(link)
    handler = api(org.whistle_handler)
    theirs = f"/api/v1/cases/{reporter.case_id}/messages"
    noted = handler.post(theirs, {"body": "Secret: the leader is on sick leave", "internal": True})
    assert noted.status_code == 201
    assigned = handler.post(
        f"/api/v1/cases/{reporter.case_id}/assignment",
        {"handler_id": org.whistle_handler.id, "reason": "Mine: a second secret"},
    )
    assert assigned.status_code == 200, assigned.get_json()
    assert len(handler.get(theirs).get_json()) == 2  # both are internal notes
    for path in ("/api/v1/anonymous/report", MESSAGES):
        text = reporter.client.get(path).get_data(as_text=True)
        assert "Secret" not in text
        assert "second secret" not in text
    page = reporter.client.get("/varsle/folg-opp").get_data(as_text=True)
    assert "Secret" not in page
    assert "second secret" not in page
    refused = reporter.write("A note of my own", internal=True)
    assert refused.status_code == 400
    assert "internal" in refused.get_json()["errors"]


def test_what_the_anonymous_reporter_writes_keeps_only_the_day(link, org, api):
    reporter = start(link)
    handler = api(org.whistle_handler)
    handler.post(f"/api/v1/cases/{reporter.case_id}/messages", {"body": "Who else saw it?"})
    with link.app_context():
        before = get_case(reporter.case_id).updated_at
    assert reporter.write("Two colleagues.").status_code == 201
    assert reporter.write("And the deputy.").status_code == 201
    with link.app_context():
        rows = db.session.scalars(
            select(CaseMessage).where(
                CaseMessage.case_id == reporter.case_id, CaseMessage.author_kind == Side.REPORTER
            )
        ).all()
        assert len(rows) == 2
        assert all(random_id(m.id) and oslo_midnight(m.created_at) for m in rows)
        assert sorted(m.reporter_seq for m in rows) == [1, 2]
        assert all(m.author_user_id is None for m in rows)
        handler_row = db.session.scalar(
            select(CaseMessage).where(
                CaseMessage.case_id == reporter.case_id, CaseMessage.author_kind == Side.HANDLER
            )
        )
        assert handler_row.id < RANDOM_ID_MIN
        assert handler_row.reporter_seq is None
        events = db.session.scalars(
            select(CaseEvent).where(
                CaseEvent.case_id == reporter.case_id, CaseEvent.actor == "reporter"
            )
        ).all()
        assert {e.kind for e in events} == {"opened", "message"}
        assert all(random_id(e.id) and oslo_midnight(e.at) for e in events)
        entries = db.session.scalars(
            select(AuditEntry).where(
                AuditEntry.object_type == "case",
                AuditEntry.object_id == str(reporter.case_id),
                AuditEntry.actor == "reporter",
            )
        ).all()
        # Left out of the sequential audit chain; the case timeline above has them.
        assert entries == []
        # The last change stays the handler's time, not midnight.
        assert get_case(reporter.case_id).updated_at >= before
        # Ordinary rows after random ones still count on below the random range.
        service.post_message(get_case(reporter.case_id), user_obj(org.whistle_handler), "Thanks")
        db.session.commit()
        newest = db.session.scalar(
            select(CaseMessage.id)
            .where(CaseMessage.author_kind == Side.HANDLER)
            .order_by(CaseMessage.id.desc())
        )
        assert newest == handler_row.id + 1 or db.engine.dialect.name != "sqlite"


def test_an_anonymous_case_and_its_opening_rows_have_random_ids(link, org, submit, api):
    reporter = start(link)
    employee_case = submit(org.employee, unit_id=org.ward.id)
    with link.app_context():
        case = get_case(reporter.case_id)
        assert random_id(case.id)
        assert case.deadlines
        assert all(random_id(d.id) for d in case.deadlines)
        opening = service.events(case)
        assert {e.kind for e in opening} == {"opened", "routed"}
        assert all(random_id(e.id) and oslo_midnight(e.at) for e in opening)
        # Other cases count on below the random range.
        other = get_case(employee_case.id)
        assert other.id < RANDOM_ID_MIN
        assert all(d.id < RANDOM_ID_MIN for d in other.deadlines)
    # A handler's steps keep their time and ordinary ids.
    handler = api(org.whistle_handler)
    step = handler.post(
        f"/api/v1/cases/{reporter.case_id}/transitions", {"to": CaseState.ACKNOWLEDGED}
    )
    assert step.status_code == 200, step.get_json()
    with link.app_context():
        later = [e for e in service.events(get_case(reporter.case_id)) if e.actor != "reporter"]
        timed = [e for e in later if e.kind in {"transition", "deadline_met"}]
        assert timed
        assert all(e.id < RANDOM_ID_MIN and not oslo_midnight(e.at) for e in timed)


def test_the_conversation_is_in_days_with_the_handlers_messages_first(link, org):
    reporter = start(link)
    now = datetime.now(UTC)
    yesterday = now - timedelta(days=1)
    with link.app_context():
        case = get_case(reporter.case_id)
        report = case.report
        hanna = user_obj(org.whistle_handler)
        service.post_message(case, hanna, "Yesterday's question", now=yesterday)
        service.post_anonymous_message(report, "Yesterday's answer", now=yesterday)
        service.post_anonymous_message(report, "Today, first", now=now)
        service.post_message(case, hanna, "Today's question", now=now)
        service.post_anonymous_message(report, "Today, second", now=now)
        db.session.commit()
    seen = reporter.client.get(MESSAGES).get_json()
    assert [m["body"] for m in seen] == [
        "Yesterday's question",
        "Yesterday's answer",
        "Today's question",
        "Today, first",
        "Today, second",
    ]
    assert seen[0]["day"] == yesterday.astimezone(OSLO).date().isoformat()
    assert seen[-1]["day"] == now.astimezone(OSLO).date().isoformat()


def test_timeline_and_access_history_do_not_place_the_reporter_among_handlers(link, org, api):
    reporter = start(link)
    handler = api(org.whistle_handler)
    case_url = f"/api/v1/cases/{reporter.case_id}"
    assert handler.get(case_url).status_code == 200
    assert reporter.client.get(MESSAGES).status_code == 200
    assert reporter.write("Between the handler's readings").status_code == 201
    assert handler.get(case_url).status_code == 200
    assert handler.post(f"{case_url}/messages", {"body": "Later question"}).status_code == 201
    with link.app_context():
        case = get_case(reporter.case_id)
        timeline = [(e.actor, e.kind) for e in service.events(case)]
        assert timeline[0] == ("reporter", "opened")
        assert timeline[-1] == ("reporter", "message")
        assert ("reporter", "message") not in timeline[:-1]
        # Newest first, by time: the reporter's readings (midnight) are the day's oldest.
        # The access history comes from the audit chain, which the reporter stays out of.
        actors = [a.actor for a in service.access_history(case)]
        assert set(actors) == {f"user:{org.whistle_handler.id}"}


def test_the_reporter_may_say_who_they_are_once(link, org, api):
    reporter = start(link)
    told = reporter.write("I am Kari Nordmann, 900 00 000.", identity=True)
    assert told.status_code == 201
    assert told.get_json()["identity"] is True
    assert reporter.write("Again", identity=True).status_code == 400
    assert reporter.write("More details are fine").status_code == 201
    assert reporter.client.get("/api/v1/anonymous/report").get_json()["identity_revealed"]
    handler = api(org.whistle_handler)
    seen = handler.get(f"/api/v1/cases/{reporter.case_id}/messages").get_json()
    assert [(m["identity"], m["body"]) for m in seen] == [
        (True, "I am Kari Nordmann, 900 00 000."),
        (False, "More details are fine"),
    ]
    with link.app_context():
        # Sealed like every message: the name is nowhere in clear.
        rows = db.session.scalars(
            select(CaseMessage).where(CaseMessage.case_id == reporter.case_id)
        ).all()
        assert all(b"Kari" not in m.body_sealed for m in rows)
        report = db.session.get(Report, reporter.report_id)
        assert report.anonymous  # the report stays anonymous


def test_an_export_leaves_out_where_the_anonymous_reporter_said_who_they_are(link, org, api):
    """An anonymous reporter has no case page to agree to be named on: the export leaves
    their "who I am" message out, and the export form says so to the handler."""
    reporter = start(link)
    assert reporter.write("I am Kari Nordmann, 900 00 000.", identity=True).status_code == 201
    assert reporter.write("It happened again today.").status_code == 201
    handler = api(org.whistle_handler)
    assigned = handler.post(
        f"/api/v1/cases/{reporter.case_id}/assignment",
        {"handler_id": org.whistle_handler.id, "reason": "Mine"},
    )
    assert assigned.status_code == 200, assigned.get_json()
    doc = handler.post(
        f"/api/v1/cases/{reporter.case_id}/exports",
        {
            "recipient": "police",
            "reason": "police_report",
            "sections": ["reporter", "messages"],
            "format": "json",
        },
    ).get_json()
    assert "Kari Nordmann" not in str(doc)
    assert "It happened again today." in str(doc)
    page = handler.get(f"/cases/{reporter.case_id}/retention").get_data(as_text=True)
    assert "Melderen er anonym og kan ikke si ja til å bli navngitt her" in page


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"body": ""}, "body"),
        ({"body": "x" * 10_001}, "body"),
        ({}, "body"),
        ({"body": "Hello", "reporter": "me"}, "reporter"),
        ({"body": "Hello", "identity": "maybe"}, "identity"),
    ],
)
def test_messages_are_validated(link, body, field):
    reporter = start(link)
    refused = reporter.send("POST", MESSAGES, body)
    assert refused.status_code == 400
    assert field in refused.get_json()["errors"]


def test_the_conversation_needs_the_receipt(link):
    client = link.test_client()
    assert client.get(MESSAGES).status_code == 401
    token = csrf_token(client)
    assert (
        client.post(MESSAGES, json={"body": "Hi"}, headers={"X-CSRFToken": token}).status_code
        == 401
    )
    reporter = start(link)
    assert reporter.send("DELETE", "/api/v1/anonymous/session").status_code == 200
    assert reporter.client.get(MESSAGES).status_code == 401
    assert reporter.write("Hi").status_code == 401


def test_switching_the_link_off_hides_an_open_conversation(link, org):
    reporter = start(link)
    assert reporter.client.get(MESSAGES).status_code == 200
    with link.app_context():
        site_settings.change("anonymous_enabled", False, actor="test")
        db.session.commit()
    assert reporter.client.get(MESSAGES).status_code == 404
    assert reporter.write("Hello?").status_code == 404
    assert reporter.client.get("/api/v1/anonymous/report").status_code == 404
    assert reporter.client.get("/varsle/folg-opp").status_code == 404
    assert reporter.client.get("/en/whistleblow/follow-up").status_code == 404


def test_the_conversation_leaves_no_cache_and_no_referrer(link):
    reporter = start(link)
    for response in (
        reporter.client.get(MESSAGES),
        reporter.write("Hello"),
        reporter.client.get("/api/v1/anonymous/report"),
        reporter.client.get("/varsle/folg-opp"),
    ):
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["Referrer-Policy"] == "no-referrer"
        for cookie in response.headers.getlist("Set-Cookie"):
            assert "expires" not in cookie.lower()
            assert "max-age" not in cookie.lower()


def test_the_routes_are_in_the_openapi_document(link):
    paths = link.test_client().get("/api/v1/openapi.json").get_json()["paths"]
    assert set(paths[MESSAGES]) == {"get", "post"}
    assert set(paths["/api/v1/anonymous/session"]) == {"post", "delete"}
    assert "get" in paths["/api/v1/anonymous/report"]


# -- the pages --------------------------------------------------------------------------


def post_page(reporter: Followed, data: dict[str, Any], **kwargs: Any) -> Any:
    token = form_token(reporter.client, "/varsle/folg-opp")
    return reporter.client.post("/varsle/folg-opp", data={"csrf_token": token, **data}, **kwargs)


def picture_with_author() -> bytes:
    exif = Image.Exif()
    exif[0x013B] = "Kari Nordmann"  # Artist
    raw = io.BytesIO()
    Image.new("RGB", (8, 8), "blue").save(raw, format="PNG", exif=exif)
    assert b"Kari Nordmann" in raw.getvalue()
    return raw.getvalue()


def test_the_page_shows_the_state_the_question_and_takes_the_answer(link, org, api):
    reporter = start(link)
    page = reporter.client.get("/varsle/folg-opp").get_data(as_text=True)
    assert reporter.reference in page
    assert "A case handler will look at it soon" in page
    assert 'id="h-answer"' not in page  # nothing to answer yet
    assert 'name="action" value="info"' in page
    assert 'name="action" value="identity"' in page

    handler = api(org.whistle_handler)
    handler.post(f"/api/v1/cases/{reporter.case_id}/messages", {"body": "Were you alone?"})
    page = reporter.client.get("/varsle/folg-opp").get_data(as_text=True)
    assert "Were you alone?" in page
    assert 'id="h-answer"' in page
    assert re.search(r"<time datetime=\"\d{4}-\d\d-\d\d\">", page)

    empty = post_page(reporter, {"action": "answer", "body": "  "})
    assert empty.status_code == 400
    assert 'id="error-summary"' in empty.get_data(as_text=True)
    sent = post_page(reporter, {"action": "answer", "body": "No, the whole team was there."})
    assert sent.status_code == 303
    assert sent.headers["Location"] == "/varsle/folg-opp"
    after = reporter.client.get("/varsle/folg-opp").get_data(as_text=True)
    assert "No, the whole team was there." in after
    assert "case-flash" in after
    seen = handler.get(f"/api/v1/cases/{reporter.case_id}/messages").get_json()
    assert seen[-1]["body"] == "No, the whole team was there."


def test_information_and_files_are_added_with_the_links_rules(link, org):
    reporter = start(link)
    sent = post_page(
        reporter,
        {
            "action": "info",
            "body": "A screenshot and my notes.",
            "attachments": [
                (io.BytesIO(picture_with_author()), "Screenshot 2026-11-27 at 14.32 Kari.png"),
                (io.BytesIO(b"Monday: shouted at me again.\n"), "karis-notes.txt"),
            ],
        },
        content_type="multipart/form-data",
    )
    assert sent.status_code == 303, sent.get_data(as_text=True)[:2000]
    files_only = post_page(
        reporter,
        {"action": "info", "attachments": [(io.BytesIO(b"one more"), "x.txt")]},
        content_type="multipart/form-data",
    )
    assert files_only.status_code == 303
    with link.app_context():
        report = db.session.get(Report, reporter.report_id)
        names = [attachment_name(report, a) for a in report.attachments]
        assert sorted(names) == ["1.png", "2.txt", "3.txt"]
        for attachment in report.attachments:
            assert random_id(attachment.id)
            assert oslo_midnight(attachment.created_at)
            assert attachment.added_by == "reporter"
            assert b"Kari" not in b"".join(attachment_stream(report, attachment))
        events = db.session.scalars(
            select(CaseEvent).where(
                CaseEvent.case_id == reporter.case_id, CaseEvent.kind == "attachments_added"
            )
        ).all()
        assert sorted(e.codes["count"] for e in events) == [1, 2]
        assert all(random_id(e.id) and oslo_midnight(e.at) for e in events)
        attach_entries = db.session.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "report.attach",
                AuditEntry.object_id == str(reporter.report_id),
            )
        ).all()
        assert attach_entries == []  # out of the sequential chain; the timeline has them
        bodies = [
            m.body
            for m in service.anonymous_view(report).messages
            if m.author_kind == Side.REPORTER
        ]
        assert bodies == ["A screenshot and my notes."]


@pytest.mark.parametrize(
    ("data", "status", "words"),
    [
        ({"action": "info"}, 400, "Write something, or choose a file"),
        (
            {"action": "info", "attachments": [(io.BytesIO(b"%PDF-1.7\n"), "a.pdf")]},
            415,
            "pictures and plain text files only",
        ),
    ],
)
def test_refused_information_stores_nothing(link, data, status, words):
    reporter = start(link)
    refused = post_page(reporter, data, content_type="multipart/form-data")
    assert refused.status_code == status
    assert words in refused.get_data(as_text=True)
    with link.app_context():
        report = db.session.get(Report, reporter.report_id)
        assert report.attachments == []
        assert service.anonymous_view(report).messages == []


def test_telling_who_you_are_needs_the_tick_and_cannot_be_undone(link, org, api):
    reporter = start(link)
    page = reporter.client.get("/varsle/folg-opp").get_data(as_text=True)
    assert "cannot be undone" in page
    unticked = post_page(reporter, {"action": "identity", "body": "Kari, ward 2"})
    assert unticked.status_code == 400
    html = unticked.get_data(as_text=True)
    assert 'id="f-identity-confirm"' in html
    assert "Kari, ward 2" in html  # kept in the form
    assert '<details class="ds-details case-details" open>' in html
    told = post_page(reporter, {"action": "identity", "body": "Kari, ward 2", "confirm": "on"})
    assert told.status_code == 303
    after = reporter.client.get("/varsle/folg-opp").get_data(as_text=True)
    assert 'name="action" value="identity"' not in after
    assert "You have told the case handlers who you are" in after
    seen = api(org.whistle_handler).get(f"/api/v1/cases/{reporter.case_id}/messages").get_json()
    assert [(m["identity"], m["body"]) for m in seen] == [(True, "Kari, ward 2")]


def test_a_form_sent_after_the_idle_time_asks_for_the_receipt_again(link):
    reporter = start(link)
    token = form_token(reporter.client, "/varsle/folg-opp")
    with reporter.client.session_transaction() as sess:
        sess["anon_seen"] = (datetime.now(UTC) - timedelta(minutes=16)).timestamp()
    late = reporter.client.post(
        "/varsle/folg-opp", data={"csrf_token": token, "action": "answer", "body": "Hello"}
    )
    assert late.status_code == 401
    assert 'name="receipt"' in late.get_data(as_text=True)
    with link.app_context():
        assert not db.session.scalars(
            select(CaseMessage).where(CaseMessage.case_id == reporter.case_id)
        ).all()


def test_a_text_sent_after_the_idle_time_is_kept_until_the_code_opens_its_form(link):
    """It rides in the code page's form (not the session, not the address), through a
    wrong code too, and lands in the form it came from, to be sent by the reporter."""
    reporter = start(link)
    text = "He came back on Friday & said it again."
    token = form_token(reporter.client, "/varsle/folg-opp")
    with reporter.client.session_transaction() as sess:
        sess["anon_seen"] = (datetime.now(UTC) - timedelta(minutes=16)).timestamp()
    late = reporter.client.post(
        "/varsle/folg-opp", data={"csrf_token": token, "action": "info", "body": text}
    )
    assert late.status_code == 401
    html = late.get_data(as_text=True)
    assert 'name="receipt"' in html
    assert re.search(
        r'<textarea[^>]*id="f-kept" name="body"[^>]*>' + re.escape(text.replace("&", "&amp;")), html
    )
    assert 'name="kept" value="info"' in html
    with reporter.client.session_transaction() as sess:
        assert text not in json.dumps(dict(sess), default=str)
    kept = {"csrf_token": token, "kept": "info", "body": text}
    wrong = reporter.client.post(
        "/varsle/folg-opp", data={**kept, "receipt": "AAAA-BBBB-CCCC-DDDD-EEEE"}
    )
    assert wrong.status_code == 401
    assert text.replace("&", "&amp;") in wrong.get_data(as_text=True)
    opened = reporter.client.post("/varsle/folg-opp", data={**kept, "receipt": reporter.receipt})
    assert opened.status_code == 200
    html = opened.get_data(as_text=True)
    assert re.search(
        r'<textarea[^>]*id="f-info-body"[^>]*>' + re.escape(text.replace("&", "&amp;")), html
    )
    assert "case-flash" in html
    with link.app_context():
        assert not db.session.scalars(
            select(CaseMessage).where(CaseMessage.case_id == reporter.case_id)
        ).all()
    token = form_token(reporter.client, "/varsle/folg-opp")
    sent = reporter.client.post(
        "/varsle/folg-opp", data={"csrf_token": token, "action": "info", "body": text}
    )
    assert sent.status_code == 303


def test_a_pasted_nul_in_a_follow_up_form_is_named_and_the_text_kept(link):
    reporter = start(link)
    refused = post_page(reporter, {"action": "info", "body": "More\x00 to say."})
    assert refused.status_code == 400
    html = refused.get_data(as_text=True)
    assert 'id="error-summary"' in html
    assert re.search(r'<textarea[^>]*id="f-info-body"[^>]*>More to say\.<', html)
    with link.app_context():
        report = db.session.get(Report, reporter.report_id)
        assert service.anonymous_view(report).messages == []


def test_the_english_follow_up_page(link):
    reporter = start(link)
    page = reporter.client.get("/en/whistleblow/follow-up")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'lang="en"' in html
    assert "Your anonymous report" in html
    assert 'action="/en/whistleblow/follow-up"' in html
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["Referrer-Policy"] == "no-referrer"


def test_the_handler_sees_the_case_flagged_and_the_reporters_day(link, org, client):
    reporter = start(link)
    assert reporter.write("It happened again today.").status_code == 201
    form_login(client, org.whistle_handler)
    queue = client.get("/cases").get_data(as_text=True)
    row = re.search(rf"{reporter.reference}.*?</tr>", queue, re.S)
    assert row
    assert "Anonym" in row.group(0)
    page = client.get(f"/cases/{reporter.case_id}").get_data(as_text=True)
    assert 'id="anonymous-note"' in page
    assert "It happened again today." in page
    today = datetime.now(OSLO).date().isoformat()
    assert f'<time datetime="{today}">' in page
    assert "får ikke beskjed om dem" in page
    # The handler answers through the normal case page, and the reporter reads it.
    token = page_token(page)
    sent = client.post(
        f"/cases/{reporter.case_id}/messages",
        data={"csrf_token": token, "internal": "false", "body": "Thank you. Who was there?"},
    )
    assert sent.status_code == 303
    assert "Thank you. Who was there?" in reporter.client.get("/varsle/folg-opp").get_data(
        as_text=True
    )


def test_the_anonymous_case_is_the_reporters_only_through_the_receipt(link, org, api):
    reporter = start(link)
    with link.app_context():
        report = db.session.get(Report, reporter.report_id)
        assert report.owner_tag is None
        case = db.session.get(Case, reporter.case_id)
        assert case is not None
    employee = api(org.employee)
    assert employee.get(f"/api/v1/reports/{reporter.report_id}/messages").status_code == 404
