"""What the assessment pages and the API show, built from the models: the matrix grid,
items with their levels and trends, the overview's order, triggers in words."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from reporting import codes as rcodes
from risk.assessment import matrix, participation, plan, service, trend, triggers
from risk.assessment.access import Need, allowed
from risk.assessment.codes import (
    COMMENT_ROLES,
    FACTORS,
    LOWERS,
    MEASURE_STATES,
    PARTICIPANT_ROLES,
    RESULTS,
    VERSION_STATES,
    trigger_reason,
)
from risk.assessment.models import Assessment, AssessmentVersion, Measure, RiskItem
from risk.assessment.schemas import NAME_MAX, ParticipantSchema
from trygg import org
from trygg.accounts.models import Role, User, UserRole
from trygg.extensions import db
from trygg.i18n import lazy_gettext as _l

NOT_APPROVED = _l("Only an approved version can be published.")
BAD_SORT = _l("Sort by deadline, status, responsible or item.")


def today() -> date:
    return triggers.now_local()


# -- the overview -----------------------------------------------------------------------


@dataclass
class OverviewRow:
    assessment: Assessment
    unit: str
    version: AssessmentVersion
    review_overdue: bool
    overdue_measures: int
    open_triggers: int

    @property
    def urgent(self) -> bool:
        return self.review_overdue or bool(self.overdue_measures) or bool(self.open_triggers)


def overview_rows(assessments: list[Assessment]) -> list[OverviewRow]:
    names = {u.id: u.name for u in org.all_units()}
    now = today()
    rows = []
    for a in assessments:
        approved = a.approved
        overdue = sum(1 for m in service.open_measures(a) if m.deadline < now)
        rows.append(
            OverviewRow(
                a,
                names.get(a.unit_id, ""),
                a.latest,
                approved is not None and approved.next_review < now,
                overdue,
                len(triggers.open_triggers(a)),
            )
        )
    return sorted(rows, key=lambda r: (not r.urgent, r.version.next_review, r.assessment.id))


def unit_options(unit_ids: set[int]) -> list[tuple[int, str]]:
    return [(u.id, u.name) for u in org.all_units() if u.id in unit_ids]


# -- one assessment ---------------------------------------------------------------------


@dataclass
class ItemView:
    item: RiskItem
    level: matrix.Level | None
    level_after: matrix.Level | None
    trend: trend.ItemTrend
    linked: Any
    factors: list[str]
    scope: list[str]
    measures: list[Measure] = field(default_factory=list)

    @property
    def trend_rows(self) -> list[dict[str, Any]]:
        return [{"period": label, "cell": cell} for label, cell in self.trend.rows]


def _scope_words(item: RiskItem, assessment: Assessment, names: dict[int, str]) -> list[str]:
    words = [str(_l("Unit: %(u)s and below", u=names.get(trend.scope_unit(item, assessment), "")))]
    for label, codes, chosen in (
        (_l("Type"), rcodes.INCIDENT_TYPES, item.scope_types),
        (_l("Who it came from"), rcodes.COUNTERPARTS, item.scope_counterparts),
        (_l("Place"), rcodes.PLACE_TYPES, item.scope_places),
        (_l("Activity"), rcodes.ACTIVITIES, item.scope_activities),
        (_l("Time of day"), rcodes.TIME_BANDS, item.scope_time_bands),
    ):
        if chosen:
            words.append(f"{label}: {', '.join(str(codes.get(c, c)) for c in chosen)}")
    if item.scope_lone_work is not None:
        words.append(
            str(_l("Lone work")) + ": " + str(_l("Yes") if item.scope_lone_work else _l("No"))
        )
    return words


def item_views(assessment: Assessment, version: AssessmentVersion) -> list[ItemView]:
    table = matrix.levels(assessment.matrix_size)
    names = {u.id: u.name for u in org.all_units()}
    by_ref: dict[int, list[Measure]] = {}
    for m in plan.measures(assessment):
        by_ref.setdefault(m.item_ref, []).append(m)
    return [
        ItemView(
            i,
            matrix.level_of(i.likelihood, i.consequence, table),
            matrix.level_of(i.likelihood_after, i.consequence_after, table),
            trend.item_trend(i, assessment),
            trend.linked_cases(assessment, i.ref),
            [str(FACTORS.get(f, f)) for f in i.factors],
            _scope_words(i, assessment, names),
            by_ref.get(i.ref, []),
        )
        for i in version.items
    ]


@dataclass
class GridCell:
    likelihood: int
    consequence: int
    level: matrix.Level
    refs: list[int]


def grid(assessment: Assessment, items: list[RiskItem]) -> list[list[GridCell]]:
    """Rows from the highest likelihood down, columns by consequence."""
    size = assessment.matrix_size
    table = matrix.levels(size)
    rows = []
    for likelihood in range(size, 0, -1):
        row = []
        for consequence in range(1, size + 1):
            level = matrix.level_of(likelihood, consequence, table)
            assert level is not None  # noqa: S101 - both values given
            refs = [
                i.ref for i in items if i.likelihood == likelihood and i.consequence == consequence
            ]
            row.append(GridCell(likelihood, consequence, level, refs))
        rows.append(row)
    return rows


def user_names(ids: set[int | None]) -> dict[int, str]:
    wanted = sorted(i for i in ids if i is not None)
    if not wanted:
        return {}
    return dict(db.session.execute(select(User.id, User.name).where(User.id.in_(wanted))).all())


def assessment_context(
    user: User, assessment: Assessment, version: AssessmentVersion
) -> dict[str, Any]:
    items = item_views(assessment, version)
    unit = org.get_unit(assessment.unit_id)
    comments = participation.comments(version)
    previous = _previous(assessment, version)
    names = user_names(
        {c.author_id for c in comments} | {version.approved_by_id, assessment.owner_id}
    )
    return {
        "assessment": assessment,
        "version": version,
        "unit_name": unit.name if unit else "",
        "items": items,
        "grid": grid(assessment, version.items),
        "levels": matrix.levels(assessment.matrix_size),
        "likelihood_labels": matrix.LIKELIHOOD_LABELS[assessment.matrix_size],
        "consequence_labels": matrix.CONSEQUENCE_LABELS[assessment.matrix_size],
        "comments": comments,
        "names": names,
        "took_part": participation.took_part(version),
        "triggers": [(t, trigger_reason(t)) for t in triggers.open_triggers(assessment)],
        "comparison": service.compare(previous, version) if previous else None,
        "previous": previous,
        "can_edit": allowed(user, assessment, Need.EDIT),
        "can_state": allowed(user, assessment, Need.STATEMENT),
        "is_latest": version.id == assessment.latest.id,
        "states": VERSION_STATES,
        "participant_roles": PARTICIPANT_ROLES,
        "comment_roles": COMMENT_ROLES,
        "measure_states": MEASURE_STATES,
        "results": RESULTS,
        "lowers": LOWERS,
        "today": today(),
        "participant_names": participant_names(version),
    }


def _previous(assessment: Assessment, version: AssessmentVersion) -> AssessmentVersion | None:
    earlier = [v for v in assessment.versions if v.number < version.number]
    return earlier[-1] if earlier else None


def participant_names(version: AssessmentVersion) -> dict[str, str]:
    out: dict[str, list[str]] = {}
    for p in version.participants:
        out.setdefault(p.role, []).append(p.name)
    return {role: ", ".join(names) for role, names in out.items()}


def participants_from_form(form: MultiDict[str, str]) -> list[dict[str, str]]:
    """One text field per role (p_<role>), names separated by commas."""
    people = []
    for role in PARTICIPANT_ROLES:
        for name in form.get(f"p_{role}", "").split(","):
            if name.strip():
                people.append({"role": role, "name": name.strip()})
    return people


def participant_errors(people: list[dict[str, str]]) -> dict[str, list[str]]:
    """The participants' mistakes at their form field (p_<role>): the schema names them
    by place in the list (participants[3].name), which the form does not show. A role's
    field holds several names, so the message says the limit is each name's."""
    errors: dict[str, list[str]] = {}
    for person in people:
        if ParticipantSchema().validate(person):
            message = _l("Use at most %(n)s characters for each name.", n=NAME_MAX)
            errors[f"p_{person['role']}"] = [str(message)]
    return errors


