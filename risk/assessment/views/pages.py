"""The overview, an assessment with its matrix, its items, versions, comments and
triggers, and its print view."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Response, abort, render_template, request
from werkzeug.exceptions import NotFound
from werkzeug.wrappers.response import Response as BaseResponse

from risk.assessment import access, display, participation, plan, service
from risk.assessment.access import READER_ROLES, AssessmentError, Need
from risk.assessment.models import Assessment, AssessmentVersion, Comment, RiskItem, Trigger
from risk.assessment.schemas import (
    LIST_FIELDS,
    AssessmentInSchema,
    CommentInSchema,
    ItemInSchema,
    StatusInSchema,
    SummaryInSchema,
    VersionInSchema,
)
from risk.assessment.views.common import (
    Errors,
    bp,
    done,
    load,
    page_url,
    parse,
    refusal,
    user,
)
from trygg import audit
from trygg.accounts.models import Role, User
from trygg.audit import actor_label
from trygg.extensions import db, utcnow
from trygg.forms import form_input
from trygg.i18n import gettext as _
from trygg.security import allow

Page = str | tuple[str, int] | BaseResponse


@bp.get("/risk/assessments")
@allow(*READER_ROLES)
def overview() -> Page:
    """Every assessment in the user's scope, overdue reviews and measures first."""
    return _overview({}, {}, 200)


def _overview(errors: Errors, form: dict[str, Any], status: int) -> Page:
    rows = display.overview_rows(access.visible(user()))
    units = display.unit_options(access.edit_units(user()))
    page = render_template(
        "risk/assessment/overview.html", rows=rows, units=units, errors=errors, form=form
    )
    return (page, status) if status != 200 else page


@bp.post("/risk/assessments")
@allow(Role.MANAGER)
def create() -> Page:
    """Start an assessment for one of the leader's units."""
    values, errors = parse(AssessmentInSchema())
    if errors:
        return _overview(errors, dict(request.form), 400)
    try:
        assessment = service.create(user(), values)
    except AssessmentError as exc:
        errors, status = refusal(exc)
        return _overview(errors, dict(request.form), status)
    return done(_("The risk assessment is started."), ".show", assessment_id=assessment.id)


def _show(
    assessment: Assessment, errors: Errors | None = None, status: int = 200, **extra: Any
) -> Page:
    number = request.args.get("version", type=int)
    try:
        version = service.version_of(assessment, number)
    except AssessmentError:
        abort(404)
    context = display.assessment_context(user(), assessment, version)
    page = render_template(
        "risk/assessment/show.html",
        # A form sent back from this page: the language switch returns to the page, not
        # to the form's address (an item's removal is posted below the item's own page).
        lang_next=page_url(".show", assessment.id, number),
        errors=errors or {},
        form=dict(request.form),
        conflict=status == 409,
        my_statement=_statement_of(user(), context["comments"]),
        **context,
        **extra,
    )
    return (page, status) if status != 200 else page


def _statement_of(reader: User, comments: list[Comment]) -> Comment | None:
    """The reader's statement on the shown version: one each, so once given the form
    says so instead of offering another that could only be refused."""
    return next((c for c in comments if c.kind == "statement" and c.author_id == reader.id), None)


@bp.get("/risk/assessments/<id:assessment_id>")
@allow(*READER_ROLES)
def show(assessment_id: int) -> Page:
    """An assessment: its matrix and items with their trends, versions, comments."""
    return _show(load(assessment_id))


def _post(
    assessment: Assessment,
    action: Callable[[], Any],
    said: Callable[[Any], object],
    version: int | None = None,
    anchor: str | None = None,
) -> Page:
    """Run `action()`; on a refusal show the assessment again with the message. Done,
    the answer goes back to the version the form was on (a comment on an older version
    shown on the newest would look lost), at `anchor`, confirming `said(result)`."""
    try:
        result = action()
    except AssessmentError as exc:
        errors, status = refusal(exc)
        db.session.rollback()
        return _show(assessment, errors, status)
    return done(said(result), ".show", anchor, assessment_id=assessment.id, version=version)


@bp.post("/risk/assessments/<id:assessment_id>/version")
@allow(Role.MANAGER)
def edit_version(assessment_id: int) -> Page:
    """Change the draft's title, dates, notes and participants."""
    assessment = load(assessment_id, Need.EDIT)
    schema = VersionInSchema()
    people = display.participants_from_form(request.form)
    values, errors = parse(schema, form_input(schema) | {"participants": people})
    if "participants" in errors:
        del errors["participants"]
        errors |= display.participant_errors(people)
    if errors:
        return _show(assessment, errors, 400)
    return _post(
        assessment,
        lambda: service.update_version(user(), assessment.latest, values),
        lambda _version: _("The dates, notes and participants are saved."),
    )


