"""The admin's user and unit lists: search, a page at a time, and the same number of SQL
statements for 10 rows as for 100 (whatever the tree looks like)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event

from tests.factories import choose_language, form_login
from trygg.extensions import db
from trygg.roles import Role


@pytest.fixture
def admin_client(app: Flask, make: Any) -> Any:
    client = app.test_client()
    form_login(client, make.user(Role.ADMIN, email="admin@example.org", name="Ada Admin"))
    choose_language(client, "en")
    return client


def _names(html: str) -> list[str]:
    return re.findall(r'<th scope="row">([^<]*)</th>', html)


def _link(html: str, text: str) -> str | None:
    match = re.search(rf'<a class="ds-link" href="([^"]+)"[^>]*>{text}</a>', html)
    return match.group(1).replace("&amp;", "&") if match else None


def _walk(client: Any, path: str) -> list[list[str]]:
    """Every page of a list from `path` on, following "Next page"."""
    pages = []
    next_path: str | None = path
    while next_path:
        html = client.get(next_path).get_data(as_text=True)
        pages.append(_names(html))
        next_path = _link(html, "Next page")
    return pages


def test_units_are_searched_and_paged_by_name(admin_client: Any, make: Any) -> None:
    root = make.unit("Sykehuset")
    for n in range(7):
        make.unit(f"Post {n}", parent=root)
    make.unit("Kantina_100%", parent=root)
    pages = _walk(admin_client, "/admin/units?limit=3")
    assert [len(page) for page in pages] == [3, 3, 3]
    assert sum(pages, []) == sorted(["Sykehuset", "Kantina_100%", *(f"Post {n}" for n in range(7))])
    found = _walk(admin_client, "/admin/units?limit=3&q=POST")
    assert sum(found, []) == [f"Post {n}" for n in range(7)]
    html = admin_client.get("/admin/units?limit=3&q=post").get_data(as_text=True)
    assert "Sykehuset" in html  # the column "Part of"
    assert 'value="post"' in html  # the search stays in the box
    assert 'href="/admin/units?limit=3&amp;q=post&amp;after=' in html  # and in the link
    # Wildcards are plain characters in a search.
    assert _names(admin_client.get("/admin/units?q=_100%25").get_data(as_text=True)) == [
        "Kantina_100%"
    ]
    nothing = admin_client.get("/admin/units?q=nowhere").get_data(as_text=True)
    assert "No units match \u201cnowhere\u201d." in nothing


def test_users_are_searched_by_name_or_address(admin_client: Any, make: Any) -> None:
    unit = make.unit("Akutten")
    make.user(Role.EMPLOYEE, email="kari@example.org", name="Kari Nordmann", units=(unit,))
    make.user(Role.EMPLOYEE, email="ola@nordland.example", name="Ola Hansen", units=(unit,))
    make.user(Role.EMPLOYEE, email="per@example.org", name="Per Persen", units=(unit,))
    found = _names(admin_client.get("/admin/users?q=nord").get_data(as_text=True))
    assert found == ["Kari Nordmann", "Ola Hansen"]
    assert _names(admin_client.get("/admin/users?q=PER@").get_data(as_text=True)) == ["Per Persen"]
    pages = _walk(admin_client, "/admin/users?limit=2&q=example")
    assert pages == [["Ada Admin", "Kari Nordmann"], ["Ola Hansen", "Per Persen"]]


def test_each_user_row_shows_their_roles_and_units(admin_client: Any, make: Any) -> None:
    """Roles ordered by code, units by name; a comma in a unit's name stays whole."""
    first, second = make.unit("Sengepost 2, kirurgi"), make.unit("Akutten")
    make.user(
        Role.HANDLER,
        Role.EMPLOYEE,
        email="kari@example.org",
        name="Kari Nordmann",
        units=(first, second),
    )
    make.user(Role.EMPLOYEE, email="ola@example.org", name="Ola Uten Enhet")
    html = admin_client.get("/admin/users?q=example.org").get_data(as_text=True)
    rows = re.findall(
        r'<th scope="row">([^<]*)</th>\s*<td>[^<]*</td>\s*<td>([^<]*)</td>\s*'
        r"<td>([^<]*)</td>",
        html,
    )
    assert rows == [
        ("Ada Admin", "Administrator", ""),
        ("Kari Nordmann", "Employee, Case handler", "Akutten, Sengepost 2, kirurgi"),
        ("Ola Uten Enhet", "Employee", ""),
    ]


def test_a_too_long_search_is_a_translated_400(admin_client: Any) -> None:
    for path in ("/admin/users", "/admin/units"):
        response = admin_client.get(f"{path}?q={'x' * 101}")
        assert response.status_code == 400
        html = response.get_data(as_text=True)
        assert "Search for at most 100 characters." in html
        # Said by the search field, which keeps the text to shorten; no list below it.
        assert 'id="e-q"' in html
        assert 'aria-invalid="true"' in html
        assert f'value="{"x" * 101}"' in html
        assert 'href="#f-q"' in html
        assert "<table" not in html
        choose_language(admin_client, "nb")
        norwegian = admin_client.get(f"{path}?q={'x' * 101}").get_data(as_text=True)
        assert "Søk etter høyst 100 tegn." in norwegian
        choose_language(admin_client, "en")


def test_a_too_long_search_says_error_first_and_not_that_the_list_is_empty(
    admin_client: Any,
) -> None:
    """The title says the page is an error (what a screen reader reads first), the list
    is not said to be empty (there are units), and the echoed text stays text."""
    typed = '"><script>alert(1)</script>' + "x" * 100
    for path in ("/admin/users", "/admin/units"):
        response = admin_client.get(path, query_string={"q": typed})
        assert response.status_code == 400
        html = response.get_data(as_text=True)
        assert re.search(r"<title>\s*Error:", html), html.split("</title>", 1)[0]
        assert "No units yet." not in html
        assert "<script>alert(1)" not in html
        assert "&#34;&gt;&lt;script&gt;alert(1)" in html


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


def test_the_lists_cost_the_same_for_100_rows_as_for_10(
    admin_client: Any, make: Any, statements: list[str]
) -> None:
    """Each user in a unit of their own, each unit under another: no statement per row."""
    paths = (
        "/admin/units?limit={n}",
        "/admin/units?q=unit&limit={n}",
        "/admin/users?q=person&limit={n}",
    )

    def grow(start: int, stop: int) -> None:
        parent = None
        for n in range(start, stop):
            parent = make.unit(f"Unit {n:03d}", parent=parent)
            make.user(Role.EMPLOYEE, name=f"Person {n:03d}", units=(parent,), manages=(parent,))

    def measure(n: int) -> dict[str, tuple[int, int]]:
        counts = {}
        for path in paths:
            admin_client.get(path.format(n=n))  # warm
            statements.clear()
            html = admin_client.get(path.format(n=n)).get_data(as_text=True)
            counts[path] = (len(_names(html)), len(statements))
        return counts

    grow(0, 11)
    small = measure(10)
    grow(11, 101)
    large = measure(100)
    for path in paths:
        assert (small[path][0], large[path][0]) == (10, 100), path
        assert small[path][1] == large[path][1], (path, small[path], large[path])
