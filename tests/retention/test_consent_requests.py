"""A handler asks a protected reporter whether they agree to be named in an export.

The question reaches the reporter as news and as a question above the consent form on
their case page; their answer (agreeing, or saving without agreeing) reaches the
handlers and the case's timeline. No handler can answer for them.
"""

from __future__ import annotations

from sqlalchemy import func, select

from handling import service
from handling.models import HandlerGroup
from notifications.models import Notification
from tests.handling.conftest import Api
from trygg.audit import AuditEntry
from trygg.extensions import db

VARSEL = {"incident_types": ["sexual_harassment"], "counterpart_category": "colleague"}


def _ask(handler: Api, case_id: int, *recipients: str):
    return handler.post(
        f"/api/v1/cases/{case_id}/identity-consent-requests", {"recipients": list(recipients)}
    )


def _events(handler: Api, case_id: int, kind: str) -> list[list[str]]:
    events = handler.get(f"/api/v1/cases/{case_id}").get_json()["events"]
    return [e["codes"]["recipients"] for e in events if e["kind"] == kind]


def _audited(app, action: str) -> list[tuple[str, dict]]:
    with app.app_context():
        entries = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq)
        )
        return [(e.actor, e.detail_dict()) for e in entries]


def _two_varsel_handlers(app, org) -> None:
    """The fallback handler joins the varsel group: two handlers may open a varsel."""
    with app.app_context():
        service.save_group(
            actor="test",
            name="Varsling",
            member_ids=[org.whistle_handler.id, org.fallback_handler.id],
            group=db.session.get(HandlerGroup, org.whistle),
        )
        db.session.commit()


def _unread(app, user_id: int) -> int:
    with app.app_context():
        return int(
            db.session.scalar(
                select(func.count()).where(
                    Notification.user_id == user_id, Notification.read_at.is_(None)
                )
            )
            or 0
        )


def test_a_handler_asks_and_the_reporter_agrees(app, org, submit, api):
    case = submit(org.employee, unit_id=org.ward.id, **VARSEL)
    handler, reporter = api(org.whistle_handler), api(org.employee)
    before = _unread(app, org.employee.id)

    asked = _ask(handler, case.id, "police")
    assert asked.status_code == 201, asked.get_json()
    assert asked.get_json() == {"asked": ["police"], "waiting": ["police"]}
    # The reporter has news, and their consent says what they were asked.
    assert _unread(app, org.employee.id) == before + 1
    mine = f"/api/v1/reports/{case.report_id}/identity-consent"
    [question] = reporter.get(mine).get_json()["asked"]
    assert question["recipient"] == "police"
    assert _events(handler, case.id, "identity_consent_asked") == [["police"]]
    assert _audited(app, "case.identity_consent.request") == [
        (f"user:{org.whistle_handler.id}", {"recipients": ["police"]})
    ]
    # Asking again before they answer is refused, and says why.
    again = _ask(handler, case.id, "police")
    assert again.status_code == 400
    assert "svart" in again.get_json()["errors"]["recipients"][0]

    agreed = reporter.put(mine, {"recipients": ["police"]})
    assert agreed.status_code == 200
    assert agreed.get_json()["asked"] == []
    assert [c["recipient"] for c in agreed.get_json()["consents"]] == ["police"]
    already = _ask(handler, case.id, "police")
    assert already.status_code == 400
    assert "allerede sagt ja" in already.get_json()["errors"]["recipients"][0]
    body = {"recipient": "police", "reason": "police_report", "sections": ["reporter"]}
    doc = handler.post(f"/api/v1/cases/{case.id}/exports", {**body, "format": "json"})
    assert doc.get_json()["reporter"] == {"name": "Ella Employee"}


