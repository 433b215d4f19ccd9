"""What the command line and the screen both work with: one store, its settings, its
series index and the drafts, and the things done with them.

No Textual here: the screen calls these from its workers, the CLI calls them directly.
Every method may block (notmuch, files, SMTP, git) and raises a UserError subclass
whose text says what failed and where.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from triage.cache.index import Refresh, SeriesIndex
from triage.cache.listing import ListView
from triage.cache.queuefacts import UNTIL
from triage.config import Settings
from triage.errors import UserError
from triage.mail.dkimcheck import Verdict
from triage.mail.message import MessageText, read_message
from triage.mail.store import Store, StoreLocked
from triage.model.series import STATES, Series
from triage.queue import QueueItem, split_touches, todo, touches_any
from triage.remote.fetch import FetchReport, fetch
from triage.remote.sync import Conflict, Sync, SyncReport
from triage.reply.comments import Comment, CommentStore
from triage.reply.draft import Built, Draft, DraftStore, build_message
from triage.reply.outbox import Sent, identity, mark_patch, send_draft, start_reply
from triage.series.anchors import anchor_comments
from triage.series.service import find_series, policy_for
from triage.take import service as take
from triage.take.apply import Applied, branch_name
from triage.take.export import Export
from triage.take.merged import MergedReport
from triage.take.rangediff import RangeLine
from triage.undolog import Step, UndoLog


@dataclass(frozen=True)
class OtherComment:
    """A reviewer's comment found under a line of the message they quoted."""

    line: int  # body line of the shown message
    author: str
    date: str
    text: str
    message_id: str


@dataclass(frozen=True)
class StateChange:
    """What a state change did, enough to undo it."""

    series_id: str
    message_ids: list[str]
    previous: str | None  # the state tag before, None when untagged
    state: str | None  # None: the state tags were removed


