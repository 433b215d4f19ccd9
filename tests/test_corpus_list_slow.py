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

LIST = CORPUS / "lists" / "linux-pwm.mbox.xz"


@pytest.mark.slow
@needs_corpus
def test_whole_list_imports_and_every_cover_letter_is_a_series(make_store) -> None:
    store = make_store()
    report = import_paths(store, [LIST])
    assert not report.broken
    assert report.added + report.duplicates == 23541
    assert store.count("*") == report.added > 23000

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

    # The list read from the index a window at a time is the whole list sorted, filtered and
    # folded in memory (every sort, four state filters, with and without older versions shown).
    index = SeriesIndex(store)
    index.refresh()
    assert _check_index(index) > 3 * 2000
