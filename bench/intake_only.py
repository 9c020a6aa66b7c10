"""Trygg with case opening switched off, only to price it: `python -m bench --intake-only`.

A report stored this way has no case: never serve it. The receiver of
`report_submitted` (handling's, connected in trygg/app.py) is disconnected, so the
submission is the intake alone: session, CSRF, validation, sealing, the report, its
reference and its audit entry.
"""

from __future__ import annotations

from handling import setup as handling_setup
from trygg import signals
from trygg.app import create_app

app = create_app()
signals.report_submitted.disconnect(handling_setup.on_report_submitted)
