"""Sync benchmark (issue 25, items 3 and 8): ``triage sync`` costs what changed, not what the
remote holds.

Usage: ``.venv/bin/python bench/bench_sync.py [--foreign N] [--repeat R]``

1. no-op: a sync with nothing to do on the linux-pwm store (every series given a state
   first, so 23,509 messages carry triage tags), against ``git fetch`` of the same
   remote (the floor of talking to it); goal under 5 s;
2. foreign: the remote holds N (default 100,000) tags of messages this store does not
   have: the sync that brings them, and the no-op sync after, against ``git fetch`` of
   that remote; goal under 10 s each.

Each figure is the median of R runs, printed with its ratio to the baseline timed in the
same run (the machine is shared and noisy).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from corpus_db import build, compile_triage, list_messages  # noqa: E402

from triage.config import Settings  # noqa: E402
from triage.remote.tagtree import EMPTY_BLOB, tag_path  # noqa: E402
from triage.session import Session  # noqa: E402


def git(repo: Path, *args: str, input_text: str | None = None, env: dict[str, str] | None = None) -> str:
    return subprocess.run(["git", "--git-dir", str(repo), *args], check=True, capture_output=True, text=True,
                          input=input_text, env=env).stdout.strip()


def timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def fetch_floor(remote: Path, work: Path) -> float:
    clone = work / "floor.git"
    shutil.rmtree(clone, ignore_errors=True)
    subprocess.run(["git", "init", "-q", "--bare", str(clone)], check=True)
    return timed(lambda: git(clone, "fetch", "-q", str(remote), "+refs/heads/*:refs/remotes/origin/*"))


def plant_foreign(remote: Path, n: int, work: Path) -> None:
    branch = git(remote, "symbolic-ref", "--short", "HEAD")
    head = git(remote, "rev-parse", branch)
    env = dict(os.environ, GIT_INDEX_FILE=str(work / "plant-index"), GIT_AUTHOR_NAME="b", GIT_AUTHOR_EMAIL="b@x",
               GIT_COMMITTER_NAME="b", GIT_COMMITTER_EMAIL="b@x")
    git(remote, "hash-object", "-w", "--stdin", input_text="")
    git(remote, "read-tree", head, env=env)
    lines = "".join(f"100644 {EMPTY_BLOB}\t{tag_path(f'foreign-{i}@elsewhere.example', 'accepted', 1)}\n" for i in range(n))
    git(remote, "update-index", "--index-info", input_text=lines, env=env)
    tree = git(remote, "write-tree", env=env)
    commit = git(remote, "commit-tree", tree, "-p", head, "-m", "another archive's states", env=env)
    git(remote, "update-ref", f"refs/heads/{branch}", commit)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--foreign", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    compile_triage()
    work = Path(tempfile.mkdtemp(prefix="triage-bench-sync-"))
    os.environ.update(XDG_CACHE_HOME=str(work / "cache"), XDG_DATA_HOME=str(work / "data"),
                      XDG_STATE_HOME=str(work / "state"), TRIAGE_NO_DNS="1")
    try:
        store = build("full", list_messages())
        remote = work / "states.git"
        subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
        session = Session(store, Settings(sync_remote=str(remote), sync_timeout=3600))
        session.refresh()
        session.set_state_by_query("*", "under-review")
        tagged = store.count("tag:triage/under-review")
        first = timed(session.sync)
        print(f"store: {store.count('*')} messages, {tagged} with a state; first sync {first:.2f} s")
        noop = [timed(session.sync) for _ in range(args.repeat)]
        floor = [fetch_floor(remote, work) for _ in range(args.repeat)]
        m, f = statistics.median(noop), statistics.median(floor)
        print(f"1. no-op sync {m:6.2f} s   git fetch {f:6.2f} s   ratio {m / f:7.1f}   goal < 5 s: "
              f"{'met' if m < 5 else 'NOT met'}")
        plant_foreign(remote, args.foreign, work)
        bring = timed(session.sync)
        after = [timed(session.sync) for _ in range(args.repeat)]
        floor = [fetch_floor(remote, work) for _ in range(args.repeat)]
        a, f = statistics.median(after), statistics.median(floor)
        print(f"2. {args.foreign} foreign tags: the sync that brings them {bring:6.2f} s, the next {a:6.2f} s   "
              f"git fetch {f:6.2f} s   ratios {bring / f:6.1f} / {a / f:6.1f}   goal < 10 s: "
              f"{'met' if bring < 10 and a < 10 else 'NOT met'}")
    finally:
        # The bench store as it was: no states.
        store = build("full", [])
        store.tag(store.matching_ids("tag:triage/under-review"), remove=["triage/under-review"])
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
