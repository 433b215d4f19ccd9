"""Patchwork's series fixtures group as patchwork's own tests expect (and better where noted)."""

from __future__ import annotations

import pytest

from tests.conftest import FIXTURES, needs_corpus

SERIES_DIR = FIXTURES / "patchwork" / "series"

# file -> per series in date order: (patches received, has cover letter)
EXPECTED = {
    "base-single-patch.mbox": [(1, False)],
    "base-cover-letter.mbox": [(2, True)],
    "base-no-cover-letter.mbox": [(2, False)],
    "base-deep-threaded.mbox": [(2, True)],
    "base-out-of-order.mbox": [(2, True)],
    "base-different-versions.mbox": [(4, True)],
    "bugs-multiple-references.mbox": [(4, True)],
    "base-no-references.mbox": [(2, False)],
    "base-no-references-no-cover.mbox": [(2, True)],
    "bugs-multiple-content-types.mbox": [(1, False)],
    "revision-basic.mbox": [(2, True), (2, True)],
    "revision-threaded-to-single-patch.mbox": [(1, False), (1, False)],
    "revision-threaded-to-cover.mbox": [(2, True), (2, True)],
    "revision-threaded-to-patch.mbox": [(2, True), (2, True)],
    "revision-out-of-order.mbox": [(2, True), (2, True)],
    "revision-no-cover-letter.mbox": [(2, True), (2, False)],
    "revision-unlabeled.mbox": [(2, True), (2, True)],
    "revision-unlabeled-noreferences.mbox": [(2, False), (2, False)],
    "bugs-unnumbered.mbox": [(1, True), (1, False)],
    "bugs-nocover-noversion.mbox": [(2, False), (2, False)],
    "bugs-nocover.mbox": [(2, False), (2, False)],
    "bugs-spamming.mbox": [(1, False), (1, False), (1, False)],
    "bugs-mixed-versions.mbox": [(1, False), (1, False)],
    "base-incomplete.mbox": [(1, True)],
    "base-extra-patches.mbox": [(3, True)],
    "mercurial-cover-letter.mbox": [(2, True)],
    "mercurial-no-cover-letter.mbox": [(2, False)],
}


@needs_corpus
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_patchwork_series_fixture(series_of, name: str) -> None:
    series = series_of(SERIES_DIR / name)
    got = [(s.received, s.cover is not None) for s in sorted(series, key=lambda s: (s.date, s.id))]
    assert got == EXPECTED[name]


@needs_corpus
def test_incomplete_and_extra_counts(series_of) -> None:
    (inc,) = series_of(SERIES_DIR / "base-incomplete.mbox")
    assert (inc.received, inc.total, inc.complete) == (1, 2, False)
    (extra,) = series_of(SERIES_DIR / "base-extra-patches.mbox")
    assert extra.total == 2 and extra.complete and [p.index for p in extra.patches] == [1, 2, 3]


@needs_corpus
def test_cover_version_is_inherited_by_unversioned_patches(series_of) -> None:
    (s,) = series_of(SERIES_DIR / "base-different-versions.mbox")
    assert s.version == 3 and s.tree_tags == ("net-next",) and s.complete


@needs_corpus
def test_revisions_are_linked_and_old_one_superseded(series_of) -> None:
    old, new = sorted(series_of(SERIES_DIR / "revision-threaded-to-cover.mbox"), key=lambda s: s.version)
    assert (old.version, new.version) == (1, 2)
    assert old.newer_versions == [new.id] and new.previous_versions == [old.id]
    assert old.state == "superseded" and new.state == "new"


@needs_corpus
def test_comment_trailer_counts_on_its_patch(series_of) -> None:
    (s,) = series_of(SERIES_DIR / "bugs-multiple-content-types.mbox")
    names = [t.name for t in s.patches[0].trailers if t.source == "followup"]
    assert "Acked-by" in names
