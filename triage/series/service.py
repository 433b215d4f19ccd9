"""The one entry point the CLI and the UI use to get series out of a store."""

from __future__ import annotations

from collections.abc import Iterable

from triage.mail.addresses import fold_name, sender_of_decoded
from triage.mail.query import thread_query
from triage.mail.store import Store, StoreError
from triage.model.series import Series
from triage.series.facts import BodyFacts
from triage.series.grouping import group_series
from triage.series.records import records as read_records


def load_series(
    store: Store,
    query: str = "*",
    *,
    ignore_from: Iterable[str] = (),
    known: dict[str, BodyFacts] | None = None,
    identities: Iterable[str] = (),
) -> list[Series]:
    """Series reached by ``query`` (notmuch syntax), newest first.

    Whole threads are read so that a series is never cut in half by the query; a
    series is kept when any of its messages matches.
    """
    q = query.strip() or "*"
    records = read_records(store, q, known=known)
    series = group_series(records, tag_prefix=store.config.tag_prefix, ignore_from=ignore_from, me=store.identities() | {e.lower() for e in identities if e})
    if q != "*":
        matched = store.matching_ids(q)
        series = [s for s in series if matched.intersection(s.message_ids())]
    return series


def find_series(
    store: Store,
    series_id: str,
    *,
    known: dict[str, BodyFacts] | None = None,
    ignore_from: Iterable[str] = (),
    identities: Iterable[str] = (),
) -> Series:
    """The series whose id (or any of whose message ids) is ``series_id``; ``known`` facts
    (from the index) spare reading bodies again.

    The id is looked up exactly as given first (a Message-ID may itself read ``id:X``);
    only when no message has it are ``<>`` and an ``id:`` prefix taken off."""
    given = series_id.strip()
    candidates = [given, given.strip("<>")]
    bare = given.strip("<>")
    if bare.startswith("id:"):
        candidates.append(bare[3:].strip("<>"))
    for sid in dict.fromkeys(c for c in candidates if c):
        thread = store.thread_of(sid)
        if thread is None:
            continue
        for s in load_series(store, thread_query(thread), known=known, ignore_from=ignore_from, identities=identities):
            if s.id == sid or sid in s.message_ids():
                confirm_names(store, s)
                return s
    raise StoreError(f"no series with id {bare!r} in the database")


def confirm_names(store: Store, s: Series) -> None:
    """Trailers counted by the sender's name (sent from another address than they name)
    are confirmed when the store holds mail from that name at the address they name:
    the same person at both addresses. Their values go to ``s.name_confirmed``."""
    asked: dict[str, set[str]] = {}
    for p in s.patches:
        for t in p.trailers:
            if t.sender_match != "name" or t.value in s.name_confirmed:
                continue
            name, address = sender_of_decoded(t.value)
            if not address:
                continue
            if address not in asked:
                asked[address] = store.names_at(address)
            if fold_name(name) in asked[address]:
                s.name_confirmed.add(t.value)
