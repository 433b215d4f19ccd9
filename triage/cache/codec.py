"""The index's records as bytes: MessagePack decoded against their types, so nothing read back
can run code and a damaged or planted blob fails validation (and the index is rebuilt).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator

import msgspec

from triage.mail.dkimcheck import Verdict
from triage.model.records import BodyFacts
from triage.model.series import MessageRecord
from triage.series.linking import LinkInfo

# What the index stores is plain data in MessagePack, decoded against these types: nothing in
# it can run code on load, and a damaged or planted blob fails validation (and the index is
# rebuilt) instead of reaching the model.
_Trailers = tuple[tuple[str, str], ...]
_FactsRow = tuple[
    bool, _Trailers, _Trailers, str | None, tuple[str, ...], bool, tuple[str, ...], tuple[str, ...],
    tuple[str, str, tuple[str, ...], tuple[int, ...], bool, tuple[str, str] | None] | None,  # decision
    tuple[str, str] | None,  # ci
    tuple[str, ...],  # named
    tuple[int, int] | None,  # clamped
    tuple[str, str] | None, tuple[str, str] | None, str | None,
]
_MessageRow = tuple[str, str, str, str, int, str | None, tuple[str, ...], _FactsRow | None]
_encode_blob = msgspec.msgpack.Encoder().encode
_decode_thread = msgspec.msgpack.Decoder(list[_MessageRow]).decode
_decode_link = msgspec.msgpack.Decoder(LinkInfo).decode
_decode_verdict = msgspec.msgpack.Decoder(Verdict).decode
# Everything reading a damaged index can raise besides sqlite3's own errors.
DAMAGE = (sqlite3.DatabaseError, msgspec.DecodeError, ValueError, TypeError, AttributeError, KeyError, IndexError)


class DamagedIndex(sqlite3.DatabaseError):
    """Something read from the index is not what the index writes."""


def _pack_thread(records: list[MessageRecord]) -> bytes:
    """One thread's messages as plain tuples (MessagePack)."""
    return _encode_blob(
        [
            (r.message_id, r.subject, r.from_name, r.from_email, r.date, r.parent_id, tuple(r.tags), r.facts.to_tuple())
            for r in records
        ]
    )


def _unpack_thread(thread_id: str, blob: object) -> list[MessageRecord]:
    if not isinstance(blob, bytes):
        raise DamagedIndex(f"thread {thread_id}: no data")
    try:
        rows = _decode_thread(blob)
    except msgspec.DecodeError as e:
        raise DamagedIndex(f"thread {thread_id}: {e}") from e
    return [
        MessageRecord(mid, thread_id, subject, name, email, date, parent, frozenset(tags), facts=BodyFacts.from_tuple(f))
        for mid, subject, name, email, date, parent, tags, f in rows
    ]


def _unpack_link(blob: object) -> LinkInfo:
    if not isinstance(blob, bytes):
        raise DamagedIndex("series link: no data")
    try:
        return _decode_link(blob)
    except msgspec.DecodeError as e:
        raise DamagedIndex(f"series link: {e}") from e


def _by_thread(records: Iterable[MessageRecord]) -> dict[str, list[MessageRecord]]:
    out: dict[str, list[MessageRecord]] = {}
    for r in records:
        out.setdefault(r.thread_id, []).append(r)
    return out


def _chunks(items: list, size: int = 400) -> Iterator[list]:
    """SQLite takes a bounded number of parameters: lists go in chunks."""
    for i in range(0, len(items), size):
        yield items[i : i + size]
