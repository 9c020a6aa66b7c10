"""Every kind of notification reaches the right people and no one else.

Cases are opened through reporting's real intake; steps go through handling's services;
the tick runs for real and the e-mails arrive at a real SMTP server.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from flask import Flask

from handling import service
from handling.erasure import erase_case
from handling.models import HandlerGroupEscalation
from handling.states import CaseState, Track
from notifications.kinds import Kind
from notifications.models import NotificationPreference, NotificationProfile
from tests.factories import choose_language, form_login, form_token, user_obj
from tests.handling.conftest import Org, get_case
from tests.notifications.conftest import run_tick
from tests.notifications.support import kinds_by_user, rows
from trygg import privacy
from trygg.extensions import db
from trygg.roles import Role

# Words a mail must never contain: the unit, the incident, the text, the track.
FORBIDDEN = (
    "Akutten",
    "Sykehuset",
    "threat",
    "trussel",
    "Trussel",
    "patient",
    "varsel",
    "Varsel",
    "Whistleblowing",
    "HSE",
    "HMS",
    "refused a request",
)


def _contacts(app, group_id, *users):
    with app.app_context():
        for user in users:
            db.session.add(HandlerGroupEscalation(group_id=group_id, user_id=user.id))
        db.session.commit()


def test_a_new_case_reaches_its_handlers_only_and_mail_says_nothing(smtp_app, org, submit, mailbox):
    case = submit(org.employee, unit_id=org.ward.id, exposed=[{"user_id": org.colleague.id}])
    got = kinds_by_user(smtp_app)
    # The colleague is named as exposed: excluded, never told. Manager, admin: nothing.
    assert got == {org.handler.id: [Kind.CASE_NEW]}

    run_tick(smtp_app)
    assert [m.rcpt for m in mailbox.messages] == [[org.handler.email]]
    mail = mailbox.messages[0]
    text = mailbox.text(mail)
    assert f"https://trygg.example.org/cases/{case.id}" in text
    assert "A new case has arrived" in text or "ny sak" in text
    assert {p.get_content_type() for p in mail.message.walk()} >= {"text/plain", "text/html"}
    for word in FORBIDDEN:
        assert word not in text, word
        assert word not in str(mail.message["Subject"]), word
    assert mail.message["Message-ID"]


def test_a_varsel_reads_exactly_like_an_hms_avvik(smtp_app, org, submit, mailbox):
    submit(org.employee, unit_id=org.ward.id)
    submit(
        org.employee,
        unit_id=org.ward.id,
        incident_types=["sexual_harassment"],
        counterpart_category="colleague",
    )
    run_tick(smtp_app)
    by_person = {m.rcpt[0]: m for m in mailbox.messages}
    hms, whistle = by_person[org.handler.email], by_person[org.whistle_handler.email]
    assert hms.message["Subject"] == whistle.message["Subject"]
    strip = lambda m: mailbox.text(m).split("/cases/")[0]  # noqa: E731 - the link differs
    assert strip(hms) == strip(whistle)


def test_reassignment_tells_only_the_new_handler(app, org, submit):
    case = submit(org.employee, unit_id=org.ward.id)
    before = len(rows(app))
    with app.app_context():
        service.assign(
            get_case(case.id), user_obj(org.colleague), None, actor=user_obj(org.handler)
        )
        db.session.commit()
    new = rows(app)[before:]
    assert [(r.user_id, r.kind) for r in new] == [(org.colleague.id, Kind.CASE_ASSIGNED)]


def test_taking_a_case_yourself_tells_no_one(app, org, submit):
    case = submit(org.employee, unit_id=org.ward.id)
    before = len(rows(app))
    with app.app_context():
        service.assign(get_case(case.id), user_obj(org.handler), None, actor=user_obj(org.handler))
        db.session.commit()
    assert len(rows(app)) == before


def test_a_reporters_message_goes_to_the_assigned_handler(app, org, submit):
    case = submit(org.employee, unit_id=org.ward.id)
    with app.app_context():
        service.assign(get_case(case.id), user_obj(org.handler), None, actor=user_obj(org.handler))
        report = get_case(case.id).report
        service.post_reporter_message(report, "More details", actor="reporter")
        db.session.commit()
    messages = [r for r in rows(app) if r.kind == Kind.CASE_MESSAGE]
    assert [r.user_id for r in messages] == [org.handler.id]
    # It leads to the case's messages, not to the case page's first section.
    assert [r.link for r in messages] == [f"/cases/{case.id}#h-messages"]


def test_a_reporters_message_on_an_unassigned_case_goes_to_the_group(app, org, submit):
    case = submit(org.employee, unit_id=org.ward.id)
    with app.app_context():
        service.post_reporter_message(get_case(case.id).report, "More", actor="reporter")
        db.session.commit()
    messages = [r.user_id for r in rows(app) if r.kind == Kind.CASE_MESSAGE]
    assert sorted(messages) == sorted([org.handler.id, org.colleague.id])


def test_a_handlers_message_and_feedback_reach_the_reporter_discreetly(app, org, submit):
    case = submit(org.employee, unit_id=org.ward.id, confidential=True)
    with app.app_context():
        row = get_case(case.id)
        service.post_message(row, user_obj(org.handler), "Can we talk?")
        service.post_message(row, user_obj(org.handler), "Internal only", internal=True)
        db.session.commit()
    updates = [r for r in rows(app) if r.kind == Kind.REPORT_UPDATE]
    assert [r.user_id for r in updates] == [org.employee.id]
    row = updates[0]
    # Nothing in the row ties the reporter to the case: no subject, a general link, a
    # keyed-hash key, a random id and the day only.
    assert row.subject is None
    assert row.link == "/my-reports"
    assert row.dedupe_key.startswith("h:")
    assert f"case:{case.id}" not in row.dedupe_key
    assert row.id >= 1_000_000_000
    assert row.created_at.astimezone(service.OSLO).time().hour == 0


def test_feedback_when_the_case_closes_reaches_the_reporter(app, org, submit):
    case = submit(org.employee, unit_id=org.ward.id)
    with app.app_context():
        handler = user_obj(org.handler)
        service.transition(
            get_case(case.id), CaseState.FORWARDED, actor=handler, forwarded_to="police"
        )
        service.transition(
            get_case(case.id),
            CaseState.CLOSED,
            actor=handler,
            closing_note="Done.",
            causes=["staffing"],
            feedback="Thank you; we have acted.",
            no_follow_up_reason="Not needed.",
        )
        db.session.commit()
    assert kinds_by_user(app)[org.employee.id] == [Kind.REPORT_UPDATE]


def test_an_anonymous_reporter_gets_nothing_and_handlers_get_no_exact_time(app, org, submit):
    case = submit(None, unit_id=org.ward.id)
    with app.app_context():
        row = get_case(case.id)
        assert row.report.anonymous
        service.post_message(row, user_obj(org.handler), "Please tell us more")
        db.session.commit()
    assert not [r for r in rows(app) if r.kind == Kind.REPORT_UPDATE]
    new_case = [r for r in rows(app) if r.kind == Kind.CASE_NEW]
    assert new_case
    assert all(r.created_at.astimezone(service.OSLO).hour == 0 for r in new_case)


def test_section_5_2_goes_at_once_to_the_escalation_contacts(app, org, submit):
    _contacts(app, org.hms, org.fallback_handler)
    submit(org.employee, unit_id=org.ward.id, severity=4)
    got = kinds_by_user(app)
    assert got[org.fallback_handler.id] == [Kind.SECTION_5_2]
    assert Kind.SECTION_5_2 not in got.get(org.admin.id, [])
    s52 = next(r for r in rows(app) if r.kind == Kind.SECTION_5_2)
    # Not a handler of the case: linked to their list, not to a case they cannot open;
    # the list offers to mark it read rather than an "Open" that goes nowhere.
    assert s52.link == "/notifications"
    client = app.test_client()
    form_login(client, org.fallback_handler)
    choose_language(client, "en")
    listed = client.get("/notifications").get_data(as_text=True).split("<main", 1)[1]
    assert ">Mark as read<" in listed
    assert ">Open<" not in listed


def test_section_5_2_without_contacts_goes_to_the_admins(app, org, submit):
    submit(org.employee, unit_id=org.ward.id, severity=4)
    assert kinds_by_user(app)[org.admin.id] == [Kind.SECTION_5_2]
    # An administrator cannot open the case: "Open" takes them to the group's page,
    # where they can give the group handlers.
    [s52] = [r for r in rows(app) if r.kind == Kind.SECTION_5_2 and r.user_id == org.admin.id]
    assert s52.link == f"/admin/handler-groups/{org.hms}"


def test_a_deadline_escalation_to_an_admin_opens_the_groups_page(app, org, submit, clock):
    case = submit(org.employee, unit_id=org.ward.id)
    _id, due = _deadline(app, case.id, "acknowledge")
    clock.move_to(due + timedelta(minutes=1))
    run_tick(app)
    [late] = [
        r
        for r in rows(app)
        if r.kind == Kind.DEADLINE_ESCALATION
        and r.user_id == org.admin.id
        and r.subject == f"deadline:{_id}"
    ]
    assert late.link == f"/admin/handler-groups/{org.hms}"
    client = app.test_client()
    form_login(client, org.admin)
    token = form_token(client, "/notifications")
    opened = client.post(f"/notifications/{late.id}/open", data={"csrf_token": token})
    assert opened.status_code == 303
    assert opened.headers["Location"].endswith(f"/admin/handler-groups/{org.hms}")
    assert client.get(opened.headers["Location"]).status_code == 200


def _triage(app: Flask, org: Org, case_id: int, *, section_5_2: bool) -> None:
    """The handler acknowledges the case and triages it as an HMS deviation."""
    with app.app_context():
        handler = user_obj(org.handler)
        service.transition(get_case(case_id), CaseState.ACKNOWLEDGED, actor=handler)
        service.transition(
            get_case(case_id),
            CaseState.TRIAGED,
            actor=handler,
            track=Track.HMS_DEVIATION,
            section_5_2=section_5_2,
        )
        db.session.commit()


def test_section_5_2_flagged_at_triage(app, org, submit):
    case = submit(org.employee, unit_id=org.ward.id)
    _triage(app, org, case.id, section_5_2=True)
    assert kinds_by_user(app)[org.admin.id] == [Kind.SECTION_5_2]


def test_section_5_2_of_an_anonymous_report_is_dated_to_the_day_a_handlers_flag_is_not(
    app, org, submit
):
    """A serious injury in an anonymous report flags § 5-2 as the case opens: the rows
    that tell the escalation contacts were caused by the anonymous reporter, and are
    dated to the day like the new case's (random id, hashed key, no subject), in the
    database, the in-app list and the API. A handler who flags § 5-2 later on another
    anonymous case acts at a time of their own, which tells nothing of the reporter."""
    _contacts(app, org.hms, org.fallback_handler)
    submit(None, unit_id=org.ward.id, severity=4)
    [s52] = [r for r in rows(app) if r.kind == Kind.SECTION_5_2]
    assert s52.user_id == org.fallback_handler.id
    oslo = s52.created_at.astimezone(service.OSLO)
    assert (oslo.hour, oslo.minute, oslo.second, oslo.microsecond) == (0, 0, 0, 0)
    assert s52.id >= privacy.RANDOM_ID_MIN
    assert s52.dedupe_key.startswith("h:")
    assert s52.subject is None
    client = app.test_client()
    form_login(client, org.fallback_handler)
    listed = client.get("/notifications").get_data(as_text=True).split("<main", 1)[1]
    assert not re.search(r"\d{2}[:.]\d{2}", listed), listed
    [item] = client.get("/api/v1/notifications").get_json()["items"]
    at = datetime.fromisoformat(item["created_at"]).astimezone(service.OSLO)
    assert (at.hour, at.minute) == (0, 0)

    later = submit(None, unit_id=org.ward.id)
    _triage(app, org, later.id, section_5_2=True)
    [flagged] = [r for r in rows(app) if r.kind == Kind.SECTION_5_2 and r.id != s52.id]
    assert flagged.id < privacy.RANDOM_ID_MIN
    assert flagged.subject == f"case:{later.id}"


@pytest.mark.parametrize("anonymous", [True, False])
def test_section_5_2_flagged_again_is_not_told_again(app, org, submit, anonymous):
    """A serious injury flags § 5-2 as the case opens; at triage the handler clears it,
    then sets it again. The escalation contact was told once that a notice to the
    Labour Inspection Authority and the police is due, and is not told again: for an
    anonymous report the first row is discreet (a hashed key), and the handler's flag,
    written under the plain key, was a second notice (a second e-mail)."""
    _contacts(app, org.hms, org.fallback_handler)
    case = submit(None if anonymous else org.employee, unit_id=org.ward.id, severity=4)
    assert len([r for r in rows(app) if r.kind == Kind.SECTION_5_2]) == 1
    _triage(app, org, case.id, section_5_2=False)
    with app.app_context():
        service.update_section52(get_case(case.id), actor=user_obj(org.handler), required=True)
        db.session.commit()
        assert get_case(case.id).section_5_2
    told = [r for r in rows(app) if r.kind == Kind.SECTION_5_2]
    assert [r.user_id for r in told] == [org.fallback_handler.id]


def test_section_5_2_of_an_anonymous_report_is_forgotten_with_its_case(app, org, submit):
    """Retention deletes a case with every notification about it. The § 5-2 rows of an
    anonymous report carry no subject (dated to the day) and, for those who cannot open
    the case, link elsewhere (the escalation contact's list, the administrator's handler
    group page): they must go with the case all the same, as a named report's do."""
    _contacts(app, org.hms, org.fallback_handler)
    anonymous = submit(None, unit_id=org.ward.id, severity=4)
    named = submit(org.employee, unit_id=org.ward.id, severity=4)
    s52 = [r for r in rows(app) if r.kind == Kind.SECTION_5_2]
    assert len(s52) == 2
    with app.app_context():
        for ref in (anonymous, named):
            erase_case(get_case(ref.id), month=date.today().replace(day=1))
        db.session.commit()
    assert [r for r in rows(app) if r.kind == Kind.SECTION_5_2] == []


