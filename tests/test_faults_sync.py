"""Sharing states that never loses one (issue 25, items 1-8): a real notmuch-git format
repository, a real bare git remote, two (or three) stores; faults injected where the
issue met them."""

from __future__ import annotations

import os
import stat
import subprocess
import threading
import time
from pathlib import Path

import pytest

from tests.test_fetch_sync import _pair, _pair_sharing, _state, needs_notmuch_git
from triage.config import Settings
from triage.remote import sync as sync_module
from triage.remote.tagtree import EMPTY_BLOB, id_path, tag_path
from triage.remote.tools import ToolError
from triage.session import Session


def _git(repo: Path, *args: str, env: dict[str, str] | None = None, input_text: str | None = None) -> str:
    return subprocess.run(["git", "--git-dir", str(repo), *args], check=True, capture_output=True, text=True,
                          env=env, input=input_text).stdout.strip()


def _tags(session: Session, mid: str = "c@x") -> set[str]:
    with session.store.read() as db:
        return {str(t) for t in db.find(mid).tags if str(t).startswith("triage/")}


def _plant(remote: Path, tmp_path: Path, entries: list[str], *, raw_names: dict[str, str] | None = None) -> None:
    """Another machine pushes ``entries`` (tag file paths) on top of the remote's branch;
    ``raw_names`` makes tree entries git itself would refuse in a work tree ("..")."""
    branch = _git(remote, "symbolic-ref", "--short", "HEAD")
    head = _git(remote, "rev-parse", branch)
    env = dict(os.environ, GIT_INDEX_FILE=str(tmp_path / "plant-index"), GIT_AUTHOR_NAME="x", GIT_AUTHOR_EMAIL="x@x",
               GIT_COMMITTER_NAME="x", GIT_COMMITTER_EMAIL="x@x")
    _git(remote, "hash-object", "-w", "--stdin", input_text="")  # the empty blob every tag file is
    _git(remote, "read-tree", head, env=env)
    _git(remote, "update-index", "--index-info", env=env,
         input_text="".join(f"100644 {EMPTY_BLOB}\t{p}\n" for p in entries))
    tree = _git(remote, "write-tree", env=env)
    for parent_path, name in (raw_names or {}).items():
        # Splice an entry named like "..": mktree takes the name as given.
        sub = _git(remote, "rev-parse", f"{tree}:{parent_path}")
        listing = _git(remote, "ls-tree", sub) + f"\n100644 blob {EMPTY_BLOB}\t{name}\n"
        new_sub = _git(remote, "mktree", "--missing", input_text=listing)
        tree = _rewrite(remote, tree, parent_path.split("/"), new_sub)
    commit = _git(remote, "commit-tree", tree, "-p", head, "-m", "planted", env=env)
    _git(remote, "update-ref", f"refs/heads/{branch}", commit)


def _rewrite(repo: Path, tree: str, parts: list[str], new_sub: str) -> str:
    listing = _git(repo, "ls-tree", tree).splitlines()
    out = []
    for line in listing:
        meta, name = line.split("\t", 1)
        if name == parts[0]:
            sha = new_sub if len(parts) == 1 else _rewrite(repo, meta.split()[2], parts[1:], new_sub)
            meta = f"040000 tree {sha}"
        out.append(f"{meta}\t{name}")
    return _git(repo, "mktree", "--missing", input_text="\n".join(out) + "\n")


def _remote_paths(remote: Path) -> set[str]:
    branch = _git(remote, "symbolic-ref", "--short", "HEAD")
    return set(_git(remote, "ls-tree", "-r", "--name-only", branch).splitlines())


# -- 1. a sync stopped after the merge finishes its checkout first ---------------------------------
@needs_notmuch_git
def test_a_sync_stopped_after_the_merge_resumes_and_never_reverts(make_store, tmp_path: Path, monkeypatch) -> None:
    a, b, remote = _pair_sharing(make_store, tmp_path, "accepted")
    b.set_state(b.series("c@x"), "rejected")
    b.sync()
    # a's sync merges b's "rejected", then dies before the database has it (kill -9, a write that fails).
    real = sync_module.Sync._checkout

    def dies(self, *args, **kwargs):
        raise ToolError("notmuch tag --batch: killed")

    monkeypatch.setattr(sync_module.Sync, "_checkout", dies)
    with pytest.raises(ToolError, match="killed"):
        a.sync()
    assert _tags(a) == {"triage/accepted"}  # the database is stale ...
    assert (a.store.path() is not None) and any(p.name == sync_module.JOURNAL for p in _repo(a).iterdir())
    monkeypatch.setattr(sync_module.Sync, "_checkout", real)
    report = a.sync()  # ... and the next sync finishes the checkout before committing anything
    assert report.resumed and "finished the interrupted checkout" in report.outcome()
    assert _tags(a) == {"triage/rejected"}
    b.sync()
    assert _state(b) == "rejected" and _state(a) == "rejected"  # rejected did not become accepted again
    assert not any(p.name == sync_module.JOURNAL for p in _repo(a).iterdir())


