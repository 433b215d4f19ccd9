"""The main screen: the series list, the patch list, the message view, the follow-ups.

It composes the panes and lays them out; what they show and do is in its parts, one
module each (``main_list``: the list and the queue; ``main_states``: states, marks,
undo; ``main_reader``: the message view and the follow-ups; ``main_comments``: comments
on lines; ``main_replies``: replies and drafts; ``main_takein``: export, apply,
range-diff, merged; ``main_remote``: fetch and sync), over ``main_base`` (the shared
state, the worker failure funnel). Blocking work runs in thread workers that only
compute and post (``triage.ui.messages``); the handlers own the state. The layout follows the
terminal: side by side from 120 columns (the message pane gets 100 columns from 180),
one pane column below that (Enter reads a message full width, Escape goes back), and
any pane alone with ``triage.zoom``.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widget import Widget
from textual.widgets import Footer, Static

from triage.ui.screens.main_base import LEFT_DEFAULT, MESSAGE_MIN, NARROW, WIDE
from triage.ui.screens.main_comments import CommentsPart
from triage.ui.screens.main_list import ListPart
from triage.ui.screens.main_reader import ReaderPart
from triage.ui.screens.main_remote import RemotePart
from triage.ui.screens.main_replies import RepliesPart
from triage.ui.screens.main_states import StatesPart
from triage.ui.screens.main_takein import TakeInPart
from triage.ui.widgets.common import scope_bindings
from triage.ui.widgets.panes import PatchList, SeriesList, StatusLine
from triage.ui.widgets.viewer import Viewer


class MainScreen(ListPart, StatesPart, ReaderPart, CommentsPart, RepliesPart, TakeInPart, RemotePart):
    BINDINGS = scope_bindings("main")

    DEFAULT_CSS = """
    MainScreen > Horizontal { height: 1fr; }
    MainScreen > #keys { height: 1; }
    MainScreen #keys Footer { dock: none; width: 1fr; }
    MainScreen #helphint { width: auto; padding: 0 1; }
    MainScreen #left { width: 50%; min-width: 30; }
    MainScreen #right { width: 1fr; }
    MainScreen #message { height: 3fr; }
    MainScreen #followups { height: 1fr; }
    MainScreen.narrow #left { width: 100%; }
    MainScreen.narrow #right { display: none; }
    MainScreen.narrow.reading #left { display: none; }
    MainScreen.narrow.reading #right { display: block; width: 100%; }
    """

    def compose(self) -> ComposeResult:
        with Horizontal():
            with Vertical(id="left"):
                yield SeriesList(self.model, id="series")
                yield PatchList(id="patches")
            with Vertical(id="right"):
                yield Viewer(id="message", placeholder="Select a series: its cover letter and patches show here.")
                yield Viewer(id="followups", placeholder="Follow-ups (review replies) show here.")
        # The status line above the footer: both always on screen (two docked lines would overlap).
        yield StatusLine(id="status")
        # The focused pane's keys, and where all of them are: at 80 columns the footer is cut
        # before the app's own keys, so the help key and the palette's have a place of their
        # own at the right (the footer's own palette key, docked over the cut keys, let a
        # letter of the key under it show at its right).
        palette = self.app.get_key_display(Binding(self.app.COMMAND_PALETTE_BINDING, ""))
        with Horizontal(id="keys"):
            yield Footer(compact=True, show_command_palette=False)
            yield Static(Text(f"{palette} palette {self.triage.key_name('triage.help')} all keys", style="bold"),
                         id="helphint")

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
            # Through the list's load: a first build shows the list as it grows, then the queue.
            self.load(self.model.query, then_queue=True)
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
