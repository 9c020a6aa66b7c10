"""The notifications JSON API: the user's list and settings, the admin's outbox view."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, Response, jsonify, request, url_for
from flask_login import current_user
from marshmallow import ValidationError

from notifications import inbox, preferences, service
from notifications.preferences import PreferenceError
from notifications.schemas import (
    NotificationListSchema,
    NotificationSchema,
    NotificationSettingsSchema,
    OutboxSchema,
    SettingsOutSchema,
)
from trygg import paging
from trygg.accounts.models import Role, User
from trygg.api import ApiError, documented, load_json, schema_error
from trygg.i18n import gettext as _
from trygg.security import allow

bp = Blueprint("api_notifications", __name__, url_prefix="/api/v1")


def _user() -> User:
    user: User = current_user._get_current_object()  # noqa: SLF001
    return user


@bp.get("/notifications")
@allow()
@documented(
    "Your notifications, newest first, a page at a time (limit: 1 to 200, 50 by default; "
    "the next page's address is in the Link header, rel=next), and the unread count",
    response=NotificationListSchema,
    tags=("notifications",),
    errors=(400,),
)
def list_notifications() -> Response:
    """The logged-in user's notifications."""
    user = _user()
    try:
        args = paging.page_args(request.args, (datetime, int))
    except ValidationError as exc:
        raise schema_error(exc) from None
    page = inbox.page_for(user.id, limit=args.limit, after=args.after)
    body = {"unread": inbox.unread_count(user.id), "items": page.items}
    response = jsonify(NotificationListSchema().dump(body))
    if page.next_cursor is not None:
        link = url_for(".list_notifications", limit=args.limit, after=page.next_cursor)
        response.headers["Link"] = f'<{link}>; rel="next"'
    return response


@bp.post("/notifications/<id:notification_id>/read")
@allow()
@documented(
    "Mark one of your notifications read",
    response=NotificationSchema,
    tags=("notifications",),
    errors=(404,),
)
def read_notification(notification_id: int) -> Response:
    """Mark it read; 404 if it is not the user's."""
    try:
        row = inbox.mark_read(_user().id, notification_id)
    except service.NotificationNotFound:
        raise ApiError(404, {"_request": [_("Not found.")]}) from None
    return jsonify(NotificationSchema().dump(row))


@bp.get("/me/notification-settings")
@allow()
@documented("Your notification settings", response=SettingsOutSchema, tags=("notifications",))
def get_settings() -> Response:
    """Per kind at once, digest or off; digest time; language; away and substitute."""
    return jsonify(SettingsOutSchema().dump(preferences.settings_for(_user())))


@bp.put("/me/notification-settings")
@allow()
@documented(
    "Change your notification settings",
    body=NotificationSettingsSchema,
    response=SettingsOutSchema,
    tags=("notifications",),
)
def put_settings() -> Response:
    """Save the settings; 400 naming the field when one cannot be saved."""
    data = load_json(NotificationSettingsSchema())
    try:
        saved = preferences.save_settings(_user(), data)
    except PreferenceError as exc:
        raise ApiError(400, exc.messages()) from None
    return jsonify(SettingsOutSchema().dump(saved))


@bp.get("/admin/outbox")
@allow(Role.ADMIN)
@documented(
    "E-mail outbox: counts by state and failed rows (no content)",
    response=OutboxSchema,
    tags=("admin",),
)
def admin_outbox() -> Response:
    """Counts and failed rows: id, kind, attempts, last error code."""
    body = {"counts": service.outbox_counts(), "failed": service.failed_rows()}
    return jsonify(OutboxSchema().dump(body))
