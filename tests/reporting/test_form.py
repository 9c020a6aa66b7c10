"""The report form, the receipt and "My reports", as a person uses them."""

from __future__ import annotations

import html
import io
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import select

from reporting import service
from reporting.models import Report
from tests.concurrency import committed_app, in_parallel
from tests.factories import Factory, choose_language, form_login, page_token
from tests.reporting.support import form_fields
from trygg import audit
from trygg.extensions import db
from trygg.roles import Role


def _submit(client: FlaskClient, fields: dict[str, Any], files=None, lang=None) -> Any:
    page = client.get("/report")
    assert page.status_code == 200
    data = {**fields, "csrf_token": page_token(page.get_data(as_text=True))}
    if files:
        data["attachments"] = [(io.BytesIO(content), name) for content, name in files]
    return client.post("/report", data=data, content_type="multipart/form-data")


def _text(response: Any) -> str:
    return html.unescape(response.get_data(as_text=True))


@pytest.fixture
def employee(client, make):
    unit = make.unit("Akuttmottaket")
    user = make.user(Role.EMPLOYEE, name="Kari Nordmann", units=(unit,))
    form_login(client, user)
    return user, unit


def test_employee_reports_by_name_with_an_attachment(app, client, employee):
    user, unit = employee
    fields = form_fields(unit.id, witness=["Per Hansen", "", ""])
    response = _submit(client, fields, files=[(b"photo notes\n", "notater.txt")])
    assert response.status_code == 303, _text(response)[:2000]
    receipt_url = response.headers["Location"]
    assert re.fullmatch(r"/report/\d+/receipt", receipt_url)

    receipt = client.get(receipt_url)
    assert receipt.status_code == 200
    reference = re.search(r'id="reference">([^<]+)<', receipt.get_data(as_text=True)).group(1)
    assert reference.startswith(f"AVV-{datetime.now(UTC).year}-")

    listing = _text(client.get("/my-reports"))
    assert reference in listing
    assert "Threat" in listing or "Trussel" in listing

    report_id = int(receipt_url.split("/")[2])
    detail = client.get(f"/my-reports/{report_id}")
    assert detail.status_code == 200
    page = _text(detail)
    assert fields["narrative"] in page
    assert "Per Hansen" in page
    assert "notater.txt" in page
    link = re.search(r'href="(/my-reports/\d+/attachments/\d+)"', page).group(1)
    download = client.get(link)
    assert download.status_code == 200
    assert download.data == b"photo notes\n"
    assert download.headers["Content-Type"] == "application/octet-stream"
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert download.headers["X-Content-Type-Options"] == "nosniff"

    with app.app_context():
        report = db.session.get(Report, report_id)
        assert not report.confidential
        assert report.time_band == "day"
        assert report.has_sick_leave
        actors = {e.actor for e in audit.for_object("report", report_id)}
        assert actors == {f"user:{user.id}"}
        content = service.open_report(report, actor="test")
        assert content.fields["sick_leave_days"] == 2
        assert content.fields["exposed"] == [{"user_id": user.id, "name": "Kari Nordmann"}]


def test_employee_reports_confidentially(app, client, employee):
    _user, unit = employee
    response = _submit(client, form_fields(unit.id, confidential="confidential"))
    assert response.status_code == 303
    receipt = _text(client.get(response.headers["Location"]))
    assert "confidential" in receipt.lower() or "fortrolig" in receipt.lower()
    report_id = int(response.headers["Location"].split("/")[2])
    client.get(f"/my-reports/{report_id}")
    with app.app_context():
        assert db.session.get(Report, report_id).confidential
        assert {e.actor for e in audit.for_object("report", report_id)} == {"reporter"}


def test_the_time_is_read_as_oslo_time(app, client, employee):
    _user, unit = employee
    today = date.today()
    summer = date(today.year if today > date(today.year, 7, 1) else today.year - 1, 7, 1)
    response = _submit(
        client, form_fields(unit.id, occurred_date=summer.isoformat(), occurred_time="23:30")
    )
    assert response.status_code == 303
    report_id = int(response.headers["Location"].split("/")[2])
    with app.app_context():
        report = db.session.get(Report, report_id)
        occurred = service.open_report(report, actor="test").fields["occurred_at"]
        assert occurred.utcoffset() == timedelta(hours=2)
        assert occurred.astimezone(UTC).hour == 21
        assert report.time_band == "night"
        assert report.occurred_month == summer.replace(day=1)


