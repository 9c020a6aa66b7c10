"""Each user's notification settings: per kind at once, in a daily digest or off; the
digest's time (Oslo); the language of e-mail; away, with a substitute.

Handlers on duty (the handler role, not away) cannot turn off or postpone the
mandatory kinds (kinds.MANDATORY_FOR_HANDLERS): a new case and an escalation reach them
at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app
from flask_babel import LazyString
from sqlalchemy import delete, select

from notifications.kinds import MANDATORY_FOR_HANDLERS, Delivery, Kind
from notifications.models import NotificationPreference, NotificationProfile
from trygg.accounts import service as accounts
from trygg.accounts.models import User
from trygg.extensions import db
from trygg.i18n import lazy_gettext as _l
from trygg.ids import ID_MAX
from trygg.roles import Role

LANGUAGES = ("nb", "en")
HANDLER_KINDS = (
    Kind.CASE_NEW,
    Kind.CASE_ASSIGNED,
    Kind.CASE_MESSAGE,
    Kind.DEADLINE_REMINDER,
    Kind.DEADLINE_ESCALATION,
    Kind.SECTION_5_2,
    Kind.RETENTION_WARNING,
    Kind.ACCESS_CHANGE,
)


class PreferenceError(Exception):
    """A setting that cannot be saved; `field` names it, the message says what to fix."""

    def __init__(self, message: LazyString, field: str) -> None:
        super().__init__(str(message))
        self.message = message
        self.field = field

    def messages(self) -> dict[str, list[str]]:
        return {self.field: [str(self.message)]}


@dataclass
class Settings:
    language: str
    digest_minute: int
    away: bool
    substitute_id: int | None
    deliveries: dict[str, str]
    # Kinds this user cannot change now (on duty as a handler).
    mandatory: list[str]

    @property
    def digest_time(self) -> str:
        return f"{self.digest_minute // 60:02d}:{self.digest_minute % 60:02d}"


def kinds_for(user: User) -> list[Kind]:
    """The kinds a user can receive, by role (everyone can have a report and a task)."""
    kinds: list[Kind] = []
    if user.has_role(Role.HANDLER):
        kinds.extend(HANDLER_KINDS)
    elif user.has_role(Role.ADMIN):
        kinds.extend((Kind.DEADLINE_ESCALATION, Kind.SECTION_5_2))
    if user.has_role(Role.MANAGER):
        kinds.extend((Kind.RISK_REVIEW, Kind.RISK_COMMENT))
    if user.has_role(Role.SAFETY_REP, Role.AMU):
        kinds.append(Kind.RISK_PARTICIPATION)
    if user.has_role(Role.SAFETY_REP) and not user.has_role(Role.HANDLER):
        kinds.append(Kind.ACCESS_CHANGE)
    kinds.extend((Kind.TASK_ASSIGNED, Kind.TASK_DUE, Kind.MEASURE_DUE, Kind.REPORT_UPDATE))
    return kinds


def _profile(user: User) -> NotificationProfile | None:
    return db.session.get(NotificationProfile, user.id)


def on_duty(user: User, profile: NotificationProfile | None) -> bool:
    return user.has_role(Role.HANDLER) and not (profile is not None and profile.away)


def settings_for(user: User) -> Settings:
    profile = _profile(user)
    saved = dict(
        db.session.execute(
            select(NotificationPreference.kind, NotificationPreference.delivery).where(
                NotificationPreference.user_id == user.id
            )
        ).all()
    )
    mandatory = sorted(MANDATORY_FOR_HANDLERS) if on_duty(user, profile) else []
    deliveries = {}
    for kind in kinds_for(user):
        value = saved.get(kind, Delivery.IMMEDIATE)
        deliveries[str(kind)] = Delivery.IMMEDIATE if kind in mandatory else value
    return Settings(
        language=email_language(
            profile.language if profile else None,
            user.locale,
            current_app.config["TRYGG"]["default_locale"],
        ),
        digest_minute=profile.digest_minute if profile else 7 * 60,
        away=bool(profile.away) if profile else False,
        substitute_id=profile.substitute_id if profile else None,
        deliveries=deliveries,
        mandatory=[str(k) for k in mandatory],
    )


def email_language(chosen: str | None, interface: str | None, default: str) -> str:
    """The language of a user's e-mail: the one chosen on the settings page (saving it
    stores one), else the language they switched Trygg to, else the default."""
    for language in (chosen, interface):
        if language in LANGUAGES:
            return str(language)
    return default


def _check_substitute(user: User, away: bool, substitute_id: int | None) -> None:
    if substitute_id is None:
        return
    # Refused before the id is looked up: an employee trying ids must not learn which
    # accounts are case handlers (their page does not list them).
    if not may_have_substitute(user):
        raise PreferenceError(
            _l("Your notifications go to you alone: there is no substitute to choose."),
            "substitute_id",
        )
    if substitute_id == user.id:
        raise PreferenceError(_l("Choose someone else as your substitute."), "substitute_id")
    # An id no row can have (beyond the id columns: trygg.ids) is not looked up: the
    # database would refuse the number itself, a server error instead of this answer.
    substitute = db.session.get(User, substitute_id) if 0 < substitute_id <= ID_MAX else None
    if substitute is None or not substitute.active or not substitute.has_role(Role.HANDLER):
        raise PreferenceError(
            _l("Choose an active case handler from the list as your substitute."),
            "substitute_id",
        )


def save_settings(user: User, data: dict[str, Any]) -> Settings:
    """Save what the form or API sent (validated by NotificationSettingsSchema).

    PreferenceError when a mandatory kind is turned off or postponed while on duty, or
    when the substitute is not an active case handler.
    """
    away = bool(data["away"])
    substitute_id = data.get("substitute_id")
    _check_substitute(user, away, substitute_id)
    allowed = {str(k) for k in kinds_for(user)}
    deliveries: dict[str, str] = data.get("deliveries") or {}
    for kind in deliveries:
        if kind not in allowed:
            raise PreferenceError(_l("You do not get this kind of notification."), kind)
    if user.has_role(Role.HANDLER) and not away:
        for kind in sorted(MANDATORY_FOR_HANDLERS):
            if deliveries.get(kind, Delivery.IMMEDIATE) != Delivery.IMMEDIATE:
                raise PreferenceError(
                    _l(
                        "While you are on duty as a case handler this comes at once. "
                        "Mark yourself away to change it."
                    ),
                    kind,
                )
    profile = _profile(user)
    if profile is None:
        profile = NotificationProfile(user_id=user.id)
        db.session.add(profile)
    profile.language = data["language"]
    profile.digest_minute = data["digest_minute"]
    profile.away = away
    profile.substitute_id = substitute_id
    db.session.execute(
        delete(NotificationPreference).where(NotificationPreference.user_id == user.id)
    )
    for kind, delivery in sorted(deliveries.items()):
        if delivery != Delivery.IMMEDIATE:
            db.session.add(NotificationPreference(user_id=user.id, kind=kind, delivery=delivery))
    db.session.flush()
    return settings_for(user)


def may_have_substitute(user: User) -> bool:
    """Whether being away with a substitute can change anything for the user: only a
    case handler's notifications about cases go to a substitute (another handler who may
    handle the case), and only on duty are some of them mandatory. Others' settings page
    neither offers it nor lists the case handlers."""
    return user.has_role(Role.HANDLER)


def substitutes(user: User) -> list[accounts.Person]:
    """Who may stand in: active case handlers other than the user, by name (found by
    their role in SQL: the organisation's other thousands of users are not read)."""
    return [u for u in accounts.users_with_roles(Role.HANDLER) if u.id != user.id]
