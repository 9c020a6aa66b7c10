"""PDF documents (fpdf2) with the vendored DejaVu Sans, for any package's printouts.

The font is embedded (as a subset), so Norwegian letters and anything else a user wrote
come out right. A document's metadata carries no content: only the creator's name and
the creation time fpdf2 sets. Packages lay out their own content with the helpers
below (a title, headings, label/value lines, tables with text in every cell).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import FontFace

FONTS = Path(__file__).resolve().parent / "static" / "vendor" / "dejavu"
FONT = "DejaVu"


class Document(FPDF):
    """An A4 page with DejaVu Sans; `footer_text` (if set) and the page number at the
    foot of every page."""

    footer_text: str = ""

    def footer(self) -> None:
        if not self.footer_text:
            return
        self.set_y(-12)
        self.set_font(FONT, "", 8)
        self.cell(0, 5, f"{self.footer_text} · {self.page_no()}/{{nb}}", align="C")


def new_document(footer_text: str = "") -> Document:
    """A new document with the fonts registered and its first page added."""
    pdf = Document(format="A4")
    pdf.add_font(FONT, "", str(FONTS / "DejaVuSans.ttf"))
    pdf.add_font(FONT, "B", str(FONTS / "DejaVuSans-Bold.ttf"))
    pdf.set_creator("Trygg")
    pdf.footer_text = footer_text
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    return pdf


def title(pdf: FPDF, text: str) -> None:
    pdf.set_font(FONT, "B", 16)
    pdf.multi_cell(0, 9, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT, "", 10)


def heading(pdf: FPDF, text: str) -> None:
    pdf.ln(3)
    pdf.set_font(FONT, "B", 12)
    pdf.multi_cell(0, 7, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT, "", 10)


def fact(pdf: FPDF, label: str, value: str) -> None:
    """A label in bold and its value on one line (wrapped if long)."""
    pdf.set_font(FONT, "B", 10)
    pdf.write(5, f"{label}: ")
    pdf.set_font(FONT, "", 10)
    pdf.write(5, value)
    pdf.ln(6)


def table(
    pdf: FPDF,
    headings: Sequence[str],
    rows: Sequence[Sequence[str]],
    widths: Sequence[float] | None = None,
    fills: Sequence[Sequence[str | None]] | None = None,
) -> None:
    """A table with a repeated heading row; `fills` gives a cell's background (#rrggbb)
    beside its text, never instead of it."""
    pdf.set_font(FONT, "", 9)
    with pdf.table(
        col_widths=tuple(widths) if widths else None,
        text_align="LEFT",
        line_height=5,
        first_row_as_headings=True,
        repeat_headings=1,
    ) as t:
        head = t.row()
        for text in headings:
            head.cell(text)
        for n, values in enumerate(rows):
            row = t.row()
            for m, text in enumerate(values):
                colour = fills[n][m] if fills else None
                row.cell(text, style=FontFace(fill_color=colour) if colour else None)
    pdf.set_font(FONT, "", 10)