def test_errors_are_shown_next_to_fields_and_typed_text_is_kept(app, client, employee):
    _user, unit = employee
    fields = form_fields(
        unit.id,
        severity="",
        incident_types=[],
        narrative='He said "I know where you live" <b>twice</b>',
        witness=["Ola Vitne", "", ""],
    )
    response = _submit(client, fields, files=[(b"text", "a.txt")])
    assert response.status_code == 400
    raw = response.get_data(as_text=True)
    page = html.unescape(raw)
    # The summary at the top links to each field with a problem.
    summary = raw[raw.index('id="error-summary"') : raw.index("</ul>", raw.index("error-summary"))]
    assert 'href="#f-incident_types"' in summary
    assert 'href="#f-severity"' in summary
    assert 'href="#f-attachments"' in summary
    # Messages sit next to their fields and are linked with aria-describedby.
    assert re.search(r'<fieldset[^>]*id="f-severity"[^>]*aria-describedby="e-severity"', raw)
    assert 'id="e-severity"' in raw
    assert re.search(r'id="f-attachments"[^>]*aria-describedby="h-attachments e-attachments"', raw)
    # What was typed is still there; markup typed by the user stays text.
    assert "&lt;b&gt;twice&lt;/b&gt;" in raw
    assert fields["narrative"] in page
    assert 'value="Ola Vitne"' in raw
    assert re.search(r'value="patient_room" selected', raw)
    assert re.search(r'name="lone_work" value="yes" checked', raw)
    with app.app_context():
        assert db.session.query(Report).count() == 0


def test_line_breaks_count_as_the_browser_counts_them(app, client, employee):
    _user, unit = employee
    # The textarea's maxlength counts a line break as one character, but the browser
    # sends it as CR LF: a description that fit in the form must not be refused.
    typed = ("x" * 1999 + "\n") * 10
    assert len(typed) == 20_000
    response = _submit(client, form_fields(unit.id, narrative=typed.replace("\n", "\r\n")))
    assert response.status_code == 303, _text(response)[:2000]
    with app.app_context():
        report = db.session.scalars(db.select(Report)).one()
        assert service.open_report(report, actor="test").fields["narrative"] == typed


def test_all_problems_are_named_in_one_go(client, employee):
    # Days of sick leave without a kind of sick leave is checked across fields; it must
    # not wait until the other fields are right, or the person fixes one error, sends
    # again and only then hears of the next.
    _user, unit = employee
    fields = form_fields(unit.id, severity="", sick_leave="none", sick_leave_days="2")
    response = _submit(client, fields)
    assert response.status_code == 400
    raw = response.get_data(as_text=True)
    summary = raw[raw.index('id="error-summary"') : raw.index("</ul>", raw.index("error-summary"))]
    assert summary.index('href="#f-severity"') < summary.index('href="#f-sick_leave_days"')


def test_a_future_time_is_refused_on_the_date_or_time_field(client, employee):
    _user, unit = employee
    tomorrow = (date.today() + timedelta(days=2)).isoformat()
    response = _submit(client, form_fields(unit.id, occurred_date=tomorrow))
    assert response.status_code == 400
    assert 'id="e-occurred_date"' in response.get_data(as_text=True)
    missing_time = _submit(client, form_fields(unit.id, occurred_time=""))
    assert missing_time.status_code == 400
    assert 'id="e-occurred_time"' in missing_time.get_data(as_text=True)
    bad_date = _submit(client, form_fields(unit.id, occurred_date="31.02.2026"))
    assert bad_date.status_code == 400
    assert 'id="e-occurred_date"' in bad_date.get_data(as_text=True)


def _field_error(response: Any, field: str) -> str | None:
    found = re.search(rf'id="e-{field}">([^<]*)<', response.get_data(as_text=True))
    return found.group(1) if found else None