def test_saving_without_ticking_what_was_asked_is_a_no(app, org, submit, api):
    case = submit(org.employee, unit_id=org.ward.id, **VARSEL)
    handler, reporter = api(org.whistle_handler), api(org.employee)
    assert _ask(handler, case.id, "police", "nav").status_code == 201
    told_before = _unread(app, org.whistle_handler.id)

    page = f"/my-reports/{case.report_id}/case"
    html = reporter.get(page).get_data(as_text=True)
    assert (
        "Saksbehandleren spør om du godtar å bli navngitt overfor: NAV (skademelding), Politiet"
        in html
    )
    # The form says which questions it showed: those it answers.
    assert 'name="answering" value="nav"' in html
    assert 'name="answering" value="police"' in html
    form = {"csrf_token": reporter.token, "recipients": ["nav"], "answering": ["nav", "police"]}
    assert reporter.client.post(f"{page}/identity-consent", data=form).status_code == 303
    html = reporter.get(page).get_data(as_text=True)
    assert "Saksbehandleren spør" not in html
    assert "NAV (skademelding): siden" in html

    # The handlers hear of the answer, and the timeline says yes to NAV and no to police.
    assert _unread(app, org.whistle_handler.id) == told_before + 1
    assert _events(handler, case.id, "identity_consent_refused") == [["police"]]
    assert _audited(app, "case.identity_consent.decline") == [
        (f"user:{org.employee.id}", {"recipients": ["police"]})
    ]
    case_page = handler.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "Melderen sa nei til å bli navngitt" in case_page
    # After a no, a handler may ask again (circumstances change); the reporter decides.
    assert _ask(handler, case.id, "police").get_json() == {
        "asked": ["police"],
        "waiting": ["police"],
    }


def test_an_exported_timeline_does_not_tell_what_the_reporter_answered(app, org, submit, api):
    # The export to the police listed "the reporter did not agree to be named: Police"
    # and whom they had agreed to: the recipient learns only what the export says.
    case = submit(org.employee, unit_id=org.ward.id, **VARSEL)
    handler, reporter = api(org.whistle_handler), api(org.employee)
    assert _ask(handler, case.id, "police", "nav").status_code == 201
    page = f"/my-reports/{case.report_id}/case"
    form = {"csrf_token": reporter.token, "recipients": ["nav"], "answering": ["nav", "police"]}
    assert reporter.client.post(f"{page}/identity-consent", data=form).status_code == 303
    kinds = {e["kind"] for e in handler.get(f"/api/v1/cases/{case.id}").get_json()["events"]}
    assert {"identity_consent", "identity_consent_asked", "identity_consent_refused"} <= kinds
    body = {"recipient": "police", "reason": "police_report", "format": "json"}
    doc = handler.post(f"/api/v1/cases/{case.id}/exports", {**body, "sections": ["timeline"]})
    assert doc.status_code == 200, doc.get_json()
    exported = {e["kind"] for e in doc.get_json()["timeline"]}
    assert "opened" in exported
    assert not {k for k in exported if k.startswith("identity_consent")}


def test_the_reporter_reading_their_case_reads_the_question(app, org, submit, api):
    case = submit(org.employee, unit_id=org.ward.id, **VARSEL)
    handler, reporter = api(org.whistle_handler), api(org.employee)
    before = _unread(app, org.employee.id)
    assert _ask(handler, case.id, "labour_inspection").status_code == 201
    assert _unread(app, org.employee.id) == before + 1
    reporter.get(f"/my-reports/{case.report_id}/case")
    assert _unread(app, org.employee.id) == before


def test_only_a_handler_who_could_name_them_asks_and_only_where_it_matters(app, org, submit, api):
    handler, colleague = api(org.handler), api(org.colleague)
    # A named HMS report names its reporter when chosen: nothing to ask.
    hms = submit(org.employee, unit_id=org.ward.id)
    refused = _ask(handler, hms.id, "police")
    assert refused.status_code == 400
    assert "ikke beskyttet" in refused.get_json()["errors"]["recipients"][0]
    # An anonymous reporter has no name to give and no one to ask.
    anonymous = submit(None, unit_id=org.ward.id)
    refused = _ask(handler, anonymous.id, "police")
    assert refused.status_code == 400
    assert "anonym" in refused.get_json()["errors"]["recipients"][0]
    # A confidential reporter: only the handler assigned to the case.
    confidential = submit(org.employee, unit_id=org.ward.id, confidential=True)
    handler.post(
        f"/api/v1/cases/{confidential.id}/assignment",
        {"handler_id": org.handler.id, "reason": "Min"},
    )
    refused = _ask(colleague, confidential.id, "police")
    assert refused.status_code == 400
    assert "Bare saksbehandleren som har saken" in refused.get_json()["errors"]["recipients"][0]
    page = colleague.get(f"/cases/{confidential.id}/retention").get_data(as_text=True)
    assert "Spør melderen" not in page
    assert _ask(handler, confidential.id, "police").status_code == 201
    # Not the reporter, not a manager; an unknown recipient is refused by name.
    assert _ask(api(org.employee), confidential.id, "police").status_code in (403, 404)
    assert _ask(api(org.manager), confidential.id, "police").status_code in (403, 404)
    unknown = _ask(handler, confidential.id, "newspaper")
    assert unknown.status_code == 400
    assert any(k.startswith("recipients") for k in unknown.get_json()["errors"])
    assert _audited(app, "case.identity_consent.request") == [
        (f"user:{org.handler.id}", {"recipients": ["police"]})
    ]


