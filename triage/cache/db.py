"""The series index's SQLite file: its schema, its connection, its meta row, and reading it
with one rebuild when it is damaged.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import os
import shutil
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from triage import paths
from triage.cache import listing, queuefacts
from triage.cache.codec import DAMAGE, _unpack_thread
from triage.cache.trustrows import PENDING, VERDICTS, _read_verdicts
from triage.mail.store import Store, StoreError
from triage.model.policy import Policy
from triage.model.series import MessageRecord
from triage.series.service import policy_for, verifier_for
from triage.series.trust import Verifier

if TYPE_CHECKING:
    from triage.cache.answer import _Fresh

SCHEMA = "23"
# A first build of a store of more than BATCH_ABOVE messages reads it in batches of about
# BATCH_MESSAGES (see triage.cache.batched): one pass is faster on a smaller store (its index
# written by a forked copy, nothing regrouped) and peaks near 125 MB. TRIAGE_BATCH_MESSAGES
# sets both to one size (the benchmarks, the tests).
BATCH_MESSAGES = 10_000
BATCH_ABOVE = 25_000
T = TypeVar("T")


class BuildStopped(StoreError):
    """A batched first build stopped between two batches by its caller (a screen that closed):
    the index is left without its meta row, so the next refresh builds it again."""


@dataclass(frozen=True, slots=True)
class Refresh:
    kind: str  # "warm" | "incremental" | "cold"
    changed: int
    seconds: float
    reason: str = ""


def default_path(store: Store) -> Path:
    key = hashlib.sha1(str(store.path()).encode()).hexdigest()[:16]
    return paths.cache_dir() / f"index-{key}.sqlite"



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




def _remove(path: Path) -> None:
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
    except OSError as e:
        raise StoreError(f"series index {path} is damaged and cannot be removed: {e.strerror or e}") from e


class IndexBase:
    """The index's file, connection and meta row: what its builder, its answers and its
    readers share."""

    busy_timeout = 5.0  # seconds to wait for another process's write to the index

    def __init__(
        self,
        store: Store,
        *,
        path: Path | None = None,
        policy: Policy | None = None,
        write_in_copy: bool = True,
        batch_messages: int | None = None,
    ) -> None:
        self.store = store
        chosen = batch_messages or int(os.environ.get("TRIAGE_BATCH_MESSAGES") or 0)
        self.batch_messages = chosen or BATCH_MESSAGES
        self.batch_above = chosen or BATCH_ABOVE
        # (messages grouped, all messages) of a batched first build under way in this process.
        self._partial: tuple[int, int] | None = None
        self._on_batch: Callable[[int, int], None] | None = None
        # One refresh at a time in this process: a screen's second load waits for the first
        # (a first build stopped at its next batch, say) instead of writing beside it.
        self._refreshing = threading.Lock()
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
    def _db(self, *, fresh: bool = False, more_to_come: bool = False, readable: bool = False) -> Iterator[sqlite3.Connection]:
        """A connection in WAL mode (readers go on while a refresh writes). ``fresh``: the file
        is new and no one else can read it yet, so it is filled with a rollback journal (no
        second copy of 25 MB through the WAL) and turned to WAL once written, unless
        ``more_to_come`` says another fresh connection writes the rest; ``readable``: a new
        file that a screen reads while it is written (a batched first build), WAL at once."""
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
            if readable or not fresh:
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

    def _raise_if_busy(self, e: sqlite3.DatabaseError) -> None:
        """A StoreError for the status line when ``e`` is another process's write holding the
        index past the busy timeout; any other database error means a damaged index."""
        if isinstance(e, sqlite3.OperationalError) and ("locked" in str(e) or "busy" in str(e)):
            raise StoreError(f"series index {self.path} is busy (another triage is updating it); try again") from e

    def _finish(self, con: sqlite3.Connection, uuid: str, rev: int, count: int) -> None:
        con.execute("DELETE FROM meta")
        con.executemany(
            "INSERT INTO meta VALUES (?, ?)",
            [("uuid", uuid), ("revision", str(rev)), ("settings", self._settings_key()), ("messages", str(count))],
        )

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

    def _built_meta(self, con: sqlite3.Connection) -> dict[str, str]:
        """The meta row of an index that has been built; a StoreError for an empty one."""
        meta = self._meta(con)
        if not meta:
            if self._partial is not None:
                done, total = self._partial
                raise StoreError(f"series index {self.path} is still being built ({done} of {total} messages "
                                 "grouped): the whole list shows the series so far; try again when it is done")
            raise StoreError(f"series index {self.path} is empty; refresh it first")
        return meta

    @staticmethod
    def _thread(con: sqlite3.Connection, thread_id: str) -> list[MessageRecord]:
        row = con.execute("SELECT data FROM threads WHERE thread_id=?", (thread_id,)).fetchone()
        return _unpack_thread(thread_id, row[0]) if row else []

    # What the builder and the answers provide (BuildMixin, AnswerMixin).
    def _cold(self, con: sqlite3.Connection | None, uuid: str, rev: int, t0: float, reason: str,
              progress: Callable[[str], None] | None, built: Callable[[], None] | None = None) -> Refresh:
        raise NotImplementedError

    def answer_file(self, light: bool = False) -> Path:
        raise NotImplementedError

    def _rebuild(self, uuid: str, rev: int, t0: float, progress: Callable[[str], None] | None) -> Refresh:
        # A damaged cache is only a cache: start again (a directory where the file should
        # be is the cache's own name, so it goes too).
        for suffix in ("", "-wal", "-shm", "-journal"):
            _remove(Path(f"{self.path}{suffix}"))
        for light in (False, True):
            _remove(self.answer_file(light))
        return self._cold(None, uuid, rev, t0, "damaged cache rebuilt", progress)
