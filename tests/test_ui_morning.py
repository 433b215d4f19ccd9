"""A morning at 80x24 and at 200x50 (issue 26): every result seen, the place kept, readable
titles, keys that mean one thing, the composer's cursor, a series' replies sent at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.gitrepo import commit, new_repo
from tests.mailgen import mail, mbox, patch_body
from tests.smtpserver import SMTPServer
from tests.uihelpers import settle, wait_for
from triage.config import Settings
from triage.sendconfig import SendSettings
from triage.ui.app import make_app
from triage.ui.keymaps import load_keymap
from triage.ui.screens.composer import ComposerScreen
from triage.ui.widgets.panes import PatchList, SeriesList, StatusLine
from triage.ui.widgets.viewer import Viewer

SIZES = [(80, 24), (200, 50)]
LONG = "pwm: stm32: add support for the low-power timer's complementary outputs and dead time"


@pytest.fixture
def store(make_store):
    return make_store(mbox(
        mail("c@x", f"[PATCH 0/2] {LONG}", "cover\n", to="maint@example.org"),
        mail("p1@x", "[PATCH 1/2] pwm: a", patch_body(), minutes=1, parent="c@x"),
        mail("p2@x", "[PATCH 2/2] pwm: b", patch_body("second"), minutes=2, parent="c@x"),
        mail("o@x", "[PATCH] other: thing", patch_body("o"), minutes=50, sender="Bob <bob@example.net>"),
    ))


def _app(store, settings: Settings | None = None):
    return make_app(store, settings or Settings(), load_keymap("default"))


async def _open(pilot, app, sid: str = "c@x") -> None:
    table = app.query_one(SeriesList)
    await wait_for(pilot, lambda: table.row_count == 2, "the list")
    table.focus()
    table.move_cursor(row=table.get_row_index(sid))
    await wait_for(pilot, lambda: app.main.opened is not None and app.main.opened.id == sid, "opened")


async def _open_patch_1(pilot, app) -> None:
    """The series open, its patch list focused on patch 1, shown."""
    await _open(pilot, app)
    plist = app.query_one(PatchList)
    plist.focus()
    plist.highlighted = 1
    await wait_for(pilot, lambda: app.main.shown_message == "p1@x", "patch 1")


def _toasts(app) -> list[str]:
    return [str(n.message) for n in app._notifications]


@pytest.mark.parametrize("size", SIZES)
async def test_an_actions_result_is_seen_at_any_size(store, tmp_path: Path, size) -> None:
    app = _app(store, Settings(export_dir=str(tmp_path)))
    async with app.run_test(size=size) as pilot:
        await _open(pilot, app)
        await pilot.press("E")  # triage.export
        await wait_for(pilot, lambda: any("exported" in t for t in _toasts(app)), "a notification")
        status = app.query_one(StatusLine)
        assert str(status.render()).startswith("exported")  # the news first, the query after it
        assert any(p.suffix == ".mbox" for p in tmp_path.iterdir())
        await pilot.press("P")  # triage.apply, with no tree: the error is seen too
        await wait_for(pilot, lambda: any("no tree to apply to" in t for t in _toasts(app)), "the error seen")


@pytest.mark.parametrize("size", SIZES)
async def test_the_title_gets_what_the_other_columns_leave(store, size) -> None:
    app = _app(store)
    async with app.run_test(size=size) as pilot:
        table = app.query_one(SeriesList)
        await wait_for(pilot, lambda: table.row_count == 2, "the list")
        await settle(pilot)
        assert table._title_width >= 40  # 33 at 80x24, 22 at 200x50 before
        assert {"state", "title", "patches"} <= {c for c, _ in table._shown()}
        assert table.content_width() <= table.scrollable_content_region.width + 1
        if size[0] >= 180:
            before = table._title_width
            await pilot.press("greater_than_sign", "greater_than_sign")  # triage.grow_list
            await settle(pilot)
            assert table._title_width > before


@pytest.mark.parametrize("size", SIZES)
async def test_marking_a_patch_keeps_the_message_and_the_place(store, size) -> None:
    app = _app(store)
    async with app.run_test(size=size) as pilot:
        await _open(pilot, app)
        plist = app.query_one(PatchList)
        plist.focus()
        plist.highlighted = 2  # patch 2
        await wait_for(pilot, lambda: app.main.shown_message == "p2@x", "patch 2")
        viewer = app.query_one("#message", Viewer)
        viewer.focus()
        await pilot.press("j", "j", "j")
        cursor = viewer.cursor
        await pilot.press("plus")  # triage.patch.reviewed, from the message view
        await wait_for(pilot, lambda: any("patch marked reviewed" in t for t in _toasts(app)), "marked")
        await settle(pilot)
        assert app.main.shown_message == "p2@x" and viewer.cursor == cursor and app.focused is viewer
        await pilot.press("plus")  # again: the mark goes
        await wait_for(pilot, lambda: any("mark cleared" in t for t in _toasts(app)), "cleared")
        assert app.main.shown_message == "p2@x"


async def test_a_key_pressed_while_reading_never_changes_the_state(store) -> None:
    app = _app(store)
    async with app.run_test(size=(160, 40)) as pilot:
        await _open(pilot, app)
        viewer = app.query_one("#message", Viewer)
        viewer.focus()
        for key in ("r", "a", "x", "u", "d", "s", "C", "N"):
            await pilot.press(key)
        await settle(pilot)
        assert app.main.session.series("c@x").state == "new"
        await pilot.press("J")  # triage.next_patch works from the message view
        await wait_for(pilot, lambda: app.main.shown_message == "p1@x", "next patch from the view")
        table = app.query_one(SeriesList)
        table.focus()
        await pilot.press("r")  # in the series list, r sets reviewed
        await wait_for(pilot, lambda: app.main.session.series("c@x").state == "reviewed", "reviewed from the list")


async def test_enter_on_a_patch_puts_the_cursor_in_its_diff(store) -> None:
    app = _app(store)
    async with app.run_test(size=(160, 40)) as pilot:
        await _open_patch_1(pilot, app)
        await pilot.press("enter")  # triage.patches.open
        await settle(pilot)
        viewer = app.query_one("#message", Viewer)
        assert app.focused is viewer
        line = viewer.document.lines[viewer.cursor_line]
        assert "".join(seg.text for seg in line) in (" a", "-b", "+c", " d")  # a line of the diff


@pytest.mark.parametrize("size", SIZES)
async def test_the_footer_shows_the_focused_panes_keys_and_where_help_is(store, size) -> None:
    app = _app(store)
    async with app.run_test(size=size) as pilot:
        await _open(pilot, app)
        footer_keys = {b.binding.key for b in app.screen.active_bindings.values() if b.binding.show}
        assert "question_mark" in footer_keys and "J" in footer_keys
        # The footer is cut at 80 columns: the help key has a place of its own, on screen.
        hint = app.screen.query_one("#helphint")
        assert str(hint.render()) == "^p palette ? all keys" and hint.region.right <= size[0] and hint.region.width > 0
        # Nothing of the footer is drawn over by a docked key (a letter of a cut key showed
        # at the palette key's right at 80 columns).
        footer = app.screen.query_one("Footer")
        assert footer.region.right <= hint.region.x
        assert all(k.region.x >= footer.region.x for k in footer.children)
        assert not any(k.has_class("-command-palette") for k in footer.children)
        app.query_one("#message", Viewer).focus()
        await settle(pilot)
        footer_keys = {b.binding.key for b in app.screen.active_bindings.values() if b.binding.show}
        assert "c" in footer_keys  # the message view's comment key


async def test_the_composer_starts_on_an_empty_line_of_its_own(store) -> None:
    app = _app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        await _open_patch_1(pilot, app)
        await pilot.press("R")
        await wait_for(pilot, lambda: isinstance(app.screen, ComposerScreen), "the composer")
        area = app.screen.query_one("TextArea")
        row = area.cursor_location[0]
        lines = area.text.split("\n")
        assert lines[row] == "" and lines[row - 1] == "" and lines[row + 1] == ""
        assert lines[row + 2].startswith("Reviewed-by:")
        await pilot.press(*"Fine.")
        assert "\nFine.\n\nReviewed-by:" in area.text


async def test_a_failed_apply_says_the_cause_first(store, tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "tree")
    commit(repo, "base", {"other.c": "x\n"})
    app = _app(store, Settings(apply_repo=str(repo)))
    async with app.run_test(size=(120, 40)) as pilot:
        await _open(pilot, app)
        await pilot.press("P")
        await wait_for(pilot, lambda: any("could not apply" in t for t in _toasts(app)), "the failure")
        text = next(e.text for e in app.log_entries if "could not apply" in e.text)
        first, *rest = text.split("\n")
        assert first.startswith("git am -3 could not apply the series:")
        assert rest[-1].startswith("triage aborted it: nothing was applied")
        assert not any("--abort" in r or "--continue" in r or " | " in r for r in rest)


async def test_sending_from_the_queue_keeps_the_queue(store) -> None:
    with SMTPServer() as server:
        app = _app(store, Settings(send=SendSettings(method="smtp", host="127.0.0.1", port=server.port, security="none")))
        async with app.run_test(size=(160, 40)) as pilot:
            await wait_for(pilot, lambda: app.query_one(SeriesList).row_count == 2, "the list")
            await pilot.press("Q")  # triage.queue
            await wait_for(pilot, lambda: app.main.in_queue and app.main.opened is not None, "the queue")
            await pilot.press("w")
            await wait_for(pilot, lambda: isinstance(app.screen, ComposerScreen), "the composer")
            await pilot.press(*"thanks", "ctrl+s")
            await settle(pilot)
            await pilot.press("ctrl+s")
            server.wait()
            await wait_for(pilot, lambda: not isinstance(app.screen, ComposerScreen), "sent")
            await settle(pilot)
            # Still the queue (not the whole list); the series answered by me, the newest word
            # mine, has left it.
            assert app.main.in_queue and "Queue" in str(app.query_one(SeriesList).border_title)
            assert "c@x" not in app.query_one(SeriesList).row_ids()


async def test_a_series_replies_go_together_behind_one_preview(store) -> None:
    from triage.ui.screens.sendall import SendSeriesScreen

    with SMTPServer() as server:
        app = _app(store, Settings(send=SendSettings(method="smtp", host="127.0.0.1", port=server.port, security="none")))
        async with app.run_test(size=(160, 45)) as pilot:
            await _open(pilot, app)
            plist = app.query_one(PatchList)
            for n in (1, 2):  # a review of each patch, kept as a draft
                plist.focus()
                plist.highlighted = n
                await wait_for(pilot, lambda n=n: app.main.shown_message == f"p{n}@x", f"patch {n}")
                await pilot.press("R")
                await wait_for(pilot, lambda: isinstance(app.screen, ComposerScreen), "composer")
                await pilot.press("escape")  # triage.composer.close: kept
                await wait_for(pilot, lambda: not isinstance(app.screen, ComposerScreen), "closed")
            await pilot.press("ctrl+s")  # triage.send_series
            await wait_for(pilot, lambda: isinstance(app.screen, SendSeriesScreen), "one preview")
            preview = app.screen.query_one(Viewer).visible_text()
            assert sum("── reply" in line for line in preview) == 2
            await pilot.press("ctrl+s")  # triage.send_series.send
            got = server.wait(count=2)
            assert sorted(m.message["In-Reply-To"] for m in got) == ["<p1@x>", "<p2@x>"]
            await wait_for(pilot, lambda: any("sent 2 of 2 replies" in t for t in _toasts(app)), "said")
            assert app.main.session.drafts.all()[0] == []


@pytest.mark.parametrize("size", SIZES)
async def test_the_queue_shows_titles_first_and_says_the_reasons(store, size) -> None:
    """At 80 columns the queue's reasons took the whole title cell ("‹to-me, new-version,
    watched› pwm: loo…"): the title comes first, the reasons after it and in the status line."""
    app = _app(store)
    async with app.run_test(size=size) as pilot:
        table = app.query_one(SeriesList)
        await wait_for(pilot, lambda: table.row_count == 2, "the list")
        await pilot.press("Q")  # triage.queue
        await wait_for(pilot, lambda: app.main.in_queue and app.main.opened is not None, "the queue")
        await settle(pilot)
        assert table.row_ids() == ["c@x"]
        cell = str(table.cell("c@x", "title"))
        assert cell.startswith(LONG[: min(30, table._title_width - 1)])
        if size[0] >= 180:
            assert cell.rstrip().endswith("‹to-me›")
        status = str(app.query_one(StatusLine).render())
        assert status.startswith("needs me: to-me · v1")  # seen first, at any width


