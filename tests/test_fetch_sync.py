"""``triage fetch`` through a real lei and a real public-inbox v2 inbox the test writes;
``triage sync`` through a real notmuch-git and a real bare git remote, between two stores."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.mailgen import mail, patch_body
from triage.cli import main
from triage.config import Settings
from triage.remote.tools import ToolError, run_tool
from triage.session import Session

needs_lei = pytest.mark.skipif(
    not all(shutil.which(t) for t in ("lei", "public-inbox-init", "public-inbox-mda")),
    reason="lei and public-inbox are not installed (bash bootstrap installs them)",
)
needs_notmuch_git = pytest.mark.skipif(not shutil.which("notmuch-git"), reason="notmuch-git is not installed")

ADDRESS = "widgets@lists.example.org"


@pytest.fixture
def lei_home(isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """lei's and public-inbox's HOME and XDG dirs are the test's (lei's daemon socket too,
    in a short path: a socket's path has a length limit); the daemon is stopped after."""
    run = Path(tempfile.mkdtemp(prefix="lei-run-", dir="/tmp"))
    run.chmod(0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(run))
    monkeypatch.setenv("PI_CONFIG", str(isolated_env / ".public-inbox" / "config"))
    try:
        yield isolated_env
    finally:
        subprocess.run(["lei", "daemon-kill"], capture_output=True, check=False)
        shutil.rmtree(run, ignore_errors=True)


def _inbox(home: Path) -> Path:
    inbox = home / "inbox"
    subprocess.run(["public-inbox-init", "-V2", "widgets", str(inbox), "http://example.org/widgets", ADDRESS],
                   check=True, capture_output=True)
    subprocess.run(["git", "config", "-f", os.environ["PI_CONFIG"], "publicinboxmda.spamcheck", "none"], check=True)
    return inbox


def _deliver(*messages: bytes) -> None:
    """Each message into the inbox as a list server would (public-inbox-mda writes the git
    epoch and indexes it)."""
    for m in messages:
        m = m.replace(b"\nSubject:", f"\nTo: {ADDRESS}\nSubject:".encode(), 1) if b"\nTo:" not in m else m
        done = subprocess.run(["public-inbox-mda", "--no-precheck"], input=m, capture_output=True,
                              env=dict(os.environ, ORIGINAL_RECIPIENT=ADDRESS))
        assert done.returncode == 0, done.stderr


def _series_mail() -> list[bytes]:
    return [
        mail("c@x", "[PATCH 0/2] widget: frob the knob", "cover\n", minutes=0),
        mail("p1@x", "[PATCH 1/2] widget: frob", patch_body("frob"), minutes=1, parent="c@x"),
        mail("p2@x", "[PATCH 2/2] widget: knob", patch_body("knob"), minutes=2, parent="c@x"),
    ]


@needs_lei
def test_fetch_brings_the_series_and_a_second_fetch_changes_nothing(lei_home: Path, make_store, capsys) -> None:
    inbox = _inbox(lei_home)
    _deliver(*_series_mail(), mail("other@x", "[PATCH] gadget: unrelated", patch_body("x"), minutes=5))
    subprocess.run(["lei", "add-external", str(inbox)], check=True, capture_output=True)
    store = make_store()
    session = Session(store, Settings())

    report = session.fetch(["s:widget"])
    assert not report.errors and report.new_messages == 3 and len(report.new_series) == 1
    rows = session.rows()
    assert [(r["title"], r["received"], r["total"]) for r in rows] == [("widget: frob the knob", 2, 2)]
    folder = report.results[0].folder
    assert folder.parent == store.mail_root() / "lei" and len(list((folder / "cur").iterdir())) == 3

    again = session.fetch(["s:widget"])  # lei up: nothing new, nothing twice
    assert (again.new_messages, again.new_series, again.results[0].written) == (0, [], 0)
    assert store.count("*") == 3 and len(list((folder / "cur").iterdir())) == 3

    # A review sent to the list later arrives with the next fetch, in the same thread.
    _deliver(mail("r@x", "Re: [PATCH 1/2] widget: frob", "Reviewed-by: Rita Reviewer <rita@example.org>\n",
                  minutes=30, parent="p1@x", sender="Rita Reviewer <rita@example.org>"))
    later = session.fetch(["s:widget"])
    assert later.new_messages == 1 and later.new_series == []
    assert session.rows()[0]["counts"]["reviewed_by"] == 1

    # A query that finds nothing is no error; the CLI prints the counts.
    nothing = session.fetch(["s:nothing-matches-this"])
    assert not nothing.errors and nothing.new_messages == 0
    assert main(["--config", store.config.config_path, "fetch", "s:gadget"]) == 0
    out = capsys.readouterr().out
    assert "1 new messages, 1 new series" in out


