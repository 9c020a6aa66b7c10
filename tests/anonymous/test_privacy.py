"""The kernel's no-trace helpers: the log filter and order-free ids."""

from __future__ import annotations

import logging
import sys

import pytest
from sqlalchemy import select

from reporting.codes import Channel
from reporting.models import Report
from reporting.schemas import ReportSchema
from reporting.service import submit_report
from tests.factories import anonymous_report_data as report_payload
from tests.factories import submit_anonymous as submit
from trygg import privacy
from trygg.accounts.models import User
from trygg.extensions import db
from trygg.roles import Role


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '10.1.2.3 - - [26/Nov/2026 16:18:46] "GET /x HTTP/1.1" 200 -',
            '- - - [26/Nov/2026 16:18:46] "GET /x HTTP/1.1" 200 -',
        ),
        ("from 192.0.2.7.", "from -."),
        ("client ::1 and 2001:db8::7 and [2001:db8::8]:443", "client - and - and [-]:443"),
        ("mapped ::ffff:192.0.2.1 ok", "mapped - ok"),
        ("scoped fe80::1%eth0 here", "scoped - here"),
        ("at 12:30:45 on HTTP/1.1, v2.4", "at 12:30:45 on HTTP/1.1, v2.4"),
    ],
)
def test_scrub(text, expected):
    assert privacy.scrub(text) == expected


def _record(msg, args=(), name="werkzeug", exc_info=None):
    return logging.LogRecord(name, logging.INFO, __file__, 1, msg, args, exc_info)


def test_the_filter_removes_addresses_from_messages_and_tracebacks(app):
    log_filter = privacy.ClientAddressFilter()
    record = _record('%s - - [date] "%s" %s', ("203.0.113.9", "GET /static/app.css HTTP/1.1", 200))
    assert log_filter.filter(record)
    assert record.getMessage() == '- - - [date] "GET /static/app.css HTTP/1.1" 200'
    try:
        raise ValueError("connection from 203.0.113.9 refused")
    except ValueError:
        failed = _record("request failed", name="trygg", exc_info=sys.exc_info())
    assert log_filter.filter(failed)
    assert "203.0.113.9" not in failed.exc_text
    assert "refused" in failed.exc_text


def test_access_lines_of_untraced_paths_are_dropped(app):
    log_filter = privacy.ClientAddressFilter()
    for line in (
        "GET /varsle HTTP/1.1",
        "POST /api/v1/anonymous/session HTTP/1.1",
        "GET /en/whistleblow/follow-up?x=1 HTTP/1.1",
    ):
        assert not log_filter.filter(_record('%s - - [date] "%s" %s', ("-", line, 200)))
    assert log_filter.filter(_record('- - [date] "%s" 200', ("GET /varslet HTTP/1.1",)))
    gunicorn = _record(
        "%(h)s %(r)s",
        {"h": "203.0.113.9", "r": "POST /varsle HTTP/1.1", "U": "/varsle"},
        name="gunicorn.access",
    )
    assert not log_filter.filter(gunicorn)
    other = _record(
        "%(h)s %(r)s", {"h": "203.0.113.9", "r": "GET / HTTP/1.1", "U": "/"}, name="gunicorn.access"
    )
    assert log_filter.filter(other)
    assert other.getMessage() == "- GET / HTTP/1.1"


def test_the_filter_is_installed_on_the_app_and_server_loggers(app):
    for logger in (app.logger, *(logging.getLogger(n) for n in privacy.SERVER_LOGGERS)):
        assert sum(isinstance(f, privacy.ClientAddressFilter) for f in logger.filters) == 1


def test_anonymous_reports_have_random_ids_and_employee_reports_stay_ordered(
    anon_app, anon_client, make
):
    unit = make.unit()
    user = make.user(Role.EMPLOYEE, units=(unit,))

    def employee_report():
        data = ReportSchema().load(report_payload(unit_id=unit.id))
        return submit_report(data, reporter=db.session.get(User, user.id))

    with anon_app.test_request_context():
        first = employee_report()
        db.session.commit()
    submit(anon_client)
    with anon_app.test_request_context():
        anon_id = db.session.scalar(
            select(Report.id).where(Report.channel_kind == Channel.ANONYMOUS)
        )
        assert privacy.RANDOM_ID_MIN <= anon_id <= privacy.RANDOM_ID_MAX
        second = employee_report()
        db.session.commit()
        # Not "the anonymous id plus one", which would date the anonymous report.
        assert first.id < second.id < privacy.RANDOM_ID_MIN


