"""A leader's "My tasks": the task, what to do, marking it done; and each role's start.

The leader sees only what the task needs (its kind, due time, the case's reference and
unit, what to do and, for a contact task, whom to contact), never the report's text or
the handlers' note; the reading of the name is audited; marking done is a form with
CSRF, audited, and the handler sees it on the case.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from handling import service
from handling.erasure import erase_case
from handling.models import FollowUpTask
from handling.states import CaseState
from notifications import inbox as notifications
from notifications.kinds import Kind
from notifications.models import Notification
from notifications.service import Event, notify_many
from reporting.home import LATEST
from tests.factories import form_login, user_obj
from tests.handling.conftest import get_case
from tests.handling.test_pages import Browser, page_text, redirected_to
from tests.kernel.conftest import inbox  # noqa: F401 - a fixture
from tests.kernel.test_separation import set_password_with_code
from tests.notifications.conftest import mailbox  # noqa: F401 - a fixture
from trygg.accounts.models import User
from trygg.audit import AuditEntry
from trygg.extensions import db
from trygg.roles import Role

NARRATIVE = "The patient threatened to hit me when I refused a request."


@pytest.fixture
def login(app: Flask) -> Any:
    return lambda user: Browser(app, user)


def give_task(app: Flask, org: Any, case_id: int, template: str = "leader_contact") -> int:
    with app.app_context():
        task = service.add_task(
            get_case(case_id),
            actor=user_obj(org.handler),
            template=template,
            responsible_user_id=org.manager.id,
            due_at=datetime.now(UTC) + timedelta(hours=5),
            note="Handler's private note about the talk.",
        )
        db.session.commit()
        return task.id


def audit_rows(app: Flask, object_type: str, object_id: int, action: str) -> list[AuditEntry]:
    with app.app_context():
        return list(
            db.session.scalars(
                select(AuditEntry).where(
                    AuditEntry.object_type == object_type,
                    AuditEntry.object_id == str(object_id),
                    AuditEntry.action == action,
                )
            )
        )


def reference(app: Flask, case_id: int) -> str:
    with app.app_context():
        return get_case(case_id).report.reference


def test_a_leader_sees_what_the_task_needs_and_no_more(app, org, submit, login):
    ref = submit(org.employee, unit_id=org.ward.id)
    give_task(app, org, ref.id)
    reads_before = len(audit_rows(app, "case", ref.id, "case.read"))
    page = login(org.manager).text("/my-tasks")
    main = page.split("<main", 1)[1]
    assert "Leader contacts the exposed employee" in main
    assert reference(app, ref.id) in main
    assert "Akutten post 2" in main
    assert "Due within 24 hours" in main
    assert "Contact the exposed employee soon" in main
    # Whom to contact: the exposed employee (the reporter, reporting for themselves).
    assert "Ella Employee" in main
    assert NARRATIVE not in main
    assert "Handler's private note" not in main
    assert 'name="csrf_token"' in main
    reads = audit_rows(app, "case", ref.id, "case.read")
    assert len(reads) == reads_before + 1
    assert reads[-1].detail_dict()["part"] == "task"
    assert reads[-1].actor == f"user:{org.manager.id}"
    report_reads = audit_rows(app, "report", ref.report_id, "report.read")
    assert report_reads[-1].detail_dict()["part"] == "task"


def test_a_task_that_needs_no_name_opens_nothing(app, org, submit, login):
    ref = submit(org.employee, unit_id=org.ward.id)
    give_task(app, org, ref.id, template="learning_review")
    reads_before = len(audit_rows(app, "case", ref.id, "case.read"))
    main = login(org.manager).text("/my-tasks").split("<main", 1)[1]
    assert "Learning review" in main
    assert "Ella Employee" not in main
    assert len(audit_rows(app, "case", ref.id, "case.read")) == reads_before


def test_an_anonymous_reports_task_shows_no_name(app, org, submit, login):
    ref = submit(
        None,
        unit_id=org.ward.id,
        exposed=[{"user_id": org.employee.id, "name": "Ella Employee"}],
    )
    give_task(app, org, ref.id)
    main = login(org.manager).text("/my-tasks").split("<main", 1)[1]
    assert "Leader contacts the exposed employee" in main
    assert "Ella Employee" not in main
    # Not a blank: the leader is told who will say whom to contact.
    assert re.findall(r"<dt>Who to contact</dt><dd>(.*?)</dd>", main) == [
        "The report names no one you can be shown here: the case handler tells you whom to contact."
    ]


def test_a_task_of_a_case_the_person_was_excluded_from_is_not_listed(app, org, submit, login):
    """A handler made responsible for a contact task who then steps aside (a conflict of
    interest) no longer sees the task, nor the exposed employee's name."""
    ref = submit(org.employee, unit_id=org.ward.id)
    with app.app_context():
        case = get_case(ref.id)
        service.add_task(
            case, actor=user_obj(org.handler), template="leader_contact",
            responsible_user_id=org.colleague.id,
        )  # fmt: skip
        db.session.commit()
    browser = login(org.colleague)
    before = browser.text("/my-tasks").split("<main", 1)[1]
    assert reference(app, ref.id) in before
    assert "Ella Employee" in before
    with app.app_context():
        service.recuse(get_case(ref.id), user_obj(org.colleague), "Jeg kjenner den ansatte.")
        db.session.commit()
    reads_before = len(audit_rows(app, "case", ref.id, "case.read"))
    main = browser.text("/my-tasks").split("<main", 1)[1]
    assert reference(app, ref.id) not in main
    assert "Ella Employee" not in main
    assert len(audit_rows(app, "case", ref.id, "case.read")) == reads_before