def _repo(session: Session) -> Path:
    return sync_module.default_repository(session.store)


# -- 2, 4. bad entries in the shared tree are skipped and named; nothing else is lost -------------------
@needs_notmuch_git
def test_bad_entries_are_skipped_and_nothing_is_deleted_from_the_remote(make_store, tmp_path: Path) -> None:
    a, b, remote = _pair(make_store, tmp_path)
    a.set_state(a.series("c@x"), "under-review")
    a.sync()
    long_tag = "x" * 250
    good = [tag_path("p1@x", "deferred", 1), tag_path("p1@x", "until/2099-01-01", 1)]
    _plant(remote, tmp_path, [tag_path("p2@x", long_tag, 1), *good],
           raw_names={id_path("p2@x", 1): ".."})
    before = _remote_paths(remote)
    report = b.sync()
    assert report.pushed
    why = " ".join(report.skipped)
    assert "x" * 50 in why and "bytes" in why  # the long tag, named with why
    assert ".." in why  # the ".." entry refused
    assert {"triage/deferred", "triage/until/2099-01-01"} <= _tags(b, "p1@x")  # the rest checked out
    assert _remote_paths(remote) >= before  # nothing deleted from the remote
    again = b.sync()  # and later syncs go on
    assert again.pushed and _remote_paths(remote) >= before


# -- 3. tags of messages this store does not have cost nothing and stay ---------------------------------
@needs_notmuch_git
def test_foreign_tags_are_never_read_and_stay(make_store, tmp_path: Path, monkeypatch) -> None:
    a, b, remote = _pair(make_store, tmp_path)
    a.sync()
    foreign = [tag_path(f"other-{n}@elsewhere", "accepted", 1) for n in range(2000)]
    _plant(remote, tmp_path, foreign)
    asked: list[str] = []
    real = b.store.prefixed_tags

    def counting(ids, prefix):
        ids = list(ids)
        asked.extend(ids)
        return real(ids, prefix)

    monkeypatch.setattr(b.store, "prefixed_tags", counting)
    report = b.sync()
    assert report.pushed and report.changed_here == 0
    assert len([m for m in asked if m.startswith("other-")]) <= len(foreign)  # each at most once, as it arrives
    assert set(foreign) <= _remote_paths(remote)
    asked.clear()
    b.sync()  # nothing changed: nothing is read, however much the remote holds
    assert asked == []
    a.set_state(a.series("c@x"), "accepted")
    a.sync()
    b.sync()  # one change: one message's worth of work
    assert not any(m.startswith("other-") for m in asked) and _state(b) == "accepted"


# -- 5. no child reaches the terminal ------------------------------------------------------------------
@needs_notmuch_git
def test_ssh_cannot_ask_on_the_terminal(make_store, tmp_path: Path, monkeypatch) -> None:
    log = tmp_path / "ssh.log"
    fake = tmp_path / "fake-ssh"
    fake.write_text(f"""#!/bin/sh
echo "args: $*" >> {log}
if (exec 3</dev/tty) 2>/dev/null; then echo "tty: yes" >> {log}; else echo "tty: no" >> {log}; fi
echo "Host key verification failed." >&2
exit 255
""")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("GIT_SSH_COMMAND", str(fake))
    session = Session(make_store(), Settings(sync_remote="ssh://git@example.invalid/states.git"))
    with pytest.raises(ToolError, match="Host key verification failed"):
        session.sync()
    said = log.read_text()
    assert "BatchMode=yes" in said and "tty: no" in said


