"""After the kills (bench/crash.py): what must hold of the database, attempt by attempt.

- Every acknowledged attempt (2xx) is a whole report: its reference, narrative, incident
  types and every file (name and content, decrypted), its case with deadlines, and its
  `report.submit` audit entry.
- Every attempt answered with an error left nothing. Every attempt cut off by a kill
  left nothing, or (the kill fell after the commit, before the answer reached the
  client) a report that is whole by the same test.
- Nothing else: no report of no attempt, no row without its parent, no stand-in
  reference, no audit entry of a report that is not there, references AVV-year-1..N
  without a gap (the counter at N, so the next report takes N+1), `trygg audit verify`
  passing; on SQLite, `PRAGMA integrity_check` and `foreign_key_check` clean.
"""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from flask import Flask
from sqlalchemy import func, select, text

from handling.models import Case, Deadline
from reporting import service as reporting
from reporting.models import AttachmentChunk, ReferenceCounter, Report
from trygg.audit import AuditEntry
from trygg.extensions import db

MARKER = re.compile(r"crash-attempt ([0-9a-f]{32})")
REFERENCE = re.compile(r"AVV-\d{4}-(\d+)")
INCIDENT_TYPES = ["physical_violence", "threat"]


@dataclass
class Attempt:
    """One submission a client made, and what it got back."""

    marker: str
    files: list[tuple[str, bytes]]
    status: int | None = None
    error: str | None = None
    report_id: int | None = None
    reference: str | None = None

    @property
    def narrative(self) -> str:
        return f"Pasienten truet meg under stell. crash-attempt {self.marker}"

    @property
    def acknowledged(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@dataclass
class Verdict:
    problems: list[str] = field(default_factory=list)
    attempts: int = 0
    acknowledged: int = 0
    broken: int = 0
    refused: int = 0
    stored_unanswered: int = 0
    reports: int = 0


def _whole(report: Report, attempt: Attempt) -> list[str]:
    """What is missing or wrong in a stored report, against what was sent."""
    problems = []
    where = f"report {report.id} ({attempt.marker[:8]})"
    if attempt.reference is not None and report.reference != attempt.reference:
        problems.append(f"{where}: reference {report.reference}, answered {attempt.reference}")
    if report.incident_types != INCIDENT_TYPES:
        problems.append(f"{where}: incident types {report.incident_types}")
    sent = sorted(attempt.files)
    stored = sorted(
        (
            reporting.attachment_name(report, a),
            b"".join(reporting.attachment_stream(report, a)),
        )
        for a in report.attachments
    )
    if stored != sent:
        problems.append(f"{where}: files {[n for n, _ in stored]}, sent {[n for n, _ in sent]}")
    case = db.session.scalar(select(Case).where(Case.report_id == report.id))
    if case is None:
        problems.append(f"{where}: no case")
    elif not db.session.scalar(select(func.count()).where(Deadline.case_id == case.id)):
        problems.append(f"{where}: case {case.id} has no deadlines")
    submitted = db.session.scalar(
        select(func.count()).where(
            AuditEntry.action == "report.submit", AuditEntry.object_id == str(report.id)
        )
    )
    if submitted != 1:
        problems.append(f"{where}: {submitted} report.submit audit entries")
    return problems


ORPHANS = {
    "attachment without report": "SELECT count(*) FROM attachment a"
    " WHERE NOT EXISTS (SELECT 1 FROM report r WHERE r.id = a.report_id)",
    "chunk without attachment": "SELECT count(*) FROM attachment_chunk c"
    " WHERE NOT EXISTS (SELECT 1 FROM attachment a WHERE a.id = c.attachment_id)",
    "attachment without chunks": "SELECT count(*) FROM attachment a"
    " WHERE NOT EXISTS (SELECT 1 FROM attachment_chunk c WHERE c.attachment_id = a.id)",
    "incident type without report": "SELECT count(*) FROM report_incident_type t"
    " WHERE NOT EXISTS (SELECT 1 FROM report r WHERE r.id = t.report_id)",
    "report without case": "SELECT count(*) FROM report r"
    ' WHERE NOT EXISTS (SELECT 1 FROM "case" c WHERE c.report_id = r.id)',
    "case without report": 'SELECT count(*) FROM "case" c'
    " WHERE NOT EXISTS (SELECT 1 FROM report r WHERE r.id = c.report_id)",
    "deadline without case": "SELECT count(*) FROM deadline d"
    ' WHERE NOT EXISTS (SELECT 1 FROM "case" c WHERE c.id = d.case_id)',
    "event without case": "SELECT count(*) FROM case_event e"
    ' WHERE NOT EXISTS (SELECT 1 FROM "case" c WHERE c.id = e.case_id)',
    "report with a stand-in reference": "SELECT count(*) FROM report"
    " WHERE reference LIKE 'pending-%'",
}


def _leftovers() -> list[str]:
    problems = [
        f"{count} {name}"
        for name, sql in ORPHANS.items()
        if (count := db.session.execute(text(sql)).scalar_one())
    ]
    report_ids = {str(i) for i in db.session.scalars(select(Report.id))}
    audited = {
        oid
        for oid in db.session.scalars(
            select(AuditEntry.object_id).where(AuditEntry.action == "report.submit")
        )
        if oid is not None
    }
    if audited - report_ids:
        problems.append(
            f"report.submit entries of reports not there: {sorted(audited - report_ids)}"
        )
    chunks = db.session.execute(
        select(AttachmentChunk.attachment_id, func.count(), func.max(AttachmentChunk.seq)).group_by(
            AttachmentChunk.attachment_id
        )
    ).all()
    problems += [f"attachment {a}: chunks not 0..n-1" for a, n, top in chunks if top != n - 1]
    return problems


def _references() -> list[str]:
    taken = [REFERENCE.fullmatch(r) for r in db.session.scalars(select(Report.reference))]
    numbers = sorted(int(m.group(1)) for m in taken if m)  # stand-ins are counted apart
    problems = []
    if numbers != list(range(1, len(numbers) + 1)):
        gaps = sorted(set(range(1, (numbers or [0])[-1] + 1)) - set(numbers))
        problems.append(f"references have gaps at {gaps[:10]} (or repeats)")
    counter = db.session.scalar(select(func.max(ReferenceCounter.value))) or 0
    if counter != len(numbers):
        problems.append(f"the reference counter is at {counter}, with {len(numbers)} reports")
    return problems


def _sqlite_integrity() -> list[str]:
    if db.engine.dialect.name != "sqlite":
        return []
    problems = []
    integrity = db.session.execute(text("PRAGMA integrity_check")).scalars().all()
    if integrity != ["ok"]:
        problems.append(f"integrity_check: {integrity[:5]}")
    if db.session.execute(text("PRAGMA foreign_key_check")).all():
        problems.append("foreign_key_check finds rows without their parent")
    return problems


def _audit_verify(env: dict[str, str], folder: Path) -> list[str]:
    trygg = Path(sys.executable).parent / "trygg"
    result = subprocess.run(  # noqa: S603 - our own console script, fixed arguments
        [str(trygg), "audit", "verify"], env=env, cwd=folder, capture_output=True, text=True
    )
    if result.returncode != 0:
        return [f"trygg audit verify: {result.stderr.strip() or result.stdout.strip()}"]
    return []


def _by_marker(verdict: Verdict) -> dict[str, Report]:
    stored: dict[str, Report] = {}
    for report in db.session.scalars(select(Report).order_by(Report.id)):
        narrative = reporting.open_report(report, actor="crash-check").fields["narrative"]
        match = MARKER.search(narrative)
        if match is None or match.group(1) in stored:
            verdict.problems.append(f"report {report.id} is no attempt's, or a second one's")
            continue
        stored[match.group(1)] = report
    return stored


def check(app: Flask, env: dict[str, str], attempts: list[Attempt], folder: Path) -> Verdict:
    """Check the database after a crash run; the verdict lists every problem found."""
    verdict = Verdict(attempts=len(attempts))
    with app.app_context():
        stored = _by_marker(verdict)
        verdict.reports = len(stored)
        for attempt in attempts:
            report = stored.pop(attempt.marker, None)
            if attempt.acknowledged:
                verdict.acknowledged += 1
                if report is None or report.id != attempt.report_id:
                    verdict.problems.append(f"acknowledged report {attempt.report_id} is gone")
                    continue
            elif attempt.status is not None:
                verdict.refused += 1
                if report is not None:
                    verdict.problems.append(f"refused attempt ({attempt.status}) was stored")
                continue
            else:
                verdict.broken += 1
                if report is None:
                    continue
                verdict.stored_unanswered += 1
            verdict.problems += _whole(report, attempt)
        verdict.problems += [f"report {r.id} of no attempt" for r in stored.values()]
        verdict.problems += _leftovers() + _references() + _sqlite_integrity()
        db.session.rollback()  # opening wrote case.read entries: not part of the proof
        db.engine.dispose()
    verdict.problems += _audit_verify(env, folder)
    return verdict
