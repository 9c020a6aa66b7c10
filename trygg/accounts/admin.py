"""Admin pages: units and users. Every change is written to the audit log."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from marshmallow import ValidationError
from werkzeug.wrappers.response import Response

from trygg import audit, org, paging
from trygg.accounts import service
from trygg.accounts.models import CASE_READING_ROLES, ROLES, Role, User
from trygg.accounts.schemas import UnitFormSchema, UserFormSchema
from trygg.audit import actor_label
from trygg.forms import form_input
from trygg.i18n import gettext as _
from trygg.security import allow
from trygg.validation import flatten_errors, translate_errors

bp = Blueprint("admin", __name__, url_prefix="/admin", template_folder="templates")


def _unit_form() -> dict[str, Any]:
    """The unit form as the schema loads it (and as it is shown again with errors)."""
    return form_input(UnitFormSchema(), absent_as_empty=True)


def _user_form(editing: bool) -> dict[str, Any]:
    """The user form as the schema loads it. "Active" is on the form only when editing
    (it sends a hidden "off" before the box); a new user is active."""
    data = form_input(UserFormSchema(), absent_as_empty=True)
    if not editing:
        data.pop("active", None)
    # Admins never choose passwords (they issue set-password codes): a password sent
    # anyway is an unknown field, refused by the schema.
    if "password" in request.form:
        data["password"] = request.form["password"]
    return data


def _code_page(user: User, issued: service.IssuedCode, *, created: bool) -> str:
    """The set-password code, shown this once (in the page, never in a URL)."""
    return render_template(
        "accounts/admin_password_code.html",
        user=user,
        issued=issued,
        created=created,
        reads_cases=service.reads_cases(user),
    )


def _units_by_id(ids: list[int], field: str) -> list[org.Unit]:
    units = []
    for unit_id in ids:
        unit = org.get_unit(unit_id)
        if unit is None:
            raise service.AccountError(_("Choose units from the list."), field=field)
        units.append(unit)
    return units


@bp.get("/")
@allow(Role.ADMIN)
def home() -> str:
    """The admin start page."""
    return render_template("accounts/admin_home.html")


# The longest search text the admin lists take.
SEARCH_MAX = 100


def _list_args() -> tuple[str, paging.PageArgs]:
    """The admin list's search text and page; ValidationError with what to fix."""
    search = request.args.get("q", "").strip()
    if len(search) > SEARCH_MAX:
        raise ValidationError({"q": [_("Search for at most %(max)s characters.", max=SEARCH_MAX)]})
    return search, paging.page_args(request.args, (str, int))


def _refused(exc: ValidationError, template: str, **empty: Any) -> tuple[str, int]:
    """A list's answer to a search or page it does not accept: a search too long is
    said by the search field (with the text, to shorten), else an error page."""
    if "q" not in exc.messages:
        return paging.refused(exc)
    page = render_template(
        template,
        **empty,
        search=request.args.get("q", ""),
        # `errors` also titles the page "Error:" (base.html).
        errors=flatten_errors(translate_errors(exc.messages)),
        next_page=None,
        first_page=None,
    )
    return page, 400


def _pages(endpoint: str, search: str, args: paging.PageArgs, cursor: str | None) -> dict[str, Any]:
    """The links to the next and the first page, keeping the search and page size."""
    more: dict[str, Any] = {"limit": args.limit} if request.args.get("limit") else {}
    if search:
        more["q"] = search
    return {
        "search": search,
        "next_page": url_for(endpoint, **more, after=cursor) if cursor else None,
        "first_page": url_for(endpoint, **more) if args.after else None,
    }


@bp.get("/units")
@allow(Role.ADMIN)
def units() -> str | tuple[str, int]:
    """The units by name, with parent and headcount, a page at a time; searchable."""
    try:
        search, args = _list_args()
    except ValidationError as exc:
        return _refused(exc, "accounts/admin_units.html", rows=[])
    page = org.units_page(search=search, limit=args.limit, after=args.after)
    return render_template(
        "accounts/admin_units.html",
        rows=page.items,
        **_pages("admin.units", search, args, page.next_cursor),
    )


