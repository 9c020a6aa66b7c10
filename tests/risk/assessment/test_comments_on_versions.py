"""Comments and statements on an older version: the answer stays on the version they
were given on, a statement already given is not offered again, and a refused one says
why on the page."""

from __future__ import annotations

from urllib.parse import urlsplit

from tests.factories import choose_language, form_login, form_token
from tests.handling.conftest import Api

EN = {"Accept-Language": "en"}


def _rep_on_version_one(app, ra, approved):
    """Version 1 approved and a version 2 draft; the safety rep on version 1's page."""
    aid = approved()["id"]
    started = Api(app, ra.manager).post(f"/api/v1/risk/assessments/{aid}/versions")
    assert started.status_code == 201, started.get_json()
    rep = app.test_client()
    form_login(rep, ra.safety_rep)
    choose_language(rep, "en")
    page = f"/risk/assessments/{aid}?version=1"
    return aid, rep, page, form_token(rep, page)


def test_a_comment_on_an_older_version_comes_back_on_that_version(app, ra, approved):
    aid, rep, page, token = _rep_on_version_one(app, ra, approved)
    sent = rep.post(
        f"/risk/assessments/{aid}/comments?version=1",
        data={"csrf_token": token, "body": "Alarmene virket ikke i fjor"},
    )
    assert sent.status_code == 302
    where = urlsplit(sent.headers["Location"])
    assert (where.path, where.query, where.fragment) == (
        f"/risk/assessments/{aid}",
        "version=1",
        "h-comments",
    )
    shown = rep.get(sent.headers["Location"], headers=EN).get_data(as_text=True)
    assert "Version 1" in shown
    assert "Alarmene virket ikke i fjor" in shown
    # The draft has no comments: the comment belongs to the version it was given on.
    draft = rep.get(f"/risk/assessments/{aid}", headers=EN).get_data(as_text=True)
    assert "Alarmene virket ikke i fjor" not in draft


def test_a_comment_on_a_version_that_does_not_exist_is_not_found(app, ra, approved):
    aid, rep, page, token = _rep_on_version_one(app, ra, approved)
    sent = rep.post(
        f"/risk/assessments/{aid}/comments?version=9", data={"csrf_token": token, "body": "x"}
    )
    assert sent.status_code == 404


def test_a_statement_given_is_not_offered_again(app, ra, approved):
    aid, rep, page, token = _rep_on_version_one(app, ra, approved)
    before = rep.get(page, headers=EN).get_data(as_text=True)
    assert "Statement on the approved version" in before
    given = rep.post(
        f"/risk/assessments/{aid}/comments?version=1",
        data={"csrf_token": token, "body": "Vi støtter vurderingen", "kind": "statement"},
    )
    assert given.status_code == 302
    after = rep.get(given.headers["Location"], headers=EN).get_data(as_text=True)
    assert "Vi støtter vurderingen" in after
    assert "Statement on the approved version" not in after
    assert "You have given your statement on this version" in after
    # AMU has not given theirs: it is still offered to them.
    amu = app.test_client()
    form_login(amu, ra.amu)
    choose_language(amu, "en")
    assert "Statement on the approved version" in amu.get(page, headers=EN).get_data(as_text=True)


def test_a_second_statement_is_refused_with_a_clear_page_that_keeps_the_text(app, ra, approved):
    aid, rep, page, token = _rep_on_version_one(app, ra, approved)
    url = f"/risk/assessments/{aid}/comments?version=1"
    rep.post(url, data={"csrf_token": token, "body": "Første", "kind": "statement"})
    # A second tab still showing the form sends another one.
    again = rep.post(
        url, data={"csrf_token": token, "body": "Andre uttalelse", "kind": "statement"}, headers=EN
    )
    assert again.status_code == 409
    text = again.get_data(as_text=True)
    assert "Nothing was saved" in text
    assert "You have already given your statement on this version." in text
    assert "Please correct the following" not in text  # nothing to correct: it was given
    assert "Andre uttalelse" in text  # the text is kept, to send as a comment instead
    assert "Version 1" in text
    assert "Andre uttalelse" not in rep.get(page, headers=EN).get_data(as_text=True)


def test_an_empty_comment_is_named_and_linked_in_the_error_summary(app, ra, approved):
    # The summary at the top of the long page said only "This field is required.", with
    # no field and no link to the comment box at the bottom.
    aid, rep, page, token = _rep_on_version_one(app, ra, approved)
    sent = rep.post(
        f"/risk/assessments/{aid}/comments?version=1", data={"csrf_token": token, "body": ""}
    )
    assert sent.status_code == 400
    summary = sent.get_data(as_text=True).split('id="error-summary"', 1)[1].split("</div>", 1)[0]
    assert (
        '<a class="ds-link" href="#f-c-body">Your comment: This field is required.</a>' in summary
    )


def test_a_refused_statement_stays_a_statement(app, ra, approved):
    # Sent empty, or too long, the form came back with "Comment" chosen: sent again as
    # it stood, the statement became a comment.
    aid, rep, page, token = _rep_on_version_one(app, ra, approved)
    url = f"/risk/assessments/{aid}/comments?version=1"
    for body in ("", "x" * 5001):
        sent = rep.post(url, data={"csrf_token": token, "body": body, "kind": "statement"})
        assert sent.status_code == 400
        html = sent.get_data(as_text=True)
        assert 'name="kind" value="statement" checked' in html, len(body)
        assert 'name="kind" value="comment" checked' not in html
    # A comment refused stays a comment.
    sent = rep.post(url, data={"csrf_token": token, "body": "", "kind": "comment"})
    assert 'name="kind" value="comment" checked' in sent.get_data(as_text=True)