def _deadline(app, case_id, kind):
    with app.app_context():
        found = next(d for d in get_case(case_id).deadlines if d.kind == kind)
        return found.id, found.due_at


def test_reminder_before_and_escalation_after_a_deadline(app, org, submit, clock):
    _contacts(app, org.hms, org.whistle_handler)
    case = submit(org.employee, unit_id=org.ward.id, exposed=[{"user_id": org.colleague.id}])
    _id, due = _deadline(app, case.id, "acknowledge")
    clock.move_to(due - timedelta(hours=23))  # the default lead time is a day
    run_tick(app)
    reminders = [r for r in rows(app) if r.kind == Kind.DEADLINE_REMINDER]
    acknowledge = [r for r in reminders if r.subject == f"deadline:{_id}"]
    assert [r.user_id for r in acknowledge] == [org.handler.id]  # the colleague is excluded
    clock.move_to(due + timedelta(minutes=1))
    run_tick(app)
    late = [r for r in rows(app) if r.kind == Kind.DEADLINE_ESCALATION]
    assert {r.user_id for r in late} == {org.whistle_handler.id}
    assert org.admin.id not in {r.user_id for r in late}
    run_tick(app)  # nothing twice
    assert len([r for r in rows(app) if r.kind == Kind.DEADLINE_ESCALATION]) == len(late)


