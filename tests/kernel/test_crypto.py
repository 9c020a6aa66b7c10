"""Envelope encryption: sealed fields, wrapped data keys, chunked files, the keyring file."""

from __future__ import annotations

import os
import stat

import pytest

from trygg import crypto
from trygg.crypto import CryptoError, DataKey, Keyring, KeyringError

WHERE = {"table": "report", "column": "narrative", "row": 7}

# Sealed file layout, found by experiment with cryptography's chunked AES-GCM:
# our version byte, a 56-byte stream header, then 16 KiB chunks each with a 16-byte tag;
# the last chunk (possibly empty) is flagged final.
VERSION = 1
HEADER = 56
CHUNK = 16 * 1024 + 16


@pytest.fixture
def ring(tmp_path) -> Keyring:
    return crypto.create_keyring_file(tmp_path / "keyring.json")


@pytest.fixture
def key(ring) -> DataKey:
    return ring.new_data_key()[0]


def flip(blob: bytes, index: int) -> bytes:
    return blob[:index] + bytes([blob[index] ^ 0x01]) + blob[index + 1 :]


@pytest.mark.parametrize(
    "value", ["Pasienten slo meg i ansiktet. Æøå!", "", b"\x00\xffbinary", b""]
)
def test_sealed_values_open_to_what_was_sealed(key, value):
    sealed = key.seal(value, **WHERE)
    expected = value.encode() if isinstance(value, str) else value
    assert key.open(sealed, **WHERE) == expected
    assert expected == b"" or expected not in sealed
    if isinstance(value, str):
        assert key.open_text(sealed, **WHERE) == value


def test_sealing_twice_gives_different_ciphertexts(key):
    assert key.seal("same", **WHERE) != key.seal("same", **WHERE)


@pytest.mark.parametrize(
    "moved_to",
    [
        {"table": "report", "column": "narrative", "row": 8},
        {"table": "report", "column": "injury_text", "row": 7},
        {"table": "case", "column": "narrative", "row": 7},
        {"table": "report", "column": "narrative", "row": "7 "},
    ],
)
def test_value_moved_to_another_row_or_column_does_not_open(key, moved_to):
    sealed = key.seal("confidential", **WHERE)
    with pytest.raises(CryptoError):
        key.open(sealed, **moved_to)


def test_every_tampered_byte_is_detected(key):
    sealed = key.seal("confidential", **WHERE)
    for index in range(len(sealed)):
        with pytest.raises(CryptoError):
            key.open(flip(sealed, index), **WHERE)


@pytest.mark.parametrize("cut", [0, 1, 13, 28])
def test_truncated_value_is_refused(key, cut):
    sealed = key.seal("confidential", **WHERE)
    with pytest.raises(CryptoError):
        key.open(sealed[:cut], **WHERE)


def test_another_records_data_key_does_not_open(ring, key):
    sealed = key.seal("confidential", **WHERE)
    other, _ = ring.new_data_key()
    with pytest.raises(CryptoError):
        other.open(sealed, **WHERE)


def test_crypto_errors_never_contain_plaintext_or_keys(key):
    sealed = key.seal("Ola Nordmann", **WHERE)
    with pytest.raises(CryptoError) as info:
        key.open(flip(sealed, 20), **WHERE)
    assert "Ola" not in str(info.value)
    assert key.secret.hex() not in str(info.value)
    assert repr(key) == "<DataKey>"


def test_no_nonce_repeats_in_100_000_seals(key):
    nonces = {key.seal(b"x", **WHERE)[1:13] for _ in range(100_000)}
    assert len(nonces) == 100_000


# -- wrapped data keys ------------------------------------------------------------------


def test_wrapped_data_key_unwraps_to_the_same_key(ring):
    key, wrapped = ring.new_data_key()
    sealed = key.seal("confidential", **WHERE)
    assert crypto.wrapped_key_id(wrapped) == ring.active_id
    assert key.secret not in wrapped
    assert ring.unwrap(wrapped).open_text(sealed, **WHERE) == "confidential"


def test_keyring_lacking_the_wrapping_key_cannot_unwrap(ring, tmp_path):
    _, wrapped = ring.new_data_key()
    stranger = crypto.create_keyring_file(tmp_path / "other.json")
    with pytest.raises(CryptoError, match="unknown key"):
        stranger.unwrap(wrapped)


def test_wrapping_key_with_the_same_id_but_other_bytes_cannot_unwrap(ring):
    _, wrapped = ring.new_data_key()
    forged = Keyring(keys={ring.active_id: os.urandom(32)}, active_id=ring.active_id)
    with pytest.raises(CryptoError):
        forged.unwrap(wrapped)


def test_tampered_or_truncated_wrapped_key_is_refused(ring):
    _, wrapped = ring.new_data_key()
    for index in range(len(wrapped)):
        with pytest.raises(CryptoError):
            ring.unwrap(flip(wrapped, index))
    for cut in (0, 1, 5, len(wrapped) - 56, len(wrapped) - 49, len(wrapped) - 1):
        with pytest.raises(CryptoError):
            ring.unwrap(wrapped[:cut])


def test_rewrap_under_a_new_key_still_opens_old_data(ring, tmp_path):
    key, wrapped = ring.new_data_key()
    sealed = key.seal("confidential", **WHERE)
    old_id = ring.active_id
    new_id = ring.add_key()
    rewrapped = ring.rewrap(wrapped)
    assert crypto.wrapped_key_id(rewrapped) == new_id != old_id
    assert ring.rewrap(rewrapped) == rewrapped  # already under the active key
    ring.remove_key(old_id)
    ring.save()
    reloaded = Keyring.load(ring.path)
    assert reloaded.unwrap(rewrapped).open_text(sealed, **WHERE) == "confidential"
    with pytest.raises(CryptoError):
        reloaded.unwrap(wrapped)


