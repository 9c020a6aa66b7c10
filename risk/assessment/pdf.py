"""An assessment and its action plan as PDF, for the AMU meeting or an inspection.

Built with the kernel's trygg/pdf.py (fpdf2, DejaVu Sans embedded, so æøå come out
right) in the reader's language. It holds what the print view holds but the incident
trends: the assessment's facts, the matrix as a table whose cells carry the level's
name (colour only beside the text), the items with their levels before and after
measures, and the measures with responsible person, deadline, status and evaluation.
Never case content: linked cases are not listed, and no incident is.
"""

from __future__ import annotations

from flask_babel import format_date, format_datetime

from risk.assessment import display, matrix, participation, plan
from risk.assessment.codes import (
    FACTORS,
    LOWERS,
    MEASURE_STATES,
    PARTICIPANT_ROLES,
    RESULTS,
    VERSION_STATES,
)
from risk.assessment.models import Assessment, AssessmentVersion, Measure
from trygg import org
from trygg import pdf as kpdf
from trygg.i18n import gettext as _
from trygg.roles import Role


def render(assessment: Assessment, version: AssessmentVersion) -> bytes:
    """The PDF of one version of the assessment with the (living) action plan."""
    doc = kpdf.new_document(
        footer_text=_(
            "Risk assessment: %(title)s, version %(n)s", title=assessment.title, n=version.number
        )
    )
    kpdf.title(doc, _("Risk assessment") + ": " + assessment.title)
    measures = plan.measures(assessment, sort="item")
    names = display.user_names(
        {version.approved_by_id, assessment.owner_id}
        | {m.responsible_id for m in measures}
        | {e.evaluated_by_id for m in measures for e in m.evaluations}
    )
    _facts(doc, assessment, version, names)
    table = matrix.levels(assessment.matrix_size)
    _matrix(doc, assessment, version, table)
    _items(doc, version, table)
    _plan(doc, measures, names)
    return bytes(doc.output())


def _facts(
    doc: kpdf.Document, assessment: Assessment, version: AssessmentVersion, names: dict[int, str]
) -> None:
    unit = org.get_unit(assessment.unit_id)
    where = unit.name if unit else ""
    if assessment.work_kind:
        where += f" · {assessment.work_kind}"
    kpdf.fact(doc, _("Unit"), where)
    kpdf.fact(doc, _("Version"), str(version.number))
    kpdf.fact(doc, _("Status"), str(VERSION_STATES.get(version.status, version.status)))
    if version.approved_at is not None:
        who = names.get(version.approved_by_id or 0, "–")
        kpdf.fact(doc, _("Approved"), f"{format_datetime(version.approved_at, 'short')} ({who})")
    kpdf.fact(doc, _("Owner"), names.get(assessment.owner_id or 0, "–"))
    period = f"{format_date(version.period_start)} – {format_date(version.period_end)}"
    kpdf.fact(doc, _("Period"), period)
    kpdf.fact(doc, _("Next review"), format_date(version.next_review))
    people = display.participant_names(version)
    kpdf.heading(doc, _("Participants"))
    for role, label in PARTICIPANT_ROLES.items():
        if people.get(role):
            kpdf.fact(doc, str(label), people[role])
    if not people:
        kpdf.fact(doc, _("Participants"), _("None recorded"))
    took = participation.took_part(version)
    yes_no = {True: _("Yes"), False: _("No")}
    kpdf.fact(doc, _("Safety representative took part"), yes_no[took[Role.SAFETY_REP]])
    kpdf.fact(doc, _("The working environment committee took part"), yes_no[took[Role.AMU]])


def _matrix(
    doc: kpdf.Document,
    assessment: Assessment,
    version: AssessmentVersion,
    table: list[matrix.Level],
) -> None:
    size = assessment.matrix_size
    kpdf.heading(doc, _("Risk matrix"))
    likelihoods = matrix.LIKELIHOOD_LABELS[size]
    consequences = matrix.CONSEQUENCE_LABELS[size]
    headings = [_("Likelihood \\ consequence")] + [
        f"{n}. {label}" for n, label in enumerate(consequences, 1)
    ]
    rows, fills = [], []
    for row in display.grid(assessment, version.items):
        first = f"{row[0].likelihood}. {likelihoods[row[0].likelihood - 1]}"
        cells = [
            cell.level.name + ("\n" + " ".join(f"R{r}" for r in cell.refs) if cell.refs else "")
            for cell in row
        ]
        rows.append([first, *cells])
        fills.append([None, *(cell.level.colour for cell in row)])
    kpdf.table(doc, headings, rows, fills=fills)
    kpdf.heading(doc, _("What each level demands"))
    for level in table:
        kpdf.fact(doc, level.name, level.demand)


def _level(level: matrix.Level | None, likelihood: int | None, consequence: int | None) -> str:
    if level is None:
        return "–"
    return f"{level.name} ({likelihood} × {consequence})"


def _items(doc: kpdf.Document, version: AssessmentVersion, table: list[matrix.Level]) -> None:
    kpdf.heading(doc, _("Risk items"))
    if not version.items:
        kpdf.fact(doc, _("Risk items"), _("None yet."))
        return
    rows = []
    for i in version.items:
        before = matrix.level_of(i.likelihood, i.consequence, table)
        after = matrix.level_of(i.likelihood_after, i.consequence_after, table)
        factors = ", ".join(str(FACTORS.get(f, f)) for f in i.factors)
        hazard = i.hazard + (f"\n{i.existing_measures}" if i.existing_measures else "")
        rows.append(
            [
                f"R{i.ref}",
                hazard,
                factors,
                _level(before, i.likelihood, i.consequence),
                _level(after, i.likelihood_after, i.consequence_after),
            ]
        )
    headings = [
        _("Item"),
        _("Hazard or situation (existing measures)"),
        _("Factors"),
        _("Level"),
        _("Level after measures"),
    ]
    kpdf.table(doc, headings, rows, widths=(16, 58, 46, 35, 35))


def _evaluation(m: Measure, names: dict[int, str]) -> str:
    if not m.evaluations:
        return "–"
    e = m.evaluations[-1]
    text = f"{RESULTS.get(e.result, e.result)}, {format_date(e.evaluated_on)}"
    if e.evaluated_by_id:
        text += f" ({names.get(e.evaluated_by_id, '–')})"
    if e.next_step:
        text += ". " + _("Next step: %(step)s", step=e.next_step)
    return text


def _plan(doc: kpdf.Document, measures: list[Measure], names: dict[int, str]) -> None:
    doc.add_page()
    kpdf.heading(doc, _("Action plan"))
    if not measures:
        kpdf.fact(doc, _("Measures"), _("No measures yet."))
        return
    rows = []
    for m in measures:
        kind = _("Collective") if m.collective else _("Individual")
        what = f"{m.goal}\n{m.what}\n{kind}. {LOWERS.get(m.lowers, m.lowers)}"
        if m.affected:
            what += "\n" + _("Who is affected: %(who)s", who=m.affected)
        status = str(MEASURE_STATES.get(m.status, m.status))
        if m.done_on:
            status += f" {format_date(m.done_on)}"
        rows.append(
            [
                f"R{m.item_ref}",
                what,
                names.get(m.responsible_id or 0, "–"),
                format_date(m.deadline),
                status,
                _evaluation(m, names),
            ]
        )
    headings = [
        _("Item"),
        _("Goal and what is to be done"),
        _("Responsible"),
        _("Deadline"),
        _("Status"),
        _("Evaluation"),
    ]
    kpdf.table(doc, headings, rows, widths=(16, 64, 28, 22, 22, 38))
