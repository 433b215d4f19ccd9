"""``triage merged``: the series whose patches are commits of a branch, found by
``git patch-id --stable`` as ``b4 ty --auto`` finds them (another sha after a
cherry-pick or a rebase, a reworded commit message: the same patch-id).

A match tags the patch's message ``<prefix>merged``, ``<prefix>commit/<sha12>`` and
``<prefix>merged-into/<branch>``: the series model reads them as a trusted decision, so an
untagged series whose every patch is merged reads accepted, and notmuch-git shares them.

What a run learns is kept (``$XDG_STATE_HOME/triage/merged/``, JSON checked against its
types, never code): each branch's commits by patch-id and the tip scanned last, and each
patch message's patch-id. A second run reads only the commits and messages that are new.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import msgspec

from triage import paths
from triage.children import run_child
from triage.errors import UserError
from triage.mail.parse import body_text_of, read_bytes
from triage.mail.store import Store
from triage.series.decisions import COMMIT_TAG, MERGED_INTO_TAG, MERGED_TAG

GIT_TIMEOUT = 600.0
_HEX_RE = re.compile(r"^[0-9a-f]{40}$")


class MergedError(UserError):
    """The tree could not be read."""


class BranchState(msgspec.Struct):
    tip: str = ""
    since: str = ""
    commits: dict[str, tuple[str, str]] = {}  # patch-id -> (sha, subject)


class PatchIds(msgspec.Struct):
    ids: dict[str, str] = {}  # message id -> patch-id ("" for a patch git found none in)


@dataclass
class MergedReport:
    repo: str
    branch: str
    new_commits: int = 0
    read_patches: int = 0
    merged: dict[str, str] = field(default_factory=dict)  # patch message id -> commit sha (newly tagged)
    already: int = 0

    def summary(self) -> str:
        return (f"merged: {len(self.merged)} patch(es) newly found in {self.branch} of {self.repo} "
                f"({self.already} known before; {self.new_commits} new commit(s) and {self.read_patches} new "
                "patch(es) read)")


def _git(repo: Path, *args: str, input_text: str | None = None) -> str:
    try:
        done = run_child(["git", "-C", str(repo), *args], env=dict(os.environ, LC_ALL="C"), timeout=GIT_TIMEOUT,
                         input_text=input_text)
    except FileNotFoundError as e:
        raise MergedError("git is not installed") from e
    except subprocess.TimeoutExpired as e:
        raise MergedError(f"git {args[0]} took more than {GIT_TIMEOUT:.0f} s in {repo}") from e
    if done.returncode != 0:
        why = (done.stderr or done.stdout).strip().splitlines()[-1:] or [f"exit status {done.returncode}"]
        raise MergedError(f"git {args[0]} failed in {repo}: {why[0]}")
    return done.stdout


def _patch_ids(repo: Path, stream: str) -> dict[str, str]:
    """``git patch-id --stable`` of a stream of patches each led by "commit <40 hex>": {that hex: patch-id}."""
    out: dict[str, str] = {}
    for line in _git(repo, "patch-id", "--stable", input_text=stream).splitlines():
        parts = line.split()
        if len(parts) == 2:
            out[parts[1]] = parts[0]
    return out


def _state_dir() -> Path:
    return paths.state_dir() / "merged"


def _load(path: Path, kind: type[msgspec.Struct]) -> msgspec.Struct:
    try:
        return msgspec.json.decode(path.read_bytes(), type=kind)
    except (OSError, msgspec.DecodeError):
        return kind()  # missing or damaged: learnt again


def _save(path: Path, value: msgspec.Struct) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    try:
        tmp.write_bytes(msgspec.json.encode(value))
        tmp.replace(path)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise MergedError(f"cannot keep what triage merged learnt in {path}: {e.strerror or e}") from e


def scan_branch(repo: Path, branch: str, since: str | None) -> tuple[BranchState, int]:
    """The branch's commits by patch-id, reading only those after the tip scanned last.
    Returns (the state, how many commits were read now)."""
    tip = _git(repo, "rev-parse", "--verify", "--end-of-options", f"{branch}^{{commit}}").strip()
    key = hashlib.sha1(f"{repo.resolve()}\0{branch}".encode()).hexdigest()[:16]
    path = _state_dir() / f"branch-{key}.json"
    state = _load(path, BranchState)
    assert isinstance(state, BranchState)
    if state.since != (since or "") or not _HEX_RE.match(state.tip):
        state = BranchState(since=since or "")
    if state.tip == tip:
        return state, 0
    rev = tip
    if state.tip:
        known = run_child(["git", "-C", str(repo), "merge-base", "--is-ancestor", state.tip, tip], timeout=GIT_TIMEOUT)
        rev = f"{state.tip}..{tip}" if known.returncode == 0 else tip
        if known.returncode != 0:
            state = BranchState(since=since or "")  # history rewritten: read it all again
    limit = [f"--since={since}"] if since else []
    subjects = {}
    for line in _git(repo, "log", "--no-merges", "--format=%H%x09%s", *limit, rev, "--").splitlines():
        sha, _, subject = line.partition("\t")
        subjects[sha] = subject
    if subjects:
        stream = _git(repo, "log", "--no-merges", "-p", "--no-color", "--no-ext-diff", "--format=commit %H", *limit, rev, "--")
        for sha, pid in _patch_ids(repo, stream).items():
            state.commits.setdefault(pid, (sha, subjects.get(sha, "")))
    state.tip = tip
    _save(path, state)
    return state, len(subjects)


def message_patch_ids(repo: Path, store: Store, message_ids: list[str]) -> tuple[dict[str, str], int]:
    """Each patch message's patch-id, computed once and kept. Returns (ids, how many were read now)."""
    path = _state_dir() / "patch-ids.json"
    known = _load(path, PatchIds)
    assert isinstance(known, PatchIds)
    todo = [m for m in message_ids if m not in known.ids]
    if todo:
        paths_of = store.message_paths(todo)
        stream: list[str] = []
        fake: dict[str, str] = {}
        for n, mid in enumerate(todo):
            p = paths_of.get(mid)
            if not p:
                continue
            try:
                text = body_text_of(read_bytes(p))
            except (OSError, ValueError):
                continue
            name = f"{n:040x}"
            fake[name] = mid
            stream.append(f"commit {name}\n\n{text}\n")
        found = _patch_ids(repo, "".join(stream)) if stream else {}
        for mid in todo:
            known.ids[mid] = ""
        for name, pid in found.items():
            if name in fake:
                known.ids[fake[name]] = pid
        _save(path, known)
    return {m: known.ids.get(m, "") for m in message_ids}, len(todo)


