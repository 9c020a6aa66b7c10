"""Writing to the log: how actors are named, queueing an entry, reading one object's
entries, and keeping the anonymous link's requests out of the chain."""

from __future__ import annotations

import json
from collections.abc import Collection
from datetime import datetime
from typing import Any

from flask import g, has_request_context
from sqlalchemy import Row, select, union_all

from trygg.audit.chain import _PENDING
from trygg.audit.models import AuditEntry
from trygg.extensions import db, utcnow


def actor_label(user: Any) -> str:
    """How an actor is named in the log: a user id, never a name or e-mail."""
    if user is None or not getattr(user, "is_authenticated", False):
        return "anonymous"
    return f"user:{user.id}"


def leave_out_of_chain() -> None:
    """before_request for the anonymous link: this request writes nothing to the chain.

    The chain is sequential: an entry's place among staff entries with exact times would
    date an anonymous reporter's action within the day, which the link promises never
    to keep. What they do is recorded in the case's own timeline instead, dated to the
    day and under random ids. Staff actions never run inside such a request.
    """
    g.audit_left_out = True


def record(
    action: str,
    *,
    actor: str,
    object_type: str,
    object_id: object = None,
    detail: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> None:
    """Queue one entry, to be appended to the chain when the transaction commits.

    `detail` is for identifiers and codes only (a role name, a field name), never for
    content. `at` lets callers set the time (coarsened for anonymous reports). Inside a
    request marked by `leave_out_of_chain` nothing is written.
    """
    if has_request_context() and g.get("audit_left_out"):
        return
    session = db.session()
    if not session.in_transaction():
        # Begin (no database work yet), so that a rollback before anything else is done
        # also drops this entry.
        session.begin()
    when = (at or utcnow()).replace(microsecond=0)
    session.info.setdefault(_PENDING, []).append(
        {
            "at": when,
            "actor": actor,
            "action": action,
            "object_type": object_type,
            "object_id": None if object_id is None else str(object_id),
            "detail": json.dumps(detail or {}, sort_keys=True, separators=(",", ":")),
        }
    )


def for_objects(
    objects: list[tuple[str, object]], limit: int = 200, actions: Collection[str] = ()
) -> list[Row[Any]]:
    """Of the newest entries about each of these (type, id) objects (at most `limit`
    each), those with one of `actions` (all when none are named), newest first, as rows
    of seq, at, actor, action and detail (JSON text): one statement (each object's
    entries are a range of ix_audit_object), no ORM objects (a case read often has
    hundreds)."""
    parts = [
        select(AuditEntry.seq)
        .where(AuditEntry.object_type == kind, AuditEntry.object_id == str(object_id))
        .order_by(AuditEntry.seq.desc())
        .limit(limit)
        .subquery()
        .select()
        for kind, object_id in objects
    ]
    if not parts:
        return []
    wanted = union_all(*parts).subquery()
    query = (
        select(
            AuditEntry.seq, AuditEntry.at, AuditEntry.actor, AuditEntry.action, AuditEntry.detail
        )
        .where(AuditEntry.seq.in_(select(wanted.c.seq)))
        .order_by(AuditEntry.seq.desc())
    )
    if actions:
        query = query.where(AuditEntry.action.in_(sorted(actions)))
    return list(db.session.execute(query))


def for_object(object_type: str, object_id: object, limit: int = 200) -> list[AuditEntry]:
    """The newest entries about one object, newest first."""
    return list(
        db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.object_type == object_type, AuditEntry.object_id == str(object_id))
            .order_by(AuditEntry.seq.desc())
            .limit(limit)
        )
    )


def keep_audited() -> None:
    """Commit what the request has audited so far, before an error answer.

    The request commits once, on success (trygg/database.py): a 4xx rolls everything
    back. A reading that must stay audited although the answer is an error (a page shown
    again with its form's messages, an excluded handler's refused attempt) is kept here,
    with whatever else was written before it; nothing written after it is.
    """
    db.session.commit()
