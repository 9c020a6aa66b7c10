"""Attachments: allowed by content, cleaned of metadata, limited, served as downloads."""

from __future__ import annotations

import io
import struct
import zlib
from urllib.parse import unquote

import pytest
from PIL import Image

from reporting.models import Attachment, AttachmentChunk, Report
from tests.factories import Factory, api_login
from tests.reporting.support import jpeg_with_gps, png_bytes, post_report, token, valid_report
from trygg.extensions import db
from trygg.roles import Role


def _attachments(client, report_id):
    return client.get(f"/api/v1/reports/{report_id}").get_json()["attachments"]


def test_the_type_is_decided_by_content_not_by_name(app, client, reporter):
    exe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 64
    refused = post_report(client, valid_report(reporter.unit.id), files=[(exe, "holiday.jpg")])
    assert refused.status_code == 415
    assert "holiday.jpg" in refused.get_json()["errors"]["attachments"][0]
    with app.app_context():
        assert db.session.query(Report).count() == 0
        assert db.session.query(Attachment).count() == 0

    accepted = post_report(
        client, valid_report(reporter.unit.id), files=[(png_bytes(), "really-a-picture.txt")]
    )
    assert accepted.status_code == 201
    [info] = _attachments(client, accepted.get_json()["id"])
    assert info["content_type"] == "image/png"
    assert info["name"] == "really-a-picture.txt"


@pytest.mark.parametrize(
    ("content", "kind"),
    [
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "application/pdf"),
        (b"OggS\x00\x02" + b"\x00" * 20, "audio/ogg"),
        ("Notater: Han sa «jeg vet hvor du bor».\n".encode(), "text/plain"),
        # Saved by an older Windows program: Windows-1252, not UTF-8.
        ("Ærlig talt – han sa «jeg vet hvor du bor».\r\n".encode("cp1252"), "text/plain"),
    ],
)
def test_allowed_types(client, reporter, content, kind):
    created = post_report(client, valid_report(reporter.unit.id), files=[(content, "file.bin")])
    assert created.status_code == 201, created.get_json()
    [info] = _attachments(client, created.get_json()["id"])
    assert info["content_type"] == kind
    download = client.get(f"/api/v1/reports/{created.get_json()['id']}/attachments/{info['id']}")
    assert download.data == content


@pytest.mark.parametrize(
    "content",
    [
        b"PK\x03\x04\x14\x00\x00\x00\x08\x00",
        b"\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00",
        b"\xca\xfe\xba\xbe\x00\x00\x004",
        b"\xff\xfe<\x00h\x00t\x00m\x00l\x00",
        # Valid UTF-8, but a terminal's escape codes and a bell are not plain text.
        b"\x1b[31mALARM\x07\x1b[0m",
        # The same in C1 controls: U+009B is a one-character ESC [ (CSI).
        "Rød \u009b31mtekst\u009b0m\n".encode(),
    ],
)
def test_other_types_are_refused(client, reporter, content):
    response = post_report(client, valid_report(reporter.unit.id), files=[(content, "x.txt")])
    assert response.status_code == 415


def test_exif_and_gps_are_removed_from_pictures(client, reporter):
    original = jpeg_with_gps()
    with Image.open(io.BytesIO(original)) as image:
        assert image.getexif().get_ifd(0x8825), "the test picture has a GPS position"
    created = post_report(client, valid_report(reporter.unit.id), files=[(original, "bilde.jpg")])
    assert created.status_code == 201
    report_id = created.get_json()["id"]
    [info] = _attachments(client, report_id)
    assert info["content_type"] == "image/jpeg"
    download = client.get(f"/api/v1/reports/{report_id}/attachments/{info['id']}", buffered=True)
    assert download.status_code == 200
    assert b"Exif" not in download.data
    assert b"CanaryCam" not in download.data
    with Image.open(io.BytesIO(download.data)) as image:
        assert image.size == (32, 24)
        assert len(image.getexif()) == 0
        assert "exif" not in image.info


def test_a_picture_turned_by_exif_is_stored_upright(client, reporter):
    image = Image.new("RGB", (40, 20), (0, 0, 0))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to view
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    created = post_report(client, valid_report(reporter.unit.id), files=[(out.getvalue(), "t.jpg")])
    report_id = created.get_json()["id"]
    [info] = _attachments(client, report_id)
    data = client.get(f"/api/v1/reports/{report_id}/attachments/{info['id']}").data
    with Image.open(io.BytesIO(data)) as stored:
        assert stored.size == (20, 40)


def test_a_broken_picture_is_refused_with_a_message(client, reporter):
    broken = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x01" * 30
    response = post_report(client, valid_report(reporter.unit.id), files=[(broken, "b.png")])
    assert response.status_code == 400
    assert response.get_json()["errors"]["attachments"]


