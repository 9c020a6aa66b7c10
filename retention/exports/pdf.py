"""A case export as PDF (fpdf2): the JSON document laid out for reading and printing.

The vendored DejaVu Sans is embedded (as a subset), so Norwegian letters and anything
else a reporter wrote come out right. The metadata carries no case text: only the
creator's name and the creation time fpdf2 sets.
"""

from __future__ import annotations

from typing import Any

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from retention.exports import labels
from retention.exports.document import REASONS, RECIPIENTS, SECTIONS
from trygg.i18n import gettext as _
from trygg.i18n import lazy_gettext as _l
from trygg.pdf import new_document


def _pdf() -> FPDF:
    return new_document()


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


def _field(pdf: FPDF, key: str, raw: Any) -> None:
    """One value of the document under its translated label, codes as their labels."""
    if key in ("exposed", "witnesses") and raw and isinstance(raw[0], dict):
        raw = [labels.person(p) for p in raw]
    _line(pdf, labels.field(key), labels.value(key, raw))


def _fields(pdf: FPDF, values: dict[str, Any], skip: tuple[str, ...] = ()) -> None:
    for key, raw in values.items():
        if key not in skip:
            _field(pdf, key, raw)


def _rows(pdf: FPDF, title: str, rows: list[dict[str, Any]]) -> None:
    _heading(pdf, title)
    for row in rows:
        _fields(pdf, row, skip=("codes",))
        pdf.ln(2)


def render(doc: dict[str, Any]) -> bytes:
    """The PDF of an export document (see document.build), in the request's language."""
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
    _line(pdf, _("Exported"), labels.value("exported_at", doc["exported_at"]))
    _line(pdf, _("Recipient"), str(RECIPIENTS.get(doc["recipient"], doc["recipient"])))
    _line(pdf, _("Reason"), str(REASONS.get(doc["reason"], doc["reason"])))
    _heading(pdf, _("Classification"))
    _fields(pdf, doc["classification"])
    for key in ("report", "people", "reporter"):
        if key in doc:
            _heading(pdf, str(SECTIONS[key]))
            _fields(pdf, doc[key])
    for key, section in (("timeline", "timeline"), ("messages", "messages")):
        if key in doc:
            _rows(pdf, str(SECTIONS[section]), doc[key])
    if "tasks" in doc:
        _rows(pdf, str(SECTIONS["follow_up"]), doc["tasks"] + doc["debriefings"])
    if "closing" in doc:
        _heading(pdf, str(SECTIONS["closing"]))
        _fields(pdf, doc["closing"])
    return bytes(pdf.output())


def _nested(pdf: FPDF, key: str, raw: Any, title: str | None = None) -> None:
    """A part of the access download: dicts as headed groups, lists of dicts numbered."""
    label = title or labels.field(key)
    if isinstance(raw, dict):
        _heading(pdf, label)
        for sub, item in raw.items():
            _nested(pdf, sub, item)
    elif (
        key not in ("exposed", "witnesses")
        and isinstance(raw, list)
        and raw
        and isinstance(raw[0], dict)
    ):
        _heading(pdf, label)
        for index, item in enumerate(raw, 1):
            _nested(pdf, key, item, title=_item_title(key, item, index))
    elif title is None:
        _field(pdf, key, raw)
    else:
        _line(pdf, label, labels.value(key, raw))


# One item of a list in the access download, when it has no reference of its own.
ITEM_TITLES = {
    "messages": _l("Message %(n)s"),
    "files": _l("File %(n)s"),
    "tasks": _l("Follow-up task %(n)s"),
    "debriefings": _l("Debriefing %(n)s"),
    "identity_consents": _l("Recipient %(n)s"),
}


def _item_title(key: str, item: dict[str, Any], index: int) -> str:
    """A report or case by its reference ("Report 2026-0042"), other items numbered."""
    if item.get("reference") and key == "reports":
        return _("Report %(reference)s", reference=item["reference"])
    if item.get("reference"):
        return _("Case %(reference)s", reference=item["reference"])
    title = ITEM_TITLES.get(key)
    return str(title % {"n": index}) if title else f"{labels.field(key)} {index}"


def render_access(doc: dict[str, Any]) -> bytes:
    """The PDF of a person's access download (see access.build), in the request's language."""
    pdf = _pdf()
    pdf.set_font("DejaVu", "B", 16)
    pdf.multi_cell(0, 9, _("What Trygg stores about you"), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("DejaVu", "", 10)
    _line(pdf, _("Exported"), labels.value("exported_at", doc["exported_at"]))
    _nested(pdf, "account", doc["account"], title=_("Account"))
    if "note" in doc:
        _line(pdf, _("Note"), doc["note"])
    else:
        _nested(pdf, "reports", doc["reports"], title=_("Your reports"))
        _nested(
            pdf,
            "named_as_exposed",
            doc["named_as_exposed"],
            title=_("Cases where you are named as the exposed employee"),
        )
    return bytes(pdf.output())