def test_an_excluded_escalation_contact_hears_nothing(app, org, submit, clock):
    _contacts(app, org.hms, org.colleague)
    case = submit(org.employee, unit_id=org.ward.id, exposed=[{"user_id": org.colleague.id}])
    _id, due = _deadline(app, case.id, "acknowledge")
    clock.move_to(due + timedelta(minutes=1))
    run_tick(app)
    assert org.colleague.id not in kinds_by_user(app)


def test_a_follow_up_task_due_soon_and_overdue_reaches_its_responsible(app, org, submit, clock):
    case = submit(org.employee, unit_id=org.ward.id)
    due = datetime.now(UTC) + timedelta(days=3)
    with app.app_context():
        service.add_task(
            get_case(case.id),
            actor=user_obj(org.handler),
            template="bht_offer",
            responsible_user_id=org.colleague.id,
            due_at=due,
        )
        db.session.commit()
    run_tick(app)
    assert Kind.TASK_DUE not in kinds_by_user(app).get(org.colleague.id, [])
    clock.move_to(due - timedelta(hours=2))
    run_tick(app)
    clock.move_to(due + timedelta(hours=1))
    run_tick(app)
    run_tick(app)
    tasks = [r for r in rows(app) if r.kind == Kind.TASK_DUE]
    assert [r.user_id for r in tasks] == [org.colleague.id, org.colleague.id]


