"""Review on the diff through Pilot: the cursor, search, comments added, edited, deleted
and kept across a crash, other reviewers' comments under their lines, the follow-ups as
a thread, replying to a reviewer, and the reply built from comments."""

from __future__ import annotations

import pytest

from tests.reviewdata import review_store
from tests.uihelpers import settle, wait_for
from triage.config import Settings
from triage.session import Session
from triage.ui.app import TriageApp
from triage.ui.keymaps import load_keymap
from triage.ui.screens.composer import ComposerScreen
from triage.ui.screens.dialogs import CommentEditor, FindDialog
from triage.ui.widgets.viewer import Viewer


@pytest.fixture
def store(make_store):
    return review_store(make_store)


def _app(store) -> TriageApp:
    return TriageApp(Session(store, Settings()), load_keymap("default"))


async def _patch_open(pilot, app) -> Viewer:
    await wait_for(pilot, lambda: app.main.shown_message == "p1@x", "the patch shown")
    await settle(pilot)
    viewer = app.query_one("#message", Viewer)
    viewer.focus()
    await settle(pilot)
    return viewer


def _cursor_text(viewer: Viewer) -> str:
    return "".join(seg.text for seg in viewer.document.lines[viewer.cursor_line])


async def _find(pilot, app, text: str) -> None:
    await pilot.press("slash")
    await wait_for(pilot, lambda: isinstance(app.screen, FindDialog), "find dialog")
    await pilot.press(*text, "enter")
    await settle(pilot)


async def _comment(pilot, app, text: str) -> None:
    await pilot.press("c")
    await wait_for(pilot, lambda: isinstance(app.screen, CommentEditor), "comment editor")
    await pilot.press(*text)
    await pilot.press("ctrl+s")
    await wait_for(pilot, lambda: not isinstance(app.screen, CommentEditor), "editor closed")
    await settle(pilot)


async def test_cursor_moves_and_search_finds(store) -> None:
    app = _app(store)
    async with app.run_test(size=(160, 50)) as pilot:
        viewer = await _patch_open(pilot, app)
        assert viewer.cursor == 0
        await pilot.press("j", "j")
        assert viewer.cursor == 2
        await _find(pilot, app, "beta")
        assert _cursor_text(viewer) == "-beta"
        await pilot.press("n")
        assert _cursor_text(viewer) == "+beta_checked();"
        await pilot.press("N")
        assert _cursor_text(viewer) == "-beta"


async def test_comments_are_added_edited_deleted_and_survive_a_crash(store) -> None:
    app = _app(store)
    async with app.run_test(size=(160, 50)) as pilot:
        viewer = await _patch_open(pilot, app)
        await _find(pilot, app, "four_teardown")
        await _comment(pilot, app, "Why split?")
        assert any("✎ Why split?" in t for t in viewer.visible_text())
        await _find(pilot, app, "beta_checked")
        await _comment(pilot, app, "Checked how?")
        comments = app.session.comments_on("p1@x", "p1@x")
        assert [c.text for c in comments] == ["Why split?", "Checked how?"]
        # Edit the first: the editor opens with its text.
        await _find(pilot, app, "four_teardown")
        await pilot.press("c")
        await wait_for(pilot, lambda: isinstance(app.screen, CommentEditor), "editor")
        assert app.screen.text == "Why split?"
        await pilot.press(*" Really?", "ctrl+s")
        await settle(pilot)
        assert app.session.comments_on("p1@x", "p1@x")[0].text == "Why split? Really?"
    # A new process (as after a crash: nothing was saved on quit) finds both comments.
    again = _app(store)
    async with again.run_test(size=(160, 50)) as pilot:
        viewer = await _patch_open(pilot, again)
        await wait_for(pilot, lambda: any("✎ Checked how?" in line for line in
                                          ["".join(s.text for s in x) for xs in viewer.extras.values() for x in xs]),
                       "comments drawn again")
        await _find(pilot, again, "beta_checked")
        await pilot.press("c")
        await wait_for(pilot, lambda: isinstance(again.screen, CommentEditor), "editor")
        await pilot.press("ctrl+g")  # triage.comment.delete
        await settle(pilot)
        assert [c.text for c in again.session.comments_on("p1@x", "p1@x")] == ["Why split? Really?"]