def test_the_export_form_asks_and_says_what_waits(app, org, submit, api):
    case = submit(org.employee, unit_id=org.ward.id, **VARSEL)
    handler = api(org.whistle_handler)
    page = f"/cases/{case.id}/retention"
    html = handler.get(page).get_data(as_text=True)
    assert "du kan spørre nedenfor" in html
    assert "Spør om melderen godtar å bli navngitt overfor" in html

    empty = handler.client.post(f"{page}/consent-request", data={"csrf_token": handler.token})
    assert empty.status_code == 400
    html = empty.get_data(as_text=True)
    assert "Kryss av for hvem melderen kan bli navngitt overfor." in html
    assert 'href="#f-ask-recipients"' in html

    form = {"csrf_token": handler.token, "recipients": ["police"]}
    sent = handler.client.post(f"{page}/consent-request", data=form)
    assert sent.status_code == 303
    html = handler.get(page).get_data(as_text=True)
    assert "Melderen er spurt. Du får beskjed når melderen svarer." in html
    assert "om å bli navngitt overfor: Politiet. Melderen har ikke svart ennå." in html
    # Police is no longer offered; the others still are.
    assert 'name="recipients" value="police"' not in html
    assert 'name="recipients" value="nav"' in html


def test_too_many_choices_are_counted_as_choices_not_characters(app, org, submit, api):
    case = submit(org.employee, unit_id=org.ward.id, **VARSEL)
    mine = f"/api/v1/reports/{case.report_id}/identity-consent"
    refused = api(org.employee).put(mine, {"recipients": ["police"] * 5})
    assert refused.status_code == 400
    assert refused.get_json()["errors"]["recipients"] == ["Oppgi høyst 4."]
    none = _ask(api(org.whistle_handler), case.id)
    assert none.get_json()["errors"]["recipients"] == ["Velg minst ett alternativ."]


def test_a_consent_withdrawn_later_does_not_bring_back_the_question(app, org, submit, api):
    """The reporter answered yes, then withdrew it: that is their answer, not a question
    still waiting (and a later save does not record a no they never gave)."""
    case = submit(org.employee, unit_id=org.ward.id, **VARSEL)
    handler, reporter = api(org.whistle_handler), api(org.employee)
    assert _ask(handler, case.id, "police").status_code == 201
    mine = f"/api/v1/reports/{case.report_id}/identity-consent"
    assert reporter.put(mine, {"recipients": ["police"]}).status_code == 200

    withdrawn = reporter.put(mine, {"recipients": []})
    assert withdrawn.get_json()["asked"] == []
    html = reporter.get(f"/my-reports/{case.report_id}/case").get_data(as_text=True)
    assert "Saksbehandleren spør" not in html
    page = handler.get(f"/cases/{case.id}/retention").get_data(as_text=True)
    assert "Melderen har ikke svart ennå" not in page
    # Saving again changes nothing and records no "no".
    assert reporter.put(mine, {"recipients": ["nav"]}).status_code == 200
    assert _events(handler, case.id, "identity_consent_refused") == []
    # The handler may ask again, and the reporter is asked anew.
    assert _ask(handler, case.id, "police").get_json() == {
        "asked": ["police"],
        "waiting": ["police"],
    }


def test_a_form_loaded_before_the_question_does_not_answer_it(app, org, submit, api):
    """The reporter opened their case page, a handler then asked; the form the reporter
    saves never showed the question, so leaving it unticked is no answer. The page that
    shows it answers it (a client of the API, which reads `asked`, answers all)."""
    case = submit(org.employee, unit_id=org.ward.id, **VARSEL)
    handler, reporter = api(org.whistle_handler), api(org.employee)
    page = f"/my-reports/{case.report_id}/case"
    before = reporter.get(page).get_data(as_text=True)
    assert 'name="answering"' not in before
    assert _ask(handler, case.id, "police").status_code == 201

    stale = {"csrf_token": reporter.token, "recipients": ["nav"]}
    assert reporter.client.post(f"{page}/identity-consent", data=stale).status_code == 303
    assert _events(handler, case.id, "identity_consent_refused") == []
    html = reporter.get(page).get_data(as_text=True)
    assert "Saksbehandleren spør om du godtar å bli navngitt overfor: Politiet" in html
    assert 'name="answering" value="police"' in html

    shown = {"csrf_token": reporter.token, "recipients": ["nav"], "answering": ["police"]}
    assert reporter.client.post(f"{page}/identity-consent", data=shown).status_code == 303
    assert _events(handler, case.id, "identity_consent_refused") == [["police"]]