@bp.route("/units/new", methods=["GET", "POST"])
@bp.route("/units/<id:unit_id>", methods=["GET", "POST"])
@allow(Role.ADMIN)
def unit_form(unit_id: int | None = None) -> str | Response | tuple[str, int]:
    """Create or edit a unit."""
    unit = org.get_unit(unit_id) if unit_id is not None else None
    if unit_id is not None and unit is None:
        abort(404)
    errors: dict[str, list[str]] = {}
    form: dict[str, Any] = (
        {"name": unit.name, "parent_id": unit.parent_id, "headcount": unit.headcount}
        if unit
        else {"name": "", "parent_id": None, "headcount": 0}
    )
    if request.method == "POST":
        form = _unit_form()
        try:
            data = UnitFormSchema().load(form)
            parent = org.get_unit(data["parent_id"]) if data["parent_id"] else None
            if data["parent_id"] and parent is None:
                raise org.OrgError(_("Choose a parent unit from the list."), field="parent_id")
            if unit is None:
                unit = org.create_unit(data["name"], parent=parent, headcount=data["headcount"])
                action = "unit.create"
            else:
                org.update_unit(unit, name=data["name"], parent=parent, headcount=data["headcount"])
                action = "unit.update"
            audit.record(
                action,
                actor=actor_label(current_user),
                object_type="unit",
                object_id=unit.id,
                detail={"parent_id": unit.parent_id, "headcount": unit.headcount},
            )
            return redirect(url_for("admin.units"))
        except ValidationError as exc:
            errors = flatten_errors(translate_errors(exc.messages))
        except org.OrgError as exc:
            errors = {exc.field: [str(exc)]}
    # A unit cannot move under itself or a unit below it: those are not offered.
    below = org.subtree_ids(unit.id) if unit is not None and unit.id is not None else set()
    nodes = [node for node in org.tree() if node.unit.id not in below]
    return (
        render_template(
            "accounts/admin_unit_form.html", unit=unit, form=form, errors=errors, nodes=nodes
        ),
        400 if errors else 200,
    )


@bp.get("/users")
@allow(Role.ADMIN)
def users() -> str | tuple[str, int]:
    """The users by name with roles, units and status, a page at a time; searchable by
    name or e-mail address."""
    try:
        search, args = _list_args()
    except ValidationError as exc:
        return _refused(exc, "accounts/admin_users.html", users=[])
    page = service.users_page(search=search, limit=args.limit, after=args.after)
    return render_template(
        "accounts/admin_users.html",
        users=page.items,
        **_pages("admin.users", search, args, page.next_cursor),
    )


def _user_values(user: User | None) -> dict[str, Any]:
    """The user form's values for an existing user, or an empty form."""
    if user is None:
        return {
            "email": "",
            "name": "",
            "roles": [],
            "units": [],
            "managed_units": [],
            "represented_units": [],
            "active": True,
        }
    return {
        "email": user.email,
        "name": user.name,
        "roles": sorted(user.roles),
        "units": [m.unit_id for m in user.memberships],
        "managed_units": [m.unit_id for m in user.memberships if m.is_manager],
        "represented_units": [m.unit_id for m in user.memberships if m.is_safety_rep],
        "active": user.active,
    }


def _warn_of_no_units(
    name: str, roles: list[str], managed: list[org.Unit], represented: list[org.Unit]
) -> None:
    """Saved, but said: a manager who leads no unit sees no trends, and a safety
    representative who represents none has no shared cases."""
    # The committee and the admins see the whole organisation's trends anyway.
    if Role.MANAGER in roles and not managed and not {Role.AMU, Role.ADMIN} & set(roles):
        flash(
            _(
                "%(name)s is a manager but leads no unit: their trends stay empty until "
                "you choose the units under “Line manager of”.",
                name=name,
            ),
            "warning",
        )
    if Role.SAFETY_REP in roles and not represented:
        flash(
            _(
                "%(name)s is a safety representative but represents no unit: no case is "
                "shared with them until you choose the units under “Safety representative "
                "for”.",
                name=name,
            ),
            "warning",
        )


