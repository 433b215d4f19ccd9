"""End to end at real terminal sizes: the installed ``triage`` in tmux at 80x24, 100x30,
120x40 and 200x50, keys typed by their binding ids' default keys, the screen read."""

from __future__ import annotations

import os
import time

import pytest

from tests.mailgen import DIFF, mail, mbox
from tests.test_e2e_tmux import TRIAGE, Tmux, pytestmark  # noqa: F401 - the same skip

LINE70 = "+" + "a" * 69  # a diff line of 70 columns
LINE86 = "+" + "b" * 85
LINE130 = "+" + "c" * 120 + "END_OF_IT"


def _store(make_store):
    diff = DIFF.replace(" f.c | 2 +-", " f.c | 5 ++++-").replace("@@ -1,3 +1,3 @@", "@@ -1,3 +1,6 @@")
    body = f"widget: wide lines\n\nSigned-off-by: Alice Author <alice@example.com>\n{diff}{LINE70}\n{LINE86}\n{LINE130}\n"
    return make_store(mbox(
        mail("c@x", "[PATCH 0/1] widget: wide lines", "cover\n"),
        mail("p1@x", "[PATCH 1/1] widget: wide lines", body, minutes=1, parent="c@x"),
        mail("o@x", "[PATCH v3] other: a series with a long title that takes the slack of the list", "x\n", minutes=50,
             sender="Bob <bob@example.net>"),
    ))


def _run(store, size: tuple[int, int]) -> Tmux:
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    env.update(TERM="xterm-256color", TEXTUAL_ANIMATIONS="none")
    tmux = Tmux(env)
    tmux.start(f"{TRIAGE} --config {store.config.config_path}; sleep 30", size)
    return tmux


def _open_patch(tmux: Tmux) -> None:
    tmux.wait_for("Series (2)")
    tmux.keys("j")  # the widget series
    tmux.wait_for("0/1 cover letter")
    for key in ("Enter", "j", "Enter"):  # triage.open (to the patches), down to patch 1, triage.patches.open
        tmux.keys(key)
        time.sleep(0.4)  # each key after the focus it moves (tmux shows no focus)
    tmux.wait_for("━━ f.c")
    tmux.keys("]")  # triage.next_file: the diff at the top of the view


def test_80x24_reads_a_patch_at_full_width(make_store) -> None:
    tmux = _run(_store(make_store), (80, 24))
    try:
        _open_patch(tmux)
        screen = tmux.wait_for(LINE70)  # whole, not cut
        assert "Series (2)" not in screen  # the message has the screen
        tmux.keys("Escape")  # triage.back
        tmux.wait_for("Series (2)")
    finally:
        tmux.kill()


def test_100_columns_zoom_shows_an_86_column_line_whole(make_store) -> None:
    tmux = _run(_store(make_store), (100, 30))
    try:
        _open_patch(tmux)
        tmux.wait_for(LINE70)
        tmux.keys("z")  # triage.zoom
        screen = tmux.wait_for(LINE86)
        longest = next(line for line in screen.splitlines() if "cccc" in line)
        assert "»" in longest and "END_OF_IT" not in longest  # a cut line shows its marker
        tmux.keys("l", "l", "l", "l", "l", "l")  # triage.viewer.right
        tmux.wait_for("END_OF_IT")
    finally:
        tmux.kill()


def test_120x40_shows_list_and_message_side_by_side(make_store) -> None:
    tmux = _run(_store(make_store), (120, 40))
    try:
        screen = tmux.wait_for("0 follow-up(s) to")
        row = next(line for line in screen.splitlines() if "other: a series" in line)
        assert "│╭" in screen or "││" in row  # two pane columns
    finally:
        tmux.kill()


def test_200x50_shows_the_counts_and_a_100_column_message(make_store) -> None:
    tmux = _run(_store(make_store), (200, 50))
    try:
        screen = tmux.wait_for("0 follow-up(s) to")
        row = next(line for line in screen.splitlines() if "other: a series" in line and "●" in line)
        left = row.split("││")[0]
        assert "v3" in left and "1/1" in left and "0/0/0" in left  # version, received/total, R/A/T
        assert "widget: wide lines" in screen
        _open_patch(tmux)
        screen = tmux.wait_for(LINE86)
        line = next(x for x in screen.splitlines() if "bbbb" in x)
        assert len(line.split("││")[-1]) >= 100
    finally:
        tmux.kill()


@pytest.mark.parametrize("size", [(80, 24), (200, 50)])
def test_help_lists_the_layout_keys(make_store, size) -> None:
    tmux = _run(_store(make_store), size)
    try:
        tmux.wait_for("Series (2)")
        tmux.keys("?")  # triage.help
        tmux.wait_for("triage.quit")
        for _ in range(6):  # page through the table until the layout keys show
            if "triage.zoom" in tmux.screen():
                break
            tmux.keys("PageDown")
            time.sleep(0.3)
        screen = tmux.wait_for("triage.zoom")
        row = next(line for line in screen.splitlines() if "triage.zoom" in line)
        assert row.split("triage.zoom")[0].strip(" │█").endswith("z")  # its key, in the keys column
    finally:
        tmux.kill()