def test_the_handlers_are_told_when_a_tasks_responsible_person_was_excluded(
    app, org, submit, login
):
    """The task is off the excluded person's list and they get no reminders: the case
    page and the API say so, until someone else is responsible."""
    ref = submit(org.employee, unit_id=org.ward.id)
    with app.app_context():
        task = service.add_task(
            get_case(ref.id), actor=user_obj(org.handler), template="individual_talk",
            responsible_user_id=org.colleague.id,
        )  # fmt: skip
        task_id = task.id
        db.session.commit()
    browser = login(org.handler)  # English pages
    flagged = "Kari Kollega can no longer see this case"

    def task_json() -> dict[str, Any]:
        tasks = browser.get(f"/api/v1/cases/{ref.id}").get_json()["tasks"]
        return next(t for t in tasks if t["id"] == task_id)

    assert task_json()["responsible_excluded"] is False
    assert flagged not in browser.text(f"/cases/{ref.id}")
    with app.app_context():
        service.recuse(get_case(ref.id), user_obj(org.colleague), "Jeg kjenner den ansatte.")
        db.session.commit()
    assert task_json()["responsible_excluded"] is True
    assert flagged in browser.text(f"/cases/{ref.id}")
    moved = browser.client.patch(
        f"/api/v1/cases/{ref.id}/tasks/{task_id}",
        json={"responsible_user_id": org.handler.id},
        headers={"X-CSRFToken": browser.token},
    )
    assert moved.status_code == 200, moved.get_json()
    assert moved.get_json()["responsible_excluded"] is False
    assert flagged not in browser.text(f"/cases/{ref.id}")


def test_marking_done_with_a_note_shows_on_the_handlers_case(app, org, submit, login):
    ref = submit(org.employee, unit_id=org.ward.id)
    task_id = give_task(app, org, ref.id)
    leader = login(org.manager)
    r = leader.post(f"/my-tasks/{task_id}/done", {"note": "Talked on Monday; she is OK."})
    assert redirected_to(r, "/my-tasks")
    page = leader.text("/my-tasks")
    assert "The task is marked as done" in page
    assert "You have no open tasks." in page
    assert "Recently done" in page
    with app.app_context():
        task = db.session.get(FollowUpTask, task_id)
        assert task is not None
        assert task.status == "done"
        assert task.completed_at is not None
    case_page = login(org.handler).text(f"/cases/{ref.id}")
    assert "Handler's private note about the talk." in case_page
    assert "Mona Manager" in case_page
    assert "Talked on Monday; she is OK." in case_page
    assert "Leader contacts the exposed employee: Done" in case_page
    updates = audit_rows(app, "case", ref.id, "case.task.update")
    assert updates[-1].actor == f"user:{org.manager.id}"
    # The leader-contact deadline is met by the task.
    with app.app_context():
        kinds = {d.kind for d in get_case(ref.id).deadlines if d.met_at is not None}
    assert "leader_contact" in kinds


