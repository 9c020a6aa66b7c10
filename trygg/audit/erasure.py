"""Erasing who did what to one object (retention): the entries stay, the chain holds."""

from __future__ import annotations

from sqlalchemy import update

from trygg.audit.chain import write_pending
from trygg.audit.models import ERASED_ACTOR, AuditEntry
from trygg.extensions import db


def erase(object_type: str, object_id: object) -> int:
    """Erase actor and detail of every erasable entry about one object (retention).

    The entries stay, with action, object and time, so the chain still verifies and
    still shows that something happened; who did it and the details are gone. Returns
    the number of entries erased.
    """
    write_pending()
    table = AuditEntry.__table__
    result = db.session.execute(
        update(table)
        .where(
            table.c.object_type == object_type,
            table.c.object_id == str(object_id),
            table.c.body.is_not(None),
            table.c.salt.is_not(None),
        )
        .values(actor=ERASED_ACTOR, detail="{}", salt=None)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
