"""One way to seal a column of a row: the associated data is built here only.

A sealed value is bound to its place, `table:column:row` (trygg.crypto turns that
into the AEAD's associated data), so a ciphertext copied to another column or row fails
to open. Callers name the place by the model (a mapped class or one of its rows), the
column, and the row id when the row object has none yet; the table name is the model's
own, never a string typed at the call site.

    body_sealed = sealing.seal(key, message, "body", text)
    text = sealing.open_text(key, message, "body", message.body_sealed)
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from trygg.crypto import DataKey


def _place(record: Any, row: object | None) -> tuple[str, object]:
    table: str = record.__table__.name
    return table, record.id if row is None else row


def seal(
    key: DataKey, record: Any, column: str, value: str | bytes, *, row: object = None
) -> bytes:
    """`value` sealed for `column` of `record`'s row (`row`: its id, if not record.id)."""
    table, row_id = _place(record, row)
    return key.seal(value, table=table, column=column, row=row_id)


def open_text(key: DataKey, record: Any, column: str, blob: bytes, *, row: object = None) -> str:
    """A sealed UTF-8 value of `column` of `record`'s row; CryptoError if altered or moved."""
    table, row_id = _place(record, row)
    return key.open_text(blob, table=table, column=column, row=row_id)


def seal_stream(
    key: DataKey, record: Any, chunks: Iterable[bytes], *, row: object = None
) -> Iterator[bytes]:
    """A file sealed chunk by chunk, bound to `record`'s row."""
    table, row_id = _place(record, row)
    return key.seal_stream(chunks, table=table, row=row_id)


def open_stream(
    key: DataKey, record: Any, chunks: Iterable[bytes], *, row: object = None
) -> Iterator[bytes]:
    """A sealed file opened chunk by chunk; CryptoError on truncation or tampering."""
    table, row_id = _place(record, row)
    return key.open_stream(chunks, table=table, row=row_id)