def item_values(item: RiskItem | None) -> dict[str, Any]:
    if item is None:
        return {
            "factors": [],
            "scope_types": [],
            "scope_counterparts": [],
            "scope_places": [],
            "scope_activities": [],
            "scope_time_bands": [],
        }
    values = {key: getattr(item, key) for key in service.ITEM_FIELDS}
    lone = item.scope_lone_work
    values["scope_lone_work"] = "" if lone is None else ("true" if lone else "false")
    return values


def item_choices(assessment: Assessment) -> dict[str, Any]:
    size = assessment.matrix_size
    units = org.subtree_ids(assessment.unit_id)
    return {
        "likelihood": [
            (n + 1, f"{n + 1} – {label}") for n, label in enumerate(matrix.LIKELIHOOD_LABELS[size])
        ],
        "consequence": [
            (n + 1, f"{n + 1} – {label}") for n, label in enumerate(matrix.CONSEQUENCE_LABELS[size])
        ],
        "factors": list(FACTORS.items()),
        "units": [(u.id, u.name) for u in org.all_units() if u.id in units],
        "types": list(rcodes.INCIDENT_TYPES.items()),
        "counterparts": list(rcodes.COUNTERPARTS.items()),
        "places": list(rcodes.PLACE_TYPES.items()),
        "activities": list(rcodes.ACTIVITIES.items()),
        "time_bands": list(rcodes.TIME_BANDS.items()),
    }


def responsible_options(assessment: Assessment) -> list[tuple[int, str]]:
    """Active people of the assessment's units and above, and the managers: who can be
    responsible for a measure."""
    from trygg.accounts.models import Membership

    units = org.subtree_ids(assessment.unit_id)
    ids = set(
        db.session.scalars(select(Membership.user_id).where(Membership.unit_id.in_(sorted(units))))
    )
    ids |= set(db.session.scalars(select(UserRole.user_id).where(UserRole.role == Role.MANAGER)))
    rows = db.session.execute(
        select(User.id, User.name)
        .where(User.id.in_(sorted(ids)), User.active.is_(True))
        .order_by(User.name)
    )
    return [(uid, name) for uid, name in rows]
