"""The anonymous pages: the form, the small-unit warning, the receipt, the follow-up."""

from __future__ import annotations

import io
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from PIL import Image
from sqlalchemy import select

from reporting import anonymous
from reporting.models import Report
from reporting.service import attachment_name, attachment_stream
from tests.factories import form_login, form_token
from trygg.extensions import db
from trygg.privacy import RANDOM_ID_MIN
from trygg.roles import Role

OSLO = ZoneInfo("Europe/Oslo")


def form_data(client, path="/varsle", **changes):
    data = {
        "csrf_token": form_token(client, path),
        "incident_types": ["sexual_harassment"],
        "occurred_on": (datetime.now(OSLO) - timedelta(days=1)).date().isoformat(),
        "place_type": "other",
        "counterpart_category": "leader",
        "severity": "2",
        "narrative": "My leader touches me although I have said no.",
        "unit_id": "",
    }
    page = client.get(path).get_data(as_text=True)
    data["form_id"] = re.search(r'name="form_id" value="([^"]+)"', page).group(1)
    data.update(changes)
    return data


def receipt_of(html: str) -> str:
    groups = re.findall(r'<span class="app-receipt__group">([0-9A-Z]{4})</span>', html)
    assert len(groups) == 5, html
    return "-".join(groups)


def stored_reports(app):
    with app.app_context():
        return list(db.session.scalars(select(Report)))


def test_the_page_explains_what_is_kept_and_what_may_identify(anon_client):
    page = anon_client.get("/en/whistleblow")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'lang="en"' in html
    for words in ("does not keep your address", "Only the day", "work computer", "receipt code"):
        assert words in html
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["Referrer-Policy"] == "no-referrer"
    # The language switch leads back to the Norwegian address, which follows the choice.
    assert 'name="next" value="/varsle"' in html


def test_a_report_through_the_page_shows_the_receipt_once(anon_app, anon_client):
    data = form_data(anon_client, "/en/whistleblow")
    response = anon_client.post("/en/whistleblow", data=data)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    receipt = receipt_of(html)
    title = re.search(r"<title>(.*?)</title>", html, re.S).group(1)
    assert receipt not in title
    first_group = f'<span class="app-receipt__group">{receipt[:4]}</span>'
    assert html.count(first_group) == 1  # shown once, in groups of four
    assert "Write down the receipt code" in html
    reports = stored_reports(anon_app)
    assert len(reports) == 1
    assert reports[0].anonymous
    assert reports[0].incident_types == ["sexual_harassment"]
    # Sending the same form again (a reload) stores nothing and shows no code.
    again = anon_client.post("/en/whistleblow", data=data)
    assert "already sent" in again.get_data(as_text=True)
    assert not re.search(r"app-receipt__group", again.get_data(as_text=True))
    assert len(stored_reports(anon_app)) == 1


def test_errors_are_shown_with_what_was_written(anon_app, anon_client):
    data = form_data(anon_client, incident_types=[], narrative="Something I wrote")
    response = anon_client.post("/varsle", data=data)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'id="error-summary"' in html
    assert "Something I wrote" in html
    assert stored_reports(anon_app) == []


def test_the_error_summary_follows_the_form_from_the_top(anon_app, anon_client):
    """The date is the form's second field: its error is second in the summary too."""
    data = form_data(anon_client, incident_types=[], occurred_on="", narrative="")
    html = anon_client.post("/varsle", data=data).get_data(as_text=True)
    summary = html.split('id="error-summary"', 1)[1].split("</ul>", 1)[0]
    links = re.findall(r'href="#f-([a-z_]+)"', summary)
    assert links[:2] == ["incident_types", "occurred_on"], links
    assert links.index("occurred_on") < links.index("narrative")


def test_a_date_that_does_not_exist_is_called_a_date(anon_app, anon_client):
    """The form asks for a date alone: "a valid date and time" pointed to a time field
    it does not have."""
    data = form_data(anon_client, "/en/whistleblow", occurred_on="2026-02-30")
    html = anon_client.post("/en/whistleblow", data=data).get_data(as_text=True)
    assert re.search(r'id="e-occurred_on">Enter a valid date\.<', html), html
    assert stored_reports(anon_app) == []


