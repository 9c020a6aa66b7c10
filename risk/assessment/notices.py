"""Who is told when an assessment moves or someone takes part in it.

Participation (medvirkning) needs the people who take part to know when there is
something to take part in: the safety representatives of the assessment's units hear
when a version is sent for review or approved, and the working environment committee
when it is approved (both may comment, and give a statement on an approved version);
the owner hears when someone else comments or gives a statement. The notifications say
only that (notifications/kinds.py) and link to the assessment, where reading it needs
the reader's access as ever.
"""

from __future__ import annotations

from datetime import datetime

from notifications.kinds import Kind
from notifications.service import notify
from risk.assessment.models import AssessmentVersion, Comment
from trygg import org
from trygg.accounts import service as accounts
from trygg.accounts.models import Role, User
from trygg.extensions import utcnow


def _link(assessment_id: int) -> str:
    return f"/risk/assessments/{assessment_id}"


def version_moved(version: AssessmentVersion, actor: User, now: datetime | None = None) -> None:
    """A version was sent for review or approved: its safety representatives (those who
    represent its unit or a unit above it, whose statement it asks for), and on approval
    the working environment committee, except the one who moved it."""
    if version.status not in ("review", "approved"):
        return
    assessment = version.assessment
    people = set(accounts.safety_reps_of(org.with_ancestors([assessment.unit_id])))
    if version.status == "approved":
        people |= {p.id for p in accounts.users_with_roles(Role.AMU)}
    people.discard(actor.id)
    moment = int((now or utcnow()).timestamp())
    notify(
        Kind.RISK_PARTICIPATION,
        sorted(people),
        key=f"risk-version:{version.id}:{version.status}:{moment}",
        link=_link(assessment.id),
    )


def commented(comment: Comment, version: AssessmentVersion) -> None:
    """A comment or statement: the assessment's owner, unless they wrote it."""
    owner = version.assessment.owner_id
    if owner is None or owner == comment.author_id:
        return
    notify(
        Kind.RISK_COMMENT,
        [owner],
        key=f"risk-comment:{comment.id}",
        link=_link(version.assessment_id),
    )
