"""The in-app list, the settings, the admin's outbox and reminder pages, API and CLI."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import update

from handling.models import HandlerGroup
from notifications.kinds import Kind, MailState
from notifications.models import Notification, ReminderPolicy
from notifications.service import notify
from tests.factories import form_login, form_token
from tests.handling.conftest import get_case
from tests.notifications.conftest import run_tick
from tests.notifications.support import kinds_by_user, rows
from trygg.extensions import db


def _pages(app, user):
    client = app.test_client()
    form_login(client, user)
    return client


def _unread_badge(html: str) -> str | None:
    match = re.search(r'class="app-badge"><span aria-hidden="true">(\d+)</span>', html)
    return match.group(1) if match else None


def test_the_header_counts_unread_and_opening_one_goes_to_the_case(app, org, submit):
    pages = _pages(app, org.handler)
    assert _unread_badge(pages.get("/").get_data(as_text=True)) is None
    case = submit(org.employee, unit_id=org.ward.id)
    home = pages.get("/").get_data(as_text=True)
    assert _unread_badge(home) == "1"
    listing = pages.get("/notifications").get_data(as_text=True)
    assert "En ny sak har kommet inn" in listing
    (note,) = [r for r in rows(app) if r.user_id == org.handler.id]
    opened = pages.post(
        f"/notifications/{note.id}/open", data={"csrf_token": form_token(pages, "/notifications")}
    )
    assert opened.status_code == 303
    assert opened.headers["Location"] == f"/cases/{case.id}"
    assert _unread_badge(pages.get("/").get_data(as_text=True)) is None


def test_opening_a_case_reads_what_the_handler_was_told_about_it_and_nothing_else(app, org, submit):
    first = submit(org.employee, unit_id=org.ward.id)
    second = submit(org.employee, unit_id=org.ward.id)
    with app.app_context():  # a later note on the first case, leading to one of its sections
        notify(
            Kind.CASE_MESSAGE,
            [org.handler.id],
            key=f"case:{first.id}:test-section",
            link=f"/cases/{first.id}#h-messages",
        )
        db.session.commit()
    pages = _pages(app, org.handler)
    assert _unread_badge(pages.get("/").get_data(as_text=True)) == "3"
    assert pages.get(f"/cases/{first.id}").status_code == 200
    # Both of the first case's are read; the second case's (and no one else's) is not.
    assert _unread_badge(pages.get("/").get_data(as_text=True)) == "1"
    unread = [r.link for r in rows(app) if r.user_id == org.handler.id and r.read_at is None]
    assert unread == [f"/cases/{second.id}"]
    assert any(r.read_at is None for r in rows(app) if r.user_id == org.colleague.id)


def test_someone_elses_notification_is_not_found(app, org, submit):
    submit(org.employee, unit_id=org.ward.id)
    (note, *_rest) = [r for r in rows(app) if r.user_id == org.handler.id]
    other = _pages(app, org.colleague)
    token = form_token(other, "/notifications")
    assert (
        other.post(f"/notifications/{note.id}/open", data={"csrf_token": token}).status_code == 404
    )


def test_mark_all_read(app, org, submit):
    submit(org.employee, unit_id=org.ward.id)
    submit(org.employee, unit_id=org.ward.id)
    pages = _pages(app, org.handler)
    assert _unread_badge(pages.get("/").get_data(as_text=True)) == "2"
    token = form_token(pages, "/notifications")
    assert pages.post("/notifications/read", data={"csrf_token": token}).status_code == 303
    # The confirmation takes the focus when the page loads: a screen reader reads it.
    listing = pages.get("/notifications").get_data(as_text=True)
    assert re.search(r'role="status" tabindex="-1" autofocus><p class="ds-paragraph">Alle', listing)
    assert _unread_badge(pages.get("/").get_data(as_text=True)) is None


def _settings_form(**overrides):
    data = {"language": "nb", "digest_time": "07:00", "substitute_id": ""}
    data.update(overrides)
    return data


def test_a_handler_on_duty_cannot_turn_off_new_cases(app, org):
    pages = _pages(app, org.handler)
    token = form_token(pages, "/notifications/settings")
    refused = pages.post(
        "/notifications/settings",
        data={**_settings_form(**{"delivery-case_new": "off"}), "csrf_token": token},
    )
    assert refused.status_code == 400
    assert "Merk deg som borte" in refused.get_data(as_text=True)


def test_away_with_a_substitute_who_may_handle_the_case(app, org, submit):
    pages = _pages(app, org.handler)
    token = form_token(pages, "/notifications/settings")
    saved = pages.post(
        "/notifications/settings",
        data={
            **_settings_form(
                away="on",
                substitute_id=str(org.colleague.id),
                **{"delivery-case_new": "off", "delivery-case_message": "digest"},
            ),
            "csrf_token": token,
        },
    )
    assert saved.status_code == 303
    case = submit(org.employee, unit_id=org.ward.id)
    with app.app_context():
        from handling import service
        from tests.factories import user_obj

        service.assign(
            get_case(case.id), user_obj(org.handler), None, actor=user_obj(org.colleague)
        )
        db.session.commit()
    got = kinds_by_user(app)
    # The substitute hears of the assignment too; the handler's new-case mail is off.
    assert Kind.CASE_ASSIGNED in got[org.colleague.id]
    mine = {r.kind: r.mail_state for r in rows(app) if r.user_id == org.handler.id}
    assert mine[Kind.CASE_NEW] == MailState.SKIPPED


def test_a_substitute_must_be_an_active_handler(app, org):
    pages = _pages(app, org.handler)
    token = form_token(pages, "/notifications/settings")
    refused = pages.post(
        "/notifications/settings",
        data={**_settings_form(away="on", substitute_id=str(org.employee.id)), "csrf_token": token},
    )
    assert refused.status_code == 400
    assert "stedfortreder" in refused.get_data(as_text=True)


def test_a_substitute_that_is_not_a_choice_is_named_and_nothing_is_saved(app, org):
    pages = _pages(app, org.handler)
    token = form_token(pages, "/notifications/settings")
    refused = pages.post(
        "/notifications/settings",
        data={**_settings_form(away="on", substitute_id="Kari"), "csrf_token": token},
    )
    assert refused.status_code == 400
    assert 'id="e-substitute_id"' in refused.get_data(as_text=True)
    with app.app_context():
        from notifications import preferences
        from tests.factories import user_obj

        assert not preferences.settings_for(user_obj(org.handler)).away


@pytest.mark.parametrize("spelled", [float, str, lambda i: i + 0.5])
def test_a_substitute_id_that_is_not_a_whole_number_is_refused(app, org, api, spelled):
    """A colleague's id sent as 12.0, "12" or 12.5 was read as the account 12: the API
    names the field instead, as for its other ids, and nothing is saved."""
    handler = api(org.handler)
    body = {
        "language": "nb",
        "digest_time": "07:00",
        "away": True,
        "substitute_id": spelled(org.colleague.id),
    }
    refused = handler.put("/api/v1/me/notification-settings", body)
    assert refused.status_code == 400
    assert "substitute_id" in refused.get_json()["errors"]
    assert handler.get("/api/v1/me/notification-settings").get_json()["away"] is False
    # The id itself is taken.
    body["substitute_id"] = org.colleague.id
    assert handler.put("/api/v1/me/notification-settings", body).status_code == 200


@pytest.mark.parametrize("hostile", [2**31, 2**63, 2**70, 0, -1])
def test_a_substitute_no_account_can_have_is_refused_not_a_server_error(app, org, api, hostile):
    """An id no row can hold (PostgreSQL's INTEGER ends at 2^31 - 1, SQLite's at
    2^63 - 1) is the same 400 as any other id that is not a handler's, on the API and
    on the page; nothing is saved."""
    handler = api(org.handler)
    body = {"language": "nb", "digest_time": "07:00", "away": True, "substitute_id": hostile}
    refused = handler.put("/api/v1/me/notification-settings", body)
    assert refused.status_code == 400
    assert "substitute_id" in refused.get_json()["errors"]
    page = handler.client.post(
        "/notifications/settings",
        data={
            **_settings_form(away="on", substitute_id=str(hostile)),
            "csrf_token": handler.token,
        },
    )
    assert page.status_code == 400
    assert 'id="e-substitute_id"' in page.get_data(as_text=True)
    assert handler.get("/api/v1/me/notification-settings").get_json()["away"] is False


def test_a_bad_digest_time_is_named(app, org):
    pages = _pages(app, org.employee)
    token = form_token(pages, "/notifications/settings")
    refused = pages.post(
        "/notifications/settings", data={**_settings_form(digest_time="25:99"), "csrf_token": token}
    )
    assert refused.status_code == 400
    assert "07:30" in refused.get_data(as_text=True)


def test_only_a_case_handler_is_offered_away_and_a_substitute(app, org):
    # Only notifications about cases go to a substitute, a case handler; an employee or
    # a manager was offered to name one, which did nothing.
    for user in (org.employee, org.manager):
        html = _pages(app, user).get("/notifications/settings").get_data(as_text=True)
        assert 'name="away"' not in html
        assert 'name="substitute_id"' not in html
        assert "Kari Kollega" not in html  # nor the list of case handlers
        saved = _pages(app, user)
        token = form_token(saved, "/notifications/settings")
        sent = saved.post("/notifications/settings", data={**_settings_form(), "csrf_token": token})
        assert sent.status_code == 303
    html = _pages(app, org.handler).get("/notifications/settings").get_data(as_text=True)
    assert 'name="away"' in html
    assert 'name="substitute_id"' in html
    assert "Kari Kollega" in html


def test_the_api_lists_marks_and_keeps_settings(app, org, submit, api):
    submit(org.employee, unit_id=org.ward.id)
    handler = api(org.handler)
    listed = handler.get("/api/v1/notifications").get_json()
    assert listed["unread"] == 1
    assert listed["items"][0]["kind"] == "case_new"
    assert set(listed["items"][0]) == {"id", "kind", "text", "link", "created_at", "read"}
    note_id = listed["items"][0]["id"]
    assert handler.post(f"/api/v1/notifications/{note_id}/read").get_json()["read"] is True
    assert handler.get("/api/v1/notifications").get_json()["unread"] == 0
    assert handler.post("/api/v1/notifications/999999/read").status_code == 404
    for hostile in (str(2**70), "²", "-5"):
        refused = handler.get(f"/api/v1/notifications?limit={hostile}")
        assert refused.status_code == 400, hostile
        assert "limit" in refused.get_json()["errors"]
    current = handler.get("/api/v1/me/notification-settings").get_json()
    assert current["mandatory"] == sorted(["case_new", "deadline_escalation", "section_5_2"])
    body = {"language": "en", "digest_time": "06:30", "deliveries": {"case_new": "off"}}
    refused = handler.put("/api/v1/me/notification-settings", body)
    assert refused.status_code == 400
    assert "case_new" in refused.get_json()["errors"]
    body["deliveries"] = {"case_message": "digest"}
    saved = handler.put("/api/v1/me/notification-settings", body).get_json()
    assert saved["language"] == "en"
    assert saved["digest_time"] == "06:30"
    assert saved["deliveries"]["case_message"] == "digest"
    bad = handler.put("/api/v1/me/notification-settings", {**body, "digest_time": "noon"})
    assert bad.status_code == 400
    assert "digest_time" in bad.get_json()["errors"]


def test_older_notifications_are_a_page_away_each_listed_once(app, org, submit):
    for _n in range(7):
        submit(org.employee, unit_id=org.ward.id)
    # One login (a TOTP code is good once): the API reads the same session cookie.
    handler = pages = _pages(app, org.handler)
    whole = [n["id"] for n in handler.get("/api/v1/notifications").get_json()["items"]]
    assert len(whole) == 7
    seen: list[int] = []
    path = "/api/v1/notifications?limit=3"
    while path:
        response = handler.get(path)
        seen += [n["id"] for n in response.get_json()["items"]]
        link = re.match(r"<([^>]+)>", response.headers.get("Link", ""))
        path = link.group(1) if link else ""
    assert seen == whole
    first = pages.get("/notifications?limit=5").get_data(as_text=True)
    assert first.count('/open">') == 5
    older = re.search(r'href="([^"]+)" rel="next">Eldre beskjeder<', first)
    assert older is not None
    second = pages.get(older.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert second.count('/open">') == 2
    assert "Første side" in second
    assert 'rel="next"' not in second


def test_the_admin_sees_counts_and_failed_rows_without_content_and_can_retry(app, org, submit, api):
    case = submit(org.employee, unit_id=org.ward.id)
    with app.app_context():
        db.session.execute(
            update(Notification)
            .where(Notification.user_id == org.handler.id)
            .values(mail_state=MailState.FAILED, attempts=12, last_error="connect")
        )
        db.session.commit()
    admin = _pages(app, org.admin)  # one login: the pages' session also reads the API
    body = admin.get("/api/v1/admin/outbox").get_json()
    assert body["counts"]["failed"] == 1
    assert body["counts"]["pending"] == 1
    (failed,) = body["failed"]
    assert set(failed) == {"id", "kind", "attempts", "last_error", "created_at"}
    assert api(org.handler).get("/api/v1/admin/outbox").status_code == 403
    pages = admin
    html = pages.get("/admin/outbox").get_data(as_text=True)
    assert "connect" in html
    assert f"/cases/{case.id}" not in html
    token = form_token(pages, "/admin/outbox")
    retried = pages.post(f"/admin/outbox/{failed['id']}/retry", data={"csrf_token": token})
    assert retried.status_code == 303
    assert admin.get("/api/v1/admin/outbox").get_json()["counts"]["failed"] == 0


def test_every_bad_reminder_lead_time_is_named_at_once_and_none_is_an_error_page(app, org):
    # "1e400" hours (infinite) was a 500; a time out of range was named only after the
    # fields that were not numbers had been put right.
    pages = _pages(app, org.admin)
    token = form_token(pages, "/admin/reminders")
    fields = dict(
        re.findall(
            r'name="(lead-[a-z_0-9]+)" type="text" value="([^"]*)"',
            pages.get("/admin/reminders").get_data(as_text=True),
        )
    )
    sent = {**fields, "lead-acknowledge": "1e400", "lead-leader_contact": "-5"}
    refused = pages.post("/admin/reminders", data={"csrf_token": token, **sent})
    assert refused.status_code == 400
    html = refused.get_data(as_text=True)
    assert 'id="e-lead-acknowledge"' in html
    assert 'id="e-lead-leader_contact"' in html
    with app.app_context():
        assert db.session.get(ReminderPolicy, "leader_contact").lead_minutes >= 0


def test_the_admin_sets_reminder_lead_times(app, org, submit, clock):
    pages = _pages(app, org.admin)
    token = form_token(pages, "/admin/reminders")
    bad = pages.post("/admin/reminders", data={"csrf_token": token, "lead-acknowledge": "soon"})
    assert bad.status_code == 400
    form = {"csrf_token": token, "lead-acknowledge": "48"}
    assert pages.post("/admin/reminders", data=form).status_code == 400  # every kind is needed
    fields = re.findall(
        r'name="(lead-[a-z_0-9]+)" type="text" value="([^"]*)"',
        pages.get("/admin/reminders").get_data(as_text=True),
    )
    form = {"csrf_token": token, **dict(fields), "lead-acknowledge": "48"}
    assert pages.post("/admin/reminders", data=form).status_code == 303
    with app.app_context():
        assert db.session.get(ReminderPolicy, "acknowledge").lead_minutes == 48 * 60
    case = submit(org.employee, unit_id=org.ward.id)
    with app.app_context():
        ack = next(d for d in get_case(case.id).deadlines if d.kind == "acknowledge")
        ack_id, due = ack.id, ack.due_at
    clock.move_to(due - timedelta(hours=47))  # inside 48 hours, outside the default 24
    run_tick(app)
    assert [r.kind for r in rows(app) if r.subject == f"deadline:{ack_id}"] == [
        Kind.DEADLINE_REMINDER,
        Kind.DEADLINE_REMINDER,
    ]


def test_escalation_contacts_are_set_on_the_group_form(app, org):
    pages = _pages(app, org.admin)
    path = f"/admin/handler-groups/{org.hms}"
    form = {
        "csrf_token": form_token(pages, path),
        "name": "HMS",
        "member_ids": [str(org.handler.id), str(org.colleague.id)],
        "is_default": "on",
        "escalation_ids": [str(org.admin.id), str(org.fallback_handler.id)],
    }
    assert pages.post(path, data=form).status_code == 303
    with app.app_context():
        assert db.session.get(HandlerGroup, org.hms).escalation_ids == sorted(
            [org.admin.id, org.fallback_handler.id]
        )
    refused = pages.post(path, data={**form, "escalation_ids": [str(org.employee.id)]})
    assert refused.status_code == 400


def test_cli_outbox_scheduler_and_mail(app, org, submit, runner, mailbox, monkeypatch):
    from tests.notifications.conftest import use_smtp

    submit(org.employee, unit_id=org.ward.id)
    listed = runner.invoke(args=["outbox", "list"])
    assert listed.exit_code == 0
    assert "pending=2" in listed.output
    assert "case_new" in listed.output
    use_smtp(app, monkeypatch, mailbox.port)
    ticked = runner.invoke(args=["scheduler", "tick"])
    assert ticked.exit_code == 0
    assert "e-mails sent 2" in ticked.output
    assert runner.invoke(args=["outbox", "retry", "1"]).exit_code != 0
    purged = runner.invoke(args=["outbox", "purge-sent", "--older-than", "1"])
    assert purged.exit_code == 0
    assert "deleted 0" in purged.output
    monkeypatch.setitem(app.config["TRYGG"], "smtp_host", "")
    unset = runner.invoke(args=["mail", "test", "ops@example.org"])
    assert unset.exit_code != 0
    assert "nothing was sent" in unset.output
    use_smtp(app, monkeypatch, mailbox.port)
    sent = runner.invoke(args=["mail", "test", "ops@example.org"])
    assert sent.exit_code == 0, sent.output
    assert mailbox.to("ops@example.org")


def test_the_outbox_page_says_when_the_scheduler_last_ran(app, org):
    pages = _pages(app, org.admin)
    assert "Aldri" in pages.get("/admin/outbox").get_data(as_text=True)
    run_tick(app)
    html = pages.get("/admin/outbox").get_data(as_text=True)
    assert "Aldri" not in html
    assert " ms)" in html


def test_the_substitute_list_offers_the_other_active_handlers_by_name(app, org, make):
    """Only people who may stand in are offered: not oneself, not an employee, manager
    or admin, not a handler whose account is deactivated."""
    from trygg.roles import Role

    gone = make.user(Role.HANDLER, name="Anne Avsluttet")
    with app.app_context():
        from trygg.accounts.models import User

        db.session.execute(update(User).where(User.id == gone.id).values(active=False))
        db.session.commit()
    html = _pages(app, org.handler).get("/notifications/settings").get_data(as_text=True)
    select = html[
        html.index('name="substitute_id"') : html.index(
            "</select>", html.index('name="substitute_id"')
        )
    ]
    offered = re.findall(r"<option value=\"(\d+)\"[^>]*>([^<]+)</option>", select)
    assert [name for _id, name in offered] == [
        "Frode Fallback",
        "Kari Kollega",
        "Vilde Varsel",
    ]


@pytest.mark.parametrize(
    ("host", "address"),
    [
        ("127.0.0.1", "http://127.0.0.1:8080"),
        ("0.0.0.0", "http://127.0.0.1:8080"),  # noqa: S104 - a host name, not a binding
        ("::", "http://127.0.0.1:8080"),
        ("::1", "http://[::1]:8080"),
        ("trygg.local", "http://trygg.local:8080"),
    ],
)
def test_the_development_server_links_e_mail_to_an_address_it_answers_at(host, address):
    from notifications.cli import local_address

    assert local_address(host, 8080) == address


def test_an_employee_cannot_choose_a_substitute_through_the_api_either(app, org, api):
    """The page offers an employee no substitute; the API refuses one the same way for
    any id, so trying ids does not tell which accounts are case handlers."""
    employee = api(org.employee)
    answers = []
    for someone in (org.handler.id, org.manager.id, 999_999):
        body = {"language": "nb", "digest_time": "07:00", "away": True, "substitute_id": someone}
        refused = employee.put("/api/v1/me/notification-settings", body)
        assert refused.status_code == 400
        answers.append(refused.get_json()["errors"])
    assert answers[0] == answers[1] == answers[2]
    assert "substitute_id" in answers[0]
    assert employee.get("/api/v1/me/notification-settings").get_json()["substitute_id"] is None
