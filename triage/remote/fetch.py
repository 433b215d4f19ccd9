"""``triage fetch``: list mail into the store through lei, then into the series list.

Each query is a lei saved search writing into its own maildir folder of the notmuch
database (``<mail root>/<folder>/<slug>-<hash>``): the first fetch runs ``lei q --threads``,
later ones ``lei up`` (lei remembers what it wrote, so a fetch run twice adds nothing).
Which externals lei searches (lore, a local inbox) is lei's own configuration
(``lei add-external``). The new files are indexed with ``notmuch new`` and the series
index is refreshed.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from triage.cache.index import SeriesIndex
from triage.mail.store import Store
from triage.remote.tools import ToolError, last_lines, run_tool

LEI_TIMEOUT = 1800.0  # seconds: a first fetch of a whole list from lore can take minutes
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

    @property
    def errors(self) -> list[QueryResult]:
        return [r for r in self.results if r.error]

    def counts(self) -> str:
        """What came in, failures left out."""
        done = len(self.results) - len(self.errors)
        return (f"fetched {done} of {len(self.results)} queries: {self.new_messages} new messages, "
                f"{len(self.new_series)} new series")

    def summary(self) -> str:
        text = self.counts()
        if self.errors:
            text += "; failed: " + "; ".join(f"{r.query!r}: {r.error}" for r in self.errors)
        return text


def folder_for(root: Path, folder: str, query: str) -> Path:
    """The maildir folder of one query: readable, and distinct for distinct queries."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", query).strip("-.")[:40] or "query"
    return root / folder / f"{slug}-{hashlib.sha1(query.encode()).hexdigest()[:8]}"


def saved_outputs(env: dict[str, str]) -> set[str]:
    """The outputs of lei's saved searches (``maildir:/path``)."""
    done = run_tool(["lei", "ls-search", "--format=json"], what="listing lei's saved searches", env=env, timeout=120)
    try:
        searches = json.loads(done.stdout or "[]")
    except json.JSONDecodeError as e:
        raise ToolError(f"listing lei's saved searches: lei ls-search wrote no JSON: {e}") from e
    return {str(s.get("output", "")) for s in searches if isinstance(s, dict)}


def lei_fetch(query: str, folder: Path, saved: set[str], env: dict[str, str]) -> QueryResult:
    """One query into its folder: ``lei up`` when lei already saved it, else ``lei q``."""
    output = f"maildir:{folder}"
    if output in saved:
        args = ["lei", "up", str(folder)]
    else:
        folder.parent.mkdir(parents=True, exist_ok=True)
        args = ["lei", "q", "--threads", "-o", output, "--", query]
    try:
        done = run_tool(args, what=f"lei fetching {query!r}", env=env, timeout=LEI_TIMEOUT)
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
) -> FetchReport:
    """Run each query through lei into the store, index the new mail and refresh the list."""
    say = progress or (lambda _text: None)
    queries = [q for q in dict.fromkeys(q.strip() for q in queries) if q]
    if not queries:
        raise ToolError("nothing to fetch: give a lei query, or set [fetch] queries in config.toml")
    env = store.tool_env()
    root = store.mail_root()
    index.refresh()
    before_messages, before_series = store.count("*"), index.series_ids()
    report = FetchReport()
    saved = saved_outputs(env)
    for i, q in enumerate(queries, 1):
        say(f"fetching {i}/{len(queries)} with lei: {q}")
        report.results.append(lei_fetch(q, folder_for(root, folder, q), saved, env))
    if any(r.written for r in report.results):
        say("indexing the new mail (notmuch new)")
        run_tool(["notmuch", "new", "--quiet"], what="indexing fetched mail", env=env, timeout=LEI_TIMEOUT)
        index.refresh(progress=say)
    report.new_messages = store.count("*") - before_messages
    report.new_series = sorted(index.series_ids() - before_series)
    return report
