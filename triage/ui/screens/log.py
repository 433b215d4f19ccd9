"""The message log: every error and notice of this session, whole, with its time."""

from __future__ import annotations

import time
from dataclasses import dataclass

from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from triage.textsafe import safe_text
from triage.ui.documents import Document
from triage.ui.widgets.viewer import Viewer

ERROR = Style(color="red", bold=True)
TIME = Style(dim=True)


@dataclass(frozen=True, slots=True)
class LogEntry:
    when: float
    error: bool
    text: str


def log_document(entries: list[LogEntry]) -> Document:
    """Newest last; a long text is shown whole, wrapped at its own line breaks."""
    doc = Document(title=f"Message log ({sum(e.error for e in entries)} errors, {len(entries)} entries)")
    if not entries:
        doc.add("Nothing happened yet.")
    for e in entries:
        stamp = time.strftime("%H:%M:%S", time.localtime(e.when))
        lines = safe_text(e.text).split("\n") or [""]
        doc.add_parts([(f"{stamp} ", TIME), ("error " if e.error else "", ERROR), (lines[0], ERROR if e.error else None)])
        for more in lines[1:]:
            doc.add("         " + more)
    return doc


class LogScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,L", "dismiss", "Close", show=False)]
    DEFAULT_CSS = """
    LogScreen { align: center middle; }
    LogScreen > Vertical { width: 95%; height: 90%; border: thick $accent; background: $surface; }
    LogScreen Viewer { height: 1fr; }
    """

    def __init__(self, entries: list[LogEntry]) -> None:
        super().__init__()
        self.entries = entries

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text("Message log — escape closes; arrows scroll (long lines: left/right)"))
            yield Viewer(id="log")

    def on_mount(self) -> None:
        viewer = self.query_one(Viewer)
        doc = log_document(self.entries)
        viewer.show(doc, keep_y=max(0, len(doc.lines) - 1))
        viewer.focus()

    def action_dismiss(self) -> None:  # type: ignore[override]
        self.dismiss(None)