def test_lines_too_long_are_named_once_by_their_line_numbers(anon_app, anon_client):
    """Fifty lines too long were fifty identical messages that named none of them."""
    long_line = "x" * 201
    people = "\n".join([long_line] * 3 + ["", "Kari", long_line] + [long_line] * 46)
    data = form_data(anon_client, "/en/whistleblow", exposed=people)
    html = anon_client.post("/en/whistleblow", data=data).get_data(as_text=True)
    messages = re.findall(r'id="e-exposed">(.*?)</', html, re.S)
    assert len(messages) == 1, messages
    assert messages[0].count("characters") == 1
    assert "Lines 1–3, 6–52: " in messages[0], messages[0]
    assert "x" * 201 in html  # what was written is kept
    assert stored_reports(anon_app) == []


def test_the_form_says_its_limits_before_sending(anon_client):
    """Text inputs carry the schema's limits, and the date cannot be after today."""
    html = anon_client.get("/varsle").get_data(as_text=True)
    for name in (
        "counterpart_identity",
        "injury_description",
        "police_details",
        "immediate_measures_text",
        "causes_text",
        "narrative",
        "exposed",
        "witnesses",
    ):
        assert re.search(rf'name="{name}"[^>]*maxlength="\d+"', html), name
    today = datetime.now(OSLO).date().isoformat()
    assert re.search(rf'name="occurred_on"[^>]*max="{today}"', html)


def test_a_pasted_nul_is_named_by_its_field_and_the_form_kept(anon_app, anon_client):
    data = form_data(anon_client, narrative="My leader\x00 touches me.", exposed="Kari\x00")
    response = anon_client.post("/varsle", data=data)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "\x00" not in html
    assert 'id="e-narrative"' in html
    assert 'id="e-exposed"' in html
    assert "My leader touches me." in html
    assert 'name="csrf_token"' in html  # the form, not the error page
    assert stored_reports(anon_app) == []


def test_files_too_large_in_all_say_that_nothing_was_sent(make_app):
    client = make_app(
        anonymous_enabled=True, max_content_length=3_000_000, attachment_max_bytes=2_000_000
    ).test_client()
    assert "and 3 MB in all" in client.get("/en/whistleblow").get_data(as_text=True)
    data = form_data(client, "/en/whistleblow", narrative="Kept by the browser only")
    data["attachments"] = [(io.BytesIO(b"x" * 1_600_000), f"{n}.txt") for n in "ab"]
    response = client.post("/en/whistleblow", data=data, content_type="multipart/form-data")
    assert response.status_code == 413
    html = response.get_data(as_text=True)
    assert 'id="not-sent"' in html
    assert "at most 3 MB of files in all" in html
    assert 'href="/en/whistleblow"' in html
    assert response.headers["Cache-Control"] == "no-store"


def test_a_small_unit_gets_a_warning_and_the_parent_instead(anon_app, anon_client, make):
    department = make.unit("Hjemmetjenesten", headcount=60)
    zone = make.unit("Sone nord", parent=department, headcount=4)
    data = form_data(anon_client, unit_id=str(zone.id))
    warned = anon_client.post("/varsle", data=data)
    assert warned.status_code == 200
    html = warned.get_data(as_text=True)
    assert 'id="small-unit-warning"' in html
    assert "Sone nord" in html
    assert "Hjemmetjenesten" in html
    assert stored_reports(anon_app) == []
    chose_parent = anon_client.post("/varsle", data={**data, "small_unit": "parent"})
    receipt_of(chose_parent.get_data(as_text=True))
    assert [r.unit_id for r in stored_reports(anon_app)] == [department.id]


def test_the_small_unit_may_be_kept_or_left_out(anon_app, anon_client, make):
    lone = make.unit("Nattevakt", headcount=2)
    data = form_data(anon_client, unit_id=str(lone.id))
    kept = anon_client.post("/varsle", data={**data, "small_unit": "keep"})
    receipt_of(kept.get_data(as_text=True))
    data = form_data(anon_client, unit_id=str(lone.id))
    left_out = anon_client.post("/varsle", data={**data, "small_unit": "parent"})
    receipt_of(left_out.get_data(as_text=True))
    assert sorted(r.unit_id or 0 for r in stored_reports(anon_app)) == [0, lone.id]


