"""A large attachment never touches the disk in clear on its way to being sealed."""

from __future__ import annotations

import io
import json

import pytest
from flask import request
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from reporting.models import Attachment, Report
from tests.disk import can_see_unlinked_files, files_holding
from tests.factories import Factory, api_login
from tests.reporting.support import token, valid_report
from trygg.extensions import db
from trygg.roles import Role
from trygg.uploads import UploadSpool

MARKER = b"KOLLEGA-TRUET-MED-KNIV-4d2b"
# Larger than the 500 KB werkzeug keeps in memory, and several spool chunks.
BIG = (MARKER + b": han sa han visste hvor jeg bodde.\n") * 20_000

pytestmark = pytest.mark.skipif(
    not can_see_unlinked_files(), reason="needs /proc/self/fd to see unlinked files"
)


def post_in_memory(client, report: dict, files: list[tuple[bytes, str]]):
    """POST /api/v1/reports with a multipart body built in memory (the test client
    would otherwise write a large body to a temporary file of its own, in clear)."""
    fields: dict = {"data": json.dumps(report)}
    fields["files"] = [FileStorage(io.BytesIO(content), name) for content, name in files]
    boundary, body = encode_multipart(fields)
    return client.post(
        "/api/v1/reports",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
        headers={"X-CSRFToken": token(client)},
    )


@pytest.fixture
def probed(make_app, temp_dir):
    """An app that searches the temporary folder at the end of each request, while the
    uploaded files are still open; what it found is in `probed.seen`."""

    def build(**overrides):
        app = make_app(**overrides)
        app.seen = []  # type: ignore[attr-defined]

        @app.after_request
        def probe(response):
            spools = [f.stream for f in request.files.values()]
            app.seen.append((spools, files_holding(temp_dir, MARKER)))
            return response

        make = Factory(app)
        unit = make.unit()
        user = make.user(Role.EMPLOYEE, units=(unit,))
        client = app.test_client()
        api_login(client, user)
        return app, client, unit

    return build


def test_a_large_attachment_is_never_on_disk_in_clear(probed, temp_dir):
    app, client, unit = probed()
    created = post_in_memory(client, valid_report(unit.id), [(BIG, "opptak.txt")])
    assert created.status_code == 201, created.get_json()
    spools, found = app.seen[-1]
    assert [type(s) for s in spools] == [UploadSpool]
    assert found == [], "plaintext of the upload was on disk during the request"
    assert files_holding(temp_dir, MARKER) == []
    assert all(s.closed for s in spools)

    report_id = created.get_json()["id"]
    [info] = client.get(f"/api/v1/reports/{report_id}").get_json()["attachments"]
    assert info["size"] == len(BIG)
    download = client.get(f"/api/v1/reports/{report_id}/attachments/{info['id']}")
    assert download.data == BIG


def test_a_file_far_beyond_the_limit_gets_the_same_clear_413(probed, temp_dir):
    app, client, unit = probed(attachment_max_bytes=100_000)
    refused = post_in_memory(
        client, valid_report(unit.id), [(b"liten fil\n", "ok.txt"), (BIG, "stor.txt")]
    )
    assert refused.status_code == 413
    [message] = refused.get_json()["errors"]["attachments"]
    assert "stor.txt" in message
    assert app.seen[-1][1] == []
    with app.app_context():
        assert db.session.query(Report).count() == 0
        assert db.session.query(Attachment).count() == 0
