"""The series list, the patch list and the status line."""

from __future__ import annotations

import contextlib
from typing import Any

from rich.text import Text
from textual.geometry import Size
from textual.widgets import DataTable, OptionList, Static
from textual.widgets.option_list import Option

from triage.model.series import Series
from triage.textsafe import safe_line
from triage.ui.widgets.common import pane_css, scope_bindings

PROGRESS_MARK = {"reviewed": "✓", "needs-changes": "✗", "skipped": "–"}
PROGRESS_STYLE = {"reviewed": "bold green", "needs-changes": "bold red", "skipped": "dim"}
SHORT_STATE = {"under-review": "in review", "changes-requested": "changes"}
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


class SeriesList(DataTable):
    """One row per series; older versions fold under the newest."""

    BINDINGS = scope_bindings("list")
    DEFAULT_CSS = pane_css("SeriesList", "height: 2fr;")

    COLUMNS = ("", "state", "title", "author", "date", "v", "patches", "R/A/T")
    # Widths set by the pane's width, never by the rows loaded so far (auto widths made
    # layouts, and snapshots, depend on timing): the title takes the slack, so version,
    # received/total and the R/A/T counts stay on screen from 100 columns; a narrower pane
    # leaves out author and date, so they stay on screen down to about 60.
    WIDTHS = (1, 9, 48, 14, 10, 4, 7, 9)
    MIN_TITLE = 16
    COMPACT_BELOW = 92
    COMPACT_DROP = ("author", "date")

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=False)
        self.border_title = "Series"
        self.compact = False
        self._rows: list[tuple[dict[str, Any], int]] = []

    def _shown(self) -> list[tuple[str, int]]:
        return [(c, w) for c, w in zip(self.COLUMNS, self.WIDTHS, strict=True)
                if not (self.compact and c in self.COMPACT_DROP)]

    def on_mount(self) -> None:
        self._add_columns()

    def _add_columns(self) -> None:
        for col, width in self._shown():
            self.add_column(col, key=col or "mark", width=width)

    def on_resize(self) -> None:
        self.fit(self.scrollable_content_region.width)

    def fit(self, width: int) -> None:
        """Give the title whatever the other columns leave of ``width`` cells."""
        if width <= 0 or not self.columns:
            return
        compact = width < self.COMPACT_BELOW
        if compact != self.compact:
            keep = self.current_id
            self.compact = compact
            self.clear(columns=True)
            self._add_columns()
            self.fill(self._rows, keep=keep)
        shown = self._shown()
        padding = 2 * self.cell_padding * len(shown)
        others = sum(w for col, w in shown if col != "title")
        title = max(self.MIN_TITLE, width - others - padding - 1)  # one cell for the scrollbar's edge
        column = self.columns.get("title")  # type: ignore[call-overload]
        if column is not None and column.width != title:
            delta = title - column.width
            column.width = title
            # As DataTable does for a padding change: the content is that much wider.
            self.virtual_size = Size(max(0, self.virtual_size.width + delta), self.virtual_size.height)
            self._clear_caches()
            self.refresh()

    def fill(self, rows: list[tuple[dict[str, Any], int]], keep: str | None = None) -> None:
        self._rows = rows
        self.clear()
        for r, depth in rows:
            self.add_row(*self._cells(r, depth), key=r["id"])
        if keep is not None:
            with contextlib.suppress(Exception):  # the row may be filtered away
                self.move_cursor(row=self.get_row_index(keep), animate=False)

    def _cells(self, r: dict[str, Any], depth: int = 0) -> list[Text]:
        cells = self.cells(r, depth)
        if not self.compact:
            return cells
        return [c for c, col in zip(cells, self.COLUMNS, strict=True) if col not in self.COMPACT_DROP]

    @staticmethod
    def cells(r: dict[str, Any], depth: int = 0) -> list[Text]:
        c = r["counts"]
        trail = f"{c['reviewed_by']}/{c['acked_by']}/{c['tested_by']}" + (f" N{c['nacked_by']}" if c["nacked_by"] else "")
        recv = Text(f"{r['received']}/{r['total']}", style="" if r["complete"] else "bold red")
        prefix = "  ↳ " if depth else ""
        if r.get("reasons"):
            prefix += "‹" + ", ".join(r["reasons"]) + "› "
        progress = r.get("progress") or {}
        if progress.get("marked"):
            prefix += f"[{progress['reviewed']}/{progress['patches']}✓] "
        flags = ("RFC " if r["rfc"] else "") + ("RESEND " if r["resend"] else "")
        older = f" (+{len(r['previous_versions'])} older)" if r["previous_versions"] and not depth else ""
        author = r["author"]["name"] or r["author"]["email"]
        return [
            Text("✓" if r.get("marked") else "●" if r.get("unread") else "↩" if r.get("replied") else " ",
                 style="bold yellow" if r.get("marked") else "bold cyan"),
            Text(SHORT_STATE.get(r["state"], r["state"]), style=STATE_STYLE.get(r["state"], "")),
            Text(prefix + flags + safe_line(r["title"]) + older),
            Text(safe_line(author)[:16]),
            Text(r["date"][:10]),
            Text(f"v{r['version']}"),
            recv,
            Text(trail, style="red" if c["nacked_by"] else "green" if c["reviewed_by"] or c["acked_by"] else ""),
        ]

    def update_row(self, r: dict[str, Any]) -> None:
        try:
            for (col, _), cell in zip(self._shown(), self._cells(r), strict=True):
                self.update_cell(r["id"], col or "mark", cell)
        except Exception:  # noqa: BLE001 - the row is not shown under the current filter
            pass

    @property
    def current_id(self) -> str | None:
        if self.row_count == 0:
            return None
        try:
            return self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        except Exception:  # noqa: BLE001
            return None


