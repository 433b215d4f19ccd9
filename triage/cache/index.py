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
import json
import sqlite3
import time
from collections.abc import Iterable, Iterator
from typing import Any

from triage import forked
from triage.cache import listing
from triage.cache.answer import _carried, _whole_json
from triage.cache.build import BuildMixin
from triage.cache.codec import DAMAGE, DamagedIndex, _pack_thread, _unpack_link, _unpack_thread
from triage.cache.db import SCHEMA, IndexBase, Refresh, _gc_paused, default_path
from triage.cache.fragments import _checked_row
from triage.cache.trustrows import PENDING, _keep_verdicts, _read_verdicts, _vouched
from triage.mail.dkimcheck import Verdict
from triage.mail.store import StoreError
from triage.model.records import BodyFacts
from triage.model.series import MessageRecord
from triage.series.linking import LinkNotes, link_versions
from triage.series.service import verifier_for
from triage.series.trust import Verifier, rewrite_candidates

__all__ = ["DAMAGE", "SCHEMA", "DamagedIndex", "IndexBase", "Refresh", "SeriesIndex", "_pack_thread", "_unpack_thread",
           "default_path", "forked"]


class SeriesIndex(BuildMixin):
    """The series index (see the module's docstring); its readers are here."""

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

    def partial_view(self, *, sort: str = "date", state: str | None = None) -> listing.ListView | None:
        """The list so far of a batched first build under way (see :meth:`refresh`), or None."""
        if self._partial is None:
            return None
        return listing.ListView(self.path, sort=sort, state=state)

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
                out: dict[str, Any] = json.loads(_whole_json(con, series_id, state_tag, fragment, row))
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
                return _carried(con, series_id, row["previous_versions"], row["newer_versions"]) or ([], [])

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
        if not any(v.final for v in verifier.fresh.values()) or not self.path.exists() or self._partial is not None:
            verifier.fresh.clear()
            return
        with contextlib.suppress(sqlite3.DatabaseError, StoreError), self._db() as con:
            con.execute("BEGIN IMMEDIATE")
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