def test_each_date_or_time_problem_is_named_on_its_own_field_in_one_round(client, employee):
    _user, unit = employee
    required = "Du må fylle ut dette feltet."
    # A date more than ten years back is about the date, although the time is given.
    old = _submit(client, form_fields(unit.id, occurred_date="1900-01-01", occurred_time="14:30"))
    assert old.status_code == 400
    assert _field_error(old, "occurred_date")
    assert _field_error(old, "occurred_time") is None
    # A future date and no time: both, and the date is not called missing.
    later = (date.today() + timedelta(days=400)).isoformat()
    future = _submit(client, form_fields(unit.id, occurred_date=later, occurred_time=""))
    assert future.status_code == 400
    assert _field_error(future, "occurred_date") not in (None, required)
    assert _field_error(future, "occurred_time") == required
    # Neither: both are required.
    neither = _submit(client, form_fields(unit.id, occurred_date="", occurred_time=""))
    assert neither.status_code == 400
    assert _field_error(neither, "occurred_date") == required
    assert _field_error(neither, "occurred_time") == required
    # Today, an hour that has not come yet (when there is one): the time's.
    now = datetime.now(service.OSLO)
    if now.hour < 22:
        today = _submit(
            client,
            form_fields(unit.id, occurred_date=now.date().isoformat(), occurred_time="23:59"),
        )
        assert _field_error(today, "occurred_time")
        assert _field_error(today, "occurred_date") is None


def test_a_choice_left_out_asks_to_choose_and_a_text_to_fill_in(client, employee):
    """ "Du må fylle ut dette feltet" on a list or a group of buttons: there is nothing to
    fill in there."""
    _user, unit = employee
    response = _submit(client, form_fields(unit.id, severity="", narrative=""))
    assert response.status_code == 400
    assert _field_error(response, "severity") == "Velg ett av alternativene."
    assert _field_error(response, "narrative") == "Du må fylle ut dette feltet."


@pytest.mark.parametrize(
    ("left_out", "field"), [("occurred_time", "occurred_time"), ("occurred_date", "occurred_date")]
)
def test_a_date_or_time_left_out_is_called_missing_not_invalid(client, employee, left_out, field):
    _user, unit = employee
    response = _submit(client, form_fields(unit.id, **{left_out: ""}))
    assert response.status_code == 400
    message = re.search(rf'id="e-{field}">([^<]*)<', response.get_data(as_text=True))
    assert message, f"no error on {field}"
    # "You must fill in this field", not "Enter a valid date and time".
    assert message.group(1) == "Du må fylle ut dette feltet."


def test_a_pasted_nul_is_named_by_its_field_and_the_form_kept(app, client, employee):
    """NUL (pasted from another program) was the request-wide 400 page: the whole form
    lost. It is taken out and named by its field; sent again, the report is stored."""
    _user, unit = employee
    narrative = "He shouted at me\x00 in the corridor, twice."
    fields = form_fields(unit.id, narrative=narrative, witness=["Ola\x00 Vitne", "", ""])
    response = _submit(client, fields)
    assert response.status_code == 400
    raw = response.get_data(as_text=True)
    assert "\x00" not in raw
    assert 'id="e-narrative"' in raw
    assert 'id="e-witnesses"' in raw
    assert 'id="e-severity"' not in raw  # only what is wrong
    page = html.unescape(raw)
    assert narrative.replace("\x00", "") in page
    assert 'value="Ola Vitne"' in raw
    with app.app_context():
        assert db.session.query(Report).count() == 0
    again = _submit(
        client, form_fields(unit.id, narrative=narrative.replace("\x00", ""), witness=["Ola Vitne"])
    )
    assert again.status_code == 303


def test_an_attachment_of_a_forbidden_type_is_named(client, employee):
    _user, unit = employee
    response = _submit(client, form_fields(unit.id), files=[(b"MZ\x90\x00\x03", "photo.jpg")])
    assert response.status_code == 400
    page = _text(response)
    assert "photo.jpg" in page
    assert 'id="e-attachments"' in page


