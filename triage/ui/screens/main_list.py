"""The main screen's series list: loading it (and the queue), opening a series, searching,
filtering, sorting, and reading the list again after a change without losing the place.
"""

from __future__ import annotations

import contextlib

from rich.text import Text
from textual import on, work
from textual.worker import get_current_worker

from triage.cache.db import BuildStopped
from triage.errors import UserError
from triage.ui import messages as msg
from triage.ui.listmodel import MemoryRows
from triage.ui.screens.dialogs import (
    QueryDialog,
)
from triage.ui.screens.main_base import MainBase
from triage.ui.widgets.panes import PatchList, SeriesList
from triage.ui.widgets.viewer import Viewer


class ListPart(MainBase):
    """The series list and the queue (see the module)."""

    @work(thread=True, exclusive=True, group="load", exit_on_error=False)
    def load(self, query: str, *, cached_first: bool = False, then_queue: bool = False) -> None:
        """Refresh the index and show the query's list. ``cached_first``: show the list the
        index holds at once, and the refreshed one when the refresh is done. ``then_queue``:
        show the queue once the index is up to date (``[queue] start``); a first build shows
        its list meanwhile, batch by batch, as without it."""
        worker = get_current_worker()
        sort, state = self.model.sort, self.model.state_filter
        shown: list[bool] = []

        def built() -> None:
            # A first build shows the list before it writes the index (tenths of a second on
            # a large store): the list is the same either way.
            rows = self.session.built_rows()
            if not worker.is_cancelled:
                self.post_message(msg.SeriesLoaded(MemoryRows(rows, sort=sort, state=state), query, "index built"))
                shown.append(True)

        def batch(done: int, total: int) -> None:
            # A batched first build (a large store): the newest series as soon as they are
            # grouped, each batch adding older ones; the list stays usable meanwhile. A load
            # cancelled (the app quits, another load starts) stops it here, not at its end.
            if worker.is_cancelled:
                raise BuildStopped(f"the first build of the series index stopped at {done} of {total} messages")
            view = self.session.index.partial_view(sort=sort, state=state)
            if view is not None and not worker.is_cancelled:
                self.post_message(msg.SeriesLoaded(view, query, f"building the index: {done} of {total} messages"))

        try:
            whole = (query.strip() or "*") == "*"
            if cached_first and whole and self.session.index.has_list():
                self.post_message(msg.SeriesLoaded(self.session.list_view(query, sort=sort, state=state), query,
                                                   "cached; checking for new mail"))

            def progress(text: str) -> None:
                self.post_message(msg.Progress(text + "..."))

            refresh = self.session.refresh(progress=progress, built=built if whole else None,
                                           batch=batch if whole else None)
            if then_queue:
                items = self.session.todo()  # the index is up to date: no second refresh's work
                if not worker.is_cancelled:
                    self.post_message(msg.QueueLoaded([i.to_json() for i in items]))
                return
            if shown:
                return  # the index is written now; the list on screen is its list
            view = self.session.list_view(query, sort=sort, state=state)
        except UserError as e:
            if not worker.is_cancelled:  # a stopped first build is no failure: the next load builds it
                self.post_message(msg.LoadFailed(query, str(e)))
            return
        if not worker.is_cancelled:
            how = {"cold": "index built", "incremental": f"{refresh.changed} changed", "warm": "up to date"}[refresh.kind]
            self.post_message(msg.SeriesLoaded(view, query, how))
        # Senders a list rewrote, indexed while DNS did not answer: checked again now, after the
        # list is on screen; those their list vouches for regroup their threads.
        try:
            vouched = self.session.recheck_senders()
        except UserError as e:
            self.post_message(msg.Failed(str(e)))
            return
        if vouched and not worker.is_cancelled:
            self.post_message(msg.SeriesChanged(f"{vouched} rewritten sender(s) now vouched for by their list", []))

    @work(thread=True, exclusive=True, group="load", exit_on_error=False)
    def load_queue(self) -> None:
        try:
            items = self.session.todo()
        except UserError as e:
            self.post_message(msg.Failed(str(e)))
            return
        self.post_message(msg.QueueLoaded([i.to_json() for i in items]))

    @on(msg.SeriesLoaded)
    def _loaded(self, event: msg.SeriesLoaded) -> None:
        self.in_queue = False
        self.model.set_source(event.source)
        self.model.query = event.query
        self._refill()
        self.post_message(msg.Progress(f"{event.source.count()} series ({event.how})"))
        self._reopen_after_load()

    def _reopen_after_load(self) -> None:
        table = self.query_one(SeriesList)
        reopen, self._reopen = self._reopen, None
        if reopen is not None and self.model.get(reopen) is not None:
            # After a send or an apply, the series worked on stays open, wherever the reload put it.
            with contextlib.suppress(Exception):
                table.move_cursor(row=table.get_row_index(reopen), animate=False)
        elif reopen is not None:
            self._reshow = None  # it left the list (the queue): nothing to show again
        if table.row_count and self.opened is None:
            sid = table.current_id
            if sid:
                self._open(sid)

    @on(msg.LoadFailed)
    def _load_failed(self, event: msg.LoadFailed) -> None:
        table = self.query_one(SeriesList)
        table.border_title = Text(f"Series ({table.row_count})")
        self.post_message(msg.Failed(event.text))

    def _refill(self, keep: str | None = None) -> None:
        table = self.query_one(SeriesList)
        keep = keep or table.current_id
        table.reload(keep=keep)
        self._show_context(table.row_count)
        table.border_title = Text(f"Series ({table.row_count})")

    def _show_context(self, shown: int | None = None) -> None:
        if shown is None:
            shown = self.query_one(SeriesList).row_count
        flt = f" state={self.model.state_filter}" if self.model.state_filter else ""
        summary = " ".join(f"{k}:{v}" for k, v in self.model.counts().items() if v)
        self.status.set_context(f"query: {self.model.query}{flt} sort: {self.model.sort} │ {shown} shown │ {summary}")

    @work(thread=True, exclusive=True, group="open", exit_on_error=False)
    def open_series(self, series_id: str) -> None:
        worker = get_current_worker()
        try:
            s = self.session.series(series_id)
        except UserError as e:
            self.post_message(msg.OpenFailed(series_id, str(e)))
            return
        if not worker.is_cancelled:
            self.post_message(msg.SeriesOpened(s))

    def _open(self, series_id: str) -> None:
        """Open a series unless it is open or being opened (a late duplicate would reset the view)."""
        if series_id == self.opening or (self.opened is not None and self.opened.id == series_id):
            return
        self.opening = series_id
        self.open_series(series_id)

    def goto_series(self, series_id: str) -> None:
        """Open another version of the open series, unfolding the versions to show its row."""
        row = self.model.get(series_id)
        if row is None:
            self.say("that version is not in this list")
            return
        table = self.query_one(SeriesList)
        if not self.model.is_shown(series_id):
            self.model.toggle_versions(series_id)
        self._refill(keep=series_id)
        if table.current_id != series_id:
            self.opened = None
        self._open(series_id)
        table.focus()

    @on(msg.OpenFailed)
    def _open_failed(self, event: msg.OpenFailed) -> None:
        if self.opening == event.series_id:
            self.opening = None  # Enter tries again
        self.post_message(msg.Failed(event.text))

    @on(SeriesList.Highlighted)
    def _highlighted(self, event: SeriesList.Highlighted) -> None:
        # News the cursor has already left behind is stale.
        if event.series_id == self.query_one(SeriesList).current_id:
            self._open(event.series_id)

    @on(SeriesList.Selected)
    def _selected(self, event: SeriesList.Selected) -> None:
        if self.opening is None and self.opened is not None and self.opened.id != event.series_id:
            self.opened = None
        self._open(event.series_id)
        self.query_one(PatchList).focus()

    @on(msg.QueueLoaded)
    def _queue_loaded(self, event: msg.QueueLoaded) -> None:
        self.in_queue = True
        self.model.set_rows(event.rows)
        self._refill()
        self.query_one(SeriesList).border_title = Text(f"Queue: what needs me ({len(event.rows)})")
        if self._reopen is None:
            self.post_message(msg.Progress(f"{len(event.rows)} series need you; {self.triage.key_name('triage.queue')} "
                                           "shows every series again"))
        self._reopen_after_load()
        if event.rows:
            self.opened = None
            self._open(event.rows[0]["id"])

    @on(msg.SeriesChanged)
    def _series_changed(self, event: msg.SeriesChanged) -> None:
        self._repeat = None  # a second press applies again only when asked again
        if event.text:
            self.post_message(msg.Failed("\n".join([event.text, *event.problems])) if event.problems
                              else msg.Result(event.text))
        self._reload_keeping_open()

    def _reload_keeping_open(self) -> None:
        """Read the list again after a change, keeping the place: the queue stays the queue,
        the open series stays open, and the message shown stays shown where it was read."""
        if self.opened is not None:
            self._reopen = self.opened.id
            viewer = self.query_one("#message", Viewer)
            self._reshow = (self.shown_message, viewer.scroll_offset.y, viewer.cursor)
        self.opened = None
        if self.in_queue:
            self.load_queue()
        else:
            self.load(self.model.query)

    def action_search(self) -> None:
        def done(query: str | None) -> None:
            if query is not None:
                self.opened = self.opening = None
                self.say(f"searching: {query}")
                self.load(query)

        self.app.push_screen(QueryDialog(self.model.query), done)

    def action_clear_search(self) -> None:
        self.opened = self.opening = None
        self.load("*")

    def action_reload(self) -> None:
        self.load(self.model.query)

    def action_filter_state(self) -> None:
        state = self.model.cycle_state_filter()
        self._refill()
        self.say(f"showing {'all states' if state is None else 'state ' + state}")

    def action_cycle_sort(self) -> None:
        self.say(f"sorted by {self.model.cycle_sort()}")
        self._refill()

    def action_queue(self) -> None:
        if self.in_queue:
            self.in_queue = False
            self.opened = None
            self.load(self.model.query)
            return
        self.say("finding what needs you...")
        self.load_queue()

    def action_show_versions(self) -> None:
        sid = self._current_series_id()
        if sid is None:
            return
        row = self.model.get(sid)
        if not row or not (row["previous_versions"] or row["newer_versions"]):
            self.say("this series has no other versions")
            return
        shown = self.model.toggle_versions(sid)
        self._refill(keep=sid)
        self.say("older versions shown" if shown else "older versions folded")
