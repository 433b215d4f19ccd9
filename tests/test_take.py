"""Taking a series in: export with trailers, apply with git am, range-diff, thank-you note."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.conftest import CORPUS, FIXTURES, create_store, needs_corpus
from tests.gitrepo import commit, git, msgid, new_repo, series_repo
from tests.mailgen import mail, mbox, patch_body
from triage.cache.index import SeriesIndex
from triage.cli import main
from triage.config import Settings
from triage.mail.importer import import_paths, split_mbox
from triage.mail.parse import body_text, parse_bytes
from triage.reply.compose import Identity
from triage.series.service import load_series
from triage.series.trailers import commit_message
from triage.take.apply import ApplyError, recorded
from triage.take.export import ExportError, ExportOptions, export_series, with_trailers
from triage.take.rangediff import normalize, range_diff
from triage.take.service import apply, compare_versions, export, previous_version, thanks_body

B4 = FIXTURES / "b4"
B4_REFS = sorted(p.name for p in B4.glob("trailers-*-ref-*.txt") if re.search(r"-ref-(defaults|addlink|addmysob)\.txt$", p.name)) if B4.is_dir() else []
BOB = "Bob Reviewer <bob@example.net>"


@needs_corpus
@pytest.mark.parametrize("ref", B4_REFS)
def test_export_of_b4_samples_matches_b4s_commit_messages(tmp_path: Path, ref: str) -> None:
    """b4's default, add-link and add-my-sign-off outputs, commit message for commit message."""
    store = create_store(tmp_path)
    import_paths(store, [B4 / (ref.split("-ref-")[0] + ".mbox")])
    text = (B4 / ref).read_text()
    options = ExportOptions(
        link="https://patch.msgid.link/{msgid}" if "Link: https://patch.msgid.link/" in text else None,
        link_to="patch",
        signoff=Identity("Test Override", "test-override@example.com") if "Signed-off-by: Test Override" in text else None,
        force=True,
    )
    got = {}
    for s in load_series(store):
        exported = export_series(store, s, options)
        for raw in split_mbox(exported.mbox):
            m = parse_bytes(raw)
            got[str(m["Message-Id"]).strip("<>")] = commit_message(body_text(m).text).rstrip()
    expected = {}
    for raw in split_mbox((B4 / ref).read_bytes()):
        m = parse_bytes(raw)
        expected[str(m["Message-Id"]).strip("<>")] = commit_message(body_text(m).text).rstrip()
    assert expected and {k: got.get(k) for k in expected} == expected


def test_trailers_join_the_existing_block_or_start_one() -> None:
    body = "Subject line body.\n\nSigned-off-by: A <a@x>\n---\n f | 1 +\n\ndiff --git a/f b/f\n"
    new, added = with_trailers(body, ["Reviewed-by: B <b@x>", "signed-off-by:  a <A@x>"])
    assert added == ["Reviewed-by: B <b@x>"]  # the same sign-off in other case and spacing is not repeated
    assert new.startswith("Subject line body.\n\nSigned-off-by: A <a@x>\nReviewed-by: B <b@x>\n---\n")
    bare, _ = with_trailers("Just text.\n---\ndiff --git a/f b/f\n", ["Acked-by: C <c@x>"])
    assert bare.startswith("Just text.\n\nAcked-by: C <c@x>\n---\n")


