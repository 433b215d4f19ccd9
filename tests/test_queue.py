"""What needs me: each reason and each exclusion on built mail, the identity only in
config.toml's [identity] (notmuch's primary address is another one)."""

from __future__ import annotations

import json

import pytest

from tests.conftest import create_store
from tests.mailgen import mail, mbox, patch_body
from triage.cli import main
from triage.config import Settings
from triage.mail.importer import import_paths
from triage.queue import file_matches
from triage.session import Session

ME = "Morgan <me@example.org>"
ALICE = "Alice Author <alice@example.com>"
BOB = "Bob <bob@example.net>"
PWM_DIFF = patch_body().replace("a/f.c", "a/drivers/pwm/pwm-x.c").replace("b/f.c", "b/drivers/pwm/pwm-x.c")


@pytest.fixture
def session(tmp_path):
    store = create_store(tmp_path / "s", email="not-me@elsewhere.example")  # notmuch knows another address
    msgs = [
        # to-me: Cc'd
        mail("tome@x", "[PATCH] a: addressed to me", patch_body(), sender=ALICE, cc=ME),
        # new-version: v1 I replied to, v2 later
        mail("nv1@x", "[PATCH] b: versioned thing", patch_body(), sender=ALICE, minutes=10),
        mail("nv1r@x", "Re: [PATCH] b: versioned thing", "> x\n\nPlease rework.\n", sender=ME, minutes=20, parent="nv1@x"),
        mail("nv2@x", "[PATCH v2] b: versioned thing", patch_body(), sender=ALICE, minutes=300),
        # reply-to-me: I reviewed, Bob answered me (unread)
        mail("rtm@x", "[PATCH] c: discussed thing", patch_body(), sender=ALICE, minutes=30),
        mail("rtm-me@x", "Re: [PATCH] c: discussed thing", "> x\n\nWhy?\n", sender=ME, minutes=40, parent="rtm@x"),
        mail("rtm-bob@x", "Re: [PATCH] c: discussed thing", "> Why?\n\nBecause.\n", sender=BOB, minutes=50,
             parent="rtm-me@x", refs=["rtm@x", "rtm-me@x"]),
        # watched by query, and by file
        mail("wq@x", "[PATCH] d: gadget tweak", patch_body(), sender=ALICE, minutes=60),
        mail("wf@x", "[PATCH] e: pwm driver fix", PWM_DIFF, sender=ALICE, minutes=70),
        # excluded: accepted; my own message is the newest; deferred in the future / past
        mail("acc@x", "[PATCH] f: accepted one", patch_body(), sender=ALICE, cc=ME, minutes=80),
        mail("last@x", "[PATCH] g: I answered last", patch_body(), sender=ALICE, cc=ME, minutes=90),
        mail("last-me@x", "Re: [PATCH] g: I answered last", "> x\n\nApplied, thanks.\n", sender=ME, minutes=95, parent="last@x"),
        mail("dfut@x", "[PATCH] h: deferred till later", patch_body(), sender=ALICE, cc=ME, minutes=100),
        mail("dpast@x", "[PATCH] i: deferred till yesterday", patch_body(), sender=ALICE, minutes=110),
        # nothing to do with me
        mail("none@x", "[PATCH] j: somebody else's", patch_body(), sender=BOB, minutes=120),
    ]
    src = tmp_path / "in.mbox"
    src.write_bytes(mbox(*msgs))
    import_paths(store, [src])
    settings = Settings(identity_email="me@example.org", queue_watch=["subject:gadget"], queue_files=["drivers/pwm/"])
    s = Session(store, settings)
    s.set_state(s.series("acc@x"), "accepted")
    s.defer(s.series("dfut@x"), "2099-01-01")
    s.defer(s.series("dpast@x"), "2020-01-01")
    return s


def test_each_reason_and_each_exclusion(session: Session) -> None:
    got = {i.row["id"]: i.reasons for i in session.todo(today="2026-06-01")}
    assert got["tome@x"] == ["to-me"]
    assert got["nv2@x"] == ["new-version"] and "nv1@x" not in got  # the old version is superseded
    assert got["rtm@x"] == ["reply-to-me"]
    assert got["wq@x"] == ["watched"] and got["wf@x"] == ["watched"]
    assert got["dpast@x"] == ["deferred-until-passed"]
    for left_out in ("acc@x", "last@x", "dfut@x", "none@x"):
        assert left_out not in got, left_out