def test_a_person_made_responsible_for_a_task_hears_of_it_at_once(app, org, submit):
    """The manager learns of the task when it is given, not a day before it is due; a
    handler who takes a task themselves is not told what they just did."""
    case = submit(org.employee, unit_id=org.ward.id)
    with app.app_context():
        row = get_case(case.id)
        given = service.add_task(
            row, actor=user_obj(org.handler), template="leader_contact",
            responsible_user_id=org.manager.id,
        )  # fmt: skip
        service.add_task(
            row, actor=user_obj(org.handler), template="bht_offer",
            responsible_user_id=org.handler.id,
        )  # fmt: skip
        db.session.commit()
        given_id = given.id
    told = [r for r in rows(app) if r.kind == Kind.TASK_ASSIGNED]
    assert [(r.user_id, r.link) for r in told] == [(org.manager.id, "/my-tasks")]
    with app.app_context():
        row = get_case(case.id)
        task = service.get_task(row, given_id)
        service.update_task(row, task, actor=user_obj(org.handler), note="Ring henne i dag.")
        service.update_task(
            row, task, actor=user_obj(org.handler), responsible_user_id=org.colleague.id
        )
        db.session.commit()
    told = [r for r in rows(app) if r.kind == Kind.TASK_ASSIGNED]
    # A change of note tells no one; the new responsible handler opens the case itself.
    assert [(r.user_id, r.link) for r in told] == [
        (org.manager.id, "/my-tasks"),
        (org.colleague.id, f"/cases/{case.id}"),
    ]