def test_a_missing_tool_or_a_failing_one_is_named(tmp_path: Path) -> None:
    with pytest.raises(ToolError, match=r"fetching: lei is not installed \(Debian package lei"):
        run_tool(["lei", "q", "x"], what="fetching", env={"PATH": str(tmp_path)})
    with pytest.raises(ToolError, match=r"checking: `git --git-dir .*nope rev-parse HEAD` exited 128: .*not a git repository"):
        run_tool(["git", "--git-dir", str(tmp_path / "nope"), "rev-parse", "HEAD"], what="checking")


def test_fetch_without_queries_says_where_to_set_them(make_store) -> None:
    with pytest.raises(ToolError, match=r"\[fetch\] queries"):
        Session(make_store(), Settings()).fetch([])


def _pair(make_store, tmp_path: Path) -> tuple[Session, Session, Path]:
    remote = tmp_path / "states.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    settings = Settings(sync_remote=str(remote))
    a = Session(make_store(*_series_mail()), settings)
    b = Session(make_store(*_series_mail()), settings)
    return a, b, remote


def _pair_sharing(make_store, tmp_path: Path, state: str) -> tuple[Session, Session, Path]:
    """Two maintainers' stores whose shared state of the series is ``state``: set on a, synced
    by both."""
    a, b, remote = _pair(make_store, tmp_path)
    a.set_state(a.series("c@x"), state)
    a.sync()
    b.sync()
    return a, b, remote


def _cli_sync(session: Session, tmp_path: Path) -> int:
    settings = tmp_path / "config.toml"
    settings.write_text(f'[sync]\nremote = "{session.settings.sync_remote}"\n')
    return main(["--config", str(session.store.config.config_path), "--settings", str(settings), "sync"])


def _state(session: Session, sid: str = "c@x") -> str:
    session.refresh()
    return session.series(sid).state


@needs_notmuch_git
def test_states_set_in_one_store_appear_in_the_other_after_sync(make_store, tmp_path: Path, capsys) -> None:
    a, b, remote = _pair(make_store, tmp_path)
    a.set_state(a.series("c@x"), "reviewed")
    first = a.sync()
    assert first.committed and first.pushed and not first.conflicts
    assert subprocess.run(["git", "--git-dir", str(remote), "log", "--oneline"], capture_output=True, text=True).stdout
    # b had set a state of its own before it ever synced: both are kept (joined histories).
    b.mark_patch(b.series("c@x"), "p2@x", "needs-changes")
    second = b.sync()
    assert second.pushed and not second.conflicts and second.changed_here >= 3
    assert _state(b) == "reviewed"
    a.sync()
    assert b.series("c@x").patches[1].progress == "needs-changes"
    assert a.series("c@x").patches[1].progress == "needs-changes"
    # And on: a moves the series on, b sees it.
    a.set_state(a.series("c@x"), "accepted")
    a.sync()
    b.sync()
    assert _state(b) == "accepted"
    # The CLI says what it did.
    assert _cli_sync(b, tmp_path) == 0
    assert "sync: no local changes, 0 tags changed from the remote, pushed" in capsys.readouterr().out


