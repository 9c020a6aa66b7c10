"""Employees' published summaries (their start page and a printable page) and the
admin's matrix levels."""

from __future__ import annotations

from flask import abort, render_template, request
from sqlalchemy import select
from werkzeug.wrappers.response import Response as BaseResponse

from risk.assessment import access, matrix
from risk.assessment.access import Need
from risk.assessment.models import Assessment, AssessmentVersion
from risk.assessment.views.common import Errors, bp, user
from trygg import audit
from trygg.accounts.models import Role
from trygg.audit import actor_label
from trygg.extensions import db
from trygg.security import allow

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
    status = 200
    if request.method == "POST":
        size = request.form.get("size", type=int) or 0
        rows = _level_rows()
        try:
            matrix.save_levels(size, rows)
            audit.record(
                "risk.matrix.saved",
                actor=actor_label(user()),
                object_type="risk_matrix",
                object_id=size,
            )
        except matrix.MatrixError as exc:
            db.session.rollback()
            errors, status = {f"levels_{size}": [str(exc)]}, 400
    presets = {size: matrix.levels(size) for size in matrix.SIZES}
    page = render_template("risk/assessment/matrix_admin.html", presets=presets, errors=errors)
    return (page, status) if status != 200 else page


def _level_rows() -> list[dict[str, object]]:
    """The admin's levels from the form; a level without a name in either language is
    dropped (save_levels refuses one named in only one)."""
    rows: list[dict[str, object]] = []
    for rank in range(4):
        texts = {
            f"{key}_{lang}": request.form.get(f"{key}_{lang}_{rank}", "").strip()[:limit]
            for key, limit in (("name", 60), ("demand", 200))
            for lang in ("nb", "en")
        }
        if not texts["name_nb"] and not texts["name_en"]:
            continue
        rows.append(
            {
                **texts,
                "colour": request.form.get(f"colour_{rank}", "#ffffff"),
                "min_score": request.form.get(f"min_{rank}", type=int) or 0,
            }
        )
    return rows
