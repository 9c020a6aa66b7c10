"""The case page as a workspace (issue 15): the access history groups a person's readings
of a day, and the responsible-person picker never offers the people the report names or
administrators, puts the unit's leaders first and searches thousands of users without
JavaScript, for the case's handlers only, audited and bounded."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event, func, insert, select

from handling import service
from tests.factories import CaseRef, user_obj
from tests.handling.conftest import Org, get_case
from tests.handling.test_pages import Browser, page_text
from trygg import audit
from trygg.accounts.models import User
from trygg.audit import AuditEntry
from trygg.extensions import db
from trygg.roles import Role


@pytest.fixture
def login(app: Flask) -> Callable[[Any], Browser]:
    return lambda user: Browser(app, user)


def _history(page: str) -> list[str]:
    """The access history's rows as text, newest first."""
    table = page.split('id="h-access"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr>(.*?)</tr>", table, flags=re.S)[1:]
    return [" ".join(re.sub(r"<[^>]+>", " ", row).split()) for row in rows]


def _select(page: str, field_id: str) -> list[str]:
    """The option texts of one select, in order (without the empty choice)."""
    block = page.split(f'id="{field_id}"', 1)[1].split("</select>", 1)[0]
    options = re.findall(r'<option value="(\d*)"[^>]*>([^<]*)</option>', block)
    return [text.strip() for value, text in options if value]


# -- the access history -----------------------------------------------------------------


def _reading(case_id: int, user_id: int, at: datetime | None = None) -> None:
    """An opening of the case page by the user, in the audit log (now, or `at`)."""
    audit.record(
        "case.read",
        actor=f"user:{user_id}",
        object_type="case",
        object_id=case_id,
        detail={"part": "case"},
        at=at,
    )


def test_reloads_of_one_person_on_one_day_are_one_row_with_a_count(
    app: Flask, org: Org, submit: Callable[..., CaseRef], login: Any
) -> None:
    ref = submit(org.employee, unit_id=org.ward.id)
    hanna, kari = login(org.handler), login(org.colleague)
    for _ in range(3):
        hanna.text(f"/cases/{ref.id}")
    kari.text(f"/cases/{ref.id}")
    with app.app_context():
        # A reading yesterday is a row of its own.
        yesterday = datetime.now(UTC) - timedelta(days=1)
        for object_type, object_id, action in (
            ("case", ref.id, "case.read"),
            ("report", ref.report_id, "report.read"),
        ):
            audit.record(
                action,
                actor=f"user:{org.handler.id}",
                object_type=object_type,
                object_id=object_id,
                detail={"part": "case"},
                at=yesterday,
            )
        db.session.commit()
    rows = _history(hanna.text(f"/cases/{ref.id}"))
    assert len(rows) == 3, rows
    assert "Hanna Handler" in rows[0]
    assert rows[0].endswith("Opened (case page), 4 times")
    assert "Kari Kollega" in rows[1]
    assert rows[1].endswith("Opened (case page)")
    assert "Hanna Handler" in rows[2]
    assert rows[2].endswith("Opened (case page)")
    # The raw log keeps every entry: the JSON API lists each.
    with app.app_context():
        case = get_case(ref.id)
        assert len([a for a in service.access_history(case) if a.action == "case.read"]) == 6


@pytest.mark.parametrize(
    ("before", "after", "oslo_days"),
    [
        # Winter (UTC+1): 22:30 and 23:30 UTC are 23:30 on the 14th and 00:30 on the 15th.
        ("2026-01-14T22:30:00", "2026-01-14T23:30:00", ("2026-01-14", "2026-01-15")),
        # Summer (UTC+2): 21:30 and 22:30 UTC straddle Oslo's midnight.
        ("2026-07-14T21:30:00", "2026-07-14T22:30:00", ("2026-07-14", "2026-07-15")),
        # The same Oslo day although the UTC dates differ (23:30 UTC is 00:30 in Oslo).
        ("2026-01-14T23:30:00", "2026-01-15T10:00:00", ("2026-01-15", "2026-01-15")),
    ],
    ids=["winter midnight", "summer midnight", "one Oslo day"],
)
def test_readings_are_grouped_by_the_day_in_oslo(
    app: Flask,
    org: Org,
    submit: Callable[..., CaseRef],
    before: str,
    after: str,
    oslo_days: tuple[str, str],
) -> None:
    ref = submit(org.employee, unit_id=org.ward.id)
    with app.app_context():
        for moment in (before, after):
            _reading(ref.id, org.handler.id, datetime.fromisoformat(moment).replace(tzinfo=UTC))
        db.session.commit()
        readings = [d for d in service.access_days(get_case(ref.id)) if d.action == "read"]
    days = sorted(str(d.day) for d in readings)
    assert days == sorted(set(oslo_days)), days
    assert sum(d.count for d in readings) == 2


def test_a_grant_and_an_attachment_download_keep_their_own_words(
    app: Flask, org: Org, submit: Callable[..., CaseRef], login: Any
) -> None:
    ref = submit(org.employee, unit_id=org.ward.id)
    hanna = login(org.handler)
    hanna.text(f"/cases/{ref.id}")
    with app.app_context():
        audit.record(
            "report.read",
            actor=f"user:{org.handler.id}",
            object_type="report",
            object_id=ref.report_id,
            detail={"part": "attachment", "attachment": 1},
        )
        audit.record(
            "case.grant",
            actor=f"user:{org.handler.id}",
            object_type="case",
            object_id=ref.id,
            detail={"user_id": org.colleague.id},
        )
        db.session.commit()
    rows = _history(hanna.text(f"/cases/{ref.id}"))
    assert len(rows) == 2, rows
    # The readings' row is as new as this opening; the grant is a row of its own.
    assert rows[0].endswith("Opened (case page, attachment), 3 times")
    assert rows[1].endswith("Gave access to Kari Kollega")


# -- the responsible-person picker ------------------------------------------------------


@pytest.fixture
def named_case(app: Flask, org: Org, make: Any, submit: Callable[..., CaseRef]) -> CaseRef:
    """A report naming the employee (exposed), a witness and a counterpart, all with
    accounts; the ward has a leader (Mona) and its parent another (Leif)."""
    witness = make.user(Role.EMPLOYEE, name="Wenche Witness", units=(org.ward,))
    counterpart = make.user(Role.EMPLOYEE, name="Carl Counterpart", units=(org.ward,))
    make.user(Role.MANAGER, Role.EMPLOYEE, name="Leif Leader", manages=(org.emergency,))
    make.user(Role.EMPLOYEE, name="Olav Other", units=(org.ward,))
    return submit(
        org.employee,
        unit_id=org.ward.id,
        counterpart_category="colleague",
        counterpart_user_id=counterpart.id,
        witnesses=[{"user_id": witness.id}],
    )


def test_the_suggestions_leave_out_named_people_and_admins_and_lead_with_leaders(
    org: Org, named_case: CaseRef, login: Any
) -> None:
    page = login(org.handler).text(f"/cases/{named_case.id}")
    offered = _select(page, "f-task-new-responsible_user_id")
    # Leaders of the unit first (nearest unit first), then the case's handlers.
    assert offered[:2] == ["Mona Manager (leader)", "Leif Leader (leader)"]
    assert "Hanna Handler" in offered
    for never in ("Ella Employee", "Wenche Witness", "Carl Counterpart", "Ada Admin"):
        assert not any(never in o for o in offered), (never, offered)


def test_search_finds_anyone_but_named_people_and_admins_without_javascript(
    app: Flask, org: Org, named_case: CaseRef, login: Any
) -> None:
    hanna = login(org.handler)
    base = f"/cases/{named_case.id}"
    page = hanna.text(base)
    assert "Olav Other" not in _select(page, "f-task-new-responsible_user_id")
    # The search is a plain GET form in the task form.
    assert re.search(r'<form method="get" action="/cases/\d+#f-task-new-responsible_user_id"', page)
    found = hanna.text(f"{base}?for=task-new&person=olav")
    options = _select(found, "f-task-new-responsible_user_id")
    assert options[0] == "Olav Other"
    assert "1 person found, listed first under Responsible." in found
    # One match is chosen already; the form is open.
    assert re.search(r'<option value="\d+" selected>Olav Other</option>', found)
    for name in ("Ella", "Wenche", "Carl", "Ada"):
        hits = _select(
            hanna.text(f"{base}?for=task-new&person={name}"), "f-task-new-responsible_user_id"
        )
        assert not any(name in o for o in hits[: hits.index("Mona Manager (leader)")]), hits
    # Leaders first among the matches (every test address ends in example.org).
    hits = _select(
        hanna.text(f"{base}?for=task-new&person=example.org"), "f-task-new-responsible_user_id"
    )
    assert set(hits[:2]) == {"Leif Leader (leader)", "Mona Manager (leader)"}, hits
    assert "Olav Other" in hits
    with app.app_context():
        searches = db.session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(
                AuditEntry.action == "case.people_search",
                AuditEntry.object_id == str(named_case.id),
                AuditEntry.actor == f"user:{org.handler.id}",
            )
        )
        assert searches == 6
    assert "Searched for a responsible person" in hanna.text(base)


