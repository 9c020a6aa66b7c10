"""Admin pages: units and users through the forms, each change audited, bad input refused."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import func, select

from tests.factories import UserInfo, form_login, form_token
from trygg.accounts.models import User
from trygg.audit import AuditEntry
from trygg.extensions import db
from trygg.org import Unit
from trygg.roles import Role

NEW_PASSWORD = "a first passphrase for kari"


@pytest.fixture
def admin(make):
    return make.user(Role.ADMIN)


@pytest.fixture
def admin_client(app, admin):
    client = app.test_client()
    form_login(client, admin)
    return client


def submit(client, path: str, data: dict):
    return client.post(path, data={"csrf_token": form_token(client, path), **data})


def audit_since(app, seq: int) -> list[AuditEntry]:
    with app.app_context():
        return list(
            db.session.scalars(
                select(AuditEntry).where(AuditEntry.seq > seq).order_by(AuditEntry.seq)
            )
        )


def last_seq(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.max(AuditEntry.seq))) or 0


def unit_named(app, name: str) -> Unit | None:
    with app.app_context():
        return db.session.scalar(select(Unit).where(Unit.name == name))


def user_with(app, email: str) -> User | None:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        if user is not None:
            _ = (user.roles, user.memberships)  # load before the context closes
        return user


def field_error(response, field: str) -> str:
    """The message shown next to a field (its element id is e-<field>)."""
    match = re.search(rf'id="e-{field}">([^<]*)<', response.get_data(as_text=True))
    assert match, f"no message next to {field}"
    return match.group(1)


# -- units ------------------------------------------------------------------------------


def test_admin_creates_and_edits_units(app, admin, admin_client):
    start = last_seq(app)
    created = submit(admin_client, "/admin/units/new", {"name": "Sykehuset", "headcount": "600"})
    assert created.status_code == 302
    assert created.headers["Location"] == "/admin/units"
    root = unit_named(app, "Sykehuset")
    submit(
        admin_client,
        "/admin/units/new",
        {"name": "Akutten", "parent_id": str(root.id), "headcount": "80"},
    )
    acute = unit_named(app, "Akutten")
    assert (acute.parent_id, acute.headcount) == (root.id, 80)
    listing = admin_client.get("/admin/units").get_data(as_text=True)
    assert "Sykehuset" in listing
    assert "Akutten" in listing

    edited = submit(
        admin_client,
        f"/admin/units/{acute.id}",
        {"name": "Akuttmottaket", "parent_id": "", "headcount": "85"},
    )
    assert edited.status_code == 302
    moved = unit_named(app, "Akuttmottaket")
    assert (moved.id, moved.parent_id, moved.headcount) == (acute.id, None, 85)

    logged = audit_since(app, start)
    assert [(e.action, e.object_id) for e in logged] == [
        ("unit.create", str(root.id)),
        ("unit.create", str(acute.id)),
        ("unit.update", str(acute.id)),
    ]
    assert {e.actor for e in logged} == {f"user:{admin.id}"}
    assert logged[-1].detail_dict() == {"parent_id": None, "headcount": 85}


@pytest.fixture
def units(make):
    root = make.unit("Sykehuset")
    child = make.unit("Akutten", parent=root)
    grandchild = make.unit("Akutten natt", parent=child)
    return root, child, grandchild


@pytest.mark.parametrize(
    ("target", "form", "field"),
    [
        ("new", {"name": ""}, "name"),
        ("new", {"name": "   "}, "name"),
        ("new", {"name": "x" * 121}, "name"),
        ("new", {"name": "Sykehuset"}, "name"),
        ("new", {"name": "Ny", "headcount": "-1"}, "headcount"),
        ("new", {"name": "Ny", "headcount": "mange"}, "headcount"),
        ("new", {"name": "Ny", "parent_id": "999999"}, "parent_id"),
        # Beyond what an id column holds (PostgreSQL 2^31, SQLite 2^63): not a 500.
        ("new", {"name": "Ny", "parent_id": str(2**31)}, "parent_id"),
        ("new", {"name": "Ny", "parent_id": str(2**70)}, "parent_id"),
        ("root", {"name": "Sykehuset", "parent_id": "grandchild"}, "parent_id"),
        ("root", {"name": "Sykehuset", "parent_id": "child"}, "parent_id"),
        ("child", {"name": "Akutten", "parent_id": "child"}, "parent_id"),
        ("child", {"name": "Akutten natt"}, "name"),
        ("child", {"name": "Akutten", "headcount": "-5"}, "headcount"),
    ],
)
def test_invalid_unit_form_is_refused_next_to_the_field(
    app, admin_client, units, target, form, field
):
    by_name = dict(zip(("root", "child", "grandchild"), units, strict=True))
    path = "/admin/units/new" if target == "new" else f"/admin/units/{by_name[target].id}"
    if form.get("parent_id") in by_name:
        form = {**form, "parent_id": str(by_name[form["parent_id"]].id)}
    before = snapshot(app)

    response = submit(admin_client, path, form)

    assert response.status_code == 400
    assert field_error(response, field)
    assert snapshot(app) == before


def test_a_unit_is_offered_no_parent_below_itself(admin_client, units):
    # Moving a unit under itself or under a unit below it is refused; the list no longer
    # offers those (its children were shown under another unit, as if they belonged there).
    root, child, grandchild = units

    def offered(unit):
        html = admin_client.get(f"/admin/units/{unit.id}").get_data(as_text=True)
        select = html.split('name="parent_id"', 1)[1].split("</select>", 1)[0]
        return {int(v) for v in re.findall(r'<option value="(\d+)"', select)}

    assert offered(root) == set()
    assert offered(child) == {root.id}
    assert offered(grandchild) == {root.id, child.id}
    new = admin_client.get("/admin/units/new").get_data(as_text=True)
    assert {root.id, child.id, grandchild.id} <= {
        int(v) for v in re.findall(r'<option value="(\d+)"', new)
    }


def snapshot(app) -> tuple:
    with app.app_context():
        return (
            sorted(db.session.execute(select(Unit.id, Unit.name, Unit.parent_id, Unit.headcount))),
            sorted(db.session.execute(select(User.id, User.email, User.name, User.active))),
            db.session.scalar(select(func.count()).select_from(AuditEntry)),
        )


# -- users ------------------------------------------------------------------------------


def test_admin_creates_edits_and_deactivates_a_user(app, make, admin, admin_client):
    ward = make.unit("Sengepost")
    acute = make.unit("Akutten")
    start = last_seq(app)

    created = submit(
        admin_client,
        "/admin/users/new",
        {
            "email": "Kari@Example.org",
            "name": "Kari Nordmann",
            "roles": [Role.EMPLOYEE],
            "units": [str(ward.id)],
        },
    )
    assert created.status_code == 200  # the page with her set-password code
    kari = user_with(app, "kari@example.org")
    assert kari.roles == {Role.EMPLOYEE}
    assert [m.unit_id for m in kari.memberships] == [ward.id]
    assert "Kari Nordmann" in admin_client.get("/admin/users").get_data(as_text=True)

    kari_client = app.test_client()
    choose_password(kari_client, kari.email, created, NEW_PASSWORD)
    form_login(kari_client, make_info(kari, NEW_PASSWORD))
    assert kari_client.get("/api/v1/me").get_json()["roles"] == [Role.EMPLOYEE]

    edited = submit(
        admin_client,
        f"/admin/users/{kari.id}",
        {
            "email": kari.email,
            "name": "Kari Nordmann",
            "roles": [Role.EMPLOYEE, Role.MANAGER],
            "units": [str(ward.id)],
            "managed_units": [str(acute.id)],
            "active": "on",
        },
    )
    assert edited.status_code == 302
    kari = user_with(app, "kari@example.org")
    assert kari.roles == {Role.EMPLOYEE, Role.MANAGER}
    assert {(m.unit_id, m.is_manager) for m in kari.memberships} == {
        (ward.id, False),
        (acute.id, True),
    }
    me = kari_client.get("/api/v1/me").get_json()
    assert me["roles"] == [Role.EMPLOYEE, Role.MANAGER]  # the session sees the change at once

    deactivated = admin_client.post(
        f"/admin/users/{kari.id}/deactivate",
        data={"csrf_token": form_token(admin_client, f"/admin/users/{kari.id}")},
    )
    assert deactivated.status_code == 302
    assert not user_with(app, "kari@example.org").active
    assert kari_client.get("/api/v1/me").status_code == 401

    logged = audit_since(app, start)
    assert [e.action for e in logged] == [
        "user.create",
        "user.password_code",
        "user.password",
        "user.update",
        "user.deactivate",
    ]
    kari_entries = {"user.password"}  # she chose her password
    admin_entries = [e for e in logged if e.action not in kari_entries]
    assert {e.actor for e in admin_entries} == {f"user:{admin.id}"}
    assert {e.actor for e in logged if e.action in kari_entries} == {f"user:{kari.id}"}
    assert {e.object_id for e in logged} == {str(kari.id)}
    assert logged[3].detail_dict() == {
        "roles_before": [Role.EMPLOYEE],
        "roles": [Role.EMPLOYEE, Role.MANAGER],
        "units": sorted([ward.id, acute.id]),
        "active": True,
    }


def make_info(user: User, password: str) -> UserInfo:
    return UserInfo(user.id, user.email, password, tuple(user.roles))


def choose_password(client, email: str, code_page, password: str) -> None:
    """Use the set-password code an admin was shown, as its user would."""
    match = re.search(r'id="password-code"[^>]*>([0-9A-Z-]+)<', code_page.get_data(as_text=True))
    assert match, "no set-password code on the page"
    response = client.post(
        "/account/set-password",
        data={
            "csrf_token": form_token(client, "/account/set-password"),
            "email": email,
            "code": match.group(1),
            "new_password": password,
        },
    )
    assert response.status_code == 302


VALID_USER = {
    "email": "new@example.org",
    "name": "Ny Person",
    "roles": [Role.EMPLOYEE],
}


def test_the_user_forms_required_fields_are_marked(admin_client):
    # "Roles" is refused when empty ("Choose at least one role.") but was not marked.
    html = admin_client.get("/admin/users/new").get_data(as_text=True)
    for label in ("E-postadresse", "Navn", "Roller"):
        assert re.search(rf'{label}\s*<span class="app-required">', html), label


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 121}, "name"),
        ({"email": ""}, "email"),
        ({"email": "not-an-address"}, "email"),
        ({"email": "TAKEN@example.org"}, "email"),
        ({"roles": []}, "roles"),
        ({"roles": [Role.EMPLOYEE, "wizard"]}, "roles"),
        ({"units": ["999999"]}, "units"),
        ({"units": ["abc"]}, "units"),
        ({"units": [str(2**31)]}, "units"),
        ({"represented_units": [str(2**70)]}, "represented_units"),
    ],
)
def test_invalid_user_form_is_refused_next_to_the_field(app, make, admin_client, changes, field):
    make.user(Role.EMPLOYEE, email="taken@example.org")
    before = snapshot(app)
    response = submit(admin_client, "/admin/users/new", {**VALID_USER, **changes})
    assert response.status_code == 400
    assert field_error(response, field)
    assert snapshot(app) == before


def test_a_manager_or_safety_rep_saved_without_units_is_saved_with_a_warning(
    app, make, admin_client
):
    # Saved silently, a manager of no unit found an empty start page and a safety
    # representative of none an empty queue, and nobody knew why.
    ward = make.unit("Sengepost")
    roles = [Role.EMPLOYEE, Role.MANAGER, Role.SAFETY_REP]
    created = submit(admin_client, "/admin/users/new", {**VALID_USER, "roles": roles})
    assert created.status_code == 200  # saved: the page with the set-password code
    text = html.unescape(created.get_data(as_text=True))
    assert "Ny Person er leder, men leder ingen enhet" in text
    assert "Ny Person er verneombud, men er ikke verneombud for noen enhet" in text
    person = user_with(app, VALID_USER["email"])
    assert person.roles == set(roles)
    # Given the units, the edit says nothing of the kind.
    form = {**VALID_USER, "roles": roles, "active": "on", "units": [str(ward.id)]}
    edited = submit(
        admin_client,
        f"/admin/users/{person.id}",
        {**form, "managed_units": [str(ward.id)], "represented_units": [str(ward.id)]},
    )
    assert edited.status_code == 302
    listed = admin_client.get(edited.headers["Location"]).get_data(as_text=True)
    assert "leder ingen enhet" not in listed
    assert "for noen enhet" not in listed
    # Taking the represented units away again is saved, and said.
    edited = submit(
        admin_client, f"/admin/users/{person.id}", {**form, "managed_units": [str(ward.id)]}
    )
    assert edited.status_code == 302
    listed = html.unescape(admin_client.get(edited.headers["Location"]).get_data(as_text=True))
    assert "Ny Person er verneombud, men er ikke verneombud for noen enhet" in listed
    assert "leder ingen enhet" not in listed
    # A manager who is also in the committee sees the whole organisation's trends.
    amu = {**VALID_USER, "email": "amu@example.org", "roles": [Role.MANAGER, Role.AMU]}
    created = submit(admin_client, "/admin/users/new", amu)
    assert created.status_code == 200
    assert "leder ingen enhet" not in html.unescape(created.get_data(as_text=True))


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": "  "}, "name"),
        ({"roles": []}, "roles"),
        ({"roles": ["root"]}, "roles"),
        ({"managed_units": ["999999"]}, "managed_units"),
    ],
)
def test_invalid_user_edit_is_refused_next_to_the_field(app, make, admin_client, changes, field):
    kari = make.user(Role.EMPLOYEE)
    form = {"email": kari.email, "name": "Kari", "roles": [Role.EMPLOYEE], "active": "on"}
    before = snapshot(app)
    response = submit(admin_client, f"/admin/users/{kari.id}", {**form, **changes})
    assert response.status_code == 400
    assert field_error(response, field)
    assert snapshot(app) == before


def test_admin_cannot_remove_their_own_admin_role_or_deactivate_themselves(
    app, admin, admin_client
):
    before = snapshot(app)
    response = submit(
        admin_client,
        f"/admin/users/{admin.id}",
        {"email": admin.email, "name": "Test Person", "roles": [Role.EMPLOYEE], "active": "on"},
    )
    assert response.status_code == 400
    assert field_error(response, "roles")
    response = admin_client.post(
        f"/admin/users/{admin.id}/deactivate",
        data={"csrf_token": form_token(admin_client, "/admin/users")},
    )
    assert response.status_code == 400
    assert snapshot(app) == before
    assert admin_client.get("/admin/").status_code == 200


@pytest.mark.parametrize("path", ["/admin/units/999999", "/admin/users/999999"])
def test_editing_something_that_does_not_exist_is_404(admin_client, path):
    assert admin_client.get(path).status_code == 404


def test_employee_is_refused_every_admin_route(app, make):
    employee = make.user(Role.EMPLOYEE)
    victim = make.user(Role.EMPLOYEE)
    client = app.test_client()
    form_login(client, employee)
    token = form_token(client, "/account")
    before = snapshot(app)
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/admin"):
            continue
        path = re.sub(r"<(?:int|id):[a-z_]+>", str(victim.id), rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            data = {"csrf_token": token, **VALID_USER, "name": "Hacked"}
            response = client.open(path, method=method, data=data)
            assert response.status_code == 403, (method, path)
    assert snapshot(app) == before


def test_the_edit_form_as_a_browser_sends_it_switches_a_user_off_and_on(app, make, admin_client):
    ward = make.unit("Sengepost")
    kari = make.user(Role.EMPLOYEE)
    path = f"/admin/users/{kari.id}"
    page = admin_client.get(path).get_data(as_text=True)
    assert '<input type="hidden" name="active" value="off">' in page
    form = {"email": kari.email, "name": "Kari", "roles": [Role.EMPLOYEE]}
    # An unticked box sends only the hidden "off".
    assert submit(admin_client, path, {**form, "active": "off"}).status_code == 302
    assert not user_with(app, kari.email).active
    assert submit(admin_client, path, {**form, "active": ["off", "on"]}).status_code == 302
    assert user_with(app, kari.email).active
    # Refused: the page comes back with what was ticked, and nothing is stored.
    refused = submit(
        admin_client, path, {**form, "name": " ", "units": [str(ward.id)], "active": "off"}
    )
    assert refused.status_code == 400
    assert field_error(refused, "name")
    again = refused.get_data(as_text=True)
    assert re.search(rf'name="units" value="{ward.id}" checked', again)
    assert not re.search(r'id="f-active" name="active" checked', again)
    assert user_with(app, kari.email).active


def test_a_unit_form_with_text_for_a_number_is_refused_and_shown_again(app, admin_client):
    before = snapshot(app)
    refused = submit(admin_client, "/admin/units/new", {"name": "Ny", "headcount": "ti"})
    assert refused.status_code == 400
    assert field_error(refused, "headcount")
    assert 'value="ti"' in refused.get_data(as_text=True)
    assert snapshot(app) == before
    created = submit(admin_client, "/admin/units/new", {"name": " Ny post ", "headcount": ""})
    assert created.status_code == 302
    with app.app_context():
        unit = db.session.scalars(select(Unit).where(Unit.name == "Ny post")).one()
        assert unit.headcount == 0