def test_round_trip_format_patch_to_store_to_git_am(tmp_path: Path) -> None:
    repo, base, tip, out = series_repo(tmp_path)
    store = create_store(tmp_path / "store")
    files = sorted(out.glob("*.patch"))
    cover, p1, p2, p3 = (msgid(f) for f in files)
    reviews = tmp_path / "reviews.mbox"
    reviews.write_bytes(mbox(
        mail("r1@x", "Re: [PATCH 1/3] a", "> x\n\nReviewed-by: Bob Reviewer <bob@example.net>\n", parent=p1, refs=[cover, p1], sender=BOB, minutes=60),
        mail("r0@x", "Re: [PATCH 0/3] widget", "All good.\n\nAcked-by: Carol <carol@example.org>\n", parent=cover, sender="Carol <carol@example.org>", minutes=61),
        mail("r3@x", "Re: [PATCH 3/3] c", "Tested-by: Mallory <mallory@example.org>\n", parent=p3, refs=[cover, p3], sender="Eve <eve@example.org>", minutes=62),
    ))
    assert import_paths(store, [*files, reviews]).added == 7
    settings = Settings(export_link="https://lore.kernel.org/r/{msgid}", apply_repo=str(repo))
    git(repo, "checkout", "-q", "-b", "work", base)
    applied, exported, problems = apply(store, settings, cover, None, base=base)
    assert not problems and applied.branch == "triage/widget-three-changes-v1"
    assert git(repo, "rev-parse", "HEAD^{tree}") == git(repo, "rev-parse", f"{tip}^{{tree}}")  # the same tree
    assert git(repo, "rev-parse", "--abbrev-ref", "HEAD") == applied.branch
    messages = [git(repo, "log", "-1", "--format=%B", sha) for sha, _ in applied.commits]
    assert [t for _, t in applied.commits] == ["a: change the first line", "b: grow", "c: add"]
    link = f"Link: https://lore.kernel.org/r/{cover}"
    assert messages[0].endswith(
        "Signed-off-by: Alice Author <alice@example.com>\nReviewed-by: Bob Reviewer <bob@example.net>\n"
        f"Acked-by: Carol <carol@example.org>\n{link}"
    )
    assert messages[1].endswith(f"Signed-off-by: Alice Author <alice@example.com>\nAcked-by: Carol <carol@example.org>\n{link}")
    original = git(repo, "log", "-1", "--format=%B", tip)
    assert messages[2].startswith(original + "\n")  # "From " lines survive the mboxrd round trip
    assert "Mallory" not in messages[2]  # a trailer sent by someone else is left out, and said so
    assert any("Mallory" in n and "eve@example.org" in n for n in exported.notes)
    after = next(s for s in load_series(store) if s.id == cover)
    assert after.state == "accepted"
    assert recorded(cover).commits == applied.commits


def test_a_conflicting_series_leaves_the_repository_as_it_was(tmp_path: Path) -> None:
    repo, base, _tip, out = series_repo(tmp_path)
    store = create_store(tmp_path / "store")
    import_paths(store, sorted(out.glob("*.patch")))
    cover = msgid(out / "0000-cover-letter.patch")
    git(repo, "checkout", "-q", "-b", "other", base)
    clash = commit(repo, "b: something else", {"b.c": "int b;\nint not_b2;\n"})
    branches = git(repo, "branch", "--list")
    with pytest.raises(ApplyError, match=r"(?s)git am -3 could not apply the series:\n  CONFLICT \(content\): Merge conflict in b\.c.*\ntriage aborted it: nothing was applied"):
        apply(store, Settings(), cover, str(repo))
    assert git(repo, "rev-parse", "HEAD") == clash and git(repo, "rev-parse", "--abbrev-ref", "HEAD") == "other"
    assert git(repo, "branch", "--list") == branches
    assert git(repo, "status", "--porcelain") == ""
    assert not (repo / ".git" / "rebase-apply").exists()
    assert next(s for s in load_series(store) if s.id == cover).state == "new"


