"""``triage fetch``: list mail into the store through lei, then into the series list.

Each query is a lei saved search writing into its own maildir folder of the notmuch
database (``<mail root>/<folder>/<slug>-<hash>``): the first fetch runs ``lei q --threads``,
later ones ``lei up`` (lei remembers what it wrote, so a fetch run twice adds nothing).
Which externals lei searches (lore, a local inbox) is lei's own configuration
(``lei add-external``); with none, lei would search nothing, which is said, not taken for
"no new mail". The new files are indexed with ``notmuch new`` and the series index is
refreshed. Indexing that failed after lei wrote mail is owed: a marker says so, and the
next fetch (or the screen's next load) indexes first. The whole run has a deadline
(``[fetch] timeout``) and a cancel stops the child that runs.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from triage import paths
from triage.cache.index import SeriesIndex
from triage.children import Deadline
from triage.mail.store import Store
from triage.remote.tools import ToolError, last_lines, run_tool

DEFAULT_TIMEOUT = 120.0
_WRITTEN_RE = re.compile(r"^# (\d+) written to ", re.MULTILINE)


@dataclass(frozen=True)
class QueryResult:
    query: str
    folder: Path
    written: int = 0  # messages lei wrote into the folder
    error: str | None = None


@dataclass
class FetchReport:
    results: list[QueryResult] = field(default_factory=list)
    new_messages: int = 0
    new_series: list[str] = field(default_factory=list)
    indexing_error: str | None = None  # notmuch new failed: the mail is in the store, indexing is owed

    @property
    def errors(self) -> list[QueryResult]:
        return [r for r in self.results if r.error]

    @property
    def failed(self) -> bool:
        return bool(self.errors) or self.indexing_error is not None

    def counts(self) -> str:
        """What came in, failures left out."""
        done = len(self.results) - len(self.errors)
        return (f"fetched {done} of {len(self.results)} queries: {self.new_messages} new messages, "
                f"{len(self.new_series)} new series")

    def summary(self) -> str:
        text = self.counts()
        if self.errors:
            text += "; failed: " + "; ".join(f"{r.query!r}: {r.error}" for r in self.errors)
        if self.indexing_error:
            text += f"; indexing failed (done on the next fetch or load): {self.indexing_error}"
        return text


def folder_for(root: Path, folder: str, query: str) -> Path:
    """The maildir folder of one query: readable, and distinct for distinct queries."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", query).strip("-.")[:40] or "query"
    return root / folder / f"{slug}-{hashlib.sha1(query.encode()).hexdigest()[:8]}"


def folder_root(root: Path, folder: str) -> Path:
    """``<mail root>/<folder>``, refused unless it resolves (symlinks followed) inside the mail root."""
    base = root.resolve()
    target = (root / folder).resolve()
    if target == base or base not in target.parents:
        raise ToolError(f"fetch: [fetch] folder {folder!r} is not inside the notmuch mail root {root}")
    return target


def owed_marker(store: Store) -> Path:
    """Exists while mail lei wrote is not indexed yet (``notmuch new`` failed)."""
    key = hashlib.sha1(str(store.mail_root()).encode()).hexdigest()[:16]
    return paths.state_dir() / f"indexing-owed-{key}"


def index_owed(store: Store, env: dict[str, str], deadline: Deadline, say: Callable[[str], None]) -> bool:
    """Run the ``notmuch new`` an earlier fetch could not; True when there was one to run."""
    marker = owed_marker(store)
    if not marker.exists():
        return False
    say("indexing mail an earlier fetch left unindexed (notmuch new)")
    run_tool(["notmuch", "new", "--quiet"], what="indexing fetched mail", env=env, deadline=deadline, timeout=3600)
    marker.unlink(missing_ok=True)
    return True


def externals(env: dict[str, str], deadline: Deadline) -> list[str]:
    """The places lei searches (``lei ls-external``)."""
    done = run_tool(["lei", "ls-external"], what="listing lei's externals", env=env, deadline=deadline, timeout=120)
    return [line.split()[0] for line in done.stdout.splitlines() if line.strip()]


