"""What needs me: the current series that need the user, each with its reasons.

Derived from the mail alone, as patchwork's todo list is from its database:
- ``to-me``: the series' mail is addressed to one of the user's identities (To or Cc);
- ``new-version``: a newer version of a series the user reviewed or replied to;
- ``reply-to-me``: an unread reply to one of the user's messages in the series' threads;
- ``watched``: the series matches a ``[queue] watch`` notmuch query, or touches a file
  matching a ``[queue] files`` pattern (written as MAINTAINERS ``F:`` lines are: a
  directory ends in ``/``, ``*`` and ``?`` are wildcards);
- ``deferred-until-passed``: it was deferred until a date that has come;
- ``ci-failed``: a robot reported a failed build of the user's own series.
Left out: series in a final state (accepted, rejected, superseded; a series that trusted
decisions applied reads accepted), deferred ones until their date, those where the user's
own message is the newest of their threads, and with ``[queue] stale_after`` those whose
threads have been silent that long (``todo --all`` lists them with the reason ``stale``).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from triage.cache.index import SeriesIndex
from triage.errors import UserError
from triage.mail.query import quoted
from triage.mail.store import Store
from triage.series.filepatterns import FilePatterns

FINAL = {"accepted", "rejected", "superseded"}


@dataclass
class QueueItem:
    row: dict[str, Any]  # the series as ``series --json`` gives it
    reasons: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {**self.row, "reasons": self.reasons}


def file_matches(path: str, pattern: str) -> bool:
    """MAINTAINERS ``F:`` semantics: ``dir/`` covers everything below, else a glob."""
    return FilePatterns([pattern]).matches(path)


def members(row: dict[str, Any]) -> set[str]:
    return {row["id"], *(p["message_id"] for p in row.get("patches", ()))}


def touched(row: dict[str, Any]) -> set[str]:
    return {f for p in row.get("patches", ()) for f in p.get("files", ())}


_TOKEN_RE = re.compile(r'touches:"[^"]*"|"(?:[^"]|"")*"|[()]|[^\s()]+')
_GLUE = {"and", "or"}


class Touches(list[str]):
    """The ``touches:`` paths of a query, and whether a series must touch all of them or any."""

    any_of: bool = False


def split_touches(query: str) -> tuple[str, Touches]:
    """(the notmuch part of ``query``, its ``touches:`` paths). The paths join the rest with
    AND; among themselves with AND (``touches:a touches:b``, ``touches:a and touches:b``)
    or, alone in a query, with OR (``touches:a or touches:b``). What notmuch could not
    run, or would run otherwise than written, is refused with a UserError saying what is
    allowed."""
    tokens = _TOKEN_RE.findall(query)
    paths = Touches()
    if not any(t.lower().startswith("touches:") for t in tokens):
        return query.strip() or "*", paths
    rest: list[str] = []
    glue_at_touches: list[str] = []
    for i, t in enumerate(tokens):
        if t.lower().startswith("touches:"):
            before = tokens[i - 1].lower() if i else ""
            if before in ("not", "-") or before == "(" or (i + 1 < len(tokens) and tokens[i + 1] == ")"):
                raise UserError("touches: cannot be negated or put in parentheses; write 'touches:PATH' as a term "
                                "of its own, joined with AND (or, alone, 'touches:a or touches:b')")
            paths.append(t[len("touches:"):].strip('"'))
            # The connective that joins it to what is before it goes with it.
            if rest and rest[-1].lower() in _GLUE:
                glue_at_touches.append(rest.pop().lower())
            elif i + 1 < len(tokens) and tokens[i + 1].lower() in _GLUE and not rest:
                glue_at_touches.append(tokens[i + 1].lower())
                tokens[i + 1] = ""
        elif t:
            rest.append(t)
    while rest and rest[0].lower() in _GLUE:
        glue_at_touches.append(rest.pop(0).lower())
    while rest and rest[-1].lower() in _GLUE:
        glue_at_touches.append(rest.pop().lower())
    if "or" in glue_at_touches:
        if rest or "and" in glue_at_touches:
            raise UserError("touches: joins the rest of a query with AND only: write 'from:x and touches:drivers/pwm/', "
                            "or 'touches:a or touches:b' alone")
        paths.any_of = True
    return " ".join(rest) or "*", paths


def touches_any(row: dict[str, Any], paths: list[str]) -> bool:
    """True when the series' patches touch every one of ``paths`` (a file, or a directory
    prefix, or a MAINTAINERS-style pattern), or any of them when ``paths.any_of``."""
    files = touched(row)
    hits = (FilePatterns([p]).any_match(files) for p in paths)
    return any(hits) if getattr(paths, "any_of", False) else all(hits)


def todo(
    store: Store,
    index: SeriesIndex,
    identities: Iterable[str],
    *,
    watch: Iterable[str] = (),
    files: Iterable[str] = (),
    today: str | None = None,
    stale_after: int | None = None,
    include_stale: bool = False,
) -> list[QueueItem]:
    """The queue, newest first; ``today`` (YYYY-MM-DD) decides which deferrals have passed and
    which series are stale;
    ``stale_after`` (seconds) leaves out series silent that long, or with ``include_stale``
    lists them with the reason ``stale``."""
    me = {e.lower() for e in identities if e}
    today = today or time.strftime("%Y-%m-%d")
    to_me = store.matching_ids(" OR ".join(f"to:{quoted(a)}" for a in sorted(me))) if me else set()
    watched_ids: set[str] = set()
    for q in watch:
        watched_ids |= store.matching_ids(q)
    patterns = FilePatterns(files)  # compiled once: a 20,000-file patch against 300 patterns
    out: list[QueueItem] = []
    # Staleness as of the end of ``today`` (a clock for tests and for looking back at an archive).
    now = time.mktime(time.strptime(today, "%Y-%m-%d")) + 86400
    # SQLite hands over the current series in an open state, with the facts kept for the queue.
    replied = index.replied_ids()
    for row, own, until, reply_to_me, files, newest in index.queue_candidates(skip_states=FINAL):
        ids = set(own)
        reasons: list[str] = []
        if row["state"] == "deferred":
            if until is None or until > today:
                continue
            reasons.append("deferred-until-passed")
        if ids & to_me:
            reasons.append("to-me")
        if any(p in replied for p in row.get("previous_versions", ())):
            reasons.append("new-version")
        if reply_to_me:
            reasons.append("reply-to-me")
        if ids & watched_ids or (patterns and patterns.any_match(files)):
            reasons.append("watched")
        if row.get("ci_state") == "fail" and str(row.get("author", {}).get("email", "")).lower() in me:
            reasons.append("ci-failed")
        if reasons and stale_after is not None and newest and now - newest > stale_after:
            if not include_stale:
                continue
            reasons.append("stale")
        if reasons:
            out.append(QueueItem(row, reasons))
    return out