def test_marking_done_needs_the_form_token(app, org, submit):
    ref = submit(org.employee, unit_id=org.ward.id)
    task_id = give_task(app, org, ref.id)
    client = app.test_client()
    form_login(client, org.manager)
    assert client.post(f"/my-tasks/{task_id}/done", data={"note": "x"}).status_code == 400
    with app.app_context():
        assert db.session.get(FollowUpTask, task_id).status == "open"  # type: ignore[union-attr]


@pytest.mark.parametrize("who", [Role.HANDLER, Role.EMPLOYEE, Role.SAFETY_REP, Role.ADMIN])
def test_only_the_responsible_person_may_mark_it_done(app, org, submit, login, who):
    ref = submit(org.employee, unit_id=org.ward.id)
    task_id = give_task(app, org, ref.id)
    other = login(getattr(org, who))
    assert other.post(f"/my-tasks/{task_id}/done", {"note": "x"}).status_code == 404
    assert other.post("/my-tasks/99999/done", {"note": "x"}).status_code == 404
    assert "Leader contacts" not in other.text("/my-tasks").split("<main", 1)[1]


def test_refusals_say_what_to_fix(app, org, submit, login):
    ref = submit(org.employee, unit_id=org.ward.id)
    task_id = give_task(app, org, ref.id)
    leader = login(org.manager)
    r = leader.post(f"/my-tasks/{task_id}/done", {"note": "x" * 2001})
    assert r.status_code == 400
    assert "Make the note shorter (at most 2,000 characters)." in page_text(r)
    assert redirected_to(leader.post(f"/my-tasks/{task_id}/done", {"note": ""}), "/my-tasks")
    r = leader.post(f"/my-tasks/{task_id}/done", {"note": ""})
    assert r.status_code == 400
    assert "This task is no longer open." in page_text(r)


def test_a_closed_cases_task_is_not_listed_and_cannot_be_done(app, org, submit, login):
    ref = submit(org.employee, unit_id=org.ward.id)
    task_id = give_task(app, org, ref.id)
    with app.app_context():
        case = get_case(ref.id)
        case.state = CaseState.CLOSED
        db.session.commit()
    leader = login(org.manager)
    assert "You have no open tasks." in leader.text("/my-tasks")
    r = leader.post(f"/my-tasks/{task_id}/done", {"note": "late"})
    assert r.status_code == 400
    assert "The case is closed." in page_text(r)


def test_the_overdue_email_sends_a_leader_to_my_tasks(app, org, submit):
    ref = submit(org.employee, unit_id=org.ward.id)
    task_id = give_task(app, org, ref.id)
    from handling.notices import tasks_job
    from notifications.models import Notification
    from notifications.scheduler import TickContext

    with app.app_context():
        tasks_job(TickContext(now=datetime.now(UTC) + timedelta(hours=6), owner="test"))
        links = db.session.execute(
            select(Notification.kind, Notification.link)
            .where(
                Notification.subject == f"task:{task_id}",
                Notification.user_id == org.manager.id,
            )
            .order_by(Notification.id)
        ).all()
        db.session.rollback()
    # Told when the task was given (five hours before it was due: that mail is also the
    # "due soon" one), and when it was overdue: both to My tasks.
    assert [tuple(row) for row in links] == [
        ("task_assigned", "/my-tasks"),
        ("task_due", "/my-tasks"),
    ]


# -- start pages ------------------------------------------------------------------------


def landing(app: Flask, user: Any) -> str:
    client = app.test_client()
    response = form_login(client, user)
    return str(response.headers["Location"])


def test_each_role_lands_where_their_day_starts(app, org):
    assert landing(app, org.handler).endswith("/cases")
    assert landing(app, org.manager).endswith("/")
    assert landing(app, org.safety_rep).endswith("/")
    assert landing(app, org.employee).endswith("/")


