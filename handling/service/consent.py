"""The reporter's consent to be named when their case is exported.

Where the reporter's identity is protected — a varsel (arbeidsmiljøloven chapter 2A:
the whistleblower is protected) or a report they sent as confidential ("only the case
handler assigned to the case sees who you are") — an export names them only to a kind
of recipient they agreed to (`handling.codes.EXPORT_RECIPIENTS`). The reporter gives
and withdraws that consent on their case page; no handler can give it for them. Each
change is a line in the case's timeline, an audit entry and a notification to the
case's handlers (who may be waiting for it before they export).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, select

from handling import codes, notices
from handling.errors import CaseError
from handling.models import Case, CaseEvent, IdentityConsent
from handling.service.base import _audit, _event, _now
from handling.service.reporter import reporter_case
from handling.states import Track
from reporting.models import Report
from trygg.accounts.models import User
from trygg.audit import actor_label
from trygg.extensions import db
from trygg.i18n import lazy_gettext as _l


@dataclass(frozen=True)
class ConsentChange:
    given: list[str]
    withdrawn: list[str]
    # Asked for by a handler, and left unticked when the reporter saved their choice.
    declined: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.given or self.withdrawn or self.declined)


# The case's timeline events that make up the conversation about consent.
REQUESTED, DECLINED = "identity_consent_asked", "identity_consent_refused"
GIVEN = "identity_consent"  # given and withdrawn: the reporter's own change


def identity_protected(case: Case) -> bool:
    """Whether the reporter is named in an export only with their consent: a varsel, or
    a confidential report. (An anonymous reporter has no identity to give.)

    A case that was a varsel once stays protected after a handler moves it to another
    track: a case moves between tracks without revealing the reporter, and the consent
    the reporter gave (or did not give) as a whistleblower still decides, and can still
    be withdrawn."""
    if case.track == Track.WHISTLEBLOWING or bool(case.report.confidential):
        return True
    return _was_whistleblowing(case)


def _was_whistleblowing(case: Case) -> bool:
    """Whether the case was opened on, or moved from, the varsel track (its timeline)."""
    rows = db.session.scalars(
        select(CaseEvent.codes).where(
            CaseEvent.case_id == case.id, CaseEvent.kind.in_(("opened", "track_changed"))
        )
    )
    return any(
        Track.WHISTLEBLOWING in (c.get("track"), c.get("before"), c.get("after")) for c in rows if c
    )


def identity_consents(case: Case) -> dict[str, datetime]:
    """The kinds of recipient the reporter agreed may learn who they are, and when."""
    return consents_by_case([case.id])[case.id]


def consents_by_case(case_ids: Iterable[int]) -> dict[int, dict[str, datetime]]:
    """Case id → its reporter's consents (every case given, most with none): one query."""
    ids = sorted(set(case_ids))
    out: dict[int, dict[str, datetime]] = {case_id: {} for case_id in ids}
    if ids:
        rows = db.session.execute(
            select(
                IdentityConsent.case_id, IdentityConsent.recipient, IdentityConsent.given_at
            ).where(IdentityConsent.case_id.in_(ids))
        )
        for case_id, recipient, given_at in rows:
            out[case_id][recipient] = given_at
    return out


def consent_allows(case: Case, recipient: str) -> bool:
    """Whether an export to this recipient may name the reporter, as far as consent
    goes (who may export a confidential reporter's name is retention's rule)."""
    if not identity_protected(case):
        return True
    return recipient in identity_consents(case)


def pending_requests(case: Case) -> dict[str, datetime]:
    """The kinds of recipient a handler asked the reporter about that the reporter has
    not answered yet (neither agreed to nor left unticked when saving), and when.

    A yes answers the question for good: withdrawn later, it is the reporter's choice,
    not the question waiting again (a handler may ask anew)."""
    return {r: question.at for r, question in _questions(case).items()}


@dataclass(frozen=True)
class _Question:
    at: datetime  # first asked
    askers: frozenset[int]  # the handlers who asked


def _questions(case: Case) -> dict[str, _Question]:
    """`pending_requests`, with who asked each."""
    rows = db.session.execute(
        select(CaseEvent.kind, CaseEvent.codes, CaseEvent.at, CaseEvent.actor)
        .where(CaseEvent.case_id == case.id, CaseEvent.kind.in_((REQUESTED, DECLINED, GIVEN)))
        .order_by(CaseEvent.at, CaseEvent.id)
    )
    pending: dict[str, _Question] = {}
    for kind, values, at, actor in rows:
        values = values or {}
        if kind == REQUESTED:
            asker = _user_id(actor)
            for recipient in values.get("recipients", ()):
                before = pending.get(recipient, _Question(at, frozenset()))
                askers = before.askers if asker is None else before.askers | {asker}
                pending[recipient] = _Question(before.at, askers)
        else:
            answered = values.get("given" if kind == GIVEN else "recipients", ())
            for recipient in answered:
                pending.pop(recipient, None)
    given = identity_consents(case)
    return {r: question for r, question in pending.items() if r not in given}


