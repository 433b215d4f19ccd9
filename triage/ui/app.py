"""The triage screen. It presents the core (store, index, series model) and turns keys into actions.

All notmuch and file work runs in thread workers that only post messages; the
handlers here own the state. Errors end in the status line, never a traceback.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import work
from textual.app import App, ComposeResult
from textual.command import Hit, Hits, Provider
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import DataTable, Footer, OptionList
from textual.worker import Worker, WorkerState, get_current_worker

from triage.cache.index import SeriesIndex
from triage.config import Settings
from triage.mail.message import read_message
from triage.mail.store import Store, StoreError
from triage.model.series import STATES, Series
from triage.series.patchdoc import parse_patch
from triage.series.service import find_series
from triage.textsafe import safe_line
from triage.ui.base import TriageBase
from triage.ui.bindings import ACTIONS
from triage.ui.documents import (
    Document,
    followups_document,
    message_document,
    patch_document,
    quick_patch_document,
    series_summary,
)
from triage.ui.keymaps import Keymap, load_keymap, shipped_keymaps
from triage.ui.listmodel import ListModel
from triage.ui.screens.composer import ComposerScreen
from triage.ui.screens.dialogs import FileListDialog, QueryDialog
from triage.ui.screens.help import HelpScreen, display_keys
from triage.ui.taking import Taking
from triage.ui.widgets.common import scope_bindings
from triage.ui.widgets.panes import PatchList, SeriesList, StatusLine
from triage.ui.widgets.viewer import Viewer

MAX_FOLLOWUPS = 60
QUICK_FIRST_CHARS = 100_000  # patches larger than this get a first paint before parsing


class ActionCommands(Provider):
    """Every bound action, reachable from the command palette."""

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        app = self.app
        assert isinstance(app, TriageApp)
        for a in ACTIONS:
            if a.scope != "app":
                continue
            score = matcher.match(f"{a.description} ({a.id})")
            if score > 0:
                yield Hit(score, matcher.highlight(a.description), partial(app.run_action, a.action), help=a.id)


@dataclass
class UndoEntry:
    series_id: str
    message_ids: list[str]
    previous: str | None  # the state tag before, None when untagged


class TriageApp(Taking):
    TITLE = "triage"
    COMMANDS = App.COMMANDS | {ActionCommands}
    BINDINGS = scope_bindings("app")

    CSS = """
    #left { width: 55%; min-width: 30; }
    #right { width: 1fr; }
    #message { height: 3fr; }
    #followups { height: 1fr; }
    """

    class SeriesLoaded(Message):
        def __init__(self, rows: list[dict[str, Any]], query: str, how: str) -> None:
            super().__init__()
            self.rows, self.query, self.how = rows, query, how

    class SeriesOpened(Message):
        def __init__(self, series: Series) -> None:
            super().__init__()
            self.series = series

    class MessageShown(Message):
        def __init__(self, message_id: str, doc: Document, followups: Document | None) -> None:
            super().__init__()
            self.message_id, self.doc, self.followups = message_id, doc, followups

    class OpenFailed(Message):
        def __init__(self, series_id: str, text: str) -> None:
            super().__init__()
            self.series_id, self.text = series_id, text

    class StateSet(Message):
        def __init__(self, series_id: str, state: str | None, undo: UndoEntry | None) -> None:
            super().__init__()
            self.series_id, self.state, self.undo = series_id, state, undo

    def __init__(self, store: Store, settings: Settings | None = None, keymap: Keymap | None = None) -> None:
        super().__init__()
        self.store = store
        self.settings = settings or Settings()
        self.keymap = keymap or load_keymap(self.settings.keymap)
        self.index = SeriesIndex(store, ignore_from=self.settings.trailers_ignore_from)
        self.model = ListModel()
        self.opened: Series | None = None
        self.opening: str | None = None
        self.shown_message: str | None = None
        self.undo_stack: list[UndoEntry] = []
        self.left_width = 55
        self._init_replying()
        self._init_taking()
        self._reopen: str | None = None  # the series to open again after the next load
        self._quit_after_send = False

    # -- layout --------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        with Horizontal():
            with Vertical(id="left"):
                yield SeriesList(id="series")
                yield PatchList(id="patches")
            with Vertical(id="right"):
                yield Viewer(id="message", placeholder="Select a series: its cover letter and patches show here.")
                yield Viewer(id="followups", placeholder="Follow-ups (review replies) show here.")
        yield Footer()
        yield StatusLine(id="status")

    def on_mount(self) -> None:
        self.set_keymap(self.keymap.bindings)
        self.query_one("#message", Viewer).border_title = Text("Message")
        self.query_one("#followups", Viewer).border_title = Text("Follow-ups")
        problems = list(self.settings.problems) + list(self.keymap.problems)
        self.status.set_context(f"query: {self.model.query}")
        if problems:
            self.status.say(" | ".join(problems), error=True)
            for problem in problems:
                # A toast stays readable while the status line moves on.
                self.notify(safe_line(problem), severity="error", timeout=20, markup=False)
        self.query_one(SeriesList).focus()
        # The first load may build the index (seconds on a large store): say it is working.
        # (A loading overlay would take the focus away from the list.)
        self.query_one(SeriesList).border_title = Text("Series (loading…)")
        self.load(self.model.query)
        self.list_drafts(show=False)

    @property
    def status(self) -> StatusLine:
        return self.query_one(StatusLine)

    # -- workers (blocking work; they only post messages) ---------------------------------
    @work(thread=True, exclusive=True, group="load", exit_on_error=False)
    def load(self, query: str) -> None:
        worker = get_current_worker()
        shown: list[bool] = []

        def built() -> None:
            # A first build shows the list before it writes the index (tenths of a second on
            # a large store): the list is the same either way.
            rows = self.index.built_series(light=True)
            if not worker.is_cancelled:
                self.post_message(self.SeriesLoaded(rows, query, "index built"))
                shown.append(True)

        try:
            whole = (query.strip() or "*") == "*"
            refresh = self.index.refresh(
                progress=lambda text: self.post_message(self.Progress(text + "...")), built=built if whole else None
            )
            if shown:
                return  # the index is written now; the list on screen is its list
            rows = self.index.series(query, light=True)
        except StoreError as e:
            self.post_message(self.Failed(str(e)))
            return
        if not worker.is_cancelled:
            how = {"cold": "index built", "incremental": f"{refresh.changed} changed", "warm": "up to date"}[refresh.kind]
            self.post_message(self.SeriesLoaded(rows, query, how))

    @work(thread=True, exclusive=True, group="open", exit_on_error=False)
    def open_series(self, series_id: str) -> None:
        worker = get_current_worker()
        try:
            s = find_series(self.store, series_id, known=self.index.known_facts(series_id))
        except StoreError as e:
            self.post_message(self.OpenFailed(series_id, str(e)))
            return
        if not worker.is_cancelled:
            self.post_message(self.SeriesOpened(s))

    @work(thread=True, exclusive=True, group="message", exit_on_error=False)
    def show_message(self, series: Series, message_id: str, index: int | None) -> None:
        worker = get_current_worker()
        try:
            path = self.store.message_path(message_id)
            m = read_message(message_id, path)
            if index is None and series.cover is not None:
                doc = message_document(m)
                followup_ids = series.cover_followups
                what = "the cover letter"
            else:
                if len(m.body) > QUICK_FIRST_CHARS:
                    # Paint a large patch at once; the parsed version follows, once the
                    # first paint is on screen (parsing would compete with it for the GIL).
                    quick = quick_patch_document(m)
                    self.post_message(self.MessageShown(message_id, quick, None))
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
            shown = followup_ids[:MAX_FOLLOWUPS]
            paths = self.store.message_paths(shown)
            followups = [read_message(mid, paths[mid]) for mid in shown]
            fdoc = followups_document(followups, what)
        except StoreError as e:
            self.post_message(self.Failed(str(e)))
            return
        if not worker.is_cancelled:
            self.post_message(self.MessageShown(message_id, doc, fdoc))

    @work(thread=True, exclusive=False, group="tags", exit_on_error=False)
    def change_state(self, series_id: str, state: str | None, record_undo: bool = True) -> None:
        try:
            s = self.opened if self.opened is not None and self.opened.id == series_id else find_series(self.store, series_id)
            ids = s.message_ids()
            self.post_message(self.Progress(f"tagging {len(ids)} messages..."))
            undo = UndoEntry(series_id, ids, s.state_tag) if record_undo else None
            if state is None:
                prefix = self.store.config.tag_prefix
                self.store.tag(ids, remove=[prefix + x for x in STATES])
            else:
                self.store.set_state(ids, state)
        except StoreError as e:
            self.post_message(self.Failed(str(e)))
            return
        self.post_message(self.StateSet(series_id, state, undo))

    @work(thread=True, exclusive=False, group="tags", exit_on_error=False)
    def mark_read(self, series_id: str) -> None:
        try:
            s = self.opened if self.opened is not None and self.opened.id == series_id else find_series(self.store, series_id)
            self.store.tag(s.message_ids(), remove=["unread"])
        except StoreError as e:
            self.post_message(self.Failed(str(e)))
            return
        self.post_message(self.Progress(f"marked read: {len(s.message_ids())} messages"))
        self.call_from_thread(self._set_unread, series_id, False)

    # -- message handlers (own the state) ---------------------------------------------------
    def on_triage_app_open_failed(self, event: OpenFailed) -> None:
        if self.opening == event.series_id:
            self.opening = None  # Enter tries again
        self.status.say(event.text, error=True)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Whatever a worker raises ends in the status line, and nothing stays waiting for it."""
        if event.state != WorkerState.ERROR:
            return
        error = event.worker.error
        what = event.worker.group or event.worker.name
        text = f"{what} failed: {type(error).__name__}: {error}" if error else f"{what} failed"
        self.status.say(text, error=True)
        if event.worker.group == "open":
            self.opening = None  # a failed open can be tried again
        composer = self._composer()
        if event.worker.group == "reply" and composer is not None and composer.sending:
            composer.show_failure(text)
        if self._quit_after_send and event.worker.group == "reply":
            self.exit()

    def on_triage_base_progress(self, event: TriageBase.Progress) -> None:
        self.status.say(event.text)

    def on_triage_base_failed(self, event: TriageBase.Failed) -> None:
        self.status.say(event.text, error=True)

    def _key_name(self, binding_id: str) -> str:
        """The first key of an action in the active keymap, as the footer and help show it."""
        keys = self.keymap.bindings.get(binding_id, "")
        return display_keys(keys.split(",")[0]) if keys else binding_id

    def on_triage_app_series_loaded(self, event: SeriesLoaded) -> None:
        self.model.set_rows(event.rows)
        self.model.query = event.query
        self._refill()
        self.status.say(f"{len(event.rows)} series ({event.how})")
        table = self.query_one(SeriesList)
        reopen, self._reopen = self._reopen, None
        if reopen is not None and self.model.get(reopen) is not None:
            # After a send or an apply, the series worked on stays open, wherever the reload put it.
            with contextlib.suppress(Exception):
                table.move_cursor(row=table.get_row_index(reopen), animate=False)
        if table.row_count and self.opened is None:
            sid = table.current_id
            if sid:
                self._open(sid)

    def _refill(self, keep: str | None = None) -> None:
        table = self.query_one(SeriesList)
        keep = keep or table.current_id
        rows = self.model.visible()
        table.fill(rows, keep=keep)
        self._show_context(len(rows))
        table.border_title = Text(f"Series ({len(rows)})")

    def _show_context(self, shown: int | None = None) -> None:
        if shown is None:
            shown = self.query_one(SeriesList).row_count
        flt = f" state={self.model.state_filter}" if self.model.state_filter else ""
        summary = " ".join(f"{k}:{v}" for k, v in self.model.counts().items() if v)
        self.status.set_context(f"query: {self.model.query}{flt} sort: {self.model.sort} │ {shown} shown │ {summary}")

    def _open(self, series_id: str) -> None:
        """Open a series unless it is open or being opened (a late duplicate would reset the view)."""
        if series_id == self.opening or (self.opened is not None and self.opened.id == series_id):
            return
        self.opening = series_id
        self.open_series(series_id)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        table = event.data_table
        # A refill highlights row 0 before the cursor is put back: such late news is stale.
        if isinstance(table, SeriesList) and event.row_key.value is not None and event.row_key.value == table.current_id:
            self._open(event.row_key.value)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if isinstance(event.data_table, SeriesList) and event.row_key.value:
            self._open(event.row_key.value)
            self.query_one(PatchList).focus()

    def on_triage_app_series_opened(self, event: SeriesOpened) -> None:
        s = event.series
        if self.opening is not None and s.id != self.opening:
            return  # the user has moved on
        self.opening = None
        self.opened = s
        self.query_one(PatchList).fill(s)
        self.status.say(f"{s.title[:60]} · {series_summary(s)}")
        if self.query_one(PatchList).entries:
            mid, index = self.query_one(PatchList).entries[0]
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
        if event.option_list is self.query_one(PatchList):
            self.query_one("#message", Viewer).focus()

    def on_triage_app_message_shown(self, event: MessageShown) -> None:
        plist = self.query_one(PatchList)
        h = plist.highlighted
        if h is not None and 0 <= h < len(plist.entries) and plist.entries[h][0] != event.message_id:
            return  # a message the user has already moved away from
        viewer = self.query_one("#message", Viewer)
        # The parsed document replacing the quick one keeps the reader's place.
        keep = viewer.scroll_offset.y if self.shown_message == event.message_id else None
        self.shown_message = event.message_id
        viewer.show(event.doc, keep_y=keep)
        if event.followups is not None:
            self.query_one("#followups", Viewer).show(event.followups)

    def on_triage_app_state_set(self, event: StateSet) -> None:
        if event.undo is not None:
            self.undo_stack.append(event.undo)
        row = self.model.get(event.series_id)
        new_state = event.state or ("superseded" if row and row["newer_versions"] else "new")
        self.model.set_state(event.series_id, new_state)
        if self.opened is not None and self.opened.id == event.series_id:
            self.opened.state_tag = event.state
        if row is not None:
            self.query_one(SeriesList).update_row(row)
        self._show_context()
        verb = "undone: " if event.undo is None else ""
        self.status.say(f"{verb}{row['title'][:50] if row else event.series_id} → {new_state}")

    def _set_unread(self, series_id: str, unread: bool) -> None:
        row = self.model.get(series_id)
        if row is not None:
            row["unread"] = unread
            self.query_one(SeriesList).update_row(row)

    # -- actions -------------------------------------------------------------------------------
    def _current_series_id(self) -> str | None:
        return self.query_one(SeriesList).current_id

    def action_help(self) -> None:
        shipped = set(shipped_keymaps().values())
        names = [p.stem if p in shipped else str(p).replace(str(Path.home()), "~", 1) for p in self.keymap.sources]
        self.push_screen(HelpScreen(self.keymap.bindings, names))

    def action_search(self) -> None:
        def done(query: str | None) -> None:
            if query is not None:
                self.opened = self.opening = None
                self.status.say(f"searching: {query}")
                self.load(query)

        self.push_screen(QueryDialog(self.model.query), done)

    def action_clear_search(self) -> None:
        self.opened = self.opening = None
        self.load("*")

    def action_reload(self) -> None:
        self.load(self.model.query)

    def action_filter_state(self) -> None:
        state = self.model.cycle_state_filter()
        self._refill()
        self.status.say(f"showing {'all states' if state is None else 'state ' + state}")

    def action_cycle_sort(self) -> None:
        self.status.say(f"sorted by {self.model.cycle_sort()}")
        self._refill()

    def action_set_state(self, state: str) -> None:
        sid = self._current_series_id()
        if sid is None:
            self.status.say("no series selected", error=True)
            return
        self.change_state(sid, state)

    def action_undo(self) -> None:
        if not self.undo_stack:
            self.status.say("nothing to undo")
            return
        entry = self.undo_stack.pop()
        self.change_state(entry.series_id, entry.previous, record_undo=False)

    def action_mark_read(self) -> None:
        sid = self._current_series_id()
        if sid:
            self.mark_read(sid)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # While the composer is open the triage keys sleep: a typed "r" or "q" belongs to the draft.
        # (escape closes the composer first; the draft is on disk by then.)
        return not (isinstance(self.screen, ComposerScreen) and action not in ("help", "command_palette"))

    async def action_quit(self) -> None:
        composer = self._composer()
        if composer is not None and composer.sending:
            # The draft is saved and cannot change while it is sent; saving it again would
            # wait for the send's lock and freeze the screen. Quit once the transport has
            # answered (the send has its own deadline); quitting again quits at once.
            if self._quit_after_send:
                self.exit()
                return
            self._quit_after_send = True
            self.status.say(
                f"sending: triage quits when the transport answers (at most {self.settings.send.deadline:.0f}s); "
                f"{self._key_name('triage.quit')} again quits now"
            )
            return
        if composer is not None:
            composer.flush()
            self.save_draft(composer.draft, now=True)
        self.exit()

    def action_show_versions(self) -> None:
        sid = self._current_series_id()
        if sid is None:
            return
        row = self.model.get(sid)
        if not row or not (row["previous_versions"] or row["newer_versions"]):
            self.status.say("this series has no other versions")
            return
        shown = self.model.toggle_versions(sid)
        self._refill(keep=sid)
        self.status.say("older versions shown" if shown else "older versions folded")

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
            self.status.say("no more patches")

    def action_next_patch(self) -> None:
        self._move_patch(1)

    def action_prev_patch(self) -> None:
        self._move_patch(-1)

    def _viewer_jump(self, method: str, what: str) -> None:
        viewer = self.query_one("#message", Viewer)
        if not getattr(viewer, method)():
            self.status.say(f"no {what}")

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
            self.status.say("this message has no diff")
            return

        def jump(line: int | None) -> None:
            if line is not None:
                viewer.goto_line(line)
                viewer.focus()

        self.push_screen(FileListDialog(viewer.document.files), jump)

    def _panes(self) -> list[Any]:
        return [self.query_one(SeriesList), self.query_one(PatchList), self.query_one("#message"), self.query_one("#followups")]

    def _focus_pane(self, delta: int) -> None:
        panes = self._panes()
        current = self.focused
        index = panes.index(current) if current in panes else -1
        panes[(index + delta) % len(panes)].focus()

    def action_focus_next_pane(self) -> None:
        self._focus_pane(1)

    def action_focus_prev_pane(self) -> None:
        self._focus_pane(-1)

    def action_resize_list(self, delta: int) -> None:
        self.left_width = max(20, min(80, self.left_width + delta))
        self.query_one("#left").styles.width = f"{self.left_width}%"


def make_app(store: Store, settings: Settings | None = None, keymap: Keymap | None = None) -> TriageApp:
    """The one way to build the app: the CLI and the tests share it."""
    return TriageApp(store, settings, keymap)


def run_app(store: Store, settings: Settings) -> int:
    make_app(store, settings).run()
    return 0

