"""A line-API text view: renders only the rows on screen, so a 20,000-line patch scrolls freely."""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from triage.textsafe import safe_line
from triage.ui import messages as msg
from triage.ui.documents import Document, Line
from triage.ui.widgets.common import pane_css, scope_bindings

CUT_RIGHT, CUT_LEFT = "»", "«"
CUT_STYLE = Style(color="yellow", bold=True)
CURSOR_STYLE = Style(bgcolor="grey23")
HSTEP = 8  # columns a horizontal scroll moves


class Viewer(ScrollView, can_focus=True):
    """Shows a :class:`Document` with a cursor line; keeps positions of files and hunks for
    jumping. Extra lines (comments) can be drawn under document lines; the cursor moves
    over both, and knows which document line it is on."""

    BINDINGS = scope_bindings("viewer")
    DEFAULT_CSS = pane_css("Viewer", "padding: 0 1; background: $surface;")

    def __init__(self, *, id: str | None = None, placeholder: str = "") -> None:
        super().__init__(id=id)
        self.document = Document()
        if placeholder:
            self.document.add(placeholder)
        self.rendered_document: Document | None = None
        self.extras: dict[int, list[Line]] = {}  # document line -> lines drawn under it
        # With extras drawn: for each display row (document line, -1 or extra k), and each
        # document line's row. Without (most of the time) row and line are the same, and a
        # 20,000-line patch costs nothing per line to show.
        self._rows: list[tuple[int, int]] | None = None
        self._first_row: list[int] = []
        self.cursor = 0  # a display row
        self.last_search = ""

    def show(self, document: Document, *, title: str | None = None, keep_y: float | None = None,
             cursor: int | None = None) -> None:
        self.document = document
        self.extras = {}
        # Border titles are parsed as markup when given a str: pass Text, always.
        self.border_title = Text(safe_line(title if title is not None else document.title)[:100])
        self._layout_rows()
        y = int(keep_y or 0)
        self.cursor = min(y if cursor is None else cursor, max(0, self._row_count() - 1))
        self.scroll_to(0, y, animate=False)
        self.refresh()

    def set_extras(self, extras: dict[int, list[Line]]) -> None:
        """Lines drawn under document lines (comments); the cursor stays on its document line."""
        line, k = self._at(self.cursor) if 0 <= self.cursor < self._row_count() else (0, -1)
        top = self.scroll_offset.y
        self.extras = extras
        self._layout_rows()
        self.scroll_to(y=top, animate=False)  # a new virtual size must not move the reader
        row = self._row_of(line)
        # The cursor's line and what is drawn under it (a comment just written) on screen;
        # a cursor on a drawn line stays on it (Enter there folds what it unfolded).
        self._set_cursor(row + len(self.extras.get(line, ())))
        self._set_cursor(row + min(max(k + 1, 0), len(self.extras.get(line, ()))))

    def _layout_rows(self) -> None:
        width = self.document.width
        if not self.extras:
            self._rows, self._first_row = None, []
            self.virtual_size = Size(width + 1, len(self.document.lines))
            return
        rows: list[tuple[int, int]] = []
        first: list[int] = []
        for i in range(len(self.document.lines)):
            first.append(len(rows))
            rows.append((i, -1))
            for k, extra in enumerate(self.extras.get(i, ())):
                rows.append((i, k))
                width = max(width, sum(len(seg.text) for seg in extra))
        self._rows, self._first_row = rows, first
        self.virtual_size = Size(width + 1, len(rows))

    def _row_count(self) -> int:
        return len(self.document.lines) if self._rows is None else len(self._rows)

    def _at(self, row: int) -> tuple[int, int]:
        """(document line, -1 for the line itself or k for its k-th extra) of a display row."""
        return (row, -1) if self._rows is None else self._rows[row]

    def _row_of(self, line: int) -> int:
        if self._rows is None:
            return line
        return self._first_row[line] if 0 <= line < len(self._first_row) else 0

    @property
    def cursor_line(self) -> int:
        """The document line the cursor is on (an extra line counts as the line above it)."""
        return self._at(self.cursor)[0] if 0 <= self.cursor < self._row_count() else 0

    def show_lines(self, top: int, cursor: int) -> None:
        """Document line ``top`` at the top of the view, the cursor on line ``cursor``."""
        self.scroll_to(y=self._row_of(top), animate=False, immediate=True)
        self._set_cursor(self._row_of(cursor))

    def move_cursor_to_line(self, line: int) -> None:
        self._set_cursor(self._row_of(line))

    def _set_cursor(self, row: int) -> None:
        if not self._row_count():
            return
        self.cursor = max(0, min(row, self._row_count() - 1))
        height = max(1, self.scrollable_content_region.height)
        top = int(self.scroll_offset.y)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False)
        elif self.cursor >= top + height:
            self.scroll_to(y=self.cursor - height + 1, animate=False)
        self.refresh()

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        index = scroll_y + y
        width = self.scrollable_content_region.width
        style = self.rich_style
        if index >= self._row_count():
            return Strip.blank(width, style)
        self.rendered_document = self.document
        line, k = self._at(index)
        segments = self.document.lines[line] if k < 0 else self.extras[line][k]
        strip = Strip(segments)
        cut_right = strip.cell_length > scroll_x + width
        cut_left = scroll_x > 0 and strip.cell_length > 0
        strip = strip.crop_extend(scroll_x, scroll_x + width, style)
        if cut_right and width > 1:
            # A line longer than the pane ends in a marker; horizontal scrolling shows the rest.
            strip = Strip.join([strip.crop(0, width - 1), Strip([Segment(CUT_RIGHT, CUT_STYLE)])])
        if cut_left and width > 1:
            strip = Strip.join([Strip([Segment(CUT_LEFT, CUT_STYLE)]), strip.crop(1, width)])
        if index == self.cursor and self.has_focus:
            strip = strip.apply_style(CURSOR_STYLE)
        return strip

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    # -- actions that need the screen --------------------------------------------------------
    def action_search(self) -> None:
        from triage.ui.screens.dialogs import FindDialog

        def found(text: str | None) -> None:
            if text and not self.search(text, from_next=False):
                self.notify(f"not found: {safe_line(text)[:60]}", severity="warning", markup=False)

        self.app.push_screen(FindDialog(self.last_search), found)

    def action_search_next(self) -> None:
        if self.last_search and not self.search(self.last_search):
            self.notify("no more matches", markup=False)

    def action_search_prev(self) -> None:
        if self.last_search and not self.search(self.last_search, forward=False):
            self.notify("no more matches", markup=False)

    def action_comment(self) -> None:
        if self.id != "message":
            self.notify("comments go on the message view's lines", severity="warning", markup=False)
            return
        self.post_message(msg.CommentRequested(self.cursor_line))

    @property
    def selected_target(self) -> str | None:
        """The message the cursor line shows, in a thread document (the follow-ups)."""
        line = self.cursor_line
        targets = self.document.targets
        return targets[line] if 0 <= line < len(targets) else None

    def action_open_selected(self) -> None:
        if 0 <= self.cursor < self._row_count() and self._at(self.cursor)[1] >= 0:
            line, k = self._at(self.cursor)
            self.post_message(msg.ExtraSelected(line, k))
            return
        target = self.selected_target
        if target is not None:
            self.post_message(msg.FollowupOpen(target))

    def action_toggle_others(self) -> None:
        self.post_message(msg.OthersToggled())

    # -- search ------------------------------------------------------------------------------
    def search(self, text: str, *, forward: bool = True, from_next: bool = True) -> bool:
        """Put the cursor on the next (or previous) document line containing ``text``."""
        needle = text.lower()
        if not needle or not self._row_count():
            return False
        self.last_search = text
        lines = self.document.lines
        start = self.cursor_line
        count = len(lines)
        for step in range(1 if from_next else 0, count + 1):
            i = (start + step) % count if forward else (start - step) % count
            if needle in "".join(seg.text for seg in lines[i]).lower():
                self.move_cursor_to_line(i)
                return True
        return False

    # -- navigation between files and hunks --------------------------------------------
    def _jump(self, anchors: list[int], forward: bool) -> bool:
        top = int(self.scroll_offset.y)
        rows = [self._row_of(a) for a in anchors]
        targets = [r for r in rows if r > top] if forward else [r for r in rows if r < top]
        if not targets:
            return False
        target = targets[0] if forward else targets[-1]
        self.scroll_to(y=target, animate=False)
        self.cursor = target
        self.refresh()
        return True

    def next_file(self) -> bool:
        return self._jump([f[0] for f in self.document.files], True)

    def prev_file(self) -> bool:
        return self._jump([f[0] for f in self.document.files], False)

    def next_hunk(self) -> bool:
        return self._jump(self.document.hunks, True)

    def prev_hunk(self) -> bool:
        return self._jump(self.document.hunks, False)

    def goto_line(self, line: int) -> None:
        self.scroll_to(y=self._row_of(line), animate=False)
        self.cursor = self._row_of(line)
        self.refresh()

    def action_scroll_down(self) -> None:
        self._set_cursor(self.cursor + 1)

    def action_scroll_up(self) -> None:
        self._set_cursor(self.cursor - 1)

    def action_cursor_top(self) -> None:
        self._set_cursor(0)

    def action_cursor_bottom(self) -> None:
        self._set_cursor(self._row_count() - 1)

    def action_scroll_left(self) -> None:
        self.scroll_relative(x=-HSTEP, animate=False)

    def action_scroll_right(self) -> None:
        self.scroll_relative(x=HSTEP, animate=False)

    def action_page_down(self) -> None:
        page = max(1, self.scrollable_content_region.height - 1)
        self.scroll_relative(y=page, animate=False)
        self._set_cursor(self.cursor + page)

    def action_page_up(self) -> None:
        page = max(1, self.scrollable_content_region.height - 1)
        self.scroll_relative(y=-page, animate=False)
        self._set_cursor(self.cursor - page)

    def visible_text(self) -> list[str]:
        """The text of the rows now on screen (for tests and the status line)."""
        top = int(self.scroll_offset.y)
        rows = [self._at(r) for r in range(top, min(self._row_count(), top + self.scrollable_content_region.height))]
        return ["".join(seg.text for seg in (self.document.lines[i] if k < 0 else self.extras[i][k])) for i, k in rows]