def test_the_small_unit_warning_asks_for_the_files_again_where_it_is_answered(
    anon_app, anon_client, make
):
    """A browser never fills a file field in: the page shown again with the warning has
    lost the files. The warning, whose buttons send the report, says so and takes them
    there; without it the report went out without them, and no one said."""
    lone = make.unit("Nattevakt", headcount=2)

    def with_files(data: dict) -> dict:
        files = [(io.BytesIO(b"first note"), "a.txt"), (io.BytesIO(b"second note"), "b.txt")]
        return {**data, "attachments": files}

    data = form_data(anon_client, unit_id=str(lone.id))
    warned = anon_client.post("/varsle", data=with_files(data), content_type="multipart/form-data")
    html = warned.get_data(as_text=True)
    box = html.split('id="small-unit-warning"', 1)[1].split("</form>", 1)[0]
    box = box.split('name="small_unit"', 1)[0]
    assert 'id="f-attachments-again" name="attachments" type="file"' in box
    assert "Velg de 2 filene dine på nytt" in box
    assert 'id="f-attachments"' not in html  # asked there only: not chosen twice
    assert stored_reports(anon_app) == []
    # Without files chosen, the warning asks for none, and the form's own field stays.
    plain = anon_client.post("/varsle", data=form_data(anon_client, unit_id=str(lone.id)))
    assert 'id="f-attachments-again"' not in plain.get_data(as_text=True)
    assert 'id="f-attachments"' in plain.get_data(as_text=True)

    kept = anon_client.post(
        "/varsle",
        data=with_files({**data, "small_unit": "keep"}),
        content_type="multipart/form-data",
    )
    receipt_of(kept.get_data(as_text=True))
    [report] = stored_reports(anon_app)
    with anon_app.app_context():
        assert len(db.session.get(Report, report.id).attachments) == 2


def test_pictures_are_stored_without_metadata_and_with_a_neutral_name(anon_app, anon_client):
    picture = Image.new("RGB", (8, 8), "red")
    exif = Image.Exif()
    exif[0x013B] = "Kari Nordmann"  # Artist
    raw = io.BytesIO()
    picture.save(raw, format="JPEG", exif=exif)
    assert b"Kari Nordmann" in raw.getvalue()
    data = form_data(anon_client)
    data["attachments"] = [(io.BytesIO(raw.getvalue()), "IMG_20261126_143211_Kari.jpg")]
    response = anon_client.post("/varsle", data=data, content_type="multipart/form-data")
    receipt_of(response.get_data(as_text=True))
    with anon_app.app_context():
        report = db.session.scalars(select(Report)).one()
        (attachment,) = report.attachments
        content = b"".join(attachment_stream(report, attachment))
        assert b"Kari Nordmann" not in content
        assert attachment_name(report, attachment) == "1.jpg"
        assert attachment.created_at == report.created_at
        assert attachment.id >= RANDOM_ID_MIN


def test_files_that_may_carry_an_author_are_refused(anon_app, anon_client):
    data = form_data(anon_client, narrative="See the attached document")
    data["attachments"] = [(io.BytesIO(b"%PDF-1.7\n/Author (Kari)\n"), "notes.pdf")]
    response = anon_client.post("/varsle", data=data, content_type="multipart/form-data")
    assert response.status_code == 415
    html = response.get_data(as_text=True)
    assert "bare legge ved bilder og rene tekstfiler" in html
    assert "See the attached document" in html
    assert stored_reports(anon_app) == []


