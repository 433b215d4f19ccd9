"""The index runs nothing it reads back and rebuilds itself from any damage (issue 13, class 4)."""

from __future__ import annotations

import io
import json
import pickle
import sqlite3
from pathlib import Path

import pytest

from tests.mailgen import mail, mbox, patch_body
from triage.cache.index import SeriesIndex
from triage.series.service import load_series


class _Boom:
    def __reduce__(self):  # noqa: ANN204 - what a planted pickle does when it is loaded
        return (Path.write_text, (Path("/tmp/triage-pwned-by-cache"), "pwned"))


def _store(make_store):
    return make_store(mbox(
        mail("c@x", "[PATCH 0/1] widget: speed up", "cover\n"),
        mail("p1@x", "[PATCH 1/1] widget: a", patch_body(), minutes=1, parent="c@x"),
        mail("o@x", "[PATCH] other: thing", patch_body(), minutes=50, sender="Bob <bob@example.net>"),
    ))


def _cold(store) -> list[dict]:
    return json.loads(json.dumps([s.to_json() for s in load_series(store)]))


def _damage(index: SeriesIndex, sql: str, *args: object) -> None:
    with sqlite3.connect(index.path) as con:
        con.execute(sql, args)
    con.close()
    for light in (False, True):  # the stored answers too, so the damage is read
        index.answer_file(light).unlink(missing_ok=True)


DAMAGES = {
    "planted pickle in a thread": ("UPDATE threads SET data=?", pickle.dumps([_Boom()])),
    "planted pickle in a link": ("UPDATE series SET link=?", pickle.dumps(_Boom())),
    "bad blob": ("UPDATE threads SET data=?", b"\xc1\xc1\xc1"),
    "wrong types in a blob": ("UPDATE threads SET data=?", b"\x91\x93\x01\x02\x03"),
    "NULL thread data": ("UPDATE threads SET data=NULL",),
    "bad JSON fragment": ("UPDATE series SET fragment=?, light=?", "{not json", "{nor this"),
    "NULL fragment": ("UPDATE series SET fragment=NULL, light=NULL",),
    "NULL members": ("UPDATE series SET members=NULL",),
    "bad revision": ("UPDATE meta SET value=? WHERE key='revision'", "not-a-number"),
}


@pytest.mark.parametrize("damage", list(DAMAGES))
def test_any_damage_is_rebuilt_and_nothing_runs(make_store, damage: str) -> None:
    Path("/tmp/triage-pwned-by-cache").unlink(missing_ok=True)
    store = _store(make_store)
    index = SeriesIndex(store)
    index.refresh()
    expected = _cold(store)
    _damage(index, *DAMAGES[damage])
    fresh = SeriesIndex(store)  # a new process: nothing of the build is kept in memory
    fresh.refresh()
    assert fresh.series() == expected
    assert json.loads(fresh.series_json("subject:widget")) == [s for s in expected if "widget" in s["title"]]
    assert fresh.series(light=True)
    # The streamed answer too: written to the stored file series by series, checked, copied.
    _damage(fresh, *DAMAGES[damage])
    out = io.BytesIO()
    SeriesIndex(store).write_series_json(out)
    assert json.loads(out.getvalue()) == expected
    assert not Path("/tmp/triage-pwned-by-cache").exists()


def test_a_bad_stored_answer_is_made_again(make_store) -> None:
    store = _store(make_store)
    index = SeriesIndex(store)
    index.refresh()
    expected = index.series()
    head = index.answer_file().read_bytes().split(b"\n", 1)[0]
    index.answer_file().write_bytes(head + b"\n[{broken")
    assert SeriesIndex(store).series() == expected
    for planted in (b"[{broken", b"", b"[1, 2]]", b'[{"id": "x"}] trailing'):
        index.answer_file().write_bytes(head + b"\n" + planted)
        out = io.BytesIO()
        SeriesIndex(store).write_series_json(out)
        assert json.loads(out.getvalue()) == expected, planted


@pytest.mark.parametrize("where", ["index", "answer"])
def test_a_directory_where_a_file_should_be(make_store, where: str) -> None:
    store = _store(make_store)
    index = SeriesIndex(store)
    index.refresh()
    expected = index.series()
    target = index.path if where == "index" else index.answer_file()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    target.mkdir()
    (target / "something").write_text("x")
    again = SeriesIndex(store)
    again.refresh()
    assert again.series() == expected
    out = io.BytesIO()
    again.write_series_json(out)  # the answer cannot be kept: written from memory all the same
    assert json.loads(out.getvalue()) == expected
