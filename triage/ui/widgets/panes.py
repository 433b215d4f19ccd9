"""The series list, the patch list and the status line."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual import events
from textual.cache import LRUCache
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from triage.model.series import Series
from triage.textsafe import safe_line
from triage.ui.listmodel import ListModel
from triage.ui.widgets.common import pane_css, scope_bindings

PROGRESS_MARK = {"reviewed": "✓", "needs-changes": "✗", "skipped": "–"}
PROGRESS_STYLE = {"reviewed": "bold green", "needs-changes": "bold red", "skipped": "dim"}
MIN_TITLE = 12  # cells a patch title keeps before its line may wrap instead
SHORT_STATE = {"under-review": "in review", "changes-requested": "changes"}
CI_MARK = {"fail": "✗", "warn": "!"}
CI_STYLE = {"fail": "bold red", "warn": "yellow"}


def outcome_words(outcome: dict[str, Any], received: int = 0) -> str:
    """"applied by Uwe to pwm/for-next", "2/3 merged into main", "Zed says applied"."""
    by = safe_line(str(outcome.get("by", "")).split(" <")[0])
    where = safe_line(str(outcome.get("where") or ""))
    kind = str(outcome.get("kind", "applied"))
    patches = list(outcome.get("patches") or ())
    some = f"{len(patches)}/{received} " if received and 0 < len(patches) < received else ""
    if kind == "merged":
        return f"{some}merged into {where}" if where else f"{some}merged"
    if outcome.get("trusted"):
        return f"{some}{kind} by {by}" + (f" to {where}" if where else "")
    return f"{by} says {some}{kind}" + (f" to {where}" if where else "")
STATE_STYLE = {
    "new": "bold",
    "under-review": "yellow",
    "reviewed": "green",
    "changes-requested": "magenta",
    "accepted": "bold green",
    "rejected": "red",
    "superseded": "dim",
    "deferred": "blue",
}


class SeriesList(ScrollView, can_focus=True):
    """One row per series; older versions fold under the newest.

    Drawn with the line API: a row is read from the list model (and so from the index, a
    window at a time) and rendered only when it is on screen, and rendered rows are kept
    until the rows or the width change. The first line is the column header."""

    BINDINGS = scope_bindings("list")
    COMPONENT_CLASSES: ClassVar[set[str]] = {"serieslist--header", "serieslist--cursor", "serieslist--cursor-blurred"}
    DEFAULT_CSS = pane_css("SeriesList", "height: 2fr; background: $surface;") + """
    SeriesList > .serieslist--header { text-style: bold; background: $panel; color: $foreground; }
    SeriesList > .serieslist--cursor { background: $block-cursor-background; color: $block-cursor-foreground;
                                       text-style: $block-cursor-text-style; }
    SeriesList > .serieslist--cursor-blurred { background: $block-cursor-blurred-background; }
    """

    COLUMNS = ("", "state", "title", "CI", "author", "date", "v", "patches", "R/A/T")
    # Widths set by the pane's width, never by the rows loaded so far (auto widths made
    # layouts, and snapshots, depend on timing). The title takes every cell the others leave;
    # when that would be fewer than TITLE_FLOOR, columns give way in GIVE_WAY's order
    # (author first, then the date, R/A/T, CI, the version), so the title is readable at any
    # width and the state and received/total stay.
    WIDTHS = (1, 10, 0, 2, 14, 8, 3, 5, 7)
    TITLE_FLOOR = 40
    GIVE_WAY = ("author", "date", "R/A/T", "CI", "v")
    PADDING = 1  # cells between two columns

    class _About(Message):
        def __init__(self, series_id: str) -> None:
            super().__init__()
            self.series_id = series_id

    class Highlighted(_About):
        """The cursor is on another series."""

    class Selected(_About):
        """Enter (or a second click) on a series."""

    def __init__(self, model: ListModel | None = None, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = "Series"
        self.model = model if model is not None else ListModel()
        self.hidden: set[str] = set()  # columns given way to the title at this width
        self.cursor = 0
        self._count = 0
        self._title_width = self.TITLE_FLOOR
        self._strips: LRUCache[tuple[int, int], Strip] = LRUCache(1024)
        self._announced: str | None = None
        self._fitted = -1  # the width the columns were fitted to

    # -- geometry ------------------------------------------------------------------------------
    def _shown(self) -> list[tuple[str, int]]:
        return [
            (c, self._title_width if c == "title" else w)
            for c, w in zip(self.COLUMNS, self.WIDTHS, strict=True)
            if c not in self.hidden
        ]

    def on_resize(self) -> None:
        self.fit(self.scrollable_content_region.width)

    def fit(self, width: int) -> None:
        """Give the title every cell of ``width`` the other columns leave; columns give way
        (GIVE_WAY's order) while the title would get fewer than TITLE_FLOOR."""
        if width <= 0:
            return
        self._fitted = width
        self.hidden = set()

        def left_for_title() -> int:
            others = [w for c, w in self._shown() if c != "title"]
            return width - sum(others) - self.PADDING * len(others) - 1

        for column in self.GIVE_WAY:
            if left_for_title() >= self.TITLE_FLOOR:
                break
            self.hidden.add(column)
        self._title_width = max(8, left_for_title())
        self._reset()

    def _reset(self) -> None:
        self._strips.clear()
        self._count = len(self.model)
        self.virtual_size = Size(self.content_width(), self._count + 1)
        self.refresh()

    @property
    def row_count(self) -> int:
        return self._count

    # -- what is shown -----------------------------------------------------------------------------
    def reload(self, keep: str | None = None) -> None:
        """The model changed (a load, a sort, a filter, a fold): draw it again, the cursor on
        ``keep`` when it is shown, else where it was."""
        self._reset()
        at = self.model.index_of(keep) if keep is not None else None
        self._announced = None
        self._set_cursor(at if at is not None else min(self.cursor, max(0, self._count - 1)), scroll_center=at is not None)

    def update_row(self) -> None:
        """Rows' values changed in the model: draw what is on screen again."""
        self._strips.clear()
        self.refresh()

    def row_of(self, series_id: str) -> dict[str, Any] | None:
        """The listed row of a series (None when it is not listed)."""
        at = self.model.index_of(series_id)
        got = self.model.at(at) if at is not None else None
        return got[0] if got else None

    @property
    def current_id(self) -> str | None:
        got = self.model.at(self.cursor) if self._count else None
        return got[0]["id"] if got else None

    def row_ids(self) -> list[str]:
        return [r["id"] for r, _ in self.model.window(0, self._count)]

    def row_cells(self, index: int) -> list[Text]:
        """Each shown column of row ``index``."""
        got = self.model.at(index)
        return self._cells(*got) if got else []

    def cell(self, series_id: str, column: str) -> Text:
        """A series' cell in a shown column (empty when the row or the column is not shown)."""
        at = self.model.index_of(series_id)
        cells = self.row_cells(at) if at is not None else []
        names = [c for c, _ in self._shown()]
        return cells[names.index(column)] if cells and column in names else Text()

    def content_width(self) -> int:
        """Cells the shown columns take."""
        shown = self._shown()
        return sum(w for _, w in shown) + self.PADDING * (len(shown) - 1) + 1

    def get_row_index(self, series_id: str) -> int:
        at = self.model.index_of(series_id)
        if at is None:
            raise KeyError(series_id)
        return at

    def move_cursor(self, *, row: int, animate: bool = False) -> None:
        self._set_cursor(row, scroll_center=True)

    # -- cursor ----------------------------------------------------------------------------------------
    def _set_cursor(self, row: int, *, scroll_center: bool = False) -> None:
        if self._count == 0:
            self.cursor = 0
            self.refresh()
            return
        self.cursor = max(0, min(row, self._count - 1))
        height = max(1, self.scrollable_content_region.height - 1)  # less the header
        top = int(self.scroll_offset.y)
        if self.cursor < top or self.cursor >= top + height:
            target = self.cursor - height // 2 if scroll_center else (self.cursor if self.cursor < top else self.cursor - height + 1)
            self.scroll_to(y=max(0, target), animate=False, immediate=True)
        self.refresh()
        sid = self.current_id
        if sid is not None and sid != self._announced:
            self._announced = sid
            self.post_message(self.Highlighted(sid))

    def action_cursor_down(self) -> None:
        self._set_cursor(self.cursor + 1)

    def action_cursor_up(self) -> None:
        self._set_cursor(self.cursor - 1)

    def _page(self) -> int:
        return max(1, self.scrollable_content_region.height - 2)

    def action_page_down(self) -> None:
        self.scroll_relative(y=self._page(), animate=False, immediate=True)
        self._set_cursor(self.cursor + self._page())

    def action_page_up(self) -> None:
        self.scroll_relative(y=-self._page(), animate=False, immediate=True)
        self._set_cursor(self.cursor - self._page())

    def action_scroll_top(self) -> None:
        self._set_cursor(0)

    def action_scroll_bottom(self) -> None:
        self._set_cursor(self._count - 1)

    def action_select_cursor(self) -> None:
        sid = self.current_id
        if sid is not None:
            self.post_message(self.Selected(sid))

    def on_click(self, event: events.Click) -> None:
        at = event.get_content_offset(self)
        if at is None or at.y < 1:  # the border, or the header
            return
        row = int(self.scroll_offset.y) + at.y - 1
        if 0 <= row < self._count:
            again = row == self.cursor
            self._set_cursor(row)
            if again or event.chain > 1:
                self.action_select_cursor()

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    # -- drawing ---------------------------------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        if width != self._fitted:
            # The vertical scrollbar came or went: the widget's size did not change, its text's did.
            self._fitted = width
            self.call_after_refresh(self.fit, width)
        scroll_x, scroll_y = self.scroll_offset
        if y == 0:
            header = Text(" ", style=self.get_component_rich_style("serieslist--header"))
            for n, (col, w) in enumerate(self._shown()):
                header.append((" " * self.PADDING if n else "") + col.ljust(w)[:w])
            return self._strip(header).crop_extend(scroll_x, scroll_x + width, self.rich_style)
        index = scroll_y + y - 1
        if index >= self._count:
            return Strip.blank(width, self.rich_style)
        key = (index, width)
        strip = self._strips.get(key)
        if strip is None:
            got = self.model.at(index)
            if got is None:
                return Strip.blank(width, self.rich_style)
            line = Text(" ")
            for n, ((_, w), cell) in enumerate(zip(self._shown(), self._cells(*got), strict=True)):
                cell.truncate(w, overflow="ellipsis", pad=True)
                if n:
                    line.append(" " * self.PADDING)
                line.append_text(cell)
            strip = self._strip(line)
            self._strips[key] = strip
        strip = strip.crop_extend(scroll_x, scroll_x + width, self.rich_style)
        if index == self.cursor:
            strip = strip.apply_style(
                self.get_component_rich_style("serieslist--cursor" if self.has_focus else "serieslist--cursor-blurred")
            )
        return strip

    def _strip(self, text: Text) -> Strip:
        return Strip(list(text.render(self.app.console)))

    def _cells(self, r: dict[str, Any], depth: int = 0) -> list[Text]:
        cells = self.cells(r, depth)
        if not self.hidden:
            return cells
        return [c for c, col in zip(cells, self.COLUMNS, strict=True) if col not in self.hidden]

    @staticmethod
    def cells(r: dict[str, Any], depth: int = 0) -> list[Text]:
        c = r["counts"]
        trail = f"{c['reviewed_by']}/{c['acked_by']}/{c['tested_by']}" + (f" N{c['nacked_by']}" if c["nacked_by"] else "")
        recv = Text(f"{r['received']}/{r['total']}", style="" if r["complete"] else "bold red")
        prefix = "  ↳ " if depth else ""
        progress = r.get("progress") or {}
        if progress.get("marked"):
            prefix += f"[{progress['reviewed']}/{progress['patches']}✓] "
        flags = ("RFC " if r["rfc"] else "") + ("RESEND " if r["resend"] else "")
        if r.get("claims"):
            flags = "⚑ " + flags  # another author claims to supersede it, or it claims so
        older = f" (+{len(r['previous_versions'])} older)" if r["previous_versions"] and not depth else ""
        if r.get("newer_versions") and r.get("current"):
            older += f" (split: {len(r['newer_versions'])} newer part postings)"
        author = r["author"]["name"] or r["author"]["email"]
        # The queue's reasons after the title: at 80 columns they took the whole cell before
        # it; the status line says them in full for the series opened.
        why = "  ‹" + ", ".join(r["reasons"]) + "›" if r.get("reasons") else ""
        title = Text(prefix + flags + safe_line(r["title"]) + older + why)
        outcome = r.get("outcome")
        if outcome:
            title.append(" · " + outcome_words(outcome, int(r.get("received") or 0)),
                         style="green" if outcome.get("trusted") else "yellow")
        ci = r.get("ci_state")
        return [
            Text("✓" if r.get("marked") else "●" if r.get("unread") else "↩" if r.get("replied") else " ",
                 style="bold yellow" if r.get("marked") else "bold cyan"),
            Text(SHORT_STATE.get(r["state"], r["state"]), style=STATE_STYLE.get(r["state"], "")),
            title,
            Text(CI_MARK.get(ci or "", ""), style=CI_STYLE.get(ci or "", "")),
            Text(safe_line(author)[:16]),
            Text(r["date"][2:10]),
            Text(f"v{r['version']}"),
            recv,
            Text(trail, style="red" if c["nacked_by"] else "green" if c["reviewed_by"] or c["acked_by"] else ""),
        ]


class PatchList(OptionList):
    """The cover letter and the patches of the open series."""

    BINDINGS = scope_bindings("patches")
    DEFAULT_CSS = pane_css("PatchList", "height: 1fr;")

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = "Patches"
        self.entries: list[tuple[str, int | None]] = []  # (message id, patch index or None for the cover)
        # Each patch's option index and its line's parts, to fit the lines again on a resize.
        self._labels: list[tuple[int, Text, Text, Text]] = []
        self._fitted = 0

    def fill(self, s: Series) -> None:
        self.clear_options()
        self.entries = []
        self._labels = []
        options: list[Option] = []
        if s.cover is not None:
            self.entries.append((s.cover.message_id, None))
            replies = len(s.cover_followups)
            options.append(Option(Text(f"0/{s.total} cover letter" + (f"  [{replies} replies]" if replies else ""), style="bold")))
        width = self._label_width()
        for p in s.patches:
            self.entries.append((p.message_id, p.index))
            head, title, tail = self._parts(s, p)
            self._labels.append((len(options), head, title, tail))
            options.append(Option(self._label(head, title, tail, width)))
        self._fitted = width
        missing, more = s.missing(limit=50)
        self.add_options(options)
        for i in missing:
            self.add_option(Option(Text(f"{i}/{s.total} (not received)", style="bold red"), disabled=True))
        if more:
            self.add_option(Option(Text(f"... and {more} more not received", style="bold red"), disabled=True))
        self.border_title = f"Patches ({s.received}/{s.total})"
        if options:
            self.highlighted = 0

    @staticmethod
    def _parts(s: Series, p: Any) -> tuple[Text, Text, Text]:
        """A patch's line in three parts: its progress and number, its title, and its marks."""
        kinds = {t.name for t in p.trailers if t.source != "patch" and t.sender_match}
        marks = "".join(m for m, n in (("R", "Reviewed-by"), ("A", "Acked-by"), ("T", "Tested-by")) if n in kinds)
        nak = any(t.negative for t in p.trailers)
        head = Text(PROGRESS_MARK.get(p.progress or "", " ") + " ", style=PROGRESS_STYLE.get(p.progress or "", ""))
        head.append(f"{p.index}/{s.total} ")
        title = Text(safe_line(p.message.parsed.title or p.message.subject))
        tail = Text()
        if marks:
            tail.append(f"  {marks}", style="green")
        by_name = [t for t in p.trailers if t.source != "patch" and t.sender_match == "name"]
        if by_name:
            # Counted by the sender's name: sent from another address than the trailer names;
            # ✓ where DKIM signs the mail in the named address's domain.
            sure = all(t.value in s.name_verified for t in by_name)
            tail.append("  ≈" + ("✓" if sure else ""), style="green" if sure else "yellow")
        flagged = [t for t in p.trailers if t.source != "patch" and not t.sender_match]
        if flagged:
            tail.append(f"  ✗{len(flagged)}", style="bold red")  # sent by someone else: not counted
        carried = [c for c in s.carried_trailers if c["patch"] == p.index]
        if carried:
            kinds_c = "".join(dict.fromkeys(str(c["name"])[0] for c in carried))
            tail.append(f"  +{kinds_c} from v{carried[0]['from_version']}", style="cyan")
        if any(lost["patch"] == p.index for lost in s.review_lost):
            tail.append("  ⚠ review lost (changed)", style="bold yellow")
        if nak:
            tail.append("  NAK", style="bold red")
        if p.followups:
            tail.append(f"  [{len(p.followups)}]", style="dim")
        return head, title, tail

    @staticmethod
    def _label(head: Text, title: Text, tail: Text, width: int) -> Text:
        """One line: the title gives way (…) so that the marks after it stay on the line; a
        wrapped line began with its marks, as if it were another patch."""
        title = title.copy()
        room = width - head.cell_len - tail.cell_len
        if width and room >= MIN_TITLE:
            title.truncate(room, overflow="ellipsis")
        return Text.assemble(head, title, tail, no_wrap=bool(width) and room >= MIN_TITLE, overflow="ellipsis")

    def _label_width(self) -> int:
        """Cells a patch's line may take (0 before the first layout: no line is cut then)."""
        if not self.size.width:
            return 0
        padding = self.get_component_styles("option-list--option").padding
        # The border, the option's padding and room for a scrollbar that may come.
        return max(0, self.size.width - 2 - padding.width - 2)

    def on_resize(self) -> None:
        width = self._label_width()
        if width == self._fitted:
            return
        self._fitted = width
        for index, head, title, tail in self._labels:
            self.replace_option_prompt_at_index(index, self._label(head, title, tail, width))


class StatusLine(Static):
    """Query, counts, the last action and any error: never a traceback."""

    DEFAULT_CSS = """
    StatusLine {
        height: 1;
        background: $panel;
        color: $text;
        padding: 0 1;
    }
    StatusLine.-error {
        background: $error;
        color: $text;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id, markup=False)
        self.left = ""
        self.message = ""
        self.history: list[tuple[bool, str]] = []  # (error, text), newest last

    def set_context(self, text: str) -> None:
        self.left = text
        self._render_line()

    def say(self, text: str, *, error: bool = False) -> None:
        self.message = safe_line(text)
        self.history.append((error, self.message))
        del self.history[:-200]
        self.set_class(error, "-error")
        self._render_line()

    def _render_line(self) -> None:
        # The last news first: on a narrow terminal the query and counts give way to it.
        text = Text(f"{self.message}  │  {self.left}" if self.message else self.left, no_wrap=True, overflow="ellipsis")
        self.update(text)
