"""Schemas of the notification list, settings and the admin's outbox view."""

from __future__ import annotations

import re
from typing import Any

from marshmallow import Schema, ValidationError, fields, post_load, pre_load, validate

from notifications.kinds import LABELS, Delivery, Kind
from notifications.preferences import LANGUAGES
from trygg.i18n import lazy_gettext as _l
from trygg.validation import StrictSchema

_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


class NotificationSchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    text = fields.Function(lambda n: str(LABELS.get(n.kind, n.kind)))
    link = fields.String()
    created_at = fields.DateTime()
    read = fields.Function(lambda n: n.read_at is not None)


class NotificationListSchema(Schema):
    unread = fields.Integer()
    items = fields.List(fields.Nested(NotificationSchema))


class NotificationSettingsSchema(StrictSchema):
    """Sent by the settings page and PUT /api/v1/me/notification-settings."""

    language = fields.String(required=True, validate=validate.OneOf(LANGUAGES))
    digest_time = fields.String(
        required=True, metadata={"description": "HH:MM, Oslo time", "example": "07:00"}
    )
    away = fields.Boolean(load_default=False)
    substitute_id = fields.Integer(load_default=None, allow_none=True, strict=True)
    deliveries = fields.Dict(
        keys=fields.String(validate=validate.OneOf([str(k) for k in Kind])),
        values=fields.String(validate=validate.OneOf([str(d) for d in Delivery])),
        load_default=dict,
        metadata={"description": "kind → immediate, digest or off"},
    )

    @pre_load
    def _strip(self, data: Any, **_kwargs: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("digest_time"), str):
            data = {**data, "digest_time": data["digest_time"].strip()}
        return data

    @post_load
    def _minutes(self, data: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
        match = _TIME.match(data.pop("digest_time"))
        if not match:
            raise ValidationError(
                str(_l("Give the time as hours and minutes, for example 07:30.")), "digest_time"
            )
        data["digest_minute"] = int(match.group(1)) * 60 + int(match.group(2))
        return data


class SettingsOutSchema(Schema):
    language = fields.String()
    digest_time = fields.String()
    away = fields.Boolean()
    substitute_id = fields.Integer(allow_none=True)
    deliveries = fields.Dict(keys=fields.String(), values=fields.String())
    mandatory = fields.List(fields.String())


class OutboxRowSchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    attempts = fields.Integer()
    last_error = fields.String(allow_none=True)
    created_at = fields.DateTime()


class OutboxSchema(Schema):
    counts = fields.Dict(keys=fields.String(), values=fields.Integer())
    failed = fields.List(fields.Nested(OutboxRowSchema))
