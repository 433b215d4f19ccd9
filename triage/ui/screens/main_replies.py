"""The main screen's replies: preparing a reply (the keyboard held meanwhile), drafts, and
the thank-you note.
"""

from __future__ import annotations

from datetime import datetime

from textual import on, work

from triage.errors import UserError
from triage.model.series import Series
from triage.ui import messages as msg
from triage.ui.screens.composer import ComposerScreen
from triage.ui.screens.dialogs import (
    DraftsDialog,
    PreparingReply,
)
from triage.ui.screens.main_base import MainBase
from triage.ui.widgets.panes import PatchList
from triage.ui.widgets.viewer import Viewer


class RepliesPart(MainBase):
    """Replies, drafts, sending a series' drafts at once, thank-you notes (see the module)."""

    @work(thread=True, exclusive=True, group="reply", exit_on_error=False)
    def prepare_reply(self, parent_id: str, kind: str, series_id: str | None) -> None:
        try:
            draft, resumed = self.session.start_reply(parent_id, kind, series_id)
        except (UserError, OSError) as e:
            self.post_message(msg.ReplyFailed("", f"cannot start a reply: {e}"))
            return
        self.post_message(msg.ReplyReady(draft, resumed))

    @work(thread=True, exclusive=True, group="drafts", exit_on_error=False)
    def list_drafts(self, show: bool) -> None:
        drafts, problems = self.session.drafts.all()
        self.post_message(msg.DraftsListed(drafts, problems, show))

    @work(thread=True, exclusive=True, group="reply", exit_on_error=False)
    def thanks_worker(self, series: Series) -> None:
        try:
            draft, resumed = self.session.thanks(series)
        except (UserError, OSError) as e:
            self.post_message(msg.Failed(f"no thank-you note: {e}"))
            return
        self.post_message(msg.ReplyReady(draft, resumed))

    @on(msg.ReplyDone)
    def _reply_done(self, event: msg.ReplyDone) -> None:
        # Show the reply under its patch and its trailer in the counts, where the user was
        # (the queue stays the queue, the message shown stays shown).
        self._reload_keeping_open()

    # -- a series' drafts sent at once --------------------------------------------------------
    def action_send_series(self) -> None:
        if self.opened is None:
            self.say("open a series first", error=True)
            return
        self.say("building this series' unsent replies...")
        self.prepare_series_send(self.opened.id, self.opened.title)

    @work(thread=True, exclusive=True, group="reply", exit_on_error=False)
    def prepare_series_send(self, series_id: str, title: str) -> None:
        drafts, problems = self.session.drafts.all()
        mine = [d for d in drafts if d.series_id == series_id]
        built, failed = [], list(problems)
        for d in mine:
            try:
                built.append((d, self.session.build(d)))
            except (UserError, ValueError) as e:
                failed.append(f"draft to {d.parent_subject[:60]!r} cannot be sent: {e}")
        self.post_message(msg.SeriesSendReady(series_id, title, built, failed))

    @on(msg.SeriesSendReady)
    def _series_send_ready(self, event: msg.SeriesSendReady) -> None:
        if not event.replies:
            self.post_message(msg.Result(f"no unsent replies to {event.title[:60]!r}" +
                                         (f" ({'; '.join(event.problems)})" if event.problems else "")))
            return

        def answer(send: bool | None) -> None:
            if send:
                self.say(f"sending {len(event.replies)} replies...")
                self.send_series_worker(event.title, [d for d, _ in event.replies], [b for _, b in event.replies])
            else:
                self.say("nothing sent; the drafts are kept")

        from triage.ui.screens.sendall import SendSeriesScreen

        title = (f"{len(event.replies)} replies to {event.title!r}: "
                 f"{self.triage.key_name('triage.send_series.send')} sends them all, "
                 f"{self.triage.key_name('triage.send_series.cancel')} goes back")
        self.app.push_screen(SendSeriesScreen(title, event.replies, event.problems), answer)

    @work(thread=True, exclusive=True, group="reply", exit_on_error=False)
    def send_series_worker(self, title: str, drafts: list, builts: list) -> None:
        sent, failed = 0, []
        for d, b in zip(drafts, builts, strict=True):
            try:
                self.session.send(d, b)
                sent += 1
            except (UserError, OSError) as e:
                failed.append(f"{d.parent_subject[:50]!r}: {e}")  # kept as a draft: nothing is lost or sent twice
        text = f"sent {sent} of {len(drafts)} replies to {title[:50]!r}"
        self.post_message(msg.SeriesChanged(text, [f"not sent: {f}" for f in failed]))

    def _preparing(self) -> PreparingReply | None:
        return next((s for s in self.app.screen_stack if isinstance(s, PreparingReply)), None)

    def _dismiss_preparing(self) -> None:
        waiting = self._preparing()
        if waiting is not None:
            waiting.dismiss(None)

    @on(msg.ReplyReady)
    def _reply_ready(self, event: msg.ReplyReady) -> None:
        typed = ""
        waiting = self._preparing()
        if waiting is not None:
            typed = waiting.typed
            waiting.dismiss(None)
        elif self._reply_cancelled:
            # Escape was pressed while it was prepared: the draft is kept for D.
            self._reply_cancelled = False
            self.post_message(msg.Result(f"reply prepared and kept: {self.triage.key_name('triage.drafts')} lists unsent drafts"))
            return
        if not isinstance(self.app.screen, ComposerScreen):
            self.app.push_screen(ComposerScreen(event.draft, resumed=event.resumed, typed_ahead=typed))

    @on(msg.ReplyFailed)
    def _reply_failed(self, event: msg.ReplyFailed) -> None:
        self._dismiss_preparing()
        self.post_message(msg.Failed(event.text))

    @on(msg.DraftsListed)
    def _drafts_listed(self, event: msg.DraftsListed) -> None:
        for problem in event.problems:
            self.post_message(msg.Failed(problem))
        if not event.show:
            if event.drafts:
                key = self.triage.key_name("triage.drafts")
                self.post_message(msg.Progress(f"{len(event.drafts)} unsent draft(s): {key} lists them"))
            return
        if not event.drafts:
            self.post_message(msg.Progress("no unsent drafts"))
            return
        by_id = {d.id: d for d in event.drafts}
        labels = [
            (d.id, f"{datetime.fromtimestamp(d.updated):%Y-%m-%d %H:%M}  {d.kind:<7} {d.parent_subject}")
            for d in event.drafts
        ]

        def resume(draft_id: str | None) -> None:
            if draft_id is not None and draft_id in by_id:
                self.app.push_screen(ComposerScreen(by_id[draft_id], resumed=True))

        self.app.push_screen(DraftsDialog(labels), resume)

    def action_reply(self, kind: str) -> None:
        if self.opened is None:
            self.say("open a series first", error=True)
            return
        plist = self.query_one(PatchList)
        h = plist.highlighted
        followups = self.query_one("#followups", Viewer)
        parent: str | None
        if self.focused is followups and followups.selected_target is not None:
            parent = followups.selected_target  # answer the reviewer's mail
        elif self.focused is self.query_one("#message") and self.shown_message:
            parent = self.shown_message  # the message read (a patch, or a follow-up opened)
        elif h is not None and 0 <= h < len(plist.entries):
            parent = plist.entries[h][0]
        else:
            parent = self.shown_message or (self.opened.cover.message_id if self.opened.cover else None)
        if not parent:
            self.say("no message to reply to", error=True)
            return
        self.say("preparing the reply...")
        self._reply_cancelled = False
        self.app.push_screen(PreparingReply(), callback=lambda how: setattr(self, "_reply_cancelled", how == "cancel"))
        self.prepare_reply(parent, kind, self.opened.id)

    def action_drafts(self) -> None:
        self.list_drafts(show=True)

    def action_thanks(self) -> None:
        if self.opened is None:
            self.say("open a series first", error=True)
            return
        self.thanks_worker(self.opened)
