"""Apply an exported series with ``git am -3`` on a new branch; leave the tree as it was on failure."""

from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from triage import paths
from triage.children import run_child
from triage.errors import UserError
from triage.take.export import Export


class ApplyError(UserError):
    """git refused; the repository is back where it was."""


@dataclass
class Applied:
    series_id: str
    repo: str
    branch: str
    base: str
    commits: list[tuple[str, str]] = field(default_factory=list)  # (sha, title), oldest first
    when: float = field(default_factory=time.time)


def _git(repo: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, LC_ALL="C")
    try:
        done = run_child(["git", "-C", str(repo), *args], env=env, timeout=600)
    except FileNotFoundError as e:
        raise ApplyError("git is not installed") from e
    except subprocess.TimeoutExpired as e:
        raise ApplyError(f"git {args[0]} took more than 10 minutes in {repo}") from e
    if check and done.returncode != 0:
        raise ApplyError(f"git {' '.join(args[:2])} failed in {repo}: {_last_lines(done)}")
    return done


def _last_lines(done: subprocess.CompletedProcess[str], n: int = 6) -> str:
    text = "\n".join(x for x in (done.stdout.strip(), done.stderr.strip()) if x)
    return " | ".join(text.splitlines()[-n:]) or f"exit status {done.returncode}"


# git's advice on going on by hand; triage has aborted the am already, so it would mislead.
_ADVICE = ("hint:", "When you have resolved", "If you prefer to skip", "To restore the original branch",
           "Use 'git am --show-current-patch", "--continue", "--skip", "--abort")


_PROGRESS = ("Applying:", "Using index info", "Falling back to", "Auto-merging", "M\t", "A\t", "D\t")


def _cause(done: subprocess.CompletedProcess[str], n: int = 12) -> list[str]:
    """What git said went wrong, its advice on going on by hand left out."""
    text = "\n".join(x for x in (done.stdout.strip(), done.stderr.strip()) if x)
    lines = [line.rstrip() for line in text.splitlines() if line.strip() and not any(a in line for a in _ADVICE)]
    # The failure first (the conflict, the patch that failed), then what led to it.
    said = [line for line in lines if not line.startswith(_PROGRESS)]
    return said[-n:] or lines[-n:] or [f"exit status {done.returncode}"]


def branch_name(export: Export) -> str:
    s = export.series
    slug = re.sub(r"[^a-z0-9]+", "-", s.title.lower()).strip("-")[:50].strip("-") or "series"
    return f"triage/{slug}-v{s.version}"


def _free_branch(repo: Path, name: str) -> str:
    candidate, n = name, 1
    while _git(repo, "rev-parse", "--verify", "--quiet", f"refs/heads/{candidate}", check=False).returncode == 0:
        n += 1
        candidate = f"{name}-{n}"
    return candidate


def resolve_base(export: Export, repo: Path, base: str | None) -> tuple[str, str | None]:
    """The revision to start from, and a note when ``auto`` could not use the series' base.

    ``auto``: the ``base-commit:`` the series declares, when this tree has it; else HEAD.
    """
    if base != "auto":
        return base or "HEAD", None
    declared = export.base_commit
    if declared is None:
        return "HEAD", "the series declares no base-commit: applied on HEAD"
    if _git(repo, "cat-file", "-e", f"{declared}^{{commit}}", check=False).returncode != 0:
        return "HEAD", f"base-commit {declared[:12]} is not in {repo}: applied on HEAD"
    return declared, None


def apply_export(export: Export, repo: Path, *, base: str | None = None, branch: str | None = None) -> Applied:
    """``git am -3`` the export onto ``base`` (default HEAD; ``auto``: the series' base-commit) on a new branch.

    A conflict aborts the am, returns to the branch that was checked out and deletes
    the new branch: the repository is as it was, and git's message is in the error.
    """
    repo = repo.expanduser()
    if _git(repo, "rev-parse", "--is-inside-work-tree", check=False).stdout.strip() != "true":
        raise ApplyError(f"{repo} is not a git work tree")
    git_dir = Path(_git(repo, "rev-parse", "--absolute-git-dir").stdout.strip())
    if (git_dir / "rebase-apply").exists() or (git_dir / "rebase-merge").exists():
        raise ApplyError(f"{repo}: a git am or rebase is in progress; finish or abort it first")
    dirty = _git(repo, "status", "--porcelain", "--untracked-files=no").stdout.strip()
    if dirty:
        raise ApplyError(f"{repo} has uncommitted changes: {' | '.join(dirty.splitlines()[:3])}")
    previous = _git(repo, "symbolic-ref", "--quiet", "--short", "HEAD", check=False).stdout.strip()
    previous_rev = _git(repo, "rev-parse", "HEAD").stdout.strip()
    start, note = resolve_base(export, repo, base)
    if note:
        export.notes.append(note)
    base_rev = _git(repo, "rev-parse", "--verify", f"{start}^{{commit}}").stdout.strip()
    name = _free_branch(repo, branch or branch_name(export))
    _git(repo, "checkout", "--quiet", "-b", name, base_rev)
    with tempfile.NamedTemporaryFile(prefix="triage-", suffix=".mbox", delete=False) as fh:
        fh.write(export.mbox)
        mbox = fh.name
    try:
        done = _git(repo, "am", "-3", "--patch-format=mboxrd", mbox, check=False)
        if done.returncode != 0:
            cause = _cause(done)
            _git(repo, "am", "--abort", check=False)
            _git(repo, "checkout", "--quiet", previous or previous_rev, check=False)
            _git(repo, "branch", "-D", name, check=False)
            raise ApplyError("git am -3 could not apply the series:\n" + "\n".join(f"  {line}" for line in cause)
                             + f"\ntriage aborted it: nothing was applied, {repo} is back on "
                             f"{previous or previous_rev[:12]} as it was.")
    finally:
        os.unlink(mbox)
    log = _git(repo, "log", "--reverse", "--format=%H %s", f"{base_rev}..HEAD").stdout
    commits = [(line[:40], line[41:]) for line in log.splitlines() if line]
    applied = Applied(export.series.id, str(repo), name, base_rev, commits)
    try:
        record(applied)
    except OSError as e:
        # The commits are in: say so, and where, rather than report the apply as failed.
        export.notes.append(
            f"applied to branch {name} in {repo} (checked out), but not recorded for the thank-you note "
            f"({e.filename or _records_dir()}: {e.strerror or e})"
        )
    return applied


def _records_dir() -> Path:
    return paths.state_dir() / "applied"


def _record_file(series_id: str) -> Path:
    safe = re.sub(r"[^A-Za-z0-9@._-]", "_", series_id)[:200]
    return _records_dir() / f"{safe}.json"


def record(applied: Applied) -> None:
    """Remember where a series went, for the thank-you note."""
    f = _record_file(applied.series_id)
    f.parent.mkdir(parents=True, exist_ok=True)
    tmp = f.with_suffix(".tmp")
    tmp.write_text(json.dumps(asdict(applied), indent=1), encoding="utf-8")
    os.replace(tmp, f)


def recorded(series_id: str) -> Applied | None:
    f = _record_file(series_id)
    try:
        data = json.loads(f.read_text(encoding="utf-8"))
        data["commits"] = [tuple(c) for c in data.get("commits", [])]
        return Applied(**data)
    except (OSError, ValueError, TypeError):
        return None
