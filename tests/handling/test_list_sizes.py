"""Lists stay the same size of work however long they are (issue 17).

Every list page and API list runs the same number of SQL statements for 10 rows as for
100 (no statement per row, no batch that grows with the table), and refuses a page size
above its maximum, or a cursor it did not give, with a translated 400.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event

from handling.states import CaseState
from tests.factories import CaseRef, UserInfo, api_login, choose_language, form_login
from tests.handling.conftest import Org
from trygg import access_changes
from trygg.extensions import db
from trygg.roles import Role

# (path, who asks, how they log in)
LISTS = [
    ("/cases", Role.HANDLER, "form"),
    ("/cases?state=all", Role.HANDLER, "form"),
    ("/cases?state=reported&deadline=due_soon", Role.HANDLER, "form"),
    ("/api/v1/cases", Role.HANDLER, "api"),
    ("/api/v1/cases?state=all&assigned=none", Role.HANDLER, "api"),
    # Sorted by a computed column, and searched by part of the reference (issue 15).
    ("/cases?sort=-unread&q=-", Role.HANDLER, "form"),
    ("/api/v1/cases?sort=type&q=-", Role.HANDLER, "api"),
    ("/my-reports", Role.EMPLOYEE, "form"),
    ("/api/v1/reports", Role.EMPLOYEE, "api"),
    ("/admin/users", Role.ADMIN, "form"),
    ("/admin/users?q=person", Role.ADMIN, "form"),
    ("/admin/units", Role.ADMIN, "form"),
    ("/notifications", Role.HANDLER, "form"),
    ("/api/v1/notifications", Role.HANDLER, "api"),
    ("/access-changes", Role.HANDLER, "form"),
]


# How many statements each list runs, whatever its length (savepoints of the test's
# transaction not counted): the session's user, the caller's groups (the queue), the
# page with everything its rows show, and on HTML pages the unit tree (the queue's
# filter) and the unread-notifications badge; "My reports" also counts the reporter's
# unread news (and only when there is some, finds which rows it is about in four more,
# whatever the page's length). Issue 17 cut the queue API from 6 to 3.
STATEMENTS = {
    "/cases": 5,
    "/cases?state=all": 5,
    "/cases?state=reported&deadline=due_soon": 5,
    "/api/v1/cases": 3,
    "/api/v1/cases?state=all&assigned=none": 3,
    "/cases?sort=-unread&q=-": 5,
    "/api/v1/cases?sort=type&q=-": 3,
    "/my-reports": 4,
    "/api/v1/reports": 2,
    "/admin/users": 3,
    "/admin/users?q=person": 3,
    "/admin/units": 3,
    "/notifications": 4,
    "/api/v1/notifications": 3,
    "/access-changes": 4,
}


@pytest.fixture
def statements(app: Flask) -> Iterator[list[str]]:
    """Every SQL statement the app runs, as it runs (not the test's savepoints)."""
    with app.app_context():
        engine = db.engine
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO")):
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine, "before_cursor_execute", record)


# The last statements of each list, shown when a count differs.
LAST: dict[Any, Any] = {}


def _client(app: Flask, user: UserInfo, how: str) -> Any:
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    (form_login if how == "form" else api_login)(client, user)
    choose_language(client, "en")
    return client


def _with(path: str, **args: Any) -> str:
    extra = "&".join(f"{k}={v}" for k, v in args.items())
    return f"{path}{'&' if '?' in path else '?'}{extra}"


def _rows(response: Any) -> int:
    """How many rows the list showed (a JSON list, the queue's cases, or table rows)."""
    body = response.get_json(silent=True)
    if isinstance(body, list):
        return len(body)
    if isinstance(body, dict):
        return len(body["cases"] if "cases" in body else body["items"])
    text = response.get_data(as_text=True)
    return text.count('<th scope="row">') or text.count('/open">') or text.count("<tr>") - 1


def _reports(submit: Callable[..., CaseRef], org: Org, count: int) -> None:
    for n in range(count):
        submit(org.employee, unit_id=org.ward.id, severity=1 + n % 4)