def find_merged(store: Store, patches: list[str], already: set[str], repo: Path, branch: str,
                since: str | None) -> MergedReport:
    """Tag the patch messages that are commits of ``branch`` (``already``: those tagged before)."""
    if not (repo / ".git").exists() and not (repo / "HEAD").exists():
        raise MergedError(f"{repo} is not a git repository")
    state, new_commits = scan_branch(repo, branch, since)
    ids, read = message_patch_ids(repo, store, sorted(set(patches)))
    report = MergedReport(str(repo), branch, new_commits, read)
    prefix = store.config.tag_prefix
    for mid, pid in ids.items():
        hit = state.commits.get(pid) if pid else None
        if hit is None:
            continue
        tag = prefix + COMMIT_TAG + hit[0][:12]
        if mid in already:
            report.already += 1
            continue
        report.merged[mid] = hit[0]
        store.tag([mid], add=[prefix + MERGED_TAG, tag, prefix + MERGED_INTO_TAG + _tag_safe(branch)])
    return report


def _tag_safe(text: str) -> str:
    """A branch name as a tag's tail: no blanks or controls (a ref has none, a typo may)."""
    return re.sub(r"[\s\x00-\x1f\x7f]+", "-", text)[:120] or "HEAD"


def summary_json(report: MergedReport) -> str:
    return json.dumps({"repo": report.repo, "branch": report.branch, "new_commits": report.new_commits,
                       "merged": report.merged, "already": report.already})
