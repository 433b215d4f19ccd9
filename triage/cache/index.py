"""The series index: a SQLite cache of messages, series and answers, kept in step with notmuch.

Keyed by the notmuch database's UUID and revision. At start the cached answer is
there at once; an update asks notmuch only for messages changed since the cached
revision (``lastmod:``), regroups just the threads they touch (and the threads
their series or a loose patch could reach), and relinks versions over small
per-series records. A replaced database (new UUID), a schema change or messages
that disappeared rebuild the index from scratch.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import mmap
import os
import shutil
import sqlite3
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, BinaryIO, NamedTuple, TypeVar

import msgspec

from triage import forked, paths
from triage.cache import listing, queuefacts
from triage.mail.dkimcheck import Verdict, list_vouches
from triage.mail.store import Store, StoreError
from triage.model.policy import Policy
from triage.model.records import BodyFacts
from triage.model.series import STATES, MessageRecord, Series, state_read
from triage.series.grouping import LOOSE_WINDOW_SECONDS, group_series
from triage.series.linking import LinkInfo, LinkNotes, carry_reviews, link_info, link_versions
from triage.series.records import records_in_stages, records_of_threads
from triage.series.service import policy_for, verifier_for
from triage.series.trust import Verifier, rewrite_candidates
from triage.textsafe import json_safe

SCHEMA = "22"
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Refresh:
    kind: str  # "warm" | "incremental" | "cold"
    changed: int
    seconds: float
    reason: str = ""


def default_path(store: Store) -> Path:
    key = hashlib.sha1(str(store.path()).encode()).hexdigest()[:16]
    return paths.cache_dir() / f"index-{key}.sqlite"


# What the index stores is plain data in MessagePack, decoded against these types: nothing in
# it can run code on load, and a damaged or planted blob fails validation (and the index is
# rebuilt) instead of reaching the model.
_Trailers = tuple[tuple[str, str], ...]
_FactsRow = tuple[
    bool, _Trailers, _Trailers, str | None, tuple[str, ...], bool, tuple[str, ...], tuple[str, ...],
    tuple[str, str, tuple[str, ...], tuple[int, ...], bool, tuple[str, str] | None] | None,  # decision
    tuple[str, str] | None,  # ci
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


_LIGHT_KEYS = ("id", "title", "version", "rfc", "resend", "total", "received", "complete", "author", "date", "progress",
               "unread", "replied", "counts", "outcome", "ci_state")


def _fragments(s: Series) -> tuple[str, str]:
    """The series' JSON without the keys that depend on other versions, and its light row:
    what the series list shows, a tenth of the full JSON, so a warm start reads little."""
    d = s.to_json(versions=False)  # what depends on other versions is added by _assemble
    return json_safe(_encode(d)), json_safe(_encode({k: d[k] for k in _LIGHT_KEYS}))


# json.dumps(ensure_ascii=False) without building an encoder per call or tracking containers
# for cycles (these dicts have none).
_encode = json.JSONEncoder(ensure_ascii=False, check_circular=False).encode


_STATE_JSON = {state: json.dumps(state) for state in STATES}
_LONE_TAIL = (', "current": true, "previous_versions": [], "newer_versions": [], "carried_trailers": [], "review_lost": [], '
              '"claims": []}')


class Versions(NamedTuple):
    """What depends on a series' other versions, over a set of series."""

    links: dict[str, tuple[list[str], list[str]]]
    carry: dict[str, tuple[list[dict[str, object]], list[dict[str, object]]]]
    claims: dict[str, list[dict[str, str]]]


def _versions_of(infos: list[LinkInfo], *, carry: bool = True) -> Versions:
    notes = LinkNotes()
    links = link_versions(infos, notes)
    return Versions(links, carry_reviews(infos, links) if carry else {}, dict(notes.claims))


def _assemble(
    fragment: str,
    state_tag: str | None,
    links: tuple[list[str], list[str]] | None,
    carry: tuple[list[dict[str, object]], list[dict[str, object]]] | None = None,
    *,
    light: bool = False,
    claims: list[dict[str, str]] | None = None,
) -> str:
    """A series' JSON: its stored fragment plus the keys that depend on its other versions."""
    if links is None and not light and not claims:
        state = _STATE_JSON.get(state_tag or "new") or json.dumps(state_tag)
        return f"{fragment[:-1]}, \"state\": {state}{_LONE_TAIL}"
    previous, newer = links or ([], [])
    state = state_read(state_tag, superseded=bool(newer))
    tail: dict[str, object] = {"state": state, "current": not newer, "previous_versions": previous, "newer_versions": newer}
    if not light:
        carried, lost = carry or ([], [])
        tail |= {"carried_trailers": carried, "review_lost": lost}
    tail["claims"] = claims or []
    return fragment[:-1] + ", " + json_safe(json.dumps(tail, ensure_ascii=False))[1:]


def _join(
    rows: Iterable[tuple[str, str | None, str]], versions: Versions, light: bool, wanted: set[str] | None = None
) -> bytes:
    """The answer from (id, state tag, fragment) rows, newest first, in UTF-8. Each series is
    encoded on its own: one title with an emoji would otherwise widen the whole 7.5 MB text
    to four bytes a character before encoding it."""
    parts = [part for _, part in _parts(rows, versions, light, wanted)]
    if not parts:
        return b"[]"
    parts[0] = b"[" + parts[0]
    parts[-1] += b"]"
    return b",\n".join(parts)


def _parts(
    rows: Iterable[tuple[str, str | None, str]], versions: Versions, light: bool, wanted: set[str] | None = None
) -> Iterator[tuple[str, bytes]]:
    """(id, its JSON in UTF-8) of each series of (id, state tag, fragment) rows."""
    links, carry, claims = versions
    for sid, st, f in rows:
        if wanted is None or sid in wanted:
            yield sid, _assemble(f, st, links.get(sid), None if light else carry.get(sid), light=light,
                                 claims=claims.get(sid)).encode("utf-8")


