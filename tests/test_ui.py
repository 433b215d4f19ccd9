"""The screen driven through Textual's Pilot against real notmuch databases."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.mailgen import DIFF, mail, mbox, patch_body
from tests.uihelpers import settle, wait_for
from triage.config import Settings
from triage.ui.app import make_app
from triage.ui.keymaps import load_keymap
from triage.ui.widgets.panes import PatchList, SeriesList, StatusLine
from triage.ui.widgets.viewer import Viewer

BOB = "Bob Reviewer <bob@example.net>"


def _big_patch(lines: int, files: int = 1) -> str:
    out = ["big change", "", "Signed-off-by: Alice Author <alice@example.com>", "---"]
    per = max(1, lines // files)
    for f in range(files):
        out += [f"diff --git a/f{f}.c b/f{f}.c", "index 1111111..2222222 100644", f"--- a/f{f}.c", f"+++ b/f{f}.c"]
        for h in range(0, per, 50):
            out.append(f"@@ -{h + 1},0 +{h + 1},50 @@")
            out += [f"+line {f}.{h + i}" for i in range(50)]
    return "\n".join(out) + "\n"


def _series() -> list[bytes]:
    return [
        mail("c1@x", "[PATCH 0/2] widget", "v1 cover\n"),
        mail("p1-1@x", "[PATCH 1/2] widget: a", patch_body(), minutes=1, parent="c1@x"),
        mail("p1-2@x", "[PATCH 2/2] widget: b", patch_body(), minutes=2, parent="c1@x"),
        mail("c2@x", "[PATCH v2 0/2] widget", "the cover letter of v2\n", minutes=100),
        mail("p2-1@x", "[PATCH v2 1/2] widget: a", patch_body("first patch"), minutes=101, parent="c2@x"),
        mail("p2-2@x", "[PATCH v2 2/2] widget: b", _big_patch(400, files=3), minutes=102, parent="c2@x"),
        mail("r2@x", "Re: [PATCH v2 1/2] widget: a", "> quoted\n\nReviewed-by: Bob Reviewer <bob@example.net>\n",
             minutes=110, parent="p2-1@x", sender=BOB),
        mail("h1@x", "[PATCH] x: [bold red]boom[/] \x1b[31mred", "[b]body[/b] \x1b]0;t\x07\n\n" + DIFF.replace("---\n", "---\n", 1),
             minutes=200, sender="Eve <eve@example.org>"),
        mail("i1@x", "[PATCH 0/3] incomplete", "cover\n", minutes=300, sender="Dan <dan@example.org>"),
        mail("i2@x", "[PATCH 1/3] incomplete: a", patch_body(), minutes=301, parent="i1@x", sender="Dan <dan@example.org>"),
    ]


@pytest.fixture
def store(make_store):
    return make_store(mbox(*_series()))


def _app(store, keymap: str = "default", user_file: Path | None = None):
    return make_app(store, Settings(), load_keymap(keymap, user_file=user_file))


def _tags(store, mid: str) -> set[str]:
    with store.read() as db:
        return set(db.find(mid).tags)


def _row_titles(app) -> list[str]:
    table = app.query_one(SeriesList)
    return [str(table.row_cells(i)[2]) for i in range(table.row_count)]


async def _select(pilot, app, series_id: str) -> None:
    table = app.query_one(SeriesList)
    table.move_cursor(row=table.get_row_index(series_id))
    await wait_for(pilot, lambda: app.main.opened is not None and app.main.opened.id == series_id, f"open {series_id}")
    await wait_for(pilot, lambda: app.main.shown_message is not None, "message shown")


async def test_a_first_start_shows_the_list_then_saves_the_index(store) -> None:
    app = _app(store)
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_for(pilot, lambda: app.query_one(SeriesList).row_count == 3, "3 series", tries=100)
        await wait_for(pilot, lambda: app.main.opened is not None, "first series opened")
        assert app.session.index.path.exists()
        assert app.session.index.refresh().kind == "warm"  # the index was written, and is current
        saved = [r for r in app.session.index.series(light=True) if not r["newer_versions"]]
        assert saved == app.main.model.rows  # the list shown is the saved one


async def test_list_shows_current_versions_with_literal_markup(store) -> None:
    app = _app(store)
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_for(pilot, lambda: app.query_one(SeriesList).row_count == 3, "3 series", tries=100)
        titles = _row_titles(app)
        assert titles[1].startswith("x: [bold red]boom[/] ") and "\x1b" not in titles[1]
        assert any("widget (+1 older)" in t for t in titles)
        received = app.query_one(SeriesList).cell("i1@x", "patches")
        assert str(received) == "1/3" and "red" in str(received.style)
        assert "3 shown" in app.query_one(StatusLine).left


async def test_open_series_shows_cover_patches_and_followups(store) -> None:
    app = _app(store)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        await _select(pilot, app, "c2@x")
        plist = app.query_one(PatchList)
        assert [e[0] for e in plist.entries] == ["c2@x", "p2-1@x", "p2-2@x"]
        viewer = app.query_one("#message", Viewer)
        assert any("the cover letter of v2" in line for line in viewer.visible_text())
        await pilot.press("J")
        await wait_for(pilot, lambda: app.main.shown_message == "p2-1@x", "patch 1")
        text = viewer.visible_text()
        assert any(line.startswith("━━ f.c +1 -1") for line in text) and any(line == "+c" for line in text)
        follow = app.query_one("#followups", Viewer).visible_text()
        assert any("Reviewed-by: Bob Reviewer" in line for line in follow)


async def test_file_and_hunk_navigation_and_file_list(store) -> None:
    app = _app(store)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        await _select(pilot, app, "c2@x")
        await pilot.press("J", "J")
        await wait_for(pilot, lambda: app.main.shown_message == "p2-2@x", "patch 2")
        viewer = app.query_one("#message", Viewer)
        files = viewer.document.files
        assert [f[1] for f in files] == ["f0.c", "f1.c", "f2.c"]
        await pilot.press("right_square_bracket")
        await settle(pilot)
        assert int(viewer.scroll_offset.y) == files[0][0]
        await pilot.press("right_square_bracket")
        await settle(pilot)
        assert int(viewer.scroll_offset.y) == files[1][0]
        await pilot.press("right_curly_bracket")
        await settle(pilot)
        assert int(viewer.scroll_offset.y) in viewer.document.hunks and viewer.scroll_offset.y > files[1][0]
        await pilot.press("left_square_bracket")
        await settle(pilot)
        assert int(viewer.scroll_offset.y) == files[1][0]
        await pilot.press("F")
        await settle(pilot)
        await pilot.press("down", "down", "enter")
        await settle(pilot)
        assert int(viewer.scroll_offset.y) == files[2][0]


async def test_state_keys_tag_the_series_and_undo_restores(store) -> None:
    app = _app(store)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        await _select(pilot, app, "c2@x")
        app.query_one(SeriesList).focus()
        await pilot.press("r")
        await wait_for(pilot, lambda: "triage/reviewed" in _tags(store, "p2-2@x"), "tagged reviewed")
        assert all("triage/reviewed" in _tags(store, m) for m in ("c2@x", "p2-1@x", "r2@x"))
        await wait_for(pilot, lambda: str(app.query_one(SeriesList).cell("c2@x", "state")) == "reviewed", "row updated")
        assert "new:2 reviewed:1" in app.query_one(StatusLine).left  # the counts follow at once
        await pilot.press("a")
        await wait_for(pilot, lambda: "triage/accepted" in _tags(store, "c2@x"), "accepted")
        assert "triage/reviewed" not in _tags(store, "c2@x")
        await pilot.press("U")
        await wait_for(pilot, lambda: "triage/reviewed" in _tags(store, "c2@x"), "undo to reviewed")
        await pilot.press("U")
        await wait_for(pilot, lambda: not any(t.startswith("triage/") for t in _tags(store, "c2@x")), "undo to untagged")
        await pilot.press("U")
        await settle(pilot)
        assert "nothing to undo" in app.query_one(StatusLine).message


async def test_mark_read_search_filter_sort_and_versions(store) -> None:
    app = _app(store)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        await _select(pilot, app, "i1@x")
        assert "unread" in _tags(store, "i2@x")
        await pilot.press("m")
        await wait_for(pilot, lambda: "unread" not in _tags(store, "i2@x"), "read")
        await pilot.press("slash")
        await settle(pilot)
        await pilot.press(*"from:eve", "enter")
        await wait_for(pilot, lambda: app.query_one(SeriesList).row_count == 1, "search result")
        assert app.main.model.query == "from:eve"
        await pilot.press("backslash")
        await wait_for(pilot, lambda: app.query_one(SeriesList).row_count == 3, "all again")
        await pilot.press("f")  # state filter: new
        await settle(pilot)
        assert app.main.model.state_filter == "new" and app.query_one(SeriesList).row_count == 3
        await pilot.press("f")  # under-review: none
        await settle(pilot)
        assert app.query_one(SeriesList).row_count == 0
        app.main.model.state_filter = None
        await pilot.press("o")
        await settle(pilot)
        assert app.main.model.sort == "author" and _row_titles(app)[0].startswith("widget")
        table = app.query_one(SeriesList)
        table.move_cursor(row=table.get_row_index("c2@x"))
        await pilot.press("v")
        await settle(pilot)
        assert "c1@x" in table.row_ids()
        assert any("↳" in t for t in _row_titles(app))


async def test_focus_cycles_panes_and_help_lists_active_keymap(store, tmp_path: Path) -> None:
    user = tmp_path / "keymap.toml"
    user.write_text('[bindings]\n"triage.next_file" = "right_square_bracket,y"\n')
    app = _app(store, "vim", user)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        assert app.focused is app.query_one(SeriesList)
        await pilot.press("tab")
        assert app.focused is app.query_one(PatchList)
        await pilot.press("tab")
        assert app.focused is app.query_one("#message")
        await pilot.press("question_mark")
        await settle(pilot)
        from textual.widgets import DataTable

        table = app.screen.query_one(DataTable)
        rows = {str(table.get_row_at(i)[1]): str(table.get_row_at(i)[0]) for i in range(table.row_count)}
        assert rows["triage.next_file"] == "], y"
        assert rows["triage.state.under-review"] == "i"
        assert len(rows) == len(app.keymap.bindings)
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("shift+tab", "shift+tab")
        app.query_one(SeriesList).focus()
        await pilot.press("i")  # vim keymap: under-review
        await wait_for(pilot, lambda: any("triage/under-review" in _tags(store, m) for m in ("i1@x", "h1@x", "c2@x")), "i tags")


async def test_bad_keymap_is_reported_and_defaults_apply(store, tmp_path: Path) -> None:
    bad = tmp_path / "keymap.toml"
    bad.write_text('[bindings]\n"triage.nope" = "z"\n')
    app = _app(store, "default", bad)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        status = app.query_one(StatusLine)
        assert any(err and f"{bad}:2: unknown binding id 'triage.nope'" in text for err, text in status.history)
        app.query_one(SeriesList).focus()
        await pilot.press("r")
        await wait_for(pilot, lambda: any("triage/reviewed" in _tags(store, m) for m in ("i1@x", "h1@x")), "r works")


async def test_store_error_goes_to_the_status_line(store) -> None:
    app = _app(store)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        app.main.load("date:nonsense..")
        await wait_for(pilot, lambda: app.query_one(StatusLine).has_class("-error"), "error shown")
        assert "notmuch query failed" in app.query_one(StatusLine).message


async def test_twenty_thousand_line_patch_opens_and_scrolls(make_store) -> None:
    store = make_store(mbox(mail("big@x", "[PATCH] big", _big_patch(20000, files=40))))
    app = _app(store)
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_for(pilot, lambda: app.main.shown_message == "big@x", "big patch shown")
        viewer = app.query_one("#message", Viewer)
        assert len(viewer.document.lines) > 20000 and len(viewer.document.files) == 40
        viewer.focus()
        await pilot.press("G")
        await settle(pilot)
        assert viewer.visible_text()[-1].startswith("+line 39.")
        await pilot.press("g")
        await settle(pilot)
        assert viewer.visible_text()[0].startswith("From: ")
