"""The reply composer: the draft's text in a TextArea, a preview of the exact message, then send.

The screen only edits and presents; building, saving and sending run in the app's
workers over the core (``triage.reply``). The draft is saved while typing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Static, TextArea

from triage.reply.compose import TRAILERS
from triage.reply.draft import Built, Draft
from triage.textsafe import safe_line, safe_text
from triage.ui import messages as msg
from triage.ui.documents import HEADER_KEY, META, Document
from triage.ui.widgets.common import scope_bindings
from triage.ui.widgets.viewer import Viewer

if TYPE_CHECKING:
    from triage.ui.app import TriageApp

SAVE_DELAY = 0.4  # seconds after the last keystroke


def preview_document(built: Built, send_key: str = "ctrl+s", back_key: str = "escape") -> Document:
    """The message exactly as it will be handed to the transport (its bytes), headers first."""
    doc = Document(title=f"Preview: {send_key} sends, {back_key} edits")
    doc.add(f"Envelope recipients: {', '.join(built.recipients)}", META)
    for note in built.notes:
        doc.add(f"Note: {note}", META)
    doc.blank()
    text = built.data.decode("utf-8", "replace").replace("\r\n", "\n")
    head, _, body = text.partition("\n\n")
    for line in head.split("\n"):
        name, sep, value = line.partition(":")
        if sep and not line[:1].isspace():
            doc.lines.append([Segment(safe_line(name + ":"), HEADER_KEY), Segment(safe_line(value))])
        else:
            doc.add(line)
    doc.blank()
    for line in body.split("\n"):
        doc.add(line, Style(bold=True, color="magenta") if any(line.startswith(t + ":") for t in TRAILERS.values()) else None)
    doc.width = max(doc.width, max((sum(len(s.text) for s in ln) for ln in doc.lines), default=0))
    return doc


class ComposerScreen(Screen[None]):
    BINDINGS = scope_bindings("composer", priority=True)

    DEFAULT_CSS = """
    ComposerScreen #composer-title {
        height: 1;
        background: $accent;
        color: $text;
        padding: 0 1;
    }
    ComposerScreen TextArea {
        height: 1fr;
        border: round $accent;
    }
    ComposerScreen #preview {
        height: 1fr;
        display: none;
    }
    ComposerScreen.previewing #preview {
        display: block;
    }
    ComposerScreen.previewing TextArea {
        display: none;
    }
    ComposerScreen #composer-hint {
        height: auto;
        max-height: 3;
        padding: 0 1;
        background: $panel;
    }
    ComposerScreen #composer-hint.error {
        background: $error;
        color: $text;
    }
    """

    def __init__(self, draft: Draft, *, resumed: bool = False, typed_ahead: str = "") -> None:
        super().__init__()
        self.draft = draft
        self.resumed = resumed
        self.typed_ahead = typed_ahead  # typed while the reply was prepared
        self.built: Built | None = None
        self.sending = False
        self._save_timer: Timer | None = None
        self._discard_armed = False

    @property
    def triage(self) -> TriageApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        what = {"reply": "Reply", "thanks": "Thank-you note"}.get(self.draft.kind, f"Reply with {TRAILERS.get(self.draft.kind, '')}")
        yield Static(Text(safe_line(f"{what} to: {self.draft.parent_subject}")[:200]), id="composer-title")
        # The text came partly from mail: control characters are shown, never passed on raw.
        yield TextArea(safe_text(self.draft.text), id="draft-text", soft_wrap=True, tab_behavior="indent")
        yield Viewer(id="preview")
        yield Static(id="composer-hint")
        yield Footer()

    def on_mount(self) -> None:
        area = self.query_one(TextArea)
        area.focus()
        # Start where the user writes: on an empty line of its own, under the quote (after
        # the last "[...]") and above a trailer; a resumed draft, at the end of its text.
        lines = area.text.split("\n")
        row = len(lines) - 1
        while row > 0 and not lines[row].strip():
            row -= 1
        if self.resumed:
            area.move_cursor((row, len(lines[row])))
        elif lines[row].startswith(tuple(f"{t}:" for t in TRAILERS.values())):
            top = row
            while top > 0 and lines[top - 1].strip():  # the trailer block's first line
                top -= 1
            area.insert("\n\n", (top, 0))
            area.move_cursor((top, 0))
        else:
            area.insert("\n\n", (row, len(lines[row])))
            area.move_cursor((row + 2, 0))
        if self.typed_ahead:
            area.insert(safe_text(self.typed_ahead))
        note = "resumed a saved draft · " if self.resumed else ""
        send, edit, close = self.triage.key_name("triage.send"), self.triage.key_name("triage.edit_external"), self.triage.key_name("triage.composer.close")
        self.hint(f"{note}{send} preview and send · {edit} $EDITOR · {close} close (draft kept) · saved as you type")

    # -- presenting -------------------------------------------------------------------------
    def hint(self, text: str, *, error: bool = False) -> None:
        widget = self.query_one("#composer-hint", Static)
        widget.update(Text(safe_line(text)))
        widget.set_class(error, "error")

    @property
    def previewing(self) -> bool:
        return self.has_class("previewing")

    def show_preview(self, built: Built) -> None:
        self.built = built
        preview = self.query_one("#preview", Viewer)
        send, back = self.triage.key_name("triage.send"), self.triage.key_name("triage.composer.close")
        preview.show(preview_document(built, send, back))
        self.add_class("previewing")
        preview.focus()
        left_out = f" · {len(built.notes)} address(es) left out, see the notes" if built.notes else ""
        self.hint(f"{send} sends to {len(built.recipients)} recipient(s) · {back} goes back to editing{left_out}")

    def show_failure(self, text: str) -> None:
        """The send failed: back to editing with the draft as it was."""
        self.sending = False
        self.built = None
        self.remove_class("previewing")
        self.query_one(TextArea).focus()
        self.hint(text + " · the draft is kept", error=True)

    @on(msg.ReplyBuilt)
    def _built(self, event: msg.ReplyBuilt) -> None:
        self.show_preview(event.built)

    @on(msg.ReplyFailed)
    def _failed(self, event: msg.ReplyFailed) -> None:
        event.stop()  # the app reports it: it came from there
        self.show_failure(event.text)

    @on(msg.EditorDone)
    def _edited(self, event: msg.EditorDone) -> None:
        if event.problem:
            self.hint(event.problem, error=True)
        if event.text is not None:
            self.set_text(event.text)

    # -- saving -----------------------------------------------------------------------------
    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        self.draft.text = event.text_area.text
        self._discard_armed = False
        if self._save_timer is not None:
            self._save_timer.stop()
        self._save_timer = self.set_timer(SAVE_DELAY, self._save)

    def _save(self) -> None:
        self._save_timer = None
        self.post_message(msg.DraftChanged(self.draft))

    def flush(self) -> None:
        """Save now if a save is pending (closing, quitting, sending)."""
        if self._save_timer is not None:
            self._save_timer.stop()
            self._save()

    def set_text(self, text: str) -> None:
        self.query_one(TextArea).load_text(safe_text(text))
        self.draft.text = self.query_one(TextArea).text
        if self._save_timer is not None:
            self._save_timer.stop()  # the save below covers it
        self._save()

    # -- actions ------------------------------------------------------------------------------
    def action_send(self) -> None:
        if self.sending:
            return
        if self.previewing and self.built is not None:
            self.sending = True
            self.hint("sending…")
            self.post_message(msg.SendRequested(self.draft, self.built))
            return
        self.flush()
        self.post_message(msg.PreviewRequested(self.draft))

    def action_close(self) -> None:
        if self.sending:
            return
        if self.previewing:
            self.built = None
            self.remove_class("previewing")
            self.query_one(TextArea).focus()
            self.hint(f"editing · {self.triage.key_name('triage.send')} preview and send")
            return
        self.flush()
        self.dismiss(None)
        self.post_message(msg.ComposerClosed(self.draft))

    def action_quit_app(self) -> None:
        # The app's own quit sleeps while the composer is open ("q" is text here); this key
        # saves the draft and quits.
        self.post_message(msg.QuitRequested())

    def action_edit_external(self) -> None:
        if self.previewing or self.sending:
            return
        self.flush()
        self.post_message(msg.EditorRequested(self.draft))

    def _cut_quote(self, below: bool) -> None:
        """Replace the quoted lines below (or above) the cursor's line, up to where the quote
        ends, with ``[...]``: trimming a long quote to the part answered."""
        if self.previewing or self.sending:
            return
        area = self.query_one(TextArea)
        lines = area.text.split("\n")
        row = area.cursor_location[0]
        step = 1 if below else -1
        end = row + step
        while 0 <= end < len(lines) and lines[end].startswith(">"):
            end += step
        first, last = (row + 1, end) if below else (end + 1, row)
        if first >= last:
            self.hint("no quoted lines " + ("below" if below else "above") + " the cursor")
            return
        lines[first:last] = ["[...]"]
        area.load_text("\n".join(lines))
        area.move_cursor((row if below else first + 1, 0))
        self.hint(f"cut {last - first} quoted line(s)")

    def action_cut_quote_below(self) -> None:
        self._cut_quote(below=True)

    def action_cut_quote_above(self) -> None:
        self._cut_quote(below=False)

    def action_discard(self) -> None:
        if self.sending:
            return
        if not self._discard_armed:
            self._discard_armed = True
            self.hint(f"press {self.triage.key_name('triage.composer.discard')} again to discard this draft", error=True)
            return
        if self._save_timer is not None:
            self._save_timer.stop()
        self.post_message(msg.DiscardRequested(self.draft))
        self.dismiss(None)
