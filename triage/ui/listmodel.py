"""What the series list shows: the rows of a source, older versions folded under the newest,
marks and the states just set. No Textual.

A source is the index's :class:`~triage.cache.listing.ListView` (sorted and filtered by
SQLite, read a window at a time) or rows in memory (the queue, a first build's list).
The model asks a source only for the rows on screen, in chunks it keeps a few of.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from triage.cache.listing import SORTS, sort_name, state_rank
from triage.model.series import STATES

Row = dict[str, Any]
CHUNK = 64  # rows read from a source at a time
CHUNKS_KEPT = 32


class Source(Protocol):
    sort: str
    state: str | None

    def count(self) -> int: ...
    def window(self, start: int, n: int) -> list[Row]: ...
    def get(self, series_id: str) -> Row | None: ...
    def position(self, series_id: str) -> int | None: ...
    def counts(self) -> dict[str, int]: ...
    def with_(self, *, sort: str, state: str | None) -> Source: ...
    def close(self) -> None: ...


def _current(row: Row) -> bool:
    """A row the list shows as a head: no newer version, or only parts of a split not yet holding it."""
    return bool(row.get("current", not row["newer_versions"]))


class MemoryRows:
    """Rows in memory, sorted and filtered here (the queue's, or a first build's)."""

    def __init__(self, rows: list[Row], *, sort: str = "date", state: str | None = None) -> None:
        self.rows, self.sort, self.state = rows, sort, state
        self._by_id = {r["id"]: r for r in rows}
        heads = [r for r in rows if _current(r)]
        self._all_heads = heads
        if state is not None:
            heads = [r for r in heads if r["state"] == state]
        heads.sort(key=self._key)
        self._heads = heads
        self._pos = {r["id"]: i for i, r in enumerate(heads)}

    def _key(self, r: Row) -> tuple:
        if self.sort == "author":
            return (sort_name(r["author"]["name"], r["author"]["email"]), -_ts(r))
        if self.sort == "state":
            return (state_rank(r["state"]), -_ts(r))
        return (-_ts(r),)

    def with_(self, *, sort: str, state: str | None) -> MemoryRows:
        return MemoryRows(self.rows, sort=sort, state=state)

    def count(self) -> int:
        return len(self._heads)

    def window(self, start: int, n: int) -> list[Row]:
        return self._heads[max(0, start) : max(0, start) + max(0, n)]

    def get(self, series_id: str) -> Row | None:
        return self._by_id.get(series_id)

    def position(self, series_id: str) -> int | None:
        return self._pos.get(series_id)

    def counts(self) -> dict[str, int]:
        out = {s: 0 for s in STATES}
        for r in self._all_heads:
            out[r["state"]] = out.get(r["state"], 0) + 1
        return out

    def close(self) -> None:
        pass


@dataclass
class ListModel:
    source: Source = field(default_factory=lambda: MemoryRows([]))
    expanded: set[str] = field(default_factory=set)  # ids of series whose older versions are shown
    marked: set[str] = field(default_factory=set)
    query: str = "*"
    _changed: dict[str, Row] = field(default_factory=dict)  # what was set on rows since they were read
    _chunks: OrderedDict[int, list[Row]] = field(default_factory=OrderedDict)
    _inserts: list[tuple[int, str, list[str]]] = field(default_factory=list)  # (head position, head, older ids)

    # -- the source ---------------------------------------------------------------------------
    @property
    def sort(self) -> str:
        return self.source.sort

    @property
    def state_filter(self) -> str | None:
        return self.source.state

    @state_filter.setter
    def state_filter(self, state: str | None) -> None:
        self._use(self.source.with_(sort=self.sort, state=state))

    def set_rows(self, rows: list[Row]) -> None:
        """Show rows held in memory, sorted and filtered as the list is now."""
        self.set_source(MemoryRows(rows, sort=self.sort, state=self.state_filter))

    def set_source(self, source: Source) -> None:
        """Show another source (a new load): what was set on the old rows is in it now, and
        marks, as a new list's rows are not those that were marked."""
        self._changed.clear()
        self.marked.clear()
        self._use(source)

    def _use(self, source: Source) -> None:
        old = self.source
        self.source = source
        if old is not source:
            old.close()
        self._chunks.clear()
        self._place_versions()

    @property
    def rows(self) -> list[Row]:
        """Every row shown (for tests and small lists; the screen reads windows)."""
        return [r for r, _ in self.window(0, len(self))]

    # -- sorting, filtering, folding ---------------------------------------------------------------
    def cycle_sort(self) -> str:
        self._use(self.source.with_(sort=SORTS[(SORTS.index(self.sort) + 1) % len(SORTS)], state=self.state_filter))
        return self.sort

    def cycle_state_filter(self) -> str | None:
        order: list[str | None] = [None, *STATES]
        self.state_filter = order[(order.index(self.state_filter) + 1) % len(order)]
        return self.state_filter

    def is_shown(self, series_id: str) -> bool:
        """Whether the series has a row now: a current one, or an older version unfolded."""
        row = self.get(series_id)
        if row is None:
            return False
        return _current(row) or row["newer_versions"][-1] in self.expanded

    def toggle_versions(self, series_id: str) -> bool:
        """Show or fold the older versions under the newest one; True when now shown."""
        row = self.get(series_id)
        if row is None:
            return False
        head = row["id"] if _current(row) else row["newer_versions"][-1]
        shown = head not in self.expanded
        (self.expanded.add if shown else self.expanded.discard)(head)
        self._place_versions()
        return shown

    def _place_versions(self) -> None:
        inserts = []
        for head in self.expanded:
            pos = self.source.position(head)
            row = self.source.get(head)
            if pos is None or row is None:
                continue
            # An older version still current (a split that does not yet hold it) is a row of its own.
            older = [old for old in reversed(row["previous_versions"])
                     if (got := self.source.get(old)) is not None and not _current(got)]
            if older:
                inserts.append((pos, head, older))
        self._inserts = sorted(inserts)

    # -- reading -------------------------------------------------------------------------------------
    def __len__(self) -> int:
        return self.source.count() + sum(len(older) for _, _, older in self._inserts)

    def _head_row(self, pos: int) -> Row | None:
        chunk, at = divmod(pos, CHUNK)
        rows = self._chunks.get(chunk)
        if rows is None:
            rows = self.source.window(chunk * CHUNK, CHUNK)
            self._chunks[chunk] = rows
            while len(self._chunks) > CHUNKS_KEPT:
                self._chunks.popitem(last=False)
        else:
            self._chunks.move_to_end(chunk)
        return self._fresh(rows[at]) if at < len(rows) else None

    def _fresh(self, row: Row) -> Row:
        changed = self._changed.get(row["id"])
        out = {**row, **changed} if changed else row
        if row["id"] in self.marked:
            out = {**out, "marked": True}
        return out

    def at(self, index: int) -> tuple[Row, int] | None:
        """(row, depth) of line ``index``; depth 1 is an older version under its newest."""
        if index < 0:
            return None
        shift = 0
        for pos, _, older in self._inserts:
            if index <= pos + shift:
                break
            if index <= pos + shift + len(older):
                row = self.get(older[index - pos - shift - 1])
                return (row, 1) if row is not None else None
            shift += len(older)
        row = self._head_row(index - shift)
        return (row, 0) if row is not None else None

    def window(self, start: int, n: int) -> list[tuple[Row, int]]:
        out = []
        for i in range(max(0, start), min(len(self), start + n)):
            got = self.at(i)
            if got is not None:
                out.append(got)
        return out

    def visible(self) -> list[tuple[Row, int]]:
        return self.window(0, len(self))

    def index_of(self, series_id: str) -> int | None:
        """The line a series is on, when shown."""
        shift = 0
        for pos, _, older in self._inserts:
            if series_id in older:
                return pos + shift + 1 + older.index(series_id)
            shift += len(older)
        head = self.source.position(series_id)
        if head is None:
            return None
        return head + sum(len(older) for p, _, older in self._inserts if p < head)

    def get(self, series_id: str) -> Row | None:
        row = self.source.get(series_id)
        return self._fresh(row) if row is not None else None

    def counts(self) -> dict[str, int]:
        """Current series by state, with the states set since the rows were read."""
        out = self.source.counts()
        for sid, changed in self._changed.items():
            row = self.source.get(sid) if "state" in changed else None
            if row is None or not _current(row) or row["state"] == changed["state"]:
                continue
            out[row["state"]] = max(0, out.get(row["state"], 0) - 1)
            out[changed["state"]] = out.get(changed["state"], 0) + 1
        return out

    # -- what the screen sets ---------------------------------------------------------------------------
    def set_state(self, series_id: str, state: str) -> None:
        self.change(series_id, state=state)

    def change(self, series_id: str, **values: Any) -> None:
        self._changed.setdefault(series_id, {}).update(values)

    def toggle_mark(self, series_id: str) -> bool:
        if series_id in self.marked:
            self.marked.discard(series_id)
            return False
        self.marked.add(series_id)
        return True


def _ts(r: Row) -> float:
    try:
        return datetime.fromisoformat(r["date"]).timestamp()
    except (ValueError, KeyError):
        return 0.0
