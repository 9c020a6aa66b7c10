"""Case handling's shapes for the reporter: a named reporter's and an anonymous
reporter's messages and their case in plain words (`handling/api/reporter.py`, the
reporter's pages and the anonymous link's follow-up)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from handling.codes import EXPORT_RECIPIENTS
from handling.schemas import _text
from trygg.validation import Count, StrictSchema

# -- input ------------------------------------------------------------------------------


class ReporterMessageInSchema(StrictSchema):
    body = _text(required=True, min_length=1)


class IdentityConsentSchema(StrictSchema):
    """The kinds of recipient of an export that may learn who you are (all of them:
    one left out is withdrawn). Only where your identity is protected: a varsel, or a
    report you sent as confidential."""

    recipients = fields.List(
        fields.String(validate=validate.OneOf(sorted(EXPORT_RECIPIENTS))),
        load_default=list,
        validate=Count(max=len(EXPORT_RECIPIENTS)),
        metadata={"description": "Codes: " + ", ".join(sorted(EXPORT_RECIPIENTS))},
    )
    answering = fields.List(
        fields.String(validate=validate.OneOf(sorted(EXPORT_RECIPIENTS))),
        load_default=None,
        validate=Count(max=len(EXPORT_RECIPIENTS)),
        metadata={
            "description": "The case handler's questions (`asked`) this choice answers: one "
            "of them left out of `recipients` is a no. Without it, every question waiting."
        },
    )
    asked_until = fields.AwareDateTime(
        load_default=None,
        allow_none=True,
        metadata={
            "description": "The newest `asked_at` of the questions you were shown: a question "
            "asked again after it (once you had answered the earlier one) is not answered by "
            "this choice. Without it, the questions as they stand."
        },
    )


class AnonymousMessageInSchema(StrictSchema):
    """The anonymous reporter writes; `identity`: the text says who they are (final)."""

    body = _text(required=True, min_length=1)
    identity = fields.Boolean(load_default=False)


# -- output -----------------------------------------------------------------------------


class ReporterMessageOutSchema(Schema):
    id = fields.Integer()
    author_kind = fields.String()
    body = fields.String()
    created_at = fields.DateTime()


class ReporterCaseSchema(Schema):
    """The reporter's view: the state in plain words, feedback when closed, messages."""

    report_id = fields.Integer(attribute="report.id")
    reference = fields.String(attribute="report.reference")
    state = fields.String()
    state_text = fields.String()
    status = fields.String()
    feedback = fields.String(allow_none=True)
    messages = fields.List(fields.Nested(ReporterMessageOutSchema))


class ConsentGivenSchema(Schema):
    recipient = fields.String()
    given_at = fields.DateTime()


class ConsentAskedSchema(Schema):
    recipient = fields.String()
    asked_at = fields.DateTime()


class IdentityConsentOutSchema(Schema):
    """Whether your identity is protected in the case, and who you agreed may learn it."""

    protected = fields.Boolean(
        metadata={"description": "A varsel or a confidential report: named only with consent."}
    )
    consents = fields.List(fields.Nested(ConsentGivenSchema))
    asked = fields.List(
        fields.Nested(ConsentAskedSchema),
        metadata={
            "description": "What the case handler asked you to agree to and you have not "
            "answered: a PUT that leaves one out says no to it."
        },
    )


class AnonymousMessageOutSchema(Schema):
    """A message as the anonymous reporter sees it: who wrote it, and only the day."""

    author_kind = fields.String(metadata={"description": '"handler" or "reporter"'})
    body = fields.String()
    day = fields.Date(metadata={"description": "The day it was written (Oslo)."})
    identity = fields.Boolean(metadata={"description": "You said who you are in it."})


class AnonymousCaseSchema(Schema):
    """What the anonymous reporter sees of their report: its case in plain words."""

    reference = fields.String()
    status = fields.String()
    status_text = fields.String()
    state = fields.String()
    state_text = fields.String()
    feedback = fields.String(allow_none=True, metadata={"description": "When closed."})
    identity_revealed = fields.Boolean()
    messages = fields.List(fields.Nested(AnonymousMessageOutSchema))
