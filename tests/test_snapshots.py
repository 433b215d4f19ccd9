"""Snapshots of the main screen, a diff and the help screen on the demo store (fixed dates, fixed size)."""

from __future__ import annotations

import pytest

from tests.uihelpers import settle, wait_for
from triage.config import Settings
from triage.demo.build import demo_config
from triage.mail.store import Store, StoreConfig
from triage.ui.app import make_app
from triage.ui.keymaps import load_keymap

SIZE = (140, 40)


@pytest.fixture
def demo_app(isolated_env):
    store = Store(StoreConfig(config_path=str(demo_config())))
    return make_app(store, Settings(), load_keymap("default"))


async def _loaded(pilot) -> None:
    app = pilot.app
    await wait_for(pilot, lambda: app.main.shown_message is not None and app.main.opening is None, "first message shown")
    await settle(pilot)


def test_main_screen(snap_compare, demo_app) -> None:
    assert snap_compare(demo_app, terminal_size=SIZE, run_before=_loaded)


def test_diff_view(snap_compare, demo_app) -> None:
    async def before(pilot) -> None:
        await _loaded(pilot)
        app = pilot.app
        table = app.query_one("SeriesList")
        table.move_cursor(row=table.get_row_index("gpio-sim-v2-0@demo.example.com"))
        await wait_for(pilot, lambda: app.main.opened is not None and app.main.opened.id.startswith("gpio-sim-v2"), "open")
        await pilot.press("J", "J")
        await wait_for(pilot, lambda: app.main.shown_message == "gpio-sim-v2-2@demo.example.com", "patch 2")
        await wait_for(pilot, lambda: "patch 2" in str(app.query_one("#followups").border_title), "its follow-ups")
        await settle(pilot)

    assert snap_compare(demo_app, terminal_size=SIZE, run_before=before)


def test_help_screen(snap_compare, demo_app) -> None:
    async def before(pilot) -> None:
        await _loaded(pilot)
        await pilot.press("question_mark")
        await settle(pilot)

    assert snap_compare(demo_app, terminal_size=SIZE, run_before=before)