# -- 6. deadlines and cancel ----------------------------------------------------------------------------
@needs_notmuch_git
def test_a_silent_remote_meets_the_deadline_and_a_cancel(make_store, tmp_path: Path, monkeypatch) -> None:
    fake = tmp_path / "silent-ssh"
    fake.write_text("#!/bin/sh\nexec sleep 600\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("GIT_SSH_COMMAND", str(fake))
    store = make_store()
    settings = Settings(sync_remote="ssh://git@example.invalid/states.git", sync_timeout=3)
    t0 = time.monotonic()
    with pytest.raises(ToolError, match="did not finish|are up"):
        Session(store, settings).sync()
    assert time.monotonic() - t0 < 30
    cancel = threading.Event()
    threading.Timer(1.0, cancel.set).start()
    t0 = time.monotonic()
    with pytest.raises(ToolError, match="stopped"):
        Session(store, Settings(sync_remote=settings.sync_remote, sync_timeout=600)).sync(cancel=cancel)
    assert time.monotonic() - t0 < 30


# -- 7. a change made while a sync runs is not lost ------------------------------------------------------
@needs_notmuch_git
def test_a_state_set_while_a_sync_runs_is_kept_and_shared(make_store, tmp_path: Path, monkeypatch) -> None:
    a, b, remote = _pair_sharing(make_store, tmp_path, "under-review")
    real_fetch_merge = sync_module.Sync._merge

    def slow_merge(self, branch, say):
        # While the sync fetches and merges, the maintainer sets a state (CLI or screen).
        other = Session(a.store, a.settings)
        other.set_state(other.series("c@x"), "changes-requested")
        return real_fetch_merge(self, branch, say)

    monkeypatch.setattr(sync_module.Sync, "_merge", slow_merge)
    a.sync()
    monkeypatch.setattr(sync_module.Sync, "_merge", real_fetch_merge)
    assert _state(a) == "changes-requested"  # kept here
    b.sync()
    assert _state(b) == "changes-requested"  # and shared by the same sync


# -- 8. a sync with nothing to do reads nothing ---------------------------------------------------------
@needs_notmuch_git
def test_a_sync_with_nothing_to_do_reads_no_message_and_names_each_step(make_store, tmp_path: Path) -> None:
    a, _, _ = _pair(make_store, tmp_path)
    a.sync()
    said: list[str] = []
    report = a.sync(progress=said.append)
    assert not report.committed and report.changed_here == 0 and report.pushed
    assert any("0 messages changed" in s for s in said)
    assert [s.split(" (")[0] for s in said] == [
        "sync: opening the notmuch-git repository", "sync: committing local states",
        f"sync: fetching from {a.settings.sync_remote}", "sync: committing local states", "sync: pushing"]


def test_the_format_is_notmuch_gits(make_store, tmp_path: Path) -> None:
    """Paths as notmuch-git writes them (format 1: blake2b of the quoted id)."""
    assert id_path("c@x", 1).startswith("tags/") and id_path("c@x", 1).endswith("/c@x")
    assert tag_path("a b@x", "patch/reviewed", 1).endswith("/a%20b@x/patch%2freviewed")
    assert tag_path("c@x", "new", 0) == "tags/c@x/new"


@needs_notmuch_git
async def test_escape_stops_a_sync_on_the_screen(make_store, tmp_path: Path, monkeypatch) -> None:
    from triage.ui.app import TriageApp
    from triage.ui.keymaps import load_keymap
    from triage.ui.widgets.panes import StatusLine

    fake = tmp_path / "silent-ssh"
    fake.write_text("#!/bin/sh\nexec sleep 600\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("GIT_SSH_COMMAND", str(fake))
    session = Session(make_store(), Settings(sync_remote="ssh://git@example.invalid/states.git", sync_timeout=600))
    app = TriageApp(session, load_keymap("default"))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+t")  # triage.sync
        status = app.query_one(StatusLine)

        async def until(condition, seconds: float) -> None:
            # Not settle(): it waits for the worker, which is what must be stopped.
            end = time.monotonic() + seconds
            while not condition() and time.monotonic() < end:
                await pilot.pause(0.1)
            assert condition()

        await until(lambda: any("fetching from" in t for _, t in status.history), 30)
        t0 = time.monotonic()
        await pilot.press("escape")  # triage.back stops it
        await until(lambda: any(err and "stopped" in t for err, t in status.history), 20)
        assert time.monotonic() - t0 < 20
        await until(lambda: app.main._remote_cancel is None, 5)