def test_a_task_given_close_to_its_due_time_is_one_mail_not_two(app, org, submit, clock):
    """Given five hours before it is due, the task's own mail is the reminder: no "due
    soon" right behind it, but still the one when it is overdue. Someone who reads such
    notices in the evening digest gets the "due soon" mail at once."""
    case = submit(org.employee, unit_id=org.ward.id)
    due = datetime.now(UTC) + timedelta(hours=5)
    with app.app_context():
        db.session.add(
            NotificationPreference(
                user_id=org.colleague.id, kind=Kind.TASK_ASSIGNED, delivery="digest"
            )
        )
        for person in (org.manager, org.colleague):
            service.add_task(
                get_case(case.id), actor=user_obj(org.handler), template="bht_offer",
                responsible_user_id=person.id, due_at=due,
            )  # fmt: skip
        db.session.commit()
    run_tick(app)
    got = kinds_by_user(app)
    assert got[org.manager.id] == [Kind.TASK_ASSIGNED]
    # (the colleague, a handler of the group, also heard of the new case)
    assert {Kind.TASK_ASSIGNED, Kind.TASK_DUE} <= set(got[org.colleague.id])
    clock.move_to(due + timedelta(hours=1))
    run_tick(app)
    run_tick(app)
    late = sorted(
        r.user_id for r in rows(app) if r.kind == Kind.TASK_DUE and ":late:" in r.dedupe_key
    )
    assert late == sorted([org.manager.id, org.colleague.id])


def test_a_task_given_close_to_its_due_time_still_reminds_a_substitute_who_was_not_mailed(
    app, org, submit
):
    """The responsible person is away: their substitute hears of the task too, and of
    it being due soon. A substitute who reads "task given" in the digest got no mail at
    once, so the "due soon" one is not held back for them."""
    case = submit(org.employee, unit_id=org.ward.id)
    due = datetime.now(UTC) + timedelta(hours=5)
    with app.app_context():
        db.session.add(
            NotificationProfile(user_id=org.colleague.id, away=True, substitute_id=org.handler.id)
        )
        db.session.add(
            NotificationPreference(
                user_id=org.handler.id, kind=Kind.TASK_ASSIGNED, delivery="digest"
            )
        )
        service.add_task(
            get_case(case.id), actor=user_obj(org.fallback_handler), template="bht_offer",
            responsible_user_id=org.colleague.id, due_at=due,
        )  # fmt: skip
        db.session.commit()
    run_tick(app)
    soon = [r for r in rows(app) if r.kind == Kind.TASK_DUE and ":soon:" in r.dedupe_key]
    assert org.handler.id in {r.user_id for r in soon}