def test_a_managers_start_page_shows_open_tasks_first(app, org, submit, login):
    ref = submit(org.employee, unit_id=org.ward.id)
    give_task(app, org, ref.id)
    main = login(org.manager).text("/").split("<main", 1)[1]
    tasks_at = main.index('id="h-my-tasks"')
    assert tasks_at < main.index('id="h-report-home"')
    assert "Leader contacts the exposed employee" in main
    assert 'href="/my-tasks"' in main
    # The start page opens nothing sealed: no name there.
    assert "Ella Employee" not in main


def test_the_safety_reps_start_page_links_to_shared_cases_closed_too(org, login):
    main = login(org.safety_rep).text("/").split("<main", 1)[1]
    assert 'href="/cases?state=all"' in main
    assert main.index('id="h-shared-cases"') < main.index('id="h-report-home"')


def test_an_employees_start_page_puts_reporting_first_with_an_unread_marker(
    app, org, submit, login
):
    submit(org.employee, unit_id=org.ward.id)
    page = login(org.employee).text("/")
    main = page.split("<main", 1)[1]
    assert 'id="h-my-tasks"' not in main
    first_section = main.index("<section")
    assert main.index('id="h-report-home"') > first_section
    assert 'class="ds-button" data-variant="primary" href="/report"' in main
    assert "unread update" not in main
    with app.app_context():
        notify_many(
            [Event(Kind.REPORT_UPDATE, [org.employee.id], "test:news", "/my-reports", None)]
        )
        db.session.commit()
    assert "1 unread update" in login(org.employee).text("/")


def test_reading_the_case_clears_the_start_pages_news_marker(app, org, submit, login):
    """The handler writes; the start page says there is news until the reporter has
    read their case, not until they find the notifications page."""
    ref = submit(org.employee, unit_id=org.ward.id)
    other = submit(org.employee, unit_id=org.ward.id)
    with app.app_context():
        for case_id in (ref.id, other.id):
            service.post_message(get_case(case_id), user_obj(org.handler), "Hei, vi ser på saken.")
        db.session.commit()
    employee = login(org.employee)
    assert "2 unread updates" in employee.text("/")
    with app.app_context():
        report_id = get_case(ref.id).report_id
    assert "Hei, vi ser på saken." in employee.text(f"/my-reports/{report_id}/case")
    # The other case's news is still unread.
    assert "1 unread update" in employee.text("/")


def test_my_reports_marks_the_report_with_news_until_its_case_is_read(app, org, submit, login):
    """The notification names no report; the reporter's own lists do. Following the
    notification does not read the news: reading the case does."""
    ref = submit(org.employee, unit_id=org.ward.id)
    other = submit(org.employee, unit_id=org.ward.id)
    with app.app_context():
        service.post_message(get_case(ref.id), user_obj(org.handler), "Hei, vi ser på saken.")
        db.session.commit()
        report_id = get_case(ref.id).report_id
        note_id = db.session.scalar(
            select(Notification.id).where(Notification.user_id == org.employee.id)
        )
    employee = login(org.employee)

    def marked(path: str) -> list[str]:
        rows = employee.text(path).split("<main", 1)[1].split("<tr>" if path != "/" else "<li>")
        return [ref_ for ref_ in (ref.reference, other.reference) for row in rows
                if ref_ in row and "News for you" in row]  # fmt: skip

    assert marked("/my-reports") == [ref.reference]
    assert marked("/") == [ref.reference]
    opened = employee.post(f"/notifications/{note_id}/open", {})
    assert opened.status_code == 303
    assert opened.headers["Location"].endswith("/my-reports")
    assert marked("/my-reports") == [ref.reference]
    assert "News for you" in employee.text(f"/my-reports/{report_id}")
    employee.text(f"/my-reports/{report_id}/case")
    assert marked("/my-reports") == []
    assert "News for you" not in employee.text(f"/my-reports/{report_id}")
    assert "unread update" not in employee.text("/")


