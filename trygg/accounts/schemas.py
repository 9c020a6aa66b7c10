"""Input and output schemas for accounts, shared by the pages and the JSON API."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates

from trygg.accounts.models import ROLES
from trygg.i18n import lazy_gettext as _l
from trygg.validation import StrictSchema, filled


class LoginSchema(StrictSchema):
    email = fields.String(required=True, validate=filled(254))
    password = fields.String(required=True, validate=filled(1024))
    otp = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=12))


class OtpSchema(StrictSchema):
    otp = fields.String(required=True, validate=validate.Length(min=6, max=12))


class UnitRefSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    parent_id = fields.Integer(allow_none=True)
    headcount = fields.Integer()


class MeSchema(Schema):
    id = fields.Integer()
    email = fields.String()
    name = fields.String()
    roles = fields.Function(lambda u: sorted(u.roles))
    units = fields.Method("_units")
    two_factor_enabled = fields.Boolean(attribute="totp_enabled")

    def _units(self, user: Any) -> list[dict[str, Any]]:
        return [
            {"id": m.unit.id, "name": m.unit.name, "is_manager": m.is_manager}
            for m in user.memberships
        ]


class UserFormSchema(StrictSchema):
    """The admin's user form (create and edit)."""

    email = fields.Email(required=True, validate=validate.Length(max=254))
    name = fields.String(required=True, validate=filled(120))
    roles = fields.List(fields.String(validate=validate.OneOf(ROLES)), required=True)
    units = fields.List(fields.Integer(), load_default=list)
    managed_units = fields.List(fields.Integer(), load_default=list)
    represented_units = fields.List(fields.Integer(), load_default=list)
    active = fields.Boolean(load_default=True)

    @validates("roles")
    def _some_role(self, value: list[str], **_kwargs: Any) -> None:
        if not value:
            raise ValidationError(str(_l("Choose at least one role.")))


class UnitFormSchema(StrictSchema):
    name = fields.String(required=True, validate=filled(120))
    parent_id = fields.Integer(load_default=None, allow_none=True)
    headcount = fields.Integer(load_default=0, validate=validate.Range(min=0, max=1_000_000))


class SetPasswordSchema(StrictSchema):
    """Choosing one's password with a set-password code."""

    email = fields.String(required=True, validate=filled(254))
    code = fields.String(required=True, validate=filled(64))
    new_password = fields.String(required=True, validate=filled(1024))


class PasswordChangeSchema(StrictSchema):
    current_password = fields.String(required=True, validate=validate.Length(max=1024))
    new_password = fields.String(required=True, validate=filled(1024))
