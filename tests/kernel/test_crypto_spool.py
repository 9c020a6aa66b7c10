"""The sealed upload spool: reads back what was written, holds no plaintext, detects changes."""

from __future__ import annotations

import io
import os
import random

import pytest

from trygg.crypto import CryptoError, SealedSpool

CHUNK = 1024
MARKER = b"SPOOL-MARKER-7f3a"


class Opened:
    """An opener that keeps the spool's backing file at hand (to inspect and tamper)."""

    def __init__(self, tmp_path):
        self.path = tmp_path / "spool.bin"
        self.file = None

    def __call__(self):
        self.file = open(self.path, "w+b")  # noqa: SIM115 - the spool closes it
        return self.file


def written(data: bytes, opener=None, pieces: int = 7) -> SealedSpool:
    """A spool with `data` written in uneven pieces, as a parser would."""
    spool = SealedSpool(chunk_size=CHUNK, **({"opener": opener} if opener else {}))
    rng = random.Random(len(data))
    start = 0
    while start < len(data):
        step = rng.randint(1, max(1, len(data) // pieces + 1))
        assert spool.write(data[start : start + step]) == len(data[start : start + step])
        start += step
    return spool


@pytest.mark.parametrize(
    "size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK, 3 * CHUNK + 5, 10 * CHUNK + 333]
)
def test_what_is_written_reads_back_at_every_chunk_boundary(size):
    data = os.urandom(size)
    spool = written(data)
    assert spool.tell() == size
    assert spool.seek(0) == 0
    assert spool.read() == data
    assert spool.read() == b""
    spool.seek(0)
    pieces = []
    while piece := spool.read(CHUNK // 3):
        pieces.append(piece)
    assert b"".join(pieces) == data
    assert all(len(p) == CHUNK // 3 for p in pieces[:-1]), "reads are not short at boundaries"


def test_random_access_reads_and_seeks():
    data = os.urandom(5 * CHUNK + 17)
    spool = written(data)
    rng = random.Random(1)
    for _ in range(300):
        start = rng.randrange(0, len(data) + 10)
        length = rng.randrange(0, 3 * CHUNK)
        assert spool.seek(start) == start
        assert spool.read(length) == data[start : start + length]
        assert spool.tell() == min(start + length, max(start, len(data)))
    spool.seek(-10, io.SEEK_END)
    assert spool.read() == data[-10:]
    spool.seek(CHUNK - 2)
    spool.seek(4, io.SEEK_CUR)
    assert spool.read(3) == data[CHUNK + 2 : CHUNK + 5]
    with pytest.raises(ValueError, match="negative"):
        spool.seek(-1)


def test_readinto_readline_and_iteration():
    lines = [b"first line\n", b"x" * (2 * CHUNK + 5) + b"\n", b"\n", b"no newline at the end"]
    data = b"".join(lines)
    spool = written(data)
    spool.seek(0)
    assert list(spool) == lines
    spool.seek(0)
    assert spool.readline(4) == b"firs"
    assert spool.readline() == b"t line\n"
    spool.seek(0)
    buffer = bytearray(CHUNK + 7)
    assert spool.readinto(buffer) == CHUNK + 7
    assert bytes(buffer) == data[: CHUNK + 7]


def test_the_spool_is_written_once():
    spool = written(b"abc")
    spool.seek(0)
    with pytest.raises(io.UnsupportedOperation):
        spool.write(b"more")
    assert not spool.writable()
    with pytest.raises(io.UnsupportedOperation):
        spool.fileno()


def test_no_plaintext_reaches_the_backing_file(tmp_path):
    opener = Opened(tmp_path)
    data = MARKER * (20 * CHUNK // len(MARKER))
    spool = written(data, opener)
    spool.seek(0)
    opener.file.flush()
    on_disk = opener.path.read_bytes()
    assert MARKER not in on_disk
    assert MARKER[:8] not in on_disk
    assert len(on_disk) >= len(data)
    assert spool.read() == data


def test_a_small_file_never_creates_a_temporary_file(tmp_path):
    opener = Opened(tmp_path)
    spool = written(b"a short note", opener)
    assert spool.read() == b"a short note"
    assert opener.file is None


def test_two_spools_of_the_same_content_differ_on_disk(tmp_path):
    first, second = Opened(tmp_path / "1"), Opened(tmp_path / "2")
    (tmp_path / "1").mkdir()
    (tmp_path / "2").mkdir()
    data = bytes(3 * CHUNK)
    for opener in (first, second):
        written(data, opener).seek(0)
    assert first.path.read_bytes() != second.path.read_bytes(), "each spool has its own key"


def _tampered(tmp_path, change):
    opener = Opened(tmp_path)
    data = os.urandom(4 * CHUNK + 100)
    spool = written(data, opener)
    spool.seek(0)
    change(opener.file)
    opener.file.flush()
    return spool


def _flip(file, offset):
    file.seek(offset)
    byte = file.read(1)
    file.seek(offset)
    file.write(bytes([byte[0] ^ 1]))


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda f: _flip(f, 10), id="flipped bit in the first chunk"),
        pytest.param(lambda f: _flip(f, 2 * (CHUNK + 16) + 3), id="flipped bit in a middle chunk"),
        pytest.param(lambda f: _flip(f, 4 * (CHUNK + 16) + 110), id="flipped tag of the last"),
        pytest.param(lambda f: f.truncate(3 * (CHUNK + 16)), id="truncated at a chunk boundary"),
        pytest.param(lambda f: f.truncate(4 * (CHUNK + 16) + 50), id="truncated last chunk"),
    ],
)
def test_changes_on_disk_are_detected(tmp_path, change):
    spool = _tampered(tmp_path, change)
    with pytest.raises(CryptoError):
        spool.read()


def test_swapped_chunks_are_detected(tmp_path):
    def swap(file):
        size = CHUNK + 16
        file.seek(0)
        first = file.read(size)
        second = file.read(size)
        file.seek(0)
        file.write(second + first)

    spool = _tampered(tmp_path, swap)
    with pytest.raises(CryptoError):
        spool.read(10)


def test_a_closed_spool_cannot_be_read_and_closes_its_file(tmp_path):
    opener = Opened(tmp_path)
    spool = written(os.urandom(3 * CHUNK), opener)
    spool.close()
    assert opener.file.closed
    with pytest.raises(ValueError, match="closed"):  # vocabulary: error message
        spool.read()
    assert "SealedSpool" in repr(spool)
