"""The main screen: the series list, the patch list, the message view, the follow-ups.

It owns the panes and what they show: loading the list, opening a series, showing a
message, state changes with undo, take-in (export, apply, range-diff, thank-you note)
and starting replies. Blocking work runs in thread workers that only compute and post
(``triage.ui.messages``); the handlers here own the state. The layout follows the
terminal: side by side from 120 columns (the message pane gets 100 columns from 180),
one pane column below that (Enter reads a message full width, Escape goes back), and
any pane alone with ``triage.zoom``.
"""

from __future__ import annotations

import contextlib
import threading
import time
from datetime import datetime
from typing import TYPE_CHECKING

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer, OptionList
from textual.worker import Worker, get_current_worker

from triage.dates import until_date
from triage.errors import UserError
from triage.model.series import Series, state_read
from triage.reply.comments import Comment
from triage.series.patchdoc import parse_patch
from triage.session import OtherComment, Session
from triage.take.export import ExportError
from triage.textsafe import safe_line
from triage.ui import messages as msg
from triage.ui.documents import (
    Line,
    decision_lines,
    followups_document,
    message_document,
    patch_document,
    quick_patch_document,
    range_diff_document,
    series_summary,
    trailer_basis,
)
from triage.ui.failures import failure_text
from triage.ui.listmodel import ListModel, MemoryRows
from triage.ui.screens.composer import ComposerScreen
from triage.ui.screens.dialogs import (
    AskDialog,
    CommentEditor,
    DraftsDialog,
    FileListDialog,
    PreparingReply,
    QueryDialog,
)
from triage.ui.widgets.common import scope_bindings
from triage.ui.widgets.panes import PatchList, SeriesList, StatusLine
from triage.ui.widgets.viewer import Viewer

if TYPE_CHECKING:
    from triage.ui.app import TriageApp

MAX_FOLLOWUPS = 60
QUICK_FIRST_CHARS = 100_000  # patches larger than this get a first paint before parsing
NARROW = 120  # below this many columns the panes are shown one column at a time
WIDE = 180  # from this many columns the message pane shows MESSAGE_MIN columns of text
MESSAGE_MIN = 100
LEFT_DEFAULT = 50
OWN_COMMENT = Style(color="bright_cyan", bold=True)
HUNK_STYLE = Style(bold=True, color="cyan")
QUOTE_STYLE = Style(color="bright_black")
OTHER_COMMENT = Style(color="yellow", italic=True)
WARN_STYLE = Style(bold=True, color="yellow")
OTHERS_PER_LINE = 20  # other reviewers' comments drawn under one line; more are counted


