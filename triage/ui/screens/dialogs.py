"""Small modal dialogs: the notmuch query prompt, the file list of a patch, the unsent drafts."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from triage.textsafe import safe_line
from triage.ui.widgets.common import scope_bindings


class AskDialog(ModalScreen[str | None]):
    """One line asked for at the bottom of the screen. Enter returns it (or ``default``
    when left empty); escape returns None."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", show=False)]
    DEFAULT_CSS = """
    AskDialog { align: center bottom; }
    AskDialog > Vertical { height: auto; width: 100%; background: $panel; padding: 0 1; }
    """

    def __init__(self, prompt: str, *, value: str = "", placeholder: str = "", default: str | None = None) -> None:
        super().__init__()
        self.prompt, self.value, self.placeholder, self.default = prompt, value, placeholder, default

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(self.prompt))
            yield Input(value=self.value, placeholder=self.placeholder, id="answer")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or self.default)

    def action_cancel(self) -> None:
        self.dismiss(None)


class QueryDialog(AskDialog):
    """A notmuch query for the series list (empty: every series)."""

    def __init__(self, current: str) -> None:
        super().__init__("notmuch query (enter to filter, escape to cancel), e.g. from:alice date:1w.. tag:unread "
                         "touches:drivers/pwm/", value="" if current == "*" else current, placeholder="*", default="*")


class FindDialog(AskDialog):
    """Text to find in the shown message (empty: the last search again)."""

    def __init__(self, last: str = "") -> None:
        super().__init__("find in the message (enter: go to it; n / N: next / previous; escape: cancel)",
                         placeholder=last or "text", default=last or None)



class FileListDialog(ModalScreen[int | None]):
    """Jump to one file of a large patch."""

    BINDINGS = [Binding("escape,q", "cancel", "Cancel", show=False)]
    DEFAULT_CSS = """
    FileListDialog { align: center middle; }
    FileListDialog > OptionList { width: 80%; height: 70%; border: thick $accent; }
    """

    def __init__(self, files: list[tuple[int, str, int, int]]) -> None:
        super().__init__()
        self.files = files

    def compose(self) -> ComposeResult:
        options = []
        for _, path, added, removed in self.files:
            label = Text(safe_line(path))
            label.append(f"  +{added}", style="green")
            label.append(f" -{removed}", style="red")
            options.append(Option(label))
        yield OptionList(*options)

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.files[event.option_index][0])

    def action_cancel(self) -> None:
        self.dismiss(None)


class DraftsDialog(ModalScreen[str | None]):
    """Unsent drafts, newest first: enter resumes one."""

    BINDINGS = [Binding("escape,q", "cancel", "Cancel", show=False)]
    DEFAULT_CSS = """
    DraftsDialog { align: center middle; }
    DraftsDialog > Vertical { width: 90%; height: 70%; border: thick $accent; background: $surface; }
    DraftsDialog OptionList { height: 1fr; }
    """

    def __init__(self, drafts: list[tuple[str, str]]) -> None:
        super().__init__()
        self.drafts = drafts  # (draft id, label)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text("Unsent drafts (enter resumes, escape closes)"))
            yield OptionList(*(Option(Text(safe_line(label))) for _, label in self.drafts))

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.drafts[event.option_index][0])

    def action_cancel(self) -> None:
        self.dismiss(None)


class PreparingReply(ModalScreen[str | None]):
    """Holds the keyboard between a reply key and the composer: what is typed meanwhile
    goes into the draft (never to the list, where "a" would accept the series)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", show=False)]
    DEFAULT_CSS = """
    PreparingReply { align: center middle; }
    PreparingReply > Vertical { height: auto; width: 60; background: $panel; padding: 0 1; }
    PreparingReply TextArea { height: 3; }
    """

    def compose(self) -> ComposeResult:
        from textual.widgets import TextArea

        with Vertical():
            yield Static(Text("preparing the reply… what you type now goes into it (escape cancels)"))
            yield TextArea(id="typed-ahead", soft_wrap=True)

    def on_mount(self) -> None:
        from textual.widgets import TextArea

        self.query_one(TextArea).focus()

    @property
    def typed(self) -> str:
        from textual.widgets import TextArea

        return self.query_one(TextArea).text

    def action_cancel(self) -> None:
        self.dismiss("cancel")


class CommentEditor(ModalScreen[str | None]):
    """A comment on one line of the message: its line above, the comment below.
    Returns the text (empty: delete), or None when cancelled."""

    BINDINGS = scope_bindings("comment", priority=True)

    DEFAULT_CSS = """
    CommentEditor { align: center bottom; }
    CommentEditor > Vertical { height: auto; width: 100%; background: $panel; padding: 0 1; border-top: solid $accent; }
    CommentEditor TextArea { height: 6; }
    """

    def __init__(self, line_text: str, existing: str = "", hint: str = "") -> None:
        super().__init__()
        self.line_text = line_text
        self.existing = existing
        self.hint = hint

    def compose(self) -> ComposeResult:
        from textual.widgets import TextArea

        with Vertical():
            yield Static(Text(safe_line(f"> {self.line_text}")[:300], style="bold"))
            yield TextArea(self.existing, id="comment-text", soft_wrap=True)
            yield Static(Text(self.hint), id="comment-hint")

    def on_mount(self) -> None:
        from textual.widgets import TextArea

        area = self.query_one(TextArea)
        area.focus()
        area.move_cursor(area.document.end)

    @property
    def text(self) -> str:
        from textual.widgets import TextArea

        return self.query_one(TextArea).text

    def action_save(self) -> None:
        self.dismiss(self.text)

    def action_delete(self) -> None:
        self.dismiss("")

    def action_cancel(self) -> None:
        self.dismiss(None)
