"""Every message the screen's parts send each other, in one place.

Workers post results; screens and dialogs post requests; the app and the main screen
handle them with ``@on``. Nothing here does work.
"""

from __future__ import annotations

from typing import Any

from textual.message import Message

from triage.model.series import Series
from triage.reply.draft import Built, Draft
from triage.reply.outbox import Sent
from triage.session import OtherComment, StateChange
from triage.ui.documents import Document
from triage.ui.listmodel import Source

# -- news for the status line and the message log ------------------------------------------


class Progress(Message):
    """A worker says what it is doing (status line)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


class Result(Message):
    """What an action the user took did (an export's file, a state set, a sync's counts):
    shown where the eye is (a notification) and in the status line, kept in the log."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


class Failed(Message):
    """Something failed; the text says what and where (status line in red, message log whole)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


# -- the list, a series, a message -----------------------------------------------------------


class SeriesLoaded(Message):
    """A list to show: the index's view of a query, or rows in memory (a first build's)."""

    def __init__(self, source: Source, query: str, how: str) -> None:
        super().__init__()
        self.source, self.query, self.how = source, query, how


class LoadFailed(Message):
    def __init__(self, query: str, text: str) -> None:
        super().__init__()
        self.query, self.text = query, text


class SeriesOpened(Message):
    def __init__(self, series: Series) -> None:
        super().__init__()
        self.series = series


class CarriedLoaded(Message):
    def __init__(self, series_id: str, carried: list[dict[str, Any]], lost: list[dict[str, Any]]) -> None:
        super().__init__()
        self.series_id, self.carried, self.lost = series_id, carried, lost


class OpenFailed(Message):
    def __init__(self, series_id: str, text: str) -> None:
        super().__init__()
        self.series_id, self.text = series_id, text


class MessageShown(Message):
    def __init__(
        self, message_id: str, doc: Document, followups: Document | None, others: list[OtherComment] | None = None
    ) -> None:
        super().__init__()
        self.message_id, self.doc, self.followups = message_id, doc, followups
        self.others = others or []  # other reviewers' comments anchored to lines of the message
        self.followup = False  # a follow-up shown on request, not the patch list's message


class CommentRequested(Message):
    """The viewer's cursor line is to be commented (or its comment edited)."""

    def __init__(self, line: int) -> None:
        super().__init__()
        self.line = line


class FollowupOpen(Message):
    """Show this follow-up in the message view (Enter in the follow-ups)."""

    def __init__(self, message_id: str) -> None:
        super().__init__()
        self.message_id = message_id


class ExtraSelected(Message):
    """Enter on a line drawn under a message line (a comment): unfold or fold it."""

    def __init__(self, line: int, index: int) -> None:
        super().__init__()
        self.line, self.index = line, index


class OthersToggled(Message):
    """Show or hide other reviewers' comments under their lines."""


class CommentsChanged(Message):
    def __init__(self, series_id: str, message_id: str) -> None:
        super().__init__()
        self.series_id, self.message_id = series_id, message_id


class StateSet(Message):
    """One state change, or several made as one step (marked rows, a bulk change)."""

    def __init__(self, change: StateChange | list[StateChange], undoable: bool) -> None:
        super().__init__()
        self.changes = change if isinstance(change, list) else [change]
        self.undoable = undoable

    @property
    def change(self) -> StateChange:
        return self.changes[0]


class QueueLoaded(Message):
    def __init__(self, rows: list[dict[str, Any]]) -> None:
        super().__init__()
        self.rows = rows


class MarkedRead(Message):
    def __init__(self, series_id: str, count: int) -> None:
        super().__init__()
        self.series_id, self.count = series_id, count


# -- take-in ---------------------------------------------------------------------------------


class RangeDiffReady(Message):
    def __init__(self, series_id: str, doc: Document) -> None:
        super().__init__()
        self.series_id, self.doc = series_id, doc


class Exported(Message):
    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


class SeriesSendReady(Message):
    """A series' unsent replies, built and ready to be previewed together."""

    def __init__(self, series_id: str, title: str, replies: list, problems: list[str]) -> None:
        super().__init__()
        self.series_id, self.title, self.replies, self.problems = series_id, title, replies, problems


class RemoteDone(Message):
    """A fetch or sync worker ended (whatever way): Escape no longer stops anything."""


class SeriesChanged(Message):
    """Something outside the screen changed the store (apply): reload."""

    def __init__(self, text: str, problems: list[str]) -> None:
        super().__init__()
        self.text, self.problems = text, problems


# -- replies: the composer asks, the app answers --------------------------------------------


class ReplyReady(Message):
    """A draft to open in the composer (new or resumed); ``typed`` was typed while it was prepared."""

    def __init__(self, draft: Draft, resumed: bool, typed: str = "") -> None:
        super().__init__()
        self.draft, self.resumed, self.typed = draft, resumed, typed


class DraftChanged(Message):
    """The composer's text changed: save it (a snapshot; saves may finish out of order)."""

    def __init__(self, draft: Draft, now: bool = False) -> None:
        super().__init__()
        self.draft, self.now = draft, now


class PreviewRequested(Message):
    def __init__(self, draft: Draft) -> None:
        super().__init__()
        self.draft = draft


class SendRequested(Message):
    def __init__(self, draft: Draft, built: Built) -> None:
        super().__init__()
        self.draft, self.built = draft, built


class DiscardRequested(Message):
    def __init__(self, draft: Draft) -> None:
        super().__init__()
        self.draft = draft


class EditorRequested(Message):
    def __init__(self, draft: Draft) -> None:
        super().__init__()
        self.draft = draft


class ComposerClosed(Message):
    def __init__(self, draft: Draft) -> None:
        super().__init__()
        self.draft = draft


class QuitRequested(Message):
    """Quit from a screen whose own keys are text (the composer)."""


class ReplyBuilt(Message):
    def __init__(self, draft_id: str, built: Built) -> None:
        super().__init__()
        self.draft_id, self.built = draft_id, built


class ReplyFailed(Message):
    def __init__(self, draft_id: str, text: str) -> None:
        super().__init__()
        self.draft_id, self.text = draft_id, text


class ReplySent(Message):
    def __init__(self, draft: Draft, result: Sent) -> None:
        super().__init__()
        self.draft, self.result = draft, result


class ReplyDone(Message):
    """A reply went out: the main screen shows it under its patch (a reload)."""

    def __init__(self, draft: Draft) -> None:
        super().__init__()
        self.draft = draft


class EditorDone(Message):
    def __init__(self, draft_id: str, text: str | None, problem: str | None) -> None:
        super().__init__()
        self.draft_id, self.text, self.problem = draft_id, text, problem


class DraftsListed(Message):
    def __init__(self, drafts: list[Draft], problems: list[str], show: bool) -> None:
        super().__init__()
        self.drafts, self.problems, self.show = drafts, problems, show
