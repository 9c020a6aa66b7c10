"""Separation of duties, accounts side: administering Trygg never gives case content.

No account holds the admin role together with a role that reads case content (handler,
safety representative), by any route: the admin pages (both directions), the command
line, or the handler-group API. Admins never choose or see passwords: they issue a
one-time set-password code, and the owner chooses the password. Every change that
widens access to case content is listed on the access-changes page for handlers and
the safety representative.
"""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from tests.factories import UserInfo, api_login, choose_language, csrf_token, form_login, form_token
from trygg.access_changes import AccessChange
from trygg.accounts.models import PasswordCode, User, UserRole
from trygg.extensions import db, utcnow
from trygg.roles import Role

CONFLICT_NB = "En administrator kan ikke også være saksbehandler eller verneombud"
CONFLICT_EN = "An administrator cannot also be a case handler or safety representative"
CHOSEN = "my own long passphrase"


@pytest.fixture
def admin(make):
    return make.user(Role.ADMIN, name="Ada Admin")


@pytest.fixture
def admin_client(app, admin):
    client = app.test_client()
    form_login(client, admin)
    return client


def post_form(client, path: str, data: dict, page: str | None = None):
    return client.post(path, data={"csrf_token": form_token(client, page or path), **data})


def roles_of(app, user_id: int) -> set[str]:
    with app.app_context():
        return set(
            db.session.scalars(select(UserRole.role).where(UserRole.user_id == user_id)).all()
        )


def user_count(app) -> int:
    with app.app_context():
        return int(db.session.scalar(select(func.count()).select_from(User)) or 0)


def field_error(response, field: str) -> str:
    match = re.search(rf'id="e-{field}">([^<]*)<', response.get_data(as_text=True))
    assert match, f"no message next to {field}"
    return match.group(1)


def shown_code(response) -> str:
    match = re.search(r'id="password-code"[^>]*>([0-9A-Z-]+)<', response.get_data(as_text=True))
    assert match, response.get_data(as_text=True)[:2000]
    return match.group(1)


# -- no admin reads cases -----------------------------------------------------------------

CONFLICTING = [
    [Role.ADMIN, Role.HANDLER],
    [Role.ADMIN, Role.SAFETY_REP],
    [Role.ADMIN, Role.HANDLER, Role.EMPLOYEE],
    [Role.ADMIN, Role.SAFETY_REP, Role.MANAGER],
]


@pytest.mark.parametrize("roles", CONFLICTING)
def test_the_admin_page_refuses_a_new_admin_who_reads_cases(app, admin_client, roles):
    before = user_count(app)
    response = post_form(
        admin_client,
        "/admin/users/new",
        {"email": "both@example.org", "name": "Both", "roles": roles},
    )
    assert response.status_code == 400
    assert CONFLICT_NB in field_error(response, "roles")
    assert user_count(app) == before


@pytest.mark.parametrize("case_role", [Role.HANDLER, Role.SAFETY_REP])
def test_the_admin_page_refuses_giving_an_admin_a_role_that_reads_cases(
    app, make, admin_client, case_role
):
    other_admin = make.user(Role.ADMIN)
    response = post_form(
        admin_client,
        f"/admin/users/{other_admin.id}",
        {
            "email": other_admin.email,
            "name": "Other",
            "roles": [Role.ADMIN, case_role],
            "active": "on",
        },
    )
    assert response.status_code == 400
    assert CONFLICT_NB in field_error(response, "roles")
    assert roles_of(app, other_admin.id) == {Role.ADMIN}


@pytest.mark.parametrize("case_role", [Role.HANDLER, Role.SAFETY_REP])
def test_the_admin_page_refuses_making_a_case_reader_an_admin(app, make, admin_client, case_role):
    reader = make.user(case_role)
    response = post_form(
        admin_client,
        f"/admin/users/{reader.id}",
        {"email": reader.email, "name": "Reader", "roles": [case_role, Role.ADMIN], "active": "on"},
    )
    assert response.status_code == 400
    assert CONFLICT_NB in field_error(response, "roles")
    assert roles_of(app, reader.id) == {case_role}


