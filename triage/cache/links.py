"""Version links in the index: link keys (what can link two series), the refers table
(Supersedes:, re-rolls), and relinking only the series that a change can reach.
"""

from __future__ import annotations

import json
import sqlite3
import zlib
from collections.abc import Iterable, Iterator

from triage.cache import listing
from triage.cache.codec import _unpack_link
from triage.cache.fragments import _list_entry, _versions_of
from triage.series.linking import LinkInfo


def _key_hash(key: str) -> int:
    """A link key as an integer (stable across processes, unlike ``hash``): an index of
    integers costs a fraction of one of titles. Two keys sharing a hash only make a
    refresh relink a few more series, never fewer."""
    return zlib.crc32(key.encode())


def _link_keys(info: LinkInfo) -> Iterator[tuple[str, str]]:
    """(key a series has, key it seeks) for what can link it to another (see
    grouping.link_versions): its title keys and change-id, its author by address, its
    author's name (a name links only where one side came through a relay or a list,
    person "": a person's series seek relayed ones, a relayed one seeks both). The
    messages it supersedes and the series it re-rolls are in the ``refers`` table.
    Series that share no key and refer to none of each other's messages never link, so
    a refresh relinks only those that do with a changed series."""
    for kind, who, key in info.keys:
        k = f"{kind}\x00{who}\x00{key}"
        yield k, k
        if kind == "name":
            if info.person:
                yield f"person-name\x00{who}", f"relay-name\x00{who}"
            else:
                yield f"relay-name\x00{who}", f"relay-name\x00{who}"
                yield f"relay-name\x00{who}", f"person-name\x00{who}"
    if info.person:
        k = f"author\x00{info.person}"
        yield k, k


def _chunks(items: list, size: int = 400) -> Iterator[list]:
    """SQLite takes a bounded number of parameters: lists go in chunks."""
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _link_key_rows(infos: Iterable[LinkInfo]) -> Iterator[tuple[int, str, int]]:
    for info in infos:
        for has, seeks in dict.fromkeys(_link_keys(info)):
            yield _key_hash(has), info.id, _key_hash(seeks)


def _refers_rows(infos: Iterable[LinkInfo]) -> Iterator[tuple[str, str]]:
    """(message id, series): a message the series supersedes or names as an earlier version
    (another author's is a claim, which no author key reaches), or the root of the series
    it re-rolls (a series' id is its root message's id)."""
    return ((mid, info.id) for info in infos for mid in dict.fromkeys((*info.supersedes, *info.named, *info.link_to)))


def _index_link_keys(con: sqlite3.Connection) -> None:
    for statement in (
        "CREATE INDEX IF NOT EXISTS link_keys_key ON link_keys(key)",
        "CREATE INDEX IF NOT EXISTS link_keys_series ON link_keys(series_id)",
        "CREATE INDEX IF NOT EXISTS refers_msgid ON refers(msgid)",
        "CREATE INDEX IF NOT EXISTS refers_series ON refers(series_id)",
    ):
        con.execute(statement)


def _write_link_keys(con: sqlite3.Connection, infos: list[LinkInfo]) -> None:
    con.executemany("INSERT INTO link_keys VALUES (?, ?, ?)", _link_key_rows(infos))
    con.executemany("INSERT INTO refers VALUES (?, ?)", _refers_rows(infos))


def _families(con: sqlite3.Connection, ids: Iterable[str]) -> set[str]:
    """``ids`` and every version the list links them to now."""
    out = set(ids)
    for sid in list(out):
        got = con.execute("SELECT row FROM list WHERE id=?", (sid,)).fetchone()
        if got is not None:
            row = json.loads(got[0])
            out.update(row.get("previous_versions") or ())
            out.update(row.get("newer_versions") or ())
    return out


def _reachable(con: sqlite3.Connection, start: set[str]) -> set[str]:
    """Every series that could link, through a shared link key or Supersedes:, with
    ``start`` (and the families they are in now): the only ones whose links a change
    can alter. A larger set is harmless (it is linked as a whole); a smaller one is not."""
    seen: set[str] = set()
    expanded: set[int] = set()  # keys whose series are in already (an author's: hundreds)
    todo = set(start)
    while todo:
        batch = sorted(todo - seen)
        seen.update(batch)
        found: set[str] = set()
        for chunk in _chunks(batch):
            marks = ",".join("?" * len(chunk))
            seeks = {k for (k,) in con.execute(f"SELECT seeks FROM link_keys WHERE series_id IN ({marks})", chunk)}
            new_keys = sorted(seeks - expanded)
            expanded.update(new_keys)
            for ks in _chunks(new_keys):
                found.update(sid for (sid,) in con.execute(
                    f"SELECT series_id FROM link_keys WHERE key IN ({','.join('?' * len(ks))})", ks))
            # Series that supersede or re-roll a message of these ...
            mids = [m for (ms,) in con.execute(f"SELECT members FROM series WHERE id IN ({marks})", chunk)
                    for m in ms.split("\n")]
            for ms in _chunks(mids):
                found.update(sid for (sid,) in con.execute(
                    f"SELECT series_id FROM refers WHERE msgid IN ({','.join('?' * len(ms))})", ms))
            # ... and the series of the messages these supersede or re-roll.
            sups = [m for (m,) in con.execute(f"SELECT msgid FROM refers WHERE series_id IN ({marks})", chunk)]
            for ms in _chunks(sups):
                found.update(sid for (sid,) in con.execute(
                    "SELECT st.series_id FROM msg_thread m JOIN series_threads st ON st.thread_id = m.thread_id "
                    f"WHERE m.msgid IN ({','.join('?' * len(ms))})", ms))
        todo = (found | _families(con, found - seen)) - seen
    return seen


def _relist(con: sqlite3.Connection, changed: set[str]) -> None:
    """The list's rows again after series changed. A change can link or unlink only
    series sharing a link key with it (see :func:`_link_keys`): those are relinked
    and their rows written where they changed."""
    ids = sorted(_reachable(con, changed))
    infos: list[LinkInfo] = []
    rows: list[tuple] = []
    have: dict[str, str] = {}
    for chunk in _chunks(ids):
        marks = ",".join("?" * len(chunk))
        infos.extend(_unpack_link(b) for (b,) in con.execute(f"SELECT link FROM series WHERE id IN ({marks})", chunk))
        rows += con.execute(f"SELECT id, date, sort_name, state_tag, light FROM series WHERE id IN ({marks})", chunk)
        have.update(con.execute(f"SELECT id, row FROM list WHERE id IN ({marks})", chunk))
    versions = _versions_of(infos, carry=False)
    entries = [_list_entry(sid, date, name, st, light, versions) for sid, date, name, st, light in rows]
    # Most rows are as they were: only changed, new and gone ones are written.
    con.executemany("DELETE FROM list WHERE id=?", ((sid,) for sid in have.keys() - {e[0] for e in entries}))
    listing.write(con, (e for e in entries if have.get(e[0]) != e[-1]))
