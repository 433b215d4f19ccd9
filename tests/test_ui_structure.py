"""The screen's structure through Pilot: worker failures are said and logged, a failed open
can be retried, the message log lists the session's news, zoom and the narrow layout."""

from __future__ import annotations

import pytest

from tests.mailgen import mail, mbox, patch_body
from tests.uihelpers import settle, wait_for
from triage.config import Settings
from triage.session import Session
from triage.ui.app import TriageApp
from triage.ui.keymaps import load_keymap
from triage.ui.screens.log import LogScreen
from triage.ui.widgets.panes import PatchList, SeriesList, StatusLine
from triage.ui.widgets.viewer import Viewer


@pytest.fixture
def store(make_store):
    return make_store(mbox(
        mail("c1@x", "[PATCH 0/1] widget: faster", "the cover letter\n"),
        mail("p1@x", "[PATCH 1/1] widget: a", patch_body(), minutes=1, parent="c1@x"),
    ))


class FlakySession(Session):
    """A session whose first opens fail with an error no worker expects (a bug, say)."""

    failures = 1

    def series(self, series_id: str):
        if self.failures:
            self.failures -= 1
            raise RuntimeError("the index went away")
        return super().series(series_id)


def _said(app, text: str) -> bool:
    return any(text in message for _, message in app.query_one(StatusLine).history)


async def test_a_worker_that_raises_is_said_logged_and_the_open_can_be_retried(store) -> None:
    app = TriageApp(FlakySession(store, Settings()), load_keymap("default"))
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_for(pilot, lambda: _said(app, "open failed: RuntimeError: the index went away"), "the failure said")
        error, text = app.query_one(StatusLine).history[-1]
        assert error
        assert any(e.error and "RuntimeError: the index went away" in e.text for e in app.log_entries)
        assert app.main.opening is None and app.main.opened is None  # nothing left waiting
        app.query_one(SeriesList).focus()
        await pilot.press("enter")  # again: it opens now
        await wait_for(pilot, lambda: app.main.opened is not None, "opened on retry")
        await pilot.press("L")
        await settle(pilot)
        assert isinstance(app.screen, LogScreen)
        shown = "\n".join(app.screen.query_one(Viewer).visible_text())
        assert "error the index went away" not in shown and "RuntimeError: the index went away" in shown
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, LogScreen)


async def test_narrow_terminals_read_full_width_and_escape_goes_back(store) -> None:
    app = TriageApp(Session(store, Settings()), load_keymap("default"))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.main.opened is not None and app.main.shown_message == "c1@x", "cover shown")
        assert app.main.has_class("narrow")
        assert not app.query_one("#message").display or not app.query_one("#right").display
        await pilot.press("enter")  # the list: to the patches
        await settle(pilot)
        assert app.focused is app.query_one(PatchList)
        await pilot.press("enter")  # the patch list: the message, full width
        await settle(pilot)
        viewer = app.query_one("#message", Viewer)
        assert app.main.has_class("reading") and viewer.size.width >= 76
        await pilot.press("escape")
        await settle(pilot)
        assert not app.main.has_class("reading") and app.focused is app.query_one(PatchList)


async def test_zoom_shows_the_focused_pane_alone_and_back(store) -> None:
    app = TriageApp(Session(store, Settings()), load_keymap("default"))
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_for(pilot, lambda: app.main.shown_message == "c1@x", "cover shown")
        app.query_one("#message").focus()
        width = app.query_one("#message").size.width
        await pilot.press("z")
        await settle(pilot)
        assert app.query_one("#message").size.width >= 136 > width
        assert not app.query_one(SeriesList).display
        await pilot.press("z")
        await settle(pilot)
        assert app.query_one(SeriesList).display and app.query_one("#message").size.width == width


async def test_wide_terminals_give_the_message_100_columns_and_the_list_its_counts(store) -> None:
    app = TriageApp(Session(store, Settings()), load_keymap("default"))
    async with app.run_test(size=(200, 50)) as pilot:
        await wait_for(pilot, lambda: app.main.shown_message == "c1@x", "cover shown")
        await settle(pilot)
        assert app.query_one("#message").size.width >= 100
        table = app.query_one(SeriesList)
        assert table.content_width() <= table.scrollable_content_region.width
