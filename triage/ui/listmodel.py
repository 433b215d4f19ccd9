"""What the series list shows: filter, sort and version folding over ``series --json`` rows. No Textual."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from triage.model.series import STATES

SORTS = ("date", "author", "state")
Row = dict[str, Any]


@dataclass
class ListModel:
    rows: list[Row] = field(default_factory=list)
    sort: str = "date"
    state_filter: str | None = None
    expanded: set[str] = field(default_factory=set)  # ids of series whose older versions are shown
    query: str = "*"

    def __post_init__(self) -> None:
        self._by_id = {r["id"]: r for r in self.rows}

    def set_rows(self, rows: list[Row]) -> None:
        self.rows = rows
        self._by_id = {r["id"]: r for r in rows}

    def get(self, series_id: str) -> Row | None:
        return self._by_id.get(series_id)

    def cycle_sort(self) -> str:
        self.sort = SORTS[(SORTS.index(self.sort) + 1) % len(SORTS)]
        return self.sort

    def cycle_state_filter(self) -> str | None:
        order: list[str | None] = [None, *STATES]
        self.state_filter = order[(order.index(self.state_filter) + 1) % len(order)]
        return self.state_filter

    def toggle_versions(self, series_id: str) -> bool:
        """Show or fold the older versions under the newest one; True when now shown."""
        row = self._by_id.get(series_id)
        if row is None:
            return False
        head = row["newer_versions"][-1] if row["newer_versions"] else row["id"]
        if head in self.expanded:
            self.expanded.discard(head)
            return False
        self.expanded.add(head)
        return True

    def _key(self, r: Row) -> tuple:
        if self.sort == "author":
            return ((r["author"]["name"] or r["author"]["email"]).lower(), -_ts(r))
        if self.sort == "state":
            return (STATES.index(r["state"]) if r["state"] in STATES else 99, -_ts(r))
        return (-_ts(r),)

    def visible(self) -> list[tuple[Row, int]]:
        """(row, depth): depth 1 marks an older version shown under its newest."""
        heads = [r for r in self.rows if not r["newer_versions"]]
        if self.state_filter:
            heads = [r for r in heads if r["state"] == self.state_filter]
        heads.sort(key=self._key)
        out: list[tuple[Row, int]] = []
        for r in heads:
            out.append((r, 0))
            if r["id"] in self.expanded:
                for old in reversed(r["previous_versions"]):
                    if old in self._by_id:
                        out.append((self._by_id[old], 1))
        return out

    def counts(self) -> dict[str, int]:
        heads = [r for r in self.rows if not r["newer_versions"]]
        out = {s: 0 for s in STATES}
        for r in heads:
            out[r["state"]] = out.get(r["state"], 0) + 1
        return out

    def set_state(self, series_id: str, state: str) -> None:
        r = self._by_id.get(series_id)
        if r is not None:
            r["state"] = state


def _ts(r: Row) -> float:
    from datetime import datetime

    try:
        return datetime.fromisoformat(r["date"]).timestamp()
    except (ValueError, KeyError):
        return 0.0