@bp.post("/risk/assessments/<id:assessment_id>/status")
@allow(Role.MANAGER)
def set_status(assessment_id: int) -> Page:
    """Put the draft under review, back to draft, or approve it."""
    assessment = load(assessment_id, Need.EDIT)
    values, errors = parse(StatusInSchema())
    if errors:
        return _show(assessment, errors, 400)
    return _post(
        assessment,
        lambda: service.set_status(user(), assessment.latest, values["status"]),
        _status_said,
    )


def _status_said(version: AssessmentVersion) -> str:
    """The confirmation names the step taken: an approval names the version it froze."""
    if version.status == "approved":
        return _("Version %(n)s is approved.", n=version.number)
    if version.status == "review":
        return _("The version is sent for review.")
    return _("The version is back to draft.")


@bp.post("/risk/assessments/<id:assessment_id>/new-version")
@allow(Role.MANAGER)
def new_version(assessment_id: int) -> Page:
    """Start a new draft from the approved version."""
    assessment = load(assessment_id, Need.EDIT)
    return _post(
        assessment,
        lambda: service.new_version(user(), assessment),
        lambda version: _("Version %(n)s is started as a draft.", n=version.number),
    )


@bp.post("/risk/assessments/<id:assessment_id>/publish")
@allow(Role.MANAGER)
def publish(assessment_id: int) -> Page:
    """Publish the plain-language summary of the approved version to employees."""
    assessment = load(assessment_id, Need.EDIT)
    values, errors = parse(SummaryInSchema())
    if errors:
        return _show(assessment, errors, 400)
    version = assessment.approved
    if version is None:
        return _show(assessment, {"_request": [str(display.NOT_APPROVED)]}, 409)
    return _post(
        assessment,
        lambda: service.publish(user(), version, values),
        lambda _version: _(
            "The summary is published: employees of its units see it on their start page."
        ),
    )


@bp.post("/risk/assessments/<id:assessment_id>/comments")
@allow(*READER_ROLES)
def add_comment(assessment_id: int) -> Page:
    """A comment on the shown version, or a statement on an approved one."""
    assessment = load(assessment_id)
    values, errors = parse(CommentInSchema())
    if errors:
        return _show(assessment, errors, 400)
    number = request.args.get("version", type=int)
    try:
        version = service.version_of(assessment, number)
    except AssessmentError:
        abort(404)
    return _post(
        assessment,
        lambda: participation.comment(user(), version, values["body"], values["kind"]),
        lambda comment: (
            _("Your statement is added.")
            if comment.kind == "statement"
            else _("Your comment is added.")
        ),
        version=number,
        anchor="h-comments",
    )


@bp.post("/risk/assessments/<id:assessment_id>/triggers/<id:trigger_id>/resolve")
@allow(Role.MANAGER)
def resolve_trigger(assessment_id: int, trigger_id: int) -> Page:
    """Mark a re-assessment task as dealt with."""
    assessment = load(assessment_id, Need.EDIT)
    trigger = db.session.get(Trigger, trigger_id)
    if trigger is None or trigger.assessment_id != assessment.id:
        abort(404)

    def act() -> None:
        trigger.resolved_at, trigger.resolved_by_id = utcnow(), user().id
        audit.record(
            "risk.trigger.resolved",
            actor=actor_label(user()),
            object_type="risk_assessment",
            object_id=assessment.id,
            detail={"trigger": trigger.id},
        )

    return _post(
        assessment, act, lambda _none: _("The reason to assess again is marked as dealt with.")
    )


# -- items ------------------------------------------------------------------------------


def _item(assessment: Assessment, ref: int) -> RiskItem:
    for item in assessment.latest.items:
        if item.ref == ref:
            return item
    raise NotFound()


def _item_form(
    assessment: Assessment, item: RiskItem | None, errors: Errors, status: int = 200
) -> Page:
    values: dict[str, Any] = display.item_values(item)
    if request.method == "POST":
        values = dict(request.form)
        for key in LIST_FIELDS:
            values[key] = request.form.getlist(key)
    page = render_template(
        "risk/assessment/item_form.html",
        assessment=assessment,
        item=item,
        values=values,
        errors=errors,
        choices=display.item_choices(assessment),
    )
    return (page, status) if status != 200 else page


