"""The loaders the handler's pages and the JSON API share: one per resource, so a case
is found and its access checked in one place (issue 11, item 5).

A loader raises the domain's not-found error; each blueprint answers it once
(`trygg.web.answer_not_found`): the 404 page, or the JSON 404 on /api/ paths.
"""

from __future__ import annotations

from flask import request
from flask_login import current_user
from sqlalchemy import select

from handling import service
from handling.errors import CaseNotFound
from handling.models import Case
from handling.states import AccessLevel
from trygg import audit
from trygg.accounts.models import User
from trygg.extensions import db

READ_ONLY = frozenset({"GET", "HEAD"})


def load_case(case_id: int, levels: tuple[str, ...] = (AccessLevel.HANDLER,)) -> Case:
    """The case, if the logged-in user may see it at one of `levels`; else CaseNotFound.

    A request that changes the case locks its row for the rest of the request. An
    excluded handler's refused attempt is audited, and that entry is committed
    although the answer is an error.
    """
    user: User = current_user._get_current_object()
    lock = request.method not in READ_ONLY
    try:
        return service.case_for(user, case_id, levels=levels, lock=lock)
    except CaseNotFound:
        audit.keep_audited()
        raise


def load_case_to_grant(case_id: int) -> Case:
    """The case, if the logged-in user may give a colleague access to it (a handler who
    has it, or the lead of its group, who may not see it); else CaseNotFound. Its row
    is locked for the rest of the request."""
    user: User = current_user._get_current_object()
    case = service.get_case(case_id)
    if case is None or not service.may_grant(user, case):
        raise CaseNotFound()
    db.session.execute(select(Case.id).where(Case.id == case.id).with_for_update())
    return case
