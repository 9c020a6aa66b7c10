"""Who can reach a report, what happens when sealed data is moved, and key rotation."""

from __future__ import annotations

import shutil

import pytest
from sqlalchemy import select, update

from reporting import service
from reporting.models import Attachment, AttachmentChunk, Report
from tests.factories import Factory, api_login, form_login
from tests.reporting.support import post_report, valid_report
from trygg import crypto
from trygg.extensions import db
from trygg.roles import Role


@pytest.fixture
def two_employees(app, make):
    unit = make.unit("Akuttmottaket")
    owner = make.user(Role.EMPLOYEE, name="Kari Nordmann", units=(unit,))
    other = make.user(Role.EMPLOYEE, name="Ola Nordmann", units=(unit,))
    owner_client = app.test_client()
    api_login(owner_client, owner)
    created = post_report(
        owner_client, valid_report(unit.id), files=[(b"private notes", "notes.txt")]
    )
    assert created.status_code == 201
    report_id = created.get_json()["id"]
    attachment_id = owner_client.get(f"/api/v1/reports/{report_id}").get_json()["attachments"][0][
        "id"
    ]
    return owner_client, other, report_id, attachment_id


def test_employees_cannot_reach_each_others_reports(app, two_employees):
    owner_client, other, report_id, attachment_id = two_employees
    pages = app.test_client()
    form_login(pages, other)
    for path in (
        f"/report/{report_id}/receipt",
        f"/my-reports/{report_id}",
        f"/my-reports/{report_id}/attachments/{attachment_id}",
    ):
        response = pages.get(path)
        assert response.status_code == 404, path
        assert b"private notes" not in response.data
    assert pages.get("/my-reports").status_code == 200
    assert b"AVV-" not in pages.get("/my-reports").data

    api = app.test_client()
    api_login(api, other)
    assert api.get("/api/v1/reports").get_json() == []
    for path in (
        f"/api/v1/reports/{report_id}",
        f"/api/v1/reports/{report_id}/attachments/{attachment_id}",
    ):
        response = api.get(path)
        assert response.status_code == 404, path
        assert response.get_json()["errors"]

    # The owner still can; a wrong attachment id of the right report is also a 404.
    assert owner_client.get(f"/api/v1/reports/{report_id}").status_code == 200
    assert (
        owner_client.get(f"/api/v1/reports/{report_id}/attachments/{attachment_id + 99}")
    ).status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/my-reports/99999999999999999999999",
        "/report/99999999999999999999999/receipt",
        "/my-reports/1/attachments/99999999999999999999",
        "/api/v1/reports/99999999999999999999999",
        "/api/v1/reports/4294967296/attachments/1",
    ],
)
def test_huge_ids_in_addresses_are_not_found(client, reporter, path):
    assert client.get(path).status_code == 404


def test_a_sealed_value_copied_to_another_report_does_not_open(app, client, reporter, caplog):
    first = post_report(client, valid_report(reporter.unit.id, narrative="Report A")).get_json()
    second = post_report(client, valid_report(reporter.unit.id, narrative="Report B")).get_json()
    with app.app_context():
        sealed_a = db.session.scalar(
            select(Report.narrative_sealed).where(Report.id == first["id"])
        )
        db.session.execute(
            update(Report).where(Report.id == second["id"]).values(narrative_sealed=sealed_a)
        )
        db.session.commit()
        report_b = db.session.get(Report, second["id"])
        with pytest.raises(crypto.CryptoError):
            service.open_report(report_b, actor="test")
        db.session.rollback()

    page = client.get(f"/my-reports/{second['id']}")
    assert page.status_code == 500
    text = page.get_data(as_text=True)
    assert "Traceback" not in text
    assert "Report A" not in text
    assert 'id="main"' in text  # the normal layout: the generic error page
    api = client.get(f"/api/v1/reports/{second['id']}")
    assert api.status_code == 500
    assert set(api.get_json()["errors"]) == {"_request"}
    assert "could not be opened" in caplog.text
    assert "Report A" not in caplog.text
    # The original still opens.
    assert client.get(f"/api/v1/reports/{first['id']}").get_json()["narrative"] == "Report A"


