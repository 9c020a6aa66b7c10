"""The admin's pages: handler groups, routing rules and deadline policies."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import (
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from marshmallow import ValidationError
from werkzeug.wrappers.response import Response

from handling import admin_schemas, codes, service
from handling.models import HandlerGroup
from handling.presenters import Forms, Names, _errors_of
from handling.views.base import Page, _user, bp
from handling.views.inputs import load_form
from handling.workflow import (
    CaseError,
)
from reporting import codes as rcodes
from trygg import org
from trygg.accounts import service as accounts
from trygg.accounts.models import Role
from trygg.audit import actor_label
from trygg.extensions import db
from trygg.forms import form_input
from trygg.i18n import gettext as _
from trygg.i18n import ngettext
from trygg.security import allow
from trygg.validation import flatten_errors, translate_errors

# -- admin ------------------------------------------------------------------------------


@dataclass(frozen=True)
class WarningRow:
    reference: str
    warning: str
    group: str
    opened_at: datetime
    # An anonymous report keeps only its day: shown as a date.
    anonymous: bool = False


def _warning_rows() -> list[WarningRow]:
    """Routing warnings for admins: the case's reference and the reason, no content."""
    groups = {g.id: g.name for g in service.handler_groups()}
    rows = []
    for w in service.routing_warnings():
        found = service.get_case(w.case_id)
        rows.append(
            WarningRow(
                reference=found.report.reference if found is not None else str(w.case_id),
                warning=rcodes.label(codes.ROUTING_WARNINGS, w.warning),
                group=groups.get(w.group_id or 0, ""),
                opened_at=w.opened_at,
                anonymous=found is not None and found.report.anonymous,
            )
        )
    return rows


def _stranded_groups(groups: list[HandlerGroup]) -> list[tuple[str, int]]:
    """Groups without members that hold active cases, with how many: no one sees those
    cases until the group has a member or the cases are moved (a routing warning is made
    only when a case is routed, so it does not tell of a group emptied since)."""
    counts = service.active_cases_by_group()
    return [(g.name, counts[g.id]) for g in groups if not g.member_ids and counts.get(g.id)]


def _handlers() -> list[accounts.Person]:
    return accounts.users_with_roles(Role.HANDLER, active=False)


@bp.get("/admin/handler-groups")
@allow(Role.ADMIN)
def admin_groups() -> str:
    """Handler groups with their members, and the routing warnings."""
    groups = service.handler_groups()
    names = Names()
    names.load(uid for group in groups for uid in group.member_ids)
    return render_template(
        "handling/admin_groups.html",
        groups=groups,
        names=names,
        warnings=_warning_rows(),
        stranded=_stranded_groups(groups),
    )


@bp.route("/admin/handler-groups/new", methods=["GET", "POST"])
@bp.route("/admin/handler-groups/<id:group_id>", methods=["GET", "POST"])
@allow(Role.ADMIN)
def admin_group_form(group_id: int | None = None) -> Page | Response:
    """Create or change a handler group: name, members, default and fallback."""
    group: HandlerGroup | None = None
    if group_id is not None:
        group = service.get_group(group_id)
    forms = Forms()
    if request.method == "POST":
        members_before = set(group.member_ids) if group is not None else set()
        try:
            # The form always shows every field: an unticked box or list sends nothing.
            data = load_form(admin_schemas.HandlerGroupSchema(), absent_as_empty=True)
            saved = service.save_group(actor=actor_label(_user()), group=group, **data)
        except (ValidationError, CaseError) as exc:
            forms = Forms("group", request.form, _errors_of(exc))
            db.session.rollback()
            if group_id is not None:
                group = service.get_group(group_id)
        else:
            flash(_("The handler group %(name)s is saved.", name=saved.name), "success")
            removed = len(members_before - set(saved.member_ids))
            if removed:
                # Access follows membership: added again, someone is a new member.
                flash(
                    ngettext(
                        "%(num)s member was removed from the group. Added again, they see "
                        "the cases that come after that, and earlier ones only where they "
                        "were given access to them.",
                        "%(num)s members were removed from the group. Added again, they see "
                        "the cases that come after that, and earlier ones only where they "
                        "were given access to them.",
                        removed,
                    ),
                    "warning",
                )
            return redirect(url_for(".admin_groups"), 303)
    html = render_template(
        "handling/admin_group_form.html",
        group=group,
        forms=forms,
        errors=forms.errors,
        handlers=_handlers(),
        contacts=accounts.users_with_roles(Role.HANDLER, Role.ADMIN, active=False),
    )
    return (html, 400) if forms.errors else html


def _render_rules(forms: Forms | None = None) -> Page:
    forms = forms or Forms()
    groups = service.handler_groups()
    html = render_template(
        "handling/admin_rules.html",
        rules=service.routing_rules(),
        groups=groups,
        # A rule to a group without members sends its cases to the fallback group.
        empty_groups={g.id for g in groups if not g.member_ids},
        units={u.id: u.name for u in org.all_units()},
        nodes=org.tree(),
        warnings=_warning_rows(),
        stranded=_stranded_groups(groups),
        forms=forms,
        errors=forms.errors,
    )
    return (html, 400) if forms.errors else html


