"""The report's coded values (DOMAIN.md, "The incident report") with nb/en labels.

Codes are stable identifiers used in the database, the JSON API and statistics; labels
are translated at render time.
"""

from __future__ import annotations

from enum import StrEnum

from flask_babel import LazyString

from trygg.i18n import lazy_gettext as _l

Codes = dict[str, LazyString]

INCIDENT_TYPES: Codes = {
    "physical_violence": _l("Physical violence"),
    "threat": _l("Threat"),
    "verbal_abuse": _l("Verbal abuse"),
    "sexual_harassment": _l("Sexual harassment"),
    "sexual_violence": _l("Sexual violence"),
    "bullying": _l("Bullying"),
    "discriminatory_harassment": _l("Harassment on discriminatory grounds"),
    "other_improper_conduct": _l("Other improper conduct"),
    "threatening_behaviour": _l("Threatening behaviour"),
    "damage": _l("Damage or acting out"),
    "online_abuse": _l("Online abuse"),
}

# Types that count as violence or threats (follow-up and debriefing duties apply).
VIOLENCE_AND_THREATS = frozenset(
    {"physical_violence", "threat", "sexual_violence", "threatening_behaviour", "damage"}
)
# Types that count as harassment (investigation, often a whistleblowing case).
HARASSMENT = frozenset(
    {"sexual_harassment", "bullying", "discriminatory_harassment", "other_improper_conduct"}
)

PLACE_TYPES: Codes = {
    "front_desk": _l("Front desk or reception"),
    "home_visit": _l("Home visit"),
    "patient_room": _l("Patient or resident room"),
    "classroom": _l("Classroom or schoolyard"),
    "interview_room": _l("Interview room"),
    "outdoors": _l("Outdoors"),
    "vehicle": _l("Vehicle"),
    "digital": _l("Digital or phone"),
    "other": _l("Other place"),
}

CHANNELS: Codes = {
    "face_to_face": _l("Face to face"),
    "phone": _l("Phone"),
    "email_message": _l("E-mail or message"),
    "social_media": _l("Social media"),
    "letter": _l("Letter"),
}

COUNTERPARTS: Codes = {
    "patient": _l("Patient"),
    "client": _l("User or client"),
    "pupil": _l("Pupil or child"),
    "relative": _l("Relative or guardian"),
    "customer": _l("Customer or member of the public"),
    "colleague": _l("Colleague"),
    "leader": _l("Leader"),
    "contractor": _l("Hired staff or supplier"),
    "unknown": _l("Unknown"),
    "other_third_party": _l("Other third party"),
}

ACTIVITIES: Codes = {
    "care": _l("Care or nursing"),
    "limit_setting": _l("Setting limits or refusing a request"),
    "coercion": _l("Coercion or shielding"),
    "teaching": _l("Teaching"),
    "casework": _l("Decision or casework"),
    "other": _l("Other activity"),
}

SEVERITIES: dict[int, LazyString] = {
    1: _l("1 Low: no injury"),
    2: _l("2 Moderate: passing harm, no absence"),
    3: _l("3 Serious: needed treatment or led to absence"),
    4: _l("4 Very serious: serious injury or death"),
}

# The same, short, where a list has many rows (the queue); the case page gives the above.
SEVERITY_SHORT: dict[int, LazyString] = {
    1: _l("1 Low"),
    2: _l("2 Moderate"),
    3: _l("3 Serious"),
    4: _l("4 Very serious"),
}

# "Serious injury or death": the employer must notify the authorities (arbeidsmiljøloven
# § 5-2). Report.requires_section_5_2 is the one place that applies it.
SEVERITY_SERIOUS_INJURY = 4

SEVERITY_HELP: dict[int, LazyString] = {
    1: _l("Nobody was hurt, but it was unpleasant or frightening."),
    2: _l("Someone was shaken or slightly hurt, and could keep working."),
    3: _l("Someone needed treatment by a doctor, or time off work."),
    4: _l("Someone was seriously injured or died. The employer must notify the authorities."),
}

INJURY_LEVELS: Codes = {
    "none": _l("No injury"),
    "first_aid": _l("First aid"),
    "doctor": _l("Doctor or emergency clinic"),
    "hospital": _l("Hospital"),
    "death": _l("Death"),
}

SICK_LEAVE: Codes = {
    "none": _l("No sick leave"),
    "self_certified": _l("Self-certified sick leave"),
    "doctor_certified": _l("Sick leave from a doctor"),
}

POLICE_REPORT: Codes = {
    "no": _l("Not reported to the police"),
    "employer": _l("Reported by the employer"),
    "employee": _l("Reported by the employee"),
    "considering": _l("Being considered"),
}

IMMEDIATE_MEASURES: Codes = {
    "first_aid": _l("First aid given"),
    "emergency_112": _l("Called 112"),
    "interrupted": _l("The situation was interrupted"),
    "perpetrator_removed": _l("The person was sent away"),
    "other": _l("Other measure"),
}

CAUSES: Codes = {
    "staffing": _l("Staffing"),
    "lone_work": _l("Working alone"),
    "premises": _l("Premises"),
    "competence": _l("Competence or training"),
    "waiting_time": _l("Waiting time"),
    "organisation": _l("How the work is organised"),
    "communication": _l("Information or communication"),
    "other": _l("Other cause"),
}

TIME_BANDS: Codes = {
    "day": _l("Day (07–15)"),
    "evening": _l("Evening (15–23)"),
    "night": _l("Night (23–07)"),
}


# How a confidential or anonymous reporter appears in the audit log and on a case's
# timeline: never as a user id (the log is not sealed).
REPORTER_ACTOR = "reporter"


class Channel(StrEnum):
    """How a report came in (Report.channel_kind)."""

    EMPLOYEE = "employee"
    ANONYMOUS = "anonymous"


class ReportStatus(StrEnum):
    """What the reporter's "My reports" says about a report (Report.status); handling
    keeps it in step with the case (handling.workflow.REPORTER_STATUS)."""

    SUBMITTED = "submitted"
    ACKNOWLEDGED = "acknowledged"
    IN_PROGRESS = "in_progress"
    CLOSED = "closed"
    DROPPED = "dropped"
    FORWARDED = "forwarded"


STATUSES: Codes = {
    ReportStatus.SUBMITTED: _l("Received, waiting to be handled"),
    ReportStatus.ACKNOWLEDGED: _l("Received and acknowledged by a case handler"),
    ReportStatus.IN_PROGRESS: _l("Being handled"),
    ReportStatus.CLOSED: _l("Closed"),
    ReportStatus.DROPPED: _l("Closed without further action"),
    ReportStatus.FORWARDED: _l("Forwarded to the police or the Labour Inspection Authority"),
}


def label(codes: Codes, code: str | None) -> str:
    """The translated label of a code, or the code itself if unknown."""
    if code is None:
        return ""
    found = codes.get(code)
    return str(found) if found is not None else code


def choices(codes: Codes) -> list[tuple[str, str]]:
    """(code, translated label) pairs for a form, in definition order."""
    return [(code, str(text)) for code, text in codes.items()]
