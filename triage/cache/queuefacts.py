"""What the queue asks of each series, kept in the index beside it.

The queue ("what needs me") looks at each current series' threads: whose message is
the newest, which unread replies answer the user, which deferral tags its messages
carry. Those facts are made when a series is written to the index (its threads are in
hand then), so the queue is one SQL query over current series plus two notmuch queries
(mail to me, watched), whatever the store's size.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

from triage.model.series import MessageRecord, Series

UNTIL = "until/"  # a series deferred until a date carries the tag <prefix>until/YYYY-MM-DD

CREATE = """
CREATE TABLE queue_facts(series_id TEXT PRIMARY KEY, own TEXT, until TEXT, spoke_last INTEGER,
                         reply_to_me INTEGER, files TEXT, newest INTEGER) WITHOUT ROWID;
"""


def deferred_until(tags: Iterable[str], prefix: str) -> str | None:
    dates = [t[len(prefix) + len(UNTIL):] for t in tags if t.startswith(prefix + UNTIL)]
    return max(dates) if dates else None


def queue_facts(s: Series, threads: list[MessageRecord], me: set[str], prefix: str) -> tuple[str, str, str | None, int, int, str, int]:
    """(series id, its cover and patch ids, deferred until, the user's message is the
    newest of its threads, an unread reply answers the user, the files its patches
    touch, the date of the newest message of its threads): a ``queue_facts`` row."""
    own = [s.id, *(p.message_id for p in s.patches)]
    own_ids = set(own)
    tags = {t for r in threads if r.message_id in own_ids for t in r.tags}
    newest = max(threads, key=lambda r: (r.date, r.message_id)) if threads else None
    mine = {r.message_id for r in threads if r.from_email.lower() in me}
    answered = any("unread" in r.tags and r.parent_id in mine and r.from_email.lower() not in me for r in threads)
    files = dict.fromkeys(f for p in s.patches for f in p.message.facts.files)
    return (
        s.id,
        "\n".join(dict.fromkeys(own)),
        deferred_until(tags, prefix),
        int(newest is not None and newest.from_email.lower() in me),
        int(answered),
        "\n".join(files),
        max((r.date for r in threads), default=s.date),
    )


def rows(series: Iterable[Series], by_thread: dict[str, list[MessageRecord]], me: set[str], prefix: str) -> list[tuple]:
    return [queue_facts(s, [r for t in sorted(s.thread_ids) for r in by_thread.get(t, ())], me, prefix) for s in series]


def write(con: sqlite3.Connection, facts: Iterable[tuple]) -> None:
    con.executemany("INSERT OR REPLACE INTO queue_facts VALUES (?, ?, ?, ?, ?, ?, ?)", facts)
