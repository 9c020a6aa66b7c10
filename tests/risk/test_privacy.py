"""Statistics never decrypt: every trends page, export and API call works with the
crypto module booby-trapped; and exports are exactly the page's cells, audited."""

from __future__ import annotations

import csv
import inspect
import io
import os

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from tests.factories import form_login
from tests.handling.conftest import Api
from trygg import crypto
from trygg.audit import AuditEntry
from trygg.extensions import db


def test_statistics_never_call_the_crypto_module(app, trends_org, with_incidents, monkeypatch):
    with_incidents(5)
    client = Api(app, trends_org.amu)  # logs in before the trap is set
    page_client = app.test_client()
    form_login(page_client, trends_org.amu)
    manager = app.test_client()
    form_login(manager, trends_org.manager)

    def trap(owner, name):
        original = getattr(owner, name)

        def guarded(*args, **kwargs):
            # The audit chain's seal (written when an export is logged) is the kernel's,
            # not statistics: it alone may use the keyring here.
            callers = {frame.filename for frame in inspect.stack()}
            if any(os.path.join("trygg", "audit", "") in f for f in callers):
                return original(*args, **kwargs)
            raise AssertionError(f"statistics called trygg.crypto ({name})")

        monkeypatch.setattr(owner, name, guarded)

    for name in ("open", "open_text", "open_stream", "open_bytes", "seal", "seal_bytes"):
        trap(crypto.DataKey, name)
    for name in ("unwrap", "new_data_key", "wrap", "derive"):
        trap(crypto.Keyring, name)
    trap(crypto, "keyed_hash")
    with pytest.raises(AssertionError, match="crypto"):  # the trap is live
        crypto.keyed_hash(b"k" * 32, "x")
    # "acknowledged" is the statistics dimension. vocabulary: statistics dimension
    for by in ("type", "cause", "state", "acknowledged", "place"):
        for period in ("month", "quarter"):
            args = {"by": by, "period": period}
            assert client.get("/api/v1/trends", query_string=args).status_code == 200
            assert page_client.get("/trends", query_string=args).status_code == 200
    assert client.get("/api/v1/trends/dimensions").status_code == 200
    assert page_client.get("/trends/export.csv?by=type").status_code == 200
    assert page_client.get("/trends/export.xlsx?by=type").status_code == 200
    assert manager.get("/").status_code == 200


def _cells(page_html: str) -> list[str]:
    import re

    body = page_html.split('id="cap-by"', 1)[1].split("</table>", 1)[0]
    cells = re.findall(r'<td class="app-num">(.*?)</td>', body, re.S)
    out = []
    for cell in cells:
        text = re.sub(r'<span class="ds-sr-only">.*?</span>', "", cell)
        text = re.sub(r"<[^>]+>", "", text).replace("&lt;", "<").strip()
        out.append(text.replace("\u00a0", ""))
    return out


def test_exports_hold_exactly_the_page_s_cells_and_are_audited(app, trends_org, with_incidents):
    with_incidents(6)
    client = app.test_client()
    form_login(client, trends_org.amu)
    args = "?unit=0&period=quarter&by=place"
    page = client.get("/trends" + args).get_data(as_text=True)
    shown = _cells(page)
    assert shown and any(c.startswith("<") or c in (":", "·") for c in shown) or shown

    exported = client.get("/trends/export.csv" + args)
    assert exported.status_code == 200
    assert exported.headers["Content-Disposition"].startswith("attachment;")
    rows = list(
        csv.reader(io.StringIO(exported.get_data(as_text=True).lstrip("\ufeff")), delimiter=";")
    )
    header_at = 1
    width = len(rows[header_at])
    categories = rows[header_at][5:]
    table = [r[5 : 5 + len(categories)] for r in rows[header_at + 1 :] if len(r) == width]
    assert [c.replace("\u00a0", "") for row in table for c in row] == shown

    book = load_workbook(io.BytesIO(client.get("/trends/export.xlsx" + args).data))
    sheet = book.active
    values = [[c for c in row] for row in sheet.iter_rows(values_only=True)]
    xlsx_cells = [
        str(v) if v is not None else ""
        for row in values[2 : 2 + len(table)]
        for v in row[5 : 5 + len(categories)]
    ]
    assert xlsx_cells == shown

    with app.app_context():
        entries = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "trends.export")
        ).all()
        assert [e.detail_dict()["format"] for e in entries] == ["csv", "xlsx"]
        assert all(e.object_id == "0" for e in entries)
        assert entries[0].detail_dict()["by"] == "place"


def test_the_api_marks_every_hidden_cell_with_its_rule(app, trends_org, with_incidents):
    with_incidents(7)
    body = Api(app, trends_org.amu).get("/api/v1/trends?by=type&unit=0").get_json()
    marks = {c["mark"] for row in body["rows"] for c in row["cells"]} | {
        row["total"]["mark"] for row in body["rows"]
    }
    assert marks <= {"shown", "primary", "secondary", "hidden"}
    for row in body["rows"]:
        for cell in [row["total"], *row["cells"]]:
            assert (cell["count"] is None) == (cell["mark"] != "shown")
            if cell["mark"] == "shown":
                assert cell["count"] == 0 or cell["count"] >= 5
