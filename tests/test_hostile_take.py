"""Take-in under faults and absurd claims (issue 13, classes 8 and 14)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import create_store, write_lock_held
from tests.gitrepo import commit, git, msgid, new_repo
from tests.mailgen import mail, mbox, patch_body
from triage import paths
from triage.config import Settings
from triage.mail.importer import import_paths
from triage.series.service import find_series
from triage.take.export import ExportError
from triage.take.service import apply, export


def _one_patch_repo(tmp_path: Path):
    repo = new_repo(tmp_path / "repo")
    base = commit(repo, "base", {"a.c": "int a;\n"})
    tip = commit(repo, "a: more\n\nSigned-off-by: Alice Author <alice@example.com>", {"a.c": "int a;\nint a2;\n"})
    out = tmp_path / "patches"
    git(repo, "format-patch", "-q", "--thread", "-o", str(out), f"{base}..{tip}")
    git(repo, "reset", "-q", "--hard", base)
    store = create_store(tmp_path / "store")
    (patch,) = sorted(out.glob("*.patch"))
    import_paths(store, [patch])
    return repo, store, msgid(patch)


def test_an_apply_whose_state_cannot_be_set_says_where_the_commits_are(tmp_path: Path) -> None:
    repo, store, mid = _one_patch_repo(tmp_path)
    pending = paths.state_dir() / "pending"
    pending.parent.mkdir(parents=True, exist_ok=True)
    pending.write_text("a file where the queue's folder should be")
    applied_dir = paths.state_dir() / "applied"
    applied_dir.write_text("nor can the apply be recorded")
    with write_lock_held(store):
        applied, exported, problems = apply(store, Settings(), mid, str(repo))
    assert len(applied.commits) == 1 and git(repo, "log", "-1", "--format=%s") == "a: more"
    (problem,) = problems
    assert f"applied to branch {applied.branch} in {repo} (checked out), but the state was not set" in problem
    assert "could not be queued" in problem
    assert any("not recorded for the thank-you note" in n and applied.branch in n for n in exported.notes)
    assert git(repo, "rev-parse", "--abbrev-ref", "HEAD") == applied.branch
    assert find_series(store, mid).state == "new"


def test_a_claimed_total_of_ten_to_the_twenty_sizes_nothing(make_store) -> None:
    store = make_store(mbox(mail("p@x", "[PATCH 1/100000000000000000000] widget: a", patch_body())))
    s = find_series(store, "p@x")
    assert not s.complete and s.total <= 99_999
    missing, more = s.missing()
    assert missing == list(range(2, 22)) and more == s.total - 21
    with pytest.raises(ExportError, match=r"patch\(es\) 2, 3, .* and \d+ more of \d+ missing"):
        export(store, Settings(), "p@x")
    forced = export(store, Settings(), "p@x", force=True)
    assert len(forced.patches) == 1
