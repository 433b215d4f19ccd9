"""Building the series index: from scratch (a cold build, its threads written by a forked
copy), or incrementally (the threads that changed since notmuch's revision).
"""

from __future__ import annotations

import gc
import sqlite3
import time
from collections.abc import Callable, Iterable

from triage import forked
from triage.cache import listing, queuefacts
from triage.cache.answer import AnswerMixin, _Fresh
from triage.cache.batched import link_all
from triage.cache.codec import DAMAGE, _by_thread, _chunks
from triage.cache.db import Refresh, _gc_paused
from triage.cache.fragments import (
    Versions,
    _fragments,
    _list_entry,
    _series_rows,
    _thread_rows,
    _versions_of,
)
from triage.cache.links import _families, _index_link_keys, _relist, _write_link_keys
from triage.cache.trustrows import _keep_verdicts, _write_pending
from triage.mail.store import StoreError
from triage.model.series import MessageRecord, Series
from triage.series.grouping import LOOSE_WINDOW_SECONDS, group_series
from triage.series.linking import link_info
from triage.series.records import records_in_batches, records_in_stages, records_of_threads
from triage.series.trust import Verifier

_NO_VERSIONS = Versions({}, {}, {})


class BuildMixin(AnswerMixin):
    """Bringing the index up to date: from scratch (cold), or only what changed."""

    def refresh(self, progress: Callable[[str], None] | None = None, built: Callable[[], None] | None = None,
                batch: Callable[[int, int], None] | None = None) -> Refresh:
        """Bring the index up to date with the notmuch database.

        ``built`` is called when a build from scratch has made its series, before it writes
        the index (tenths of a second on a large store; more on a slow disk):
        :meth:`built_json` gives the whole list from then on, so a screen can show it. A
        batched first build of a large store calls ``batch`` (messages grouped so far, all
        messages) as each batch is written instead: :meth:`partial_view` gives the list so
        far, newest first, its versions not linked yet."""
        with self._refreshing:
            self._on_batch = batch
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
        total = self.store.count("*")
        # On a screen a store of more than two first batches is built in batches too: its
        # first rows come in a second, not when the whole store is built (linux-pwm: 0.98 s
        # against 4.31 s; and the build ends sooner, as a screen's process cannot fork the
        # index's writer: 4.33 against 4.89 s).
        if total > self.batch_above or (self._on_batch is not None and total > 2 * self._first_batch):
            count = self._cold_batched(con, progress, total, lambda c, n: self._finish(c, uuid, rev, n))
            return Refresh("cold", count, time.perf_counter() - t0, reason)
        walked: Callable[[int], None] | None = None
        if progress is not None:
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

    @property
    def _first_batch(self) -> int:
        """A batched build's first batch is small: a screen has the newest series in a second."""
        return max(1, self.batch_messages // 5)

    def _cold_batched(
        self,
        con: sqlite3.Connection | None,
        progress: Callable[[str], None] | None,
        total: int,
        finish: Callable[[sqlite3.Connection, int], None],
    ) -> int:
        """A first build in bounded memory (see :mod:`triage.cache.batched`); the number of
        messages built. Each batch is committed with its series in the list, unlinked, so a
        screen can show the newest series while the rest is built (:meth:`partial_view`);
        ``finish`` writes the meta row, last."""
        say = progress or (lambda _text: None)
        say(f"building the series index: reading {total} messages, newest first")
        verifier = self._verifier(con)
        count = 0

        def walked(n: int) -> None:
            say(f"building the series index: {n} of {total} messages read")

        def build(c: sqlite3.Connection) -> None:
            nonlocal count
            self._partial = (0, total)
            self._create(c)
            _index_link_keys(c)  # batches replace the series they regroup: found by these
            for batch in records_in_batches(self.store, "*", self.batch_messages, progress=walked, verifier=verifier,
                                            first_batch=self._first_batch):
                c.execute("BEGIN IMMEDIATE")  # the write lock first: no snapshot to upgrade
                series, replaced = self._regroup(c, batch, {r.thread_id for r in batch}, {}, verifier)
                if self._on_batch is not None:  # a screen shows the list so far
                    self._list_unlinked(c, series, replaced)
                c.execute("COMMIT")
                count += len(batch)
                say(f"building the series index: {count} of {total} messages grouped")
                self._partial = (count, total)
                if self._on_batch is not None:
                    self._on_batch(count, total)
                    gc.collect(1)  # the screen's garbage of a batch's time (see below)
            c.execute("BEGIN IMMEDIATE")

            def linked(n: int) -> None:
                say(f"building the series index: versions of {n} series linked")
                if self._on_batch is not None:
                    gc.collect(1)

            listed = link_all(c, linked)
            finish(c, count)
            c.execute("COMMIT")
            say(f"building the series index: {listed} series of {count} messages")

        self._fresh = None
        # The collector stays off, as for one pass: a batch's objects are acyclic and die
        # with it. On a screen, the young generations are collected after each batch and
        # each chunk of links: the garbage of a minute of keys and lists would otherwise
        # pile up (330 MB at ten times linux-pwm) and be collected in one pause of a second
        # when the build ends. The collector left on instead walked every batch's objects
        # again and again: 54.6 s against 36.1 s for the app's first build at 10x.
        try:
            if con is None:
                with self._db(fresh=True, readable=True) as c:
                    build(c)
            else:
                build(con)
        finally:
            self._partial = None
        return count

    @staticmethod
    def _list_unlinked(con: sqlite3.Connection, series: list[Series], replaced: set[str]) -> None:
        """The list's rows of series just grouped, before versions are linked (a first build's
        screen shows them while it goes on). The rows of ``replaced`` series (those the batch
        regrouped) go unless the batch made them again."""
        ids = [s.id for s in series]
        rows: list[tuple] = []
        for chunk in _chunks(ids, 500):
            marks = ",".join("?" * len(chunk))
            rows += con.execute(f"SELECT id, date, sort_name, state_tag, light FROM series WHERE id IN ({marks})", chunk)
        con.executemany("DELETE FROM list WHERE id=?", ((sid,) for sid in replaced.difference(ids)))
        listing.write(con, (_list_entry(sid, d, name, st, light, _NO_VERSIONS) for sid, d, name, st, light in rows))

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
        con.execute("BEGIN IMMEDIATE")
        series, before = self._regroup(con, fresh, threads, old, verifier)
        (count,) = con.execute("SELECT COALESCE(SUM(count), 0) FROM threads").fetchone()
        if count != self.store.count("*"):
            # Messages were removed (notmuch new after a delete): lastmod cannot say which.
            con.execute("ROLLBACK")
            return self._cold(con, uuid, rev, t0, "messages were removed", progress)
        _relist(con, before | {x.id for x in series})
        self._finish(con, uuid, rev, count)
        con.execute("COMMIT")
        return Refresh("incremental", len(changed), time.perf_counter() - t0)

    def _regroup(
        self,
        con: sqlite3.Connection,
        fresh: list[MessageRecord],
        threads: set[str],
        old: dict[str, list[MessageRecord]],
        verifier: Verifier,
    ) -> tuple[list[Series], set[str]]:
        """Group ``fresh`` records (of whole threads) with what the index holds of ``threads``
        and of every thread their series could reach, and write the series anew (the caller's
        transaction). ``old``: the index's records of changed threads, read already. Returns
        the series made and the series replaced, with the versions the list linked them to."""
        fresh_by_thread = _by_thread(fresh)
        threads = self._expand(con, threads, fresh)
        fresh_ids = {r.message_id for r in fresh}
        records = list(fresh)
        for tid in sorted(threads - fresh_by_thread.keys()):
            rs = old[tid] if tid in old else self._thread(con, tid)
            records.extend(r for r in rs if r.message_id not in fresh_ids)
        series = group_series(records, policy=self.policy, link=False)
        _keep_verdicts(con, verifier)
        _write_pending(con, records, verifier, replace=threads)
        tlist = sorted(threads)
        stale: set[str] = set()
        for chunk in _chunks(tlist, 500):
            q = f"SELECT series_id FROM series_threads WHERE thread_id IN ({','.join('?' * len(chunk))})"
            stale.update(sid for (sid,) in con.execute(q, chunk))
        # The families the stale series were in before the change (from the list's settled
        # links): a series that lost its link to a changed one is relinked too.
        before = _families(con, stale)
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
        return series, before

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
