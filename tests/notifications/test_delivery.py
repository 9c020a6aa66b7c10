"""E-mail delivery against a real SMTP server: outages, restarts, crashes, retries."""

from __future__ import annotations

import logging
from collections import Counter
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update

from handling import service
from handling.states import CaseState
from notifications import delivery, mail
from notifications.kinds import Delivery, Kind, MailState
from notifications.models import Notification, NotificationPreference, NotificationProfile
from tests.factories import form_login
from tests.handling.conftest import get_case
from tests.notifications.conftest import run_tick
from tests.notifications.support import rows
from trygg.accounts.models import User
from trygg.extensions import db


def _open_cases(submit, org, n):
    return [submit(org.employee, unit_id=org.ward.id) for _ in range(n)]


def test_two_hours_without_smtp_and_a_restart_lose_nothing_and_send_nothing_twice(
    smtp_app, org, submit, mailbox, clock
):
    _open_cases(submit, org, 3)
    expected = {r.mail_key for r in rows(smtp_app) if r.mail_state == MailState.PENDING}
    assert len(expected) == 6  # two handlers, three cases
    mailbox.stop()
    # The first scheduler ticks every five minutes for an hour, then dies in the middle
    # of a tick: it has claimed the due rows and never marks them.
    for _ in range(12):
        run_tick(smtp_app, owner="first")
        clock.shift(timedelta(minutes=5))
    clock.shift(timedelta(minutes=25))  # past every row's next attempt
    with smtp_app.app_context():
        claimed = delivery.claim("first", delivery.utcnow(), 100)
        db.session.remove()
    # A new scheduler takes over for the second hour.
    for _ in range(8):
        clock.shift(timedelta(minutes=5))
        run_tick(smtp_app, owner="second")
    assert mailbox.messages == []
    attempts = {r.attempts for r in rows(smtp_app)}
    assert max(attempts) >= 5
    assert all(r.mail_state == MailState.PENDING for r in rows(smtp_app))

    mailbox.start()
    for _ in range(30):
        clock.shift(timedelta(minutes=5))
        run_tick(smtp_app, owner="second")
        if all(r.mail_state == MailState.SENT for r in rows(smtp_app)):
            break
    counted = Counter(mailbox.message_ids())
    later = [r for r in rows(smtp_app) if r.mail_key not in expected]
    with smtp_app.app_context():
        wanted = {mail.message_id(k, "example.org") for k in expected}
        known = {mail.message_id(r.mail_key, "example.org") for r in rows(smtp_app)}
    assert wanted <= set(counted)  # nothing lost
    # Nothing else but the outbox's own rows: over three hours of moved clock a deadline
    # of the new cases may fall due (by the time of day the test runs) and be reminded.
    assert set(counted) <= known
    assert {r.kind for r in later} <= {"deadline_reminder", "deadline_escalation"}
    assert set(counted.values()) == {1}  # nothing twice
    assert claimed  # the crash really held rows under a lease


def test_a_crash_after_the_server_accepted_repeats_the_same_message_id(
    smtp_app, org, submit, mailbox, clock
):
    _open_cases(submit, org, 1)
    with smtp_app.app_context():
        cfg = mail.current_settings()
        now = delivery.utcnow()
        claimed = delivery.claim("doomed", now, 100)
        groups = {r.mail_key: [r] for r in claimed}
        delivery._send_all(groups, cfg, now)  # noqa: SLF001 - sent, then the process "dies"
        db.session.remove()
    first = Counter(mailbox.message_ids())
    clock.shift(delivery.LEASE + timedelta(seconds=1))
    run_tick(smtp_app)
    again = Counter(mailbox.message_ids())
    assert set(again) == set(first)  # the same Message-IDs, no new ones
    assert all(n == 2 for n in again.values())
    assert all(r.mail_state == MailState.SENT for r in rows(smtp_app))


def test_after_the_last_attempt_a_row_fails_and_an_admin_can_retry(
    smtp_app, org, submit, mailbox, clock, monkeypatch
):
    """The new-case rows fail after their last attempt and are sent once when retried.

    Only those rows are followed: by the time of day the test runs, a deadline reminder
    may fall due while the clock moves, with attempts of its own."""

    def new_case_rows() -> list[Any]:
        return [r for r in rows(smtp_app) if r.kind == "case_new"]

    monkeypatch.setitem(smtp_app.config["TRYGG"], "outbox_max_attempts", 3)
    _open_cases(submit, org, 1)
    mailbox.stop()
    for _ in range(10):
        run_tick(smtp_app)
        clock.shift(timedelta(minutes=10))
    assert len(new_case_rows()) == 2
    assert {r.mail_state for r in new_case_rows()} == {MailState.FAILED}
    assert {r.last_error for r in new_case_rows()} == {"connect"}
    mailbox.start()
    with smtp_app.app_context():
        from notifications import service as notes

        for row in notes.failed_rows():
            notes.retry(row.id)
        db.session.commit()
        db.session.remove()
    run_tick(smtp_app)
    assert {r.mail_state for r in new_case_rows()} == {MailState.SENT}
    subjects = [m.message["Subject"] for m in mailbox.messages]
    assert subjects.count("Trygg: En ny sak") == 2, subjects
    message_ids = [m.message["Message-ID"] for m in mailbox.messages]
    assert len(set(message_ids)) == len(message_ids), "nothing is sent twice"