@needs_notmuch_git
def test_a_conflicting_change_is_reported_and_both_states_kept(make_store, tmp_path: Path, capsys) -> None:
    a, b, _ = _pair_sharing(make_store, tmp_path, "under-review")
    assert _state(b) == "under-review"
    a.set_state(a.series("c@x"), "accepted")
    b.set_state(b.series("c@x"), "rejected")
    a.sync()
    report = b.sync()
    assert report.conflicts and {c.message_id for c in report.conflicts} == {"c@x", "p1@x", "p2@x"}
    c = report.conflicts[0]
    assert (c.kind, c.here, c.remote) == ("state", ("rejected",), ("accepted",))
    assert "conflicts (both kept" in report.summary()
    assert c.describe() == "<c@x>: state rejected here, accepted from the remote"
    with b.store.read() as db:
        tags = set(db.find("c@x").tags)
    assert {"triage/accepted", "triage/rejected"} <= tags  # nothing silently dropped
    # The CLI names the series and exits 2 while the conflict stands.
    assert _cli_sync(b, tmp_path) == 2
    assert ("conflict: widget: frob the knob: state accepted, rejected still both set (3 messages, e.g. <c@x>)"
            in capsys.readouterr().out)
    # Setting one state resolves it, and the next syncs carry the resolution to a.
    b.set_state(b.series("c@x"), "accepted")
    assert not b.sync().conflicts
    a.sync()
    with a.store.read() as db:
        assert "triage/rejected" not in set(db.find("c@x").tags)
    assert _state(a) == "accepted"


def test_sync_without_a_remote_says_where_to_set_it(make_store) -> None:
    with pytest.raises(ToolError, match=r"\[sync\] remote"):
        Session(make_store(), Settings()).sync()


@needs_lei
async def test_the_screen_fetches_in_a_worker_and_shows_the_new_series(lei_home: Path, make_store) -> None:
    from tests.uihelpers import wait_for
    from triage.ui.app import TriageApp
    from triage.ui.keymaps import load_keymap
    from triage.ui.widgets.panes import SeriesList, StatusLine

    inbox = _inbox(lei_home)
    _deliver(*_series_mail())
    subprocess.run(["lei", "add-external", str(inbox)], check=True, capture_output=True)
    app = TriageApp(Session(make_store(), Settings(fetch_queries=["s:widget"])), load_keymap("default"))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: "0 series" in app.query_one(StatusLine).message, "the empty list")
        await pilot.press("M")  # triage.fetch
        await wait_for(pilot, lambda: app.query_one(SeriesList).row_count == 1, "the fetched series", tries=400)
        said = [text for _, text in app.query_one(StatusLine).history]
        assert any(t.startswith("fetching 1/1 with lei: s:widget") for t in said)
        assert any("3 new messages, 1 new series" in t for t in said)
        assert app.query_one(SeriesList).current_id == "c@x"


@needs_notmuch_git
async def test_the_screen_syncs_and_reports_a_conflict_in_the_status_line(make_store, tmp_path: Path) -> None:
    from tests.uihelpers import wait_for
    from triage.ui.app import TriageApp
    from triage.ui.keymaps import load_keymap
    from triage.ui.widgets.panes import SeriesList, StatusLine

    a, b, _ = _pair(make_store, tmp_path)
    a.set_state(a.series("c@x"), "accepted")
    b.set_state(b.series("c@x"), "rejected")
    a.sync()
    app = TriageApp(b, load_keymap("default"))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.query_one(SeriesList).row_count == 1, "the list")
        await pilot.press("ctrl+t")  # triage.sync
        status = app.query_one(StatusLine)
        await wait_for(pilot, lambda: any(err and "conflict: widget: frob the knob" in t for err, t in status.history),
                       "the conflict", tries=400)
        assert any("sync: committed local states" in t for _, t in status.history)