def test_the_handler_who_asked_is_told_of_the_answer(app, org, submit, api):
    """Told on asking "you are told when they answer": so they are, also where the case
    is assigned to another of its handlers (who is told as of any change)."""
    _two_varsel_handlers(app, org)
    case = submit(org.employee, unit_id=org.ward.id, **VARSEL)
    assignee, asker = api(org.whistle_handler), api(org.fallback_handler)
    to_them = {"handler_id": org.whistle_handler.id, "reason": "Min"}
    assert assignee.post(f"/api/v1/cases/{case.id}/assignment", to_them).status_code == 200
    assert _ask(asker, case.id, "police").status_code == 201
    told = {u: _unread(app, u) for u in (org.whistle_handler.id, org.fallback_handler.id)}

    reporter = api(org.employee)
    answer = {"recipients": [], "answering": ["police"]}
    mine = f"/api/v1/reports/{case.report_id}/identity-consent"
    assert reporter.put(mine, answer).status_code == 200
    assert _unread(app, org.whistle_handler.id) == told[org.whistle_handler.id] + 1
    assert _unread(app, org.fallback_handler.id) == told[org.fallback_handler.id] + 1
    # Opening the case reads what they were told about it.
    assert _events(assignee, case.id, "identity_consent_refused") == [["police"]]
    with app.app_context():
        left = db.session.scalars(
            select(Notification.link).where(
                Notification.user_id == org.whistle_handler.id, Notification.read_at.is_(None)
            )
        ).all()
    assert left == ["/access-changes"]  # what leads elsewhere stays unread


def test_a_colleague_is_not_told_they_asked(app, org, submit, api):
    """Another handler of the varsel sees that the reporter was asked, not "you asked";
    asking the same is refused as asked already, by whomever."""
    _two_varsel_handlers(app, org)
    case = submit(org.employee, unit_id=org.ward.id, **VARSEL)
    asker, colleague = api(org.whistle_handler), api(org.fallback_handler)
    assert _ask(asker, case.id, "police").status_code == 201

    html = colleague.get(f"/cases/{case.id}/retention").get_data(as_text=True)
    assert "Du spurte" not in html
    assert "Melderen ble spurt" in html
    assert "om å bli navngitt overfor: Politiet. Melderen har ikke svart ennå." in html
    again = _ask(colleague, case.id, "police")
    assert again.status_code == 400
    assert again.get_json()["errors"]["recipients"] == [
        "Melderen er allerede spurt og har ikke svart ennå."
    ]


def test_a_confidential_case_reassigned_after_the_question(app, org, submit, api):
    """The assignee asked, then the case went to a colleague: the colleague now sees the
    question waiting and may ask, the former assignee neither; the answer is told to the
    assignee only (the former one could no longer name the reporter)."""
    case = submit(org.employee, unit_id=org.ward.id, confidential=True)
    first, second = api(org.handler), api(org.colleague)
    assign = f"/api/v1/cases/{case.id}/assignment"
    assert first.post(assign, {"handler_id": org.handler.id, "reason": "Min"}).status_code == 200
    assert _ask(first, case.id, "police").status_code == 201
    moved = {"handler_id": org.colleague.id, "reason": "Ferie"}
    assert first.post(assign, moved).status_code == 200

    page = second.get(f"/cases/{case.id}/retention").get_data(as_text=True)
    assert "Melderen ble spurt" in page
    assert 'name="recipients" value="nav"' in page
    assert "Spør melderen" not in first.get(f"/cases/{case.id}/retention").get_data(as_text=True)
    refused = _ask(first, case.id, "nav")
    assert refused.status_code == 400
    assert "Bare saksbehandleren som har saken" in refused.get_json()["errors"]["recipients"][0]

    told = {u: _unread(app, u) for u in (org.handler.id, org.colleague.id)}
    mine = f"/api/v1/reports/{case.report_id}/identity-consent"
    assert api(org.employee).put(mine, {"recipients": ["police"]}).status_code == 200
    assert _unread(app, org.colleague.id) == told[org.colleague.id] + 1
    assert _unread(app, org.handler.id) == told[org.handler.id]
    # The reporter is "reporter" in the audit log, never their account.
    assert _audited(app, "case.identity_consent")[-1][0] == "reporter"


