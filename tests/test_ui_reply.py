"""The composer through Pilot: review key, typing, preview, send to a real SMTP server, drafts kept."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.mailgen import mail, mbox, patch_body
from tests.smtpserver import SMTPServer, free_port
from tests.uihelpers import settle, wait_for
from triage.config import Settings
from triage.reply.draft import DraftStore
from triage.sendconfig import SendSettings
from triage.ui.app import make_app
from triage.ui.keymaps import load_keymap
from triage.ui.screens.composer import ComposerScreen
from triage.ui.widgets.panes import PatchList, SeriesList, StatusLine
from triage.ui.widgets.viewer import Viewer

BOB = "Bob Reviewer <bob@example.net>"


@pytest.fixture
def store(make_store):
    return make_store(
        mbox(
            mail("c1@x", "[PATCH 0/2] widget: [bold]faster[/bold]", "the cover letter\n", cc=BOB),
            mail("p1@x", "[PATCH 1/2] widget: a", patch_body(), minutes=1, parent="c1@x", cc=BOB),
            mail("p2@x", "[PATCH 2/2] widget: b", patch_body("second"), minutes=2, parent="c1@x", cc=BOB),
        )
    )


def _settings(port: int) -> Settings:
    return Settings(send=SendSettings(method="smtp", host="127.0.0.1", port=port, security="none"))


async def _open(pilot, app) -> None:
    await wait_for(pilot, lambda: app.query_one(SeriesList).row_count == 1, "the series", tries=100)
    await wait_for(pilot, lambda: app.main.opened is not None and app.main.shown_message == "c1@x", "cover shown")


def _said(app, text: str) -> bool:
    return any(text in message for _, message in app.query_one(StatusLine).history)


async def _compose(pilot, app, key: str) -> None:
    """Press a reply key and wait for the composer."""
    await pilot.press(key)
    await wait_for(pilot, lambda: isinstance(app.screen, ComposerScreen), "composer open")


def _composer(app) -> ComposerScreen:
    assert isinstance(app.screen, ComposerScreen), app.screen
    return app.screen


async def test_review_key_composes_previews_and_sends_a_patch_reply(store) -> None:
    with SMTPServer() as server:
        app = make_app(store, _settings(server.port), load_keymap("default"))
        async with app.run_test(size=(140, 40)) as pilot:
            await _open(pilot, app)
            app.query_one(PatchList).focus()
            await pilot.press("J")  # patch 1
            await wait_for(pilot, lambda: app.main.shown_message == "p1@x", "patch 1 shown")
            await _compose(pilot, app, "R")
            composer = _composer(app)
            text = composer.query_one("TextArea").text
            assert text.startswith("From: Test Maintainer <maint@example.org>\nTo: Alice Author <alice@example.com>\n")
            assert "Subject: Re: [PATCH 1/2] widget: a\n" in text and text.rstrip().endswith(
                "Reviewed-by: Test Maintainer <maint@example.org>"
            )
            # Keys that mean something on the main screen are text here.
            await pilot.press("home", "q", "r", "x", "enter")
            await settle(pilot)
            assert isinstance(app.screen, ComposerScreen) and "qrx\n" in composer.query_one("TextArea").text
            await pilot.press("ctrl+s")
            await wait_for(pilot, lambda: composer.previewing, "preview")
            preview = "\n".join("".join(s.text for s in line) for line in composer.query_one("#preview", Viewer).document.lines)
            assert "In-Reply-To: <p1@x>" in preview and "References: <c1@x> <p1@x>" in preview
            assert "Message-ID: <" in preview and "Cc: list@example.org, Bob Reviewer <bob@example.net>" in preview
            await pilot.press("escape")  # back to editing, nothing sent
            await settle(pilot)
            assert not composer.previewing and not server.received
            await pilot.press("ctrl+s")
            await wait_for(pilot, lambda: composer.previewing, "preview again")
            await pilot.press("ctrl+s")
            await wait_for(pilot, lambda: not isinstance(app.screen, ComposerScreen), "composer closed after send")
            (got,) = server.wait()
            assert got.message["In-Reply-To"] == "<p1@x>"
            assert "Reviewed-by: Test Maintainer <maint@example.org>" in got.message.get_content()
            assert "qrx" in got.message.get_content()
            await wait_for(pilot, lambda: _said(app, "series → under-review"), "status says sent")
            # The sent reply is filed and counted: the series shows the review.
            await wait_for(pilot, lambda: app.main.opened is not None and any(
                t.name == "Reviewed-by" for t in app.main.opened.patches[0].trailers), "reply counted")
        assert DraftStore().all() == ([], [])


async def test_refused_connection_keeps_the_draft_and_stays_in_the_composer(store) -> None:
    app = make_app(store, _settings(free_port()), load_keymap("default"))
    async with app.run_test(size=(140, 40)) as pilot:
        await _open(pilot, app)
        await _compose(pilot, app, "A")  # Acked-by on the cover letter
        composer = _composer(app)
        assert "Subject: Re: [PATCH 0/2] widget: [bold]faster[/bold]" in composer.query_one("TextArea").text
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: composer.previewing, "preview")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: "connection refused" in str(composer.query_one("#composer-hint").render()), "error")
        assert isinstance(app.screen, ComposerScreen) and not composer.previewing
        assert _said(app, "connection refused")
        (draft,), _ = DraftStore().all()
        assert "Acked-by: Test Maintainer <maint@example.org>" in draft.text


async def test_draft_is_saved_while_typing_and_offered_after_quit(store) -> None:
    app = make_app(store, Settings(), load_keymap("default"))
    async with app.run_test(size=(140, 40)) as pilot:
        await _open(pilot, app)
        await _compose(pilot, app, "w")
        await pilot.press("end", *"looks good")
        await wait_for(pilot, lambda: "looks good" in (DraftStore().all()[0] or [None])[0].text, "saved while typing")
        await pilot.press("escape")  # close: the draft stays
        await settle(pilot)
        assert not isinstance(app.screen, ComposerScreen)
    app = make_app(store, Settings(), load_keymap("default"))
    async with app.run_test(size=(140, 40)) as pilot:
        await _open(pilot, app)
        await wait_for(pilot, lambda: _said(app, "1 unsent draft(s): D lists them"), "offered")
        await pilot.press("D")
        await settle(pilot)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ComposerScreen), "resumed")
        assert "looks good" in _composer(app).query_one("TextArea").text
        await pilot.press("ctrl+g", "ctrl+g")  # discard, twice
        await settle(pilot)
        assert DraftStore().all() == ([], [])


async def test_ctrl_q_in_the_composer_quits_and_keeps_the_draft(store) -> None:
    app = make_app(store, Settings(), load_keymap("default"))
    async with app.run_test(size=(140, 40)) as pilot:
        await _open(pilot, app)
        await _compose(pilot, app, "R")
        await pilot.press("end", *"q is text here")
        assert app.is_running and isinstance(app.screen, ComposerScreen)  # "q" did not quit
        await pilot.press("ctrl+q")
        await wait_for(pilot, lambda: not app.is_running, "quit")
    (draft,), _ = DraftStore().all()
    assert "q is text here" in draft.text and "Reviewed-by:" in draft.text


async def test_external_editor_changes_come_back(store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    editor = tmp_path / "editor.py"
    editor.write_text("import sys; p = sys.argv[1]; t = open(p).read(); open(p, 'w').write(t + 'written in the editor\\n')\n")
    monkeypatch.setenv("EDITOR", f"{sys.executable} {editor}")
    monkeypatch.delenv("VISUAL", raising=False)
    app = make_app(store, Settings(), load_keymap("default"))
    async with app.run_test(size=(140, 40)) as pilot:
        await _open(pilot, app)
        await _compose(pilot, app, "T")
        await pilot.press("ctrl+o")
        await settle(pilot)
        composer = _composer(app)
        assert composer.query_one("TextArea").text.endswith("written in the editor\n")
        await wait_for(pilot, lambda: "written in the editor" in DraftStore().all()[0][0].text, "saved")
        assert not list(DraftStore().dir.glob("*.eml"))  # the editor's file is cleaned up


async def test_a_bad_header_line_is_named_and_nothing_is_sent(store) -> None:
    with SMTPServer() as server:
        app = make_app(store, _settings(server.port), load_keymap("default"))
        async with app.run_test(size=(140, 40)) as pilot:
            await _open(pilot, app)
            await _compose(pilot, app, "w")
            composer = _composer(app)
            composer.query_one("TextArea").load_text("From: a@b.c\nBcc: x@y.z\nX-Evil: yes\n\nbody\n")
            await pilot.press("ctrl+s")
            await wait_for(pilot, lambda: _said(app, "line 3: 'X-Evil: yes' is not one of"), "error")
            assert not composer.previewing and not server.received