def test_incomplete_series_is_refused_unless_forced(make_store, tmp_path: Path) -> None:
    store = make_store(mbox(
        mail("c@x", "[PATCH 0/3] thing", "cover\n"),
        mail("p1@x", "[PATCH 1/3] thing: a", patch_body(), parent="c@x", minutes=1),
        mail("p3@x", "[PATCH 3/3] thing: c", patch_body(), parent="c@x", minutes=3),
    ))
    with pytest.raises(ExportError, match=r"incomplete: patch\(es\) 2 of 3 missing"):
        export(store, Settings(), "c@x")
    forced = export(store, Settings(), "c@x", force=True)
    assert [p.index for p in forced.patches] == [1, 3]
    out = tmp_path / "x.mbox"
    assert main(["--config", store.config.config_path, "export", "c@x", "-o", str(out)]) == 1
    assert main(["--config", store.config.config_path, "export", "c@x", "-o", str(out), "--force"]) == 0
    assert out.read_bytes().count(b"\nFrom git@z ") == 1 and out.read_bytes().startswith(b"From git@z ")
    with pytest.raises(ApplyError, match=r"no repository: give --repo PATH"):
        apply(store, Settings(), "c@x", None, force=True)


NEW_PATCH = """new one

Signed-off-by: Alice Author <alice@example.com>
---
 g.c | 3 +++

diff --git a/g.c b/g.c
new file mode 100644
index 0000000..3333333
--- /dev/null
+++ b/g.c
@@ -0,0 +1,3 @@
+x
+y
+z
"""


def _two_versions() -> bytes:
    return mbox(
        mail("c1@x", "[PATCH 0/3] widget", "v1\n"),
        mail("a1@x", "[PATCH 1/3] widget: a", patch_body("first"), parent="c1@x", minutes=1),
        mail("b1@x", "[PATCH 2/3] widget: b", patch_body("second"), parent="c1@x", minutes=2),
        mail("d1@x", "[PATCH 3/3] widget: dropped", patch_body("third"), parent="c1@x", minutes=3),
        mail("c2@x", "[PATCH v2 0/3] widget", "v2\n", minutes=100),
        mail("a2@x", "[PATCH v2 1/3] widget: a", patch_body("first"), parent="c2@x", minutes=101),
        mail("b2@x", "[PATCH v2 2/3] widget: b", patch_body("second, reworded"), parent="c2@x", minutes=102),
        mail("n2@x", "[PATCH v2 3/3] widget: new", NEW_PATCH, parent="c2@x", minutes=103),
    )


def test_range_diff_pairs_patches_and_shows_what_changed(make_store, capsys: pytest.CaptureFixture[str]) -> None:
    store = make_store(_two_versions())
    (v2,) = [s for s in load_series(store) if s.version == 2]
    v1 = previous_version(SeriesIndex(store), v2)
    assert v1 is not None and v1.version == 1
    lines = compare_versions(store, v1, v2)
    heads = [(line.kind, line.text.split(" ", 1)[0]) for line in lines if line.kind in ("same", "changed", "added", "removed")]
    assert heads == [("same", "1:"), ("changed", "2:"), ("removed", "3:"), ("added", "-:")]
    changed = [line.text for line in lines if line.kind in "+-"]
    assert changed == ["    -second", "    +second, reworded"]
    assert main(["--config", store.config.config_path, "range-diff", "c2@x"]) == 0
    out = capsys.readouterr().out
    assert "range-diff v1 -> v2" in out and "    +second, reworded" in out
    assert main(["--config", store.config.config_path, "versions", "c1@x"]) == 0
    got = capsys.readouterr().out
    assert re.search(r"\* v1 .*c1@x.*\n(.*\n)*  v2 .*c2@x", got)
    assert "linked to <c1@x>: same author, title (in <c2@x>)" in got


def test_normalize_ignores_line_numbers_and_index_lines() -> None:
    a = normalize(1, "t", "msg\n---\n f | 2 +-\n\ndiff --git a/f b/f\nindex 111..222 100644\n--- a/f\n+++ b/f\n@@ -1,3 +1,3 @@ fn\n a\n-b\n+c\n-- \n2.40\n")
    b = normalize(1, "t", "msg\n---\n f | 9 +-\n\ndiff --git a/f b/f\nindex 333..444 100644\n--- a/f\n+++ b/f\n@@ -7,3 +7,3 @@ fn\n a\n-b\n+c\n-- \n2.41\n")
    assert a == b and range_diff([a], [b])[0].kind == "same"