def _thread_rows(by_thread: dict[str, list[MessageRecord]]) -> Iterator[tuple[str, int, bytes]]:
    return ((tid, len(rs), _pack_thread(rs)) for tid, rs in by_thread.items() if rs)


def _series_rows(series: Iterable[Series], infos: Iterable[LinkInfo], fragments: Iterable[tuple[str, str]]) -> Iterator[tuple]:
    for s, info, (full, light) in zip(series, infos, fragments, strict=True):
        members = "\n".join(dict.fromkeys(s.message_ids()))
        link = _encode_blob(info)
        yield (s.id, s.date, s.author_email.lower(), listing.sort_name(s.author_name, s.author_email), s.effective_tag, link,
               members, full, light)


def _list_entry(sid: str, date: int, name: str, state_tag: str | None, light: str, versions: Versions) -> tuple:
    got = versions.links.get(sid)
    return listing.entry(sid, date, name, state_tag, bool(got and got[1]),
                         _assemble(light, state_tag, got, light=True, claims=versions.claims.get(sid)))


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
    """(message id, series): a message the series supersedes, or the root of the series
    it re-rolls (a series' id is its root message's id)."""
    return ((mid, info.id) for info in infos for mid in (*info.supersedes, *info.link_to))


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
            out[mid] = _decode_verdict(blob)
        except (msgspec.DecodeError, TypeError):
            continue
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


_ROW_KEYS = frozenset(("id", "title", "state", "version", "date", "author", "previous_versions", "newer_versions", "counts"))


def _checked_row(text: str) -> dict[str, Any]:
    """A list row as the index wrote it; DamagedIndex for anything else."""
    row = json.loads(text)
    if not isinstance(row, dict) or not row.keys() >= _ROW_KEYS:
        raise DamagedIndex("a list row lacks its fields")
    return row


def _answer_key(meta: dict[str, str]) -> bytes:
    """What a stored answer must have been made from: the database (UUID, revision) and
    the settings the index was built with (the user's identities change "replied")."""
    settings = hashlib.sha1(str(meta.get("settings")).encode()).hexdigest()[:16]
    return f"{meta.get('uuid')} {meta.get('revision')} {settings}".encode()


def _remove(path: Path) -> None:
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
    except OSError as e:
        raise StoreError(f"series index {path} is damaged and cannot be removed: {e.strerror or e}") from e


# Checks that a stored answer is one well-formed JSON array without building its objects
# (a tenth of the time and memory of decoding it: 86 MB at ten times linux-pwm).
_check_array = msgspec.json.Decoder(list[msgspec.Raw]).decode
_check_value = msgspec.json.Decoder(msgspec.Raw).decode


def _valid_json(payload: bytes, where: str) -> bytes:
    """``payload`` if it is one JSON array; a damaged or planted answer never reaches a reader."""
    try:
        _check_array(payload)
    except msgspec.DecodeError as e:
        raise DamagedIndex(f"{where}: {e}") from e
    return payload


@dataclass(slots=True)
class _Fresh:
    """What a cold build just made, kept for this process's first answer instead of reading it back."""

    uuid: str
    revision: str
    rows: list[tuple[str, str | None, str, str]]  # (id, state tag, fragment, light) newest first
    versions: Versions
    payload: bytes | None = None  # the whole answer, once made by prepare()

    def answer(self, light: bool) -> bytes:
        if not light and self.payload is not None:
            return self.payload
        return _join(((sid, st, lf if light else f) for sid, st, f, lf in self.rows), self.versions, light)

    def prepare(self) -> None:
        """Make the whole answer now (while a forked copy writes the index) and keep it."""
        self.payload = self.answer(light=False)


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while a build makes a million small acyclic objects:
    the collector would walk them all again and again (0.2 s of a cold build)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