class PatchList(OptionList):
    """The cover letter and the patches of the open series."""

    BINDINGS = scope_bindings("patches")
    DEFAULT_CSS = pane_css("PatchList", "height: 1fr;")

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = "Patches"
        self.entries: list[tuple[str, int | None]] = []  # (message id, patch index or None for the cover)

    def fill(self, s: Series) -> None:
        self.clear_options()
        self.entries = []
        options: list[Option] = []
        if s.cover is not None:
            self.entries.append((s.cover.message_id, None))
            replies = len(s.cover_followups)
            options.append(Option(Text(f"0/{s.total} cover letter" + (f"  [{replies} replies]" if replies else ""), style="bold")))
        for p in s.patches:
            self.entries.append((p.message_id, p.index))
            kinds = {t.name for t in p.trailers if t.source != "patch" and t.sender_match}
            marks = "".join(m for m, n in (("R", "Reviewed-by"), ("A", "Acked-by"), ("T", "Tested-by")) if n in kinds)
            nak = any(t.negative for t in p.trailers)
            label = Text(PROGRESS_MARK.get(p.progress or "", " ") + " ", style=PROGRESS_STYLE.get(p.progress or "", ""))
            label.append(f"{p.index}/{s.total} ")
            label.append(safe_line(p.message.parsed.title or p.message.subject))
            if marks:
                label.append(f"  {marks}", style="green")
            carried = [c for c in s.carried_trailers if c["patch"] == p.index]
            if carried:
                kinds_c = "".join(dict.fromkeys(str(c["name"])[0] for c in carried))
                label.append(f"  +{kinds_c} from v{carried[0]['from_version']}", style="cyan")
            if any(lost["patch"] == p.index for lost in s.review_lost):
                label.append("  ⚠ review lost (changed)", style="bold yellow")
            if nak:
                label.append("  NAK", style="bold red")
            if p.followups:
                label.append(f"  [{len(p.followups)}]", style="dim")
            options.append(Option(label))
        missing, more = s.missing(limit=50)
        self.add_options(options)
        for i in missing:
            self.add_option(Option(Text(f"{i}/{s.total} (not received)", style="bold red"), disabled=True))
        if more:
            self.add_option(Option(Text(f"... and {more} more not received", style="bold red"), disabled=True))
        self.border_title = f"Patches ({s.received}/{s.total})"
        if options:
            self.highlighted = 0


class StatusLine(Static):
    """Query, counts, the last action and any error: never a traceback."""

    DEFAULT_CSS = """
    StatusLine {
        dock: bottom;
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
        self.update(Text(f"{self.left}  │  {self.message}" if self.message else self.left))
