"""The speed tricks each sit behind one seam, and the plain way behind it gives the same
answer: the public notmuch2 walk for the compiled-internals walk (rawwalk), and writing
the index in this process for the forked writer."""

from __future__ import annotations

import json

import pytest

from tests.conftest import CORPUS, needs_corpus
from tests.mailgen import mail, mbox, patch_body
from triage import forked
from triage.cache.index import SeriesIndex
from triage.mail import rawwalk
from triage.series.service import load_series


def _store(make_store):
    return make_store(mbox(
        mail("c@x", "[PATCH 0/2] widget: faster", "cover\n"),
        mail("p1@x", "[PATCH 1/2] widget: a", patch_body(), minutes=1, parent="c@x"),
        mail("p2@x", "[PATCH 2/2] widget: b", patch_body("b"), minutes=2, parent="c@x"),
        mail("r@x", "Re: [PATCH 1/2] widget: a", "Reviewed-by: Bob <bob@example.net>\n", minutes=3, parent="p1@x",
             sender="Bob <bob@example.net>"),
    ))


def _json(series) -> str:
    return json.dumps([s.to_json() for s in series], sort_keys=True)


def test_switches_turn_the_tricks_off(monkeypatch) -> None:
    monkeypatch.setenv("TRIAGE_NO_RAWWALK", "1")
    monkeypatch.setenv("TRIAGE_NO_FORK", "1")
    assert not rawwalk.available() and not forked.possible()


def test_the_public_walk_gives_the_same_series(make_store, monkeypatch) -> None:
    store = _store(make_store)
    fast = _json(load_series(store))
    monkeypatch.setenv("TRIAGE_NO_RAWWALK", "1")
    assert _json(load_series(store)) == fast


def test_the_index_built_with_the_public_walk_is_the_same(make_store, monkeypatch, tmp_path) -> None:
    store = _store(make_store)
    fast = SeriesIndex(store, path=tmp_path / "a.sqlite")
    fast.refresh()
    monkeypatch.setenv("TRIAGE_NO_RAWWALK", "1")
    monkeypatch.setenv("TRIAGE_NO_FORK", "1")
    plain = SeriesIndex(store, path=tmp_path / "b.sqlite")
    plain.refresh()
    assert plain.series() == fast.series()


@needs_corpus
@pytest.mark.slow
def test_the_public_walk_agrees_on_a_real_thread_set(make_store, monkeypatch) -> None:
    store = make_store(*sorted((CORPUS / "threads" / "linux-pwm").rglob("*.mbox"))[:40])
    fast = _json(load_series(store))
    monkeypatch.setenv("TRIAGE_NO_RAWWALK", "1")
    assert _json(load_series(store)) == fast