def test_thanks_note_names_branch_and_commits(tmp_path: Path) -> None:
    repo, base, _tip, out = series_repo(tmp_path)
    store = create_store(tmp_path / "store")
    import_paths(store, sorted(out.glob("*.patch")))
    cover = msgid(out / "0000-cover-letter.patch")
    applied, exported, _ = apply(store, Settings(), cover, str(repo), base=base)
    text = thanks_body(exported.series, applied, "Test Maintainer <maint@example.org>")
    assert text.startswith("Hello:\n\nThis series was applied to triage/widget-three-changes-v1, thanks!\n")
    for n, (sha, title) in enumerate(applied.commits, 1):
        assert f"[{n}/3] {title}\n      commit: {sha[:12]}\n" in text


@needs_corpus
def test_export_of_a_real_series_applies_its_own_trailers_once(tmp_path: Path) -> None:
    store = create_store(tmp_path)
    import_paths(store, [CORPUS / "threads" / "linux-pwm" / "mc33xs2410-high-side-switch" / "v09-PATCH-v9-0-2.mbox"])
    (s,) = [s for s in load_series(store) if s.version == 9]
    exported = export_series(store, s, ExportOptions())
    for p in exported.patches:
        block = commit_message(p.body)
        assert block.count(f"Link: https://lore.kernel.org/r/{s.id}") == 1
        for line in p.added:
            assert block.count(line) == 1
    (tmp_path / "x.mbox").write_bytes(exported.mbox)
    (tmp_path / "split").mkdir()
    split = subprocess.run(["git", "mailsplit", "--mboxrd", "-o" + str(tmp_path / "split"), str(tmp_path / "x.mbox")],
                           capture_output=True, check=False)
    assert split.stdout.strip() == b"2", split.stderr


def test_apply_on_the_declared_base_commit(tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "repo")
    base = commit(repo, "base", {"a.c": "int a;\n", "b.c": "int b;\n"})
    tip = commit(repo, "a: more\n\nSigned-off-by: Alice Author <alice@example.com>", {"a.c": "int a;\nint a2;\n"})
    out = tmp_path / "patches"
    git(repo, "format-patch", "-q", "--cover-letter", "--thread=shallow", f"--base={base}", "-o", str(out), f"{base}..{tip}")
    cover_file = out / "0000-cover-letter.patch"
    cover_file.write_text(cover_file.read_text().replace("*** SUBJECT HERE ***", "a: more"))
    # The maintainer's tree has moved on in a way the patch conflicts with.
    git(repo, "checkout", "-q", "-b", "next", base)
    moved = commit(repo, "a: other", {"a.c": "int a;\nint other;\n"})
    store = create_store(tmp_path / "store")
    import_paths(store, sorted(out.glob("*.patch")))
    cover = msgid(cover_file)
    with pytest.raises(ApplyError, match="git am -3 could not apply the series"):
        apply(store, Settings(), cover, str(repo))  # on HEAD: conflicts
    assert git(repo, "rev-parse", "HEAD") == moved
    applied, exported, _ = apply(store, Settings(), cover, str(repo), base="auto")
    assert exported.base_commit == base and applied.base == base
    assert git(repo, "rev-parse", "HEAD^{tree}") == git(repo, "rev-parse", f"{tip}^{{tree}}")
    # A base the tree does not have: HEAD, and said so.
    git(repo, "checkout", "-q", "next")
    other = tmp_path / "other"
    new_repo(other)
    commit(other, "unrelated", {"z": "z\n"})
    store2 = create_store(tmp_path / "store2")
    import_paths(store2, sorted(out.glob("*.patch")))
    with pytest.raises(ApplyError):
        apply(store2, Settings(), cover, str(other), base="auto")  # HEAD has no a.c: git am stops
    exported2 = export(store2, Settings(), cover)
    from triage.take.apply import resolve_base
    assert resolve_base(exported2, other, "auto") == ("HEAD", f"base-commit {base[:12]} is not in {other}: applied on HEAD")