def test_a_refused_recipient_is_retried_with_its_code(smtp_app, org, submit, mailbox, monkeypatch):
    async def refuse(self, server, session, envelope, address, rcpt_options):
        return "550 No such user"

    monkeypatch.setattr(type(mailbox), "handle_RCPT", refuse, raising=False)
    _open_cases(submit, org, 1)
    run_tick(smtp_app)
    assert {r.last_error for r in rows(smtp_app)} == {"refused 550"}
    assert {r.mail_state for r in rows(smtp_app)} == {MailState.PENDING}


def test_without_smtp_the_log_says_it_would_send_and_nothing_more(app, org, submit, caplog):
    caplog.set_level(logging.INFO, logger="trygg.mail")
    _open_cases(submit, org, 1)
    run_tick(app)
    lines = [r.getMessage() for r in caplog.records if r.name == "trygg.mail"]
    assert len(lines) == 2
    assert all("would send" in line for line in lines)
    assert all(r.mail_state == MailState.SENT for r in rows(app))


def test_language_follows_the_recipient(smtp_app, org, submit, mailbox):
    with smtp_app.app_context():
        db.session.add(NotificationProfile(user_id=org.colleague.id, language="en"))
        db.session.commit()
    _open_cases(submit, org, 1)
    run_tick(smtp_app)
    english = mailbox.to(org.colleague.email)[0]
    norwegian = mailbox.to(org.handler.email)[0]
    assert "A new case" in str(english.message["Subject"])
    assert "ny sak" in str(norwegian.message["Subject"]).lower()
    assert "Logg inn" in mailbox.text(norwegian)


def test_mail_follows_the_language_someone_switched_trygg_to(smtp_app, org, submit, mailbox):
    """Without a language chosen in the settings, e-mail is in the language the person
    uses Trygg in; a language chosen in the settings wins over it."""
    with smtp_app.app_context():
        db.session.execute(
            update(User).where(User.id.in_([org.colleague.id, org.handler.id])).values(locale="en")
        )
        db.session.add(NotificationProfile(user_id=org.handler.id, language="nb"))
        db.session.commit()
    _open_cases(submit, org, 1)
    run_tick(smtp_app)
    assert "A new case" in str(mailbox.to(org.colleague.email)[0].message["Subject"])
    assert "ny sak" in str(mailbox.to(org.handler.email)[0].message["Subject"]).lower()
    page = smtp_app.test_client()
    form_login(page, org.colleague)
    assert 'value="en" selected' in page.get("/notifications/settings").get_data(as_text=True)


def test_a_daily_digest_is_one_mail_at_the_chosen_time(smtp_app, org, submit, mailbox, clock):
    case = submit(org.employee, unit_id=org.ward.id)
    run_tick(smtp_app)
    mailbox.messages.clear()
    with smtp_app.app_context():
        db.session.add(NotificationProfile(user_id=org.handler.id, digest_minute=7 * 60))
        db.session.add(
            NotificationPreference(
                user_id=org.handler.id, kind=Kind.CASE_MESSAGE, delivery=Delivery.DIGEST
            )
        )
        report = get_case(case.id).report
        service.post_reporter_message(report, "One", actor="reporter")
        service.post_reporter_message(report, "Two", actor="reporter")
        db.session.commit()
    run_tick(smtp_app)
    assert not mailbox.to(org.handler.email)
    clock.shift(timedelta(days=1))
    run_tick(smtp_app)
    run_tick(smtp_app)
    digests = mailbox.to(org.handler.email)
    assert len(digests) == 1
    assert mailbox.text(digests[0]).count(f"/cases/{case.id}") >= 2
    with smtp_app.app_context():
        keys = set(
            db.session.scalars(
                select(Notification.mail_key).where(Notification.kind == Kind.CASE_MESSAGE)
            )
        )
        db.session.remove()
    assert len({k for k in keys if k and k.startswith("digest:")}) == 1


def test_a_reminder_held_up_by_an_outage_is_withdrawn_once_the_deadline_is_met(
    smtp_app, org, submit, mailbox, clock
):
    from tests.factories import user_obj

    case = submit(org.employee, unit_id=org.ward.id)
    run_tick(smtp_app)  # the new-case mails
    with smtp_app.app_context():
        due = next(d.due_at for d in get_case(case.id).deadlines if d.kind == "acknowledge")
        db.session.remove()
    mailbox.stop()
    clock.move_to(due - timedelta(hours=12))
    run_tick(smtp_app)  # reminders written, not sent
    reminders = [r for r in rows(smtp_app) if r.kind == Kind.DEADLINE_REMINDER]
    with smtp_app.app_context():
        ack = next(d.id for d in get_case(case.id).deadlines if d.kind == "acknowledge")
    reminders = [r for r in reminders if r.subject == f"deadline:{ack}"]
    assert reminders
    assert {r.mail_state for r in reminders} == {MailState.PENDING}
    with smtp_app.app_context():
        service.transition(get_case(case.id), CaseState.ACKNOWLEDGED, actor=user_obj(org.handler))
        db.session.commit()
    mailbox.start()
    before = len(mailbox.messages)
    clock.shift(timedelta(hours=2))
    run_tick(smtp_app)
    acknowledge = [r for r in rows(smtp_app) if r.subject in {x.subject for x in reminders}]
    assert {r.mail_state for r in acknowledge} == {MailState.WITHDRAWN}
    with smtp_app.app_context():
        withdrawn = {mail.message_id(r.mail_key, "example.org") for r in acknowledge}
    assert withdrawn.isdisjoint(mailbox.message_ids()[before:])