def test_news_about_an_older_report_or_an_erased_case_is_not_left_unfindable(
    app, org, submit, login
):
    """The start page lists the latest reports: news about an older one leads to "My
    reports", where it is marked. News whose case retention erased since can be found
    nowhere: "My reports" marks it read instead of "unread update" staying for good."""
    oldest = submit(org.employee, unit_id=org.ward.id)
    for _n in range(LATEST):
        submit(org.employee, unit_id=org.ward.id)
    with app.app_context():
        service.post_message(get_case(oldest.id), user_obj(org.handler), "Hei igjen.")
        db.session.commit()
    employee = login(org.employee)
    home = employee.text("/")
    assert "1 unread update" in home
    assert "Open the report marked “News for you”" not in home
    assert re.search(r'href="/my-reports" id="find-news">Find the report marked', home)
    listed = employee.text("/my-reports")
    assert re.search(rf"{oldest.reference}.*?News for you", listed, re.S)
    with app.app_context():
        erase_case(get_case(oldest.id), month=date.today().replace(day=1))
        db.session.commit()
    assert "News for you" not in employee.text("/my-reports")
    with app.app_context():
        assert notifications.unread_count(org.employee.id) == 0
    assert "unread update" not in employee.text("/")


def test_the_feedback_of_each_closing_is_read_when_the_case_is_opened(app, org, submit, login):
    """A case closed, reopened and closed again gave feedback twice: opening the case
    reads both, so the start page does not say there is news for ever."""
    ref = submit(org.employee, unit_id=org.ward.id)
    closing = {
        "closing_note": "Lukket.",
        "causes": ["staffing"],
        "feedback": "Takk for meldingen.",
        "no_follow_up_reason": "Fulgt opp av politiet.",
    }
    start = datetime.now(UTC)
    with app.app_context():
        handler = user_obj(org.handler)
        for n, (to, data) in enumerate(
            (
                (CaseState.FORWARDED, {"forwarded_to": "police"}),
                (CaseState.CLOSED, closing),
                (CaseState.REOPENED, {"reason": "Nye opplysninger."}),
                (CaseState.FORWARDED, {"forwarded_to": "police"}),
                (CaseState.CLOSED, closing),
            )
        ):
            # A second apart: each closing's feedback is its own notification.
            service.transition(
                get_case(ref.id), to, actor=handler, now=start + timedelta(seconds=n), **data
            )
        db.session.commit()
        report_id = get_case(ref.id).report_id
    employee = login(org.employee)
    assert "2 unread updates" in employee.text("/")
    employee.text(f"/my-reports/{report_id}/case")
    assert "unread update" not in employee.text("/")


def test_a_long_list_shows_the_nearest_and_says_how_many_more(app, org, submit, login, monkeypatch):
    monkeypatch.setattr("handling.service.mytasks.OPEN_MAX", 2)
    ref = submit(org.employee, unit_id=org.ward.id)
    for template in ("learning_review", "bht_offer", "recontact"):
        give_task(app, org, ref.id, template=template)
    main = login(org.manager).text("/my-tasks").split("<main", 1)[1]
    assert main.count("<article") == 2
    assert "1 more open task is not shown here." in main


def test_a_confidential_reports_task_reads_the_same_whoever_it_names(app, org, submit, login):
    """A confidential reporter who reported for themselves is the exposed employee. If a
    leader's task left out only their name, a second task showing a name (a colleague's
    confidential report about someone else) would tell the leader which of their
    people reported. Every confidential report's contact task reads the same: no name,
    the handler says whom to contact; and nothing sealed is read for it."""
    for_herself = submit(org.employee, unit_id=org.ward.id, confidential=True)
    about_otto = submit(
        org.employee,
        unit_id=org.ward.id,
        confidential=True,
        exposed=[{"name": "Otto Other"}],
    )
    with app.app_context():
        for case in (for_herself, about_otto):  # only the assignee chooses a person
            handler = user_obj(org.handler)
            service.assign(get_case(case.id), handler, "Mine", actor=handler)
        db.session.commit()
    for case in (for_herself, about_otto):
        give_task(app, org, case.id)
    reads_before = {
        c.id: len(audit_rows(app, "case", c.id, "case.read")) for c in (for_herself, about_otto)
    }
    main = login(org.manager).text("/my-tasks").split("<main", 1)[1]
    assert "Ella Employee" not in main
    assert "Otto Other" not in main
    contacts = re.findall(r"<dt>Who to contact</dt><dd>(.*?)</dd>", main)
    assert len(contacts) == 2
    assert contacts[0] == contacts[1]
    assert "the case handler tells you whom to contact" in contacts[0]
    for case in (for_herself, about_otto):
        assert len(audit_rows(app, "case", case.id, "case.read")) == reads_before[case.id]