def _user_id(label: str) -> int | None:
    """The user id of an audit label ("user:42"), else None."""
    prefix, _, rest = label.partition(":")
    return int(rest) if prefix == "user" and rest.isdigit() else None


def _askable(case: Case) -> None:
    if case.report.anonymous:
        raise CaseError(
            _l("The reporter is anonymous: there is no one to ask to be named."),
            field="recipients",
        )
    if not identity_protected(case):
        raise CaseError(
            _l("The reporter's identity is not protected in this case: there is nothing to ask."),
            field="recipients",
        )


def request_identity_consent(
    case: Case, recipients: Iterable[str], *, actor: User, now: datetime | None = None
) -> list[str]:
    """A handler asks the reporter whether they agree to be named to these kinds of
    recipient (the caller checked that the handler may export the case with the
    reporter's identity). The reporter is told there is news, and the question is shown
    by the consent form on their case page. Returns the kinds asked about."""
    _askable(case)
    wanted = set(recipients)
    if not wanted:
        raise CaseError(_l("Choose whom the reporter may be named to."), field="recipients")
    if wanted - set(codes.EXPORT_RECIPIENTS):
        raise CaseError(_l("Choose among the recipients listed."), field="recipients")
    db.session.execute(select(Case.id).where(Case.id == case.id).with_for_update())
    given = identity_consents(case)
    if wanted <= set(given):
        raise CaseError(
            _l("The reporter has already agreed to be named to this recipient."),
            field="recipients",
        )
    asked = sorted(wanted - set(given) - set(pending_requests(case)))
    if not asked:
        raise CaseError(
            _l("The reporter has been asked already and has not answered yet."),
            field="recipients",
        )
    at = _now(now)
    label = actor_label(actor)
    _event(case, REQUESTED, label, at, recipients=asked)
    _audit("case.identity_consent.request", label, case, at=at, recipients=asked)
    notices.reporter_asked_consent(case, at)
    db.session.flush()
    return asked


def set_identity_consents(
    report: Report,
    recipients: Iterable[str],
    *,
    actor: str,
    answering: Iterable[str] | None = None,
    asked_until: datetime | None = None,
    now: datetime | None = None,
) -> ConsentChange:
    """The reporter's consent, as a whole: exactly these kinds of recipient (the caller
    checked that the report is theirs). A kind a handler asked about and left unticked
    is the reporter's no, if the reporter was shown the question: `answering`, the
    questions their form showed (None: every question waiting), and `asked_until`, the
    newest of them (a question about the same kind asked again since, after an answer
    in another tab, is not answered by this form). Nothing is recorded when nothing
    changes."""
    case = reporter_case(report)
    if report.anonymous or not identity_protected(case):
        raise CaseError(
            _l("Your name is not protected in this case: there is no consent to give."),
            field="recipients",
        )
    wanted = set(recipients)
    unknown = sorted(wanted - set(codes.EXPORT_RECIPIENTS))
    if unknown:
        raise CaseError(_l("Choose among the recipients listed."), field="recipients")
    # The case's row, locked until commit: the same choice sent twice at once (a
    # double click) reads what the first stored, instead of inserting it again.
    db.session.execute(select(Case.id).where(Case.id == case.id).with_for_update())
    current = identity_consents(case)
    # A question asked after the reporter's page was shown is not answered by its form.
    questions = _questions(case)
    pending = set(questions)
    if answering is not None:
        pending &= set(answering)
    if asked_until is not None:
        pending = {r for r in pending if questions[r].at <= asked_until}
    change = ConsentChange(
        sorted(wanted - set(current)), sorted(set(current) - wanted), sorted(pending - wanted)
    )
    if not change.changed:
        return change
    at = _now(now)
    if change.withdrawn:
        db.session.execute(
            delete(IdentityConsent).where(
                IdentityConsent.case_id == case.id,
                IdentityConsent.recipient.in_(change.withdrawn),
            )
        )
    db.session.add_all(
        IdentityConsent(case_id=case.id, recipient=r, given_at=at) for r in change.given
    )
    if change.given or change.withdrawn:
        detail = {"given": change.given, "withdrawn": change.withdrawn}
        _event(case, GIVEN, actor, at, **detail)
        _audit("case.identity_consent", actor, case, at=at, **detail)
    if change.declined:
        _event(case, DECLINED, actor, at, recipients=change.declined)
        _audit("case.identity_consent.decline", actor, case, at=at, recipients=change.declined)
    # Those who asked were told they would hear the answer (also where another handler
    # has the case); only the assignee of a confidential reporter's case may ask.
    answered = set(questions) & {*change.given, *change.declined}
    askers = {u for r in answered for u in questions[r].askers}
    key = f"consent:{int(at.timestamp() * 1000)}"
    notices.reporter_wrote(case, key, also=() if report.confidential else askers)
    db.session.flush()
    return change
