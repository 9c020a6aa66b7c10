"""An export document as a download: the JSON itself, or its PDF (never cached).

The PDF layout (retention.exports.pdf) is imported by the two renderers below when a PDF
is asked for, not with the views: fpdf2 brings numpy and fontTools (about 35 MB), and a
web worker rarely renders a PDF (issue 17, memory per worker).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Response, jsonify


def case_pdf(doc: dict[str, Any]) -> bytes:
    """A case export (`document.build`) as PDF."""
    from retention.exports import pdf

    return pdf.render(doc)


def access_pdf(doc: dict[str, Any]) -> bytes:
    """A person's data (`access.build`) as PDF."""
    from retention.exports import pdf

    return pdf.render_access(doc)


def download(
    doc: dict[str, Any], form: str, name: str, render: Callable[[dict[str, Any]], bytes]
) -> Response:
    """`doc` as `name.json`, or rendered by `render` as `name.pdf`."""
    headers = {
        "Content-Disposition": f'attachment; filename="{name}.{form}"',
        "Cache-Control": "no-store",
    }
    if form == "json":
        response = jsonify(doc)
        response.headers.update(headers)
        return response
    return Response(render(doc), mimetype="application/pdf", headers=headers)
