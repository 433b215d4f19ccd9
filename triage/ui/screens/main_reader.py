"""The main screen's reader: the message view and the follow-ups, what an opened series
shows first, moving between patches, files and hunks.
"""

from __future__ import annotations

import time

from textual import on, work
from textual.widgets import OptionList
from textual.worker import get_current_worker

from triage.errors import UserError
from triage.model.series import Series
from triage.series.patchdoc import parse_patch
from triage.ui import messages as msg
from triage.ui.documents import (
    decision_lines,
    followups_document,
    message_document,
    patch_document,
    quick_patch_document,
    series_summary,
    trailer_basis,
    version_lines,
)
from triage.ui.screens.dialogs import (
    FileListDialog,
)
from triage.ui.screens.main_base import (
    HUNK_STYLE,
    MAX_FOLLOWUPS,
    OTHER_COMMENT,
    QUICK_FIRST_CHARS,
    QUOTE_STYLE,
    WARN_STYLE,
    MainBase,
)
from triage.ui.widgets.panes import PatchList, SeriesList
from triage.ui.widgets.viewer import Viewer

# A version line's target: the series to open, not a message to show.
SERIES_LINK = "series:"

class ReaderPart(MainBase):
    """The message view and the follow-ups (see the module)."""

    @work(thread=True, exclusive=True, group="carried", exit_on_error=False)
    def load_carried(self, series_id: str) -> None:
        """Reviews carried from earlier versions need the index's version links: fetched
        after the open, so an index being written never slows the open down."""
        worker = get_current_worker()
        for _ in range(40):  # on a first start the index is still being written: wait for it
            try:
                carried, lost = self.session.carried(series_id)
                break
            except UserError:
                if worker.is_cancelled:
                    return
                time.sleep(0.25)
        else:
            return  # the patch list is complete without them
        if carried or lost:
            self.post_message(msg.CarriedLoaded(series_id, carried, lost))

    @on(msg.CarriedLoaded)
    def _carried_loaded(self, event: msg.CarriedLoaded) -> None:
        s = self.opened
        if s is None or s.id != event.series_id:
            return
        s.carried_trailers, s.review_lost = event.carried, event.lost
        plist = self.query_one(PatchList)
        keep = plist.highlighted
        plist.fill(s)
        if keep is not None and keep < plist.option_count:
            plist.highlighted = keep

    @work(thread=True, exclusive=True, group="message", exit_on_error=False)
    def show_message(self, series: Series, message_id: str, index: int | None) -> None:
        worker = get_current_worker()
        try:
            m = self.session.message(message_id)
            if index is None and series.cover is not None:
                doc = message_document(m)
                basis = trailer_basis(series)
                if basis:
                    doc.blank()
                    for text, style in basis:
                        doc.add(text, style)
                for line in self._claim_lines(series.id):
                    doc.add(line, WARN_STYLE)
                decided = decision_lines(series)
                versions = version_lines(self.model.get(series.id) or {}, self.model.get, series.date_claimed)
                for block, prefix in ((decided, ""), (versions, SERIES_LINK)):
                    if block:
                        doc.blank()
                    for text, style, target in block:
                        if target:
                            doc.add_link(text, style, prefix + target)
                        else:
                            doc.add(text, style)
                followup_ids = series.cover_followups
                what = "the cover letter"
            else:
                if len(m.body) > QUICK_FIRST_CHARS:
                    # Paint a large patch at once; the parsed version follows, once the
                    # first paint is on screen (parsing would compete with it for the GIL).
                    quick = quick_patch_document(m)
                    self.post_message(msg.MessageShown(message_id, quick, None))
                    viewer = self.query_one("#message", Viewer)
                    deadline = time.monotonic() + 1.0
                    while viewer.rendered_document is not quick and time.monotonic() < deadline:
                        time.sleep(0.005)
                    # A frame is composed after its lines are drawn: leave the GIL to the UI for it.
                    time.sleep(0.05)
                doc = patch_document(m, parse_patch(m.body))
                patch = next((p for p in series.patches if p.message_id == message_id), None)
                followup_ids = patch.followups if patch else []
                what = f"patch {index}"
            followups = self.session.messages(followup_ids)
            fdoc = followups_document(followups[:MAX_FOLLOWUPS], what)
            others = self.session.others_comments(m, followups)
            row = self.model.get(series.id)
            previous = (row or {}).get("previous_versions") or []
            if index is not None and previous:
                earlier, unplaced = self.session.earlier_comments(series, m, previous[-1])
                others += earlier
                if unplaced:
                    doc.blank()
                    doc.add(f"Comments on the previous version whose line is gone ({len(unplaced)}):", HUNK_STYLE)
                    for quoted, c in unplaced:
                        doc.add(f"> {quoted}", QUOTE_STYLE)
                        doc.add(f"  ┃ {c.author} ({c.date}): {c.text.split(chr(10))[0]}", OTHER_COMMENT)
        except UserError as e:
            self.post_message(msg.Failed(str(e)))
            return
        if not worker.is_cancelled:
            self.post_message(msg.MessageShown(message_id, doc, fdoc, others))

    @work(thread=True, exclusive=False, group="tags", exit_on_error=False)
    def read_message(self, message_id: str) -> None:
        """``[view] mark_read``: a message read in the view is read in notmuch (and its file)."""
        try:
            self.session.mark_message_read(message_id)
        except UserError as e:
            self.post_message(msg.Failed(str(e)))

    @on(msg.SeriesOpened)
    def _opened(self, event: msg.SeriesOpened) -> None:
        s = event.series
        if self.opening is not None and s.id != self.opening:
            return  # the user has moved on
        self.opening = None
        self.opened = s
        self.query_one(PatchList).fill(s)
        self.load_carried(s.id)
        reshow, self._reshow = self._reshow, None
        plist = self.query_one(PatchList)
        if reshow is None:
            row = self.query_one(SeriesList).row_of(s.id) if self.in_queue else None
            if row and row.get("reasons"):
                # In the queue, why it needs me first: the title is on the cursor's row.
                said = f"needs me: {', '.join(row['reasons'])} · {series_summary(s)} · {s.title[:60]}"
            else:
                said = f"{s.title[:60]} · {series_summary(s)}"
            self.post_message(msg.Progress(said))
        if plist.entries:
            at = next((i for i, (mid, _) in enumerate(plist.entries) if reshow and mid == reshow[0]), 0)
            if at:
                plist.highlighted = at
            mid, index = plist.entries[at]
            if reshow is not None and mid == reshow[0]:
                self._keep_view = (mid, reshow[1], reshow[2])
            self.show_message(s, mid, index)

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        plist = self.query_one(PatchList)
        if event.option_list is not plist or self.opened is None:
            return
        if 0 <= event.option_index < len(plist.entries):
            mid, index = plist.entries[event.option_index]
            if mid != self.shown_message:
                self.show_message(self.opened, mid, index)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        plist = self.query_one(PatchList)
        if event.option_list is plist:
            # Enter on a patch: read it with the cursor on its diff, ready for a comment (as
            # b4 review does); on the cover letter, at its top.
            if 0 <= event.option_index < len(plist.entries):
                self._cursor_to_diff = plist.entries[event.option_index][0]
                if self.shown_message == self._cursor_to_diff:
                    self._put_cursor_on_diff()
            self._read_full_width()

    def _put_cursor_on_diff(self) -> None:
        viewer = self.query_one("#message", Viewer)
        self._cursor_to_diff = None
        doc = viewer.document
        top = doc.files[0][0] if doc.files else (doc.hunks[0] if doc.hunks else None)
        if top is None:
            return
        first = doc.hunks[0] + 1 if doc.hunks else top
        # Once the new document's size is laid out (a scroll before that is clamped to 0).
        viewer.call_after_refresh(viewer.show_lines, top, first)

    @work(thread=True, exclusive=True, group="message", exit_on_error=False)
    def show_followup(self, message_id: str) -> None:
        try:
            m = self.session.message(message_id)
        except UserError as e:
            self.post_message(msg.Failed(str(e)))
            return
        shown = msg.MessageShown(message_id, message_document(m), None)
        shown.followup = True
        self.post_message(shown)

    @on(msg.FollowupOpen)
    def _open_followup(self, event: msg.FollowupOpen) -> None:
        if event.message_id.startswith(SERIES_LINK):
            self.goto_series(event.message_id[len(SERIES_LINK):])
            return
        self.show_followup(event.message_id)

    @on(msg.MessageShown)
    def _shown(self, event: msg.MessageShown) -> None:
        plist = self.query_one(PatchList)
        h = plist.highlighted
        if (not event.followup and h is not None and 0 <= h < len(plist.entries)
                and plist.entries[h][0] != event.message_id):
            return  # a message the user has already moved away from
        if event.followup:
            self._read_full_width()
        viewer = self.query_one("#message", Viewer)
        # The parsed document replacing the quick one keeps the reader's place; so does a
        # message shown again after a change (a mark, a send) with its cursor.
        keep: float | None = viewer.scroll_offset.y if self.shown_message == event.message_id else None
        cursor: int | None = None
        kept, self._keep_view = self._keep_view, None
        if kept is not None and kept[0] == event.message_id:
            keep, cursor = kept[1], kept[2]
        self.shown_message = event.message_id
        viewer.show(event.doc, keep_y=keep, cursor=cursor)
        if self._cursor_to_diff == event.message_id:
            self._put_cursor_on_diff()
        if self.session.settings.view_mark_read and event.followups is not None:
            self.read_message(event.message_id)
        if event.followups is not None:
            self.query_one("#followups", Viewer).show(event.followups)
            self.others = event.others
        self._refresh_extras()

    def _claim_lines(self, series_id: str) -> list[str]:
        """What other authors claim of this series, as the list has it (the claims are never
        links until accepted)."""
        row = self.model.get(series_id) or {}
        lines = []
        for c in row.get("claims") or ():
            other = self.model.get(str(c.get("id"))) or {}
            title = str(other.get("title") or f"<{c.get('id')}>")
            if c.get("claims") == "supersedes":
                lines.append(f"⚑ claims to supersede {title!r} ({c.get('rule')}): not linked; "
                             "triage.accept_claim links it")
            else:
                lines.append(f"⚑ {title!r} claims to supersede this series ({c.get('rule')}): not linked; "
                             "triage.accept_claim links it")
        return lines

    def _move_patch(self, delta: int) -> None:
        plist = self.query_one(PatchList)
        if plist.option_count == 0:
            return
        current = plist.highlighted if plist.highlighted is not None else 0
        target = current + delta
        while 0 <= target < plist.option_count and plist.get_option_at_index(target).disabled:
            target += delta
        if 0 <= target < plist.option_count:
            plist.highlighted = target
        else:
            self.say("no more patches")

    def action_next_patch(self) -> None:
        self._move_patch(1)

    def action_prev_patch(self) -> None:
        self._move_patch(-1)

    def _viewer_jump(self, method: str, what: str) -> None:
        viewer = self.query_one("#message", Viewer)
        if not getattr(viewer, method)():
            self.say(f"no {what}")

    def action_next_file(self) -> None:
        self._viewer_jump("next_file", "next file")

    def action_prev_file(self) -> None:
        self._viewer_jump("prev_file", "previous file")

    def action_next_hunk(self) -> None:
        self._viewer_jump("next_hunk", "next hunk")

    def action_prev_hunk(self) -> None:
        self._viewer_jump("prev_hunk", "previous hunk")

    def action_file_list(self) -> None:
        viewer = self.query_one("#message", Viewer)
        if not viewer.document.files:
            self.say("this message has no diff")
            return

        def jump(line: int | None) -> None:
            if line is not None:
                viewer.goto_line(line)
                viewer.focus()

        self.app.push_screen(FileListDialog(viewer.document.files), jump)
