"""The main screen's shared state and helpers (see MainBase)."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from rich.style import Style
from rich.text import Text
from textual.screen import Screen
from textual.widget import Widget
from textual.worker import Worker

from triage.model.series import Series
from triage.session import OtherComment, Session
from triage.ui import messages as msg
from triage.ui.failures import failure_text
from triage.ui.listmodel import ListModel
from triage.ui.widgets.panes import SeriesList, StatusLine

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



class MainBase(Screen[None]):
    """What the main screen's parts share: its state, the session, saying things, finding the
    series an action is about, and the one funnel for workers that failed. The parts (the
    list, the states, the reader, comments, replies, take-in, fetch and sync) each add their
    workers, handlers and actions; what one part asks of another is declared here."""

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
        self._cursor_to_diff: str | None = None  # Enter on this patch: the cursor goes to its diff
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

    def say(self, text: str, *, error: bool = False) -> None:
        self.post_message(msg.Failed(text) if error else msg.Progress(text))

    def _current_series_id(self) -> str | None:
        return self.query_one(SeriesList).current_id

    def _series(self, series_id: str) -> Series:
        """The open series when it is the one asked for, else read from the store (workers)."""
        opened = self.opened
        return opened if opened is not None and opened.id == series_id else self.session.series(series_id)

    def _progress_from_worker(self, text: str) -> None:
        self.post_message(msg.Progress(text))

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

    def _targets(self) -> list[str]:
        """The marked series, else the one under the cursor."""
        marked = sorted(self.model.marked)
        if marked:
            return marked
        sid = self._current_series_id()
        return [sid] if sid else []

    def _repeated(self, action: str, series_id: str) -> bool:
        """True when the same take-in action hits the same series twice in a row (force, or go further)."""
        again = self._repeat == (action, series_id)
        self._repeat = (action, series_id)
        return again

    # -- what the parts ask of each other (each defined by its part) --------------------------
    def _read_full_width(self) -> None:
        raise NotImplementedError

    def load(self, query: str, *, cached_first: bool = False) -> Any:
        raise NotImplementedError

    def load_queue(self) -> Any:
        raise NotImplementedError

    def _show_context(self, shown: int | None = None) -> None:
        raise NotImplementedError

    def goto_series(self, series_id: str) -> None:
        raise NotImplementedError

    def _reload_keeping_open(self) -> None:
        raise NotImplementedError

    def _refresh_extras(self) -> None:
        raise NotImplementedError

    def list_drafts(self, show: bool) -> Any:
        raise NotImplementedError

    def _dismiss_preparing(self) -> None:
        raise NotImplementedError