@bp.get("/admin/routing-rules")
@allow(Role.ADMIN)
def admin_rules() -> Page:
    """Routing rules (unit subtree, incident type, track → group) and warnings."""
    return _render_rules()


@bp.post("/admin/routing-rules")
@allow(Role.ADMIN)
def admin_rule_create() -> Page | Response:
    """Add a routing rule; empty criteria match anything."""
    try:
        data = load_form(admin_schemas.RoutingRuleSchema())
        service.create_rule(actor=actor_label(_user()), **data)
    except (ValidationError, CaseError) as exc:
        db.session.rollback()
        return _render_rules(Forms("rule", request.form, _errors_of(exc)))
    flash(_("The routing rule is added."), "success")
    return redirect(url_for(".admin_rules"), 303)


@bp.post("/admin/routing-rules/<id:rule_id>/delete")
@allow(Role.ADMIN)
def admin_rule_delete(rule_id: int) -> Response:
    """Remove a routing rule (cases already routed stay where they are)."""
    rule = next((r for r in service.routing_rules() if r.id == rule_id), None)
    if rule is None:
        abort(404)
    service.delete_rule(rule, actor=actor_label(_user()))
    flash(_("The routing rule is removed."), "success")
    return redirect(url_for(".admin_rules"), 303)


POLICY_ROWS_MAX = 500


def _policy_rows() -> tuple[list[dict[str, Any]], list[str]]:
    """The policy table as sent: rows to keep, and each row's form prefix (for errors).

    Row i's fields are named "p{i}-kind", "p{i}-amount", …; a row added is "new-…"."""
    form = request.form
    schema = admin_schemas.DeadlinePolicySchema()
    rows: list[dict[str, Any]] = []
    sources: list[str] = []
    for index in range(POLICY_ROWS_MAX):
        src = f"p{index}"
        if f"{src}-kind" not in form:
            break
        if form.get(f"{src}-remove") != "on":
            rows.append(form_input(schema, prefix=src))
            sources.append(src)
    if form.get("new-kind") or form.get("new-amount", "").strip():
        # A duration typed without a step is a row begun, not "no new policy": the
        # schema says the step is missing rather than the row being dropped.
        rows.append(form_input(schema, prefix="new"))
        sources.append("new")
    return rows, sources


def _policy_errors(messages: Any, sources: list[str]) -> dict[str, list[str]]:
    """Nested schema errors ({"policies": {0: {"amount": [...]}}}) as "p3-amount" keys."""
    out: dict[str, list[str]] = {}
    nested = messages.get("policies") if isinstance(messages, dict) else None
    if isinstance(nested, dict):
        for index, fields_ in nested.items():
            src = sources[int(index)] if int(index) < len(sources) else "new"
            for name, msgs in (fields_ or {}).items():
                out.setdefault(f"{src}-{name}", []).extend(map(str, msgs))
    return out or flatten_errors(messages)


# An existing row's step and cases are hidden fields: what is said of them is said by
# the row's "Active" box (switching it off is one way out), which has an id to link to.
POLICY_FIXED_FIELDS = frozenset({"kind", "track", "incident_type", "min_severity"})


def _case_error_keys(errors: dict[str, list[str]], sources: list[str]) -> dict[str, list[str]]:
    """The service's "policies.3.amount" keys as the form's "p3-amount"."""
    out: dict[str, list[str]] = {}
    for key, msgs in errors.items():
        parts = key.split(".")
        if len(parts) == 3 and parts[0] == "policies" and parts[1].isdigit():
            index = int(parts[1])
            src = sources[index] if index < len(sources) else "new"
            name = parts[2]
            if src != "new" and name in POLICY_FIXED_FIELDS:
                name = "active"
            out.setdefault(f"{src}-{name}", []).extend(msgs)
        else:
            out.setdefault(key, []).extend(msgs)
    return out


@bp.route("/admin/deadline-policies", methods=["GET", "POST"])
@allow(Role.ADMIN)
def admin_policies() -> Page | Response:
    """The deadline policies: change durations, switch rows off, add or remove rows."""
    forms = Forms()
    if request.method == "POST":
        rows, sources = _policy_rows()
        try:
            data = admin_schemas.DeadlinePoliciesSchema().load({"policies": rows})
            service.replace_policies(data["policies"], actor=actor_label(_user()))
        except ValidationError as exc:
            errors = _policy_errors(translate_errors(exc.messages), sources)
            forms = Forms("policies", request.form, errors)
        except CaseError as exc:
            forms = Forms("policies", request.form, _case_error_keys(exc.messages(), sources))
        else:
            flash(_("The deadline policies are saved. New cases use them."), "success")
            return redirect(url_for(".admin_policies"), 303)
        db.session.rollback()
    html = render_template(
        "handling/admin_policies.html",
        policies=service.policies(),
        forms=forms,
        errors=forms.errors,
        severities=rcodes.SEVERITIES,
    )
    return (html, 400) if forms.errors else html
