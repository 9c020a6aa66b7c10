"""Case handlers download the report's attachments; nobody else reaches them this way.

The files are sent through the real intake (multipart API), so they are sealed exactly
as in production; each download is checked byte for byte, for its headers and for the
audit entry it leaves in the case's access history.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from sqlalchemy import select

from handling import service
from reporting.models import Report
from tests.handling.test_pages import Browser
from tests.reporting.support import post_report, valid_report
from trygg.audit import AuditEntry
from trygg.extensions import db

NOTE = "Vakta så alt. Ring 22 22 22 22.\n".encode()


def _submit_with_file(app: Flask, api: Any, org: Any, **fields: Any) -> tuple[int, int, int]:
    """An employee's report with one text file: (case id, report id, attachment id)."""
    employee = api(org.employee)
    body = valid_report(org.ward.id, **fields)
    response = post_report(employee.client, body, files=[(NOTE, "vaktlogg.txt")])
    assert response.status_code == 201, response.get_json()
    report_id = response.get_json()["id"]
    with app.app_context():
        report = db.session.get(Report, report_id)
        assert report is not None
        case = service.case_for_report(report)
        assert case is not None
        return case.id, report_id, report.attachments[0].id


def _downloads(app: Flask, report_id: int) -> list[tuple[str, dict[str, Any]]]:
    with app.app_context():
        rows = db.session.scalars(
            select(AuditEntry).where(
                AuditEntry.object_type == "report",
                AuditEntry.object_id == str(report_id),
                AuditEntry.action == "report.read",
            )
        )
        return [
            (row.actor, row.detail_dict())
            for row in rows
            if row.detail_dict().get("part") == "attachment"
        ]


def _is_download(response: Any) -> None:
    assert response.status_code == 200
    assert response.get_data() == NOTE
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_the_handler_downloads_a_file_from_the_case_page(app, org, api):
    case_id, report_id, attachment_id = _submit_with_file(app, api, org)
    handler = Browser(app, org.handler)

    page = handler.text(f"/cases/{case_id}")
    link = f"/cases/{case_id}/attachments/{attachment_id}"
    assert re.search(rf'<a [^>]*href="{link}"[^>]*download[^>]*>vaktlogg\.txt</a>', page)

    _is_download(handler.get(link))
    assert _downloads(app, report_id) == [
        (f"user:{org.handler.id}", {"part": "attachment", "attachment": attachment_id})
    ]
    # The download shows in the case's access history on the page, in words.
    history = handler.text(f"/cases/{case_id}").split('id="h-access"', 1)[1]
    assert "Opened (case page, attachment), 3 times" in history


def test_the_api_serves_the_file_to_a_handler_of_the_case(app, org, api):
    case_id, report_id, attachment_id = _submit_with_file(app, api, org)
    colleague = api(org.colleague)  # in the case's group, like the handler
    _is_download(colleague.get(f"/api/v1/cases/{case_id}/attachments/{attachment_id}"))
    assert [actor for actor, _detail in _downloads(app, report_id)] == [f"user:{org.colleague.id}"]


def test_others_get_no_file(app, org, api, submit):
    case_id, report_id, attachment_id = _submit_with_file(app, api, org)
    page = f"/cases/{case_id}/attachments/{attachment_id}"
    json = f"/api/v1/cases/{case_id}/attachments/{attachment_id}"

    # Another group's handler: the case does not exist for them.
    other = api(org.whistle_handler)
    assert other.get(json).status_code == 404
    assert other.get(page).status_code == 404
    # Roles without case content: refused by role, before any case is looked up.
    for user in (org.safety_rep, org.manager, org.admin):
        client = api(user)
        assert client.get(json).status_code == 403, user.email
        assert client.get(page).status_code == 403, user.email
    # The reporter downloads from "My reports", not from the case.
    assert api(org.employee).get(json).status_code == 403
    assert _downloads(app, report_id) == []


def test_a_file_of_another_report_or_an_excluded_handler_gets_404(app, org, api, submit):
    case_id, _report_id, attachment_id = _submit_with_file(app, api, org)
    # A case the handler handles, asked for another report's file.
    own = submit(org.employee, unit_id=org.ward.id)
    # A case naming the handler as the counterpart: they are excluded from it.
    excluded_id, _excluded_report, excluded_file = _submit_with_file(
        app, api, org, counterpart_category="colleague", counterpart_user_id=org.handler.id
    )
    with app.app_context():
        assert service.case_for_report(db.session.get(Report, _excluded_report)) is not None

    handler = api(org.handler)
    assert handler.get(f"/api/v1/cases/{own.id}/attachments/{attachment_id}").status_code == 404
    assert handler.get(f"/api/v1/cases/{case_id}/attachments/999999").status_code == 404
    assert (
        handler.get(f"/api/v1/cases/{excluded_id}/attachments/{excluded_file}").status_code == 404
    )
    assert handler.get(f"/cases/{excluded_id}/attachments/{excluded_file}").status_code == 404


def test_a_head_request_reads_nothing_and_is_not_recorded(app, org, api):
    """Flask answers HEAD on GET routes; a download's HEAD would decrypt the file and
    show a download in the access history that never happened."""
    case_id, report_id, attachment_id = _submit_with_file(app, api, org)
    handler = api(org.handler)
    for path in (
        f"/api/v1/cases/{case_id}/attachments/{attachment_id}",
        f"/cases/{case_id}/attachments/{attachment_id}",
    ):
        response = handler.client.head(path)
        assert response.status_code == 405, path
        assert response.headers["Allow"] == "GET"
        assert "Content-Disposition" not in response.headers
    reporter = api(org.employee)
    mine = reporter.client.head(f"/api/v1/reports/{report_id}/attachments/{attachment_id}")
    assert mine.status_code == 405
    assert _downloads(app, report_id) == []
    assert handler.get(f"/api/v1/cases/{case_id}/attachments/{attachment_id}").status_code == 200