def test_an_admin_cannot_make_themselves_a_handler(app, admin, admin_client):
    response = post_form(
        admin_client,
        f"/admin/users/{admin.id}",
        {"email": admin.email, "name": "Ada", "roles": [Role.ADMIN, Role.HANDLER], "active": "on"},
    )
    assert response.status_code == 400
    assert roles_of(app, admin.id) == {Role.ADMIN}


def test_the_refusal_is_in_english_for_an_english_admin(admin_client):
    admin_client.post(
        "/language", data={"csrf_token": form_token(admin_client, "/admin/users"), "lang": "en"}
    )
    response = post_form(
        admin_client,
        "/admin/users/new",
        {"email": "both@example.org", "name": "Both", "roles": [Role.ADMIN, Role.HANDLER]},
    )
    assert CONFLICT_EN in field_error(response, "roles")


def test_admin_with_employee_or_manager_is_fine(app, admin_client):
    response = post_form(
        admin_client,
        "/admin/users/new",
        {
            "email": "boss@example.org",
            "name": "Boss",
            "roles": [Role.ADMIN, Role.MANAGER, Role.EMPLOYEE],
        },
    )
    assert response.status_code == 200


@pytest.mark.parametrize("roles", CONFLICTING)
def test_the_command_line_refuses_an_admin_who_reads_cases(app, runner, roles):
    before = user_count(app)
    args = ["users", "create", "both@example.org", "--name", "Both"]
    for role in roles:
        args += ["--role", role.value]
    result = runner.invoke(args=args)
    assert result.exit_code != 0
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith(f"Error: {CONFLICT_EN}")
    assert user_count(app) == before


def test_the_handler_group_api_refuses_an_admin_as_member(app, make, admin):
    handler = make.user(Role.HANDLER)
    client = app.test_client()
    api_login(client, admin)
    response = client.post(
        "/api/v1/admin/handler-groups",
        json={"name": "Vakt", "member_ids": [handler.id, admin.id]},
        headers={"X-CSRFToken": csrf_token(client)},
    )
    assert response.status_code == 400
    assert "member_ids" in response.get_json()["errors"]


def test_the_demo_organisation_keeps_admins_and_case_readers_apart(app):
    from trygg.demo import USERS

    for _local, _name, roles, _unit, _manages, _represents in USERS:
        assert not (Role.ADMIN in roles and set(roles) & {Role.HANDLER, Role.SAFETY_REP}), roles


# -- admins never learn a password --------------------------------------------------------


def set_password_with_code(client, email: str, code: str, password: str = CHOSEN):
    return post_form(
        client,
        "/account/set-password",
        {"email": email, "code": code, "new_password": password},
    )


def test_a_new_user_gets_a_code_and_chooses_their_own_password(app, admin_client):
    created = post_form(
        admin_client,
        "/admin/users/new",
        {"email": "kari@example.org", "name": "Kari", "roles": [Role.EMPLOYEE]},
    )
    assert created.status_code == 200
    code = shown_code(created)
    assert "kari@example.org" in created.get_data(as_text=True)
    kari = app.test_client()
    done = set_password_with_code(kari, "kari@example.org", code)
    assert done.status_code == 302
    assert done.headers["Location"] == "/login?password_set=1"
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "kari@example.org"))
        info = UserInfo(user.id, user.email, CHOSEN, (Role.EMPLOYEE,))
    api_login(app.test_client(), info)


def test_the_admin_form_takes_no_password(app, make, admin_client):
    kari = make.user(Role.EMPLOYEE)
    response = post_form(
        admin_client,
        f"/admin/users/{kari.id}",
        {
            "email": kari.email,
            "name": "Kari",
            "roles": [Role.EMPLOYEE],
            "active": "on",
            "password": "an admin chosen passphrase",
        },
    )
    assert response.status_code == 400
    api_login(app.test_client(), kari)  # the old password still works
    assert 'name="password"' not in admin_client.get(f"/admin/users/{kari.id}").get_data(
        as_text=True
    )


