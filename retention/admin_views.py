"""The admin's retention pages: policies (editable like the deadline policies), legal
holds by reference (place, lift), and answering a person's access request.

An admin never reads case content: holds are placed by reference, and an access request
gives the account data only (retention/exports/access.py).
"""

from __future__ import annotations

from typing import Any

from flask import Response, flash, redirect, render_template, request, url_for
from flask_login import current_user
from marshmallow import ValidationError
from sqlalchemy import select

from handling import codes as hcodes
from handling.models import Case
from reporting.models import Report
from reporting.service import typed_reference
from retention import schemas, service
from retention.codes import HOLD_REASONS, OUTCOMES, SCOPES
from retention.exports import access
from retention.exports.files import access_pdf, download
from retention.models import RetentionPolicy
from retention.service.policies import MAX_MONTHS
from retention.views import bp
from trygg.accounts.models import Role, User
from trygg.audit import actor_label
from trygg.extensions import db
from trygg.forms import form_input
from trygg.i18n import gettext as _
from trygg.i18n import lazy_gettext as _l
from trygg.security import allow
from trygg.validation import flatten_errors, translate_errors
from trygg.web import register_nav

Page = str | tuple[str, int] | Response


def policy_name(policy: RetentionPolicy) -> str:
    """A policy in words: its scope, and a case's track and outcome."""
    parts = [str(SCOPES.get(policy.scope, policy.scope))]
    if policy.track:
        parts.append(str(hcodes.TRACKS.get(policy.track, policy.track)))
    if policy.outcome:
        parts.append(str(OUTCOMES.get(policy.outcome, policy.outcome)))
    return " – ".join(parts)


def _months(policies: list[RetentionPolicy]) -> tuple[dict[int, int], dict[str, list[str]]]:
    """The typed months of each row, and each row's translated error."""
    values: dict[int, int] = {}
    errors: dict[str, list[str]] = {}
    for policy in policies:
        name = f"months-{policy.id}"
        text = request.form.get(name, "").strip()
        try:
            data = schemas.PolicyInSchema().load({"months": int(text)})
        except ValueError:
            errors[name] = [_("Write the number of months as a whole number.")]
        except ValidationError:
            errors[name] = [_("Choose between 1 and %(max)s months.", max=MAX_MONTHS)]
        else:
            values[policy.id] = data["months"]
    return values, errors


@bp.route("/admin/retention", methods=["GET", "POST"])
@allow(Role.ADMIN)
def admin_policies() -> Page:
    """The retention policies: months per rule; only the changed rows are saved."""
    policies = service.policies()
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        values, errors = _months(policies)
        if not errors:
            actor = actor_label(current_user)
            for policy in policies:
                if values[policy.id] != policy.months:
                    service.set_months(policy.id, values[policy.id], actor=actor)
            db.session.commit()
            flash(_("The retention policies are saved."), "success")
            return redirect(url_for(".admin_policies"), 303)
    html = render_template(
        "retention/admin_policies.html",
        rows=[(p, policy_name(p)) for p in policies],
        errors=errors,
        status=service.status(),
        max_months=MAX_MONTHS,
    )
    return (html, 400) if errors else html


def _holds_page(errors: dict[str, list[str]] | None = None) -> Page:
    html = render_template(
        "retention/admin_holds.html",
        holds=service.holds_in_force(),
        shown=service.HOLDS_SHOWN,
        reasons=HOLD_REASONS,
        errors=errors or {},
        form=request.form if errors else {},
    )
    return (html, 400) if errors else html


def _case_by_reference(reference: str) -> Case | None:
    return db.session.scalar(
        select(Case)
        .join(Report, Report.id == Case.report_id)
        .where(Report.reference == typed_reference(reference), Report.erased_month.is_(None))
    )


@bp.route("/admin/retention/holds", methods=["GET", "POST"])
@allow(Role.ADMIN)
def admin_holds() -> Page:
    """Legal holds in force, and placing one on a case by its reference."""
    if request.method == "GET":
        return _holds_page()
    schema = schemas.HoldByReferenceInSchema()
    form = form_input(schema)
    try:
        data = schema.load(form)
    except ValidationError as exc:
        errors = flatten_errors(translate_errors(exc.messages))
        if "reason" in errors:
            errors["reason"] = [_("Choose why the case must be kept.")]
        return _holds_page(errors)
    case = _case_by_reference(data["reference"])
    if case is None:
        return _holds_page({"reference": [_("No case has this reference.")]})
    service.place_hold(case, data["reason"], actor=actor_label(current_user))
    db.session.commit()
    flash(_("The case is on legal hold: it is not deleted until the hold is lifted."), "success")
    return redirect(url_for(".admin_holds"), 303)


@bp.post("/admin/retention/holds/<reference>/lift")
@allow(Role.ADMIN)
def admin_lift(reference: str) -> Page:
    """Lift a case's hold by its reference."""
    case = _case_by_reference(reference)
    if case is None or service.active_hold(case.id) is None:
        return _holds_page({"_request": [_("That case has no legal hold in force.")]})
    service.lift_hold(case, actor=actor_label(current_user))
    db.session.commit()
    flash(_("The legal hold is lifted."), "success")
    return redirect(url_for(".admin_holds"), 303)


def _person(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == email.strip().lower()))


def _access_page(errors: dict[str, list[str]], form: dict[str, Any]) -> Page:
    html = render_template(
        "retention/admin_access.html",
        reasons=access.REQUEST_REASONS,
        errors=errors,
        form=form,
    )
    return (html, 400) if errors else html


@bp.route("/admin/retention/access-requests", methods=["GET", "POST"])
@allow(Role.ADMIN)
def admin_access() -> Page:
    """Answer a person's access request: their account data, as PDF or JSON (audited)."""
    if request.method == "GET":
        return _access_page({}, {"format": "pdf"})
    schema = schemas.AccessRequestInSchema()
    form = form_input(schema)
    try:
        data = schema.load(form)
    except ValidationError as exc:
        errors = flatten_errors(translate_errors(exc.messages))
        if "reason" in errors:
            errors["reason"] = [_("Choose whose request this is.")]
        if "format" in errors:
            errors["format"] = [_("Choose PDF or JSON.")]
        if "email" not in errors and _person(form.get("email", "")) is None:
            errors = {"email": [_("No user has this e-mail address.")], **errors}
        return _access_page(errors, form)
    person = _person(data["email"])
    if person is None:
        return _access_page({"email": [_("No user has this e-mail address.")]}, form)
    doc = access.build(
        person, actor=actor_label(current_user), reason=data["reason"], with_cases=False
    )
    db.session.commit()
    return download(doc, data["format"], "trygg-access-request", access_pdf)


def register() -> None:
    """The admin menu's entries (the routes are on retention's blueprint)."""
    register_nav("retention.admin_policies", _l("Retention policies"), Role.ADMIN, menu="admin")
    register_nav("retention.admin_holds", _l("Legal holds"), Role.ADMIN, menu="admin")
    register_nav("retention.admin_access", _l("Access requests"), Role.ADMIN, menu="admin")