def test_access_lines_keep_the_path_but_not_the_query(app):
    """A queue searched by a person's name must not leave the name in the server's log."""
    log_filter = privacy.ClientAddressFilter()
    werkzeug = _record(
        '%s - - [date] "%s" %s',
        ("203.0.113.9", "GET /cases?q=Ella+Employee&state=all HTTP/1.1", 200),
    )
    assert log_filter.filter(werkzeug)
    assert werkzeug.getMessage() == '- - - [date] "GET /cases? HTTP/1.1" 200'
    # A redirect's or an error's line, coloured by werkzeug on a terminal, too.
    coloured = _record(
        '%s - - [date] "%s" %s',
        ("203.0.113.9", "\x1b[33mGET /cases?q=Kari+Nordmann&state=bogus HTTP/1.1", "400\x1b[0m"),
    )
    assert log_filter.filter(coloured)
    assert "Kari" not in coloured.getMessage()
    assert "GET /cases? HTTP/1.1" in coloured.getMessage()
    gunicorn = _record(
        '%(h)s "%(r)s" %(s)s',
        {
            "h": "203.0.113.9",
            "r": "GET /api/v1/cases?q=Kari HTTP/1.1",
            "U": "/api/v1/cases",
            "s": 200,
        },
        name="gunicorn.access",
    )
    assert log_filter.filter(gunicorn)
    assert gunicorn.getMessage() == '- "GET /api/v1/cases? HTTP/1.1" 200'
    # A request line with the whole address in it.
    absolute = _record(
        '%s - - [date] "%s" %s', ("-", "GET http://localhost:5000/cases?q=Kari HTTP/1.1", 200)
    )
    assert log_filter.filter(absolute)
    assert absolute.getMessage() == '- - - [date] "GET http://localhost:5000/cases? HTTP/1.1" 200'
    # Not an access line: a message that happens to hold a "?" is left as it is.
    other = _record("Is this a question? GET it", name="trygg")
    assert log_filter.filter(other)
    assert other.getMessage() == "Is this a question? GET it"


@pytest.mark.parametrize(
    "request_line",
    [
        "GET /cases?q=Ola Nordmann HTTP/1.1",  # raw spaces: "Bad request syntax"
        "GET /cases?q=Ola Nordmann",  # taken for a version: "Bad request version"
        "GET /cases?q=Ola Kari Nordmann",  # four words and no version
        "GET /cases?q=Ola O'Nordmann HTTP/1.1",  # an apostrophe: repr quotes it with "
        "GET /cases?q=Ola') Nordmann",  # a quote and parenthesis in the unparsed line
    ],
)
def test_a_request_line_the_server_cannot_parse_leaves_no_query_in_its_log(
    app, caplog, request_line
):
    """A client that sends a name unencoded in a query gets a 400 from the development
    server, whose error line and access line quote the request line: a real werkzeug
    server on a free port, a raw socket, and every line it logged checked."""
    import socket
    import threading

    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=False)
    thread = threading.Thread(target=server.handle_request, daemon=True)
    with caplog.at_level(logging.INFO, logger="werkzeug"):
        thread.start()
        with socket.create_connection(("127.0.0.1", server.server_port), timeout=10) as conn:
            conn.sendall(request_line.encode() + b"\r\n\r\n")
            answer = conn.recv(4096)
        thread.join(timeout=10)
    server.server_close()
    assert b"400" in answer, answer[:200]
    logged = [r.getMessage() for r in caplog.records if r.name == "werkzeug"]
    assert any("Bad request" in line for line in logged), logged
    assert not any("Nordmann" in line or "Ola" in line for line in logged), logged
    assert any("GET /cases?" in line for line in logged), logged


def test_a_raw_double_quote_in_a_query_leaves_no_name_in_the_access_line(app, caplog):
    """A request line werkzeug accepts (three words) whose query holds a raw double quote:
    its access line quotes the request line, and the name after the quote must go too."""
    import socket
    import threading

    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=False)
    thread = threading.Thread(target=server.handle_request, daemon=True)
    with caplog.at_level(logging.INFO, logger="werkzeug"):
        thread.start()
        with socket.create_connection(("127.0.0.1", server.server_port), timeout=10) as conn:
            conn.sendall(b'GET /cases?q=Ola"Nordmann HTTP/1.1\r\nHost: x\r\n\r\n')
            conn.recv(4096)
        thread.join(timeout=10)
    server.server_close()
    logged = [r.getMessage() for r in caplog.records if r.name == "werkzeug"]
    assert any("GET /cases?" in line for line in logged), logged
    assert not any("Nordmann" in line or "Ola" in line for line in logged), logged
