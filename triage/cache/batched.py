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
from collections.abc import Callable, Iterator

from triage.cache import listing
from triage.cache.codec import _unpack_link
from triage.cache.fragments import _list_entry, _versions_of
from triage.cache.links import _chunks
from triage.series.linking import LinkInfo, _UnionFind

# Series linked in one go in the last pass (whole families, so a chunk may be larger).
LINK_CHUNK = 2000


def families(con: sqlite3.Connection) -> Iterator[list[str]]:
    """The index's series in families that link only among themselves, each sorted, the
    families in the order of their first series."""
    fam = _UnionFind()
    for (sid,) in con.execute("SELECT id FROM series ORDER BY id"):
        fam.find(sid)
    last_key: int | None = None
    first = ""
    # A key a series has and a key it seeks both join it to every series with that key:
    # a larger family than the refresh's reachability (harmless, only a larger link pass).
    for key, sid in con.execute(
        "SELECT key, series_id FROM link_keys UNION SELECT seeks, series_id FROM link_keys ORDER BY 1"
    ):
        if key != last_key:
            last_key, first = key, sid
        else:
            fam.union(first, sid)
    for a, b in con.execute(
        "SELECT r.series_id, st.series_id FROM refers r JOIN msg_thread m ON m.msgid = r.msgid "
        "JOIN series_threads st ON st.thread_id = m.thread_id"
    ):
        fam.union(a, b)
    groups: dict[str, list[str]] = {}
    for sid in fam.parent:
        groups.setdefault(fam.find(sid), []).append(sid)
    del fam
    for members in sorted(groups.values(), key=min):
        members.sort()
        yield members


def link_all(con: sqlite3.Connection, progress: Callable[[int], None] | None = None) -> int:
    """Link versions over the whole index, a chunk of families at a time, and write the
    list's rows. Returns how many series were listed."""
    done = 0
    chunk: list[str] = []

    def flush() -> None:
        nonlocal done
        infos: list[LinkInfo] = []
        rows: list[tuple] = []
        for part in _chunks(chunk):
            marks = ",".join("?" * len(part))
            for sid, date, name, st, light, blob in con.execute(
                f"SELECT id, date, sort_name, state_tag, light, link FROM series WHERE id IN ({marks})", part
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
