"""Helpers for the reporting tests: a valid report, posting it, small files."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from flask.testing import FlaskClient
from PIL import Image

from tests.factories import csrf_token, report_data


def valid_report(unit: int, **overrides: Any) -> dict[str, Any]:
    """The smallest report the API accepts (tests/factories.py's, at the front desk),
    with overrides."""
    front_desk = {
        "unit_id": unit,
        "place_type": "front_desk",
        "narrative": "A patient shouted and threatened to hit me at the front desk.",
    }
    return report_data(**{**front_desk, **overrides})


def token(client: FlaskClient) -> str:
    """A CSRF token for this client's session (fetched once)."""
    cached: str | None = getattr(client, "_trygg_csrf", None)
    if cached is None:
        cached = csrf_token(client)
        client._trygg_csrf = cached  # type: ignore[attr-defined]
    return cached


def post_report(
    client: FlaskClient,
    body: dict[str, Any] | None = None,
    files: list[tuple[bytes, str]] | None = None,
    **kwargs: Any,
) -> Any:
    """POST /api/v1/reports: JSON, or multipart when files are given."""
    headers = {"X-CSRFToken": token(client)}
    if files is None:
        return client.post("/api/v1/reports", json=body, headers=headers, **kwargs)
    data = {
        "data": json.dumps(body),
        "files": [(io.BytesIO(content), name) for content, name in files],
    }
    return client.post(
        "/api/v1/reports",
        data=data,
        headers=headers,
        content_type="multipart/form-data",
        **kwargs,
    )


def png_bytes(size: tuple[int, int] = (8, 8), text: str | None = None) -> bytes:
    """A small real PNG, optionally with a text chunk (metadata)."""
    from PIL import PngImagePlugin

    image = Image.new("RGB", size, (200, 30, 30))
    info = PngImagePlugin.PngInfo()
    if text:
        info.add_text("Comment", text)
    out = io.BytesIO()
    image.save(out, format="PNG", pnginfo=info)
    return out.getvalue()


def jpeg_with_gps() -> bytes:
    """A JPEG carrying EXIF with camera and GPS position."""
    image = Image.new("RGB", (32, 24), (10, 120, 200))
    exif = Image.Exif()
    exif[0x010F] = "CanaryCam"  # Make
    exif[0x0110] = "Model X"  # Model
    gps = {1: "N", 2: (59.0, 54.0, 30.0), 3: "E", 4: (10.0, 45.0, 10.0)}
    exif[0x8825] = gps  # GPSInfo IFD
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def form_fields(unit_id: int, **overrides: Any) -> dict[str, Any]:
    """What a person fills in on /report (as the browser would send it)."""
    yesterday = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    fields: dict[str, Any] = {
        "incident_types": ["verbal_abuse", "threat"],
        "channel": "face_to_face",
        "occurred_date": yesterday,
        "occurred_time": "14:30",
        "unit_id": str(unit_id),
        "place_type": "patient_room",
        "activity": "care",
        "lone_work": "yes",
        "counterpart_category": "patient",
        "counterpart_identity": "",
        "severity": "3",
        "injury_level": "first_aid",
        "injury_description": "",
        "sick_leave": "self_certified",
        "sick_leave_days": "2",
        "police_report": "considering",
        "police_details": "",
        "immediate_measures": ["interrupted"],
        "immediate_measures_text": "",
        "narrative": "The resident grabbed my arm and shouted that he would kill me.",
        "causes": ["lone_work"],
        "causes_text": "",
        "witness": ["", "", ""],
        "confidential": "named",
    }
    fields.update(overrides)
    return fields
