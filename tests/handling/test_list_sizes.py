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

from tests.factories import UserInfo, api_login, form_login
from tests.handling.conftest import CaseRef, Org
from trygg.extensions import db

# (path, who asks, how they log in)
LISTS = [
    ("/cases", "handler", "form"),
    ("/cases?state=all", "handler", "form"),
    ("/cases?state=reported&deadline=due_soon", "handler", "form"),
    ("/api/v1/cases", "handler", "api"),
    ("/api/v1/cases?state=all&assigned=none", "handler", "api"),
    ("/my-reports", "employee", "form"),
    ("/api/v1/reports", "employee", "api"),
    ("/admin/users", "admin", "form"),
]


@pytest.fixture
def statements(app: Flask) -> Iterator[list[str]]:
    """Every SQL statement the app runs, as it runs."""
    with app.app_context():
        engine = db.engine
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
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
        return len(body["cases"])
    return response.get_data(as_text=True).count('<th scope="row">')


def _reports(submit: Callable[..., CaseRef], org: Org, count: int) -> None:
    for n in range(count):
        submit(org.employee, unit_id=org.ward.id, severity=1 + n % 4)


def test_every_list_runs_as_many_statements_for_100_rows_as_for_10(
    app: Flask, org: Org, make: Any, submit: Callable[..., CaseRef], statements: list[str]
) -> None:
    people = {"handler": org.handler, "employee": org.employee, "admin": org.admin}
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
    for n in range(10):
        make.user("employee", name=f"Person {n:03d}", units=(org.ward,))
    small = {(p, who): measure(p, who, how, 10) for p, who, how in LISTS}
    _reports(submit, org, 95)
    for n in range(10, 100):
        make.user("employee", name=f"Person {n:03d}", units=(org.ward,))
    large = {(p, who): measure(p, who, how, 100) for p, who, how in LISTS}

    for key, (rows, count) in small.items():
        big_rows, big_count = large[key]
        if key[0] in ("/cases", "/api/v1/cases", "/cases?state=all", "/my-reports"):
            assert (rows, big_rows) == (10, 100), key
        assert big_count == count, (key, rows, count, big_rows, big_count, LAST.get(key))


@pytest.mark.parametrize(("path", "who", "how"), LISTS)
def test_every_list_refuses_a_page_size_above_its_maximum(
    app: Flask, org: Org, path: str, who: str, how: str
) -> None:
    people = {"handler": org.handler, "employee": org.employee, "admin": org.admin}
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
    from tests.handling.conftest import get_case, user_obj

    def nearest_open(case: Any) -> Any:
        dues = [d.due_at for d in case.deadlines if d.is_open]
        return min(dues) if dues else None

    ref = submit(org.employee, unit_id=org.ward.id, severity=3)
    with app.app_context():
        handler = user_obj(org.handler)
        case = get_case(ref.id)
        assert case.next_due_at is not None
        assert case.next_due_at == nearest_open(case)
        service.transition(case, "acknowledged", actor=handler)
        db.session.commit()
        case = get_case(ref.id)
        assert case.next_due_at == nearest_open(case)
        service.transition(case, "dropped", actor=handler, reason="Duplicate of another report")
        db.session.commit()
        case = get_case(ref.id)
        assert nearest_open(case) is None
        assert case.next_due_at is None
