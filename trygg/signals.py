"""Signals between domain packages.

`report_submitted` is the one indirect step in the flow (ARCHITECTURE.md): reporting
sends it after storing a report, inside the request's transaction, with the Report as
sender and `actor` (an audit label) as keyword. handling's receiver opens the case, its
deadlines and its outbox rows in that same transaction, so either all of them exist or
none. The report's fields are stored when it is sent; its reference number is taken
just after (the counter's lock serialises submissions, so it is held as briefly as
possible), so receivers must not rely on `report.reference`. reporting never imports
handling; receivers are connected in trygg/app.py.
"""

from blinker import Namespace

_signals = Namespace()

report_submitted = _signals.signal("report-submitted")

# Sent by trygg.access_changes.record after an entry is written (in the same
# transaction), with the AccessChange as sender: handling tells the affected group's
# handlers through notifications (connected in trygg/app.py).
access_changed = _signals.signal("access-changed")

# Sent by trygg.accounts when a set-password code for an account that reads case
# content is to go to the account's own address, with the User as sender: the
# notifications package writes the (always e-mailed) row (connected in trygg/app.py).
password_code_mailed = _signals.signal("password-code-mailed")

# Asked by trygg.accounts before an admin resets an account, with the User as sender:
# each receiver returns True when the account is shown something of a case without
# holding a case-reading role (handling: the person responsible for a follow-up task
# sees the case's reference and, for a contact task, the exposed employee's name).
# Such an account is reset as a case reader is: the code goes to its own address.
shown_case_details = _signals.signal("shown-case-details")
