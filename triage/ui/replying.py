"""Replying on the screen: start or resume a draft, save it as it is typed, preview, send, list drafts.

A mixin of :class:`triage.ui.app.TriageApp`. Building, saving and sending are the
core's (``triage.reply``); they run in thread workers that only post messages, and
the handlers here turn those into the composer screen and the status line.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import threading
from dataclasses import replace
from datetime import datetime
from functools import partial
from pathlib import Path

from textual import work
from textual.app import SuspendNotSupported
from textual.message import Message

from triage.mail.store import StoreError
from triage.reply.draft import Built, Draft, DraftError, DraftStore, build_message
from triage.reply.outbox import ReplyError, Sent, send_draft, start_reply
from triage.reply.send import SendError
from triage.textsafe import safe_line
from triage.ui.base import TriageBase
from triage.ui.screens.composer import ComposerScreen
from triage.ui.screens.dialogs import DraftsDialog, PreparingReply
from triage.ui.widgets.panes import PatchList

RETIRED = 1 << 62  # a save sequence no snapshot reaches


class Replying(TriageBase):
    """The app's reply half. The app gives it the store, settings, keymap and open series."""

    def _init_replying(self) -> None:
        self.drafts = DraftStore()
        self._draft_lock = threading.Lock()
        self._draft_saved_seq: dict[str, int] = {}
        self._draft_seq = 0
        self._reply_cancelled = False  # escape while a reply was prepared

    class ReplyReady(Message):
        def __init__(self, draft: Draft, resumed: bool) -> None:
            super().__init__()
            self.draft, self.resumed = draft, resumed

    class ReplyBuilt(Message):
        def __init__(self, draft_id: str, built: Built) -> None:
            super().__init__()
            self.draft_id, self.built = draft_id, built

    class ReplyFailed(Message):
        def __init__(self, draft_id: str, text: str) -> None:
            super().__init__()
            self.draft_id, self.text = draft_id, text

    class ReplySent(Message):
        def __init__(self, draft: Draft, result: Sent) -> None:
            super().__init__()
            self.draft, self.result = draft, result

    class DraftsListed(Message):
        def __init__(self, drafts: list[Draft], problems: list[str], show: bool) -> None:
            super().__init__()
            self.drafts, self.problems, self.show = drafts, problems, show

    @work(thread=True, exclusive=True, group="reply", exit_on_error=False)
    def prepare_reply(self, parent_id: str, kind: str, series_id: str | None) -> None:
        try:
            draft, resumed = start_reply(self.store, self.settings, self.drafts, parent_id, kind, series_id)
        except (StoreError, ReplyError, OSError) as e:
            self.post_message(self.ReplyFailed("", f"cannot start a reply: {e}"))
            return
        self.post_message(self.ReplyReady(draft, resumed))

    def save_draft(self, draft: Draft, *, now: bool = False) -> None:
        """Save a snapshot of the draft; in a worker unless ``now`` (quitting)."""
        self._draft_seq += 1
        snapshot, seq = replace(draft), self._draft_seq
        if now:
            self._write_draft(snapshot, seq)
        else:
            self.run_worker(partial(self._write_draft, snapshot, seq), thread=True, group="draft-save", exit_on_error=False)

    def _write_draft(self, draft: Draft, seq: int) -> None:
        # Saves may finish out of order: never let an older snapshot overwrite a newer one.
        with self._draft_lock:
            if seq < self._draft_saved_seq.get(draft.id, 0):
                return
            try:
                self.drafts.save(draft)
            except OSError as e:
                self.post_message(self.Failed(f"draft not saved to {self.drafts.dir}: {e.strerror or e}"))
                return
            self._draft_saved_seq[draft.id] = seq

    def _retire_draft(self, draft_id: str) -> None:
        """No save still in flight may bring a sent or discarded draft back (call under the lock)."""
        self._draft_saved_seq[draft_id] = RETIRED

    @work(thread=True, exclusive=True, group="reply", exit_on_error=False)
    def build_reply(self, draft: Draft) -> None:
        try:
            built = build_message(draft)
        except (DraftError, ValueError) as e:
            self.post_message(self.ReplyFailed(draft.id, str(e)))
            return
        self.post_message(self.ReplyBuilt(draft.id, built))

    @work(thread=True, exclusive=True, group="reply", exit_on_error=False)
    def send_reply(self, draft: Draft, built: Built) -> None:
        self.post_message(self.Progress(f"sending through {self.settings.send.describe()}..."))
        with self._draft_lock:
            try:
                result = send_draft(self.store, self.settings, self.drafts, draft, built)
            except (SendError, DraftError, OSError) as e:
                self.post_message(self.ReplyFailed(draft.id, f"not sent: {e}"))
                return
            self._retire_draft(draft.id)
        self.post_message(self.ReplySent(draft, result))

    @work(thread=True, exclusive=True, group="drafts", exit_on_error=False)
    def list_drafts(self, show: bool) -> None:
        drafts, problems = self.drafts.all()
        self.post_message(self.DraftsListed(drafts, problems, show))

    def discard_draft(self, draft: Draft) -> None:
        with self._draft_lock:
            self._retire_draft(draft.id)
            self.drafts.remove(draft.id)
        self.status.say("draft discarded")

    def edit_draft_externally(self, composer: ComposerScreen) -> None:
        """$VISUAL/$EDITOR on the draft's text with the app suspended; the text comes back."""
        path = self.drafts.dir / f"{composer.draft.id}.eml"
        try:
            self.drafts.dir.mkdir(parents=True, exist_ok=True)
            path.write_text(composer.draft.text, encoding="utf-8")
            code = self.run_editor(path)
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError as e:
            composer.hint(f"editor: {e}", error=True)
            return
        finally:
            path.unlink(missing_ok=True)
        if code != 0:
            composer.hint(f"editor exited with status {code}; its changes are kept in the composer", error=True)
        composer.set_text(text)

    def run_editor(self, path: Path) -> int:
        """The one seam for the external editor: suspended in a terminal, run plain under tests."""
        command = [*shlex.split(os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"), str(path)]
        try:
            with self.suspend():
                return subprocess.call(command)
        except SuspendNotSupported:
            return subprocess.call(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        except FileNotFoundError:
            self.status.say(f"editor {command[0]!r} not found: set $EDITOR", error=True)
            return 127

    def _composer(self, draft_id: str | None = None) -> ComposerScreen | None:
        screen = self.screen
        if isinstance(screen, ComposerScreen) and (draft_id is None or screen.draft.id == draft_id):
            return screen
        return None

    def _preparing(self) -> PreparingReply | None:
        return next((s for s in self.screen_stack if isinstance(s, PreparingReply)), None)

    def on_replying_reply_ready(self, event: ReplyReady) -> None:
        typed = ""
        waiting = self._preparing()
        if waiting is not None:
            typed = waiting.typed
            waiting.dismiss(None)
        elif self._reply_cancelled:
            # Escape was pressed while it was prepared: the draft is kept for D.
            self._reply_cancelled = False
            self.status.say(f"reply prepared and kept: {self._key_name('triage.drafts')} lists unsent drafts")
            return
        if self._composer() is None:
            self.push_screen(ComposerScreen(event.draft, resumed=event.resumed, typed_ahead=typed))

    def on_replying_reply_built(self, event: ReplyBuilt) -> None:
        composer = self._composer(event.draft_id)
        if composer is not None:
            composer.show_preview(event.built)

    def on_replying_reply_failed(self, event: ReplyFailed) -> None:
        if self._quit_after_send:
            self.exit()
            return
        waiting = self._preparing()
        if waiting is not None:
            waiting.dismiss(None)
        self.status.say(event.text, error=True)
        composer = self._composer(event.draft_id)
        if composer is not None:
            composer.show_failure(event.text)

    def on_replying_reply_sent(self, event: ReplySent) -> None:
        if self._quit_after_send:
            self.exit()
            return
        composer = self._composer(event.draft.id)
        if composer is not None:
            composer.dismiss(None)
        r = event.result
        text = f"sent <{r.message_id}>: {r.summary}"
        if r.state:
            text += f"; series → {r.state}"
        if r.problems:
            self.status.say(text + " | " + " | ".join(r.problems), error=True)
        else:
            self.status.say(text)
        # The status line moves on as the list reloads; the toast keeps the news readable.
        self.notify(safe_line(text), title="sent", timeout=8, markup=False)
        # Show the reply under its patch and its trailer in the counts.
        if self.opened is not None and self.opened.id == event.draft.series_id:
            self._reopen = self.opened.id
            self.opened = None
        self.load(self.model.query)

    def on_replying_drafts_listed(self, event: DraftsListed) -> None:
        for problem in event.problems:
            self.notify(safe_line(problem), severity="warning", markup=False)
        if not event.show:
            if event.drafts:
                key = self._key_name("triage.drafts")
                self.status.say(f"{len(event.drafts)} unsent draft(s): {key} lists them")
            return
        if not event.drafts:
            self.status.say("no unsent drafts")
            return
        by_id = {d.id: d for d in event.drafts}
        labels = [
            (d.id, f"{datetime.fromtimestamp(d.updated):%Y-%m-%d %H:%M}  {d.kind:<7} {d.parent_subject}")
            for d in event.drafts
        ]

        def resume(draft_id: str | None) -> None:
            if draft_id is not None and draft_id in by_id:
                self.push_screen(ComposerScreen(by_id[draft_id], resumed=True))

        self.push_screen(DraftsDialog(labels), resume)

    def action_reply(self, kind: str) -> None:
        if self.opened is None:
            self.status.say("open a series first", error=True)
            return
        plist = self.query_one(PatchList)
        h = plist.highlighted
        parent: str | None
        if h is not None and 0 <= h < len(plist.entries):
            parent = plist.entries[h][0]
        else:
            parent = self.shown_message or (self.opened.cover.message_id if self.opened.cover else None)
        if not parent:
            self.status.say("no message to reply to", error=True)
            return
        self.status.say("preparing the reply...")
        self._reply_cancelled = False
        self.push_screen(PreparingReply(), callback=lambda how: setattr(self, "_reply_cancelled", how == "cancel"))
        self.prepare_reply(parent, kind, self.opened.id)

    def action_drafts(self) -> None:
        self.list_drafts(show=True)
