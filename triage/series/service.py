"""The one entry point the CLI and the UI use to get series out of a store."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from triage.config import Settings
from triage.mail.dkimcheck import Verdict
from triage.mail.dns import DnsCache
from triage.mail.query import thread_query
from triage.mail.store import Store, StoreError
from triage.model.policy import DEFAULT_BOTS, DEFAULT_RELAYS, Policy, base_address
from triage.model.series import Series
from triage.series.facts import BodyFacts
from triage.series.grouping import group_series
from triage.series.records import records as read_records
from triage.series.trust import Verifier, dns_enabled, verify_names


def policy_for(store: Store, settings: Settings | None = None, *, identities: Iterable[str] = ()) -> Policy:
    """What the settings and the store's notmuch config say about whose mail is whose."""
    settings = settings or Settings()
    me = {e.lower() for e in (*store.identities(), *settings.identities, *identities) if e}
    return Policy(
        tag_prefix=store.config.tag_prefix,
        me=frozenset(me),
        ignore_from=frozenset(e.lower() for e in settings.trailers_ignore_from),
        relays=frozenset(e.lower() for e in (settings.trust_relays if settings.trust_relays is not None else DEFAULT_RELAYS)),
        dns=dns_enabled(settings.trust_dns),
        lists=frozenset(d.lower() for d in settings.trust_lists),
        maintainers=frozenset(settings.outcome_maintainers),
        bots=frozenset(base_address(a) for a in (settings.outcome_bots if settings.outcome_bots is not None
                                                  else DEFAULT_BOTS)),
        sections=settings.outcome_sections,
    )


def verifier_for(
    store: Store,
    policy: Policy,
    known: Mapping[str, Verdict] | None = None,
    kept: Callable[[list[str]], Mapping[str, Verdict]] | None = None,
) -> Verifier:
    return Verifier(store, DnsCache(enabled=policy.dns), known, kept=kept, trusted_lists=policy.lists, me=policy.me)


def load_series(
    store: Store,
    query: str = "*",
    *,
    policy: Policy | None = None,
    known: dict[str, BodyFacts] | None = None,
    verifier: Verifier | None = None,
) -> list[Series]:
    """Series reached by ``query`` (notmuch syntax), newest first.

    Whole threads are read so that a series is never cut in half by the query; a
    series is kept when any of its messages matches.
    """
    q = query.strip() or "*"
    policy = policy or policy_for(store)
    records = read_records(store, q, known=known, verifier=verifier or verifier_for(store, policy))
    series = group_series(records, policy=policy)
    if q != "*":
        matched = store.matching_ids(q)
        series = [s for s in series if matched.intersection(s.message_ids())]
    return series


def find_series(
    store: Store,
    series_id: str,
    *,
    policy: Policy | None = None,
    known: dict[str, BodyFacts] | None = None,
    verifier: Verifier | None = None,
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
    policy = policy or policy_for(store)
    verifier = verifier or verifier_for(store, policy)
    for sid in dict.fromkeys(c for c in candidates if c):
        thread = store.thread_of(sid)
        if thread is None:
            continue
        for s in load_series(store, thread_query(thread), policy=policy, known=known, verifier=verifier):
            if s.id == sid or sid in s.message_ids():
                verify_names(s, verifier)
                return s
    raise StoreError(f"no series with id {bare!r} in the database")
