"""Employees' published summaries (their start page and a printable page) and the
admin's matrix levels."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, render_template, request
from marshmallow import ValidationError
from sqlalchemy import select
from werkzeug.wrappers.response import Response as BaseResponse

from risk.assessment import access, matrix
from risk.assessment.access import Need
from risk.assessment.models import Assessment, AssessmentVersion
from risk.assessment.schemas import LevelInSchema
from risk.assessment.views.common import Errors, bp, user
from trygg import audit
from trygg.accounts.models import Role
from trygg.audit import actor_label
from trygg.extensions import db
from trygg.forms import form_input
from trygg.i18n import gettext as _
from trygg.security import allow
from trygg.validation import flatten_errors, translate_errors

Page = str | tuple[str, int] | BaseResponse


def published_for(unit_ids: set[int]) -> list[tuple[Assessment, AssessmentVersion]]:
    """The newest published version of each assessment covering these units."""
    if not unit_ids:
        return []
    out = []
    for assessment in db.session.scalars(
        select(Assessment).where(Assessment.unit_id.in_(sorted(unit_ids))).order_by(Assessment.id)
    ):
        published = [v for v in assessment.versions if v.published_at is not None]
        if published:
            out.append((assessment, published[-1]))
    return out


def home_summaries() -> list[tuple[Assessment, AssessmentVersion]]:
    """On the start page: the summaries published to the user's units."""
    return published_for(access.member_covering_units(user()))


@bp.get("/risk/summaries/<id:assessment_id>")
@allow()
def summary(assessment_id: int) -> Page:
    """The published summary for employees of the assessment's units, printable."""
    me = user()
    assessment = db.session.get(Assessment, assessment_id)
    if assessment is None:
        abort(404)
    covered = assessment.unit_id in access.member_covering_units(me)
    if not covered and not access.allowed(me, assessment, Need.READ):
        abort(404)
    found = published_for({assessment.unit_id})
    mine = [v for a, v in found if a.id == assessment.id]
    if not mine:
        abort(404)
    version = mine[0]
    levels = matrix.levels(assessment.matrix_size)
    rows = [(i, matrix.level_of(i.likelihood, i.consequence, levels)) for i in version.items]
    return render_template(
        "risk/assessment/summary.html", assessment=assessment, version=version, rows=rows
    )


@bp.route("/admin/risk/matrix", methods=["GET", "POST"])
@allow(Role.ADMIN)
def matrix_admin() -> Page:
    """Level names, colours, thresholds and demands (nb and en) of each matrix preset."""
    errors: Errors = {}
    typed: dict[int, list[dict[str, Any]]] = {}
    if request.method == "POST":
        size = request.form.get("size", type=int) or 0
        sent = [form_input(LevelInSchema(), prefix=f"l{rank}") for rank in range(4)]
        try:
            matrix.save_levels(size, _levels(sent))
            audit.record(
                "risk.matrix.saved",
                actor=actor_label(user()),
                object_type="risk_matrix",
                object_id=size,
            )
            flash(_("The levels of the %(n)s × %(n)s matrix are saved.", n=size), "success")
        except ValidationError as exc:
            errors, typed = {f"levels_{size}": _level_errors(exc)}, {size: sent}
        except matrix.MatrixError as exc:
            db.session.rollback()
            errors, typed = {f"levels_{size}": [str(exc)]}, {size: sent}
    presets = {size: matrix.levels(size) for size in matrix.SIZES}
    page = render_template(
        "risk/assessment/matrix_admin.html", presets=presets, typed=typed, errors=errors
    )
    return (page, 400) if errors else page


def _levels(sent: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The named levels as the schema loads them; ValidationError says what is wrong."""
    schema = LevelInSchema(many=True)
    return list(schema.load([row for row in sent if row.get("name_nb") or row.get("name_en")]))


def _level_errors(exc: ValidationError) -> list[str]:
    """Each refused field as one line: "Name in Norwegian: Longer than maximum …"."""
    labels = {
        "name_nb": _("Name in Norwegian"),
        "name_en": _("Name in English"),
        "demand_nb": _("What it demands, in Norwegian"),
        "demand_en": _("What it demands, in English"),
        "colour": _("Colour"),
        "min_score": _("Lowest score"),
    }
    lines = []
    for row in exc.messages.values() if isinstance(exc.messages, dict) else []:
        for name, messages in flatten_errors(translate_errors(row)).items():
            lines += [f"{labels.get(name, name)}: {message}" for message in messages]
    return lines
