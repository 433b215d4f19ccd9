"""``triage sync``: the series' states shared with other maintainers, in notmuch-git's format.

Every tag under triage's prefix (series states, per-patch marks, deferral dates) is a
file in a git repository (see :mod:`triage.remote.tagtree`; notmuch-git reads and writes
the same repository). A sync commits what this database changed, fetches the remote's,
merges, writes what the merge changed into the database and pushes.

It works on differences, never on the whole tree, so that nothing is lost and a sync
costs what changed, not what the remote holds:

- the commit reads only the messages notmuch changed since the last sync (``lastmod``)
  and writes only their tag files; tags of messages this store does not have (another
  maintainer's archive) are never read, changed or deleted;
- the merge is git's (``merge-tree``, no work tree); what it changed (``diff-tree`` of the
  old and the new HEAD) is applied to the database in one transaction, a bad entry (a
  ``..``, a tag notmuch cannot hold) skipped and named;
- before HEAD moves, a journal names the old and new HEAD: a sync stopped after the merge
  (killed, a closed terminal, a failing write) finishes that checkout first next time,
  and never commits the stale database over the merged states;
- the database's changes made while a sync runs are committed before it pushes, or by the
  next sync (the last commit's ``lastmod`` is where the next one starts).

Two maintainers who both moved a series since their last sync (one to ``accepted``, the
other to ``rejected``) each add a tag: the message then carries two states. That is a
conflict: reported with what each side set, both tags kept, until one state is set and
synced. Every step is named while it runs, the whole run has a deadline (``[sync]
timeout``), and a cancel (Escape on the screen) stops the child that runs.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import tempfile
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from triage import paths
from triage.children import Deadline
from triage.mail.query import quoted
from triage.mail.store import Store
from triage.model.series import PATCH_MARKS, PATCH_TAG, STATES
from triage.remote.tagtree import EMPTY_BLOB, BadEntry, id_path, parse_path, tag_path
from triage.remote.tools import ToolError, run_tool

DEFAULT_TIMEOUT = 120.0
JOURNAL = "triage-checkout.json"  # written before HEAD moves, removed once the database has the merge
STATE = "triage-sync.json"  # the database (uuid, lastmod) the last commit read
LS_CHUNK = 400  # paths per git ls-tree


@dataclass(frozen=True)
class Conflict:
    message_id: str
    kind: str  # "state" or "patch mark"
    here: tuple[str, ...]  # what this store had set
    remote: tuple[str, ...]  # what the merge brought

    def what(self) -> str:
        """What each side set (the message left out)."""
        if not self.remote:  # both were here before this sync: a conflict an earlier sync found
            return f"{self.kind} {', '.join(self.here)} still both set"
        return f"{self.kind} {', '.join(self.here) or '(none)'} here, {', '.join(self.remote)} from the remote"

    def describe(self) -> str:
        return f"<{self.message_id}>: {self.what()}"


@dataclass
class SyncReport:
    committed: bool = False
    changed_here: int = 0  # tags the merge added to or removed from this database
    pushed: bool = False
    resumed: bool = False  # an interrupted checkout was finished first
    conflicts: list[Conflict] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # bad entries of the shared tree, each with why
    notes: list[str] = field(default_factory=list)

    def outcome(self) -> str:
        """What the sync did, conflicts left out."""
        parts = [("committed local states" if self.committed else "no local changes"),
                 f"{self.changed_here} tags changed from the remote",
                 "pushed" if self.pushed else "not pushed"]
        if self.resumed:
            parts.insert(0, "finished the interrupted checkout")
        if self.skipped:
            parts.append(f"{len(self.skipped)} bad entries of the shared tree skipped")
        return "sync: " + ", ".join(parts)

    def summary(self) -> str:
        text = self.outcome()
        if self.conflicts:
            text += f"; {len(self.conflicts)} conflicts (both kept; set one state and sync again): " + "; ".join(
                c.describe() for c in self.conflicts[:5]) + (" ..." if len(self.conflicts) > 5 else "")
        return text


def default_repository(store: Store) -> Path:
    key = hashlib.sha1(str(store.path()).encode()).hexdigest()[:16]
    return paths.data_home() / "triage" / "sync" / f"{key}.git"


class Sync:
    def __init__(self, store: Store, remote: str | None, repository: str | Path | None = None, *,
                 timeout: float = DEFAULT_TIMEOUT, cancel: threading.Event | None = None) -> None:
        if not remote:
            raise ToolError("sync: no remote to share states with; set [sync] remote = \"git-url\" in config.toml")
        self.store = store
        self.remote = remote
        self.repo = Path(repository).expanduser() if repository else default_repository(store)
        self.prefix = store.config.tag_prefix
        self.deadline = Deadline(timeout, cancel)
        self.env = store.tool_env()
        self.version = 1
        # Commits carry the maintainer's name when git itself has no identity configured
        # (an identity in the environment or git's config wins).
        name = store.config_value("user.name") or "triage"
        email = store.config_value("user.primary_email") or "triage@localhost"
        if not self._git_knows_identity():
            for role in ("AUTHOR", "COMMITTER"):
                self.env.setdefault(f"GIT_{role}_NAME", name)
                self.env.setdefault(f"GIT_{role}_EMAIL", email)

    # -- the tools -------------------------------------------------------------------------
    def _git_knows_identity(self) -> bool:
        try:
            return bool(run_tool(["git", "config", "user.email"], what="reading git's identity", env=self.env,
                                 ok=(0, 1), deadline=self.deadline).stdout.strip())
        except ToolError:
            return False

    def _git(self, *args: str, what: str, ok: tuple[int, ...] = (0,), env: dict[str, str] | None = None,
             input_text: str | None = None) -> str:
        done = run_tool(["git", "--git-dir", str(self.repo), *args], what=what, env=env or self.env, ok=ok,
                        deadline=self.deadline, input_text=input_text)
        return done.stdout.strip()

    def _rev(self, ref: str) -> str | None:
        out = self._git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", what=f"reading {ref}", ok=(0, 1))
        return out or None

    def _is_ancestor(self, a: str, b: str) -> bool:
        done = run_tool(["git", "--git-dir", str(self.repo), "merge-base", "--is-ancestor", a, b],
                        what="comparing histories", env=self.env, ok=(0, 1), deadline=self.deadline)
        return done.returncode == 0

    def _groups(self) -> tuple[tuple[str, str, set[str]], ...]:
        """(kind, tag prefix, tags without the sync prefix) of which a message carries one at a time."""
        return (("state", "", set(STATES)), ("patch mark", PATCH_TAG, {PATCH_TAG + m for m in PATCH_MARKS}))

    # -- the repository ---------------------------------------------------------------------
    def _ensure_repository(self) -> None:
        if (self.repo / "HEAD").exists():
            self._git("remote", "set-url", "origin", self.remote, what="setting the sync remote")
        else:
            self.repo.parent.mkdir(parents=True, exist_ok=True)
            run_tool(["notmuch-git", "-C", str(self.repo), "-p", self.prefix, "init"],
                     what=f"creating the notmuch-git repository {self.repo}", env=self.env, deadline=self.deadline)
            self._git("remote", "add", "origin", self.remote, what="setting the sync remote")
        got = self._git("cat-file", "blob", "HEAD:FORMAT", what="reading the repository's format", ok=(0, 128))
        self.version = 1 if got.strip() == "1" else 0

    def _read(self, name: str) -> dict:
        try:
            data = json.loads((self.repo / name).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _write(self, name: str, data: dict) -> None:
        target = self.repo / name
        tmp = target.with_name(f".{name}.{os.getpid()}")
        try:
            tmp.write_text(json.dumps(data), encoding="utf-8")
            os.replace(tmp, target)
        except OSError as e:
            tmp.unlink(missing_ok=True)
            raise ToolError(f"sync: cannot write {target}: {e.strerror or e}") from e

    def _head_tags(self, ids: Iterable[str], rev: str) -> tuple[dict[str, set[str]], list[str]]:
        """The tags ``rev`` holds for ``ids`` (bad entries left out, and named)."""
        out: dict[str, set[str]] = {}
        bad: list[str] = []
        ids = list(ids)
        for i in range(0, len(ids), LS_CHUNK):
            chunk = [id_path(m, self.version) for m in ids[i : i + LS_CHUNK]]
            listing = self._git("ls-tree", "-r", "--name-only", "-z", rev, "--", *chunk, what="reading the shared tags")
            for path in filter(None, listing.split("\0")):
                try:
                    mid, tag = parse_path(path, self.version, self.prefix)
                except BadEntry as e:
                    bad.append(f"{path[:120]}: {e}")
                    continue
                out.setdefault(mid, set()).add(tag)
        return out, bad

    # -- the steps ---------------------------------------------------------------------------
    def _commit(self, say: Callable[[str], None]) -> tuple[bool, int]:
        """Commit the tags of the messages notmuch changed since the last commit. Returns
        (whether a commit was made, the database revision it read)."""
        uuid, rev = self.store.revision()
        state = self._read(STATE)
        since = int(state["lastmod"]) + 1 if state.get("uuid") == uuid and isinstance(state.get("lastmod"), int) else 0
        changed = [mid for mid, _ in self.store.changed_since(since)]
        say(f"sync: committing local states ({len(changed)} messages changed since the last sync)")
        if not changed:
            return False, rev
        db = self.store.prefixed_tags(changed, self.prefix)
        head, _ = self._head_tags(db, "HEAD")
        lines: list[str] = []
        for mid, tags in db.items():
            have = head.get(mid, set())
            lines += [f"100644 {EMPTY_BLOB}\t{tag_path(mid, t, self.version)}" for t in sorted(tags - have)]
            lines += [f"0 {'0' * 40}\t{tag_path(mid, t, self.version)}" for t in sorted(have - tags)]
        if not lines:
            return False, rev
        with tempfile.TemporaryDirectory(prefix="triage-sync-index-") as tmp:
            env = dict(self.env, GIT_INDEX_FILE=str(Path(tmp) / "index"))
            self._git("read-tree", "HEAD", what="reading the shared tags", env=env)
            self._git("update-index", "--index-info", what="recording local states", env=env,
                      input_text="\n".join(lines) + "\n")
            tree = self._git("write-tree", what="recording local states", env=env)
        head_sha = self._git("rev-parse", "HEAD", what="reading HEAD")
        sha = self._git("commit-tree", tree, "-p", head_sha, "-m", f"triage sync from {socket.gethostname()}",
                        what="committing local states")
        self._git("update-ref", "HEAD", sha, head_sha, what="committing local states")
        return True, rev

    def _remote_branch(self, local: str) -> str | None:
        heads = self._git("ls-remote", "--symref", "origin", what=f"reading the sync remote {self.remote}")
        names = [line.split("\t")[1].removeprefix("refs/heads/") for line in heads.splitlines()
                 if "\t" in line and line.split("\t")[1].startswith("refs/heads/") and not line.startswith("ref:")]
        if local in names:
            return local
        symref = [line.split()[1].removeprefix("refs/heads/") for line in heads.splitlines() if line.startswith("ref:")]
        return symref[0] if symref and symref[0] in names else (names[0] if names else None)

    def _merge(self, branch: str, say: Callable[[str], None]) -> tuple[str, str] | None:
        """Merge the fetched branch into HEAD; (old, new) HEAD when it moved."""
        theirs = self._rev(f"refs/remotes/origin/{branch}")
        ours = self._rev("HEAD")
        if theirs is None or ours is None or theirs == ours or self._is_ancestor(theirs, ours):
            return None
        say("sync: merging the remote's states")
        if self._is_ancestor(ours, theirs):
            new = theirs
        else:
            related = run_tool(["git", "--git-dir", str(self.repo), "merge-base", ours, theirs], what="comparing histories",
                               env=self.env, ok=(0, 1), deadline=self.deadline).returncode == 0
            extra = [] if related else ["--allow-unrelated-histories"]
            out = run_tool(["git", "--git-dir", str(self.repo), "merge-tree", "--write-tree", *extra, ours, theirs],
                           what="merging the remote's states", env=self.env, ok=(0, 1), deadline=self.deadline)
            tree = out.stdout.split("\n", 1)[0].strip()
            if out.returncode != 0 or not tree:
                raise ToolError(f"sync: merging the remote's states failed: {out.stdout[-400:]}")
            new = self._git("commit-tree", tree, "-p", ours, "-p", theirs, "-m", "triage sync: merge the shared states",
                            what="merging the remote's states")
        # The journal first: a sync stopped from here on finishes this checkout next time.
        self._write(JOURNAL, {"old": ours, "new": new})
        self._git("update-ref", "HEAD", new, ours, what="moving to the merged states")
        return ours, new

    def _checkout(self, old: str, new: str, report: SyncReport, say: Callable[[str], None]) -> None:
        """Write what HEAD gained and lost from ``old`` to ``new`` into the database; then the
        journal goes."""
        diff = self._git("diff-tree", "-r", "-z", "--no-renames", "--name-status", old, new, "--", "tags",
                         what="reading what the merge changed")
        fields = diff.split("\0")
        add: dict[str, set[str]] = {}
        remove: dict[str, set[str]] = {}
        for status, path in zip(fields[0::2], fields[1::2], strict=False):
            if not path:
                continue
            try:
                mid, tag = parse_path(path, self.version, self.prefix)
            except BadEntry as e:
                report.skipped.append(f"{path[:120]}: {e}")
                continue
            (add if status == "A" else remove if status == "D" else {}).setdefault(mid, set()).add(tag)
        touched = sorted(add.keys() | remove.keys())
        say(f"sync: checking {sum(map(len, add.values())) + sum(map(len, remove.values()))} tag changes out into notmuch")
        before = self.store.prefixed_tags(touched, self.prefix)
        changes = [(mid, {self.prefix + t for t in add.get(mid, ())}, {self.prefix + t for t in remove.get(mid, ())})
                   for mid in touched if mid in before]
        if changes:
            self.store.retag(changes)
        after = self.store.prefixed_tags(before, self.prefix)  # the messages it holds: read once more
        report.changed_here += sum(len(before.get(m, set()) ^ after.get(m, set())) for m in touched)
        report.conflicts += self._conflicts(before, after)
        (self.repo / JOURNAL).unlink(missing_ok=True)

    def run(self, progress: Callable[[str], None] | None = None) -> SyncReport:
        say = progress or (lambda _text: None)
        report = SyncReport()
        say("sync: opening the notmuch-git repository")
        self._ensure_repository()
        journal = self._read(JOURNAL)
        if journal.get("old") and journal.get("new"):
            # Stopped after a merge: the database first gets what the merge brought, or the
            # commit below would record the stale database over it.
            say("sync: finishing the checkout an interrupted sync left")
            self._checkout(str(journal["old"]), str(journal["new"]), report, say)
            report.resumed = True
        committed, rev = self._commit(say)
        self._write(STATE, {"uuid": self.store.revision()[0], "lastmod": rev})
        local = self._git("symbolic-ref", "--short", "HEAD", what="reading the sync repository's branch")
        say(f"sync: fetching from {self.remote}")
        branch = self._remote_branch(local)
        for attempt in (1, 2):
            if branch is not None:
                self._git("fetch", "--quiet", "origin", f"+refs/heads/{branch}:refs/remotes/origin/{branch}",
                          what=f"fetching states from {self.remote}")
                moved = self._merge(branch, say)
                if moved is not None:
                    self._checkout(*moved, report, say)
            # What was set while this sync ran goes out with it.
            again, rev = self._commit(say)
            committed = committed or again
            self._write(STATE, {"uuid": self.store.revision()[0], "lastmod": rev})
            say("sync: pushing")
            try:
                self._git("push", "--quiet", "origin", f"HEAD:refs/heads/{branch or local}",
                          what=f"pushing states to {self.remote}")
                report.pushed = True
                break
            except ToolError as e:
                if attempt == 2 or self.deadline.cancelled:
                    report.notes.append(f"{e} (another maintainer pushed meanwhile? sync again)")
                branch = branch or local
        report.committed = committed
        report.conflicts += [c for c in self._standing_conflicts() if c.message_id not in
                             {x.message_id for x in report.conflicts}]
        return report

    def _standing_conflicts(self) -> list[Conflict]:
        """Messages that still carry two states (or two patch marks) from an earlier sync."""
        pairs = []
        for _, _, group in self._groups():
            tags = sorted(group)
            pairs += [(a, b) for i, a in enumerate(tags) for b in tags[i + 1 :]]
        query = " or ".join(f"(tag:{quoted(self.prefix + a)} and tag:{quoted(self.prefix + b)})" for a, b in pairs)
        ids = self.store.matching_ids(query)
        if not ids:
            return []
        now = self.store.prefixed_tags(sorted(ids), self.prefix)
        return [Conflict(c.message_id, c.kind, c.here + c.remote, ()) for c in self._conflicts(now, now)]

    def _conflicts(self, before: dict[str, set[str]], after: dict[str, set[str]]) -> list[Conflict]:
        out = []
        for mid in sorted(after):
            for kind, prefix, group in self._groups():
                now = after[mid] & group
                if len(now) > 1:
                    had = before.get(mid, set()) & now
                    out.append(Conflict(mid, kind, tuple(sorted(t[len(prefix):] for t in had)),
                                        tuple(sorted(t[len(prefix):] for t in now - had))))
        return out
