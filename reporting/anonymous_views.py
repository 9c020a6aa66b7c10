"""The anonymous link's pages and the admin switch.

Reporting serves the form and the receipt page. The follow-up pages (enter the receipt
code, then the case with its messages) show the case, which reporting knows nothing of:
handling serves them (handling/anonymous_views.py). What every page of the link shares —
its addresses, hiding it while switched off, no trace, English addresses — is in the
kernel (trygg/anonymous_link.py), so every page looks and behaves the same.
"""

from __future__ import annotations

import secrets
from datetime import date, datetime
from typing import Any

from flask import (
    Blueprint,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user
from marshmallow import ValidationError
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers.response import Response

from reporting import anonymous, codes, service
from reporting.form_input import CHOICE_FIELDS, not_sent_context, upload_limits
from reporting.schemas import NAME_MAX, PEOPLE_MAX, TEXT_MAX, AnonymousReportSchema
from reporting.service import OSLO, ReportError
from trygg import forms, org, site_settings, web
from trygg.anonymous_link import english_entry, page_context, part_of_the_link, with_retry_after
from trygg.audit import actor_label
from trygg.i18n import gettext as _
from trygg.i18n import ngettext
from trygg.roles import Role
from trygg.security import allow, public
from trygg.validation import as_choices, flatten_errors, in_form_order, translate_errors

bp = Blueprint("anonymous", __name__, template_folder="templates")
admin_bp = Blueprint("anonymous_admin", __name__, template_folder="templates")

LIST_FIELDS = ("incident_types", "immediate_measures", "causes")
# The anonymous form's fields from top to bottom (templates/reporting/anonymous/form.html).
FORM_ORDER = (
    "incident_types",
    "occurred_on",
    "unit_id",
    "place_type",
    "channel",
    "counterpart_category",
    "counterpart_identity",
    "lone_work",
    "activity",
    "severity",
    "injury_level",
    "injury_description",
    "sick_leave",
    "sick_leave_days",
    "police_report",
    "police_details",
    "immediate_measures",
    "immediate_measures_text",
    "narrative",
    "causes",
    "causes_text",
    "exposed",
    "witnesses",
    "attachments",
)
# The form's single-valued inputs.
TEXT_FIELDS = tuple(f for f in FORM_ORDER if f not in (*LIST_FIELDS, "attachments"))


part_of_the_link(bp)


@admin_bp.route("/admin/anonymous", methods=["GET", "POST"])
@allow(Role.ADMIN)
def settings() -> str | Response | tuple[str, int]:
    """Switch the anonymous whistleblower link on or off."""
    if request.method == "POST":
        choice = request.form.get("enabled")
        if choice in ("on", "off"):
            site_settings.change(
                "anonymous_enabled", choice == "on", actor=actor_label(current_user)
            )
            return redirect(url_for("anonymous_admin.settings", saved=1))
        return render_template(
            "reporting/anonymous/admin.html",
            error=_("Choose on or off."),
            **_admin_context(),
        ), 400
    return render_template("reporting/anonymous/admin.html", error=None, **_admin_context())


def _admin_context() -> dict[str, Any]:
    stored = site_settings.stored("anonymous_enabled")
    return {
        "enabled": anonymous.enabled(),
        "from_database": stored is not None,
        "saved": bool(request.args.get("saved")),
        "public_url": url_for("anonymous.report_form", _external=True),
    }


# -- the public pages -------------------------------------------------------------------


def _page(template: str, status: int = 200, **context: Any) -> tuple[str, int]:
    # The language switch returns to the Norwegian address, which follows the choice;
    # the English address would switch straight back to English.
    lang_next = url_for("anonymous.report_form")
    return render_template(template, lang_next=lang_next, **page_context(), **context), status


def _read_form() -> dict[str, Any]:
    form: dict[str, Any] = {name: request.form.get(name, "").strip() for name in TEXT_FIELDS}
    form["narrative"] = request.form.get("narrative", "")
    for name in LIST_FIELDS:
        form[name] = request.form.getlist(name)
    form["serious_injury"] = request.form.get("serious_injury") == "on"
    return form


def _as_int(text: str) -> int | str | None:
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        return text  # the schema names the field and says what is wrong


def _people(text: str) -> list[dict[str, str]]:
    return [{"name": line.strip()} for line in text.splitlines() if line.strip()]


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _schema_input(form: dict[str, Any]) -> dict[str, Any]:
    """The page's fields in the shape of AnonymousReportSchema (the API's shape)."""
    data: dict[str, Any] = {name: form[name] for name in LIST_FIELDS}
    if form["occurred_on"]:
        day = _day(form["occurred_on"])
        # Only the date is kept; midnight in Oslo is never "in the future" today.
        data["occurred_at"] = (
            datetime(day.year, day.month, day.day, tzinfo=OSLO).isoformat()
            if day is not None
            else form["occurred_on"]
        )
    for name in ("place_type", "counterpart_category", "narrative"):
        if form[name]:
            data[name] = form[name]
    for name in (
        "channel",
        "counterpart_identity",
        "activity",
        "injury_description",
        "police_details",
        "immediate_measures_text",
        "causes_text",
    ):
        data[name] = form[name] or None
    for name in ("injury_level", "sick_leave", "police_report"):
        if form[name]:
            data[name] = form[name]
    data["unit_id"] = _as_int(form["unit_id"])
    data["sick_leave_days"] = _as_int(form["sick_leave_days"])
    if form["severity"]:
        data["severity"] = _as_int(form["severity"])
    data["lone_work"] = {"yes": True, "no": False}.get(form["lone_work"])
    data["serious_injury"] = form["serious_injury"]
    data["exposed"] = _people(form["exposed"])
    data["witnesses"] = _people(form["witnesses"])
    return data


def _by_line(errors: Any, text: str) -> Any:
    """A list of people's errors, item by item, as one message per problem naming the
    lines of the text area it is about ("Lines 1–3, 7: Use at most 200 characters.").

    The list holds the area's filled lines only, so an item's index is not its line.
    Fifty lines too long were fifty identical messages that said none of them.
    """
    if not isinstance(errors, dict):
        return errors  # about the list as a whole (too many people)
    filled = [n for n, line in enumerate(text.splitlines(), 1) if line.strip()]
    lines: dict[str, list[int]] = {}
    for index, inner in errors.items():
        for message in flatten_errors({"": inner}).get("", []):
            lines.setdefault(message, []).append(filled[int(index)])
    return [
        ngettext(
            "Line %(lines)s: %(message)s",
            "Lines %(lines)s: %(message)s",
            len(numbers),
            lines=_spans(sorted(numbers)),
            message=message,
        )
        for message, numbers in lines.items()
    ]


def _spans(numbers: list[int]) -> str:
    """1, 2, 3, 7 → "1–3, 7"."""
    spans: list[list[int]] = []
    for n in numbers:
        if spans and n == spans[-1][-1] + 1:
            spans[-1].append(n)
        else:
            spans.append([n])
    return ", ".join(f"{s[0]}–{s[-1]}" if len(s) > 2 else ", ".join(map(str, s)) for s in spans)


def _small_unit(unit_id: int | None) -> org.Unit | None:
    """The chosen unit when it is so small that a report about it may identify someone."""
    if unit_id is None:
        return None
    unit = org.get_unit(unit_id)
    threshold = int(current_app.config["TRYGG"]["small_unit_headcount"])
    if unit is not None and unit.headcount < threshold:
        return unit
    return None


def _form_page(
    form: dict[str, Any],
    errors: dict[str, list[str]],
    status: int = 200,
    small: org.Unit | None = None,
) -> tuple[str, int]:
    form.setdefault("form_id", secrets.token_urlsafe(16))
    return _page(
        "reporting/anonymous/form.html",
        status,
        form=form,
        errors=errors,
        small_unit=small,
        # Files the sender chose and that the page shown again cannot keep (a browser
        # never fills a file field in): said where they will read it.
        files_dropped=sum(1 for f in request.files.getlist("attachments") if f.filename),
        small_parent=small.parent if small is not None else None,
        units=[(n.unit.id, n.path_label) for n in org.tree()],
        codes=codes,
        narrative_max=int(current_app.config["TRYGG"]["narrative_max_chars"]),
        text_max=TEXT_MAX,
        # A line per person, each at most NAME_MAX: never less than a valid list needs.
        people_max=PEOPLE_MAX * (NAME_MAX + 1),
        today=datetime.now(OSLO).date().isoformat(),
        limits=upload_limits(),
    )


@bp.errorhandler(RequestEntityTooLarge)
def too_large(exc: RequestEntityTooLarge) -> Any:
    """A body beyond MAX_CONTENT_LENGTH / MAX_FORM_MEMORY_SIZE on the form: the "not
    sent" page (reporting.form_input.not_sent_context), in the link's own frame, rather than
    the general 413 that did not say the text was lost with the files."""
    if request.endpoint not in ("anonymous.report_form", "anonymous.report_form_en"):
        return web.http_error(exc)
    return _page("reporting/not_sent.html", 413, **not_sent_context())


def _files_refused() -> dict[str, list[str]]:
    """Why a chosen file would be refused (a type whose hidden details cannot be removed,
    too large, too many), said with the form's other errors: told only "choose them
    again", the reporter chose the same file again and learnt in the next round that it
    was never allowed. Nothing is stored."""
    try:
        service.check_uploads(anonymous.clean_uploads(request.files.getlist("attachments")))
    except ReportError as exc:
        return {exc.field: [str(exc)]}
    return {}


@bp.route("/varsle", methods=["GET", "POST"], endpoint="report_form")
@bp.route("/en/whistleblow", methods=["GET", "POST"], endpoint="report_form_en")
@public
@forms.flags_nul
def report_form() -> tuple[str, int] | Response:
    """The anonymous report form; after sending, the receipt code, shown once."""
    english_entry()
    if request.method == "GET":
        return _form_page({name: "" for name in TEXT_FIELDS} | {n: [] for n in LIST_FIELDS}, {})
    form = _read_form()
    form["form_id"] = request.form.get("form_id", "")
    if form["form_id"] and session.get("anon_sent") == form["form_id"]:
        return _page("reporting/anonymous/already_sent.html")
    # The small-unit warning's answer: name the parent unit, or keep the unit.
    choice = request.form.get("small_unit")
    if choice == "parent":
        unit = org.get_unit(_as_int(form["unit_id"]) or 0)  # type: ignore[arg-type]
        form["unit_id"] = str(unit.parent_id) if unit and unit.parent_id else ""
    acknowledged = form["unit_id"] if choice == "keep" else ""
    # A NUL taken out of a field (forms.flags_nul): said by the field, with the rest.
    held_nul = forms.nul_errors()
    try:
        data = AnonymousReportSchema().load(_schema_input(form))
    except ValidationError as exc:
        messages = translate_errors(exc.messages)
        for name in ("exposed", "witnesses"):
            if name in messages:
                messages[name] = _by_line(messages[name], form[name])
        errors = flatten_errors(messages)
        if "occurred_at" in errors:
            errors["occurred_on"] = errors.pop("occurred_at")
            if form["occurred_on"] and _day(form["occurred_on"]) is None:
                # The form asks for a date alone: the schema (the API's) would ask for
                # "a valid date and time".
                errors["occurred_on"] = [_("Enter a valid date.")]
        for name, messages in held_nul.items():
            errors[name] = messages + errors.get(name, [])
        errors.update(_files_refused())
        errors = as_choices(errors, CHOICE_FIELDS)
        return _form_page(form, in_form_order(errors, FORM_ORDER), 400)
    if held_nul:
        errors = {**held_nul, **_files_refused()}
        return _form_page(form, in_form_order(errors, FORM_ORDER), 400)
    small = _small_unit(data["unit_id"])
    if small is not None and acknowledged != str(small.id):
        return _form_page(form, {}, 200, small=small)
    try:
        report, code = anonymous.submit(
            data, address=request.remote_addr, uploads=request.files.getlist("attachments")
        )
    except anonymous.Throttled as exc:
        minutes = max(1, -(-exc.retry_after // 60))
        message = _(
            "Too many reports have been sent from your network in the last hour. "
            "Wait %(minutes)s minutes and send again: what you wrote is kept below.",
            minutes=minutes,
        )
        return with_retry_after(_form_page(form, {"_request": [message]}, 429), exc.retry_after)
    except ReportError as exc:
        return _form_page(form, {exc.field: [str(exc)]}, exc.status)
    session["anon_sent"] = form["form_id"]
    return _page(
        "reporting/anonymous/receipt.html",
        receipt_groups=anonymous.format_receipt(code).split("-"),
        reference=report.reference,
    )
