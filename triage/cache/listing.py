"""The series list as the index keeps it: one row per series, read a window at a time.

The index keeps, beside each series' JSON, the list row the screen shows (the light
JSON with its state and version links settled) in a table with the columns the list
sorts and filters on, each with an index. A screen asks for the rows it draws, the
count and the per-state counts, so its first paint costs the same on any store size:
nothing reads or decodes the whole list.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Collection, Iterable
from pathlib import Path
from typing import Any

import msgspec

from triage.model.series import STATES, state_read

SORTS = ("date", "author", "state")
Row = dict[str, Any]

CREATE = """
CREATE TABLE list(id TEXT PRIMARY KEY, head INTEGER, date INTEGER, sort_name TEXT, state TEXT,
                  state_rank INTEGER, row TEXT);
CREATE INDEX list_by_date ON list(head, date DESC, id DESC);
CREATE INDEX list_by_author ON list(head, sort_name, date DESC, id DESC);
CREATE INDEX list_by_state ON list(head, state_rank, date DESC, id DESC);
CREATE INDEX list_in_state ON list(head, state, date DESC, id DESC);
"""

_ORDER = {
    "date": "date DESC, id DESC",
    "author": "sort_name, date DESC, id DESC",
    "state": "state_rank, date DESC, id DESC",
}
# Rows before (key..., date, id) in each order: the position of a series without a scan.
_BEFORE = {
    "date": "(date > :date OR (date = :date AND id > :id))",
    "author": "(sort_name < :key OR (sort_name = :key AND (date > :date OR (date = :date AND id > :id))))",
    "state": "(state_rank < :key OR (state_rank = :key AND (date > :date OR (date = :date AND id > :id))))",
}
_decode_row = msgspec.json.Decoder(dict[str, Any]).decode


def state_rank(state: str) -> int:
    return STATES.index(state) if state in STATES else 99


def sort_name(author_name: str, author_email: str) -> str:
    return (author_name or author_email).lower()


def entry(sid: str, date: int, name_key: str, state_tag: str | None, newer: bool, row: str) -> tuple:
    """A ``list`` table row. ``row`` is the series' light JSON with its state and links."""
    state = state_read(state_tag, superseded=newer)
    return (sid, 0 if newer else 1, date, name_key, state, state_rank(state), row)


def write(con: sqlite3.Connection, entries: Iterable[tuple]) -> None:
    con.executemany("INSERT OR REPLACE INTO list VALUES (?, ?, ?, ?, ?, ?, ?)", entries)


class ListView:
    """One query's list, sorted and filtered by SQLite: the rows a screen draws, on demand.

    It holds its own connection (WAL: a refresh writing meanwhile is not waited for, and
    each read sees the last committed list). A view of a notmuch query's matches keeps
    their series ids in a temporary table. The screen reads it and so do its workers, and
    the screen closes it when another list arrives (each batch of a first build): one
    lock orders them, and a closed view answers as an empty one (a closed connection
    used by another thread mid-statement crashed the process)."""

    def __init__(
        self,
        path: Path,
        *,
        sort: str = "date",
        state: str | None = None,
        wanted: Collection[str] | None = None,
    ) -> None:
        if sort not in _ORDER:
            raise ValueError(f"unknown sort {sort!r}")
        self.path = path
        self.sort = sort
        self.state = state
        self._con = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=5.0)
        self._con.execute("PRAGMA query_only=ON")
        self._where = "head = 1"
        self._args: dict[str, object] = {}
        if state is not None:
            self._where += " AND state = :state"
            self._args["state"] = state
        self._wanted = wanted is not None
        if wanted is not None:
            self._con.execute("PRAGMA query_only=OFF")  # a temporary table is this connection's own
            self._con.execute("CREATE TEMP TABLE wanted(id TEXT PRIMARY KEY)")
            self._con.executemany("INSERT OR IGNORE INTO temp.wanted VALUES (?)", ((i,) for i in wanted))
            self._con.execute("PRAGMA query_only=ON")
            self._where += " AND id IN (SELECT id FROM temp.wanted)"
        self._count: int | None = None
        self._lock = threading.Lock()
        self._closed = False

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._con.close()

    def with_(self, *, sort: str, state: str | None) -> ListView:
        """The same query sorted or filtered another way."""
        with self._lock:
            wanted = [i for (i,) in self._con.execute("SELECT id FROM temp.wanted")] if self._wanted and not self._closed else None
        return ListView(self.path, sort=sort, state=state, wanted=wanted)

    def count(self) -> int:
        with self._lock:
            if self._closed:
                return self._count or 0
            if self._count is None:
                (self._count,) = self._con.execute(f"SELECT count(*) FROM list WHERE {self._where}", self._args).fetchone()
            return self._count

    def window(self, start: int, n: int) -> list[Row]:
        """Rows ``start`` .. ``start + n`` of the list, in its order."""
        if n <= 0 or start < 0:
            return []
        q = f"SELECT row FROM list WHERE {self._where} ORDER BY {_ORDER[self.sort]} LIMIT :n OFFSET :start"
        with self._lock:
            if self._closed:
                return []
            rows = self._con.execute(q, {**self._args, "n": n, "start": start}).fetchall()
        return [_decode_row(r) for (r,) in rows]

    def get(self, series_id: str) -> Row | None:
        """Any series' row, shown in this list or not (an older version, say)."""
        with self._lock:
            if self._closed:
                return None
            got = self._con.execute("SELECT row FROM list WHERE id = ?", (series_id,)).fetchone()
        return _decode_row(got[0]) if got else None

    def position(self, series_id: str) -> int | None:
        """Where a series is in this list; None when the list does not show it."""
        with self._lock:
            if self._closed:
                return None
            got = self._con.execute(
                f"SELECT date, sort_name, state_rank FROM list WHERE id = :id AND {self._where}",
                {**self._args, "id": series_id},
            ).fetchone()
            if got is None:
                return None
            date, name, rank = got
            key = name if self.sort == "author" else rank
            q = f"SELECT count(*) FROM list WHERE {self._where} AND {_BEFORE[self.sort]}"
            (before,) = self._con.execute(q, {**self._args, "date": date, "id": series_id, "key": key}).fetchone()
        return int(before)

    def counts(self) -> dict[str, int]:
        """How many current series are in each state (whatever state this view shows)."""
        where = "head = 1" + (" AND id IN (SELECT id FROM temp.wanted)" if self._wanted else "")
        out = {s: 0 for s in STATES}
        with self._lock:
            if self._closed:
                return out
            rows = self._con.execute(f"SELECT state, count(*) FROM list WHERE {where} GROUP BY state").fetchall()
        for state, n in rows:
            out[state] = n
        return out
