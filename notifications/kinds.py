"""What can be notified, in words that carry no content.

Each kind's subject and sentence say only what sort of thing happened, never which case,
who, which unit or what type of incident, and a varsel reads exactly like an HMS-avvik.
"""

from __future__ import annotations

from enum import StrEnum

from flask_babel import LazyString

from trygg.i18n import lazy_gettext as _l


class Kind(StrEnum):
    CASE_NEW = "case_new"
    CASE_ASSIGNED = "case_assigned"
    CASE_MESSAGE = "case_message"
    REPORT_UPDATE = "report_update"
    TASK_ASSIGNED = "task_assigned"
    TASK_DUE = "task_due"
    DEADLINE_REMINDER = "deadline_reminder"
    DEADLINE_ESCALATION = "deadline_escalation"
    SECTION_5_2 = "section_5_2"
    RISK_REVIEW = "risk_review"
    RISK_PARTICIPATION = "risk_participation"
    RISK_COMMENT = "risk_comment"
    MEASURE_DUE = "measure_due"
    RETENTION_WARNING = "retention_warning"
    ACCESS_CHANGE = "access_change"
    PASSWORD_CODE = "password_code"  # noqa: S105 - the name of a kind, not a password


class Delivery(StrEnum):
    IMMEDIATE = "immediate"
    DIGEST = "digest"
    OFF = "off"


class MailState(StrEnum):
    PENDING = "pending"
    DIGEST = "digest"
    SENT = "sent"
    FAILED = "failed"
    SKIPPED = "skipped"
    WITHDRAWN = "withdrawn"


# Shown on the preferences page, in the in-app list and as the e-mail's subject.
LABELS: dict[str, LazyString] = {
    Kind.CASE_NEW: _l("A new case"),
    Kind.CASE_ASSIGNED: _l("A case was assigned to you"),
    Kind.CASE_MESSAGE: _l("New information from a reporter"),
    Kind.REPORT_UPDATE: _l("News about a report you sent"),
    Kind.TASK_ASSIGNED: _l("A follow-up task was given to you"),
    Kind.TASK_DUE: _l("A follow-up task is due"),
    Kind.DEADLINE_REMINDER: _l("A deadline is coming up"),
    Kind.DEADLINE_ESCALATION: _l("A deadline has passed"),
    Kind.SECTION_5_2: _l("Notice to the Labour Inspection Authority and the police is due"),
    Kind.RISK_REVIEW: _l("A risk assessment should be looked at again"),
    Kind.RISK_PARTICIPATION: _l("A risk assessment waits for your comments or statement"),
    Kind.RISK_COMMENT: _l("A comment or statement on a risk assessment you own"),
    Kind.MEASURE_DUE: _l("A measure in an action plan is due"),
    Kind.RETENTION_WARNING: _l("A case will be deleted within 30 days"),
    Kind.ACCESS_CHANGE: _l("Access to cases was widened"),
    Kind.PASSWORD_CODE: _l("Your set-password code"),
}

# The e-mail's one sentence (and the in-app list's).
SENTENCES: dict[str, LazyString] = {
    Kind.CASE_NEW: _l("A new case has arrived in a group you handle cases for."),
    Kind.CASE_ASSIGNED: _l("A case has been assigned to you."),
    Kind.CASE_MESSAGE: _l("A reporter has written a message or added information to a case."),
    Kind.REPORT_UPDATE: _l(
        "There is news about a report you sent: a message or feedback from the case handler."
    ),
    Kind.TASK_ASSIGNED: _l(
        "You have been made responsible for a follow-up task. My tasks says what to do and by when."
    ),
    Kind.TASK_DUE: _l(
        "A follow-up task is due soon or overdue: one you are responsible for, or one on a "
        "case you handle whose responsible person can no longer see the case."
    ),
    Kind.DEADLINE_REMINDER: _l("A deadline on a case you handle is coming up."),
    Kind.DEADLINE_ESCALATION: _l(
        "A deadline on a case has passed without the step being recorded."
    ),
    Kind.SECTION_5_2: _l(
        "A case concerns a serious injury: notice to the Labour Inspection Authority "
        "(Arbeidstilsynet) and the police is due as soon as possible."
    ),
    Kind.RISK_REVIEW: _l(
        "A risk assessment you own has a new reason to be assessed again; the page says why."
    ),
    Kind.RISK_PARTICIPATION: _l(
        "A risk assessment you take part in as safety representative or in the working "
        "environment committee has been sent for review or approved. Read it and comment; "
        "on an approved version you can give your statement."
    ),
    Kind.RISK_COMMENT: _l(
        "A safety representative, the working environment committee or a leader has "
        "commented on a risk assessment you own, or given their statement on it."
    ),
    Kind.MEASURE_DUE: _l("A measure you are responsible for is due soon or overdue."),
    Kind.RETENTION_WARNING: _l(
        "A case you handle will be deleted under the retention policy within 30 days, "
        "unless a legal hold is placed on it."
    ),
    Kind.ACCESS_CHANGE: _l(
        "Someone was given access to cases you handle, or an account that reads cases was "
        "reset. See the list of access changes."
    ),
    Kind.PASSWORD_CODE: _l(
        "Your password was reset by an administrator. Choose a new one with the code below "
        "and your e-mail address; then set up two-factor authentication again."
    ),
}

# Always e-mailed at once, whatever the preferences: the code reaches no one else.
ALWAYS_MAILED = frozenset({Kind.PASSWORD_CODE})

# Kinds that go in the daily digest unless the user chose otherwise.
DIGEST_BY_DEFAULT = frozenset({Kind.RETENTION_WARNING})

# Kinds that opening from the list does not mark read: the page they lead to shows what
# is unread (news about one's report: "My reports" marks the report it is about, which
# the notification cannot name), and reading it there marks them read.
READ_WHERE_SHOWN = frozenset({Kind.REPORT_UPDATE})

# Handlers on duty (handler role, not away) always get these at once: they cannot be
# turned off or put in a digest.
MANDATORY_FOR_HANDLERS = frozenset({Kind.CASE_NEW, Kind.DEADLINE_ESCALATION, Kind.SECTION_5_2})

# Default reminder lead times per deadline kind, in minutes (the 0009 migration seeds the
# same rows). About a sixth of each default deadline, at least an hour.
DEFAULT_LEAD_MINUTES: dict[str, int] = {
    "acknowledge": 24 * 60,  # 7 days → a day before
    "leader_contact": 60,  # same day / 3 hours → an hour before
    "individual_talk": 12 * 60,  # 72 hours → 12 hours before
    "learning_review": 12 * 60,  # 72 hours → 12 hours before
    "section_5_2_notice": 60,  # same day → an hour before (and § 5-2 is told at once)
    "investigation": 7 * 24 * 60,  # 6 weeks → a week before
    "reporter_feedback": 14 * 24 * 60,  # 3 months → two weeks before
    "recontact": 2 * 24 * 60,  # 4 weeks → two days before
}
# For a deadline kind without a policy row.
FALLBACK_LEAD_MINUTES = 24 * 60
