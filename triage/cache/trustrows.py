"""Signature verdicts the index keeps (each checked once), and list-rewritten senders still
to be checked when DNS answers.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

import msgspec

from triage.cache.codec import _chunks, _decode_verdict, _encode_blob
from triage.mail.dkimcheck import UNPARSED, Verdict, list_vouches
from triage.model.series import MessageRecord
from triage.series.trust import Verifier, rewrite_candidates

VERDICTS = "CREATE TABLE IF NOT EXISTS verdicts(msgid TEXT PRIMARY KEY, final INTEGER, data BLOB) WITHOUT ROWID"


def _read_verdicts(con: sqlite3.Connection | None, ids: Iterable[str] | None = None) -> dict[str, Verdict]:
    """Verdicts kept in the index (of ``ids``, or all); a damaged one is checked again."""
    if con is None:
        return {}
    out: dict[str, Verdict] = {}
    try:
        con.execute(VERDICTS)
        if ids is None:
            rows = con.execute("SELECT msgid, data FROM verdicts").fetchall()
        else:
            rows = []
            for chunk in _chunks(list(ids)):
                rows += con.execute(f"SELECT msgid, data FROM verdicts WHERE msgid IN ({','.join('?' * len(chunk))})",
                                    chunk).fetchall()
    except sqlite3.DatabaseError:
        return {}
    for mid, blob in rows:
        try:
            v = _decode_verdict(blob)
        except (msgspec.DecodeError, TypeError):
            continue
        # Every message of vger's lists read "could not be parsed" before dkimpy's ARC lookup
        # was mended (see dkimcheck._arc_spaced): such a verdict is checked again.
        if v.dkim != UNPARSED:
            out[mid] = v
    return out


def _vouched(verifier: Verifier, r: MessageRecord) -> bool:
    claimed = r.facts.claimed
    return claimed is not None and list_vouches(verifier.known.get(r.message_id), r.from_email, claimed[1],
                                                verifier.trusted_lists)


def _keep_verdicts(con: sqlite3.Connection, verifier: Verifier) -> None:
    """What ``verifier`` checked for good (DNS answered), kept in the caller's transaction so
    it is checked once."""
    final = [(mid, v) for mid, v in verifier.fresh.items() if v.final]
    verifier.fresh.clear()
    if final:
        con.execute(VERDICTS)
        con.executemany("INSERT OR REPLACE INTO verdicts VALUES (?, ?, ?)",
                        ((mid, 1, _encode_blob(v)) for mid, v in final))


PENDING = "CREATE TABLE IF NOT EXISTS pending(msgid TEXT PRIMARY KEY, thread_id TEXT) WITHOUT ROWID"


def _write_pending(con: sqlite3.Connection, records: list[MessageRecord], verifier: Verifier,
                   replace: Iterable[str] | None = None) -> None:
    """List-rewritten senders whose signatures could not be checked (no DNS): a later
    :meth:`SeriesIndex.recheck_rewrites` checks them again. ``replace``: the threads whose
    entries these records replace (all when None)."""
    con.execute(PENDING)
    if replace is None:
        con.execute("DELETE FROM pending")
    else:
        con.executemany("DELETE FROM pending WHERE thread_id=?", ((t,) for t in replace))
    candidates = rewrite_candidates(records)
    if candidates:
        verdicts = verifier.verdicts(r.message_id for r in candidates)
        con.executemany("INSERT OR REPLACE INTO pending VALUES (?, ?)",
                        ((r.message_id, r.thread_id) for r in candidates if not verdicts[r.message_id].final))