@pytest.mark.parametrize("size", SIZES)
async def test_a_long_patch_title_gives_way_to_its_marks(make_store, size) -> None:
    """A patch line longer than the pane wrapped, and its wrapped part (the marks, "[1]")
    began the next line as if it were another patch: the title is cut instead."""
    long_patch = "pwm: tegra: Simplify using devm_reset_control_get_exclusive_deasserted() and friends in probe"
    store = make_store(mbox(
        mail("c@x", "[PATCH 0/2] pwm: tegra: cleanups", "cover\n"),
        mail("p1@x", f"[PATCH 1/2] {long_patch}", patch_body(), minutes=1, parent="c@x"),
        mail("p2@x", "[PATCH 2/2] pwm: b", patch_body("second"), minutes=2, parent="c@x"),
        mail("r@x", f"Re: [PATCH 1/2] {long_patch}", "Reviewed-by: Bob <bob@example.net>\n", minutes=3, parent="p1@x",
             sender="Bob <bob@example.net>"),
    ))
    app = _app(store)
    async with app.run_test(size=size) as pilot:
        table = app.query_one(SeriesList)
        await wait_for(pilot, lambda: table.row_count == 1, "the list")
        table.focus()
        await wait_for(pilot, lambda: app.main.opened is not None, "opened")
        plist = app.query_one(PatchList)
        await settle(pilot)
        assert plist.option_count == 3 and plist.virtual_size.height == 3  # one line each
        line = str(plist.get_option_at_index(1).prompt)
        assert line.startswith("  1/2 pwm: tegra: Simplify") and line.endswith("  R  [1]")
        assert "…" in line and len(line) <= plist.size.width
        width = plist.size.width
        await pilot.resize_terminal(size[0] + 12, size[1])  # wider: more of the title, the marks kept
        await settle(pilot)
        assert plist.size.width > width
        wider = str(plist.get_option_at_index(1).prompt)
        assert len(wider) > len(line) and wider.endswith("  R  [1]") and len(wider) <= plist.size.width


async def test_the_palette_shows_descriptions_as_written(store) -> None:
    """The palette read its descriptions as markup: "Share states with [sync] remote" lost its
    "[sync]" (and "[fetch]", "[apply]" theirs)."""
    from textual.command import CommandList

    app = _app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.query_one(SeriesList).row_count == 2, "the list")
        await pilot.press("ctrl+p", *"notmuch-git")
        await settle(pilot)

        def prompts() -> list[str]:
            found = app.screen.query(CommandList)
            return [str(o.prompt) for o in found.first().options] if found else []

        await wait_for(pilot, lambda: any("notmuch-git" in p for p in prompts()), "the sync command")
        assert any("Share states with [sync] remote through notmuch-git" in p for p in prompts()), prompts()
