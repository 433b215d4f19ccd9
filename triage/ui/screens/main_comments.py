"""The main screen's comments on lines: the user's own and other reviewers', drawn under
their lines, and the editor that writes one.
"""

from __future__ import annotations

from rich.segment import Segment
from textual import on, work

from triage.reply.comments import Comment
from triage.textsafe import safe_line
from triage.ui import messages as msg
from triage.ui.documents import (
    Line,
)
from triage.ui.screens.dialogs import (
    CommentEditor,
)
from triage.ui.screens.main_base import OTHER_COMMENT, OTHERS_PER_LINE, OWN_COMMENT, MainBase
from triage.ui.widgets.viewer import Viewer


class CommentsPart(MainBase):
    """Comments on lines: the user's own and other reviewers', and the editor (see the module)."""

    def _refresh_extras(self) -> None:
        """Draw the user's comments, and other reviewers' (unless hidden), under their lines."""
        viewer = self.query_one("#message", Viewer)
        doc = viewer.document
        extras: dict[int, list[Line]] = {}
        if self.opened is not None and self.shown_message is not None:
            for c in self.session.comments_on(self.opened.id, self.shown_message):
                line = doc.line_of(c.line)
                if line is not None:
                    rows = c.text.rstrip("\n").split("\n")
                    extras.setdefault(line, []).extend(
                        [[Segment(safe_line(("  ✎ " if i == 0 else "    ") + r), OWN_COMMENT)] for i, r in enumerate(rows)]
                    )
            self._extra_owner = {}
            if self.show_others:
                per_line: dict[int, int] = {}
                for o in self.others:
                    line = doc.line_of(o.line)
                    if line is None:
                        continue
                    per_line[line] = per_line.get(line, 0) + 1
                    if per_line[line] > OTHERS_PER_LINE:
                        continue  # folded below: a flood of comments on one line never floods the view
                    first, *more = o.text.split("\n")
                    drawn = extras.setdefault(line, [])
                    self._extra_owner[(line, len(drawn))] = (o.message_id, o.line)
                    if (o.message_id, o.line) in self.unfolded:
                        drawn.append([Segment(safe_line(f"  ┃ {o.author} ({o.date}):"), OTHER_COMMENT)])
                        drawn.extend([Segment(safe_line(f"  ┃   {x}"), OTHER_COMMENT)] for x in [first, *more])
                    else:
                        folded = f"  ┃ {o.author} ({o.date}): {first}" + (f"  [+{len(more)} lines: Enter]" if more else "")
                        drawn.append([Segment(safe_line(folded), OTHER_COMMENT)])
                for line, n in per_line.items():
                    if n > OTHERS_PER_LINE:
                        extras[line].append([Segment(f"  ┃ ... and {n - OTHERS_PER_LINE} more comments on this line "
                                                     "(the follow-ups pane lists them)", OTHER_COMMENT)])
        viewer.set_extras(extras)

    @on(msg.ExtraSelected)
    def _unfold(self, event: msg.ExtraSelected) -> None:
        owner = next((o for (line, k), o in sorted(self._extra_owner.items(), reverse=True)
                      if line == event.line and k <= event.index), None)
        if owner is None:
            return
        self.unfolded ^= {owner}
        self._refresh_extras()

    @on(msg.OthersToggled)
    def _toggle_others(self) -> None:
        self.show_others = not self.show_others
        self._refresh_extras()
        self.say(f"other reviewers' comments {'shown' if self.show_others else 'hidden'} ({len(self.others)})")

    @on(msg.CommentRequested)
    def _comment(self, event: msg.CommentRequested) -> None:
        viewer = self.query_one("#message", Viewer)
        doc = viewer.document
        source = doc.source(event.line)
        if self.opened is None or self.shown_message is None or source is None:
            self.say("this line is not part of the message (headers and summaries are triage's)", error=True)
            return
        series_id, message_id = self.opened.id, self.shown_message
        line_text = "".join(seg.text for seg in doc.lines[event.line])
        existing = next((c.text for c in self.session.comments_on(series_id, message_id) if c.line == source), "")
        keys = ", ".join(f"{self.triage.key_name(k)} {w}" for k, w in
                         (("triage.comment.save", "saves"), ("triage.comment.delete", "deletes"), ("triage.comment.cancel", "cancels")))

        def done(text: str | None) -> None:
            if text is not None:
                self.save_comment(series_id, message_id, Comment(source, text, line_text))

        self.app.push_screen(CommentEditor(line_text, existing, keys), done)

    @work(thread=True, exclusive=False, group="comments", exit_on_error=False)
    def save_comment(self, series_id: str, message_id: str, comment: Comment) -> None:
        try:
            self.session.set_comment(series_id, message_id, comment)
        except OSError as e:
            self.post_message(msg.Failed(f"comment not saved in {self.session.comments.dir}: {e.strerror or e}"))
            return
        self.post_message(msg.CommentsChanged(series_id, message_id))

    @on(msg.CommentsChanged)
    def _comments_changed(self, event: msg.CommentsChanged) -> None:
        if self.opened is not None and self.opened.id == event.series_id and self.shown_message == event.message_id:
            self._refresh_extras()
        count = len(self.session.comments_on(event.series_id, event.message_id))
        self.say(f"{count} comment(s) on this message; {self.triage.key_name('triage.review')} or "
                 f"{self.triage.key_name('triage.reply')} replies with them")