@bp.route("/risk/assessments/<id:assessment_id>/items/new", methods=["GET", "POST"])
@allow(Role.MANAGER)
def new_item(assessment_id: int) -> Page:
    """Add a risk item to the draft."""
    assessment = load(assessment_id, Need.EDIT)
    if request.method == "GET":
        return _item_form(assessment, None, {})
    values, errors = parse(ItemInSchema())
    if errors:
        return _item_form(assessment, None, errors, 400)
    try:
        item = service.add_item(user(), assessment.latest, values)
    except AssessmentError as exc:
        db.session.rollback()
        return _item_form(assessment, None, *refusal(exc))
    anchor = f"item-{item.ref}"
    return done(_("R%(ref)s is added.", ref=item.ref), ".show", anchor, assessment_id=assessment.id)


@bp.route("/risk/assessments/<id:assessment_id>/items/<id:ref>", methods=["GET", "POST"])
@allow(Role.MANAGER)
def edit_item(assessment_id: int, ref: int) -> Page:
    """Change a risk item of the draft."""
    assessment = load(assessment_id, Need.EDIT)
    item = _item(assessment, ref)
    if request.method == "GET":
        return _item_form(assessment, item, {})
    values, errors = parse(ItemInSchema())
    if errors:
        return _item_form(assessment, item, errors, 400)
    try:
        service.update_item(user(), item, values)
    except AssessmentError as exc:
        db.session.rollback()
        return _item_form(assessment, item, *refusal(exc))
    return done(
        _("R%(ref)s is saved.", ref=ref), ".show", f"item-{ref}", assessment_id=assessment.id
    )


@bp.post("/risk/assessments/<id:assessment_id>/items/<id:ref>/delete")
@allow(Role.MANAGER)
def delete_item(assessment_id: int, ref: int) -> Page:
    """Remove a risk item from the draft, in two steps: the box "I understand that this
    cannot be undone." by the button is ticked first (one click removed it). An item
    that measures belong to is refused before that, so no one ticks the box in vain;
    the message is by the button (`removing`), and the summary links to it."""
    assessment = load(assessment_id, Need.EDIT)
    item = _item(assessment, ref)
    try:
        service.check_removable(item)
    except AssessmentError as exc:
        return _show(assessment, {"confirm": [str(exc)]}, exc.status, removing=ref)
    if request.form.get("confirm") != "on":
        tick = _("Tick the box to show that you know this cannot be undone.")
        return _show(assessment, {"confirm": [tick]}, 400, removing=ref)
    return _post(
        assessment,
        lambda: service.delete_item(user(), item),
        lambda _none: _("R%(ref)s is removed.", ref=ref),
    )


def _printed(assessment_id: int, **detail: str) -> tuple[Any, Any]:
    """The assessment and the asked-for version (404 if none) for paper or PDF; the
    reading is audited as "risk.assessment.printed"."""
    assessment = load(assessment_id)
    number = request.args.get("version", type=int)
    try:
        version = service.version_of(assessment, number)
    except AssessmentError:
        abort(404)
    audit.record(
        "risk.assessment.printed",
        actor=actor_label(user()),
        object_type="risk_assessment",
        object_id=assessment.id,
        detail={"version": version.number, **detail},
    )
    return assessment, version


@bp.get("/risk/assessments/<id:assessment_id>/print")
@allow(*READER_ROLES)
def print_view(assessment_id: int) -> Page:
    """The assessment and its action plan, laid out for paper (print CSS); audited."""
    assessment, version = _printed(assessment_id)
    context = display.assessment_context(user(), assessment, version)
    return render_template(
        "risk/assessment/print.html", measures=plan.measures(assessment), **context
    )


@bp.get("/risk/assessments/<id:assessment_id>/pdf")
@allow(*READER_ROLES)
def pdf_view(assessment_id: int) -> Page:
    """The assessment and its action plan as PDF (same access as the print view); audited."""
    # The layout, and fpdf2 with it (about 35 MB), is imported on the first PDF, not with
    # the views: a web worker rarely renders one (issue 17, memory per worker).
    from risk.assessment import pdf

    assessment, version = _printed(assessment_id, format="pdf")
    body = pdf.render(assessment, version)
    name = f"risk-assessment-{assessment.id}-v{version.number}.pdf"
    return Response(
        body,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