class Session:
    def __init__(self, store: Store, settings: Settings | None = None, *, drafts: DraftStore | None = None) -> None:
        self.store = store
        self.settings = settings or Settings()
        # The user is every identity: config.toml's [identity] and notmuch's user.*_email.
        self.identities = self.settings.identities
        self.policy = policy_for(store, self.settings)
        self.index = SeriesIndex(store, policy=self.policy)
        self.drafts = drafts or DraftStore()
        self.comments = CommentStore()
        self.undo_log = UndoLog()

    # -- the list ----------------------------------------------------------------------------
    def refresh(self, progress: Callable[[str], None] | None = None, built: Callable[[], None] | None = None,
                batch: Callable[[int, int], None] | None = None) -> Refresh:
        from triage.children import Deadline
        from triage.remote.fetch import index_owed

        # Mail an earlier fetch wrote but could not index is indexed first.
        index_owed(self.store, self.store.tool_env(), Deadline(3600), progress or (lambda _t: None))
        return self.index.refresh(progress=progress, built=built, batch=batch)

    def rows(self, query: str = "*") -> list[dict[str, Any]]:
        """The list's rows (what the series list shows) for a notmuch query, which may hold
        ``touches:PATH`` terms (a file, or a directory prefix, a patch's diff touches)."""
        rest, paths = split_touches(query)
        if not paths:
            return self.index.series(query, light=True)
        return [r for r in self.index.series(rest) if touches_any(r, paths)]

    def list_view(self, query: str = "*", *, sort: str = "date", state: str | None = None) -> ListView:
        """The list of a query as the index keeps it, read a window at a time (see
        :meth:`rows` for ``touches:``)."""
        rest, paths = split_touches(query)
        if not paths:
            return self.index.list_view(query, sort=sort, state=state)
        wanted = [str(r["id"]) for r in self.index.series(rest) if touches_any(r, paths)]
        return self.index.list_view(sort=sort, state=state, wanted=wanted)

    def built_rows(self) -> list[dict[str, Any]]:
        return self.index.built_series(light=True)

    # -- feeding and sharing the store ------------------------------------------------------------
    def fetch(self, queries: list[str] | None = None, progress: Callable[[str], None] | None = None,
              cancel: threading.Event | None = None) -> FetchReport:
        """New list mail through lei (the queries given, else ``[fetch] queries``); ``cancel``
        set stops it."""
        return fetch(self.store, self.index, queries or self.settings.fetch_queries, folder=self.settings.fetch_folder,
                     progress=progress, timeout=self.settings.fetch_timeout, cancel=cancel)

    def sync(self, progress: Callable[[str], None] | None = None, cancel: threading.Event | None = None) -> SyncReport:
        """States shared through notmuch-git with ``[sync] remote``; the list refreshed after.
        ``cancel`` set stops it (what it did so far is kept, and finished by the next sync)."""
        report = Sync(self.store, self.settings.sync_remote, self.settings.sync_repository,
                      timeout=self.settings.sync_timeout, cancel=cancel).run(progress)
        self.index.refresh()
        return report

    def recheck_senders(self) -> int:
        """List-rewritten senders indexed without DNS, checked again (see SeriesIndex.recheck_rewrites)."""
        return self.index.recheck_rewrites() if self.policy.dns else 0

    def conflict_lines(self, report: SyncReport) -> list[str]:
        """One line per series and conflict: its title, what each side set, how many of
        its messages carry both (a state is set on every message of a series)."""
        titles = self.index.titles_of_messages(c.message_id for c in report.conflicts)
        grouped: dict[tuple[str, str, tuple[str, ...], tuple[str, ...]], list[str]] = {}
        for c in report.conflicts:
            key = (titles.get(c.message_id, f"<{c.message_id}>"), c.kind, c.here, c.remote)
            grouped.setdefault(key, []).append(c.message_id)
        lines = []
        for (title, kind, here, remote), ids in grouped.items():
            what = Conflict(ids[0], kind, here, remote).what()
            lines.append(f"conflict: {title}: {what} ({len(ids)} messages, e.g. <{ids[0]}>)")
        return lines

    # -- one series --------------------------------------------------------------------------
    def series(self, series_id: str) -> Series:
        verifier = self.index.verifier()
        s = find_series(self.store, series_id, policy=self.policy, known=self.index.known_facts(series_id),
                        verifier=verifier)
        self.index.keep_verdicts(verifier)
        return s

    def message(self, message_id: str) -> MessageText:
        """A message to show, with what its signatures prove."""
        m = read_message(message_id, self.store.message_path(message_id))
        m.signatures = self.verdict(message_id).summary()
        return m

    def verdict(self, message_id: str) -> Verdict:
        """What a message's DKIM and ARC signatures show: kept in the index once DNS answered."""
        verifier = self.index.verifier()
        got = verifier.verdicts([message_id], recheck=True)[message_id]
        self.index.keep_verdicts(verifier)
        return got

    def messages(self, message_ids: list[str]) -> list[MessageText]:
        paths = self.store.message_paths(message_ids)
        return [read_message(mid, paths[mid]) for mid in message_ids]

    # -- changes to tags, each an undo step ------------------------------------------------------
    def _recorded(self, label: str, ids: list[str], change: Callable[[], object]) -> None:
        """Make ``change`` (to the tags of ``ids``) and keep exactly what it did as one undo
        step: the prefixed tags of those messages before and after. A change queued behind a
        held lock is recorded too (it will be made)."""
        prefix = self.store.config.tag_prefix
        before = self.store.prefixed_tags(ids, prefix)
        try:
            change()
        except StoreLocked:
            self.undo_log.record(Step(label + " (queued)", []))
            raise
        after = self.store.prefixed_tags(ids, prefix)
        changes = [(mid, sorted(prefix + t for t in after[mid] - before[mid]),
                    sorted(prefix + t for t in before[mid] - after[mid]))
                   for mid in ids if mid in before and mid in after and before[mid] != after[mid]]
        self.undo_log.record(Step(label, changes))

    def set_state(self, series: Series, state: str | None) -> StateChange:
        """Tag every message of the series with ``state`` (None: no state) in one transaction."""
        ids = series.message_ids()
        self._recorded(f"{series.title[:60]}: state {series.state} -> {state or 'none'}", ids,
                       lambda: self._put_state(ids, state))
        return StateChange(series.id, ids, series.state_tag, state)

    def set_states(self, series: list[Series], state: str | None, until: str | None = None) -> list[StateChange]:
        """``state`` (or deferred ``until``) on several series as one undo step."""
        if len(series) == 1:
            return [self.defer(series[0], until) if until else self.set_state(series[0], state)]
        prefix = self.store.config.tag_prefix
        ids = [m for s in series for m in s.message_ids()]

        def change() -> None:
            for s in series:
                if until:
                    old = [t for t in self._tags(s.message_ids()[0]) if t.startswith(prefix + UNTIL)]
                    self.store.tag(s.message_ids(), add=[prefix + "deferred", prefix + UNTIL + until],
                                   remove=[*(prefix + x for x in STATES if x != "deferred"), *old])
                else:
                    self._put_state(s.message_ids(), state)

        what = f"deferred until {until}" if until else f"-> {state or 'none'}"
        self._recorded(f"{len(series)} marked series {what}", ids, change)
        return [StateChange(s.id, s.message_ids(), s.state_tag, "deferred" if until else state) for s in series]

    def undo_last(self) -> Step | None:
        """Take back the last change to tags (a state, a deferral, a patch mark, a bulk change),
        made here or by ``triage`` elsewhere; None when there is none."""
        return self.undo_log.undo(self.store)

    def _put_state(self, ids: list[str], state: str | None) -> None:
        if state is None:
            prefix = self.store.config.tag_prefix
            self.store.tag(ids, remove=[prefix + x for x in STATES])
        else:
            self.store.set_state(ids, state)

    def accept_claim(self, series: Series, accept: bool = True) -> bool:
        """Accept (or take back) what ``series``, from another author, claims to supersede: a
        tag on its root message, so the claim links like any version. Returns whether the
        series claims anything at all."""
        from triage.series.linking import CLAIM_ACCEPTED

        root = series.cover.message_id if series.cover else series.patches[0].message_id
        tag = self.store.config.tag_prefix + CLAIM_ACCEPTED
        self._recorded(f"{series.title[:60]}: claim {'accepted' if accept else 'taken back'}", [root],
                       lambda: self.store.tag([root], add=[tag]) if accept else self.store.tag([root], remove=[tag]))
        return True

    def mark_read(self, series: Series) -> int:
        return self.store.tag(series.message_ids(), remove=["unread"])

    def mark_patch(self, series: Series, message_id: str, mark: str) -> tuple[str | None, str | None]:
        """Per-patch progress; the same mark again clears it. Once every patch is reviewed
        the series is. Returns (the patch's mark now, the series' new state when it changed)."""
        patch = next((p for p in series.patches if p.message_id == message_id), None)
        now: str | None = None if patch is not None and patch.progress == mark else mark
        state: str | None = None
        if patch is not None:
            patch.progress = now
        if series.patches and all(p.progress == "reviewed" for p in series.patches) and series.state != "reviewed":
            state = "reviewed"
        what = f"patch {patch.index if patch else '?'} marked {now}" if now else f"patch {patch.index if patch else '?'} mark cleared"

        def change() -> None:
            mark_patch(self.store, message_id, now)
            if state:
                self.store.set_state(series.message_ids(), state)

        self._recorded(f"{series.title[:60]}: {what}" + (f", series -> {state}" if state else ""),
                       series.message_ids() if state else [message_id], change)
        return now, state

    def mark_message_read(self, message_id: str) -> int:
        return self.store.tag([message_id], remove=["unread"])

    # -- the queue: what needs me ----------------------------------------------------------
    def all_identities(self) -> set[str]:
        return self.store.identities() | {e.lower() for e in self.identities}

    def todo(self, today: str | None = None, *, include_stale: bool = False) -> list[QueueItem]:
        """The queue; ``include_stale``: with the series ``[queue] stale_after`` leaves out."""
        from triage.dates import duration_seconds

        self.index.refresh()
        stale = self.settings.queue_stale_after
        return todo(self.store, self.index, self.all_identities(), watch=self.settings.queue_watch,
                    files=self.settings.queue_files, today=today,
                    stale_after=duration_seconds(stale) if stale else None, include_stale=include_stale)

    def defer(self, series: Series, until: str) -> StateChange:
        """Deferred until ``until`` (YYYY-MM-DD): out of the queue until then."""
        prefix = self.store.config.tag_prefix
        ids = series.message_ids()
        change = StateChange(series.id, ids, series.state_tag, "deferred")
        old = [t for t in self._tags(ids[0]) if t.startswith(prefix + UNTIL)]
        self._recorded(f"{series.title[:60]}: deferred until {until}", ids, lambda: self.store.tag(
            ids, add=[prefix + "deferred", prefix + UNTIL + until],
            remove=[*(prefix + x for x in STATES if x != "deferred"), *old]))
        return change

    def _tags(self, message_id: str) -> set[str]:
        with self.store.read() as db:
            try:
                return {str(t) for t in db.find(message_id).tags}
            except LookupError:
                return set()

    def set_state_by_query(self, query: str, state: str, *, dry_run: bool = False) -> list[tuple[Series, StateChange]]:
        """Every series that ``query`` reaches to ``state``, in one transaction and one undo
        step (``dry_run``: only say which)."""
        from triage.series.service import load_series

        series = load_series(self.store, query, policy=self.policy)
        ids = [mid for s in series for mid in s.message_ids()]
        changes = [(s, StateChange(s.id, s.message_ids(), s.state_tag, state)) for s in series]
        if ids and not dry_run:
            self._recorded(f"{len(series)} series of {query!r} -> {state}", ids, lambda: self.store.set_state(ids, state))
        return changes

    def carried(self, series_id: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """(reviews carried from earlier versions, reviews lost to changed patches) of a
        series, as the index links versions (``carried_trailers``, ``review_lost``)."""
        return self.index.carried(series_id)

    # -- review: comments on lines ---------------------------------------------------------
    def comments_on(self, series_id: str, message_id: str) -> list[Comment]:
        return self.comments.for_message(series_id, message_id)

    def set_comment(self, series_id: str, message_id: str, comment: Comment) -> None:
        self.comments.set(series_id, message_id, comment)

    def others_comments(self, message: MessageText, followups: list[MessageText]) -> list[OtherComment]:
        """Other reviewers' comments in ``followups`` anchored to lines of ``message``."""
        out: list[OtherComment] = []
        for f in followups:
            for a in anchor_comments(message.body, f.body):
                out.append(OtherComment(a.line, f.from_, f.date, a.text, f.message_id))
        return out

    def earlier_comments(
        self, series: Series, message: MessageText, previous_id: str
    ) -> tuple[list[OtherComment], list[tuple[str, OtherComment]]]:
        """Comments made on this patch's previous version (matched by patch-id, else by
        title): those whose quoted line is still in this patch, anchored to it, and the
        others with the line they were about (to check whether they were addressed)."""
        patch = next((p for p in series.patches if p.message_id == message.message_id), None)
        if patch is None:
            return [], []
        older = self.series(previous_id)
        pid = patch.message.facts.patch_id
        title = patch.message.parsed.normalized_title
        old = next((p for p in older.patches if pid and p.message.facts.patch_id == pid), None) or next(
            (p for p in older.patches if p.message.parsed.normalized_title == title), None
        )
        if old is None or not old.followups:
            return [], []
        old_message = self.message(old.message_id)
        old_lines = old_message.body.split("\n")
        new_lines = message.body.split("\n")
        anchored: list[OtherComment] = []
        unplaced: list[tuple[str, OtherComment]] = []
        label = f"on v{older.version}"
        for f in self.messages(old.followups):
            for a in anchor_comments(old_message.body, f.body):
                quoted = old_lines[a.line]
                where = next((i for i, line in enumerate(new_lines) if line == quoted and line.strip()), None)
                comment = OtherComment(where if where is not None else -1, f"{label}: {f.from_}", f.date, a.text,
                                       f.message_id)
                if where is None:
                    unplaced.append((quoted, comment))
                else:
                    anchored.append(comment)
        return anchored, unplaced

    # -- replies -----------------------------------------------------------------------------
    def start_reply(self, parent_id: str, kind: str, series_id: str | None) -> tuple[Draft, bool]:
        """A reply to ``parent_id``; with comments on it, only their lines are quoted."""
        comments = self.comments_on(series_id, parent_id) if series_id else []
        return start_reply(self.store, self.settings, self.drafts, parent_id, kind, series_id, comments=comments or None)

    def build(self, draft: Draft) -> Built:
        return build_message(draft)

    def send(self, draft: Draft, built: Built | None = None) -> Sent:
        sent = send_draft(self.store, self.settings, self.drafts, draft, built)
        if draft.series_id:
            # The comments went out with this reply; a problem here must not hide the send.
            with contextlib.suppress(OSError):
                self.comments.clear(draft.series_id, draft.parent_id)
        return sent

    def thanks(self, series: Series) -> tuple[Draft, bool]:
        applied = take.applied_record(series.id)
        me = identity(self.store, self.settings)
        body = take.thanks_body(series, applied, me.formatted())
        return start_reply(
            self.store, self.settings, self.drafts, take.thanks_target(series), "thanks", series.id, body=body
        )

    def merged(self, repo: str | None = None, branch: str | None = None, since: str | None = None) -> MergedReport:
        """Tag the patches that are commits of ``branch`` in ``repo`` (``[apply] repo``, HEAD),
        found by git patch-id; the list refreshed after."""
        import json

        from triage.take.merged import find_merged

        target = repo or self.settings.apply_repo
        if not target:
            raise UserError("no repository: give --repo PATH or set [apply] repo in config.toml")
        self.index.refresh()
        rows = json.loads(self.index.series_json())
        patches = [str(p["message_id"]) for r in rows for p in r["patches"] if p.get("has_diff")]
        already = {str(p["message_id"]) for r in rows for p in r["patches"]
                   if (p.get("outcome") or {}).get("kind") == "merged"}
        report = find_merged(self.store, patches, already, Path(target).expanduser(), branch or "HEAD", since)
        if report.merged:
            self.index.refresh()
        return report

    # -- take-in -----------------------------------------------------------------------------
    def export(self, series_id: str, *, force: bool = False) -> Export:
        return take.export(self.store, self.settings, series_id, force=force, index=self.index)

    def export_to_folder(self, series_id: str, *, force: bool = False) -> tuple[Export, Path]:
        """Export into ``[export] dir`` (the current directory by default), named after the series."""
        result = self.export(series_id, force=force)
        folder = Path(self.settings.export_dir or ".").expanduser()
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / (branch_name(result).replace("triage/", "", 1) + ".mbox")
        target.write_bytes(result.mbox)
        return result, target

    def apply(
        self, series_id: str, repo: str | None = None, *, base: str | None = None, force: bool = False
    ) -> tuple[Applied, Export, list[str]]:
        return take.apply(self.store, self.settings, series_id, repo, base=base, force=force, index=self.index)

    def range_diff(self, series: Series, steps: int = 1) -> tuple[Series, list[RangeLine]] | None:
        """(the older version, the range-diff lines), or None when there is no such version."""
        older = take.previous_version(self.index, series, steps)
        if older is None:
            return None
        return older, take.compare_versions(self.store, older, series)

    def versions(self, series_id: str) -> list[tuple[Series, list[tuple[str, str, str]]]]:
        """The versions the list links a series to, oldest first, each with why it is linked."""
        return take.versions(self.index, series_id)
