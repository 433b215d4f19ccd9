"""Walking notmuch threads into message records: the whole store at once, or newest first
a bounded batch of whole threads at a time (a first build that must not hold every
message of a large store in memory).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

import notmuch2

from triage.mail import rawwalk
from triage.mail.store import (
    BodySink,
    Store,
    _Every,
    _path,
    _sender,
    record_from,
    walk_guard,
    walk_thread,
)
from triage.model.records import BodyFacts
from triage.model.series import MessageRecord

__all__ = ["thread_records", "walk_batches"]


def thread_records(
    threads: Iterable[notmuch2.Thread], sink: BodySink | None, known: dict[str, BodyFacts] | None
) -> Iterator[list[MessageRecord]]:
    """The records of each thread, in reply order. Each message whose facts are not ``known``
    is handed to ``sink`` with its file and subject."""
    if rawwalk.available():
        tag_sets: dict[tuple[str, ...], frozenset[str]] = {}  # a list has a handful of tag sets
        for tid, rows in rawwalk.walk(iter(threads), paths=sink is not None):
            out = []
            for mid, parent, subject, sender, date, tags, path in rows:
                name, email = _sender(sender)
                tag_set = tag_sets.get(tags)
                if tag_set is None:
                    tag_set = tag_sets[tags] = frozenset(tags)
                r = MessageRecord(mid, tid, subject, name, email, date, parent, tag_set)
                out.append(r)
                if known is not None and mid in known:
                    r.facts = known[mid]
                elif sink is not None:
                    sink.submit(mid, path, subject)
            yield out
        return
    for thread in threads:
        tid = str(thread.threadid)
        out = []
        for msg, parent in walk_thread(thread):
            r = record_from(msg, tid, parent)
            out.append(r)
            if known is not None and r.message_id in known:
                r.facts = known[r.message_id]
            elif sink is not None:
                sink.submit(r.message_id, _path(msg), r.subject)
        yield out


def walk_batches(
    store: Store,
    query: str,
    sink: BodySink | None,
    batch_messages: int,
    progress: Callable[[int], None] | None = None,
    *,
    first_batch: int | None = None,
) -> Iterator[list[MessageRecord]]:
    """The records of the threads ``query`` reaches, threads newest first, in batches of whole
    threads of at least ``batch_messages`` messages (the first of ``first_batch``, the last
    one fewer). The database stays open for reading between batches; the sink is aborted
    if the walk fails or is left."""
    q = query or "*"
    read = 0
    every = _Every(progress)
    size = first_batch or batch_messages
    with store.read() as db, walk_guard(sink, query):
        batch: list[MessageRecord] = []
        for rs in thread_records(db.threads(q, sort=notmuch2.Database.SORT.NEWEST_FIRST), sink, None):
            batch.extend(rs)
            read += len(rs)
            every(read)
            if len(batch) >= size:
                yield batch
                batch = []
                size = batch_messages
        if batch:
            yield batch