def _save_user(user: User | None, form: dict[str, Any]) -> str | Response:
    """Create (then show the new user's set-password code) or update a user.

    Raises ValidationError or AccountError, with nothing stored.
    """
    actor = actor_label(current_user)
    data = UserFormSchema().load(form)
    units = _units_by_id(data["units"], "units")
    managed = _units_by_id(data["managed_units"], "managed_units")
    represented = _units_by_id(data["represented_units"], "represented_units")
    if user is None:
        user = service.create_user(
            email=data["email"],
            name=data["name"],
            roles=data["roles"],
            units=units,
            managed_units=managed,
            represented_units=represented,
            actor=actor,
        )
        _warn_of_no_units(user.name, data["roles"], managed, represented)
        return _code_page(user, service.issue_password_code(user, actor=actor), created=True)
    if user.id == current_user.id and Role.ADMIN not in data["roles"]:
        raise service.AccountError(
            _("You cannot remove your own administrator role."), field="roles"
        )
    gains_case_reading = not service.reads_cases(user) and bool(
        CASE_READING_ROLES.intersection(data["roles"])
    )
    service.update_user(
        user,
        name=data["name"],
        roles=data["roles"],
        units=units,
        managed_units=managed,
        represented_units=represented,
        active=data["active"],
        actor=actor,
    )
    _warn_of_no_units(user.name, data["roles"], managed, represented)
    if gains_case_reading:
        # Whatever password the account had may be known to whoever set it up: an
        # account that starts reading cases chooses a new one, and two-factor, itself.
        return _code_page(user, service.issue_password_code(user, actor=actor), created=False)
    return redirect(url_for("admin.users"))


@bp.route("/users/new", methods=["GET", "POST"])
@bp.route("/users/<id:user_id>", methods=["GET", "POST"])
@allow(Role.ADMIN)
def user_form(user_id: int | None = None) -> str | Response | tuple[str, int]:
    """Create or edit a user: roles, unit memberships, active."""
    user: User | None = service.get_user(user_id) if user_id is not None else None
    if user_id is not None and user is None:
        abort(404)
    errors: dict[str, list[str]] = {}
    form = _user_values(user)
    if request.method == "POST":
        form = _user_form(editing=user is not None)
        try:
            return _save_user(user, form)
        except ValidationError as exc:
            errors = flatten_errors(translate_errors(exc.messages))
        except service.AccountError as exc:
            errors = {exc.field or "email": [str(exc)]}
    return (
        render_template(
            "accounts/admin_user_form.html",
            user=user,
            form=form,
            errors=errors,
            roles=ROLES,
            nodes=org.tree(),
            reads_cases=user is not None and service.reads_cases(user),
            reset_by_mail=user is not None and service.reset_by_mail(user),
        ),
        400 if errors else 200,
    )


def _other_user(user_id: int) -> User:
    """The user an action is about: 404 if none, 400 if it is the admin themselves."""
    user = service.get_user(user_id)
    if user is None:
        abort(404)
    if user.id == current_user.id:
        abort(400)
    return user


@bp.post("/users/<id:user_id>/deactivate")
@allow(Role.ADMIN)
def deactivate(user_id: int) -> Response:
    """Deactivate a user and end their sessions."""
    user = _other_user(user_id)
    service.deactivate_user(user, actor=actor_label(current_user))
    return redirect(url_for("admin.users"))


@bp.post("/users/<id:user_id>/password-code")
@allow(Role.ADMIN)
def password_code(user_id: int) -> str:
    """Reset a user's password: issue a set-password code (their sessions end).

    Not one's own: that is changed on the account page.
    """
    user = _other_user(user_id)
    issued = service.issue_password_code(user, actor=actor_label(current_user))
    return _code_page(user, issued, created=False)


@bp.post("/users/<id:user_id>/reset-two-factor")
@allow(Role.ADMIN)
def reset_two_factor(user_id: int) -> str | Response:
    """Remove a user's authenticator (lost phone); they set it up again at next login.

    For a handler or safety representative it is a full reset: the page says where
    the set-password code went (their own address), never the code.
    """
    user = service.get_user(user_id)
    if user is None:
        abort(404)
    issued = service.reset_two_factor(user, actor=actor_label(current_user))
    if issued is not None:
        return _code_page(user, issued, created=False)
    return redirect(url_for("admin.user_form", user_id=user.id))
