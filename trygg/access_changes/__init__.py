"""Access changes: every change that widens who can read case content, for all to see.

A new handler or safety representative, an account of theirs active again, a
set-password code issued for one (a password reset), a reset of their two-factor
authentication — and, from case handling, new group members, routing rules and
grants — each write an entry: who did it, what, to whom, when; never content. Handlers
and the safety representative see the list at /access-changes, newest first, so access
cannot be widened silently. Each entry also sends `trygg.signals.access_changed`, on
which handling notifies the handlers of the groups it concerns (in-app and e-mail).

Each kind of entry has a describer that turns it into a sentence; packages register
theirs with `register_kind` (the kernel imports no domain package), with, for entries
about one case, who is shown them (a handler excluded from a case must not read that
it was given to someone), or who is shown which case it was (break-glass is shown to
all, its case only to those who may handle it). The page is in views.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ColumnElement, ForeignKey, Integer, String, or_, select
from sqlalchemy.orm import Mapped, mapped_column

from trygg import paging, signals
from trygg.accounts.models import ROLE_LABELS, User
from trygg.extensions import UTCDateTime, db, utcnow
from trygg.i18n import gettext as _
from trygg.org import Unit

PER_PAGE = 25


class AccessChange(db.Model):  # type: ignore[name-defined]
    """One widening of access: who (`actor`, as in the audit log), what (`kind` and
    `detail`, codes only), to whom (`user_id`) or what (`object_type`, `object_id`),
    and when."""

    __tablename__ = "access_change"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(48))
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    object_type: Mapped[str | None] = mapped_column(String(32))
    object_id: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


def record(
    kind: str,
    *,
    actor: str,
    user_id: int | None = None,
    object_type: str | None = None,
    object_id: object = None,
    detail: dict[str, Any] | None = None,
) -> AccessChange:
    """Write one entry (in the caller's transaction). `detail` holds codes, no content."""
    if kind not in _DESCRIBERS:
        raise ValueError(f"unknown kind of access change: {kind}")
    change = AccessChange(
        actor=actor,
        kind=kind,
        user_id=user_id,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        detail=detail or {},
    )
    db.session.add(change)
    db.session.flush()
    signals.access_changed.send(change)
    return change


# -- describing entries ------------------------------------------------------------------

Describer = Callable[[AccessChange], str]
# The entries of a kind a viewer is shown: a condition on AccessChange rows.
ShownTo = Callable[[User], ColumnElement[bool]]


def _role_granted(change: AccessChange) -> str:
    role = change.detail.get("role", "")
    return _("Given the role: %(role)s", role=str(ROLE_LABELS.get(role, role)))


def _represents(change: AccessChange) -> str:
    ids = [int(i) for i in change.detail.get("units", [])]
    names = sorted(db.session.scalars(select(Unit.name).where(Unit.id.in_(ids))) if ids else [])
    return _(
        "Now safety representative for: %(units)s (sees those units' cases shared with "
        "the safety representative)",
        units=", ".join(names) or "–",
    )


_DESCRIBERS: dict[str, Describer] = {
    "role.granted": _role_granted,
    "safety_rep.units": _represents,
    "user.reactivated": lambda _change: _("Account active again"),
    "password.reset": lambda change: (
        _(
            "Password and two-factor authentication reset: a set-password code went to the "
            "user's own e-mail address; they choose a new password and set up two-factor again"
        )
        if change.detail.get("full")
        else _(
            "Password reset: a set-password code was issued, with which the user chooses a new one"
        )
    ),
    "two_factor.reset": lambda change: (
        _(
            "Password and two-factor authentication reset: a set-password code went to the "
            "user's own e-mail address; they choose a new password and set up two-factor again"
        )
        if change.detail.get("full")
        else _("Two-factor authentication reset: set up again at the next login")
    ),
}


_SHOWN_TO: dict[str, ShownTo] = {}
# Per kind: which entries show a viewer their object, and how the others read.
_OBJECT_SHOWN_TO: dict[str, tuple[ShownTo, Describer]] = {}


def register_kind(
    kind: str,
    describe: Describer,
    shown_to: ShownTo | None = None,
    *,
    object_shown_to: tuple[ShownTo, Describer] | None = None,
) -> None:
    """Let a package write entries of `kind`, described on the page by `describe`;
    `shown_to`: which of them a viewer is shown (all when not given); `object_shown_to`:
    of those, which show the viewer what they are about (a condition), and the
    describer of the others, which must not name it."""
    _DESCRIBERS[kind] = describe
    if shown_to is not None:
        _SHOWN_TO[kind] = shown_to
    if object_shown_to is not None:
        _OBJECT_SHOWN_TO[kind] = object_shown_to


def describe(change: AccessChange, *, without_object: bool = False) -> str:
    """The entry in words; `without_object`: not naming what it is about."""
    if without_object and change.kind in _OBJECT_SHOWN_TO:
        return _OBJECT_SHOWN_TO[change.kind][1](change)
    describer = _DESCRIBERS.get(change.kind)
    return describer(change) if describer else change.kind


# -- the page -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    changes: list[AccessChange]
    names: dict[int, str]
    next_cursor: str | None
    # The entries on the page whose object the viewer is not shown (`register_kind`).
    without_object: frozenset[int] = frozenset()

    def describe(self, change: AccessChange) -> str:
        return describe(change, without_object=change.id in self.without_object)


def _without_object(viewer: User, changes: list[AccessChange]) -> frozenset[int]:
    """Of these entries, those whose object the viewer is not shown: one statement per
    kind on the page that registered the condition."""
    hidden: set[int] = set()
    for kind, (shown_to, _describer) in _OBJECT_SHOWN_TO.items():
        ids = [c.id for c in changes if c.kind == kind]
        if ids:
            query = select(AccessChange.id).where(AccessChange.id.in_(ids), ~shown_to(viewer))
            hidden.update(db.session.scalars(query))
    return frozenset(hidden)


def page(viewer: User, limit: int = PER_PAGE, after: tuple[Any, ...] | None = None) -> Page:
    """One page of the entries `viewer` is shown, newest first, after the cursor `after`
    (the last id shown)."""
    query = select(AccessChange).order_by(AccessChange.id.desc()).limit(limit + 1)
    for kind, shown_to in _SHOWN_TO.items():
        query = query.where(or_(AccessChange.kind != kind, shown_to(viewer)))
    if after is not None:
        query = query.where(AccessChange.id < after[0])
    shown = paging.page_of(list(db.session.scalars(query)), limit, lambda c: (c.id,))
    changes = shown.items
    ids = {c.user_id for c in changes if c.user_id} | {
        int(c.actor.removeprefix("user:")) for c in changes if c.actor.startswith("user:")
    }
    names = dict(db.session.execute(select(User.id, User.name).where(User.id.in_(ids))).all())
    return Page(changes, names, shown.next_cursor, _without_object(viewer, changes))


def actor_name(actor: str, names: dict[int, str]) -> str:
    """Who made a change, in words: a person's name, the command line, or Trygg itself."""
    if actor.startswith("user:"):
        return names.get(int(actor.removeprefix("user:")), actor)
    if actor == "cli":
        return _("The command line on the server")
    return _("Trygg")