def test_a_forbidden_file_is_named_with_the_forms_other_errors(client, employee):
    # Told only "choose your files again" beside the missing answer, the reporter chose
    # the same file again, and learnt in the next round that it was never allowed.
    _user, unit = employee
    response = _submit(
        client, form_fields(unit.id, severity=""), files=[(b"MZ\x90\x00\x03", "virus.exe")]
    )
    assert response.status_code == 400
    summary = _text(response).split('id="error-summary"', 1)[1].split("</ul>", 1)[0]
    assert 'href="#f-severity"' in summary
    assert "virus.exe" in summary
    # An allowed file beside a missing answer is only asked for again.
    allowed = _submit(
        client, form_fields(unit.id, severity=""), files=[(b"Notat fra vakt", "notat.txt")]
    )
    summary = _text(allowed).split('id="error-summary"', 1)[1].split("</ul>", 1)[0]
    assert "notat.txt" not in summary
    assert 'href="#f-attachments"' in summary


def test_the_form_defaults_to_the_users_unit_and_today(client, employee):
    _user, unit = employee
    raw = client.get("/report").get_data(as_text=True)
    assert f'<option value="{unit.id}" selected>' in raw
    assert 'name="occurred_date" type="date" value="' in raw
    assert 'enctype="multipart/form-data"' in raw
    assert 'type="file"' in raw
    assert "multiple" in raw
    assert 'maxlength="20000"' in raw


def test_the_form_is_in_norwegian_or_english(client, employee):
    token = page_token(client.get("/report").get_data(as_text=True))
    client.post("/language", data={"lang": "en", "csrf_token": token})
    english = client.get("/report")
    assert '<html lang="en"' in english.get_data(as_text=True)
    assert "Report an incident" in english.get_data(as_text=True)
    client.post("/language", data={"lang": "nb", "csrf_token": token})
    assert '<html lang="nb"' in client.get("/report").get_data(as_text=True)


def _not_sent(response: Any) -> str:
    """The "not sent" page: 413, says so, leads Back, and is not an empty form (which
    looked as if what was typed were gone)."""
    assert response.status_code == 413
    page = _text(response)
    assert 'id="not-sent"' in page
    assert 'name="narrative"' not in page
    assert 'href="/report"' in page
    return page


def test_a_too_large_form_says_nothing_was_sent(make_app):
    app = make_app(max_form_memory_size=5_000)
    make = Factory(app)
    unit = make.unit()
    user = make.user(Role.EMPLOYEE, units=(unit,))
    client = app.test_client()
    form_login(client, user)
    _not_sent(_submit(client, form_fields(unit.id, narrative="x" * 10_000)))


def test_files_too_large_in_all_say_the_total_and_that_nothing_was_sent(make_app):
    app = make_app(max_content_length=3_000_000, attachment_max_bytes=2_000_000)
    make = Factory(app)
    unit = make.unit()
    user = make.user(Role.EMPLOYEE, units=(unit,))
    client = app.test_client()
    form_login(client, user)
    choose_language(client, "en")
    # The form says the total before anything is chosen.
    assert "and 3 MB in all" in _text(client.get("/report"))
    files = [(b"x" * 1_600_000, "a.txt"), (b"x" * 1_600_000, "b.txt")]
    page = _not_sent(_submit(client, form_fields(unit.id), files=files))
    assert "at most 3 MB of files in all" in page
    assert "Back" in page
    with app.app_context():
        assert db.session.query(Report).count() == 0


def test_menu_links_for_reporters_only(client, make):
    unit = make.unit()
    employee = make.user(Role.EMPLOYEE, units=(unit,))
    form_login(client, employee)
    start = client.get("/").get_data(as_text=True)
    assert 'href="/report"' in start
    assert 'href="/my-reports"' in start


def test_other_roles_and_strangers_cannot_use_the_form(app, make):
    anonymous = app.test_client()
    assert anonymous.get("/report").status_code == 302
    assert anonymous.get("/my-reports").status_code == 302
    admin_client = app.test_client()
    form_login(admin_client, make.user(Role.ADMIN, totp=False))
    assert admin_client.get("/report").status_code == 403
    assert 'href="/report"' not in admin_client.get("/").get_data(as_text=True)


