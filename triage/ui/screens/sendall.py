"""Sending a series' drafts at once: one preview listing every reply exactly as it will go,
one confirmation (as ``b4 review`` batches a series' replies)."""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Static

from triage.reply.draft import Built, Draft
from triage.textsafe import safe_line
from triage.ui.documents import Document
from triage.ui.widgets.common import scope_bindings
from triage.ui.widgets.viewer import Viewer

HEAD = Style(bold=True, color="bright_blue")
BODY_LINES = 12  # of each reply's body, in the preview


class SendSeriesScreen(ModalScreen[bool]):
    """Every unsent reply of one series, previewed; True when the user sends them all."""

    BINDINGS = scope_bindings("batch")
    DEFAULT_CSS = """
    SendSeriesScreen { align: center middle; }
    SendSeriesScreen > Vertical { width: 95%; height: 95%; border: thick $accent; background: $surface; }
    SendSeriesScreen Viewer { height: 1fr; }
    """

    def __init__(self, title: str, replies: list[tuple[Draft, Built]], problems: list[str]) -> None:
        super().__init__()
        self.title_text = title
        self.replies = replies
        self.problems = problems

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(safe_line(self.title_text)[:200]), id="sendall-title")
            yield Viewer(id="sendall-preview")
        yield Footer()

    def on_mount(self) -> None:
        doc = Document(title=f"{len(self.replies)} replies")
        for problem in self.problems:
            doc.add(f"! {problem}", Style(bold=True, color="red"))
        for n, (_, built) in enumerate(self.replies, 1):
            m = built.message
            doc.add(f"── reply {n} of {len(self.replies)} ──", Style(bold=True))
            for key in ("From", "To", "Cc", "Subject", "In-Reply-To"):
                if m[key]:
                    doc.add_parts([(f"{key}: ", HEAD), (str(m[key]), None)])
            body = m.get_content().split("\n")
            for line in body[:BODY_LINES]:
                doc.add(line)
            if len(body) > BODY_LINES:
                doc.add(f"... ({len(body) - BODY_LINES} more lines)", Style(dim=True))
            doc.blank()
        viewer = self.query_one(Viewer)
        viewer.show(doc)
        viewer.focus()

    def action_send_all(self) -> None:
        self.dismiss(bool(self.replies))

    def action_cancel(self) -> None:
        self.dismiss(False)