def _colleagues_task_then_recused(org, case_id, due) -> None:
    """(in an app context) A task for the colleague, who then steps aside from the case."""
    service.add_task(
        get_case(case_id), actor=user_obj(org.handler), template="bht_offer",
        responsible_user_id=org.colleague.id, due_at=due,
    )  # fmt: skip
    service.recuse(get_case(case_id), user_obj(org.colleague), "Jeg kjenner henne.")


def test_a_responsible_person_who_stepped_aside_hears_nothing_the_handlers_do(
    app, org, submit, clock
):
    """The task is off their list: the case's handlers hear it is overdue instead (and
    the case page says to choose someone else), so it is not left unreminded."""
    case = submit(org.employee, unit_id=org.ward.id)
    due = datetime.now(UTC) + timedelta(days=3)
    with app.app_context():
        _colleagues_task_then_recused(org, case.id, due)
        db.session.commit()
    clock.move_to(due + timedelta(hours=1))
    run_tick(app)
    run_tick(app)
    told = [(r.user_id, r.link) for r in rows(app) if r.kind == Kind.TASK_DUE]
    assert told == [(org.handler.id, f"/cases/{case.id}")]


def test_a_task_given_to_someone_else_reminds_them_and_no_one_twice(app, org, submit, clock):
    """The reminders follow the task to its new responsible person; the one who had it
    is not told again."""
    case = submit(org.employee, unit_id=org.ward.id)
    due = datetime.now(UTC) + timedelta(days=3)
    with app.app_context():
        task = service.add_task(
            get_case(case.id), actor=user_obj(org.handler), template="bht_offer",
            responsible_user_id=org.colleague.id, due_at=due,
        )  # fmt: skip
        task_id = task.id
        db.session.commit()
    clock.move_to(due - timedelta(hours=2))
    run_tick(app)
    with app.app_context():
        row = get_case(case.id)
        service.update_task(
            row, service.get_task(row, task_id), actor=user_obj(org.handler),
            responsible_user_id=org.handler.id,
        )  # fmt: skip
        db.session.commit()
    run_tick(app)
    clock.move_to(due + timedelta(hours=1))
    run_tick(app)
    run_tick(app)
    told = sorted(
        (r.user_id, r.dedupe_key.split(":")[2]) for r in rows(app) if r.kind == Kind.TASK_DUE
    )
    assert told == sorted(
        [
            (org.colleague.id, "soon"),
            (org.handler.id, "soon"),
            (org.handler.id, "late"),
        ]
    )


def test_a_task_no_one_may_take_over_goes_to_the_administrators(app, org, submit, clock):
    """Its responsible person stepped aside and no handler of the group is left: told
    as a passed deadline is, to the administrators, at the group's page."""
    case = submit(org.employee, unit_id=org.ward.id)
    due = datetime.now(UTC) + timedelta(days=3)
    with app.app_context():
        _colleagues_task_then_recused(org, case.id, due)
        user_obj(org.handler).active = False
        db.session.commit()
        group_id = get_case(case.id).group_id
    clock.move_to(due + timedelta(hours=1))
    run_tick(app)
    told = [(r.user_id, r.link) for r in rows(app) if r.kind == Kind.TASK_DUE]
    assert told == [(org.admin.id, f"/admin/handler-groups/{group_id}")]


@pytest.mark.parametrize("who", [Role.MANAGER, Role.SAFETY_REP, Role.ADMIN, Role.EMPLOYEE])
def test_people_outside_the_case_hear_nothing_of_it(app, org, submit, who):
    case = submit(org.employee, unit_id=org.ward.id, severity=3)
    with app.app_context():
        row = get_case(case.id)
        service.post_reporter_message(row.report, "More", actor="reporter")
        service.assign(row, user_obj(org.colleague), None, actor=user_obj(org.handler))
        db.session.commit()
    assert getattr(org, who).id not in kinds_by_user(app)