def _access_changes(app: Flask, org: Org, count: int) -> None:
    with app.app_context():
        for _n in range(count):
            access_changes.record("two_factor.reset", actor="cli", user_id=org.handler.id)
        db.session.commit()


def test_every_list_runs_as_many_statements_for_100_rows_as_for_10(
    app: Flask, org: Org, make: Any, submit: Callable[..., CaseRef], statements: list[str]
) -> None:
    people = {Role.HANDLER: org.handler, Role.EMPLOYEE: org.employee, Role.ADMIN: org.admin}
    # One login each (a TOTP code is good once): the API reads the same session cookie.
    clients = {who: _client(app, user, "form") for who, user in people.items()}

    def measure(path: str, who: str, how: str, limit: int) -> tuple[int, int]:
        client = clients[who]
        client.get(_with(path, limit=limit))  # warm: per-process caches are not per row
        statements.clear()
        response = client.get(_with(path, limit=limit))
        assert response.status_code == 200, (path, response.status_code)
        LAST[(path, who)] = list(statements)[-8:]
        return _rows(response), len(statements)

    _reports(submit, org, 10)
    _access_changes(app, org, 10)
    for n in range(10):
        make.user(Role.EMPLOYEE, name=f"Person {n:03d}", units=(org.ward,))
    small = {(p, who): measure(p, who, how, 10) for p, who, how in LISTS}
    _reports(submit, org, 95)
    _access_changes(app, org, 95)
    for n in range(10, 100):
        make.user(Role.EMPLOYEE, name=f"Person {n:03d}", units=(org.ward,))
    large = {(p, who): measure(p, who, how, 100) for p, who, how in LISTS}

    for key, (rows, count) in small.items():
        big_rows, big_count = large[key]
        if key[0] in (
            "/cases",
            "/api/v1/cases",
            "/cases?state=all",
            "/my-reports",
            "/notifications",
            "/api/v1/notifications",
            "/access-changes",
        ) or ("q=-" in key[0]):
            assert (rows, big_rows) == (10, 100), key
        assert big_count == count, (key, rows, count, big_rows, big_count, LAST.get(key))
        assert count == STATEMENTS[key[0]], (key, count, LAST.get(key))


@pytest.mark.parametrize(("path", "who", "how"), LISTS)
def test_every_list_refuses_a_page_size_above_its_maximum(
    app: Flask, org: Org, path: str, who: str, how: str
) -> None:
    people = {Role.HANDLER: org.handler, Role.EMPLOYEE: org.employee, Role.ADMIN: org.admin}
    client = _client(app, people[who], how)
    assert client.get(_with(path, limit=200)).status_code == 200
    for bad in ({"limit": 201}, {"limit": 0}, {"after": "not-a-cursor"}):
        response = client.get(_with(path, **bad))
        assert response.status_code == 400, (path, bad)
        text = response.get_data(as_text=True)
        wanted = (
            "Show from 1 to 200 rows per page."
            if "limit" in bad
            else "This page link is not valid. Start again from the first page."
        )
        assert wanted in text, (path, bad, text[:300])
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "nb"
    choose_language(client, "nb")
    assert "Vis fra 1 til 200 rader per side." in client.get(_with(path, limit=500)).get_data(
        as_text=True
    )


def test_the_queue_pages_through_every_case_once_nearest_deadline_first(
    app: Flask, org: Org, submit: Callable[..., CaseRef]
) -> None:
    _reports(submit, org, 7)
    client = _client(app, org.handler, "api")
    whole = client.get("/api/v1/cases?limit=200").get_json()
    seen: list[int] = []
    cursor = None
    while True:
        path = "/api/v1/cases?limit=3" + (f"&after={cursor}" if cursor else "")
        body = client.get(path).get_json()
        seen += [c["id"] for c in body["cases"]]
        assert body["active_cases"] == 7
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == [c["id"] for c in whole["cases"]]
    assert len(seen) == 7
    dues = [c["next_deadline"]["due_at"] for c in whole["cases"] if c["next_deadline"]]
    assert dues == sorted(dues)