# -- an admin's reset of a responsible person ---------------------------------------------


@pytest.mark.parametrize("action", ["password-code", "reset-two-factor"])
def test_an_admin_is_never_shown_the_code_of_someone_with_a_task(
    app,
    org,
    submit,
    login,
    inbox,  # noqa: F811 - the fixture imported above
    make,
    action,
):
    """A leader responsible for a task sees, on "My tasks", the case's reference and the
    exposed employee's name. An admin shown a set-password code for the leader's account
    could use it before the leader does and read that name: the code goes to the
    leader's own address instead, as a case reader's does, and the admin's pages say so
    before and after."""
    ref = submit(org.employee, unit_id=org.ward.id)
    give_task(app, org, ref.id)
    admin = login(org.admin)
    form = admin.text(f"/admin/users/{org.manager.id}")
    assert "since they are responsible for follow-up tasks in cases" in form
    assert "you get a set-password code to give them" not in form
    if action == "reset-two-factor":
        # The leader's own authenticator, so that the form offers to reset it.
        make_enrolled(app, org.manager.id)
        assert "Reset two-factor" in admin.text(f"/admin/users/{org.manager.id}")
    done = admin.post(f"/admin/users/{org.manager.id}/{action}", {})
    text = page_text(done)
    assert done.status_code == 200
    assert 'id="password-code"' not in text
    assert "is responsible for follow-up tasks in cases" in text
    assert inbox.texts(org.admin.email) == []
    code = inbox.code(org.manager.email)
    # The leader chooses their own password with the mailed code and reads the task.
    chosen = set_password_with_code(app.test_client(), org.manager.email, code)
    assert chosen.status_code == 302
    # Someone with no task keeps the shown code (an employee's own reports only).
    other = make.user(Role.EMPLOYEE, Role.MANAGER, name="Lars Leder")
    assert "you get a set-password code to give them" in admin.text(f"/admin/users/{other.id}")
    shown = page_text(admin.post(f"/admin/users/{other.id}/password-code", {}))
    assert 'id="password-code"' in shown


def test_the_server_sets_no_password_for_someone_with_a_task(app, org, submit, runner):
    """`trygg users set-password` takes no password for a handler or safety
    representative, and none for a follow-up task's responsible person either: whoever
    typed it could read what My tasks shows them. The command names the e-mailed code."""
    ref = submit(org.employee, unit_id=org.ward.id)
    give_task(app, org, ref.id)
    with app.app_context():
        before = db.session.get(User, org.manager.id).password_hash
    result = runner.invoke(
        args=["users", "set-password", org.manager.email, "--password-stdin"],
        input="et langt nytt passord\n",
    )
    assert result.exit_code != 0
    assert f"trygg users password-code {org.manager.email}" in result.output
    with app.app_context():
        assert db.session.get(User, org.manager.id).password_hash == before


def test_reset_two_factor_from_the_server_says_it_was_a_full_reset(
    app,
    org,
    submit,
    runner,
    inbox,  # noqa: F811 - the fixture imported above
):
    """For a follow-up task's responsible person `trygg users reset-two-factor` also
    removes the password and mails a code: it said "two-factor reset" all the same, and
    the operator told the leader to log in with their old password."""
    ref = submit(org.employee, unit_id=org.ward.id)
    give_task(app, org, ref.id)
    make_enrolled(app, org.manager.id)
    result = runner.invoke(args=["users", "reset-two-factor", org.manager.email])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == (
        f"full reset for {org.manager.email}, who is or was responsible for follow-up "
        "tasks in cases: their password and two-factor authentication are removed and their "
        "sessions ended"
    )
    assert f"sent by e-mail to {org.manager.email}" in result.output
    assert inbox.code(org.manager.email)
    with app.app_context():
        assert db.session.get(User, org.manager.id).password_hash is None


def make_enrolled(app: Flask, user_id: int) -> None:
    import pyotp

    from trygg.accounts import service as accounts
    from trygg.accounts.models import User

    with app.app_context():
        user = db.session.get(User, user_id)
        enrolment = accounts.start_enrolment(user)
        accounts.confirm_enrolment(user, pyotp.TOTP(enrolment.secret).now())
        db.session.commit()
