"""The triage app: the session's services, the keymap, and what happens to errors.

The panes live on :class:`triage.ui.screens.main.MainScreen`; the composer, dialogs and
help are screens of their own. They post messages (``triage.ui.messages``); the app
handles those that need its services (drafts: save, preview, send, discard, editor)
with ``@on``, runs that work in thread workers that only compute and post, and puts
every failure in the status line and, whole, in the message log (``triage.log``).
"""

from __future__ import annotations

import contextlib
import os
import shlex
import subprocess
import threading
import time
from dataclasses import replace
from functools import partial
from pathlib import Path

from textual import on, work
from textual.app import App, SuspendNotSupported
from textual.command import Hit, Hits, Provider
from textual.content import Content
from textual.css.query import NoMatches
from textual.fuzzy import Matcher
from textual.worker import Worker

from triage.config import Settings
from triage.errors import UserError
from triage.mail.store import Store
from triage.reply.draft import Built, Draft
from triage.session import Session
from triage.textsafe import safe_line
from triage.ui import messages as msg
from triage.ui.bindings import ACTIONS
from triage.ui.failures import failure_text
from triage.ui.keymaps import Keymap, load_keymap, shipped_keymaps
from triage.ui.screens.composer import ComposerScreen
from triage.ui.screens.help import HelpScreen, display_keys
from triage.ui.screens.log import LogEntry, LogScreen
from triage.ui.screens.main import MainScreen
from triage.ui.widgets.common import scope_bindings

RETIRED = 1 << 62  # a draft's save sequence once it is sent or discarded: no save may bring it back
LOG_LIMIT = 2000
RESULT_SECONDS = 8  # an action's result stays readable this long (an error twice as long)


class ActionCommands(Provider):
    """Every bound action, reachable from the command palette."""

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        app = self.app
        assert isinstance(app, TriageApp)
        for a in ACTIONS:
            # The screen's actions, and the panes' that the screen carries out (the states).
            on_screen = a.action.startswith("screen.")
            if a.scope not in ("app", "main") and not on_screen:
                continue
            score = matcher.match(f"{a.description} ({a.id})")
            if score > 0:
                target = app if a.scope == "app" else app.main
                action = a.action.removeprefix("screen.")
                yield Hit(score, _highlight(matcher, a.description), partial(target.run_action, action), help=a.id)


def _highlight(matcher: Matcher, text: str) -> Content:
    """As ``Matcher.highlight``, but ``text`` is plain text: that reads it as markup, and
    "Share states with [sync] remote" lost its "[sync]"."""
    content = Content(text)
    score, offsets = matcher.fuzzy_search.match(matcher.query, text)
    if score:
        for offset in offsets:
            if not text[offset].isspace():
                content = content.stylize(matcher.match_style, offset, offset + 1)
    return content


