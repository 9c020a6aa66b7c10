"""An anonymous report's time is its day only, on every page and in every answer.

The anonymous link keeps only the day a report was sent and the day it happened. A day
must never come out as a time of day: not "00:00" (midnight in Oslo) and not "01:00"
(a day read as midnight UTC and shown in Oslo time, as the case page once did).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from html import unescape
from zoneinfo import ZoneInfo

from sqlalchemy import select

from handling import service
from handling.models import Case
from reporting.models import Report
from tests.anonymous.conftest import follow
from tests.factories import choose_language, form_login
from tests.factories import submit_anonymous as submit_anonymously
from trygg.extensions import db

OSLO = ZoneInfo("Europe/Oslo")
CLOCK = re.compile(r"\b\d{1,2}[:.]\d{2}\b")


def _row(html: str, label: str) -> str:
    """The <dd> after the <dt> with this label."""
    found = re.search(rf"<dt>{label}</dt>\s*<dd>(.*?)</dd>", html, re.S)
    assert found, label
    return unescape(found.group(1))


def _is_oslo_midnight(value: str) -> bool:
    moment = datetime.fromisoformat(value)
    assert moment.tzinfo is not None, value
    return moment.astimezone(OSLO).time() == time()


def test_anonymous_days_are_never_shown_as_times(app, make_app, org):
    anon_app = make_app(anonymous_enabled=True)
    anon = anon_app.test_client()
    happened = (datetime.now(UTC) - timedelta(days=3)).replace(hour=13, minute=37, microsecond=0)
    body = submit_anonymously(anon, occurred_at=happened.isoformat()).get_json()
    with app.app_context():
        report = db.session.scalar(select(Report).where(Report.reference == body["reference"]))
        case = service.case_for_report(report)
        case_id = case.id
        # As if routing had found no group: the admin's warnings list the case.
        db.session.get(Case, case_id).routing_warning = "no_group"  # type: ignore[union-attr]
        db.session.commit()
    day = happened.astimezone(OSLO).date()

    handler = app.test_client()
    handler.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    form_login(handler, org.whistle_handler)
    choose_language(handler, "en")
    response = handler.get(f"/cases/{case_id}")
    assert response.status_code == 200, response.status_code
    page = response.get_data(as_text=True)
    for label in ("When", "Received", "What happened"):
        shown = _row(page, label)
        assert not CLOCK.search(shown), (label, shown)
    assert str(day.day) in _row(page, "When")

    detail = handler.get(f"/api/v1/cases/{case_id}").get_json()
    assert _is_oslo_midnight(detail["report"]["occurred_at"])
    assert datetime.fromisoformat(detail["report"]["occurred_at"]).astimezone(OSLO).date() == day
    assert _is_oslo_midnight(detail["report"]["created_at"])
    assert _is_oslo_midnight(detail["opened_at"])
    listed = handler.get("/api/v1/cases").get_json()["cases"]
    assert all(_is_oslo_midnight(c["opened_at"]) for c in listed if c["id"] == case_id)

    admin = app.test_client()
    admin.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    form_login(admin, org.admin)
    choose_language(admin, "en")
    groups = unescape(admin.get("/admin/handler-groups").get_data(as_text=True))
    row = re.search(rf"<th scope=\"row\">{body['reference']}</th>(.*?)</tr>", groups, re.S)
    assert row, "the warning lists the case"
    assert not CLOCK.search(row.group(1)), row.group(1)

    assert follow(anon, body["receipt"]).status_code == 200
    followed = unescape(anon.get("/varsle/folg-opp").get_data(as_text=True))
    main = followed.split("<main", 1)[1].split("</main>")[0]
    assert not CLOCK.search(main), CLOCK.findall(main)
