"""``triage sync``: the series' states shared with other maintainers through notmuch-git.

notmuch-git keeps every tag under triage's prefix (series states, per-patch marks,
deferral dates) as a file in a git repository and moves them between the repository and
the notmuch database. A sync commits the local tags, fetches the remote's, merges them,
checks the result out into the database and pushes it.

Two maintainers who both moved a series since their last sync (one to ``accepted``, the
other to ``rejected``) each add a tag: git merges both without complaint, and the
message then carries two states. That is a conflict: it is reported with what each
side set, and both tags stay (nothing is dropped) until someone sets one state and syncs.
"""

from __future__ import annotations

import hashlib
import socket
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from triage import paths
from triage.mail.store import Store
from triage.model.series import PATCH_MARKS, PATCH_TAG, STATES
from triage.remote.tools import ToolError, last_lines, run_tool

TIMEOUT = 600.0


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
    conflicts: list[Conflict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def outcome(self) -> str:
        """What the sync did, conflicts left out."""
        parts = [("committed local states" if self.committed else "no local changes"),
                 f"{self.changed_here} tags changed from the remote",
                 "pushed" if self.pushed else "not pushed"]
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
    def __init__(self, store: Store, remote: str | None, repository: str | Path | None = None) -> None:
        if not remote:
            raise ToolError("sync: no remote to share states with; set [sync] remote = \"git-url\" in config.toml")
        self.store = store
        self.remote = remote
        self.repo = Path(repository).expanduser() if repository else default_repository(store)
        self.prefix = store.config.tag_prefix
        self.env = store.tool_env()
        # notmuch-git commits with git: name the commits after the maintainer when git
        # itself has no identity configured (an identity in the environment or git's config wins).
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
                                 ok=(0, 1)).stdout.strip())
        except ToolError:
            return False

    def _nmg(self, *args: str, what: str, ok: tuple[int, ...] = (0,)) -> str:
        done = run_tool(["notmuch-git", "-C", str(self.repo), "-p", self.prefix, *args], what=what, env=self.env,
                        timeout=TIMEOUT, ok=ok)
        return done.stderr + done.stdout

    def _git(self, *args: str, what: str, ok: tuple[int, ...] = (0,), work_tree: Path | None = None) -> str:
        env = dict(self.env, GIT_TERMINAL_PROMPT="0")
        if work_tree is not None:
            env["GIT_WORK_TREE"] = str(work_tree)
        done = run_tool(["git", "--git-dir", str(self.repo), *args], what=what, env=env, timeout=TIMEOUT, ok=ok)
        return done.stdout.strip()

    def _groups(self) -> tuple[tuple[str, str, set[str]], ...]:
        """(kind, tag prefix, tags) of the tags of which a message carries one at a time."""
        marks = self.prefix + PATCH_TAG
        return (("state", self.prefix, {self.prefix + s for s in STATES}),
                ("patch mark", marks, {marks + m for m in PATCH_MARKS}))

    def _tags(self) -> set[str]:
        return {t for _, _, tags in self._groups() for t in tags}

    # -- the steps ---------------------------------------------------------------------------
    def _ensure_repository(self) -> None:
        if (self.repo / "HEAD").exists():
            self._git("remote", "set-url", "origin", self.remote, what="setting the sync remote")
            return
        self.repo.parent.mkdir(parents=True, exist_ok=True)
        self._nmg("init", what=f"creating the notmuch-git repository {self.repo}")
        self._git("remote", "add", "origin", self.remote, what="setting the sync remote")

    def _branch(self) -> str:
        return self._git("symbolic-ref", "--short", "HEAD", what="reading the sync repository's branch")

    def _remote_branch(self, local: str) -> str | None:
        heads = self._git("ls-remote", "--symref", "origin", what=f"reading the sync remote {self.remote}")
        names = [line.split("\t")[1].removeprefix("refs/heads/") for line in heads.splitlines()
                 if "\t" in line and line.split("\t")[1].startswith("refs/heads/") and not line.startswith("ref:")]
        if local in names:
            return local
        symref = [line.split()[1].removeprefix("refs/heads/") for line in heads.splitlines() if line.startswith("ref:")]
        return symref[0] if symref and symref[0] in names else (names[0] if names else None)

    def _merge(self, branch: str) -> None:
        ref = f"refs/remotes/origin/{branch}"
        related = run_tool(["git", "--git-dir", str(self.repo), "merge-base", "HEAD", ref], what="comparing histories",
                           env=self.env, ok=(0, 1)).returncode == 0
        if related:
            out = self._nmg("merge", ref, what="merging the remote's states", ok=(0, 1))
            if "exceeded" in out or "No existing tags" in out or "Use --force" in out:
                # notmuch-git merged in git but would not check out so many changes unasked:
                # a first sync brings every state the others set.
                self._nmg("checkout", "-f", what="checking the merged states out into notmuch")
            elif "error" in out.lower() or "fatal" in out.lower() or "conflict" in out.lower():
                raise ToolError(f"sync: merging the remote's states failed: {last_lines(out)}")
            return
        # This store's first sync with a remote others already use: two histories to join.
        # notmuch-git merge has no option for that, so git merges (as notmuch-git merge
        # does, in a throwaway work tree) and notmuch-git checks the result out.
        with tempfile.TemporaryDirectory(prefix="triage-sync-") as work:
            self._git("reset", "--hard", what="preparing the merge", work_tree=Path(work))
            self._git("merge", "--allow-unrelated-histories", "-m", "triage sync: join the shared states", ref,
                      what="merging the remote's states", work_tree=Path(work))
        self._nmg("checkout", "-f", what="checking the merged states out into notmuch")

    def run(self, progress: Callable[[str], None] | None = None) -> SyncReport:
        say = progress or (lambda _text: None)
        report = SyncReport()
        self._ensure_repository()
        before = self.store.tagged(self._tags())
        say("sync: committing local states (notmuch-git commit)")
        out = self._nmg("commit", "-f", f"triage sync from {socket.gethostname()}", what="committing local states")
        report.committed = "Nothing to commit" not in out
        local = self._branch()
        say(f"sync: fetching from {self.remote}")
        remote = self._remote_branch(local)
        if remote is not None:
            self._nmg("fetch", "origin", what=f"fetching states from {self.remote}")
            self._merge(remote)
        after = self.store.tagged(self._tags())
        report.changed_here = sum(len(before.get(m, set()) ^ after.get(m, set())) for m in before.keys() | after.keys())
        report.conflicts = self._conflicts(before, after)
        say("sync: pushing")
        try:
            self._git("push", "origin", f"HEAD:refs/heads/{remote or local}", what=f"pushing states to {self.remote}")
            report.pushed = True
        except ToolError as e:
            report.notes.append(f"{e} (another maintainer pushed meanwhile? sync again)")
        return report

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