class MainScreen(Screen[None]):
    BINDINGS = scope_bindings("main")

    DEFAULT_CSS = """
    MainScreen #left { width: 50%; min-width: 30; }
    MainScreen #right { width: 1fr; }
    MainScreen #message { height: 3fr; }
    MainScreen #followups { height: 1fr; }
    MainScreen.narrow #left { width: 100%; }
    MainScreen.narrow #right { display: none; }
    MainScreen.narrow.reading #left { display: none; }
    MainScreen.narrow.reading #right { display: block; width: 100%; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.model = ListModel()
        self.opened: Series | None = None
        self.opening: str | None = None
        self.shown_message: str | None = None
        self.in_queue = False
        self.left_width = LEFT_DEFAULT  # percent of the terminal, in the side-by-side layout
        self.zoomed: Widget | None = None
        self._reopen: str | None = None  # the series to open again after the next load
        # The message to show again after the next open, with its scroll and cursor rows.
        self._reshow: tuple[str | None, float, int] | None = None
        self._keep_view: tuple[str, float, int] | None = None
        self._remote_cancel: threading.Event | None = None  # set by Escape: stops the running fetch or sync
        self._repeat: tuple[str, str] | None = None  # (action, series id) of the last take-in action
        self._range_steps = 0
        self._reply_cancelled = False  # escape while a reply was prepared
        self.others: list[OtherComment] = []  # other reviewers' comments on the shown message
        self.show_others = True
        self.unfolded: set[tuple[str, int]] = set()  # (review message id, line): shown whole
        self._extra_owner: dict[tuple[int, int], tuple[str, int]] = {}  # drawn row -> its comment

    @property
    def triage(self) -> TriageApp:
        return self.app  # type: ignore[return-value]

    @property
    def session(self) -> Session:
        return self.triage.session

    @property
    def status(self) -> StatusLine:
        return self.query_one(StatusLine)

    # -- layout --------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        with Horizontal():
            with Vertical(id="left"):
                yield SeriesList(self.model, id="series")
                yield PatchList(id="patches")
            with Vertical(id="right"):
                yield Viewer(id="message", placeholder="Select a series: its cover letter and patches show here.")
                yield Viewer(id="followups", placeholder="Follow-ups (review replies) show here.")
        yield Footer()
        yield StatusLine(id="status")

    def on_mount(self) -> None:
        self.query_one("#message", Viewer).border_title = Text("Message")
        self.query_one("#followups", Viewer).border_title = Text("Follow-ups")
        self.status.set_context(f"query: {self.model.query}")
        for entry in self.triage.log_entries:  # what was said before the screen was up (bad config)
            self.status.say(entry.text, error=entry.error)
        self.query_one(SeriesList).focus()
        # The first load may build the index (seconds on a large store): say it is working.
        # (A loading overlay would take the focus away from the list.)
        self.query_one(SeriesList).border_title = Text("Series (loading…)")
        self._layout()
        if self.session.settings.queue_start:
            self.load_queue()
        else:
            self.load(self.model.query, cached_first=True)
        self.list_drafts(show=False)

    def on_resize(self) -> None:
        self._layout()

    def _layout(self) -> None:
        width = self.size.width
        narrow = 0 < width < NARROW
        self.set_class(narrow, "narrow")
        if not narrow:
            self.remove_class("reading")
            left = width * self.left_width // 100
            if width >= WIDE and self.left_width == LEFT_DEFAULT:
                # The message pane's 100 columns come first, until the user widens the list (>).
                left = min(left, width - MESSAGE_MIN - 4)  # 4: the message pane's border and padding
            self.query_one("#left").styles.width = max(30, left)
        else:
            self.query_one("#left").styles.width = "100%"

    def _read_full_width(self) -> None:
        """On a narrow terminal, the message pane takes the screen (Escape comes back)."""
        if self.has_class("narrow"):
            self.add_class("reading")
        self.query_one("#message", Viewer).focus()

    def action_back(self) -> None:
        if self._remote_cancel is not None and not self._remote_cancel.is_set():
            # Escape first stops a running fetch or sync (what it did so far is kept).
            self._remote_cancel.set()
            self.say("stopping...")
            return
        if self.zoomed is not None:
            self.action_zoom()
        elif self.has_class("reading"):
            self.remove_class("reading")
            self.query_one(PatchList).focus()

    def _panes(self) -> list[Widget]:
        return [self.query_one(SeriesList), self.query_one(PatchList), self.query_one("#message"), self.query_one("#followups")]

    def action_focus_followups(self) -> None:
        if self.has_class("narrow"):
            self.add_class("reading")
        self.query_one("#followups", Viewer).focus()

    def action_zoom(self) -> None:
        """The focused pane alone, at the whole screen's size; again: back."""
        panes = self._panes()
        left, right = self.query_one("#left"), self.query_one("#right")
        if self.zoomed is not None:
            for p in panes:
                p.display = True
            left.display = right.display = True
            right.styles.width = None  # back to the stylesheet's
            self.remove_class("zoomed")
            self.zoomed = None
            self._layout()
            return
        target = self.focused if self.focused in panes else panes[2]
        assert target is not None
        self.zoomed = target
        self.add_class("zoomed")
        for p in panes:
            p.display = p is target
        holder = left if target in panes[:2] else right
        other = right if holder is left else left
        other.display = False
        holder.display = True
        holder.styles.width = "100%"
        target.focus()

    # -- workers (blocking work; they only post messages) ---------------------------------
    @work(thread=True, exclusive=True, group="load", exit_on_error=False)
    def load(self, query: str, *, cached_first: bool = False) -> None:
        """Refresh the index and show the query's list. ``cached_first``: show the list the
        index holds at once, and the refreshed one when the refresh is done."""
        worker = get_current_worker()
        sort, state = self.model.sort, self.model.state_filter
        shown: list[bool] = []

        def built() -> None:
            # A first build shows the list before it writes the index (tenths of a second on
            # a large store): the list is the same either way.
            rows = self.session.built_rows()
            if not worker.is_cancelled:
                self.post_message(msg.SeriesLoaded(MemoryRows(rows, sort=sort, state=state), query, "index built"))
                shown.append(True)

        try:
            whole = (query.strip() or "*") == "*"
            if cached_first and whole and self.session.index.has_list():
                self.post_message(msg.SeriesLoaded(self.session.list_view(query, sort=sort, state=state), query,
                                                   "cached; checking for new mail"))

            def progress(text: str) -> None:
                self.post_message(msg.Progress(text + "..."))

            refresh = self.session.refresh(progress=progress, built=built if whole else None)
            if shown:
                return  # the index is written now; the list on screen is its list
            view = self.session.list_view(query, sort=sort, state=state)
        except UserError as e:
            self.post_message(msg.LoadFailed(query, str(e)))
            return
        if not worker.is_cancelled:
            how = {"cold": "index built", "incremental": f"{refresh.changed} changed", "warm": "up to date"}[refresh.kind]
            self.post_message(msg.SeriesLoaded(view, query, how))
        # Senders a list rewrote, indexed while DNS did not answer: checked again now, after the
        # list is on screen; those their list vouches for regroup their threads.
        try:
            vouched = self.session.recheck_senders()
        except UserError as e:
            self.post_message(msg.Failed(str(e)))
            return
        if vouched and not worker.is_cancelled:
            self.post_message(msg.SeriesChanged(f"{vouched} rewritten sender(s) now vouched for by their list", []))

    @work(thread=True, exclusive=True, group="open", exit_on_error=False)
    def open_series(self, series_id: str) -> None:
        worker = get_current_worker()
        try:
            s = self.session.series(series_id)
        except UserError as e:
            self.post_message(msg.OpenFailed(series_id, str(e)))
            return
        if not worker.is_cancelled:
            self.post_message(msg.SeriesOpened(s))

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
                if decided:
                    doc.blank()
                    for text, style, target in decided:
                        if target:
                            doc.add_link(text, style, target)
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
            self.post_message(msg.Progress("nothing to undo"))
            return
        self.post_message(msg.SeriesChanged(f"undone: {step.label}", []))

    @work(thread=True, exclusive=True, group="load", exit_on_error=False)
    def load_queue(self) -> None:
        try:
            items = self.session.todo()
        except UserError as e:
            self.post_message(msg.Failed(str(e)))
            return
        self.post_message(msg.QueueLoaded([i.to_json() for i in items]))

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

    @work(thread=True, exclusive=False, group="tags", exit_on_error=False)
    def read_message(self, message_id: str) -> None:
        """``[view] mark_read``: a message read in the view is read in notmuch (and its file)."""
        try:
            self.session.mark_message_read(message_id)
        except UserError as e:
            self.post_message(msg.Failed(str(e)))

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

    @work(thread=True, exclusive=True, group="take", exit_on_error=False)
    def export_worker(self, series_id: str, force: bool) -> None:
        try:
            result, target = self.session.export_to_folder(series_id, force=force)
        except ExportError as e:
            again = f"; press {self.triage.key_name('triage.export')} again to export anyway" if "incomplete" in str(e) else ""
            self.post_message(msg.Failed(f"{e}{again}"))
            return
        except (UserError, OSError) as e:
            self.post_message(msg.Failed(f"export failed: {e}"))
            return
        added = sum(len(p.added) for p in result.patches)
        notes = f" | {' | '.join(result.notes)}" if result.notes else ""
        self.post_message(msg.Exported(
            f"exported {len(result.patches)} patch(es), {added} trailer line(s) added, to {target.resolve()}{notes}"
        ))

    @work(thread=True, exclusive=True, group="take", exit_on_error=False)
    def apply_worker(self, series_id: str, force: bool) -> None:
        self.post_message(msg.Progress("applying with git am -3..."))
        try:
            applied, exported, problems = self.session.apply(series_id, force=force)
        except (UserError, OSError) as e:
            self.post_message(msg.Failed(str(e)))
            return
        state = "state not set (see below)" if problems else "state → accepted"
        text = f"applied {len(applied.commits)} commit(s) to {applied.branch} in {applied.repo}; {state}"
        self.post_message(msg.SeriesChanged(text, exported.notes + problems))

    @work(thread=True, exclusive=True, group="take", exit_on_error=False)
    def range_diff_worker(self, series: Series, steps: int) -> None:
        try:
            found = self.session.range_diff(series, steps)
        except (UserError, OSError) as e:
            self.post_message(msg.Failed(f"range-diff failed: {e}"))
            return
        if found is None:
            what = "no earlier version" if steps == 1 else f"no version {steps} steps back"
            self.post_message(msg.Failed(f"v{series.version}: {what} in the store"))
            return
        older, lines = found
        title = f"range-diff v{older.version} → v{series.version}: {series.title}"
        self.post_message(msg.RangeDiffReady(series.id, range_diff_document(lines, title)))

    @work(thread=True, exclusive=True, group="reply", exit_on_error=False)
    def thanks_worker(self, series: Series) -> None:
        try:
            draft, resumed = self.session.thanks(series)
        except (UserError, OSError) as e:
            self.post_message(msg.Failed(f"no thank-you note: {e}"))
            return
        self.post_message(msg.ReplyReady(draft, resumed))

    def _series(self, series_id: str) -> Series:
        """The open series when it is the one asked for, else read from the store (workers)."""
        opened = self.opened
        return opened if opened is not None and opened.id == series_id else self.session.series(series_id)

    # -- whatever a worker raised ------------------------------------------------------------
    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """An error no worker caught still reaches the status line and the log, and nothing
        stays waiting for the worker that raised it."""
        text = failure_text(event)
        if text is None:
            return
        group = event.worker.group
        if group == "open":
            self.opening = None  # Enter tries again
        if group == "load":
            self.query_one(SeriesList).border_title = Text(f"Series ({self.query_one(SeriesList).row_count})")
        if group == "reply":
            self._dismiss_preparing()
        self.post_message(msg.Failed(text))

    # -- message handlers (own the state) ----------------------------------------------------
    @on(msg.SeriesLoaded)
    def _loaded(self, event: msg.SeriesLoaded) -> None:
        self.in_queue = False
        self.model.set_source(event.source)
        self.model.query = event.query
        self._refill()
        self.post_message(msg.Progress(f"{event.source.count()} series ({event.how})"))
        self._reopen_after_load()

    def _reopen_after_load(self) -> None:
        table = self.query_one(SeriesList)
        reopen, self._reopen = self._reopen, None
        if reopen is not None and self.model.get(reopen) is not None:
            # After a send or an apply, the series worked on stays open, wherever the reload put it.
            with contextlib.suppress(Exception):
                table.move_cursor(row=table.get_row_index(reopen), animate=False)
        elif reopen is not None:
            self._reshow = None  # it left the list (the queue): nothing to show again
        if table.row_count and self.opened is None:
            sid = table.current_id
            if sid:
                self._open(sid)

    @on(msg.LoadFailed)
    def _load_failed(self, event: msg.LoadFailed) -> None:
        table = self.query_one(SeriesList)
        table.border_title = Text(f"Series ({table.row_count})")
        self.post_message(msg.Failed(event.text))

    def _refill(self, keep: str | None = None) -> None:
        table = self.query_one(SeriesList)
        keep = keep or table.current_id
        table.reload(keep=keep)
        self._show_context(table.row_count)
        table.border_title = Text(f"Series ({table.row_count})")

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

    @on(msg.OpenFailed)
    def _open_failed(self, event: msg.OpenFailed) -> None:
        if self.opening == event.series_id:
            self.opening = None  # Enter tries again
        self.post_message(msg.Failed(event.text))

    @on(SeriesList.Highlighted)
    def _highlighted(self, event: SeriesList.Highlighted) -> None:
        # News the cursor has already left behind is stale.
        if event.series_id == self.query_one(SeriesList).current_id:
            self._open(event.series_id)

    @on(SeriesList.Selected)
    def _selected(self, event: SeriesList.Selected) -> None:
        if self.opening is None and self.opened is not None and self.opened.id != event.series_id:
            self.opened = None
        self._open(event.series_id)
        self.query_one(PatchList).focus()

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
            self.post_message(msg.Progress(f"{s.title[:60]} · {series_summary(s)}"))
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
        if event.option_list is self.query_one(PatchList):
            self._read_full_width()

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
        if self.session.settings.view_mark_read and event.followups is not None:
            self.read_message(event.message_id)
        if event.followups is not None:
            self.query_one("#followups", Viewer).show(event.followups)
            self.others = event.others
        self._refresh_extras()

    # -- comments on lines -------------------------------------------------------------------
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

    @on(msg.StateSet)
    def _state_set(self, event: msg.StateSet) -> None:
        new_state = "new"
        for change in event.changes:
            row = self.model.get(change.series_id)
            new_state = state_read(change.state, superseded=bool(row and row["newer_versions"]))
            self.model.set_state(change.series_id, new_state)
            if self.opened is not None and self.opened.id == change.series_id:
                self.opened.state_tag = change.state
            self.model.marked.discard(change.series_id)
        self.query_one(SeriesList).update_row()
        self._show_context()
        verb = "undone: " if not event.undoable else ""
        if len(event.changes) == 1:
            row = self.model.get(event.change.series_id)
            self.post_message(msg.Progress(f"{verb}{row['title'][:50] if row else event.change.series_id} → {new_state}"))
        else:
            self.post_message(msg.Progress(f"{verb}{len(event.changes)} series → {new_state} (one undo step)"))

    @on(msg.QueueLoaded)
    def _queue_loaded(self, event: msg.QueueLoaded) -> None:
        self.in_queue = True
        self.model.set_rows(event.rows)
        self._refill()
        self.query_one(SeriesList).border_title = Text(f"Queue: what needs me ({len(event.rows)})")
        if self._reopen is None:
            self.post_message(msg.Progress(f"{len(event.rows)} series need you; {self.triage.key_name('triage.queue')} "
                                           "shows every series again"))
        self._reopen_after_load()
        if event.rows:
            self.opened = None
            self._open(event.rows[0]["id"])

    @on(msg.MarkedRead)
    def _marked_read(self, event: msg.MarkedRead) -> None:
        self.model.change(event.series_id, unread=False)
        self.query_one(SeriesList).update_row()
        self.post_message(msg.Progress(f"marked read: {event.count} messages"))

    @on(msg.RangeDiffReady)
    def _range_diff(self, event: msg.RangeDiffReady) -> None:
        if self.opened is None or self.opened.id != event.series_id:
            return
        self.shown_message = None  # the patch list shows the message again on the next move
        self.query_one("#message", Viewer).show(event.doc)
        self.post_message(msg.Progress(event.doc.title))

    @on(msg.Exported)
    def _exported(self, event: msg.Exported) -> None:
        self._repeat = None  # a second press exports again only when asked again
        self.post_message(msg.Progress(event.text))

    @on(msg.SeriesChanged)
    def _series_changed(self, event: msg.SeriesChanged) -> None:
        self._repeat = None  # a second press applies again only when asked again
        if event.text:
            self.post_message(msg.Failed(" | ".join([event.text, *event.problems])) if event.problems
                              else msg.Progress(event.text))
        self._reload_keeping_open()

    @on(msg.ReplyDone)
    def _reply_done(self, event: msg.ReplyDone) -> None:
        # Show the reply under its patch and its trailer in the counts.
        if self.opened is not None and self.opened.id == event.draft.series_id:
            self._reload_keeping_open()
        else:
            self.load(self.model.query)

    def _reload_keeping_open(self) -> None:
        """Read the list again after a change, keeping the place: the queue stays the queue,
        the open series stays open, and the message shown stays shown where it was read."""
        if self.opened is not None:
            self._reopen = self.opened.id
            viewer = self.query_one("#message", Viewer)
            self._reshow = (self.shown_message, viewer.scroll_offset.y, viewer.cursor)
        self.opened = None
        if self.in_queue:
            self.load_queue()
        else:
            self.load(self.model.query)

    # -- replies: the keyboard is held while a reply is prepared --------------------------------
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
            self.post_message(msg.Progress(f"reply prepared and kept: {self.triage.key_name('triage.drafts')} lists unsent drafts"))
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

    # -- actions ---------------------------------------------------------------------------------
    def say(self, text: str, *, error: bool = False) -> None:
        self.post_message(msg.Failed(text) if error else msg.Progress(text))

    def _current_series_id(self) -> str | None:
        return self.query_one(SeriesList).current_id

    def action_search(self) -> None:
        def done(query: str | None) -> None:
            if query is not None:
                self.opened = self.opening = None
                self.say(f"searching: {query}")
                self.load(query)

        self.app.push_screen(QueryDialog(self.model.query), done)

    def action_clear_search(self) -> None:
        self.opened = self.opening = None
        self.load("*")

    def action_reload(self) -> None:
        self.load(self.model.query)

    def action_filter_state(self) -> None:
        state = self.model.cycle_state_filter()
        self._refill()
        self.say(f"showing {'all states' if state is None else 'state ' + state}")

    def action_cycle_sort(self) -> None:
        self.say(f"sorted by {self.model.cycle_sort()}")
        self._refill()

    def _targets(self) -> list[str]:
        """The marked series, else the one under the cursor."""
        marked = sorted(self.model.marked)
        if marked:
            return marked
        sid = self._current_series_id()
        return [sid] if sid else []

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

    def action_queue(self) -> None:
        if self.in_queue:
            self.in_queue = False
            self.opened = None
            self.load(self.model.query)
            return
        self.say("finding what needs you...")
        self.load_queue()

    def _progress_from_worker(self, text: str) -> None:
        self.post_message(msg.Progress(text))

    def action_fetch(self) -> None:
        cancel = self._remote_start()
        if cancel is not None:
            self.say(f"fetching new mail with lei... ({self.triage.key_name('triage.back')} stops)")
            self.fetch_worker(cancel)

    def action_sync(self) -> None:
        cancel = self._remote_start()
        if cancel is not None:
            self.say(f"sharing states through notmuch-git... ({self.triage.key_name('triage.back')} stops)")
            self.sync_worker(cancel)

    def action_merged(self) -> None:
        self.say("finding merged series in [apply] repo (git patch-id)...")
        self.merged_worker()

    @work(thread=True, exclusive=True, group="take", exit_on_error=False)
    def merged_worker(self) -> None:
        try:
            report = self.session.merged()
        except UserError as e:
            self.post_message(msg.Failed(str(e)))
            return
        self.post_message(msg.SeriesChanged(report.summary(), []))

    @work(thread=True, exclusive=True, group="fetch", exit_on_error=False)
    def fetch_worker(self, cancel: threading.Event) -> None:
        try:
            report = self.session.fetch(progress=self._progress_from_worker, cancel=cancel)
        except UserError as e:
            self.post_message(msg.Failed(str(e)))
            return
        finally:
            self.post_message(msg.RemoteDone())
        problems = [f"{r.query!r}: {r.error}" for r in report.errors]
        if report.indexing_error:
            problems.append(f"{report.indexing_error} (indexed on the next fetch or start)")
        self.post_message(msg.SeriesChanged(report.counts(), problems))

    @work(thread=True, exclusive=True, group="sync", exit_on_error=False)
    def sync_worker(self, cancel: threading.Event) -> None:
        try:
            report = self.session.sync(progress=self._progress_from_worker, cancel=cancel)
            problems = self.session.conflict_lines(report)
        except UserError as e:
            self.post_message(msg.Failed(str(e)))
            return
        finally:
            self.post_message(msg.RemoteDone())
        self.post_message(msg.SeriesChanged(report.outcome(), problems + report.notes
                                            + [f"skipped: {b}" for b in report.skipped]))

    @on(msg.RemoteDone)
    def _remote_done(self) -> None:
        self._remote_cancel = None

    def _remote_start(self) -> threading.Event | None:
        if self._remote_cancel is not None:
            self.say("a fetch or sync is running (escape stops it)", error=True)
            return None
        self._remote_cancel = threading.Event()
        return self._remote_cancel

    def action_undo(self) -> None:
        self.undo_change()

    def action_mark_read(self) -> None:
        sid = self._current_series_id()
        if sid:
            self.mark_read(sid)

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

    def action_accept_claim(self) -> None:
        sid = self._current_series_id()
        if sid:
            self.accept_claim(sid)

    def action_show_versions(self) -> None:
        sid = self._current_series_id()
        if sid is None:
            return
        row = self.model.get(sid)
        if not row or not (row["previous_versions"] or row["newer_versions"]):
            self.say("this series has no other versions")
            return
        shown = self.model.toggle_versions(sid)
        self._refill(keep=sid)
        self.say("older versions shown" if shown else "older versions folded")

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

    def _focus_pane(self, delta: int) -> None:
        panes = [p for p in self._panes() if p.display and p.parent is not None and p.parent.display]
        if not panes:
            return
        current = self.focused
        index = panes.index(current) if current in panes else -1
        panes[(index + delta) % len(panes)].focus()

    def action_focus_next_pane(self) -> None:
        self._focus_pane(1)

    def action_focus_prev_pane(self) -> None:
        self._focus_pane(-1)

    def action_resize_list(self, delta: int) -> None:
        if self.left_width == LEFT_DEFAULT and self.size.width >= WIDE:
            # Start from the width shown (the message pane's 100 columns may have capped it).
            shown = self.query_one("#left").size.width
            self.left_width = max(20, min(80, round(shown * 100 / self.size.width)))
        self.left_width = max(20, min(80, self.left_width + delta))
        if self.left_width == LEFT_DEFAULT:
            self.left_width += 1 if delta > 0 else -1  # not the capped default again
        self._layout()

    # -- replies and take-in ------------------------------------------------------------------
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

    def _repeated(self, action: str, series_id: str) -> bool:
        """True when the same take-in action hits the same series twice in a row (force, or go further)."""
        again = self._repeat == (action, series_id)
        self._repeat = (action, series_id)
        return again

    def action_export(self) -> None:
        sid = self._current_series_id()
        if sid is None:
            self.say("no series selected", error=True)
            return
        self.export_worker(sid, force=self._repeated("export", sid))

    def action_apply(self) -> None:
        sid = self._current_series_id()
        if sid is None:
            self.say("no series selected", error=True)
            return
        if not self.session.settings.apply_repo:
            self.say("no tree to apply to: set [apply] repo in config.toml (or use triage apply --repo)", error=True)
            return
        self.apply_worker(sid, force=self._repeated("apply", sid))

    def action_diff_versions(self) -> None:
        if self.opened is None:
            self.say("open a series first", error=True)
            return
        self._range_steps = self._range_steps + 1 if self._repeated("diff_versions", self.opened.id) else 1
        self.say("comparing versions...")
        self.range_diff_worker(self.opened, self._range_steps)

    def action_thanks(self) -> None:
        if self.opened is None:
            self.say("open a series first", error=True)
            return
        self.thanks_worker(self.opened)
