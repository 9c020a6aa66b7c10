"""An export document as a download: the JSON itself, or its PDF (never cached)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Response, jsonify


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