def _png_header(width: int, height: int) -> bytes:
    """A PNG that claims the given size (its pixel data is cut short)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    pixels = zlib.compress(b"\x00" * (width // 8 + 1) * 4)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels)


# Pillow warns of a possible decompression bomb past 89 megapixels; refusing it is the point.
@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
@pytest.mark.parametrize(
    "size",
    [
        (10_000, 10_000),  # 100 megapixels: over Trygg's limit
        (16_320, 12_240),  # 200 megapixels (a phone's full-resolution mode): over Pillow's
    ],
)
def test_a_picture_with_too_many_pixels_is_called_too_large(app, client, reporter, size):
    client.post("/language", data={"lang": "en", "csrf_token": token(client)})
    response = post_report(
        client, valid_report(reporter.unit.id), files=[(_png_header(*size), "big.png")]
    )
    assert response.status_code == 413
    [message] = response.get_json()["errors"]["attachments"]
    assert "too large" in message  # not "could not be read": the picture is fine, only large
    with app.app_context():
        assert db.session.query(Report).count() == 0


def test_at_most_ten_files(client, reporter):
    files = [(f"note {n}".encode(), f"n{n}.txt") for n in range(11)]
    response = post_report(client, valid_report(reporter.unit.id), files=files)
    assert response.status_code == 400
    assert "attachments" in response.get_json()["errors"]
    ten = post_report(client, valid_report(reporter.unit.id), files=files[:10])
    assert ten.status_code == 201
    assert len(_attachments(client, ten.get_json()["id"])) == 10


def test_files_larger_than_the_limit_are_refused(make_app):
    app = make_app(attachment_max_bytes=1000)
    make = Factory(app)
    unit = make.unit()
    user = make.user(Role.EMPLOYEE, units=(unit,))
    client = app.test_client()
    api_login(client, user)
    small = post_report(client, valid_report(unit.id), files=[(b"a" * 1000, "ok.txt")])
    assert small.status_code == 201
    big = post_report(
        client, valid_report(unit.id), files=[(b"a" * 10, "ok.txt"), (b"b" * 1001, "big.txt")]
    )
    assert big.status_code == 413
    assert "big.txt" in big.get_json()["errors"]["attachments"][0]
    with app.app_context():
        # The first file of the refused report was not kept either.
        assert db.session.query(Report).count() == 1
        assert db.session.query(Attachment).count() == 1


def test_large_files_are_stored_in_several_sealed_chunks(app, client, reporter):
    content = ("Lydlogg " * 400_000).encode()  # 3.2 MB of text
    created = post_report(client, valid_report(reporter.unit.id), files=[(content, "log.txt")])
    assert created.status_code == 201
    report_id = created.get_json()["id"]
    [info] = _attachments(client, report_id)
    with app.app_context():
        chunks = db.session.query(AttachmentChunk).filter_by(attachment_id=info["id"]).count()
        assert chunks >= 3
    download = client.get(f"/api/v1/reports/{report_id}/attachments/{info['id']}", buffered=True)
    assert download.headers["Content-Length"] == str(len(content))
    assert download.data == content


def test_downloads_are_never_shown_inline(client, reporter):
    name = 'Rapport «æøå» "x";\r\nSet-Cookie: a=b.txt'
    created = post_report(client, valid_report(reporter.unit.id), files=[(b"hello", name)])
    report_id = created.get_json()["id"]
    [info] = _attachments(client, report_id)
    response = client.get(f"/api/v1/reports/{report_id}/attachments/{info['id']}", buffered=True)
    assert response.headers["Content-Type"] == "application/octet-stream"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment; filename=")
    assert "\r" not in disposition
    assert "\n" not in disposition
    assert not any("a=b" in v for v in response.headers.getlist("Set-Cookie"))
    ascii_part = disposition.split(";")[1]
    assert ascii_part.isascii()
    star = disposition.split("filename*=UTF-8''")[1]
    assert unquote(star) == info["name"] + ".txt"


@pytest.mark.parametrize(
    ("content", "name", "saved_as"),
    [
        (b"<html><script>alert(1)</script></html>", "page.html", "page.html.txt"),
        (b"plain words", "notes.TXT", "notes.TXT"),
        (png_bytes(), "picture.txt", "picture.txt.png"),
        (png_bytes(), "picture.PNG", "picture.PNG"),
    ],
)
def test_a_download_is_named_for_its_real_type(client, reporter, content, name, saved_as):
    created = post_report(client, valid_report(reporter.unit.id), files=[(content, name)])
    report_id = created.get_json()["id"]
    [info] = _attachments(client, report_id)
    assert info["name"] == name
    response = client.get(f"/api/v1/reports/{report_id}/attachments/{info['id']}", buffered=True)
    assert unquote(response.headers["Content-Disposition"].split("''")[1]) == saved_as


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        # A right-to-left override would show "bilde\u202egnp.exe" as "bildeexe.png".
        ("bilde\u202egnp.exe", "bildegnp.exe"),
        ("vakt\x00logg\x07.txt", "vaktlogg.txt"),
        ("\u200fnotat.txt\u200e", "notat.txt"),
        ("\x1b\x07", "file"),
    ],
)
def test_file_names_lose_control_and_direction_characters(client, reporter, name, shown):
    created = post_report(client, valid_report(reporter.unit.id), files=[(b"hei", name)])
    assert created.status_code == 201, created.get_json()
    [info] = _attachments(client, created.get_json()["id"])
    assert info["name"] == shown