def test_a_leader_reports_on_behalf_of_an_employee(app, client, make):
    unit = make.unit("Akuttmottaket")
    team = make.unit("Nattevakt", parent=unit)
    other = make.unit("Kantina")
    leader = make.user(
        Role.MANAGER, Role.EMPLOYEE, name="Lars Leder", units=(unit,), manages=(unit,)
    )
    worker = make.user(Role.EMPLOYEE, name="Nina Natt", units=(team,))
    stranger = make.user(Role.EMPLOYEE, name="Kim Kantine", units=(other,))
    form_login(client, leader)
    raw = client.get("/report").get_data(as_text=True)
    assert "Nina Natt" in raw
    assert "Kim Kantine" not in raw

    refused = _submit(client, form_fields(unit.id, on_behalf_of_user_id=str(stranger.id)))
    assert refused.status_code == 400
    assert 'id="e-on_behalf_of_user_id"' in refused.get_data(as_text=True)

    response = _submit(client, form_fields(unit.id, on_behalf_of_user_id=str(worker.id)))
    assert response.status_code == 303
    report_id = int(response.headers["Location"].split("/")[2])
    with app.app_context():
        report = db.session.get(Report, report_id)
        assert report.on_behalf
        exposed = service.open_report(report, actor="test").fields["exposed"]
        assert exposed == [{"user_id": worker.id, "name": "Nina Natt"}]


def test_a_reporter_can_name_handlers_who_must_not_handle(app, client, employee, make):
    _user, unit = employee
    handler = make.user(Role.HANDLER, name="Hanne Handler")
    raw = client.get("/report").get_data(as_text=True)
    assert "Hanne Handler" in raw
    response = _submit(client, form_fields(unit.id, must_not_handle=[str(handler.id)]))
    assert response.status_code == 303
    report_id = int(response.headers["Location"].split("/")[2])
    with app.app_context():
        report = db.session.get(Report, report_id)
        assert service.involved_user_ids(report)["must_not_handle"] == {handler.id}


def test_a_png_upload_keeps_its_pixels(client, employee):
    """Stripping metadata re-encodes the picture: what is stored decodes to the very
    pixels sent (a pattern, so a turned or shifted picture would not pass)."""
    _user, unit = employee
    sent = Image.new("RGBA", (13, 7))
    sent.putdata(
        [(x * 19 % 256, y * 37 % 256, (x * y) % 256, 255 - x) for y in range(7) for x in range(13)]
    )
    original = io.BytesIO()
    sent.save(original, format="PNG")
    response = _submit(client, form_fields(unit.id), files=[(original.getvalue(), "bilde.png")])
    assert response.status_code == 303
    report_id = int(response.headers["Location"].split("/")[2])
    (info,) = client.get(f"/api/v1/reports/{report_id}").get_json()["attachments"]
    download = client.get(f"/api/v1/reports/{report_id}/attachments/{info['id']}", buffered=True)
    assert download.status_code == 200
    with Image.open(io.BytesIO(download.data)) as stored:
        assert stored.format == "PNG"
        assert stored.size == sent.size
        assert stored.convert("RGBA").tobytes() == sent.tobytes()


def _form_id(page_html: str) -> str:
    match = re.search(r'name="form_id" value="([A-Za-z0-9_-]+)"', page_html)
    assert match, "the form carries no form_id"
    return match.group(1)


def _reports(app) -> int:
    with app.app_context():
        return len(db.session.scalars(select(Report.id)).all())


def test_the_same_form_sent_twice_is_one_report(app, client, employee):
    """A reload, a double click, "did it go?": the second send of the same form answers
    with the first report's receipt, and the case handlers get one report."""
    _user, unit = employee
    page = client.get("/report").get_data(as_text=True)
    data = {**form_fields(unit.id), "csrf_token": page_token(page), "form_id": _form_id(page)}
    first = client.post("/report", data=data, content_type="multipart/form-data")
    assert first.status_code == 303, _text(first)[:2000]
    again = client.post("/report", data=data, content_type="multipart/form-data")
    assert again.status_code == 303
    assert again.headers["Location"] == first.headers["Location"]
    assert _reports(app) == 1
    # A fresh form is a new report; a refused form keeps its token for the next try.
    refused = client.get("/report").get_data(as_text=True)
    retry = {**form_fields(unit.id, narrative=""), "csrf_token": page_token(refused),
             "form_id": _form_id(refused)}  # fmt: skip
    shown_again = client.post("/report", data=retry, content_type="multipart/form-data")
    assert shown_again.status_code == 400
    assert _form_id(shown_again.get_data(as_text=True)) == retry["form_id"]
    fixed = {**retry, "narrative": "Another incident, the next day, with another patient."}
    assert client.post("/report", data=fixed, content_type="multipart/form-data").status_code == 303
    assert _reports(app) == 2