def test_a_refused_file_is_named_with_the_forms_other_errors(anon_app, anon_client):
    """Beside a missing answer, a PDF was only "choose your files again": the reporter
    chose it again and learnt in the next round that it may carry their name."""
    data = form_data(anon_client, severity="")
    data["attachments"] = [(io.BytesIO(b"%PDF-1.7\n/Author (Kari)\n"), "notes.pdf")]
    response = anon_client.post("/varsle", data=data, content_type="multipart/form-data")
    assert response.status_code == 400
    summary = response.get_data(as_text=True).split('id="error-summary"', 1)[1]
    summary = summary.split("</ul>", 1)[0]
    assert 'href="#f-severity"' in summary
    assert "Velg ett av alternativene." in summary  # a group of buttons: choose, not fill
    assert 'href="#f-attachments"' in summary
    assert "bare legge ved bilder og rene tekstfiler" in summary
    # A picture or a text file beside a missing answer is only asked for again.
    data["attachments"] = [(io.BytesIO(b"Notat fra vakt"), "notat.txt")]
    allowed = anon_client.post("/varsle", data=data, content_type="multipart/form-data")
    summary = allowed.get_data(as_text=True).split('id="error-summary"', 1)[1]
    assert 'href="#f-attachments"' not in summary.split("</ul>", 1)[0]
    assert stored_reports(anon_app) == []


def test_too_many_reports_from_one_network_keep_the_text(make_app):
    client = make_app(anonymous_enabled=True, anonymous_submissions_per_hour=1).test_client()
    assert client.post("/varsle", data=form_data(client)).status_code == 200
    refused = client.post("/varsle", data=form_data(client, narrative="Kept text"))
    assert refused.status_code == 429
    assert refused.mimetype == "text/html"
    assert int(refused.headers["Retry-After"]) > 0
    assert "Kept text" in refused.get_data(as_text=True)


def test_too_many_wrong_codes_on_the_page(make_app):
    client = make_app(anonymous_enabled=True, receipt_failures_per_hour=1).test_client()
    wrong = anonymous.format_receipt(anonymous.new_receipt())
    token = form_token(client, "/varsle/folg-opp")
    first = client.post("/varsle/folg-opp", data={"csrf_token": token, "receipt": wrong})
    assert first.status_code == 401
    second = client.post("/varsle/folg-opp", data={"csrf_token": token, "receipt": wrong})
    assert second.status_code == 429
    assert second.mimetype == "text/html"
    assert int(second.headers["Retry-After"]) > 0
    assert 'name="receipt"' in second.get_data(as_text=True)


def test_a_wrong_code_stays_in_the_field_and_an_empty_one_is_asked_for(anon_client, caplog):
    """A one-character typo is fixed, not typed again: the code comes back in the
    field, in the page only (never the address or a log line)."""
    path = "/en/whistleblow/follow-up"
    token = form_token(anon_client, path)
    typo = anonymous.format_receipt(anonymous.new_receipt()).lower()
    with caplog.at_level("DEBUG"):
        wrong = anon_client.post(path, data={"csrf_token": token, "receipt": typo})
    assert wrong.status_code == 401
    html = wrong.get_data(as_text=True)
    assert re.search(rf'name="receipt"[^>]*value="{typo}"', html)
    assert "Location" not in wrong.headers
    assert typo not in caplog.text
    assert typo.upper().replace("-", "") not in caplog.text
    empty = anon_client.post(path, data={"csrf_token": token, "receipt": "  "})
    assert empty.status_code == 400
    html = empty.get_data(as_text=True)
    assert "Enter your receipt code." in html
    assert "not valid" not in html


def test_a_code_with_a_symbol_missing_is_named_so_and_not_counted(make_app):
    """A frightened reporter who left out a character is told what is wrong with it,
    not "not valid", and is not counted as guessing: no code of that length exists."""
    client = make_app(anonymous_enabled=True, receipt_failures_per_hour=1).test_client()
    receipt = receipt_of(client.post("/varsle", data=form_data(client)).get_data(True))
    path = "/en/whistleblow/follow-up"
    token = form_token(client, path)
    for typed in (receipt[:-1], receipt + "7"):
        short = client.post(path, data={"csrf_token": token, "receipt": typed})
        assert short.status_code == 400
        page = short.get_data(as_text=True)
        length = len(typed.replace("-", ""))
        assert f"A receipt code has 20 letters and digits, and you typed {length}." in page
        assert "not valid" not in page
        assert re.search(rf'name="receipt"[^>]*value="{typed}"', page)
    # Neither was counted against the network's one failure an hour.
    opened = client.post(path, data={"csrf_token": token, "receipt": receipt})
    assert opened.status_code == 303