def saved_outputs(env: dict[str, str], deadline: Deadline | None = None) -> set[str]:
    """The outputs of lei's saved searches (``maildir:/path``)."""
    done = run_tool(["lei", "ls-search", "--format=json"], what="listing lei's saved searches", env=env, timeout=120,
                    deadline=deadline)
    try:
        searches = json.loads(done.stdout or "[]")
    except json.JSONDecodeError as e:
        raise ToolError(f"listing lei's saved searches: lei ls-search wrote no JSON: {e}") from e
    return {str(s.get("output", "")) for s in searches if isinstance(s, dict)}


def lei_fetch(query: str, folder: Path, saved: set[str], env: dict[str, str], deadline: Deadline | None = None) -> QueryResult:
    """One query into its folder: ``lei up`` when lei already saved it, else ``lei q``."""
    output = f"maildir:{folder}"
    if output in saved:
        args = ["lei", "up", str(folder)]
    else:
        folder.parent.mkdir(parents=True, exist_ok=True)
        args = ["lei", "q", "--threads", "-o", output, "--", query]
    try:
        done = run_tool(args, what=f"lei fetching {query!r}", env=env, timeout=3600, deadline=deadline)
    except ToolError as e:
        return QueryResult(query, folder, error=str(e))
    written = sum(int(n) for n in _WRITTEN_RE.findall(done.stderr))
    # lei says some failures (an unreachable external) on stderr and exits 0.
    bad = [line for line in done.stderr.splitlines() if re.match(r"^(E:|error|fatal)", line.strip(), re.IGNORECASE)]
    return QueryResult(query, folder, written, error=last_lines("\n".join(bad)) if bad else None)


def fetch(
    store: Store,
    index: SeriesIndex,
    queries: Iterable[str],
    *,
    folder: str = "lei",
    progress: Callable[[str], None] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    cancel: threading.Event | None = None,
) -> FetchReport:
    """Run each query through lei into the store, index the new mail and refresh the list."""
    say = progress or (lambda _text: None)
    queries = [q for q in dict.fromkeys(q.strip() for q in queries) if q]
    if not queries:
        raise ToolError("nothing to fetch: give a lei query, or set [fetch] queries in config.toml")
    deadline = Deadline(timeout, cancel)
    env = store.tool_env()
    root = folder_root(store.mail_root(), folder)
    report = FetchReport()
    try:
        index_owed(store, env, deadline, say)
    except ToolError as e:
        report.indexing_error = str(e)
    owed = owed_marker(store).exists()
    index.refresh()
    before_messages, before_series = store.count("*"), index.series_ids()
    say("fetch: asking lei which archives it searches")
    if not externals(env, deadline):
        raise ToolError("fetch: lei has no external to search, so it searched nothing; add one, e.g. "
                        "`lei add-external https://lore.kernel.org/linux-pwm` (README, 'Fetching with lei')")
    saved = saved_outputs(env, deadline)
    for i, q in enumerate(queries, 1):
        say(f"fetching {i}/{len(queries)} with lei: {q}")
        report.results.append(lei_fetch(q, folder_for(root.parent, root.name, q), saved, env, deadline))
        if deadline.cancelled:
            break
    if any(r.written for r in report.results) or owed:
        marker = owed_marker(store)
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.touch()  # owed until notmuch new is through
        say("indexing the new mail (notmuch new)")
        try:
            run_tool(["notmuch", "new", "--quiet"], what="indexing fetched mail", env=env, deadline=deadline, timeout=3600)
            marker.unlink(missing_ok=True)
            report.indexing_error = None
        except ToolError as e:
            report.indexing_error = str(e)
        index.refresh(progress=say)
    report.new_messages = store.count("*") - before_messages
    report.new_series = sorted(index.series_ids() - before_series)
    return report