def test_the_service_refuses_named_people_and_admins_as_responsible(
    app: Flask, org: Org, named_case: CaseRef
) -> None:
    with app.app_context():
        case = get_case(named_case.id)
        handler = user_obj(org.handler)
        named = service.responsible_suggestions(case, [], actor=handler)
        assert org.employee.id not in {c.user.id for c in named}
        for person in (org.employee.id, org.admin.id):
            with pytest.raises(service.CaseError):
                service.add_task(
                    case, actor=handler, template="leader_contact", responsible_user_id=person
                )
        task = service.add_task(
            case, actor=handler, template="leader_contact", responsible_user_id=org.manager.id
        )
        assert task.responsible_user_id == org.manager.id


def test_a_too_long_search_is_a_400_saying_what_to_fix(
    org: Org, named_case: CaseRef, login: Any
) -> None:
    response = login(org.handler).get(f"/cases/{named_case.id}?for=task-new&person={'x' * 101}")
    assert response.status_code == 400
    text = page_text(response)
    assert "Search with at most 100 characters." in text
    # The page comes back showing the follow-up section, where the search is.
    assert '<div class="case-panel case-panel--active" id="p-followup">' in text


def test_a_sent_form_lands_on_its_section(org: Org, named_case: CaseRef, login: Any) -> None:
    hanna = login(org.handler)
    base = f"/cases/{named_case.id}"
    sent = hanna.post(f"{base}/messages", {"body": "Hei", "internal": "true"})
    assert sent.headers["Location"].endswith(f"{base}#h-messages")
    refused = hanna.post(f"{base}/tasks", {"template": "no-such-kind"})
    assert refused.status_code == 400
    assert '<div class="case-panel case-panel--active" id="p-followup">' in page_text(refused)
    assert '<div class="case-panel case-panel--first" id="p-overview">' in page_text(refused)


