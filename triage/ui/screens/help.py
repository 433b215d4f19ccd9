"""The help screen: every key of the active keymap, by scope."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from triage.ui.bindings import ACTIONS, SCOPES

SCOPE_TITLES = {
    "app": "Everywhere",
    "main": "Main screen",
    "list": "Series list",
    "patches": "Patch list",
    "viewer": "Message views",  # the message, the follow-ups, the log
    "comment": "Comment editor",
    "composer": "Reply composer",
    "batch": "Sending a series' replies",
}


def display_keys(keys: str) -> str:
    from textual.keys import format_key

    return ", ".join(format_key(k.strip()) for k in keys.split(",") if k.strip())


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close", show=False)]

    DEFAULT_CSS = """
    HelpScreen {
        align: center middle;
    }
    HelpScreen > Vertical {
        width: 90%;
        height: 90%;
        border: thick $accent;
        background: $surface;
    }
    HelpScreen DataTable {
        height: 1fr;
    }
    """

    def __init__(self, keymap: dict[str, str], sources: list[str]) -> None:
        super().__init__()
        self.keymap = keymap
        self.sources = sources

    def compose(self) -> ComposeResult:
        with Vertical():
            src = ", ".join(self.sources) if self.sources else "built-in defaults"
            yield Static(Text(f"Keys (keymap: {src}) — escape closes; ctrl+p opens the command palette"), id="help-title")
            yield DataTable(id="help-table", cursor_type="row")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        # Keys and ids first: on an 80-column terminal they are what must be read.
        table.add_columns("keys", "binding id", "action", "where")
        for scope in SCOPES:
            for a in ACTIONS:
                if a.scope == scope:
                    keys = self.keymap.get(a.id, a.keys)
                    table.add_row(Text(display_keys(keys)), Text(a.id), Text(a.description), Text(SCOPE_TITLES[scope]))
        table.focus()

    def action_dismiss(self) -> None:  # type: ignore[override]
        self.dismiss(None)
