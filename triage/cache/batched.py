"""A first build of a large store in bounded memory: threads newest first, a batch at a time.

Each batch (whole threads, about ``batch_messages`` messages) is walked with its body
facts, grouped together with what the index already holds of the threads its series
can reach (as a refresh regroups changed threads: :meth:`BuildMixin._regroup`), and
written; its records are then dropped. Versions are linked last, one family of series
at a time (series that share no link key and refer to none of each other's messages
never link), from the light link records the batches wrote. The answer is written
from the index series by series when it is first asked for. What it holds at its
peak is one batch, the union-find of series ids, and one chunk of families: not the
store.
"""

from __future__ import annotations

import sqlite3
from array import array
from collections.abc import Callable, Iterator

from triage.cache import listing
from triage.cache.codec import _unpack_link
from triage.cache.fragments import _list_entry, _versions_of
from triage.cache.links import _chunks
from triage.series.linking import LinkInfo

# Series linked in one go in the last pass (whole families, so a chunk may be larger).
LINK_CHUNK = 2000


def families(con: sqlite3.Connection) -> Iterator[list[int]]:
    """The index's series (their rowids) in families that link only among themselves, each
    sorted, the families in the order of their first series. A union-find over an array of
    rowids: four bytes a series, however many there are."""
    (top,) = con.execute("SELECT COALESCE(MAX(rowid), 0) FROM series").fetchone()
    parent = array("l", range(top + 1))

    def find(x: int) -> int:
        root = x
        while parent[root] != root:
            root = parent[root]
        while parent[x] != root:  # path compression
            parent[x], x = root, parent[x]
        return root

    def union(a: int, b: int) -> None:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)

    last_key: int | None = None
    first = 0
    # A key a series has and a key it seeks both join it to every series with that key:
    # a larger family than the refresh's reachability (harmless, only a larger link pass).
    for key, row in con.execute(
        "SELECT lk.key, s.rowid FROM link_keys lk JOIN series s ON s.id = lk.series_id UNION "
        "SELECT lk.seeks, s.rowid FROM link_keys lk JOIN series s ON s.id = lk.series_id ORDER BY 1"
    ):
        if key != last_key:
            last_key, first = key, row
        else:
            union(first, row)
    for a, b in con.execute(
        "SELECT sa.rowid, sb.rowid FROM refers r JOIN series sa ON sa.id = r.series_id "
        "JOIN msg_thread m ON m.msgid = r.msgid JOIN series_threads st ON st.thread_id = m.thread_id "
        "JOIN series sb ON sb.id = st.series_id"
    ):
        union(a, b)
    rows = [row for (row,) in con.execute("SELECT rowid FROM series ORDER BY rowid")]
    rows.sort(key=find)  # stable: each family's rows stay in order; families by their least row
    family: list[int] = []
    root = -1
    for row in rows:
        r = find(row)
        if r != root and family:
            yield family
            family = []
        root = r
        family.append(row)
    if family:
        yield family


def link_all(con: sqlite3.Connection, progress: Callable[[int], None] | None = None) -> int:
    """Link versions over the whole index, a chunk of families at a time, and write the
    list's rows. Returns how many series were listed."""
    done = 0
    chunk: list[int] = []

    def flush() -> None:
        nonlocal done
        infos: list[LinkInfo] = []
        rows: list[tuple] = []
        for part in _chunks(chunk):
            marks = ",".join("?" * len(part))
            for sid, date, name, st, light, blob in con.execute(
                f"SELECT id, date, sort_name, state_tag, light, link FROM series WHERE rowid IN ({marks})", part
            ):
                infos.append(_unpack_link(blob))
                rows.append((sid, date, name, st, light))
        versions = _versions_of(infos, carry=False)
        listing.write(con, [_list_entry(sid, date, name, st, light, versions) for sid, date, name, st, light in rows])
        done += len(rows)
        if progress is not None:
            progress(done)

    for members in families(con):
        chunk.extend(members)
        if len(chunk) >= LINK_CHUNK:
            flush()
            chunk = []
    if chunk:
        flush()
    return done
