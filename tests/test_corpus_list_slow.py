"""The whole linux-pwm list (23,541 messages): import, then a series for every cover letter.

Slow (about two minutes): CI runs it; skip locally with ``-m 'not slow'``.
"""

from __future__ import annotations

import json

import pytest

from tests.conftest import CORPUS, needs_corpus
from tests.test_list_index import _check_index
from triage.cache.index import SeriesIndex
from triage.mail.importer import import_paths
from triage.series.grouping import group_series
from triage.series.records import records as read_records
from triage.series.service import load_series
from triage.textsafe import json_safe

LIST = CORPUS / "lists" / "linux-pwm.mbox.xz"


# One store for the three steps (one worker: --dist loadgroup), so each step is reported as
# it ends rather than minutes of silence.
pytestmark = [pytest.mark.slow, needs_corpus, pytest.mark.xdist_group("linux-pwm-list")]


@pytest.fixture(scope="module")
def whole_list(tmp_path_factory: pytest.TempPathFactory):
    from tests.conftest import create_store

    store = create_store(tmp_path_factory.mktemp("linux-pwm"))
    report = import_paths(store, [LIST])
    return store, report


def test_whole_list_imports(whole_list) -> None:
    store, report = whole_list
    assert not report.broken
    assert report.added + report.duplicates == 23541
    assert store.count("*") == report.added > 23000


def test_every_cover_letter_is_a_series(whole_list) -> None:
    store, _ = whole_list
    records = read_records(store, "*")
    series = group_series(records)
    covers = {
        r.message_id
        for r in records
        if r.parsed.is_cover and not r.parsed.is_reply
    }
    assert len(covers) > 900
    series_covers = {s.cover.message_id for s in series if s.cover is not None}
    by_id = {r.message_id: r for r in records}
    missing = covers - series_covers
    # The only cover letters that are not series are re-sent covers answering a cover
    # of the same title and version (G11): they are comments.
    for mid in missing:
        r = by_id[mid]
        parent = by_id.get(r.parent_id or "")
        assert parent is not None, mid
    assert len(missing) <= len(covers) // 100
    assert all(s.patches or s.cover for s in series)
    json.dumps([s.to_json() for s in series])
    # Issue 28: every version link agrees both ways, and only an open split keeps an older
    # version current.
    by_id_s = {s.id: s for s in series}
    one_way = [(p, s.id) for s in series for p in s.previous_versions if s.id not in by_id_s[p].newer_versions]
    one_way += [(s.id, n) for s in series for n in s.newer_versions if s.id not in by_id_s[n].previous_versions]
    assert one_way == []
    # ... and a version's previous versions reach back through its lineage.
    assert all(set(by_id_s[p].previous_versions) <= set(s.previous_versions) for s in series for p in s.previous_versions)
    assert all(s.current == (not s.newer_versions or s.split_open) for s in series)


def test_the_index_list_is_the_whole_list(whole_list) -> None:
    """The list read from the index a window at a time is the whole list sorted, filtered and
    folded in memory (every sort, four state filters, with and without older versions shown)."""
    store, _ = whole_list
    index = SeriesIndex(store)
    index.refresh()
    assert _check_index(index) > 3 * 2000
    # The index's answer is the build from notmuch's, links and their order included.
    assert index.series_json() == "[" + ",\n".join(
        json_safe(json.dumps(s.to_json(), ensure_ascii=False)) for s in load_series(store)) + "]"
    rows = {r["id"]: r for r in json.loads(index.series_json())}
    assert all(sid in rows[p]["newer_versions"] for sid, r in rows.items() for p in r["previous_versions"])


def test_a_batched_first_build_is_the_one_shot_build(whole_list, tmp_path) -> None:
    """The bounded-memory first build (newest threads first, 3,000 messages a batch) gives
    the whole list's ``series --json`` byte for byte as the one-shot build does."""
    store, _ = whole_list
    answers = []
    for batch in (10**6, 3000):
        index = SeriesIndex(store, path=tmp_path / f"batch{batch}.sqlite", batch_messages=batch)
        said: list[str] = []
        assert index.refresh(progress=said.append).kind == "cold"
        grouped = [s for s in said if s.endswith("messages grouped")]
        assert (not grouped) if batch > 10**5 else len(grouped) >= 7
        answers.append(index.series_json_bytes())
    assert len(answers[0]) > 5_000_000
    assert answers[1] == answers[0]