def test_a_pasted_code_with_invisible_characters_opens_its_report(make_app):
    """A code copied from an e-mail or a PDF brings invisible characters along (a soft
    hyphen, a zero-width space, a narrow no-break space): they are not symbols, so the
    code opens its report instead of "you typed 24" for the 20 symbols on the screen."""
    client = make_app(anonymous_enabled=True).test_client()
    receipt = receipt_of(client.post("/varsle", data=form_data(client)).get_data(True))
    path = "/en/whistleblow/follow-up"
    token = form_token(client, path)
    pasted = "\ufeff" + receipt.replace("-", "\u00ad\u200b\u202f") + "\u2060"
    opened = client.post(path, data={"csrf_token": token, "receipt": pasted})
    assert opened.status_code == 303, opened.get_data(as_text=True)[-2000:]


def test_following_up_through_the_pages(anon_client):
    receipt = receipt_of(anon_client.post("/varsle", data=form_data(anon_client)).get_data(True))
    entry = anon_client.get("/varsle/folg-opp")
    assert entry.status_code == 200
    assert 'autocomplete="off"' in entry.get_data(as_text=True)
    token = form_token(anon_client, "/varsle/folg-opp")
    wrong = anon_client.post(
        "/varsle/folg-opp",
        data={"csrf_token": token, "receipt": anonymous.format_receipt(anonymous.new_receipt())},
    )
    assert wrong.status_code == 401
    opened = anon_client.post(
        "/varsle/folg-opp", data={"csrf_token": token, "receipt": receipt.lower()}
    )
    assert opened.status_code == 303
    assert opened.headers["Location"] == "/varsle/folg-opp"
    status = anon_client.get("/varsle/folg-opp").get_data(as_text=True)
    assert "VAR-" in status
    assert "waiting to be handled" in status or "venter" in status.lower()
    token = form_token(anon_client, "/varsle/folg-opp")
    ended = anon_client.post("/varsle/folg-opp", data={"csrf_token": token, "action": "end"})
    assert ended.status_code == 303
    assert 'name="receipt"' in anon_client.get(ended.headers["Location"]).get_data(as_text=True)


def test_a_logged_in_employee_is_told_how_to_stay_anonymous(anon_client, make):
    form_login(anon_client, make.user(Role.EMPLOYEE))
    html = anon_client.get("/varsle").get_data(as_text=True)
    assert "You are logged in to Trygg" in html or "logget inn" in html


def test_the_form_leads_a_returning_reporter_to_the_follow_up(anon_client):
    # The shared address is the form's: someone back with a receipt code finds the
    # follow-up from there, in the address's language.
    for form, follow_up in (
        ("/varsle", "/varsle/folg-opp"),
        ("/en/whistleblow", "/en/whistleblow/follow-up"),
    ):
        html = anon_client.get(form).get_data(as_text=True)
        assert f'href="{follow_up}"' in html, form
        sentence = "Har du meldt fra før" if form == "/varsle" else "Have you already reported"
        assert sentence in html, form


def test_an_empty_follow_up_form_is_named_as_its_field_is(anon_client):
    # The error summary called every form's text field "Tekst"; the fields are "Svaret
    # ditt", "Det du vil legge til" and "Hvem du er".
    receipt = receipt_of(anon_client.post("/varsle", data=form_data(anon_client)).get_data(True))
    token = form_token(anon_client, "/varsle/folg-opp")
    anon_client.post("/varsle/folg-opp", data={"csrf_token": token, "receipt": receipt})
    token = form_token(anon_client, "/varsle/folg-opp")
    for action, label in (("info", "Det du vil legge til"), ("identity", "Hvem du er")):
        refused = anon_client.post(
            "/varsle/folg-opp", data={"csrf_token": token, "action": action, "body": ""}
        )
        assert refused.status_code == 400, action
        summary = refused.get_data(as_text=True).split('id="error-summary"', 1)[1]
        summary = summary.split("</ul>", 1)[0]
        assert f">{label}: " in summary, summary
