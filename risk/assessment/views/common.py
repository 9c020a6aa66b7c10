"""What the assessment pages share: the blueprint, the current user, loading a form
with its schema, turning refusals into pages, and confirming what a form saved."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user
from marshmallow import Schema, ValidationError
from werkzeug.wrappers.response import Response as BaseResponse

from risk.assessment import access
from risk.assessment.access import AssessmentError, Need
from risk.assessment.models import Assessment
from trygg.accounts.models import User
from trygg.forms import form_input
from trygg.validation import REQUIRED, flatten_errors, translate_errors, translate_message

bp = Blueprint(
    "risk_assessment",
    __name__,
    template_folder="../../templates",
    static_folder="../static",
    static_url_path="/static/risk-assessment",
)

Errors = dict[str, list[str]]


def user() -> User:
    found: User = current_user._get_current_object()  # noqa: SLF001
    return found


def load(assessment_id: int, need: Need = Need.READ) -> Assessment:
    """The assessment for a page: 404 outside the user's scope, 403 if read-only."""
    try:
        return access.load(assessment_id, user(), need)
    except AssessmentError as exc:
        abort(exc.status)


def parse(schema: Schema, data: dict[str, Any] | None = None) -> tuple[dict[str, Any], Errors]:
    """The form (or `data`) loaded with `schema`, the one the JSON API loads."""
    emptied: Errors = {}
    if schema.partial:
        # A change form shows every field: one that a measure or a version cannot be
        # without, sent empty, is an error, not "unchanged" (which a partial load makes
        # of it). `data` of a change form is read from the same form.
        emptied = {
            name: [translate_message(REQUIRED)]
            for name, field in schema.load_fields.items()
            if field.required and name in request.form and not request.form[name].strip()
        }
    try:
        loaded = schema.load(form_input(schema) if data is None else data)
    except ValidationError as exc:
        return {}, {**flatten_errors(translate_errors(exc.messages)), **emptied}
    return ({}, emptied) if emptied else (loaded, {})


def refusal(exc: AssessmentError) -> tuple[Errors, int]:
    return {exc.field: [str(exc)]}, exc.status


def done(message: object, endpoint: str, anchor: str | None = None, **values: Any) -> BaseResponse:
    """Back to the page `endpoint` with `message`, the confirmation of what was saved.

    It is shown where the address lands, or it would be scrolled past unseen: at
    `anchor` (the page calls `confirmations(anchor)` of risk/assessment/_flashes.html
    there; the flash's category is "#" and the anchor), else at the top.
    """
    flash(str(message), f"#{anchor}" if anchor else "success")
    return redirect(url_for(endpoint, _anchor=anchor, **values))


def page_url(endpoint: str, assessment_id: int, version: int | None = None) -> str | None:
    """Where the language switch returns on a page sent back from a form (a POST): the
    page the form is on (the switch's own guess, the address above the form's, is an
    item's page for an item's removal). None on a GET: the page's own address."""
    if request.method == "GET":
        return None
    values: dict[str, Any] = {"version": version} if version is not None else {}
    return url_for(endpoint, assessment_id=assessment_id, **values)
