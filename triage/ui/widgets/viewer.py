"""A line-API text view: renders only the rows on screen, so a 20,000-line patch scrolls freely."""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from triage.textsafe import safe_line
from triage.ui.documents import Document
from triage.ui.widgets.common import pane_css, scope_bindings

CUT_RIGHT, CUT_LEFT = "»", "«"
CUT_STYLE = Style(color="yellow", bold=True)
HSTEP = 8  # columns a horizontal scroll moves


class Viewer(ScrollView, can_focus=True):
    """Shows a :class:`Document`; keeps positions of files and hunks for jumping."""

    BINDINGS = scope_bindings("viewer")
    DEFAULT_CSS = pane_css("Viewer", "padding: 0 1; background: $surface;")

    def __init__(self, *, id: str | None = None, placeholder: str = "") -> None:
        super().__init__(id=id)
        self.document = Document()
        if placeholder:
            self.document.add(placeholder)
        self.rendered_document: Document | None = None

    def show(self, document: Document, *, title: str | None = None, keep_y: float | None = None) -> None:
        self.document = document
        # Border titles are parsed as markup when given a str: pass Text, always.
        self.border_title = Text(safe_line(title if title is not None else document.title)[:100])
        self.virtual_size = Size(document.width + 1, len(document.lines))
        self.scroll_to(0, keep_y or 0, animate=False)
        self.refresh()

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        index = scroll_y + y
        width = self.scrollable_content_region.width
        style = self.rich_style
        if index >= len(self.document.lines):
            return Strip.blank(width, style)
        self.rendered_document = self.document
        strip = Strip(self.document.lines[index])
        cut_right = strip.cell_length > scroll_x + width
        cut_left = scroll_x > 0 and strip.cell_length > 0
        strip = strip.crop_extend(scroll_x, scroll_x + width, style)
        if cut_right and width > 1:
            # A line longer than the pane ends in a marker; horizontal scrolling shows the rest.
            strip = Strip.join([strip.crop(0, width - 1), Strip([Segment(CUT_RIGHT, CUT_STYLE)])])
        if cut_left and width > 1:
            strip = Strip.join([Strip([Segment(CUT_LEFT, CUT_STYLE)]), strip.crop(1, width)])
        return strip

    # -- navigation between files and hunks --------------------------------------------
    def _jump(self, anchors: list[int], forward: bool) -> bool:
        top = int(self.scroll_offset.y)
        targets = [a for a in anchors if a > top] if forward else [a for a in anchors if a < top]
        if not targets:
            return False
        self.scroll_to(y=targets[0] if forward else targets[-1], animate=False)
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
        self.scroll_to(y=line, animate=False)

    def action_scroll_down(self) -> None:
        self.scroll_relative(y=1, animate=False)

    def action_scroll_up(self) -> None:
        self.scroll_relative(y=-1, animate=False)

    def action_scroll_left(self) -> None:
        self.scroll_relative(x=-HSTEP, animate=False)

    def action_scroll_right(self) -> None:
        self.scroll_relative(x=HSTEP, animate=False)

    def action_page_down(self) -> None:
        self.scroll_relative(y=max(1, self.scrollable_content_region.height - 1), animate=False)

    def action_page_up(self) -> None:
        self.scroll_relative(y=-max(1, self.scrollable_content_region.height - 1), animate=False)

    def visible_text(self) -> list[str]:
        """The text of the rows now on screen (for tests and the status line)."""
        top = int(self.scroll_offset.y)
        rows = self.document.lines[top : top + self.scrollable_content_region.height]
        return ["".join(seg.text for seg in line) for line in rows]
