"""Message records with their body facts: the store's walk, and the bodies read beside it.

The walk (``Store.walk_records``) hands every message whose facts are not known to the
body reader (:mod:`triage.series.facts_reader`), a helper process on large stores; the
facts come back when the walk ends, the patch-ids a little later (only version linking
reads them).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from triage.mail.addresses import decoded_name
from triage.mail.store import BodySink, Store, author_name
from triage.model.records import BodyFacts, MessageRecord
from triage.series.trust import Verifier, own_senders, vouched_senders


def records(
    store: Store,
    query: str = "*",
    *,
    with_facts: bool = True,
    known: dict[str, BodyFacts] | None = None,
    verifier: Verifier | None = None,
) -> list[MessageRecord]:
    """Every message of every thread that ``query`` reaches, with thread structure.

    With ``with_facts`` the bodies that matter are read (see ``facts_reader``);
    ``known`` supplies facts already computed (bodies never change for a message);
    ``verifier`` checks the signatures of list-rewritten senders (see ``trust``).
    """
    out, complete = records_in_stages(store, query, with_facts=with_facts, known=known, verifier=verifier)
    complete()
    return out


def records_in_stages(
    store: Store,
    query: str = "*",
    *,
    with_facts: bool = True,
    known: dict[str, BodyFacts] | None = None,
    progress: Callable[[int], None] | None = None,
    verifier: Verifier | None = None,
) -> tuple[list[MessageRecord], Callable[[], None]]:
    """As :func:`records`, but the patch-ids in the facts may still be on their way: the
    returned function waits for them and puts them in. Only version linking reads
    patch-ids, so a caller groups series meanwhile (the body helper makes them then)."""
    # Imported here: a warm start never reads a body, and these pull in the email package.
    from triage.series.facts_reader import PARALLEL_THRESHOLD, FactsReader, trailer_query

    q = query or "*"
    reader: FactsReader | None = None
    if with_facts:
        tq = trailer_query(q)
        many = store.count(q) >= PARALLEL_THRESHOLD
        reader = FactsReader(lambda: store.matching_ids(tq), helper=(store.config, tq) if many else None)
    out = store.walk_records(q, reader, known, progress)
    if reader is None:
        _trust_file_senders(out, verifier)
        return out, lambda: None
    facts = reader.results()
    for r in out:
        if r.message_id in facts:
            r.facts = facts[r.message_id]
    _trust_file_senders(out, verifier)

    def complete() -> None:
        pids = reader.patch_ids()
        if pids:
            make = BodyFacts._make  # patch_id is the last field; _replace costs 5x more
            for r in out:
                if r.message_id in pids:
                    r.facts = make((*r.facts[:-1], pids[r.message_id]))

    return out, complete


def records_in_batches(
    store: Store,
    query: str,
    batch_messages: int,
    *,
    progress: Callable[[int], None] | None = None,
    verifier: Verifier | None = None,
    first_batch: int | None = None,
) -> Iterator[list[MessageRecord]]:
    """As :func:`records`, threads newest first, a batch of whole threads of about
    ``batch_messages`` messages at a time, each with its facts and patch-ids: a first
    build of a large store holds one batch of records, not the store. One body helper
    reads every batch, a batch ahead of the caller."""
    from triage.mail.query import id_query
    from triage.mail.walk import walk_batches
    from triage.series.facts_reader import (
        PARALLEL_THRESHOLD,
        FactsReader,
        facts_here,
        trailer_query,
    )

    q = query or "*"
    tq = trailer_query(q)
    many = store.count(q) >= PARALLEL_THRESHOLD
    reader = FactsReader(lambda: store.matching_ids(tq), helper=(store.config, tq) if many else None,
                         share_trailer_ids=False)

    def trailer_ids_of(ids: list[str]) -> set[str]:
        out: set[str] = set()
        for i in range(0, len(ids), 500):
            out |= store.matching_ids(f"({tq}) AND ({' OR '.join(id_query(m) for m in ids[i : i + 500])})")
        return out

    def finished(batch: list[MessageRecord], facts: dict[str, BodyFacts] | None = None) -> list[MessageRecord]:
        if facts is None:
            facts = reader.collect()
        for r in batch:
            got = facts.get(r.message_id)
            if got is not None:
                r.facts = got
        _trust_file_senders(batch, verifier)
        return batch

    done = False
    try:
        # One batch behind the walk: the helper reads the next batch's bodies while the
        # caller groups this one.
        walked: list[MessageRecord] | None = None
        # The first batch is read here: the helper is still asking notmuch which of the whole
        # store's replies can hold a trailer (3 s at 235,000 messages), and a screen is
        # waiting for the newest series.
        sink = _FirstHere(reader)
        for batch in walk_batches(store, q, sink, batch_messages, progress, first_batch=first_batch):
            if sink.here is not None:
                here, sink.here = sink.here, None
                yield finished(batch, facts_here(here, trailer_ids_of))
                continue
            reader.mark()
            if walked is not None:
                yield finished(walked)
            walked = batch
        if walked is not None:
            yield finished(walked)
        reader.results()  # nothing is left: this ends the helper
        reader.patch_ids()
        done = True
    finally:
        if not done:
            reader.abort()


class _FirstHere:
    """The walk's body sink: the first batch's messages are kept to be read here, the rest
    go to the body reader (and its helper)."""

    def __init__(self, reader: BodySink) -> None:
        self.reader = reader
        self.here: list[tuple[str, str | None, str]] | None = []

    def submit(self, message_id: str, path: str | None, subject: str) -> None:
        if self.here is not None:
            self.here.append((message_id, path, subject))
        else:
            self.reader.submit(message_id, path, subject)

    def abort(self) -> None:
        self.reader.abort()


def records_of_threads(
    store: Store,
    thread_ids: list[str],
    *,
    known: dict[str, BodyFacts] | None = None,
    verifier: Verifier | None = None,
) -> list[MessageRecord]:
    from triage.mail.query import thread_query

    out: list[MessageRecord] = []
    for i in range(0, len(thread_ids), 100):
        q = " OR ".join(thread_query(t) for t in thread_ids[i : i + 100])
        out.extend(records(store, q, known=known, verifier=verifier))
    return out


def _trust_file_senders(records: list[MessageRecord], verifier: Verifier | None) -> None:
    """Where a message's file was read, its sender is the From parsed from the file before
    its name was decoded: notmuch's decoded From can be forged by an encoded display name
    (or an encoded word inside the angle brackets). A list-rewritten From gives way to the
    sender it names only where the list's signature vouches for it."""
    for r in records:
        if r.facts.clamped is not None:
            r.date = r.facts.clamped[0]  # a Date in the future of its arrival (see BodyFacts.clamped)
        sender = r.facts.sender
        if sender is not None and sender[1] != r.from_email:
            name = decoded_name(sender[0])
            r.from_name, r.from_email = author_name(name) if name else r.from_name, sender[1]
    vouched_senders(records, verifier)
    own_senders(records, verifier)
