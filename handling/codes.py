"""Case handling's coded values with nb/en labels (DOMAIN.md, "The case").

Codes are stable identifiers in the database, the JSON API and statistics; labels are
translated at render time. The workflow states and their transitions live in
handling/workflow.py.
"""

from __future__ import annotations

from handling.states import Track
from reporting.codes import Codes
from trygg.i18n import lazy_gettext as _l

TRACKS: Codes = {
    Track.HMS_DEVIATION: _l("HSE deviation"),
    Track.WHISTLEBLOWING: _l("Whistleblowing"),
    Track.HR_MATTER: _l("HR matter"),
}

# Who a case export goes to (retention/exports). Where the reporter's identity is
# protected (a varsel, a confidential report), they are named only to the kinds of
# recipient they agreed to (IdentityConsent).
EXPORT_RECIPIENTS: Codes = {
    "police": _l("The police"),
    "labour_inspection": _l("The Labour Inspection Authority (Arbeidstilsynet)"),
    "nav": _l("NAV (injury report)"),
    "other_authority": _l("Another authority"),
}

DEADLINE_KINDS: Codes = {
    "acknowledge": _l("Acknowledge the report"),
    "leader_contact": _l("Leader contacts the exposed employee"),
    "individual_talk": _l("Individual talk and offer of occupational health service"),
    "learning_review": _l("Learning review or debriefing"),
    "section_5_2_notice": _l("Notify the Labour Inspection Authority and the police"),
    "investigation": _l("Investigate the matter"),
    "reporter_feedback": _l("Feedback to the reporter"),
    "recontact": _l("Contact the exposed employee again"),
}

# How a deadline policy's duration is counted (see service.add_duration).
DURATION_UNITS: Codes = {
    "same_day": _l("By the end of the same day, but never less than 3 hours"),
    "hours": _l("Hours"),
    "days": _l("Days"),
    "weeks": _l("Weeks"),
    "months": _l("Months"),
}

DEADLINE_STATUSES: Codes = {
    "overdue": _l("Overdue"),
    "due_soon": _l("Due within 24 hours"),
    "ok": _l("On time"),
}

TASK_TEMPLATES: Codes = {
    "leader_contact": _l("Leader contacts the exposed employee"),
    "bht_offer": _l("Offer of occupational health service (BHT)"),
    "individual_talk": _l("Individual talk"),
    "psychological_first_aid": _l("Psychological first aid"),
    "learning_review": _l("Learning review"),
    "workplace_adjustment": _l("Workplace adjustment"),
    "recontact": _l("Contact again after 2–4 weeks"),
}

TASK_STATUSES: Codes = {
    "open": _l("Not done"),
    "done": _l("Done"),
    "cancelled": _l("Not needed"),
}

PARTICIPANT_ROLES: Codes = {
    "exposed_employee": _l("Exposed employee"),
    "leader": _l("Leader"),
    "safety_rep": _l("Safety representative"),
    "bht": _l("Occupational health service"),
    "colleague": _l("Colleague"),
    "case_handler": _l("Case handler"),
    "union_rep": _l("Union representative"),
    "other": _l("Other"),
}

SUPPORT_OFFERED: Codes = {
    "psychological_first_aid": _l("Psychological first aid"),
    "bht": _l("Occupational health service"),
    "individual_talk": _l("Individual talk"),
    "workplace_adjustment": _l("Workplace adjustment"),
    "time_off": _l("Time off or changed shifts"),
    "peer_support": _l("Peer support"),
    "none_wanted": _l("No support wanted"),
}

FORWARD_TARGETS: Codes = {
    "police": _l("The police"),
    "labour_inspection": _l("The Labour Inspection Authority"),
}

ROUTING_WARNINGS: Codes = {
    "fallback": _l(
        "No one in the routed group could take the case (it has no members, or every member "
        "has a conflict of interest); the case went to the fallback group."
    ),
    "no_group": _l("No routing rule or default group matched; set up routing."),
    "no_handler": _l("No case handler without a conflict of interest is available."),
}

EVENT_KINDS: Codes = {
    "opened": _l("Case opened"),
    "routed": _l("Routed to a handler group"),
    "transition": _l("State changed"),
    "track_changed": _l("Track changed"),
    "assigned": _l("Case handler assigned"),
    "recused": _l("A case handler recused"),
    "task_added": _l("Follow-up task added"),
    "task_updated": _l("Follow-up task updated"),
    "debriefing": _l("Debriefing recorded"),
    "section52": _l("Section 5-2 checklist updated"),
    "message": _l("Message"),
    "attachments_added": _l("Files added by the reporter"),
    "deadline_met": _l("Step done"),
    "granted": _l("Access given"),
    "identity_consent": _l("The reporter's consent to be named"),
    "identity_consent_asked": _l("The reporter was asked to agree to be named"),
    "identity_consent_refused": _l("The reporter did not agree to be named"),
}