def test_only_the_case_handlers_can_search(
    app: Flask, org: Org, named_case: CaseRef, login: Any, make: Any
) -> None:
    path = f"/cases/{named_case.id}?for=task-new&person=olav"
    assert login(org.whistle_handler).get(path).status_code == 404
    assert login(org.admin).get(path).status_code == 403
    assert login(org.manager).get(path).status_code == 403
    with app.app_context():
        assert not db.session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "case.people_search")
        )


@pytest.fixture
def thousands(app: Flask) -> int:
    """3,000 more active users, inserted in one statement (no password, no roles)."""
    now = datetime.now(UTC)
    rows = [
        {
            "email": f"person{n:04d}@example.org",
            "name": f"Person {n:04d}",
            "active": True,
            "session_version": 1,
            "totp_enabled": False,
            "created_at": now,
        }
        for n in range(3000)
    ]
    with app.app_context():
        db.session.execute(insert(User), rows)
        db.session.commit()
    return len(rows)


def test_the_picker_stays_small_with_thousands_of_users(
    org: Org, named_case: CaseRef, login: Any, thousands: int
) -> None:
    hanna = login(org.handler)
    base = f"/cases/{named_case.id}"
    page = hanna.text(base)
    assert len(_select(page, "f-task-new-responsible_user_id")) < 10
    found = hanna.text(f"{base}?for=task-new&person=person")
    options = _select(found, "f-task-new-responsible_user_id")
    assert options[:20] == [f"Person {n:04d}" for n in range(20)]
    assert "20 people found" in found
    assert found.count("<option") < 100


# -- the page's size of work ------------------------------------------------------------


@pytest.fixture
def statements(app: Flask) -> Iterator[list[str]]:
    with app.app_context():
        engine = db.engine
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine, "before_cursor_execute", record)


def test_the_case_page_runs_as_many_statements_after_many_readings_and_tasks(
    app: Flask,
    org: Org,
    make: Any,
    named_case: CaseRef,
    login: Any,
    statements: list[str],
) -> None:
    hanna = login(org.handler)
    base = f"/cases/{named_case.id}"

    def measure() -> int:
        hanna.text(base)
        statements.clear()
        hanna.text(base)
        return len(statements)

    hanna.post(
        f"{base}/tasks", {"template": "leader_contact", "responsible_user_id": org.manager.id}
    )
    few = measure()
    for _ in range(10):
        hanna.text(base)
    for template in ("bht_offer", "recontact", "individual_talk"):
        hanna.post(f"{base}/tasks", {"template": template, "responsible_user_id": org.handler.id})
    # Readings by five more people: their names come in the same one query.
    readers = [make.user(Role.HANDLER, name=f"Reader {n}") for n in range(5)]
    with app.app_context():
        for reader in readers:
            _reading(named_case.id, reader.id)
        db.session.commit()
        assert len(get_case(named_case.id).tasks) == 4
    page = hanna.text(base)
    assert all(f"Reader {n}" in page for n in range(5))
    assert measure() == few