def test_the_configured_identity_counts_as_mine_for_replied(session: Session) -> None:
    session.index.refresh()
    rows = {r["id"]: r for r in session.index.series()}
    assert rows["nv1@x"]["replied"] and rows["rtm@x"]["replied"]
    assert not rows["none@x"]["replied"]


def test_todo_on_the_command_line(session: Session, tmp_path, capsys) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text('[identity]\nemail = "me@example.org"\n[queue]\nwatch = ["subject:gadget"]\nfiles = ["drivers/pwm/"]\n')
    assert main(["--config", session.store.config.config_path, "--settings", str(cfg), "todo", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {d["id"] for d in data} >= {"tome@x", "nv2@x", "rtm@x", "wq@x", "wf@x"}
    assert all(d["reasons"] for d in data)


def test_bulk_state_by_query_on_the_command_line(session: Session, capsys) -> None:
    cfg = session.store.config.config_path
    assert main(["--config", cfg, "state", "--query", "from:bob@example.net", "rejected"]) == 0
    assert "series to rejected" in capsys.readouterr().out
    assert session.series("none@x").state == "rejected"
    assert session.series("tome@x").state == "new"


@pytest.mark.parametrize(("path", "pattern", "hit"), [
    ("drivers/pwm/pwm-x.c", "drivers/pwm/", True),
    ("drivers/pwmx/a.c", "drivers/pwm/", False),
    ("Documentation/devicetree/bindings/pwm/x.yaml", "Documentation/devicetree/bindings/pwm/*", True),
    ("include/linux/pwm.h", "include/linux/pwm.h", True),
    ("include/linux/pwm.h.old", "include/linux/pwm.h", False),
])
def test_maintainers_file_patterns(path: str, pattern: str, hit: bool) -> None:
    assert file_matches(path, pattern) is hit


async def test_the_queue_view_marking_several_rows_undo_and_defer(session: Session) -> None:
    from tests.uihelpers import settle, wait_for
    from triage.ui.app import TriageApp
    from triage.ui.keymaps import load_keymap
    from triage.ui.screens.dialogs import AskDialog
    from triage.ui.widgets.panes import SeriesList

    app = TriageApp(session, load_keymap("default"))
    async with app.run_test(size=(160, 50)) as pilot:
        await wait_for(pilot, lambda: app.query_one(SeriesList).row_count > 5, "the list")
        all_rows = app.query_one(SeriesList).row_count
        await pilot.press("Q")  # triage.queue
        await wait_for(pilot, lambda: app.main.in_queue, "the queue")
        table = app.query_one(SeriesList)
        ids = table.row_ids()
        assert set(ids) == {i.row["id"] for i in session.todo()} and table.row_count < all_rows
        assert "‹" in str(table.cell(ids[0], "title"))  # the reasons show in the row
        table.focus()
        table.move_cursor(row=0)
        await pilot.press("t", "t")  # triage.mark: two rows marked
        await settle(pilot)
        marked = ids[:2]
        await pilot.press("x")  # one state key: rejected, for both
        await wait_for(pilot, lambda: all(session.series(m).state == "rejected" for m in marked), "both rejected")
        await pilot.press("U")  # one undo step for both
        await wait_for(pilot, lambda: all(session.series(m).state != "rejected" for m in marked), "both undone")
        table.move_cursor(row=0)
        await pilot.press("S")  # triage.defer
        await wait_for(pilot, lambda: isinstance(app.screen, AskDialog), "asks until when")
        await pilot.press(*"2w", "enter")
        await wait_for(pilot, lambda: session.series(ids[0]).state == "deferred", "deferred")
        assert ids[0] not in {i.row["id"] for i in session.todo()}
        await pilot.press("Q")  # back to every series
        await wait_for(pilot, lambda: not app.main.in_queue and app.query_one(SeriesList).row_count == all_rows, "all")


async def test_marking_read_in_the_screen_sets_the_maildir_seen_flag(make_store) -> None:
    from tests.uihelpers import wait_for
    from triage.ui.app import make_app
    from triage.ui.keymaps import load_keymap
    from triage.ui.widgets.panes import SeriesList

    store = make_store(mbox(mail("c@x", "[PATCH 0/1] widget: x", "cover\n"),
                            mail("p@x", "[PATCH 1/1] widget: x", patch_body(), minutes=1, parent="c@x")))
    with open(store.config.config_path, "a", encoding="utf-8") as fh:
        fh.write("\n[maildir]\nsynchronize_flags=true\n")

    def files() -> list[str]:
        with store.read() as db:
            return [str(db.find(m).path) for m in ("c@x", "p@x")]

    assert all(f.endswith(":2,") for f in files())  # imported unread
    app = make_app(store, Settings(), load_keymap("default"))
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_for(pilot, lambda: app.query_one(SeriesList).row_count == 1, "the list")
        app.query_one(SeriesList).focus()
        await pilot.press("m")  # triage.mark_read
        await wait_for(pilot, lambda: all(f.endswith(":2,S") for f in files()), "files renamed with S")


def test_touches_finds_the_series_changing_a_file_not_those_mentioning_it(make_store, capsys) -> None:
    stm = patch_body().replace("a/f.c", "a/drivers/pwm/pwm-stm32.c").replace("b/f.c", "b/drivers/pwm/pwm-stm32.c")
    makefile = patch_body().replace("a/f.c", "a/drivers/pwm/Makefile").replace("b/f.c", "b/drivers/pwm/Makefile").replace(
        " a\n-b\n+c\n d\n", " obj-$(CONFIG_PWM_STM32) += pwm-stm32.o\n-b\n+c\n d\n").replace("@@ -1,3 +1,3 @@", "@@ -1,3 +1,3 @@")
    store = make_store(mbox(
        mail("stm@x", "[PATCH] pwm: stm32: fix", stm),
        mail("mk@x", "[PATCH] pwm: Makefile: sort pwm-stm32", makefile, minutes=5),
        mail("other@x", "[PATCH] gpio: thing", patch_body(), minutes=10),
    ))
    session = Session(store, Settings())
    session.refresh()
    assert [r["id"] for r in session.rows("touches:drivers/pwm/pwm-stm32.c")] == ["stm@x"]
    assert {r["id"] for r in session.rows("touches:drivers/pwm/")} == {"stm@x", "mk@x"}
    assert {r["id"] for r in session.rows("touches:drivers/pwm and subject:Makefile")} == {"mk@x"}
    assert main(["--config", store.config.config_path, "series", "--json", "touches:drivers/pwm/pwm-stm32.c"]) == 0
    assert [r["id"] for r in json.loads(capsys.readouterr().out)] == ["stm@x"]


def test_an_export_of_v2_carries_the_review_of_the_unchanged_patch_only(make_store) -> None:
    from triage.take.service import export

    body2_v1 = patch_body("second").replace("+c\n", "+c1\n")
    body2_v2 = patch_body("second").replace("+c\n", "+c2\n")
    rb = "Reviewed-by: Rita Reviewer <rita@example.org>\n"
    store = make_store(mbox(
        mail("v1c@x", "[PATCH 0/2] widget: speed up", "cover\n"),
        mail("v1p1@x", "[PATCH 1/2] widget: a", patch_body(), minutes=1, parent="v1c@x"),
        mail("v1p2@x", "[PATCH 2/2] widget: b", body2_v1, minutes=2, parent="v1c@x"),
        mail("v1r1@x", "Re: [PATCH 1/2] widget: a", rb, minutes=3, parent="v1p1@x", sender="Rita Reviewer <rita@example.org>"),
        mail("v1r2@x", "Re: [PATCH 2/2] widget: b", rb, minutes=4, parent="v1p2@x", sender="Rita Reviewer <rita@example.org>"),
        mail("v2c@x", "[PATCH v2 0/2] widget: speed up", "cover v2\n", minutes=600),
        mail("v2p1@x", "[PATCH v2 1/2] widget: a", patch_body(), minutes=601, parent="v2c@x"),
        mail("v2p2@x", "[PATCH v2 2/2] widget: b", body2_v2, minutes=602, parent="v2c@x"),
    ))
    result = export(store, Settings(), "v2c@x")
    p1, p2 = result.patches
    assert "Reviewed-by: Rita Reviewer <rita@example.org>" in p1.added
    assert not any(a.startswith("Reviewed-by") for a in p2.added)
    assert any(n.startswith("patch 1: carried from v1: Reviewed-by: Rita") for n in result.notes)
    assert any(n.startswith("patch 2: changed since v1") and "Rita" in n for n in result.notes)
    assert not any(a.startswith("Reviewed-by") for p in export(store, Settings(export_carry=False), "v2c@x").patches
                   for a in p.added)


async def test_per_patch_marks_and_the_series_progress(make_store) -> None:
    from tests.uihelpers import settle, wait_for
    from triage.ui.app import make_app
    from triage.ui.keymaps import load_keymap
    from triage.ui.widgets.panes import PatchList, SeriesList

    store = make_store(mbox(
        mail("c@x", "[PATCH 0/2] widget: x", "cover\n"),
        mail("p1@x", "[PATCH 1/2] widget: a", patch_body(), minutes=1, parent="c@x"),
        mail("p2@x", "[PATCH 2/2] widget: b", patch_body("b"), minutes=2, parent="c@x"),
    ))
    app = make_app(store, Settings(), load_keymap("default"))
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_for(pilot, lambda: app.main.opened is not None, "opened")
        plist = app.query_one(PatchList)
        plist.focus()
        plist.highlighted = 1  # patch 1
        await settle(pilot)
        await pilot.press("plus")  # triage.patch.reviewed
        await wait_for(pilot, lambda: "[1/2✓]" in str(app.query_one(SeriesList).cell("c@x", "title")), "1 of 2")
        await wait_for(pilot, lambda: app.main.opened is not None, "reopened")
        assert str(app.query_one(PatchList).get_option_at_index(1).prompt).startswith("✓ 1/2")
        assert Session(store, Settings()).series("c@x").state == "new"
        app.query_one(PatchList).focus()
        app.query_one(PatchList).highlighted = 2
        await settle(pilot)
        await pilot.press("plus")
        await wait_for(pilot, lambda: Session(store, Settings()).series("c@x").state == "reviewed", "all: reviewed")


async def test_the_patch_list_shows_carried_reviews_and_warns_of_lost_ones(make_store) -> None:
    from tests.uihelpers import wait_for
    from triage.ui.app import make_app
    from triage.ui.keymaps import load_keymap
    from triage.ui.widgets.panes import PatchList

    rb = "Reviewed-by: Rita Reviewer <rita@example.org>\n"
    store = make_store(mbox(
        mail("v1c@x", "[PATCH 0/2] widget: speed up", "cover\n"),
        mail("v1p1@x", "[PATCH 1/2] widget: a", patch_body(), minutes=1, parent="v1c@x"),
        mail("v1p2@x", "[PATCH 2/2] widget: b", patch_body("b").replace("+c\n", "+c1\n"), minutes=2, parent="v1c@x"),
        mail("v1r1@x", "Re: [PATCH 1/2] widget: a", rb, minutes=3, parent="v1p1@x", sender="Rita Reviewer <rita@example.org>"),
        mail("v1r2@x", "Re: [PATCH 2/2] widget: b", rb, minutes=4, parent="v1p2@x", sender="Rita Reviewer <rita@example.org>"),
        mail("v2c@x", "[PATCH v2 0/2] widget: speed up", "cover v2\n", minutes=600),
        mail("v2p1@x", "[PATCH v2 1/2] widget: a", patch_body(), minutes=601, parent="v2c@x"),
        mail("v2p2@x", "[PATCH v2 2/2] widget: b", patch_body("b").replace("+c\n", "+c2\n"), minutes=602, parent="v2c@x"),
    ))
    app = make_app(store, Settings(), load_keymap("default"))
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_for(pilot, lambda: app.main.opened is not None and app.main.opened.id == "v2c@x", "v2 opened")
        plist = app.query_one(PatchList)

        def labels() -> list[str]:
            return [str(plist.get_option_at_index(i).prompt) for i in range(plist.option_count)]

        await wait_for(pilot, lambda: "+R from v1" in labels()[1], "the carried review shown")
        labels = labels()  # noqa: F811 - the list once it is complete
        assert "review lost" not in labels[1]
        assert "⚠ review lost" in labels[2]
