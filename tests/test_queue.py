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
        ids = [table.coordinate_to_cell_key((i, 0)).row_key.value for i in range(table.row_count)]
        assert set(ids) == {i.row["id"] for i in session.todo()} and table.row_count < all_rows
        assert "‹" in str(table.get_cell(ids[0], "title"))  # the reasons show in the row
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
