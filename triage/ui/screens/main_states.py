"""The main screen's state changes: states, marked rows, deferrals, patch marks, claims,
marking read, and undo (one log shared with ``triage undo``).
"""

from __future__ import annotations

import contextlib

from textual import on, work

from triage.dates import until_date
from triage.errors import UserError
from triage.model.series import Series, state_read
from triage.ui import messages as msg
from triage.ui.screens.dialogs import (
    AskDialog,
)
from triage.ui.screens.main_base import MainBase
from triage.ui.widgets.panes import PatchList, SeriesList


class StatesPart(MainBase):
    """State changes, marks and undo (see the module)."""

    @work(thread=True, exclusive=False, group="tags", exit_on_error=False)
    def change_state(self, series_ids: list[str], state: str | None, until: str | None = None) -> None:
        """``state`` on each series (marked rows: several, one undo step); ``until`` defers."""
        replayed = self.session.store.replayed
        try:
            series = [self._series(sid) for sid in series_ids]
            self.post_message(msg.Progress(f"tagging {sum(len(s.message_ids()) for s in series)} messages..."))
            changes = self.session.set_states(series, state, until)
        except UserError as e:
            self.post_message(msg.Failed(str(e)))
            return
        self.post_message(msg.StateSet(changes, undoable=True))
        if self.session.store.replayed > replayed:
            # Changes queued while the database was locked went in too: show them.
            self.post_message(msg.SeriesChanged("queued state changes applied", []))

    @work(thread=True, exclusive=False, group="tags", exit_on_error=False)
    def undo_change(self) -> None:
        """Take back the last change to tags, whatever made it (a state, a mark, the CLI)."""
        try:
            step = self.session.undo_last()
        except UserError as e:
            self.post_message(msg.Failed(str(e)))
            return
        if step is None:
            self.post_message(msg.Result("nothing to undo"))
            return
        self.post_message(msg.SeriesChanged(f"undone: {step.label}", []))

    @work(thread=True, exclusive=False, group="tags", exit_on_error=False)
    def mark_read(self, series_id: str) -> None:
        try:
            s = self._series(series_id)
            count = self.session.mark_read(s)
        except UserError as e:
            self.post_message(msg.Failed(str(e)))
            return
        self.post_message(msg.MarkedRead(series_id, count))

    @work(thread=True, exclusive=False, group="tags", exit_on_error=False)
    def accept_claim(self, series_id: str) -> None:
        """Accept (or take back) another author's claim to supersede, from either side."""
        row = self.model.get(series_id) or {}
        claims = list(row.get("claims") or ())
        if not claims:
            self.post_message(msg.Failed("no other author claims to supersede this series, or to be superseded by it"))
            return
        mine = [c for c in claims if c.get("claims") == "supersedes"]
        claimant = series_id if mine else str(claims[0]["id"])
        try:
            s = self._series(claimant)
            accepted = self.session.policy.tag_prefix + "claim-accepted" in (s.cover or s.patches[0].message).tags
            self.session.accept_claim(s, accept=not accepted)
        except UserError as e:
            self.post_message(msg.Failed(str(e)))
            return
        what = "taken back" if accepted else "accepted: linked as a newer version"
        self.post_message(msg.SeriesChanged(f"claim of {s.title[:50]!r} {what}", []))

    @on(msg.StateSet)
    def _state_set(self, event: msg.StateSet) -> None:
        new_state = "new"
        for change in event.changes:
            row = self.model.get(change.series_id)
            new_state = state_read(change.state, superseded=bool(row and not row.get("current", not row["newer_versions"])))
            self.model.set_state(change.series_id, new_state)
            if self.opened is not None and self.opened.id == change.series_id:
                self.opened.state_tag = change.state
            self.model.marked.discard(change.series_id)
        self.query_one(SeriesList).update_row()
        self._show_context()
        verb = "undone: " if not event.undoable else ""
        if len(event.changes) == 1:
            row = self.model.get(event.change.series_id)
            self.post_message(msg.Result(f"{verb}{row['title'][:50] if row else event.change.series_id} → {new_state}"))
        else:
            self.post_message(msg.Result(f"{verb}{len(event.changes)} series → {new_state} (one undo step)"))

    @on(msg.MarkedRead)
    def _marked_read(self, event: msg.MarkedRead) -> None:
        self.model.change(event.series_id, unread=False)
        self.query_one(SeriesList).update_row()
        self.post_message(msg.Result(f"marked read: {event.count} messages"))

    def action_set_state(self, state: str) -> None:
        targets = self._targets()
        if not targets:
            self.say("no series selected", error=True)
            return
        self.change_state(targets, state)

    def action_mark_patch(self, mark: str) -> None:
        plist = self.query_one(PatchList)
        h = plist.highlighted
        if self.opened is None or h is None or not 0 <= h < len(plist.entries) or plist.entries[h][1] is None:
            self.say("select a patch of the open series", error=True)
            return
        self.patch_progress(self.opened, plist.entries[h][0], mark)

    @work(thread=True, exclusive=False, group="tags", exit_on_error=False)
    def patch_progress(self, series: Series, message_id: str, mark: str) -> None:
        try:
            now, state = self.session.mark_patch(series, message_id, mark)
        except UserError as e:
            self.post_message(msg.Failed(str(e)))
            return
        self.post_message(msg.SeriesChanged((f"patch marked {now}" if now else "patch mark cleared")
                                            + (f"; series → {state}" if state else ""), []))

    def action_mark(self) -> None:
        sid = self._current_series_id()
        if sid is None:
            return
        self.model.toggle_mark(sid)
        self.query_one(SeriesList).update_row()
        count = len(self.model.marked)
        self.say(f"{count} series marked: a state key sets them all" if count else "no series marked")
        with contextlib.suppress(Exception):
            self.query_one(SeriesList).action_cursor_down()

    def action_defer(self) -> None:
        targets = self._targets()
        if not targets:
            self.say("no series selected", error=True)
            return

        def done(text: str | None) -> None:
            if not text:
                return
            try:
                when = until_date(text)
            except UserError as e:
                self.say(str(e), error=True)
                return
            self.change_state(targets, "deferred", until=when)

        self.app.push_screen(AskDialog("defer until (YYYY-MM-DD, or 3d, 2w, 1m) — enter to confirm, escape to cancel"), done)

    def action_undo(self) -> None:
        self.undo_change()

    def action_mark_read(self) -> None:
        sid = self._current_series_id()
        if sid:
            self.mark_read(sid)

    def action_accept_claim(self) -> None:
        sid = self._current_series_id()
        if sid:
            self.accept_claim(sid)
