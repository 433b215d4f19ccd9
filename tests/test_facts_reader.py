"""The body-reading helper process gives the same facts as reading in-process, and loses nothing when it fails."""

from __future__ import annotations

import pytest

from tests.conftest import CORPUS, needs_corpus
from triage.mail.store import Store, StoreConfig
from triage.series import facts_reader
from triage.series.facts_reader import FactsReader, trailer_query
from triage.series.records import records as read_records

PWM = CORPUS / "threads" / "linux-pwm"


def _facts(store: Store, monkeypatch: pytest.MonkeyPatch, threshold: int) -> dict[str, object]:
    monkeypatch.setattr(facts_reader, "PARALLEL_THRESHOLD", threshold)
    return {r.message_id: r.facts for r in read_records(store, "*")}


def _walk_items(store: Store) -> list[tuple[str, str | None, str]]:
    """What the walk hands a reader: every message with its file and its subject."""
    records = read_records(store, "*", with_facts=False)
    paths = store.message_paths(r.message_id for r in records)
    return [(r.message_id, paths[r.message_id], r.subject) for r in records]


def _all_facts(reader: FactsReader) -> dict[str, object]:
    """The reader's facts with the patch-ids that come after them put in."""
    facts = reader.results()
    for mid, pid in reader.patch_ids().items():
        facts[mid] = facts[mid]._replace(patch_id=pid)
    return facts


@needs_corpus
def test_helper_process_gives_the_facts_read_in_process(make_store, monkeypatch: pytest.MonkeyPatch) -> None:
    store = make_store(PWM)
    local = _facts(store, monkeypatch, threshold=10**9)
    # Small chunks: the helper and this process share the queue once the walk is over.
    monkeypatch.setattr(facts_reader, "CHUNK", 5)
    helped = _facts(store, monkeypatch, threshold=0)
    assert helped == local
    assert sum(1 for f in local.values() if f.followup_trailers) > 20  # reviews were read
    assert sum(1 for f in local.values() if f.patch_id) > 20  # and patches


@needs_corpus
def test_a_failing_helper_loses_nothing(make_store, monkeypatch: pytest.MonkeyPatch) -> None:
    store = make_store(PWM)
    items = _walk_items(store)
    tq = trailer_query("*")
    monkeypatch.setattr(facts_reader, "CHUNK", 7)

    def read(helper: tuple | None) -> dict[str, object]:
        reader = FactsReader(lambda: store.matching_ids(tq), helper=helper)
        for item in items:
            reader.submit(*item)
        return _all_facts(reader)

    local = read(None)
    # The helper cannot open this database: it dies, and this process reads its share.
    broken = read((StoreConfig(database_path=str(store.path() / "missing"), config_path="/dev/null"), tq))
    assert broken == local
    assert read((store.config, tq)) == local
    assert len(local) > 50
    assert sum(1 for f in local.values() if f.patch_id) > 20

    # A helper that dies after its facts, before its patch-ids: they are made here.
    handed: list[int] = []

    def dies_before_patch_ids(self: facts_reader._Helper) -> None:
        handed.append(sum(1 for c in self.sent for i in c if not i[2]))
        self._shut(kill=True)
        return None

    monkeypatch.setattr(facts_reader._Helper, "later", dies_before_patch_ids)
    assert read((store.config, tq)) == local
    assert handed and handed[0] > 0  # the helper had patches whose ids it never sent


@needs_corpus
def test_a_helper_killed_while_reading_loses_nothing_and_holds_nothing_up(make_store, monkeypatch) -> None:
    """Killed half-way (the OOM killer, say): the chunks it had are read here, and the thread
    handing it chunks, which waits for the helper to take each, is not left waiting."""
    import os
    import signal
    import threading

    store = make_store(PWM)
    items = _walk_items(store)
    tq = trailer_query("*")
    monkeypatch.setattr(facts_reader, "CHUNK", 5)
    reader = FactsReader(lambda: store.matching_ids(tq))
    for item in items:
        reader.submit(*item)
    local = reader.results()

    reader = FactsReader(lambda: store.matching_ids(tq), helper=(store.config, tq))
    half = len(items) // 2
    for item in items[:half]:
        reader.submit(*item)
    helper = reader._helper
    assert helper is not None and helper.trailer_ids() is not None  # it is up and reading
    os.kill(helper.proc.pid, signal.SIGKILL)
    for item in items[half:]:
        reader.submit(*item)
    done: list[dict] = []
    worker = threading.Thread(target=lambda: done.append(_all_facts(reader)), daemon=True)
    worker.start()
    worker.join(timeout=60)
    assert done, "results() hung after the helper was killed"
    assert done[0] == local
    assert helper.proc.poll() is not None and not helper.feeder.is_alive()


@needs_corpus
def test_the_index_built_with_the_helper_is_the_one_built_without(make_store, monkeypatch, tmp_path) -> None:
    """Patch-ids arrive after grouping when the helper reads; the index must not notice."""
    from triage.cache.index import SeriesIndex

    store = make_store(PWM)
    answers = []
    for threshold in (10**9, 0):
        monkeypatch.setattr(facts_reader, "PARALLEL_THRESHOLD", threshold)
        index = SeriesIndex(store, path=tmp_path / f"index-{threshold}.sqlite")
        index.refresh()
        answers.append(index.series_json())
    assert answers[0] == answers[1]
    assert '"carried_trailers": [{' in answers[0]  # patch-ids were used: reviews carried over


@needs_corpus
def test_a_failed_walk_leaves_no_helper_behind(make_store, monkeypatch: pytest.MonkeyPatch) -> None:
    from triage.mail import rawwalk

    store = make_store(PWM)
    monkeypatch.setattr(facts_reader, "PARALLEL_THRESHOLD", 0)
    helpers: list[facts_reader._Helper] = []
    real_helper = facts_reader._Helper

    def tracked(*args: object) -> facts_reader._Helper:
        helpers.append(real_helper(*args))  # type: ignore[arg-type]
        return helpers[-1]

    monkeypatch.setattr(facts_reader, "_Helper", tracked)
    real_walk = rawwalk.walk

    def failing_walk(*args: object, **kwargs: object):
        for n, item in enumerate(real_walk(*args, **kwargs)):
            if n == 3:
                raise RuntimeError("disk went away")
            yield item

    monkeypatch.setattr(rawwalk, "walk", failing_walk)
    with pytest.raises(RuntimeError, match="disk went away"):
        read_records(store, "*")
    assert len(helpers) == 1
    assert helpers[0].proc.poll() is not None  # the helper process is gone
    assert not helpers[0].feeder.is_alive() and not helpers[0].reader.is_alive()


@needs_corpus
def test_facts_left_out_for_replies_and_patches_change_no_series(make_store) -> None:
    """The reply-aware facts skip fields the model never reads; reading everything gives the same series."""
    from triage.series.facts_reader import read_facts
    from triage.series.grouping import group_series

    store = make_store(PWM)
    lean = read_records(store, "*")
    paths = store.message_paths(r.message_id for r in lean)
    with_trailers = store.matching_ids(trailer_query("*"))
    full = read_records(store, "*", with_facts=False)
    for r in full:  # the same messages read, every fact computed
        if not (r.parsed.is_reply or r.parsed.is_forward) or r.message_id in with_trailers:
            r.facts = read_facts(paths[r.message_id], None)
    skipped = sum(1 for a, b in zip(lean, full, strict=True) if a.facts != b.facts)
    assert skipped > 20  # the lean facts really left things out
    assert [s.to_json() for s in group_series(lean)] == [s.to_json() for s in group_series(full)]