@pytest.fixture
def handler(make):
    return make.user(Role.HANDLER, name="Hanna Handler")


@pytest.fixture
def employee(make):
    return make.user(Role.EMPLOYEE, name="Erik Employee")


def no_code_shown(response) -> None:
    html = response.get_data(as_text=True)
    assert 'id="password-code"' not in html
    assert 'id="code-mailed"' in html


def issue_code(admin_client, user_id: int):
    return post_form(
        admin_client,
        f"/admin/users/{user_id}/password-code",
        {},
        page=f"/admin/users/{user_id}",
    )


def test_a_password_reset_ends_the_sessions_and_the_old_password(app, admin_client, handler, inbox):
    handler_client = app.test_client()
    form_login(handler_client, handler)
    issued = issue_code(admin_client, handler.id)
    assert issued.status_code == 200
    no_code_shown(issued)
    code = inbox.code(handler.email)
    assert handler_client.get("/api/v1/me").status_code == 401
    old = app.test_client()
    attempt = old.post(
        "/api/v1/session",
        json={"email": handler.email, "password": handler.password, "otp": "000000"},
        headers={"X-CSRFToken": csrf_token(old)},
    )
    assert attempt.status_code == 401
    assert set_password_with_code(app.test_client(), handler.email, code).status_code == 302


def test_the_user_page_says_where_a_reset_code_goes(admin_client, make, handler, employee):
    # For a case reader the page promised "you get a set-password code to give them";
    # their reset is a full one and the code goes to their own address.
    choose_language(admin_client, "en")
    rep = make.user(Role.SAFETY_REP, name="Vera Verneombud")
    for reader in (handler, rep):
        html = admin_client.get(f"/admin/users/{reader.id}").get_data(as_text=True)
        assert "a set-password code goes by e-mail to their own address" in html
        assert "you get a set-password code to give them" not in html
    html = admin_client.get(f"/admin/users/{employee.id}").get_data(as_text=True)
    assert "you get a set-password code to give them" in html
    assert "goes by e-mail to their own address" not in html


def test_the_code_alone_does_not_open_an_employees_account(app, make, admin_client):
    """Whoever holds an employee's code still needs their authenticator, if they have one."""
    person = make.user(Role.EMPLOYEE, Role.MANAGER)
    code = shown_code(issue_code(admin_client, person.id))
    thief = app.test_client()
    assert set_password_with_code(thief, person.email, code).status_code == 302
    person.password = CHOSEN
    form_login(app.test_client(), person)


@pytest.mark.parametrize("action", ["password-code", "reset-two-factor"])
def test_a_reset_handler_chooses_a_password_and_enrols_before_any_case(
    app, admin, admin_client, handler, inbox, action
):
    """The admin never sees the code; the handler gets it at their own address, and must
    set up two-factor again before anything (item 2 of issue 10)."""
    response = post_form(
        admin_client, f"/admin/users/{handler.id}/{action}", {}, page=f"/admin/users/{handler.id}"
    )
    no_code_shown(response)
    assert inbox.texts(admin.email) == []  # the code goes to the handler's address only
    old = app.test_client()
    attempt = old.post(
        "/api/v1/session",
        json={"email": handler.email, "password": handler.password, "otp": handler.otp()},
        headers={"X-CSRFToken": csrf_token(old)},
    )
    assert attempt.status_code == 401  # neither the old password nor the old authenticator
    code = inbox.code(handler.email)
    owner = app.test_client()
    assert set_password_with_code(owner, handler.email, code).status_code == 302
    handler.password, handler.totp_secret = CHOSEN, None
    form_login(owner, handler)
    for path in ("/", "/cases", "/api/v1/cases", "/access-changes"):
        assert owner.get(path).status_code in {302, 401, 403}, path
    assert owner.get("/cases").headers["Location"] == "/account/two-factor"


def test_a_code_works_once(app, admin_client, employee):
    code = shown_code(issue_code(admin_client, employee.id))
    assert set_password_with_code(app.test_client(), employee.email, code).status_code == 302
    again = set_password_with_code(app.test_client(), employee.email, code, "yet another phrase")
    assert again.status_code == 401