async def test_others_comments_show_under_their_line_and_hide(store) -> None:
    app = _app(store)
    async with app.run_test(size=(160, 50)) as pilot:
        viewer = await _patch_open(pilot, app)
        await wait_for(pilot, lambda: app.main.others, "anchored comments")
        line = viewer.document.line_of(app.main.others[0].line)
        assert "".join(s.text for s in viewer.document.lines[line]) == "+four_setup();"
        under = "".join(s.text for s in viewer.extras[line][0])
        assert "Bob Reviewer" in under and "Does this still need the lock held?" in under
        await pilot.press("C")
        await settle(pilot)
        assert not viewer.extras


async def test_the_followups_are_a_thread_and_a_reply_answers_the_selected_one(store) -> None:
    app = _app(store)
    async with app.run_test(size=(160, 50)) as pilot:
        await _patch_open(pilot, app)
        followups = app.query_one("#followups", Viewer)
        await pilot.press("ctrl+r")  # triage.focus.followups
        await wait_for(pilot, lambda: app.focused is followups and followups.document.targets, "the thread focused")
        lines = ["".join(s.text for s in x) for x in followups.document.lines]
        assert lines[0].startswith("▌ Bob Reviewer") and "Does this still need the lock held?" in lines[0]
        assert lines[1].startswith("  └ Alice Author") and "No: see v2." in lines[1]
        await pilot.press("enter")  # the selected mail in the message view
        await wait_for(pilot, lambda: app.main.shown_message == "r1@x", "the review shown")
        followups.focus()
        await settle(pilot)
        assert followups.selected_target == "r1@x"
        await pilot.press("w")
        await wait_for(pilot, lambda: isinstance(app.screen, ComposerScreen), "composer")
        draft = app.screen.draft
        assert draft.parent_id == "r1@x" and draft.references[-1] == "r1@x"
        assert "> Does this still need the lock held?" in draft.text
        assert draft.text.split("\n", 2)[1].startswith("To: Bob Reviewer <bob@example.net>")


async def test_the_composer_cuts_the_quote_below_and_above(store) -> None:
    app = _app(store)
    async with app.run_test(size=(160, 50)) as pilot:
        await _patch_open(pilot, app)
        app.query_one("#patches").focus()
        await pilot.press("w")
        await wait_for(pilot, lambda: isinstance(app.screen, ComposerScreen), "composer")
        area = app.screen.query_one("TextArea")
        lines = area.text.split("\n")
        row = lines.index("> +four_setup();")
        area.move_cursor((row, 0))
        await pilot.press("alt+k")
        text = area.text
        assert "> +four_setup();\n[...]" in text and "beta_checked" not in text
        area.move_cursor((area.text.split("\n").index("> +four_setup();"), 0))
        await pilot.press("alt+u")
        await settle(pilot)
        lines = area.text.split("\n")
        assert "> Split the setup" not in area.text, area.text
        assert lines[5].endswith("wrote:") and lines[6] == "[...]" and lines[7] == "> +four_setup();"


async def test_a_folded_comment_unfolds_on_enter(make_store) -> None:
    from tests.mailgen import mail, mbox
    from tests.reviewdata import PATCH

    long_review = "> +four_setup();\n\nFirst line of the comment.\nSecond line.\nThird line.\n"
    store = make_store(mbox(
        mail("p1@x", "[PATCH] widget: rework the frobnicator", PATCH),
        mail("r1@x", "Re: [PATCH] widget: rework the frobnicator", long_review, minutes=30, parent="p1@x",
             sender="Bob Reviewer <bob@example.net>"),
    ))
    app = _app(store)
    async with app.run_test(size=(160, 50)) as pilot:
        viewer = await _patch_open(pilot, app)
        await wait_for(pilot, lambda: viewer.extras, "the comment drawn")
        (line,) = viewer.extras
        assert len(viewer.extras[line]) == 1 and "[+2 lines: Enter]" in "".join(s.text for s in viewer.extras[line][0])
        viewer.move_cursor_to_line(line)
        await pilot.press("j", "enter")  # onto the comment's row, unfold it
        await settle(pilot)
        texts = ["".join(s.text for s in x) for x in viewer.extras[line]]
        assert len(texts) == 4 and texts[-1].endswith("Third line.")
        await pilot.press("enter")
        await settle(pilot)
        assert len(viewer.extras[line]) == 1
