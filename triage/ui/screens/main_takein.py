"""The main screen's take-in: export, apply, range-diff and finding merged series."""

from __future__ import annotations

from textual import on, work

from triage.errors import UserError
from triage.model.series import Series
from triage.take.export import ExportError
from triage.ui import messages as msg
from triage.ui.documents import (
    range_diff_document,
)
from triage.ui.screens.main_base import MainBase
from triage.ui.widgets.viewer import Viewer


class TakeInPart(MainBase):
    """The main screen's take-in: export, apply, range-diff and finding merged series."""

    @work(thread=True, exclusive=True, group="take", exit_on_error=False)
    def export_worker(self, series_id: str, force: bool) -> None:
        try:
            result, target = self.session.export_to_folder(series_id, force=force)
        except ExportError as e:
            again = f"; press {self.triage.key_name('triage.export')} again to export anyway" if "incomplete" in str(e) else ""
            self.post_message(msg.Failed(f"{e}{again}"))
            return
        except (UserError, OSError) as e:
            self.post_message(msg.Failed(f"export failed: {e}"))
            return
        added = sum(len(p.added) for p in result.patches)
        notes = f" | {' | '.join(result.notes)}" if result.notes else ""
        self.post_message(msg.Exported(
            f"exported {len(result.patches)} patch(es), {added} trailer line(s) added, to {target.resolve()}{notes}"
        ))

    @work(thread=True, exclusive=True, group="take", exit_on_error=False)
    def apply_worker(self, series_id: str, force: bool) -> None:
        self.post_message(msg.Progress("applying with git am -3..."))
        try:
            applied, exported, problems = self.session.apply(series_id, force=force)
        except (UserError, OSError) as e:
            self.post_message(msg.Failed(str(e)))
            return
        state = "state not set (see below)" if problems else "state → accepted"
        text = f"applied {len(applied.commits)} commit(s) to {applied.branch} in {applied.repo}; {state}"
        self.post_message(msg.SeriesChanged(text, exported.notes + problems))

    @work(thread=True, exclusive=True, group="take", exit_on_error=False)
    def range_diff_worker(self, series: Series, steps: int) -> None:
        try:
            found = self.session.range_diff(series, steps)
        except (UserError, OSError) as e:
            self.post_message(msg.Failed(f"range-diff failed: {e}"))
            return
        if found is None:
            what = "no earlier version" if steps == 1 else f"no version {steps} steps back"
            self.post_message(msg.Failed(f"v{series.version}: {what} in the store"))
            return
        older, lines = found
        title = f"range-diff v{older.version} → v{series.version}: {series.title}"
        self.post_message(msg.RangeDiffReady(series.id, range_diff_document(lines, title)))

    @on(msg.RangeDiffReady)
    def _range_diff(self, event: msg.RangeDiffReady) -> None:
        if self.opened is None or self.opened.id != event.series_id:
            return
        self.shown_message = None  # the patch list shows the message again on the next move
        self.query_one("#message", Viewer).show(event.doc)
        self.post_message(msg.Progress(event.doc.title))

    @on(msg.Exported)
    def _exported(self, event: msg.Exported) -> None:
        self._repeat = None  # a second press exports again only when asked again
        self.post_message(msg.Result(event.text))

    def action_export(self) -> None:
        sid = self._current_series_id()
        if sid is None:
            self.say("no series selected", error=True)
            return
        self.export_worker(sid, force=self._repeated("export", sid))

    def action_apply(self) -> None:
        sid = self._current_series_id()
        if sid is None:
            self.say("no series selected", error=True)
            return
        if not self.session.settings.apply_repo:
            self.say("no tree to apply to: set [apply] repo in config.toml (or use triage apply --repo)", error=True)
            return
        self.apply_worker(sid, force=self._repeated("apply", sid))

    def action_diff_versions(self) -> None:
        if self.opened is None:
            self.say("open a series first", error=True)
            return
        self._range_steps = self._range_steps + 1 if self._repeated("diff_versions", self.opened.id) else 1
        self.say("comparing versions...")
        self.range_diff_worker(self.opened, self._range_steps)

    def action_merged(self) -> None:
        self.say("finding merged series in [apply] repo (git patch-id)...")
        self.merged_worker()

    @work(thread=True, exclusive=True, group="take", exit_on_error=False)
    def merged_worker(self) -> None:
        try:
            report = self.session.merged()
        except UserError as e:
            self.post_message(msg.Failed(str(e)))
            return
        self.post_message(msg.SeriesChanged(report.summary(), []))