def test_back_after_sending_and_sending_again_is_one_report(app, client, employee):
    """Back after sending fetches the form anew (it is not cached), with a new token,
    and the browser fills in what was typed: sent again, the same text is the report
    already stored, with its receipt and a word that it is stored once. Changed, it is a
    new report; and after RESENT_WITHIN the same text is a new one too."""
    from reporting import form_input

    _user, unit = employee
    page = client.get("/report").get_data(as_text=True)
    data = {**form_fields(unit.id), "csrf_token": page_token(page), "form_id": _form_id(page)}
    first = client.post("/report", data=data, content_type="multipart/form-data")
    assert first.status_code == 303
    back = client.get("/report").get_data(as_text=True)
    assert _form_id(back) != data["form_id"]
    restored = {**data, "form_id": _form_id(back), "csrf_token": page_token(back)}
    again = client.post("/report", data=restored, content_type="multipart/form-data")
    assert again.status_code == 303
    assert again.headers["Location"] == first.headers["Location"]
    assert _reports(app) == 1
    receipt = client.get(again.headers["Location"]).get_data(as_text=True)
    assert "allerede sendt" in receipt

    changed = {**restored, "narrative": data["narrative"] + " Han kom tilbake senere."}
    sent = client.post("/report", data=changed, content_type="multipart/form-data")
    assert sent.status_code == 303
    assert _reports(app) == 2
    with client.session_transaction() as state:
        last = state[form_input.SENT]
        state[form_input.SENT] = {**last, "at": last["at"] - form_input.RESENT_WITHIN}
    fresh = client.get("/report").get_data(as_text=True)
    later = {**changed, "form_id": _form_id(fresh), "csrf_token": page_token(fresh)}
    assert client.post("/report", data=later, content_type="multipart/form-data").status_code == 303
    assert _reports(app) == 3


@pytest.fixture
def race_app(make_app: Any, scratch_database: str) -> Any:
    yield from committed_app(make_app, scratch_database)


def test_the_same_form_sent_from_two_tabs_at_once_is_one_report(race_app):
    """Both sends are stored side by side until the unique token stops the second: it
    waits for the first's commit and answers with the first's receipt."""
    make = Factory(race_app)
    unit = make.unit("Akutten")
    user = make.user(Role.EMPLOYEE, units=(unit,))
    browsers, form_id = [], None
    for _n in range(2):
        tab = race_app.test_client()
        form_login(tab, user)
        page = tab.get("/report").get_data(as_text=True)
        form_id = form_id or _form_id(page)
        browsers.append((tab, page_token(page)))

    def send(tab: FlaskClient, token: str) -> Any:
        data = {**form_fields(unit.id), "csrf_token": token, "form_id": form_id}
        return tab.post("/report", data=data, content_type="multipart/form-data")

    assert in_parallel(browsers, send) == {303: 2}
    assert _reports(race_app) == 1


@pytest.mark.parametrize("hostile", ["x" * 1000, "<script>alert(1)</script>", "short"])
def test_a_form_token_that_is_not_one_is_ignored(app, client, employee, hostile):
    """A token the form never gave (too long, markup, too short) is not stored: the
    report is filed as any other, once."""
    _user, unit = employee
    page = client.get("/report").get_data(as_text=True)
    data = {**form_fields(unit.id), "csrf_token": page_token(page), "form_id": hostile}
    sent = client.post("/report", data=data, content_type="multipart/form-data")
    assert sent.status_code == 303
    with app.app_context():
        assert db.session.scalars(select(Report.submission_key)).all() == [None]
