"""Taking a series in on the screen: export, apply, range-diff between versions, thank-you note.

A mixin of :class:`triage.ui.app.TriageApp`; the work is ``triage.take``'s, run in
thread workers that only post messages.
"""

from __future__ import annotations

from pathlib import Path

from textual import work
from textual.message import Message

from triage.errors import UserError
from triage.mail.store import StoreError
from triage.model.series import Series
from triage.reply.outbox import identity, start_reply
from triage.take import service as take
from triage.take.apply import branch_name
from triage.take.export import ExportError
from triage.ui.documents import Document, range_diff_document
from triage.ui.replying import Replying
from triage.ui.widgets.viewer import Viewer


class Taking(Replying):
    """The app's take-in half: builds on replying for the thank-you note."""

    def _init_taking(self) -> None:
        self._repeat: tuple[str, str] | None = None  # (action, series id) of the last take-in action
        self._range_steps = 0

    class RangeDiffReady(Message):
        def __init__(self, series_id: str, doc: Document) -> None:
            super().__init__()
            self.series_id, self.doc = series_id, doc

    class Exported(Message):
        """An export succeeded: the "press again to force" memory is cleared on the event loop."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    class SeriesChanged(Message):
        """Something outside the screen changed the store (apply): reload."""

        def __init__(self, text: str, problems: list[str]) -> None:
            super().__init__()
            self.text, self.problems = text, problems

    @work(thread=True, exclusive=True, group="take", exit_on_error=False)
    def export_worker(self, series_id: str, force: bool) -> None:
        try:
            result = take.export(self.store, self.settings, series_id, force=force)
            folder = Path(self.settings.export_dir or ".").expanduser()
            folder.mkdir(parents=True, exist_ok=True)
            target = folder / (branch_name(result).replace("triage/", "", 1) + ".mbox")
            target.write_bytes(result.mbox)
        except ExportError as e:
            again = f"; press {self._key_name('triage.export')} again to export anyway" if "incomplete" in str(e) else ""
            self.post_message(self.Failed(f"{e}{again}"))
            return
        except (StoreError, UserError, OSError) as e:
            self.post_message(self.Failed(f"export failed: {e}"))
            return
        added = sum(len(p.added) for p in result.patches)
        notes = f" | {' | '.join(result.notes)}" if result.notes else ""
        self.post_message(self.Exported(
            f"exported {len(result.patches)} patch(es), {added} trailer line(s) added, to {target.resolve()}{notes}"
        ))

    @work(thread=True, exclusive=True, group="take", exit_on_error=False)
    def apply_worker(self, series_id: str, force: bool) -> None:
        self.post_message(self.Progress("applying with git am -3..."))
        try:
            applied, exported, problems = take.apply(self.store, self.settings, series_id, None, force=force)
        except (StoreError, UserError, OSError) as e:
            self.post_message(self.Failed(str(e)))
            return
        state = "state not set (see below)" if problems else "state → accepted"
        text = f"applied {len(applied.commits)} commit(s) to {applied.branch} in {applied.repo}; {state}"
        self.post_message(self.SeriesChanged(text, exported.notes + problems))

    @work(thread=True, exclusive=True, group="take", exit_on_error=False)
    def range_diff_worker(self, series: Series, steps: int) -> None:
        try:
            older = take.previous_version(self.store, series, steps)
            if older is None:
                what = "no earlier version" if steps == 1 else f"no version {steps} steps back"
                self.post_message(self.Failed(f"v{series.version}: {what} in the store"))
                return
            lines = take.compare_versions(self.store, older, series)
        except (StoreError, UserError, OSError) as e:
            self.post_message(self.Failed(f"range-diff failed: {e}"))
            return
        title = f"range-diff v{older.version} → v{series.version}: {series.title}"
        self.post_message(self.RangeDiffReady(series.id, range_diff_document(lines, title)))

    @work(thread=True, exclusive=True, group="reply", exit_on_error=False)
    def thanks_worker(self, series: Series) -> None:
        try:
            applied = take.applied_record(series.id)
            me = identity(self.store, self.settings)
            body = take.thanks_body(series, applied, me.formatted())
            draft, resumed = start_reply(
                self.store, self.settings, self.drafts, take.thanks_target(series), "thanks", series.id, body=body
            )
        except (StoreError, UserError, OSError) as e:
            self.post_message(self.Failed(f"no thank-you note: {e}"))
            return
        self.post_message(self.ReplyReady(draft, resumed))

    def on_taking_range_diff_ready(self, event: RangeDiffReady) -> None:
        if self.opened is None or self.opened.id != event.series_id:
            return
        self.shown_message = None  # the patch list shows the message again on the next move
        self.query_one("#message", Viewer).show(event.doc)
        self.status.say(event.doc.title)

    def on_taking_exported(self, event: Exported) -> None:
        self._repeat = None  # a second press exports again only when asked again
        self.status.say(event.text)

    def on_taking_series_changed(self, event: SeriesChanged) -> None:
        self._repeat = None  # a second press applies again only when asked again
        self.status.say(" | ".join([event.text, *event.problems]), error=bool(event.problems))
        self._reopen = self.opened.id if self.opened is not None else None
        self.opened = None
        self.load(self.model.query)

    def _repeated(self, action: str, series_id: str) -> bool:
        """True when the same take-in action hits the same series twice in a row (force, or go further)."""
        again = self._repeat == (action, series_id)
        self._repeat = (action, series_id)
        return again

    def action_export(self) -> None:
        sid = self._current_series_id()
        if sid is None:
            self.status.say("no series selected", error=True)
            return
        self.export_worker(sid, force=self._repeated("export", sid))

    def action_apply(self) -> None:
        sid = self._current_series_id()
        if sid is None:
            self.status.say("no series selected", error=True)
            return
        if not self.settings.apply_repo:
            self.status.say("no tree to apply to: set [apply] repo in config.toml (or use triage apply --repo)", error=True)
            return
        self.apply_worker(sid, force=self._repeated("apply", sid))

    def action_diff_versions(self) -> None:
        if self.opened is None:
            self.status.say("open a series first", error=True)
            return
        self._range_steps = self._range_steps + 1 if self._repeated("diff_versions", self.opened.id) else 1
        self.status.say("comparing versions...")
        self.range_diff_worker(self.opened, self._range_steps)

    def action_thanks(self) -> None:
        if self.opened is None:
            self.status.say("open a series first", error=True)
            return
        self.thanks_worker(self.opened)
