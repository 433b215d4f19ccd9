"""The main screen's fetch and sync: one at a time, each stoppable with Escape."""

from __future__ import annotations

import threading

from textual import on, work

from triage.errors import UserError
from triage.ui import messages as msg
from triage.ui.screens.main_base import MainBase


class RemotePart(MainBase):
    """The main screen's fetch and sync: one at a time, each stoppable with Escape."""

    def action_fetch(self) -> None:
        cancel = self._remote_start()
        if cancel is not None:
            self.say(f"fetching new mail with lei... ({self.triage.key_name('triage.back')} stops)")
            self.fetch_worker(cancel)

    def action_sync(self) -> None:
        cancel = self._remote_start()
        if cancel is not None:
            self.say(f"sharing states through notmuch-git... ({self.triage.key_name('triage.back')} stops)")
            self.sync_worker(cancel)

    @work(thread=True, exclusive=True, group="fetch", exit_on_error=False)
    def fetch_worker(self, cancel: threading.Event) -> None:
        try:
            report = self.session.fetch(progress=self._progress_from_worker, cancel=cancel)
        except UserError as e:
            self.post_message(msg.Failed(str(e)))
            return
        finally:
            self.post_message(msg.RemoteDone())
        problems = [f"{r.query!r}: {r.error}" for r in report.errors]
        if report.indexing_error:
            problems.append(f"{report.indexing_error} (indexed on the next fetch or start)")
        self.post_message(msg.SeriesChanged(report.counts(), problems))

    @work(thread=True, exclusive=True, group="sync", exit_on_error=False)
    def sync_worker(self, cancel: threading.Event) -> None:
        try:
            report = self.session.sync(progress=self._progress_from_worker, cancel=cancel)
            problems = self.session.conflict_lines(report)
        except UserError as e:
            self.post_message(msg.Failed(str(e)))
            return
        finally:
            self.post_message(msg.RemoteDone())
        self.post_message(msg.SeriesChanged(report.outcome(), problems + report.notes
                                            + [f"skipped: {b}" for b in report.skipped]))

    @on(msg.RemoteDone)
    def _remote_done(self) -> None:
        self._remote_cancel = None

    def _remote_start(self) -> threading.Event | None:
        if self._remote_cancel is not None:
            self.say("a fetch or sync is running (escape stops it)", error=True)
            return None
        self._remote_cancel = threading.Event()
        return self._remote_cancel