def test_every_report_opens_after_rotation_and_retirement(make_app, keyring_path, tmp_path):
    ring_file = tmp_path / "keyring.json"
    shutil.copy(keyring_path, ring_file)
    app = make_app(keyring_path=str(ring_file))
    make = Factory(app)
    unit = make.unit()
    user = make.user(Role.EMPLOYEE, units=(unit,))
    client = app.test_client()
    api_login(client, user)
    ids = []
    for n in range(3):
        files = [(f"file {n}".encode(), f"f{n}.txt")] if n == 0 else None
        body = valid_report(unit.id, narrative=f"Narrative {n}", confidential=n == 1)
        ids.append(post_report(client, body, files=files).get_json()["id"])
    old = crypto.Keyring.load(ring_file).active_id

    runner = app.test_cli_runner()
    refused = runner.invoke(args=["keys", "retire", old])
    assert refused.exit_code != 0
    rotated = runner.invoke(args=["keys", "rotate", "--batch", "2"])
    assert rotated.exit_code == 0, rotated.output
    retired = runner.invoke(args=["keys", "retire", old])
    assert retired.exit_code == 0, retired.output
    ring = crypto.Keyring.load(ring_file)
    assert old not in ring.keys
    assert old in ring.retired

    # Read the keyring file again, as a restarted server would (a second app on the
    # same rolled-back SQLite database would wait for the first one's write lock).
    app.extensions["trygg.keyring"] = crypto.Keyring.load(ring_file)
    fresh = app
    reader = fresh.test_client()
    api_login(reader, user)
    for n, report_id in enumerate(ids):
        detail = reader.get(f"/api/v1/reports/{report_id}")
        assert detail.status_code == 200
        assert detail.get_json()["narrative"] == f"Narrative {n}"
    attachment = reader.get(f"/api/v1/reports/{ids[0]}").get_json()["attachments"][0]
    download = reader.get(f"/api/v1/reports/{ids[0]}/attachments/{attachment['id']}")
    assert download.data == b"file 0"
    with fresh.app_context():
        wrapped = db.session.scalars(select(Report.wrapped_key).where(Report.id.in_(ids)))
        assert {crypto.wrapped_key_id(w) for w in wrapped} == {ring.active_id}


def test_a_file_replaced_by_another_files_sealed_bytes_gets_the_error_page(
    app, client, reporter, caplog
):
    # The same file content in two reports: only the sealing (key and row) differs.
    first = post_report(client, valid_report(reporter.unit.id), files=[(b"File A", "a.txt")])
    second = post_report(client, valid_report(reporter.unit.id), files=[(b"File B", "b.txt")])
    first_id, second_id = first.get_json()["id"], second.get_json()["id"]
    with app.app_context():
        files = {
            a.report_id: a.id
            for a in db.session.scalars(
                select(Attachment).where(Attachment.report_id.in_([first_id, second_id]))
            )
        }
        sealed_a = db.session.scalar(
            select(AttachmentChunk.data).where(AttachmentChunk.attachment_id == files[first_id])
        )
        db.session.execute(
            update(AttachmentChunk)
            .where(AttachmentChunk.attachment_id == files[second_id])
            .values(data=sealed_a)
        )
        db.session.commit()

    api = client.get(f"/api/v1/reports/{second_id}/attachments/{files[second_id]}")
    assert api.status_code == 500
    assert set(api.get_json()["errors"]) == {"_request"}
    assert "Content-Disposition" not in api.headers
    pages = client.application.test_client()
    form_login(pages, reporter.user)
    page = pages.get(f"/my-reports/{second_id}/attachments/{files[second_id]}")
    assert page.status_code == 500
    text = page.get_data(as_text=True)
    assert 'id="main"' in text  # the normal layout: the generic error page
    assert "File A" not in text
    assert "Traceback" not in text
    assert "sealed data could not be opened" in caplog.text
    # The file it came from still downloads.
    untouched = client.get(f"/api/v1/reports/{first_id}/attachments/{files[first_id]}")
    assert untouched.data == b"File A"


def test_damage_deep_in_a_large_file_cuts_the_download_short_and_is_logged(
    app, client, reporter, caplog
):
    content = ("Lydlogg " * 400_000).encode()  # 3.2 MB: several sealed pieces
    created = post_report(client, valid_report(reporter.unit.id), files=[(content, "log.txt")])
    report_id = created.get_json()["id"]
    with app.app_context():
        attachment_id = db.session.scalar(
            select(Attachment.id).where(Attachment.report_id == report_id)
        )
        chunks = {
            c.seq: c.data
            for c in db.session.scalars(
                select(AttachmentChunk).where(AttachmentChunk.attachment_id == attachment_id)
            )
        }
        last = max(chunks)
        assert last >= 2
        # The last piece swapped with the one before it: found only after the headers.
        for seq, data in ((last, chunks[last - 1]), (last - 1, chunks[last])):
            db.session.execute(
                update(AttachmentChunk)
                .where(AttachmentChunk.attachment_id == attachment_id, AttachmentChunk.seq == seq)
                .values(data=data)
            )
        db.session.commit()

    response = client.get(f"/api/v1/reports/{report_id}/attachments/{attachment_id}", buffered=True)
    assert response.status_code == 200  # the headers were sent before the damage showed
    assert len(response.data) < int(response.headers["Content-Length"]) == len(content)
    assert content.startswith(response.data)  # never a damaged piece, only fewer of them
    assert "sealed data could not be opened" in caplog.text