def test_a_varsel_moved_off_the_varsel_track_can_still_be_asked_about(app, org, submit, api):
    """The reporter stays protected after the case leaves the varsel track: the question
    can still be asked and answered, and the answer still counts."""
    case = submit(org.employee, unit_id=org.ward.id, **VARSEL)
    reporter = api(org.employee)
    moved = api(org.whistle_handler).put(
        f"/api/v1/cases/{case.id}/track", {"track": "hms_deviation"}
    )
    assert moved.status_code == 200, moved.get_json()
    handler = api(org.handler)  # the HMS group has it now
    asked = _ask(handler, case.id, "police")
    assert asked.status_code == 201, asked.get_json()
    mine = f"/api/v1/reports/{case.report_id}/identity-consent"
    assert [q["recipient"] for q in reporter.get(mine).get_json()["asked"]] == ["police"]
    assert reporter.put(mine, {"recipients": []}).status_code == 200
    assert _events(handler, case.id, "identity_consent_refused") == [["police"]]
    body = {"recipient": "police", "reason": "police_report", "sections": ["reporter"]}
    doc = handler.post(f"/api/v1/cases/{case.id}/exports", {**body, "format": "json"})
    assert "reporter" not in doc.get_json()


def test_nothing_left_to_ask_shows_no_ask_section(app, org, submit, api):
    case = submit(org.employee, unit_id=org.ward.id, **VARSEL)
    everyone = ["police", "labour_inspection", "nav", "other_authority"]
    mine = f"/api/v1/reports/{case.report_id}/identity-consent"
    assert api(org.employee).put(mine, {"recipients": everyone}).status_code == 200
    html = api(org.whistle_handler).get(f"/cases/{case.id}/retention").get_data(as_text=True)
    assert 'id="h-ask-consent"' not in html
    assert "Politiet" in html  # whom they agreed to is still said


def test_a_tab_showing_an_earlier_question_does_not_refuse_it_asked_again(app, org, submit, api):
    """The reporter's page shows "police?" in one tab. In another they agree, then
    withdraw, and the handler asks again. The first tab, saved unticked, answered the
    earlier question, not the new one: the new one stays waiting, and the page that
    shows it answers it."""
    import re

    case = submit(org.employee, unit_id=org.ward.id, **VARSEL)
    handler, reporter = api(org.whistle_handler), api(org.employee)
    page = f"/my-reports/{case.report_id}/case"
    mine = f"/api/v1/reports/{case.report_id}/identity-consent"
    assert _ask(handler, case.id, "police").status_code == 201
    first_tab = reporter.get(page).get_data(as_text=True)
    [until] = re.findall(r'name="asked_until" value="([^"]+)"', first_tab)

    assert reporter.put(mine, {"recipients": ["police"]}).status_code == 200
    assert reporter.put(mine, {"recipients": []}).status_code == 200
    assert _ask(handler, case.id, "police").status_code == 201

    stale = {
        "csrf_token": reporter.token,
        "recipients": [],
        "answering": ["police"],
        "asked_until": until,
    }
    assert reporter.client.post(f"{page}/identity-consent", data=stale).status_code == 303
    assert _events(handler, case.id, "identity_consent_refused") == []
    assert [a["recipient"] for a in reporter.get(mine).get_json()["asked"]] == ["police"]

    html = reporter.get(page).get_data(as_text=True)
    [now_until] = re.findall(r'name="asked_until" value="([^"]+)"', html)
    assert now_until != until
    shown = {**stale, "asked_until": now_until}
    assert reporter.client.post(f"{page}/identity-consent", data=shown).status_code == 303
    assert _events(handler, case.id, "identity_consent_refused") == [["police"]]


def test_a_bad_asked_until_is_refused_by_its_field(app, org, submit, api):
    case = submit(org.employee, unit_id=org.ward.id, **VARSEL)
    mine = f"/api/v1/reports/{case.report_id}/identity-consent"
    for bad in ("yesterday", "2026-13-40T00:00:00+00:00", "2026-12-01T10:00:00", 7):
        answer = api(org.employee).put(mine, {"recipients": [], "asked_until": bad})
        assert answer.status_code == 400, bad
        assert list(answer.get_json()["errors"]) == ["asked_until"], bad
