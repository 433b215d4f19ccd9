"""Faults on the screen: nothing hangs, nothing typed reaches the wrong place (issue 13, classes 12, 13, 15)."""

from __future__ import annotations

import threading
import time

import pytest

from tests.conftest import write_lock_held
from tests.mailgen import mail, mbox, patch_body
from tests.test_hostile_reply import TricklingServer
from tests.uihelpers import settle, wait_for
from triage import paths
from triage import session as session_module
from triage.config import Settings
from triage.sendconfig import SendSettings
from triage.series.service import find_series
from triage.ui.app import make_app
from triage.ui.keymaps import load_keymap
from triage.ui.screens.composer import ComposerScreen
from triage.ui.widgets.panes import PatchList, SeriesList, StatusLine


@pytest.fixture
def store(make_store):
    return make_store(mbox(
        mail("c1@x", "[PATCH 0/1] widget: faster", "the cover letter\n"),
        mail("p1@x", "[PATCH 1/1] widget: a", patch_body(), minutes=1, parent="c1@x"),
    ))


async def _open(pilot, app) -> None:
    await wait_for(pilot, lambda: app.query_one(SeriesList).row_count == 1, "the series")
    await wait_for(pilot, lambda: app.main.opened is not None and app.main.shown_message == "c1@x", "cover shown")


def _said(app, text: str) -> bool:
    return any(text in message for _, message in app.query_one(StatusLine).history)


async def test_keys_typed_before_the_composer_is_up_go_into_the_reply(store, monkeypatch) -> None:
    release = threading.Event()
    real = session_module.start_reply

    def slow_start(*args, **kw):  # the reply is prepared only once the keys are typed
        release.wait(10)
        return real(*args, **kw)

    monkeypatch.setattr(session_module, "start_reply", slow_start)
    app = make_app(store, Settings(), load_keymap("default"))
    async with app.run_test(size=(140, 40)) as pilot:
        await _open(pilot, app)
        await pilot.press("A")
        await pilot.press(*"Looks good, acked.")  # "a" would accept the series, "o" sort, "k" move...
        await pilot.pause()
        release.set()
        await wait_for(pilot, lambda: isinstance(app.screen, ComposerScreen), "composer open")
        text = app.screen.query_one("TextArea").text
        assert "Looks good, acked.\n\nAcked-by: Test Maintainer <maint@example.org>" in text
        await settle(pilot)
    assert find_series(store, "c1@x").state == "new"  # no list command ran


async def test_escape_while_preparing_keeps_the_draft_and_runs_nothing(store, monkeypatch) -> None:
    release = threading.Event()
    real = session_module.start_reply
    monkeypatch.setattr(session_module, "start_reply", lambda *a, **k: (release.wait(10), real(*a, **k))[1])
    app = make_app(store, Settings(), load_keymap("default"))
    async with app.run_test(size=(140, 40)) as pilot:
        await _open(pilot, app)
        await pilot.press("w", "escape", "x")  # x, after the escape, rejects: on the list, as asked
        release.set()
        await wait_for(pilot, lambda: _said(app, "reply prepared and kept"), "draft kept")
        assert not isinstance(app.screen, ComposerScreen)
    assert find_series(store, "c1@x").state == "rejected"


async def test_a_state_change_that_cannot_be_queued_is_an_error_not_a_hang(store) -> None:
    pending = paths.state_dir() / "pending"
    pending.parent.mkdir(parents=True, exist_ok=True)
    pending.write_text("a file where the queue's folder should be")  # as a full disk would refuse it
    app = make_app(store, Settings(), load_keymap("default"))
    async with app.run_test(size=(140, 40)) as pilot:
        await _open(pilot, app)
        app.query_one(SeriesList).focus()
        with write_lock_held(store):
            await pilot.press("a")
            await wait_for(pilot, lambda: _said(app, "could not be queued"), "the queue error", tries=400)
        error, last = app.query_one(StatusLine).history[-1]
        assert error and "could not be queued" in last and str(pending) in last
        assert app.main.model.get("c1@x")["state"] == "new"


async def test_quitting_during_a_send_never_freezes_the_screen(store) -> None:
    server = TricklingServer()
    settings = Settings(send=SendSettings(method="smtp", host="127.0.0.1", port=server.port, security="none",
                                          timeout=30, deadline=20))
    app = make_app(store, settings, load_keymap("default"))
    try:
        async with app.run_test(size=(140, 40)) as pilot:
            await _open(pilot, app)
            app.query_one(PatchList).focus()
            await pilot.press("w")
            await wait_for(pilot, lambda: isinstance(app.screen, ComposerScreen), "composer open")
            await pilot.press("ctrl+s")
            await wait_for(pilot, lambda: app.screen.previewing, "preview")
            await pilot.press("ctrl+s")
            assert app.screen.sending
            t0 = time.monotonic()
            await pilot.press("ctrl+q")
            await pilot.pause()
            assert time.monotonic() - t0 < 2  # the screen answered
            assert _said(app, "triage quits when the transport answers") and not app._exit
            await pilot.press("ctrl+q")  # again: quit now
            await pilot.pause()
            assert app._exit and time.monotonic() - t0 < 4
    finally:
        server.stop.set()
        server.sock.close()
