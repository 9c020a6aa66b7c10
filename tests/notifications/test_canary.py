"""The canary, extended to notifications: markers in every free-text field of several
cases, then every kind of notification; no marker may appear in the outbox rows, the raw
database or its dump, the logs, or any e-mail the SMTP server received.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import time_machine
from sqlalchemy import select
from sqlalchemy.engine import make_url

from handling import service
from handling.models import Case
from handling.states import CaseState
from notifications.kinds import Kind
from notifications.models import Notification
from retention import service as retention
from tests.conftest import ENGINE
from tests.factories import Factory, api_login, user_obj
from tests.notifications.conftest import run_tick, use_smtp
from tests.reporting.support import post_report
from tests.reporting.test_canary import Markers, _dump, _report_body
from trygg.accounts import service as accounts
from trygg.extensions import db
from trygg.roles import Role


def _case(app, report_id):
    return db.session.scalar(select(Case).where(Case.report_id == report_id))


def _risk_assessment(app, manager, unit, rep):
    """Sent for review and approved (risk_participation for the unit's safety rep), the
    rep's statement (risk_comment for the owner), and a measure."""
    from risk.assessment import participation, plan
    from risk.assessment import service as assessments

    today = datetime.now(UTC).date()
    with app.app_context():
        owner = user_obj(manager)
        assessment = assessments.create(
            owner,
            {
                "unit_id": unit.id,
                "title": "Risk",
                "period_start": today,
                "period_end": today,
                "next_review": today + timedelta(days=90),
            },
        )
        item = assessments.add_item(
            owner, assessment.latest, {"hazard": "Waiting room", "likelihood": 3, "consequence": 3}
        )
        assessments.set_status(owner, assessment.latest, "review")
        assessments.set_status(owner, assessment.latest, "approved")
        participation.comment(user_obj(rep), assessment.latest, "Statement", "statement")
        plan.add(
            owner,
            assessment,
            {
                "item_ref": item.ref,
                "goal": "Alarm",
                "what": "Alarm buttons",
                "responsible_id": owner.id,
                "deadline": today + timedelta(days=1),
            },
        )
        db.session.commit()


def test_no_marker_reaches_outbox_rows_database_logs_or_mail(
    scratch_app, scratch_database, all_logs_at_debug, mailbox, monkeypatch
):
    app = scratch_app
    use_smtp(app, monkeypatch, mailbox.port)
    mark = Markers()  # case content: nowhere in clear
    names = Markers()  # people, unit, group: stored in clear, but never in a row or e-mail
    make = Factory(app)
    unit = make.unit(f"Unit {names('unit name')}")
    first = make.user(Role.HANDLER, name=f"Hanne {names('handler name')}")
    second = make.user(Role.HANDLER, name="Kari Kollega")
    make.user(Role.ADMIN, name=f"Ada {names('admin name')}")
    employee = make.user(Role.EMPLOYEE, name=f"Ella {names('employee name')}", units=(unit,))
    with app.app_context():
        service.save_group(
            actor="test",
            name=f"HMS {names('group name')}",
            member_ids=[first.id, second.id],
            is_default=True,
            is_fallback=True,
        )
        db.session.commit()
    # A risk assessment of the unit: the serious reports below trigger a re-assessment
    # (risk_review) for its owner, and a measure falls due (measure_due).
    manager = make.user(Role.MANAGER, name=f"Mona {names('manager name')}", manages=(unit,))
    rep = make.user(
        Role.SAFETY_REP, name=f"Vera {names('rep name')}", units=(unit,), represents=(unit,)
    )
    _risk_assessment(app, manager, unit, rep)

    api = app.test_client()
    api_login(api, employee)
    report_ids = []
    for confidential, severity in ((False, 4), (True, 3)):
        body = _report_body(unit.id, mark, confidential)
        body["severity"] = severity
        created = post_report(api, body)
        assert created.status_code == 201, created.get_json()
        report_ids.append(created.get_json()["id"])

    start = datetime.now(UTC)
    with app.app_context():
        handler, colleague = user_obj(first), user_obj(second)
        for report_id in report_ids:
            case = _case(app, report_id)
            # In a confidential report only the assignee names a colleague: take it first.
            service.assign(case, handler, None, actor=handler)
            service.assign(case, colleague, mark("assign reason"), actor=handler)
            service.post_message(case, colleague, mark("handler message"))
            service.post_message(case, colleague, mark("internal note"), internal=True)
            service.post_reporter_message(case.report, mark("reporter message"), actor="reporter")
            service.add_task(
                case,
                actor=colleague,
                template="bht_offer",
                responsible_user_id=first.id,
                due_at=start + timedelta(hours=2),
                note=mark("task note"),
            )
            db.session.commit()
        closing = _case(app, report_ids[1])
        service.transition(closing, CaseState.FORWARDED, actor=colleague, forwarded_to="police")
        service.transition(
            closing,
            CaseState.CLOSED,
            actor=colleague,
            closing_note=mark("closing note"),
            causes=["staffing"],
            feedback=mark("feedback"),
            no_follow_up_reason=mark("reason"),
        )
        db.session.commit()
        # An admin resets a handler: the set-password code goes to the handler's address.
        accounts.issue_password_code(user_obj(first), actor="user:1")
        db.session.commit()
        db.session.remove()

    # Reminders, escalations and task notices: a day passes, ticking every half hour (the
    # shortest reminder window is an hour).
    with time_machine.travel(start, tick=False) as clock:
        for _ in range(52):
            run_tick(app)
            clock.shift(timedelta(minutes=30))

    # The retention warning: the closed case enters its last 30 days, and a day of ticks
    # brings the warning to its handlers' daily digest.
    with app.app_context():
        (due,) = [
            item.due_at
            for item in retention.due_items(within_days=365 * 100)
            if item.report_id == report_ids[1]
        ]
        db.session.remove()
    with time_machine.travel(due - timedelta(days=10), tick=False) as clock:
        for _ in range(52):
            run_tick(app)
            clock.shift(timedelta(minutes=30))

    with app.app_context():
        outbox = list(db.session.scalars(select(Notification)))
        db.session.remove()
    kinds = {row.kind for row in outbox}
    assert kinds == {str(k) for k in Kind}, sorted({str(k) for k in Kind} - kinds)
    assert all(row.mail_state == "sent" for row in outbox)
    assert len(mailbox.messages) == len({row.mail_key for row in outbox})

    leaks: dict[str, list[str]] = {}
    columns = Notification.__table__.columns.keys()
    row_text = "\n".join(str([getattr(r, c) for c in columns]) for r in outbox).encode()
    # Raw, and decoded (bodies may be base64 or quoted-printable), headers included.
    mail_text = b"\n".join(
        m.raw + str(m.message.items()).encode() + mailbox.text(m).encode() for m in mailbox.messages
    )
    leaks["outbox rows"] = mark.found_in(row_text) + names.found_in(row_text)
    leaks["mail"] = mark.found_in(mail_text) + names.found_in(mail_text)
    if ENGINE == "postgres":
        leaks["pg_dump"] = mark.found_in(_dump(scratch_database))
    else:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        path = Path(make_url(scratch_database).database or "")
        leaks["database file"] = mark.found_in(path.read_bytes())
    records = all_logs_at_debug.records
    assert any(r.name == "trygg.mail" or r.name.startswith("sqlalchemy") for r in records)
    leaks["log"] = mark.found_in(
        "\n".join(f"{r.name} {r.getMessage()} {r.exc_text or ''}" for r in records).encode()
    )
    assert {where: found for where, found in leaks.items() if found} == {}
    assert len(mark.all) > 20