def test_a_new_code_replaces_the_old_one(app, admin_client, employee):
    first = shown_code(issue_code(admin_client, employee.id))
    second = shown_code(issue_code(admin_client, employee.id))
    assert set_password_with_code(app.test_client(), employee.email, first).status_code == 401
    assert set_password_with_code(app.test_client(), employee.email, second).status_code == 302


def test_an_expired_code_is_refused(app, admin_client, employee):
    code = shown_code(issue_code(admin_client, employee.id))
    with app.app_context():
        db.session.execute(update(PasswordCode).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    response = set_password_with_code(app.test_client(), employee.email, code)
    assert response.status_code == 401
    assert "utløpt" in response.get_data(as_text=True)


def test_a_code_is_for_one_account(app, make, admin_client, employee):
    other = make.user(Role.EMPLOYEE)
    code = shown_code(issue_code(admin_client, employee.id))
    assert set_password_with_code(app.test_client(), other.email, code).status_code == 401


def test_wrong_codes_count_towards_the_login_limit(app, admin_client, employee):
    code = shown_code(issue_code(admin_client, employee.id))
    client = app.test_client()
    for _ in range(5):
        wrong = set_password_with_code(client, employee.email, "AAAA-BBBB-CCCC-DDDD")
        assert wrong.status_code == 401
    assert set_password_with_code(client, employee.email, code).status_code == 429


def test_the_new_password_must_follow_the_rules(app, admin_client, employee):
    code = shown_code(issue_code(admin_client, employee.id))
    short = set_password_with_code(app.test_client(), employee.email, code, "short")
    assert short.status_code == 400
    assert field_error(short, "new_password")
    assert set_password_with_code(app.test_client(), employee.email, code).status_code == 302


def test_the_command_line_mails_case_readers_codes_and_sets_no_password(
    app, runner, handler, inbox
):
    result = runner.invoke(
        args=["users", "set-password", handler.email, "--password-stdin"], input=CHOSEN + "\n"
    )
    assert result.exit_code != 0
    assert "password-code" in result.output
    printed = runner.invoke(args=["users", "password-code", handler.email])
    assert printed.exit_code == 0, printed.output
    assert f"sent by e-mail to {handler.email}" in printed.output
    assert not re.search(r"[0-9A-Z]{4}(?:-[0-9A-Z]{4}){3}", printed.output)
    code = inbox.code(handler.email)
    assert set_password_with_code(app.test_client(), handler.email, code).status_code == 302


def test_the_command_line_creates_a_handler_with_a_code_not_a_password(app, runner):
    refused = runner.invoke(
        args=["users", "create", "h@example.org", "--name", "H", "--role", Role.HANDLER.value,
              "--password-stdin"],
        input=CHOSEN + "\n",
    )  # fmt: skip
    assert refused.exit_code != 0
    created = runner.invoke(
        args=["users", "create", "h@example.org", "--name", "H", "--role", Role.HANDLER.value]
    )
    assert created.exit_code == 0, created.output
    assert re.search(r"set-password code: [0-9A-Z]{4}(-[0-9A-Z]{4}){3}", created.output)


def test_a_new_handler_is_told_about_as_new_not_as_reset(app, admin_client, inbox):
    """The page after creating a handler says the code went to them; it does not speak of
    a reset, of two-factor "again", or of groups they are not in yet."""
    response = post_form(
        admin_client,
        "/admin/users/new",
        {"email": "new-handler@example.org", "name": "Nina New", "roles": [Role.HANDLER]},
    )
    no_code_shown(response)
    html = response.get_data(as_text=True)
    assert "Kode for å velge passord er sendt til Nina New" in html
    assert "Brukeren velger passord og setter opp tofaktorautentisering" in html
    assert "på nytt" not in html
    assert "får beskjed" not in html
    assert inbox.code("new-handler@example.org")


def test_a_two_factor_reset_makes_the_handler_enrol_before_anything(
    app, admin_client, handler, inbox
):
    handler_client = app.test_client()
    form_login(handler_client, handler)
    response = post_form(
        admin_client,
        f"/admin/users/{handler.id}/reset-two-factor",
        {},
        page=f"/admin/users/{handler.id}",
    )
    assert response.status_code == 200
    no_code_shown(response)
    assert handler_client.get("/api/v1/me").status_code == 401
    code = inbox.code(handler.email)
    assert set_password_with_code(app.test_client(), handler.email, code).status_code == 302
    handler.totp_secret, handler.password = None, CHOSEN
    form_login(handler_client, handler)
    for path in ("/", "/account", "/access-changes", "/cases"):
        assert handler_client.get(path).headers.get("Location") == "/account/two-factor", path


# -- access changes ------------------------------------------------------------------------


def changes(app) -> list[tuple[str, str, int | None, dict]]:
    with app.app_context():
        return [
            (c.kind, c.actor, c.user_id, c.detail)
            for c in db.session.scalars(select(AccessChange).order_by(AccessChange.id))
        ]


def test_every_widening_is_recorded_and_nothing_else(app, make, admin, admin_client):
    employee = make.user(Role.EMPLOYEE)
    start = len(changes(app))
    post_form(
        admin_client,
        "/admin/users/new",
        {"email": "new-handler@example.org", "name": "New", "roles": [Role.HANDLER]},
    )
    post_form(
        admin_client,
        f"/admin/users/{employee.id}",
        {
            "email": employee.email,
            "name": "E",
            "roles": [Role.EMPLOYEE, Role.SAFETY_REP],
            "active": "on",
        },
    )
    post_form(
        admin_client,
        f"/admin/users/{employee.id}",
        {"email": employee.email, "name": "Renamed", "roles": [Role.EMPLOYEE, Role.SAFETY_REP],
         "active": "on"},
    )  # fmt: skip
    issue_code(admin_client, employee.id)
    post_form(
        admin_client,
        f"/admin/users/{employee.id}/reset-two-factor",
        {},
        page=f"/admin/users/{employee.id}",
    )
    with app.app_context():
        new_id = db.session.scalar(select(User.id).where(User.email == "new-handler@example.org"))
    actor = f"user:{admin.id}"
    full = {"full": True}
    assert changes(app)[start:] == [
        ("role.granted", actor, new_id, {"role": Role.HANDLER}),
        ("password.reset", actor, new_id, full),
        ("role.granted", actor, employee.id, {"role": Role.SAFETY_REP}),
        ("password.reset", actor, employee.id, full),  # starts reading cases: a new password
        ("password.reset", actor, employee.id, full),
        ("two_factor.reset", actor, employee.id, full),
    ]


def test_an_employees_password_reset_is_not_an_access_change(app, make, admin_client):
    employee = make.user(Role.EMPLOYEE)
    start = len(changes(app))
    issue_code(admin_client, employee.id)
    assert changes(app)[start:] == []


def test_reactivating_a_handler_is_an_access_change(app, make, admin, admin_client):
    handler = make.user(Role.HANDLER, active=False)
    start = len(changes(app))
    post_form(
        admin_client,
        f"/admin/users/{handler.id}",
        {"email": handler.email, "name": "H", "roles": [Role.HANDLER], "active": "on"},
    )
    assert changes(app)[start:] == [
        ("user.reactivated", f"user:{admin.id}", handler.id, {"roles": [Role.HANDLER]})
    ]


def test_handlers_and_the_safety_rep_see_the_changes_newest_first(app, make, admin_client):
    hanna = make.user(Role.HANDLER, name="Hanna Handler")
    readers = [make.user(Role.HANDLER), make.user(Role.SAFETY_REP)]
    post_form(
        admin_client,
        "/admin/users/new",
        {"email": "nils@example.org", "name": "Nils Ny", "roles": [Role.HANDLER]},
    )
    issue_code(admin_client, hanna.id)
    for reader in readers:
        client = app.test_client()
        form_login(client, reader)
        page = client.get("/access-changes")
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        assert "<h1" in html
        assert "Tilgangsendringer" in html
        rows = re.findall(r"<tr>(.*?)</tr>", html, re.S)[1:]
        assert "Hanna Handler" in rows[0]
        assert "Ada Admin" in rows[0]
        assert "Passord og tofaktorautentisering nullstilt" in rows[0]
        assert "Nils Ny" in rows[2]
        assert "Fikk rollen: Saksbehandler" in rows[2]


def test_the_page_is_paged(app, make):
    from trygg import access_changes

    reader = make.user(Role.HANDLER)  # one entry: the role given
    with app.app_context():
        for _n in range(access_changes.PER_PAGE + 2):
            access_changes.record("two_factor.reset", actor="cli", user_id=reader.id)
        db.session.commit()
        assert db.session.scalar(select(func.count()).select_from(AccessChange)) == (
            access_changes.PER_PAGE + 3
        )
    client = app.test_client()
    form_login(client, reader)
    first = client.get("/access-changes").get_data(as_text=True)
    assert len(re.findall(r"<tr>", first)) == 1 + access_changes.PER_PAGE
    older = re.search(r'href="(/access-changes\?after=[^"]+)" rel="next">Eldre endringer', first)
    assert older, "a link on to the older changes"
    second = client.get(html.unescape(older[1])).get_data(as_text=True)
    assert len(re.findall(r"<tr>", second)) == 1 + 3
    assert "Eldre endringer" not in second
    assert 'href="/access-changes">Første side' in second
    # The oldest entry, the role given, is on the second page and not on the first.
    assert "Fikk rollen" in second
    assert "Fikk rollen" not in first
    # A page link that is not one the page gave, or a page too long: a 400 that says why.
    told = {
        "after=abc": "Begynn på nytt fra første side",
        "after=" + "x" * 500: "Begynn på nytt fra første side",
        "limit=201": "Vis fra 1 til 200 rader per side",
        "limit=0": "Vis fra 1 til 200 rader per side",
        "limit=x": "Skriv inn et helt tall",
    }
    for hostile, message in told.items():
        refused = client.get(f"/access-changes?{hostile}")
        assert refused.status_code == 400, hostile
        assert message in refused.get_data(as_text=True), hostile


@pytest.mark.parametrize("role", [Role.ADMIN, Role.EMPLOYEE, Role.MANAGER])
def test_others_do_not_see_the_page(app, make, role):
    user = make.user(role)
    client = app.test_client()
    form_login(client, user)
    assert client.get("/access-changes").status_code == 403


def test_a_safety_rep_given_another_unit_to_represent_is_an_access_change(
    app, make, admin, admin_client
):
    """The cases shared with a safety representative are those of the units they
    represent: adding one widens access (listed); working somewhere new, or giving a unit
    up, does not."""
    ward, other = make.unit("Akutten"), make.unit("Barneposten")
    rep = make.user(Role.SAFETY_REP, Role.EMPLOYEE, units=(ward,), represents=(ward,))
    start = len(changes(app))
    base = {"email": rep.email, "name": "R", "roles": [Role.EMPLOYEE, Role.SAFETY_REP]}
    post_form(
        admin_client,
        f"/admin/users/{rep.id}",
        {**base, "units": [str(ward.id), str(other.id)], "represented_units": [str(ward.id)],
         "active": "on"},
    )  # fmt: skip
    assert changes(app)[start:] == []
    post_form(
        admin_client,
        f"/admin/users/{rep.id}",
        {**base, "units": [str(ward.id)], "represented_units": [str(ward.id), str(other.id)],
         "active": "on"},
    )  # fmt: skip
    assert changes(app)[start:] == [
        ("safety_rep.units", f"user:{admin.id}", rep.id, {"units": [other.id]})
    ]
    post_form(
        admin_client,
        f"/admin/users/{rep.id}",
        {**base, "units": [str(ward.id)], "represented_units": [str(ward.id)], "active": "on"},
    )
    assert len(changes(app)) == start + 1
    reader = make.user(Role.HANDLER)
    client = app.test_client()
    form_login(client, reader)
    choose_language(client, "en")
    page = client.get("/access-changes").get_data(as_text=True)
    assert "Now safety representative for: Barneposten" in page
