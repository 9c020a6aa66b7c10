"""The canary test: nothing a reporter writes reaches the database, a dump or a log in clear.

Every free-text field, file name and file content carries its own random marker. The
reports are really committed (a scratch database), read back through the pages and the
API, and then the raw SQLite files (or a pg_dump of the PostgreSQL database) and
everything logged at DEBUG by every logger are searched for each marker.
"""

from __future__ import annotations

import io
import logging
import re
import secrets
import subprocess
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.conftest import ENGINE
from tests.factories import Factory, api_login, form_login, page_token
from tests.reporting.support import form_fields, png_bytes, post_report, valid_report
from trygg.extensions import db
from trygg.roles import Role


class Markers:
    def __init__(self) -> None:
        self.all: dict[str, str] = {}

    def __call__(self, where: str) -> str:
        marker = f"CANARY{secrets.token_hex(6).upper()}Q"
        self.all[marker] = where
        return marker

    def forms(self, marker: str) -> list[bytes]:
        """The marker as it would appear in clear: raw, hex (bytea), UTF-16."""
        raw = marker.encode()
        return [raw, raw.hex().encode(), raw.hex().upper().encode(), marker.encode("utf-16-le")]

    def found_in(self, blob: bytes) -> list[str]:
        return [
            f"{self.all[m]} ({m})" for m in self.all if any(form in blob for form in self.forms(m))
        ]


@pytest.fixture
def all_logs_at_debug(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Every logger at DEBUG (SQLAlchemy logs statements, parameters and rows there)."""
    names = [""] + list(logging.root.manager.loggerDict)
    for name in names:
        logger = logging.getLogger(name)
        logger.disabled = False
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


def _report_body(unit_id: int, mark: Markers, confidential: bool) -> dict:
    kind = "confidential" if confidential else "named"
    return valid_report(
        unit_id,
        incident_types=["sexual_harassment", "threat"],
        confidential=confidential,
        counterpart_category="colleague",
        counterpart_identity=f"Colleague {mark(kind + ' counterpart_identity')}",
        injury_description=f"Bruise {mark(kind + ' injury_description')}",
        sick_leave="doctor_certified",
        sick_leave_days=4,
        police_report="employee",  # vocabulary: who reported to the police
        police_details=f"Case {mark(kind + ' police_details')}",
        immediate_measures=["other"],
        immediate_measures_text=f"Moved {mark(kind + ' immediate_measures_text')}",
        narrative=f"He said {mark(kind + ' narrative')} twice. " + "x" * 500,
        causes=["other"],
        causes_text=f"Because {mark(kind + ' causes_text')}",
        witnesses=[{"name": f"Witness {mark(kind + ' witness')}"}],
        exposed=[{"name": f"Exposed {mark(kind + ' exposed')}"}],
    )


def _files(mark: Markers, kind: str) -> list[tuple[bytes, str]]:
    return [
        (f"Notes {mark(kind + ' text file content')}\n".encode(), f"{mark(kind + ' name')}.txt"),
        (png_bytes(text=mark(kind + " png text chunk")), f"{mark(kind + ' png name')}.png"),
        (
            f"%PDF-1.4\n% {mark(kind + ' pdf content')}\n%%EOF\n".encode(),
            f"{mark(kind + ' pdf name')}.pdf",
        ),
    ]


def _dump(database_url: str) -> bytes:
    url = make_url(database_url)
    result = subprocess.run(
        ["pg_dump", "-h", url.host or "127.0.0.1", "-U", url.username or "postgres", url.database],
        capture_output=True,
        check=True,
        timeout=60,
    )
    return result.stdout


def test_no_marker_reaches_the_database_files_dumps_or_logs(
    scratch_app, scratch_database, all_logs_at_debug
):
    mark = Markers()
    make = Factory(scratch_app)
    unit = make.unit("Akuttmottaket")
    make.user(Role.HANDLER, name="Hanne Handler")
    employee = make.user(Role.EMPLOYEE, name="Kari Nordmann", units=(unit,))

    api = scratch_app.test_client()
    api_login(api, employee)
    ids = []
    for confidential in (False, True):
        kind = "api confidential" if confidential else "api named"
        body = _report_body(unit.id, mark, confidential)
        created = post_report(api, body, files=_files(mark, kind))
        assert created.status_code == 201, created.get_json()
        ids.append(created.get_json()["id"])
    json_only = post_report(api, _report_body(unit.id, mark, True))
    assert json_only.status_code == 201
    ids.append(json_only.get_json()["id"])

    pages = scratch_app.test_client()
    form_login(pages, employee)
    token = page_token(pages.get("/report").get_data(as_text=True))
    fields = form_fields(
        unit.id,
        confidential="confidential",
        counterpart_identity=mark("form counterpart_identity"),
        injury_description=mark("form injury_description"),
        police_details=mark("form police_details"),
        immediate_measures_text=mark("form immediate_measures_text"),
        narrative=f"Form {mark('form narrative')}",
        causes_text=mark("form causes_text"),
        witness=[mark("form witness 1"), mark("form witness 2"), ""],
    )
    files = _files(mark, "form")
    fields["attachments"] = [(io.BytesIO(content), name) for content, name in files]
    sent = pages.post(
        "/report", data={**fields, "csrf_token": token}, content_type="multipart/form-data"
    )
    assert sent.status_code == 303, sent.get_data(as_text=True)[:3000]
    ids.append(int(sent.headers["Location"].split("/")[2]))

    # Read everything back, so reading paths are covered too.
    seen = 0
    for report_id in ids:
        detail = api.get(f"/api/v1/reports/{report_id}").get_json()
        page = pages.get(f"/my-reports/{report_id}").get_data(as_text=True)
        assert "CANARY" in detail["narrative"]
        for attachment in detail["attachments"]:
            assert attachment["name"] in page or "CANARY" in attachment["name"]
            download = api.get(
                f"/api/v1/reports/{report_id}/attachments/{attachment['id']}", buffered=True
            )
            assert download.status_code == 200
            seen += 1
        assert re.search(r"CANARY[0-9A-F]{12}Q", page)
    assert seen == 9
    # The markers really were stored and come back (or the test would prove nothing).
    assert any(m in api.get(f"/api/v1/reports/{ids[0]}").get_data(as_text=True) for m in mark.all)

    leaks: dict[str, list[str]] = {}
    if ENGINE == "postgres":
        leaks["pg_dump"] = mark.found_in(_dump(scratch_database))
    else:
        path = Path(make_url(scratch_database).database or "")
        for suffix in ("", "-wal", "-shm", "-journal"):
            part = path.with_name(path.name + suffix)
            if part.exists():
                leaks[part.name] = mark.found_in(part.read_bytes())
        with scratch_app.app_context():
            db.session.remove()
            db.engine.dispose()  # checkpoints the WAL into the main file
        leaks[path.name + " after checkpoint"] = mark.found_in(path.read_bytes())

    records = all_logs_at_debug.records
    assert any(r.name.startswith("sqlalchemy.engine") for r in records), "SQL was not logged"
    log_text = "\n".join(f"{r.name} {r.getMessage()} {r.exc_text or ''}" for r in records).encode()
    leaks["log"] = mark.found_in(log_text)

    assert len(mark.all) > 40
    assert {where: found for where, found in leaks.items() if found} == {}
