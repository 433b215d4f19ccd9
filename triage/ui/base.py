"""What the parts of the app share: the state the app owns and the two messages every worker posts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import App
from textual.message import Message

from triage.config import Settings
from triage.mail.store import Store
from triage.model.series import Series
from triage.ui.keymaps import Keymap
from triage.ui.listmodel import ListModel

if TYPE_CHECKING:
    from triage.ui.widgets.panes import StatusLine


class TriageBase(App[None]):
    """The base of :class:`triage.ui.app.TriageApp` and its replying and take-in halves."""

    store: Store
    settings: Settings
    keymap: Keymap
    model: ListModel
    opened: Series | None
    shown_message: str | None
    _reopen: str | None  # the series to open again after the next load
    _quit_after_send: bool  # quit was asked for while a reply was being sent

    class Progress(Message):
        """A worker says what it is doing (status line)."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    class Failed(Message):
        """A worker's work failed; the text says what and where (status line, in red)."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    if TYPE_CHECKING:  # provided by the app

        @property
        def status(self) -> StatusLine: ...

        def load(self, query: str) -> None: ...

        def _key_name(self, binding_id: str) -> str: ...

        def _current_series_id(self) -> str | None: ...