def test_the_stored_next_deadline_follows_the_deadline_rows(
    app: Flask, org: Org, submit: Callable[..., CaseRef]
) -> None:
    """What the queue sorts and counts by is the earliest open deadline, at every step."""
    from handling import service
    from tests.factories import user_obj
    from tests.handling.conftest import get_case

    def nearest_open(case: Any) -> Any:
        dues = [d.due_at for d in case.deadlines if d.is_open]
        return min(dues) if dues else None

    ref = submit(org.employee, unit_id=org.ward.id, severity=3)
    with app.app_context():
        handler = user_obj(org.handler)
        case = get_case(ref.id)
        assert case.next_due_at is not None
        assert case.next_due_at == nearest_open(case)
        service.transition(case, CaseState.ACKNOWLEDGED, actor=handler)
        db.session.commit()
        case = get_case(ref.id)
        assert case.next_due_at == nearest_open(case)
        service.transition(
            case, CaseState.DROPPED, actor=handler, reason="Duplicate of another report"
        )
        db.session.commit()
        case = get_case(ref.id)
        assert nearest_open(case) is None
        assert case.next_due_at is None


# The case page's statements (API, HTML) with the test's organisation: its fixed loads
# (the case and its relationships, the access check, the audit append, the picker, the
# panels of other packages), none per message, author, event or reading. On SQLite the
# audit append is two statements (PostgreSQL's is one, trygg/audit/chain.py). An active
# case asks retention only whether it is on hold (a finished one also when it falls due).
CASE_STATEMENTS = {"postgresql": {"api": 19, "page": 36}, "sqlite": {"api": 20, "page": 37}}


def test_the_case_page_runs_as_many_statements_for_many_messages_as_for_one(
    app: Flask,
    org: Org,
    submit: Callable[..., CaseRef],
    api: Callable[[UserInfo], Any],
    statements: list[str],
) -> None:
    case = submit(org.employee, unit_id=org.ward.id)
    handler, colleague, reporter = api(org.handler), api(org.colleague), api(org.employee)
    theirs = f"/api/v1/cases/{case.id}/messages"
    mine = f"/api/v1/reports/{case.report_id}/messages"
    paths = {"api": f"/api/v1/cases/{case.id}", "page": f"/cases/{case.id}"}
    assert handler.post(theirs, {"body": "What happened?"}).status_code == 201

    def count() -> dict[str, int]:
        out = {}
        for name, path in paths.items():
            handler.get(path)  # warm: the first reading of new messages marks them read
            statements.clear()
            assert handler.get(path).status_code == 200, path
            LAST[("case", name)] = list(statements)
            out[name] = len(statements)
        return out

    small = count()
    with app.app_context():
        engine = db.engine.dialect.name
    for n in range(3):
        # Three authors: the author's name must not cost a statement each.
        assert colleague.post(theirs, {"body": f"Note {n}", "internal": True}).status_code == 201
        assert reporter.post(mine, {"body": f"Answer {n}"}).status_code == 201
        assert handler.post(theirs, {"body": f"Question {n}"}).status_code == 201
    assert count() == small, [" ".join(s.split())[:80] for s in LAST[("case", "page")]]
    assert small == CASE_STATEMENTS[engine], small


def test_the_handler_group_list_reads_its_members_names_at_once(
    app: Flask, org: Org, make: Any, statements: list[str]
) -> None:
    """The admin's list of handler groups names every member: one query for all of
    them, not one (with the account's roles and units) per member."""
    from handling import service

    admin = _client(app, org.admin, "form")

    def count() -> int:
        admin.get("/admin/handler-groups")  # warm
        statements.clear()
        response = admin.get("/admin/handler-groups")
        assert response.status_code == 200
        return len(statements)

    few = count()
    with app.app_context():
        extra = [make.user(Role.HANDLER, name=f"Handler {n:02d}").id for n in range(12)]
        group = service.save_group(actor="test", name="Mange", member_ids=extra)
        db.session.commit()
        assert len(group.member_ids) == 12
    html = admin.get("/admin/handler-groups").get_data(as_text=True)
    assert "Handler 00" in html
    assert "Handler 11" in html
    assert count() == few
