"""The index statistics need on reports (risk declares it; the report table is reporting's).

Trends count reports per month, unit and anonymity, and join incident types to reports
by id: with these four columns in one index, PostgreSQL answers both from the index
alone (an index-only scan) instead of reading every report row with its sealed fields.
"""

from __future__ import annotations

from sqlalchemy import Index

from reporting.models import Report

TRENDS_INDEX = Index(
    "ix_report_trends",
    Report.occurred_month,
    Report.unit_id,
    Report.channel_kind,
    Report.id,
)
