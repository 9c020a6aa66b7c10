"""A case export as PDF (fpdf2): the JSON document laid out for reading and printing.

The vendored DejaVu Sans is embedded (as a subset), so Norwegian letters and anything
else a reporter wrote come out right. The metadata carries no case text: only the
creator's name and the creation time fpdf2 sets.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask_babel import gettext as _
from fpdf import FPDF
from fpdf.enums import XPos, YPos

from retention.exports.document import REASONS, RECIPIENTS, SECTIONS

FONTS = Path(__file__).resolve().parents[2] / "trygg" / "static" / "vendor" / "dejavu"


def _pdf() -> FPDF:
    pdf = FPDF(format="A4")
    pdf.add_font("DejaVu", "", str(FONTS / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(FONTS / "DejaVuSans-Bold.ttf"))
    pdf.set_creator("Trygg")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    return pdf


def _heading(pdf: FPDF, text: str) -> None:
    pdf.ln(3)
    pdf.set_font("DejaVu", "B", 12)
    pdf.multi_cell(0, 7, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("DejaVu", "", 10)


def _line(pdf: FPDF, label: str, value: Any) -> None:
    if value is None or value == "" or value == []:
        return
    if isinstance(value, list):
        value = ", ".join(str(v) for v in value)
    elif isinstance(value, bool):
        value = _("Yes") if value else _("No")
    pdf.set_font("DejaVu", "B", 10)
    pdf.multi_cell(0, 5, label, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("DejaVu", "", 10)
    pdf.multi_cell(0, 5, str(value), new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _rows(pdf: FPDF, title: str, rows: list[dict[str, Any]]) -> None:
    _heading(pdf, title)
    for row in rows:
        for key, value in row.items():
            _line(pdf, key, value)
        pdf.ln(2)


def render(doc: dict[str, Any]) -> bytes:
    """The PDF of an export document (see document.build)."""
    pdf = _pdf()
    pdf.set_font("DejaVu", "B", 16)
    pdf.multi_cell(
        0,
        9,
        _("Case %(reference)s", reference=doc["reference"]),
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )
    pdf.set_font("DejaVu", "", 10)
    _line(pdf, _("Exported"), doc["exported_at"])
    _line(pdf, _("Recipient"), str(RECIPIENTS.get(doc["recipient"], doc["recipient"])))
    _line(pdf, _("Reason"), str(REASONS.get(doc["reason"], doc["reason"])))
    _heading(pdf, _("Classification"))
    for key, value in doc["classification"].items():
        _line(pdf, key, value)
    if "report" in doc:
        _heading(pdf, str(SECTIONS["report"]))
        for key, value in doc["report"].items():
            _line(pdf, key, value)
    if "people" in doc:
        _heading(pdf, str(SECTIONS["people"]))
        for key, value in doc["people"].items():
            _line(pdf, key, value)
    if "reporter" in doc:
        _heading(pdf, str(SECTIONS["reporter"]))
        _line(pdf, "name", doc["reporter"].get("name"))
    for key, section in (("timeline", "timeline"), ("messages", "messages")):
        if key in doc:
            _rows(pdf, str(SECTIONS[section]), doc[key])
    if "tasks" in doc:
        _rows(pdf, str(SECTIONS["follow_up"]), doc["tasks"] + doc["debriefings"])
    if "closing" in doc:
        _heading(pdf, str(SECTIONS["closing"]))
        for key, value in doc["closing"].items():
            _line(pdf, key, value)
    return bytes(pdf.output())


def _nested(pdf: FPDF, label: str, value: Any) -> None:
    if isinstance(value, dict):
        _heading(pdf, label)
        for key, item in value.items():
            _nested(pdf, key, item)
    elif isinstance(value, list) and value and isinstance(value[0], dict):
        _heading(pdf, label)
        for index, item in enumerate(value, 1):
            _nested(pdf, f"{label} {index}", item)
    else:
        _line(pdf, label, value)


def render_access(doc: dict[str, Any]) -> bytes:
    """The PDF of a person's access download (see access.build)."""
    pdf = _pdf()
    pdf.set_font("DejaVu", "B", 16)
    pdf.multi_cell(0, 9, _("What Trygg stores about you"), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("DejaVu", "", 10)
    _line(pdf, _("Exported"), doc["exported_at"])
    _nested(pdf, _("Account"), doc["account"])
    if "note" in doc:
        _line(pdf, _("Note"), doc["note"])
    else:
        _nested(pdf, _("Your reports"), doc["reports"])
        _nested(
            pdf, _("Cases where you are named as the exposed employee"), doc["named_as_exposed"]
        )
    return bytes(pdf.output())