class SeriesIndex:
    busy_timeout = 5.0  # seconds to wait for another process's write to the index

    def __init__(
        self,
        store: Store,
        *,
        path: Path | None = None,
        policy: Policy | None = None,
        write_in_copy: bool = True,
    ) -> None:
        self.store = store
        # A new index is written by a forked copy of this process when it can be (see _cold).
        self.write_in_copy = write_in_copy
        self.path = path or default_path(store)
        self._policy = policy
        self._fresh: _Fresh | None = None

    @property
    def policy(self) -> Policy:
        if self._policy is None:
            self._policy = policy_for(self.store)
        return self._policy

    @property
    def _me(self) -> set[str]:
        return set(self.policy.me)

    # -- database ------------------------------------------------------------------
    @contextlib.contextmanager
    def _db(self, *, fresh: bool = False, more_to_come: bool = False) -> Iterator[sqlite3.Connection]:
        """A connection in WAL mode (readers go on while a refresh writes). ``fresh``: the file
        is new and no one else can read it yet, so it is filled with a rollback journal (no
        second copy of 25 MB through the WAL) and turned to WAL once written, unless
        ``more_to_come`` says another fresh connection writes the rest."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:  # the cache directory cannot be made: say which and why
            raise StoreError(f"series index {self.path} could not be written: {e.strerror or e}") from e
        con = sqlite3.connect(self.path, isolation_level=None, timeout=self.busy_timeout)
        try:
            if fresh:
                # Most of the index is blobs and JSON of a few kB: larger pages halve the
                # overflow chains, and writing a new index takes a third less time.
                con.execute("PRAGMA page_size=16384")
            else:
                con.execute("PRAGMA journal_mode=WAL")
            # A new index is a cache that no one reads yet: its commits skip fsync (24 MB, two
            # syncs: 35 ms of a cold build). The system writes it out within seconds; a system
            # crash before that can leave it damaged, which the next refresh finds and rebuilds.
            con.execute("PRAGMA synchronous=OFF" if fresh else "PRAGMA synchronous=NORMAL")
            yield con
            if fresh and not more_to_come:
                con.execute("PRAGMA journal_mode=WAL")
        finally:
            con.close()

    @staticmethod
    def _create(con: sqlite3.Connection) -> None:
        con.executescript(
            """
            DROP TABLE IF EXISTS meta; DROP TABLE IF EXISTS threads; DROP TABLE IF EXISTS msg_thread;
            DROP TABLE IF EXISTS series; DROP TABLE IF EXISTS series_threads; DROP TABLE IF EXISTS list;
            DROP TABLE IF EXISTS link_keys; DROP TABLE IF EXISTS refers;
            DROP TABLE IF EXISTS queue_facts;
            CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT);
            CREATE TABLE threads(thread_id TEXT PRIMARY KEY, count INTEGER, data BLOB) WITHOUT ROWID;
            CREATE TABLE msg_thread(msgid TEXT PRIMARY KEY, thread_id TEXT) WITHOUT ROWID;
            CREATE TABLE series(id TEXT PRIMARY KEY, date INTEGER, author TEXT, sort_name TEXT, state_tag TEXT,
                                link BLOB, members TEXT, fragment TEXT, light TEXT);
            CREATE INDEX series_author ON series(author, date);
            CREATE TABLE series_threads(thread_id TEXT, series_id TEXT);
            CREATE INDEX series_threads_thread ON series_threads(thread_id);
            CREATE INDEX series_threads_series ON series_threads(series_id);
            CREATE TABLE link_keys(key INTEGER, series_id TEXT, seeks INTEGER);
            CREATE TABLE refers(msgid TEXT, series_id TEXT);
            """
            + listing.CREATE
            + queuefacts.CREATE
            + VERDICTS + ";"  # kept across rebuilds: a verdict costs DNS questions, and never changes
            + PENDING + ";"
        )

    @staticmethod
    def _meta(con: sqlite3.Connection) -> dict[str, str]:
        try:
            return dict(con.execute("SELECT key, value FROM meta").fetchall())
        except sqlite3.DatabaseError:
            return {}

    def _verifier(self, con: sqlite3.Connection | None) -> Verifier:
        """Checks signatures where a sender matters, knowing the verdicts the index keeps."""
        return verifier_for(self.store, self.policy, kept=None if con is None else lambda ids: _read_verdicts(con, ids))

    def _settings_key(self) -> str:
        return f"{SCHEMA}|{self.policy.key()}"

    # -- keeping up to date -----------------------------------------------------------
    def refresh(self, progress: Callable[[str], None] | None = None, built: Callable[[], None] | None = None) -> Refresh:
        """Bring the index up to date with the notmuch database.

        ``built`` is called when a build from scratch has made its series, before it writes
        the index (tenths of a second on a large store; more on a slow disk):
        :meth:`built_json` gives the whole list from then on, so a screen can show it."""
        try:
            with _gc_paused():
                return self._refresh(progress, built)
        except sqlite3.DatabaseError as e:
            # A full disk, say, even for the rebuild: a message naming the file, not a traceback.
            raise StoreError(f"series index {self.path} could not be written: {e}") from e

    def _refresh(self, progress: Callable[[str], None] | None, built: Callable[[], None] | None = None) -> Refresh:
        t0 = time.perf_counter()
        uuid, rev = self.store.revision()
        try:
            if not self.path.exists():
                return self._cold(None, uuid, rev, t0, "new index", progress, built)
            with self._db() as con:
                meta = self._meta(con)
                if meta.get("settings") != self._settings_key() or meta.get("uuid") != uuid:
                    reason = "new index" if not meta else "database replaced or settings changed"
                    return self._cold(con, uuid, rev, t0, reason, progress, built)
                cached = int(meta["revision"])
                if cached == rev:
                    return Refresh("warm", 0, time.perf_counter() - t0)
                return self._incremental(con, uuid, cached, rev, t0, progress)
        except DAMAGE as e:
            if isinstance(e, sqlite3.DatabaseError):
                self._raise_if_busy(e)  # another triage is writing it: not damaged, so not removed
            return self._rebuild(uuid, rev, t0, progress)

    def _raise_if_busy(self, e: sqlite3.DatabaseError) -> None:
        """A StoreError for the status line when ``e`` is another process's write holding the
        index past the busy timeout; any other database error means a damaged index."""
        if isinstance(e, sqlite3.OperationalError) and ("locked" in str(e) or "busy" in str(e)):
            raise StoreError(f"series index {self.path} is busy (another triage is updating it); try again") from e

    def _rebuild(self, uuid: str, rev: int, t0: float, progress: Callable[[str], None] | None) -> Refresh:
        # A damaged cache is only a cache: start again (a directory where the file should
        # be is the cache's own name, so it goes too).
        for suffix in ("", "-wal", "-shm", "-journal"):
            _remove(Path(f"{self.path}{suffix}"))
        for light in (False, True):
            _remove(self.answer_file(light))
        return self._cold(None, uuid, rev, t0, "damaged cache rebuilt", progress)

    def _cold(
        self,
        con: sqlite3.Connection | None,
        uuid: str,
        rev: int,
        t0: float,
        reason: str,
        progress: Callable[[str], None] | None,
        built: Callable[[], None] | None = None,
    ) -> Refresh:
        """Build the index from scratch: into ``con``, or into a new file when it is None.

        A new file's threads (records with body facts, and which thread each message is in)
        are written by a forked copy of this process (when it may fork: see
        :mod:`triage.forked`) while this one links versions, builds the answer and
        the series rows; it writes those once the copy is done, with the meta row last,
        so the index counts as built only then. SQLite gives up the GIL for every row, so
        a writer thread beside the Python work made both slower instead (measured). If
        the copy fails, everything is written here."""
        walked: Callable[[int], None] | None = None
        if progress is not None:
            total = self.store.count("*")
            progress(f"building the series index: reading {total} messages")
            say = progress
            walked = lambda n: say(f"building the series index: {n} of {total} messages read")  # noqa: E731
        verifier = self._verifier(con)
        records, patch_ids_known = records_in_stages(self.store, "*", progress=walked, verifier=verifier)
        if progress:
            progress(f"building the series index: grouping {len(records)} messages into series")
        series = group_series(records, policy=self.policy, link=False)
        if progress:
            progress(f"building the series index: {len(series)} series of {len(records)} messages; writing it")
        fragments = [_fragments(s) for s in series]
        # Only version links read patch-ids; the body helper makes them while this groups.
        patch_ids_known()
        by_thread = _by_thread(records)  # the threads' rows, and the queue's facts

        def write_threads(c: sqlite3.Connection) -> None:
            self._create(c)  # executescript commits on its own, so before BEGIN
            c.execute("BEGIN")
            self._write_threads(c, by_thread)

        def threads_in_new_file() -> None:
            with self._db(fresh=True, more_to_come=True) as c:
                write_threads(c)
                c.execute("COMMIT")

        writer = forked.ForkedWork(threads_in_new_file) if con is None and self.write_in_copy and forked.possible() else None
        try:
            infos = [link_info(s, self.policy) for s in series]
            versions = _versions_of(infos)
            rows = [(s.id, s.effective_tag, f, light) for s, (f, light) in zip(series, fragments, strict=True)]
            self._fresh = fresh = _Fresh(uuid, str(rev), rows, versions)
            if built is not None:
                built()
            if writer is not None:
                fresh.prepare()  # while the copy writes: the answer is nearly always asked for next
            series_rows = list(_series_rows(series, infos, fragments))
            facts = queuefacts.rows(series, by_thread, self._me, self.store.config.tag_prefix)
            list_rows = [
                _list_entry(s.id, s.date, row[3], s.effective_tag, light, versions)
                for s, (_, light), row in zip(series, fragments, series_rows, strict=True)
            ]
            threads_written = False
            if writer is not None:
                failed = writer.wait()
                threads_written = failed is None
                if not threads_written:
                    # Nothing is lost: it is all written here, and errors surface here (a
                    # write the copy left half done was rolled back by SQLite).
                    reason = f"{reason}; the forked index writer failed ({failed}), so it was written here"

            def write(c: sqlite3.Connection) -> None:
                if threads_written:
                    c.execute("BEGIN")
                else:
                    write_threads(c)
                self._write_series(c, series, series_rows)
                listing.write(c, list_rows)
                _write_link_keys(c, infos)
                queuefacts.write(c, facts)
                _write_pending(c, records, verifier)
                _keep_verdicts(c, verifier)
                # Indexed once filled: building an index at the end is cheaper than keeping it.
                _index_link_keys(c)
                self._finish(c, uuid, rev, len(records))
                c.execute("COMMIT")

            if con is None:
                with self._db(fresh=True) as c:
                    write(c)
            else:
                write(con)
        finally:
            if writer is not None:
                writer.stop()
        return Refresh("cold", len(records), time.perf_counter() - t0, reason)

    def _incremental(
        self,
        con: sqlite3.Connection,
        uuid: str,
        cached: int,
        rev: int,
        t0: float,
        progress: Callable[[str], None] | None,
        regroup: Iterable[str] = (),
    ) -> Refresh:
        """Regroup the threads of messages changed since ``cached`` and the threads ``regroup``."""
        changed = self.store.changed_since(cached + 1)
        if progress is not None and changed:
            progress(f"updating the series index: {len(changed)} messages changed")
        extra = set(regroup)
        if not changed and not extra:
            meta = self._meta(con)
            if meta.get("messages") != str(self.store.count("*")):
                return self._cold(con, uuid, rev, t0, "messages were removed", progress)
            con.execute("UPDATE meta SET value=? WHERE key='revision'", (str(rev),))
            return Refresh("warm", 0, time.perf_counter() - t0)
        threads = {tid for _, tid in changed} | extra
        # A message may have moved to another thread (notmuch merges threads).
        ids = [m for m, _ in changed]
        for chunk in _chunks(ids, 500):
            q = f"SELECT thread_id FROM msg_thread WHERE msgid IN ({','.join('?' * len(chunk))})"
            threads.update(tid for (tid,) in con.execute(q, chunk))
        old = {tid: self._thread(con, tid) for tid in threads}
        known = {r.message_id: r.facts for rs in old.values() for r in rs}
        verifier = self._verifier(con)
        fresh = records_of_threads(self.store, sorted({tid for _, tid in changed} | extra), known=known, verifier=verifier)
        fresh_by_thread = _by_thread(fresh)
        threads = self._expand(con, threads, fresh)
        fresh_ids = {r.message_id for r in fresh}
        records = list(fresh)
        for tid in sorted(threads - fresh_by_thread.keys()):
            rs = old[tid] if tid in old else self._thread(con, tid)
            records.extend(r for r in rs if r.message_id not in fresh_ids)
        series = group_series(records, policy=self.policy, link=False)
        con.execute("BEGIN")
        _keep_verdicts(con, verifier)
        _write_pending(con, records, verifier, replace=threads)
        tlist = sorted(threads)
        stale: set[str] = set()
        for chunk in _chunks(tlist, 500):
            q = f"SELECT series_id FROM series_threads WHERE thread_id IN ({','.join('?' * len(chunk))})"
            stale.update(sid for (sid,) in con.execute(q, chunk))
        # The families the stale series were in before the change (from the list's settled
        # links): a series that lost its link to a changed one is relinked too.
        before = self._families(con, stale)
        con.executemany("DELETE FROM series WHERE id=?", ((sid,) for sid in stale))
        con.executemany("DELETE FROM series_threads WHERE series_id=?", ((sid,) for sid in stale))
        con.executemany("DELETE FROM link_keys WHERE series_id=?", ((sid,) for sid in stale))
        con.executemany("DELETE FROM refers WHERE series_id=?", ((sid,) for sid in stale))
        con.executemany("DELETE FROM queue_facts WHERE series_id=?", ((sid,) for sid in stale))
        # Threads that lost messages to a merge are stored again without them.
        for tid in threads - fresh_by_thread.keys():
            if tid in old:
                kept = [r for r in old[tid] if r.message_id not in fresh_ids]
                if len(kept) != len(old[tid]):
                    fresh_by_thread[tid] = kept
        self._write_threads(con, fresh_by_thread)
        infos = [link_info(x, self.policy) for x in series]
        self._write_series(con, series, _series_rows(series, infos, map(_fragments, series)))
        _write_link_keys(con, infos)
        queuefacts.write(con, queuefacts.rows(series, _by_thread(records), self._me, self.store.config.tag_prefix))
        (count,) = con.execute("SELECT COALESCE(SUM(count), 0) FROM threads").fetchone()
        if count != self.store.count("*"):
            # Messages were removed (notmuch new after a delete): lastmod cannot say which.
            con.execute("ROLLBACK")
            return self._cold(con, uuid, rev, t0, "messages were removed", progress)
        self._relist(con, before | {x.id for x in series})
        self._finish(con, uuid, rev, count)
        con.execute("COMMIT")
        return Refresh("incremental", len(changed), time.perf_counter() - t0)

    @staticmethod
    def _thread(con: sqlite3.Connection, thread_id: str) -> list[MessageRecord]:
        row = con.execute("SELECT data FROM threads WHERE thread_id=?", (thread_id,)).fetchone()
        return _unpack_thread(thread_id, row[0]) if row else []

    @staticmethod
    def _write_threads(con: sqlite3.Connection, by_thread: dict[str, list[MessageRecord]]) -> None:
        for tid, rs in by_thread.items():
            if not rs:
                con.execute("DELETE FROM threads WHERE thread_id=?", (tid,))
        con.executemany("INSERT OR REPLACE INTO threads VALUES (?, ?, ?)", _thread_rows(by_thread))
        con.executemany(
            "INSERT OR REPLACE INTO msg_thread VALUES (?, ?)",
            ((r.message_id, tid) for tid, rs in by_thread.items() for r in rs),
        )

    def _expand(self, con: sqlite3.Connection, threads: set[str], fresh: list[MessageRecord]) -> set[str]:
        """Threads whose series could change: those of touched series, and of series a loose patch could join."""
        todo = set(threads)
        fresh_ids = {r.message_id for r in fresh}
        for r in fresh:
            p = r.parsed
            # Only a patch without its series' messages above it can join another thread's series.
            if p.is_patch and (p.total or 0) > 1 and (r.parent_id is None or r.parent_id not in fresh_ids):
                rows = con.execute(
                    "SELECT st.thread_id FROM series s JOIN series_threads st ON st.series_id = s.id "
                    "WHERE s.author=? AND s.date BETWEEN ? AND ?",
                    (r.from_email.lower(), r.date - LOOSE_WINDOW_SECONDS, r.date + LOOSE_WINDOW_SECONDS),
                )
                todo.update(tid for (tid,) in rows)
        seen: set[str] = set()
        while todo:
            batch = sorted(todo - seen)
            seen.update(batch)
            todo = set()
            for chunk in _chunks(batch, 500):
                rows = con.execute(
                    "SELECT DISTINCT b.thread_id FROM series_threads a JOIN series_threads b ON a.series_id = b.series_id "
                    f"WHERE a.thread_id IN ({','.join('?' * len(chunk))})",
                    chunk,
                )
                todo.update(tid for (tid,) in rows if tid not in seen)
        return seen

    @staticmethod
    def _write_series(con: sqlite3.Connection, series: list[Series], rows: Iterable[tuple]) -> None:
        """``rows``: from :func:`_series_rows`."""
        con.executemany("INSERT OR REPLACE INTO series VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        con.executemany("INSERT INTO series_threads VALUES (?, ?)", ((t, s.id) for s in series for t in s.thread_ids))

    @staticmethod
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

    @classmethod
    def _reachable(cls, con: sqlite3.Connection, start: set[str]) -> set[str]:
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
            todo = (found | cls._families(con, found - seen)) - seen
        return seen

    @classmethod
    def _relist(cls, con: sqlite3.Connection, changed: set[str]) -> None:
        """The list's rows again after series changed. A change can link or unlink only
        series sharing a link key with it (see :func:`_link_keys`): those are relinked
        and their rows written where they changed."""
        ids = sorted(cls._reachable(con, changed))
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

    def _finish(self, con: sqlite3.Connection, uuid: str, rev: int, count: int) -> None:
        con.execute("DELETE FROM meta")
        con.executemany(
            "INSERT INTO meta VALUES (?, ?)",
            [("uuid", uuid), ("revision", str(rev)), ("settings", self._settings_key()), ("messages", str(count))],
        )

    @staticmethod
    def _versions(con: sqlite3.Connection, *, carry: bool = True) -> Versions:
        """Version links, claims, and carried reviews (the light rows show none), over every series."""
        return _versions_of([_unpack_link(b) for (b,) in con.execute("SELECT link FROM series")], carry=carry)

    @classmethod
    def _payload(
        cls,
        con: sqlite3.Connection,
        wanted: set[str] | None = None,
        *,
        light: bool = False,
    ) -> bytes:
        column = "light" if light else "fragment"
        rows = con.execute(f"SELECT id, state_tag, {column} FROM series ORDER BY date DESC, id DESC")
        return _valid_json(_join(rows, cls._versions(con, carry=not light), light, wanted), "series rows")

    def answer_file(self, light: bool = False) -> Path:
        return self.path.with_suffix(".list.json" if light else ".json")

    def _answer(self, con: sqlite3.Connection, meta: dict[str, str], light: bool) -> bytes:
        """The whole list as ``series --json`` prints it (or the list's light rows), UTF-8, kept
        in a file beside the index: a warm start reads only that. Made when first asked for
        after a change, so a refresh never builds an answer nobody reads."""
        if not light:
            stored = self._stored_answer(con, meta)
            if stored is None:  # it cannot be kept (a full disk): answered all the same
                return self._made_answer(con, meta, light)
            with stored:
                return stored.read()
        cached = self._cached_answer(meta, light)
        if cached is not None:
            return cached
        payload = self._made_answer(con, meta, light)
        target = self.answer_file(light)
        tmp = target.with_suffix(f".tmp{os.getpid()}")
        try:
            with open(tmp, "wb") as fh:  # two writes: no copy of the payload to prepend the key
                fh.write(_answer_key(meta) + b"\n")
                fh.write(payload)
            tmp.replace(target)
        except OSError:
            # Not kept (a full disk, a directory in its place): answered all the same, and
            # made again next time.
            tmp.unlink(missing_ok=True)
        return payload

    def _fresh_for(self, meta: dict[str, str]) -> _Fresh | None:
        """What this process's cold build made, when it is of the index's revision."""
        fresh = self._fresh
        if fresh is not None and (fresh.uuid, fresh.revision) == (meta.get("uuid"), meta.get("revision")):
            return fresh
        return None

    def _made_answer(self, con: sqlite3.Connection, meta: dict[str, str], light: bool) -> bytes:
        fresh = self._fresh_for(meta)
        return fresh.answer(light) if fresh is not None else self._payload(con, light=light)

    def known_facts(self, series_id: str) -> dict[str, BodyFacts]:
        """Body facts the index holds for the threads of a series (empty when it has none)."""
        if not self.path.exists():
            return {}
        try:
            with self._db() as con:
                tids = [t for (t,) in con.execute("SELECT thread_id FROM series_threads WHERE series_id=?", (series_id,))]
                return {r.message_id: r.facts for tid in tids for r in self._thread(con, tid)}
        except DAMAGE:
            return {}

    def thread_records(self, series_id: str) -> list[MessageRecord]:
        """Every message of the threads a series is in, as the index holds them."""
        if not self.path.exists():
            return []
        try:
            with self._db() as con:
                tids = [t for (t,) in con.execute("SELECT thread_id FROM series_threads WHERE series_id=?", (series_id,))]
                return [r for tid in tids for r in self._thread(con, tid)]
        except DAMAGE:
            return []

    # -- answers ------------------------------------------------------------------------
    def built_json(self, light: bool = False) -> str:
        """The whole list (as ``series_json()``) of the last build from scratch, which may be
        still writing the index (see :meth:`refresh`)."""
        if self._fresh is None:
            raise StoreError("the series index has not been built in this process")
        return self._fresh.answer(light).decode("utf-8")

    def built_series(self, light: bool = False) -> list[dict[str, object]]:
        return json.loads(self.built_json(light))

    def _cached_answer(self, meta: dict[str, str], light: bool = False) -> bytes | None:
        try:
            data = self.answer_file(light).read_bytes()
        except OSError:
            return None
        head, _, payload = data.partition(b"\n")
        if head != _answer_key(meta):
            return None
        try:
            return _valid_json(payload, str(self.answer_file(light)))
        except DamagedIndex:
            return None  # made again from the index

    def _read(self, answer: Callable[[], T]) -> T:
        """``answer()``, which reads the index; a damaged index (a bad disk, or a system crash
        while a new one was not on disk yet) is rebuilt once and asked again."""
        try:
            return answer()
        except DAMAGE as e:
            if isinstance(e, sqlite3.DatabaseError):
                self._raise_if_busy(e)
            uuid, rev = self.store.revision()
            try:
                with _gc_paused():
                    self._rebuild(uuid, rev, time.perf_counter(), None)
                return answer()
            except DAMAGE as again:
                raise StoreError(f"series index {self.path} is damaged and could not be rebuilt: {again}") from again

    def write_series_json(self, out: BinaryIO, query: str = "*") -> None:
        """``series --json QUERY`` written to ``out``. The whole list is copied from its stored
        file a megabyte at a time, once checked to be one JSON array through a memory map
        (never a copy of it in memory); a list not stored yet is written into that file
        series by series first. Other queries, or a file that cannot be written, are
        answered from memory."""
        if (query.strip() or "*") == "*":

            def stored() -> IO[bytes] | None:
                with self._db() as con:
                    meta = self._meta(con)
                    return self._stored_answer(con, meta) if meta else None

            fh = self._read(stored)
            if fh is not None:
                with fh:
                    shutil.copyfileobj(fh, out, 1 << 20)
                return
        out.write(self.series_json_bytes(query))

    def _stored_answer(self, con: sqlite3.Connection, meta: dict[str, str]) -> IO[bytes] | None:
        """The stored whole answer, open after its header line, made first when missing or
        stale; None when it cannot be written (a full disk)."""
        fh = self._open_answer(meta)
        if fh is not None:
            return fh
        target = self.answer_file()
        tmp = target.with_suffix(f".tmp{os.getpid()}")
        fresh = self._fresh_for(meta)
        try:
            with open(tmp, "wb") as out:
                out.write(_answer_key(meta) + b"\n")
                if fresh is not None:
                    out.write(fresh.answer(light=False))
                else:
                    self._write_answer(con, out)
            tmp.replace(target)
        except OSError:
            tmp.unlink(missing_ok=True)
            return None
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return self._open_answer(meta)

    def _write_answer(self, con: sqlite3.Connection, out: IO[bytes]) -> None:
        """The whole answer from the index, one series at a time, each checked to be JSON
        (a damaged or planted fragment raises DamagedIndex before the file is used)."""
        rows = con.execute("SELECT id, state_tag, fragment FROM series ORDER BY date DESC, id DESC")
        out.write(b"[")
        first = True
        for sid, part in _parts(rows, self._versions(con), light=False):
            try:
                _check_value(part)
            except msgspec.DecodeError as e:
                raise DamagedIndex(f"series {sid}: {e}") from e
            out.write(part if first else b",\n" + part)
            first = False
        out.write(b"]")

    def _open_answer(self, meta: dict[str, str]) -> IO[bytes] | None:
        """The stored answer open after its header when it is current and one JSON array."""
        try:
            fh = open(self.answer_file(), "rb")  # noqa: SIM115 - handed to the caller
        except OSError:
            return None
        try:
            head = fh.readline()
            if head != _answer_key(meta) + b"\n":
                fh.close()
                return None
            start = fh.tell()
            size = os.fstat(fh.fileno()).st_size
            if size <= start:
                fh.close()
                return None
            with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm, memoryview(mm) as view:
                try:
                    _check_array(view[start:])
                except msgspec.DecodeError:
                    fh.close()
                    return None  # made again from the index
            fh.seek(start)
            return fh
        except (OSError, ValueError):
            fh.close()
            return None

    def series_json_bytes(self, query: str = "*") -> bytes:
        """As :meth:`series_json`, UTF-8 encoded; the warm whole list is never decoded."""
        if (query.strip() or "*") == "*":

            def stored() -> bytes | None:
                with self._db() as con:
                    meta = self._meta(con)
                    return self._answer(con, meta, light=False) if meta else None  # stored when current

            got = self._read(stored)
            if got is not None:
                return got
        return self.series_json(query).encode("utf-8")

    def series_json(self, query: str = "*", *, light: bool = False) -> str:
        """``triage series --json QUERY`` from the index (call :meth:`refresh` first).

        ``light`` gives only what the series list shows (no patches or trailers)."""
        return self._read(lambda: self._series_json(query, light))

    def _built_meta(self, con: sqlite3.Connection) -> dict[str, str]:
        """The meta row of an index that has been built; a StoreError for an empty one."""
        meta = self._meta(con)
        if not meta:
            raise StoreError(f"series index {self.path} is empty; refresh it first")
        return meta

    def _matching_series(self, con: sqlite3.Connection, query: str) -> set[str]:
        """The series with a message that ``query`` (notmuch) matches."""
        matched = self.store.matching_ids(query)
        return {sid for sid, members in con.execute("SELECT id, members FROM series")
                if not matched.isdisjoint(members.split("\n"))}

    def _series_json(self, query: str, light: bool) -> str:
        q = query.strip() or "*"
        with self._db() as con:
            meta = self._built_meta(con)
            if q == "*":
                return self._answer(con, meta, light).decode("utf-8")
            wanted = self._matching_series(con, q)
            return self._payload(con, wanted, light=light).decode("utf-8") if wanted else "[]"

    def list_view(self, query: str = "*", *, sort: str = "date", state: str | None = None,
                  wanted: Iterable[str] | None = None) -> listing.ListView:
        """The list of a notmuch query (or of the series ``wanted``), read from the index a
        window at a time (call :meth:`refresh` first, once)."""

        def view() -> listing.ListView:
            with self._db() as con:
                self._built_meta(con)
                chosen = None if wanted is None else set(wanted)
                if chosen is None and (query.strip() or "*") != "*":
                    chosen = self._matching_series(con, query)
            return listing.ListView(self.path, sort=sort, state=state, wanted=chosen)

        return self._read(view)

    def series_ids(self) -> set[str]:
        """The id of every series in the index (call :meth:`refresh` first)."""

        def ids() -> set[str]:
            with self._db() as con:
                return {sid for (sid,) in con.execute("SELECT id FROM series")}

        return self._read(ids)

    def titles_of_messages(self, message_ids: Iterable[str]) -> dict[str, str]:
        """For each of ``message_ids`` in a series, that series' title."""
        wanted = set(message_ids)
        if not wanted:
            return {}

        def titles() -> dict[str, str]:
            out: dict[str, str] = {}
            with self._db() as con:
                for members, row in con.execute("SELECT s.members, l.row FROM series s JOIN list l ON l.id = s.id"):
                    hit = wanted.intersection(members.split("\n"))
                    if hit:
                        title = str(json.loads(row).get("title", ""))
                        out.update(dict.fromkeys(hit, title))
            return out

        return self._read(titles)

    def queue_candidates(
        self, *, skip_states: Iterable[str] = ()
    ) -> Iterator[tuple[dict[str, Any], list[str], str | None, bool, list[str], int]]:
        """For each current series not in ``skip_states`` whose newest message is not the
        user's, newest first: (its list row, its cover and patch ids, deferred until, an
        unread reply answers the user, the files it touches, the date of the newest message
        of its threads), from SQL alone."""
        skip = sorted(set(skip_states))

        def candidates() -> list[tuple[dict[str, Any], list[str], str | None, bool, list[str], int]]:
            with self._db() as con:
                self._built_meta(con)
                q = ("SELECT l.row, q.own, q.until, q.reply_to_me, q.files, q.newest FROM list l "
                     "JOIN queue_facts q ON q.series_id = l.id "
                     f"WHERE l.head = 1 AND l.state NOT IN ({','.join('?' * len(skip))}) AND q.spoke_last = 0 "
                     "ORDER BY l.date DESC, l.id DESC")
                return [(_checked_row(row), own.split("\n"), until, bool(reply), files.split("\n") if files else [],
                         int(newest or 0)) for row, own, until, reply, files, newest in con.execute(q, skip).fetchall()]

        # A damaged row is rebuilt with the rest of the index, like any other damaged record.
        yield from self._read(candidates)

    def full_row(self, series_id: str) -> dict[str, Any] | None:
        """One series as ``series --json`` gives it, from its own rows (not the whole answer)."""

        def full() -> dict[str, Any] | None:
            with self._db() as con:
                got = con.execute("SELECT s.state_tag, s.fragment, l.row FROM series s JOIN list l ON l.id = s.id "
                                  "WHERE s.id = ?", (series_id,)).fetchone()
            if got is None:
                return None
            state_tag, fragment, row = got
            light = json.loads(row)
            links = (list(light["previous_versions"]), list(light["newer_versions"]))
            has_links = bool(links[0] or links[1])
            out: dict[str, Any] = json.loads(_assemble(fragment, state_tag, links if has_links else None,
                                                       self.carried(series_id) if has_links else None,
                                                       claims=light.get("claims")))
            return out

        return self._read(full)

    def carried(self, series_id: str) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
        """(reviews carried from the previous version, reviews lost to changed patches) of
        one series: from its settled links and two link records, whatever the store's size."""

        def carried() -> tuple[list[dict[str, object]], list[dict[str, object]]]:
            with self._db() as con:
                self._built_meta(con)
                got = con.execute("SELECT row FROM list WHERE id=?", (series_id,)).fetchone()
                if got is None:
                    return [], []
                row = json.loads(got[0])
                previous, newer = list(row["previous_versions"]), list(row["newer_versions"])
                if not previous:
                    return [], []
                infos = []
                for sid in (previous[-1], series_id):
                    blob = con.execute("SELECT link FROM series WHERE id=?", (sid,)).fetchone()
                    if blob is None:
                        return [], []
                    infos.append(_unpack_link(blob[0]))
                return carry_reviews(infos, {series_id: (previous, newer)}).get(series_id, ([], []))

        return self._read(carried)

    def version_family(self, series_id: str) -> tuple[list[str], dict[str, list[tuple[str, str, str]]]]:
        """The versions the list links ``series_id`` to, oldest first (it included), and why
        each is linked: (the other version, the rule, the message holding the evidence)."""

        def family() -> tuple[list[str], dict[str, list[tuple[str, str, str]]]]:
            with self._db() as con:
                self._built_meta(con)
                got = con.execute("SELECT row FROM list WHERE id=?", (series_id,)).fetchone()
                if got is None:
                    return [series_id], {}
                row = json.loads(got[0])
                ids = [*row["previous_versions"], series_id, *row["newer_versions"]]
                infos = []
                for sid in ids:
                    blob = con.execute("SELECT link FROM series WHERE id=?", (sid,)).fetchone()
                    if blob is not None:
                        infos.append(_unpack_link(blob[0]))
            notes = LinkNotes()
            link_versions(infos, notes)
            return ids, {sid: list(notes.why.get(sid, ())) for sid in ids}

        return self._read(family)

    def verifier(self) -> Verifier:
        """A verifier that knows the verdicts the index keeps (:meth:`keep_verdicts` keeps new ones)."""

        def kept(ids: list[str]) -> dict[str, Verdict]:
            if not self.path.exists():
                return {}
            try:
                with self._db() as con:
                    return _read_verdicts(con, ids)
            except (sqlite3.DatabaseError, StoreError):
                return {}  # being written (a first build): checked again, which costs only time

        return verifier_for(self.store, self.policy, kept=kept)

    def recheck_rewrites(self) -> int:
        """Check again the list-rewritten senders that were indexed without DNS, and regroup
        the threads of those their list now vouches for. Returns how many it vouches for."""
        if not self.path.exists():
            return 0
        with self._db() as con:
            meta = self._meta(con)
            if not meta:
                return 0
            con.execute(PENDING)
            pending = dict(con.execute("SELECT msgid, thread_id FROM pending").fetchall())
            if not pending:
                return 0
            verifier = self._verifier(con)
            verifier.verdicts(pending, recheck=True)
            if not verifier.fresh:
                return 0
            records = [r for tid in set(pending.values()) for r in self._thread(con, tid)]
            vouched = [r.thread_id for r in rewrite_candidates(records)
                       if r.message_id in pending and _vouched(verifier, r)]
            con.execute("BEGIN")
            _keep_verdicts(con, verifier)
            con.executemany("DELETE FROM pending WHERE msgid=?",
                            ((mid,) for mid, v in verifier.known.items() if mid in pending and v.final))
            con.execute("COMMIT")
            if vouched:
                uuid, rev = self.store.revision()
                with _gc_paused():
                    self._incremental(con, uuid, int(meta["revision"]), rev, time.perf_counter(), None, regroup=vouched)
                # The stored answers are keyed by the database's revision, which did not move.
                self._fresh = None
                for light in (False, True):
                    self.answer_file(light).unlink(missing_ok=True)
            return len(vouched)

    def keep_verdicts(self, verifier: Verifier) -> None:
        """Keep what ``verifier`` checked for good; a busy index (a first build) keeps nothing
        (a verdict is made again next time)."""
        if not any(v.final for v in verifier.fresh.values()) or not self.path.exists():
            verifier.fresh.clear()
            return
        with contextlib.suppress(sqlite3.DatabaseError, StoreError), self._db() as con:
            con.execute("BEGIN")
            _keep_verdicts(con, verifier)
            con.execute("COMMIT")

    def replied_ids(self) -> set[str]:
        """The series the user has answered in. The rows are this module's own JSON, where
        a title's quotes are escaped: the key with its value occurs nowhere else."""
        with self._db() as con:
            return {sid for (sid,) in con.execute("""SELECT id FROM list WHERE row LIKE '%"replied": true%'""")}

    def has_list(self) -> bool:
        """True when the index holds a list (of some revision) that a screen can show at once."""
        if not self.path.exists():
            return False
        try:
            with self._db() as con:
                return self._meta(con).get("settings") == self._settings_key()
        except DAMAGE:
            return False

    def series(self, query: str = "*", *, light: bool = False) -> list[dict[str, object]]:
        return self._read(lambda: json.loads(self._series_json(query, light)))