def test_the_active_key_cannot_be_retired(ring):
    with pytest.raises(KeyringError):
        ring.remove_key(ring.active_id)


# -- sealed files -----------------------------------------------------------------------

FILE = {"table": "attachment", "row": 3}


@pytest.fixture
def document() -> bytes:
    return os.urandom(100_000)  # six full chunks and a partial one


def test_file_layout_is_what_the_tests_assume(key, document):
    sealed = key.seal_bytes(document, **FILE)
    assert sealed[0] == VERSION
    assert len(sealed) == 1 + HEADER + 6 * CHUNK + (100_000 - 6 * 16384) + 16


@pytest.mark.parametrize("size", [0, 1, 16 * 1024, 16 * 1024 + 1, 100_000])
def test_files_open_to_what_was_sealed(key, size):
    data = os.urandom(size)
    sealed = key.seal_bytes(data, **FILE)
    assert key.open_bytes(sealed, **FILE) == data


def test_file_sealed_in_odd_pieces_opens_read_in_other_pieces(key, document):
    pieces = [document[i : i + 7000] for i in range(0, len(document), 7000)]
    sealed = b"".join(key.seal_stream(iter(pieces), **FILE))
    reads = [sealed[i : i + 5000] for i in range(0, len(sealed), 5000)]
    assert b"".join(key.open_stream(iter(reads), **FILE)) == document


@pytest.mark.parametrize(
    "cut",
    [
        1,
        1 + HEADER,
        1 + HEADER + CHUNK,  # exactly at a chunk boundary: the final chunk is gone
        1 + HEADER + 6 * CHUNK,
        1 + HEADER + 3 * CHUNK + 100,
        -1,
    ],
)
def test_truncated_file_fails(key, document, cut):
    sealed = key.seal_bytes(document, **FILE)
    with pytest.raises(CryptoError):
        key.open_bytes(sealed[:cut], **FILE)


def test_truncated_file_never_reads_as_whole(key, document):
    sealed = key.seal_bytes(document, **FILE)
    received = bytearray()

    def read_all() -> None:
        for part in key.open_stream(iter([sealed[: 1 + HEADER + 2 * CHUNK]]), **FILE):
            received.extend(part)

    with pytest.raises(CryptoError):
        read_all()
    assert len(received) < len(document)


def split_chunks(sealed: bytes) -> tuple[bytes, list[bytes]]:
    head, body = sealed[: 1 + HEADER], sealed[1 + HEADER :]
    return head, [body[i : i + CHUNK] for i in range(0, len(body), CHUNK)]


def test_dropped_or_reordered_chunk_fails(key, document):
    head, chunks = split_chunks(key.seal_bytes(document, **FILE))
    assert len(chunks) == 7
    dropped = head + b"".join(chunks[:2] + chunks[3:])
    swapped = head + b"".join([chunks[0], chunks[2], chunks[1], *chunks[3:]])
    duplicated = head + b"".join([chunks[0], *chunks])
    for broken in (dropped, swapped, duplicated):
        with pytest.raises(CryptoError):
            key.open_bytes(broken, **FILE)


def test_chunk_from_another_file_of_the_same_row_fails(key, document):
    head_a, chunks_a = split_chunks(key.seal_bytes(document, **FILE))
    _head_b, chunks_b = split_chunks(key.seal_bytes(document, **FILE))
    spliced = head_a + b"".join([chunks_a[0], chunks_b[1], *chunks_a[2:]])
    with pytest.raises(CryptoError):
        key.open_bytes(spliced, **FILE)


def test_tampered_chunk_fails(key, document):
    sealed = key.seal_bytes(document, **FILE)
    for index in (0, 10, 1 + HEADER + 5, 1 + HEADER + CHUNK + 100, len(sealed) - 1):
        with pytest.raises(CryptoError):
            key.open_bytes(flip(sealed, index), **FILE)


@pytest.mark.parametrize("moved_to", [{"table": "attachment", "row": 4}, {"table": "x", "row": 3}])
def test_file_moved_to_another_row_fails(key, document, moved_to):
    sealed = key.seal_bytes(document, **FILE)
    with pytest.raises(CryptoError):
        key.open_bytes(sealed, **moved_to)


def test_file_under_another_data_key_fails(ring, key, document):
    sealed = key.seal_bytes(document, **FILE)
    with pytest.raises(CryptoError):
        ring.new_data_key()[0].open_bytes(sealed, **FILE)


# -- the keyring file -------------------------------------------------------------------


def test_keyring_file_is_private_and_survives_save(tmp_path):
    path = tmp_path / "nested" / "keyring.json"
    ring = crypto.create_keyring_file(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    ring.add_key()
    ring.save()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    reloaded = Keyring.load(path)
    assert reloaded.active_id == ring.active_id
    assert reloaded.keys == ring.keys


def test_create_keyring_file_refuses_to_overwrite(tmp_path):
    path = tmp_path / "keyring.json"
    ring = crypto.create_keyring_file(path)
    before = path.read_bytes()
    with pytest.raises(KeyringError, match="refusing to overwrite"):
        crypto.create_keyring_file(path)
    assert path.read_bytes() == before
    assert Keyring.load(path).keys == ring.keys


@pytest.mark.parametrize(
    "content",
    [
        "",
        "not json",
        "{}",
        '{"active": "a", "keys": {}}',
        '{"active": "a", "keys": {"a": "c2hvcnQ="}}',
    ],
)
def test_broken_keyring_file_is_refused(tmp_path, content):
    path = tmp_path / "keyring.json"
    path.write_text(content)
    with pytest.raises(KeyringError):
        Keyring.load(path)
