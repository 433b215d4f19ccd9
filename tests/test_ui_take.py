"""Take-in keys through Pilot: range-diff of real versions, export, apply, the thank-you note."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import CORPUS, create_store, needs_corpus
from tests.gitrepo import git, msgid, series_repo
from tests.mailgen import mail, mbox, patch_body
from tests.smtpserver import SMTPServer
from tests.uihelpers import wait_for
from triage.config import Settings
from triage.mail.importer import import_paths
from triage.sendconfig import SendSettings
from triage.ui.app import make_app
from triage.ui.keymaps import load_keymap
from triage.ui.screens.composer import ComposerScreen
from triage.ui.widgets.panes import SeriesList, StatusLine
from triage.ui.widgets.viewer import Viewer

MC33 = CORPUS / "threads" / "linux-pwm" / "mc33xs2410-high-side-switch"


def _said(app, text: str) -> bool:
    return any(text in message for _, message in app.query_one(StatusLine).history)


def _text(viewer: Viewer) -> list[str]:
    return ["".join(s.text for s in line) for line in viewer.document.lines]


@needs_corpus
async def test_range_diff_of_two_linux_pwm_versions_shows_the_changed_patch(tmp_path: Path) -> None:
    store = create_store(tmp_path)
    import_paths(store, [MC33 / "v07-PATCH-v7-0-2.mbox", MC33 / "v08-PATCH-v8-0-2.mbox", MC33 / "v09-PATCH-v9-0-2.mbox"])
    app = make_app(store, Settings(), load_keymap("default"))
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_for(pilot, lambda: app.main.opened is not None and app.main.opened.version == 9, "v9 open", tries=150)
        await pilot.press("V")
        viewer = app.query_one("#message", Viewer)
        await wait_for(pilot, lambda: viewer.document.title.startswith("range-diff v8 → v9"), "range-diff shown")
        lines = _text(viewer)
        assert any(line.startswith("2:  ") and " ! 2:  " in line and "MC33XS2410" in line for line in lines)
        assert "    -+/* x in { 1 ... 4 } */" in lines and "    ++/* chan in { 1 ... 4 } */" in lines
        assert "    +Signed-off-by: Dimitri Fedrau <dimitri.fedrau@liebherr.com>" in lines
        await pilot.press("V")  # again: one version further back
        await wait_for(pilot, lambda: viewer.document.title.startswith("range-diff v7 → v9"), "v7 against v9")
        await pilot.press("V")
        await wait_for(pilot, lambda: _said(app, "v9: no version 3 steps back in the store"), "none older")


async def test_export_refuses_an_incomplete_series_until_asked_again(make_store, tmp_path: Path) -> None:
    store = make_store(mbox(
        mail("c@x", "[PATCH 0/3] thing", "cover\n"),
        mail("p1@x", "[PATCH 1/3] thing: a", patch_body(), parent="c@x", minutes=1),
        mail("p3@x", "[PATCH 3/3] thing: c", patch_body(), parent="c@x", minutes=3),
    ))
    app = make_app(store, Settings(export_dir=str(tmp_path / "out")), load_keymap("default"))
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_for(pilot, lambda: app.main.opened is not None, "series open", tries=150)
        await pilot.press("E")
        await wait_for(pilot, lambda: _said(app, "patch(es) 2 of 3 missing") and _said(app, "press E again"), "refused")
        assert not (tmp_path / "out").exists()
        await pilot.press("E")
        await wait_for(pilot, lambda: _said(app, "exported 2 patch(es)"), "forced export")
        (written,) = (tmp_path / "out").glob("*.mbox")
        assert written.name == "thing-v1.mbox" and written.read_bytes().count(b"From git@z") == 2


async def test_apply_then_thank_through_the_composer(tmp_path: Path) -> None:
    repo, base, tip, out = series_repo(tmp_path)
    git(repo, "checkout", "-q", base)
    store = create_store(tmp_path / "store")
    import_paths(store, sorted(out.glob("*.patch")))
    cover = msgid(out / "0000-cover-letter.patch")
    with SMTPServer() as server:
        settings = Settings(
            apply_repo=str(repo), send=SendSettings(method="smtp", host="127.0.0.1", port=server.port, security="none")
        )
        app = make_app(store, settings, load_keymap("default"))
        async with app.run_test(size=(160, 45)) as pilot:
            await wait_for(pilot, lambda: app.main.opened is not None and app.main.opened.id == cover, "series open", tries=150)
            await pilot.press("P")
            await wait_for(pilot, lambda: _said(app, "applied 3 commit(s) to triage/widget-three-changes-v1"), "applied")
            await wait_for(pilot, lambda: app.main.model.get(cover) and app.main.model.get(cover)["state"] == "accepted", "accepted")
            assert git(repo, "rev-parse", "HEAD^{tree}") == git(repo, "rev-parse", f"{tip}^{{tree}}")
            await wait_for(pilot, lambda: app.main.opened is not None, "reopened")
            app.query_one(SeriesList).focus()
            await pilot.press("Y")
            await wait_for(pilot, lambda: isinstance(app.screen, ComposerScreen), "thank-you composer")
            text = app.screen.query_one("TextArea").text
            assert "Subject: Re: [PATCH 0/3] widget: three changes" in text
            assert "This series was applied to triage/widget-three-changes-v1, thanks!" in text
            sha = git(repo, "rev-parse", "HEAD")[:12]
            assert f"[3/3] c: add\n      commit: {sha}" in text
            await pilot.press("ctrl+s")
            await wait_for(pilot, lambda: app.screen.previewing, "preview")
            await pilot.press("ctrl+s")
            await wait_for(pilot, lambda: not isinstance(app.screen, ComposerScreen), "sent")
            (got,) = server.wait()
            assert got.message["In-Reply-To"] == f"<{cover}>"
            assert f"commit: {sha}" in got.message.get_content()