class TriageApp(App[None]):
    TITLE = "triage"
    COMMANDS = App.COMMANDS | {ActionCommands}
    BINDINGS = scope_bindings("app")

    def __init__(self, session: Session, keymap: Keymap | None = None) -> None:
        super().__init__()
        self.session = session
        self.keymap = keymap or load_keymap(session.settings.keymap)
        self.log_entries: list[LogEntry] = []
        self.main = MainScreen()
        self._draft_lock = threading.Lock()
        self._draft_saved_seq: dict[str, int] = {}
        self._draft_seq = 0
        self._quit_after_send = False

    # -- start -------------------------------------------------------------------------------
    def get_default_screen(self) -> MainScreen:
        return self.main

    def on_mount(self) -> None:
        self.set_keymap(self.keymap.bindings)
        for problem in [*self.session.settings.problems, *self.keymap.problems]:
            self.report(problem, error=True)
            # A toast stays readable while the status line moves on.
            self.notify(safe_line(problem), severity="error", timeout=20, markup=False)

    def key_name(self, binding_id: str) -> str:
        """The first key of an action in the active keymap, as the footer and help show it."""
        keys = self.keymap.bindings.get(binding_id, "")
        return display_keys(keys.split(",")[0]) if keys else binding_id

    # -- errors and notices ------------------------------------------------------------------
    def report(self, text: str, *, error: bool = False, notify: bool = False) -> None:
        """One line in the status line, the whole text in the message log; an error (and,
        with ``notify``, an action's result) also as a notification, where the eye is at
        any size, for long enough to read."""
        self.log_entries.append(LogEntry(time.time(), error, text))
        del self.log_entries[:-LOG_LIMIT]
        if self.main.is_mounted:
            with contextlib.suppress(NoMatches):  # the screen is being taken down
                self.main.status.say(text, error=error)
        if (error or notify) and self.is_running:
            self.notify(safe_line(text)[:400], severity="error" if error else "information",
                        timeout=RESULT_SECONDS * (2 if error else 1), markup=False)

    @on(msg.Progress)
    def _progress(self, event: msg.Progress) -> None:
        self.report(event.text)

    @on(msg.Result)
    def _result(self, event: msg.Result) -> None:
        self.report(event.text, notify=True)

    @on(msg.Failed)
    def _failed(self, event: msg.Failed) -> None:
        self.report(event.text, error=True)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The app's own workers (drafts): a failure is reported, and a quit waits no more."""
        text = failure_text(event)
        if text is None:
            return
        self.report(text, error=True)
        composer = self.composer()
        if event.worker.group == "reply" and composer is not None:
            composer.show_failure(text)
        if self._quit_after_send and event.worker.group == "reply":
            self.exit()

    # -- actions -----------------------------------------------------------------------------
    def action_help(self) -> None:
        shipped = set(shipped_keymaps().values())
        names = [p.stem if p in shipped else str(p).replace(str(Path.home()), "~", 1) for p in self.keymap.sources]
        self.push_screen(HelpScreen(self.keymap.bindings, names))

    def action_message_log(self) -> None:
        self.push_screen(LogScreen(list(self.log_entries)))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # While the composer is open the app's keys sleep: a typed "q" belongs to the draft.
        return not (isinstance(self.screen, ComposerScreen) and action not in ("help", "command_palette"))

    async def action_quit(self) -> None:
        composer = self.composer()
        if composer is not None and composer.sending:
            # The draft is saved and cannot change while it is sent; saving it again would
            # wait for the send's lock and freeze the screen. Quit once the transport has
            # answered (the send has its own deadline); quitting again quits at once.
            if self._quit_after_send:
                self.exit()
                return
            self._quit_after_send = True
            self.report(
                f"sending: triage quits when the transport answers (at most {self.session.settings.send.deadline:.0f}s); "
                f"{self.key_name('triage.composer.quit')} again quits now"
            )
            return
        if composer is not None:
            composer.flush()
            self._write_draft(replace(composer.draft), self._next_seq())
        self.exit()

    @on(msg.QuitRequested)
    async def _quit_requested(self) -> None:
        await self.action_quit()

    # -- drafts: saved as typed, previewed, sent, discarded ----------------------------------
    def composer(self, draft_id: str | None = None) -> ComposerScreen | None:
        screen = self.screen
        if isinstance(screen, ComposerScreen) and (draft_id is None or screen.draft.id == draft_id):
            return screen
        return None

    def _next_seq(self) -> int:
        self._draft_seq += 1
        return self._draft_seq

    @on(msg.DraftChanged)
    def _save_draft(self, event: msg.DraftChanged) -> None:
        snapshot, seq = replace(event.draft), self._next_seq()
        if event.now:
            self._write_draft(snapshot, seq)
        else:
            self.run_worker(partial(self._write_draft, snapshot, seq), thread=True, group="draft-save", exit_on_error=False)

    def _write_draft(self, draft: Draft, seq: int) -> None:
        # Saves may finish out of order: never let an older snapshot overwrite a newer one.
        with self._draft_lock:
            if seq < self._draft_saved_seq.get(draft.id, 0):
                return
            try:
                self.session.drafts.save(draft)
            except OSError as e:
                self.post_message(msg.Failed(f"draft not saved to {self.session.drafts.dir}: {e.strerror or e}"))
                return
            self._draft_saved_seq[draft.id] = seq

    @on(msg.PreviewRequested)
    def _preview(self, event: msg.PreviewRequested) -> None:
        self.build_reply(event.draft)

    @work(thread=True, exclusive=True, group="reply", exit_on_error=False)
    def build_reply(self, draft: Draft) -> None:
        try:
            built = self.session.build(draft)
        except (UserError, ValueError) as e:
            self._to_composer(draft.id, msg.ReplyFailed(draft.id, str(e)))
            return
        self._to_composer(draft.id, msg.ReplyBuilt(draft.id, built))

    @on(msg.SendRequested)
    def _send(self, event: msg.SendRequested) -> None:
        self.send_reply(event.draft, event.built)

    @work(thread=True, exclusive=True, group="reply", exit_on_error=False)
    def send_reply(self, draft: Draft, built: Built) -> None:
        self.post_message(msg.Progress(f"sending through {self.session.settings.send.describe()}..."))
        with self._draft_lock:
            try:
                result = self.session.send(draft, built)
            except (UserError, OSError) as e:
                self.post_message(msg.ReplyFailed(draft.id, f"not sent: {e}"))
                return
            self._draft_saved_seq[draft.id] = RETIRED
        self.post_message(msg.ReplySent(draft, result))

    def _to_composer(self, draft_id: str, message: msg.ReplyBuilt | msg.ReplyFailed) -> None:
        """A worker's answer to the composer that asked (if it is still open)."""
        self.call_from_thread(self._deliver_to_composer, draft_id, message)

    def _deliver_to_composer(self, draft_id: str, message: msg.ReplyBuilt | msg.ReplyFailed) -> None:
        composer = self.composer(draft_id)
        if isinstance(message, msg.ReplyFailed):
            self.report(message.text, error=True)
        if composer is not None:
            composer.post_message(message)

    @on(msg.ReplyFailed)
    def _reply_failed(self, event: msg.ReplyFailed) -> None:
        if self._quit_after_send:
            self.exit()
            return
        self.report(event.text, error=True)
        composer = self.composer(event.draft_id)
        if composer is not None:
            composer.show_failure(event.text)

    @on(msg.ReplySent)
    def _reply_sent(self, event: msg.ReplySent) -> None:
        if self._quit_after_send:
            self.exit()
            return
        composer = self.composer(event.draft.id)
        if composer is not None:
            composer.dismiss(None)
        r = event.result
        text = f"sent <{r.message_id}>: {r.summary}"  # shown below as a notification too
        if r.state:
            text += f"; series → {r.state}"
        self.report(" | ".join([text, *r.problems]), error=bool(r.problems))
        # The status line moves on as the list reloads; the toast keeps the news readable.
        self.notify(safe_line(text), title="sent", timeout=RESULT_SECONDS, markup=False)
        self.main.post_message(msg.ReplyDone(event.draft))

    @on(msg.DiscardRequested)
    def _discard(self, event: msg.DiscardRequested) -> None:
        with self._draft_lock:
            self._draft_saved_seq[event.draft.id] = RETIRED
            self.session.drafts.remove(event.draft.id)
        self.report("draft discarded")

    @on(msg.ComposerClosed)
    def _composer_closed(self, event: msg.ComposerClosed) -> None:
        self.report(f"draft kept: {self.key_name('triage.drafts')} lists unsent drafts")

    @on(msg.EditorRequested)
    def _edit(self, event: msg.EditorRequested) -> None:
        """$VISUAL/$EDITOR on the draft's text with the app suspended; the text comes back."""
        drafts = self.session.drafts
        path = drafts.dir / f"{event.draft.id}.eml"
        text: str | None = None
        problem: str | None = None
        try:
            drafts.dir.mkdir(parents=True, exist_ok=True)
            path.write_text(event.draft.text, encoding="utf-8")
            code = self.run_editor(path)
            text = path.read_text(encoding="utf-8", errors="replace")
            if code != 0:
                problem = f"editor exited with status {code}; its changes are kept in the composer"
        except OSError as e:
            problem = f"editor: {e}"
        finally:
            path.unlink(missing_ok=True)
        composer = self.composer(event.draft.id)
        if composer is not None:
            composer.post_message(msg.EditorDone(event.draft.id, text, problem))

    def run_editor(self, path: Path) -> int:
        """The one seam for the external editor: suspended in a terminal, run plain under tests."""
        command = [*shlex.split(os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"), str(path)]
        try:
            with self.suspend():
                return subprocess.call(command)
        except SuspendNotSupported:
            return subprocess.call(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        except FileNotFoundError:
            self.report(f"editor {command[0]!r} not found: set $EDITOR", error=True)
            return 127


def make_app(store: Store, settings: Settings | None = None, keymap: Keymap | None = None) -> TriageApp:
    """The one way to build the app: the CLI and the tests share it."""
    return TriageApp(Session(store, settings), keymap)


def run_app(store: Store, settings: Settings) -> int:
    make_app(store, settings).run()
    return 0
