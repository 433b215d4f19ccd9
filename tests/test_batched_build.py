"""A first build in batches (newest threads first) gives the index a one-shot build gives.

Built mail whose series span batch boundaries: a version in one batch and its newer version
in another, a series of unthreaded patches whose threads land in different batches, a
cover answered by patches in threads of their own, reviews carried to a newer version, a
version named by a link in a later cover. Batches of one to a few messages put every
boundary somewhere else.
"""

from __future__ import annotations

import gc
import json
import re
import sqlite3
import weakref
from pathlib import Path

import msgspec
import pytest

from tests.conftest import CORPUS
from tests.mailgen import mail, mbox, patch_body
from triage.cache import listing
from triage.cache.index import SeriesIndex
from triage.mail.importer import import_paths
from triage.series.service import load_series
from triage.session import Session

PWM = CORPUS / "threads" / "linux-pwm"
BOB = "Bob Reviewer <bob@example.net>"
CAROL = "Carol Coder <carol@example.org>"


def _version(n: int, minutes: int, *, cover_body: str = "cover\n") -> list[bytes]:
    pre = f"[PATCH v{n} " if n > 1 else "[PATCH "
    cover = f"c{n}@x"
    out = [mail(cover, f"{pre}0/2] widget", cover_body, minutes=minutes)]
    out += [mail(f"p{n}-{i}@x", f"{pre}{i}/2] widget: part {i}", patch_body(), minutes=minutes + i, parent=cover)
            for i in (1, 2)]
    return out


def _spanning_mail() -> bytes:
    return mbox(
        *_version(1, 0),
        # Bob reviews v1's first patch: carried to v2, whose first patch is the same diff.
        mail("r1@x", "Re: [PATCH 1/2] widget: part 1", f"Reviewed-by: {BOB}\n", minutes=30, parent="p1-1@x",
             sender=BOB),
        *_version(2, 100, cover_body="- Link to v1: https://lore.kernel.org/r/c1@x\n"),
        # Unthreaded patches, each its own thread (and so, here, its own batch).
        mail("u1@x", "[PATCH v3 1/3] gadget: a", patch_body(), minutes=200, sender=CAROL),
        mail("u2@x", "[PATCH v3 2/3] gadget: b", patch_body("b"), minutes=201, sender=CAROL),
        mail("u3@x", "[PATCH v3 3/3] gadget: c", patch_body("c"), minutes=202, sender=CAROL),
        # A cover whose patches did not answer it.
        mail("k0@x", "[PATCH 0/2] doohickey", "cover\n", minutes=300, sender=BOB),
        mail("k1@x", "[PATCH 1/2] doohickey: one", patch_body("one"), minutes=301, sender=BOB),
        mail("k2@x", "[PATCH 2/2] doohickey: two", patch_body("two"), minutes=302, sender=BOB),
        mail("lone@x", "[PATCH] thing: alone", patch_body("alone"), minutes=400),
    )


def _tables(path: Path) -> dict[str, list[str]]:
    con = sqlite3.connect(path)
    out = {}
    for t in ("meta", "threads", "msg_thread", "series", "series_threads", "list", "link_keys", "refers",
              "queue_facts", "pending"):
        rows = [tuple(msgspec.msgpack.decode(v) if isinstance(v, bytes) else v for v in r)
                for r in con.execute(f"SELECT * FROM {t}")]
        out[t] = sorted(repr(r) for r in rows)
    con.close()
    return out


def _build(store, path: Path, batch: int) -> tuple[SeriesIndex, list[str]]:
    index = SeriesIndex(store, path=path, batch_messages=batch, write_in_copy=False)
    said: list[str] = []
    assert index.refresh(progress=said.append).kind == "cold"
    return index, said


@pytest.mark.parametrize("batch", [1, 2, 3, 5])
def test_batches_give_the_one_shot_index_byte_for_byte(make_store, tmp_path: Path, batch: int) -> None:
    sources: list[Path | bytes] = [_spanning_mail()]
    if PWM.is_dir():
        sources.append(PWM / "improve-pwm-ir-tx-precision")  # real patch-ids, carried reviews
    store = make_store(*sources)
    whole, said_whole = _build(store, tmp_path / "whole.sqlite", 10**6)
    parts, said = _build(store, tmp_path / "parts.sqlite", batch)
    grouped = [s for s in said if s.endswith("messages grouped")]
    assert len(grouped) > 3 and not any(s.endswith("messages grouped") for s in said_whole)
    assert parts.series_json_bytes() == whole.series_json_bytes()
    assert parts.series_json(light=True) == whole.series_json(light=True)
    assert _tables(parts.path) == _tables(whole.path)
    got = {s["id"]: s for s in json.loads(parts.series_json())}
    # What spans batches came together: the versions, the loose patches, the cover.
    assert got["c1@x"]["newer_versions"] == ["c2@x"] and got["c1@x"]["state"] == "superseded"
    assert {(t["name"], t["patch"]) for t in got["c2@x"]["carried_trailers"]} >= {("Reviewed-by", 1)}
    loose = next(s for s in got.values() if s["title"].startswith("gadget"))
    assert loose["received"] == 3
    assert got["k0@x"]["received"] == 2
    assert json.loads(parts.series_json()) == [s.to_json() for s in load_series(store)]


def test_a_batched_index_refreshes_as_any_other(make_store, tmp_path: Path) -> None:
    store = make_store(_spanning_mail())
    index, _ = _build(store, tmp_path / "parts.sqlite", 2)
    late = tmp_path / "late.mbox"
    late.write_bytes(mbox(*_version(3, 500), mail("u4@x", "Re: [PATCH v3 2/3] gadget: b", f"Acked-by: {BOB}\n",
                                                 minutes=510, parent="u2@x", sender=BOB)))
    import_paths(store, [late])
    assert index.refresh().kind == "incremental"
    got = {s["id"]: s for s in json.loads(index.series_json())}
    assert got["c2@x"]["newer_versions"] == ["c3@x"]
    assert json.loads(index.series_json()) == [s.to_json() for s in load_series(store)]


def test_the_list_so_far_is_shown_newest_first_while_the_rest_is_built(make_store, tmp_path: Path) -> None:
    store = make_store(_spanning_mail())
    index = SeriesIndex(store, path=tmp_path / "parts.sqlite", batch_messages=3, write_in_copy=False)
    seen: list[tuple[int, int, list[str], int]] = []

    def batch(done: int, total: int) -> None:
        view = index.partial_view()
        assert view is not None
        rows = view.window(0, 50)
        seen.append((done, total, [r["id"] for r in rows], view.count()))
        view.close()

    assert index.refresh(batch=batch).kind == "cold"
    assert index.partial_view() is None  # built: the list is the index's own from now on
    assert len(seen) > 3
    total = store.count("*")
    assert [t for _, t, _, _ in seen] == [total] * len(seen)
    assert [d for d, _, _, _ in seen] == sorted(d for d, _, _, _ in seen) and seen[-1][0] == total
    # The first batch holds the newest thread: its series heads the list at once.
    assert seen[0][2][0] == "lone@x"
    final = listing.ListView(index.path)
    assert [r["id"] for r in final.window(0, 50)][0] == "lone@x"
    # Before the link pass every version is listed; after it, v1 folds under v2.
    assert "c1@x" in seen[-1][2] and "c1@x" not in [r["id"] for r in final.window(0, 50)]
    final.close()


def test_a_watched_build_collects_the_screens_garbage_batch_by_batch(make_store, tmp_path: Path) -> None:
    """The collector stays off while a batch is grouped (left on, it walked every batch's
    objects again and again: the app's first build at 10x took half as long again), yet a
    screen's cyclic garbage never outlives the batch it was made in (it piled up to 330 MB
    when nothing collected it)."""
    store = make_store(_spanning_mail())
    index = SeriesIndex(store, path=tmp_path / "parts.sqlite", batch_messages=3, write_in_copy=False)

    class Widget:
        pass

    made: list[weakref.ref[Widget]] = []
    states: list[tuple[bool, bool]] = []

    def batch(done: int, total: int) -> None:
        # What a screen leaves behind: a cycle only the collector frees.
        w = Widget()
        w.self = w  # type: ignore[attr-defined]
        made.append(weakref.ref(w))
        del w
        states.append((gc.isenabled(), all(r() is None for r in made[:-1])))

    was = gc.isenabled()
    gc.enable()
    try:
        assert index.refresh(batch=batch).kind == "cold"
        assert gc.isenabled()  # as the build found it
    finally:
        if not was:
            gc.disable()
    assert len(states) > 3
    assert [on for on, _ in states] == [False] * len(states)
    assert all(gone for _, gone in states)


def test_a_screen_builds_a_store_of_a_few_first_batches_in_batches(make_store, tmp_path: Path) -> None:
    """Below the size where the CLI batches, a screen's first build still goes in batches: its
    first rows come after the first batch, not after the whole store. The CLI keeps one pass
    (the fastest whole build), and both give the same index."""
    store = make_store(mbox(*(m for n in range(1, 11) for m in _version(n, 100 * n))))
    assert store.count("*") == 30
    # batch_messages=50: the first batch is 10 messages; the CLI batches above 50, a screen above 20.
    batches: list[int] = []
    said: list[str] = []
    shown = SeriesIndex(store, path=tmp_path / "shown.sqlite", batch_messages=50, write_in_copy=False)
    assert shown.refresh(progress=said.append, batch=lambda done, total: batches.append(done)).kind == "cold"
    assert batches[0] >= 10 and batches[0] < 30 and batches[-1] == 30
    assert any("newest first" in line for line in said)
    said.clear()
    alone = SeriesIndex(store, path=tmp_path / "alone.sqlite", batch_messages=50, write_in_copy=False)
    assert alone.refresh(progress=said.append).kind == "cold"
    assert not any("newest first" in line for line in said)
    tables = _tables(shown.path), _tables(alone.path)
    for t in ("series", "list", "link_keys", "threads"):
        assert tables[0][t] == tables[1][t]


def test_a_question_during_the_build_says_it_is_under_way(make_store, tmp_path: Path) -> None:
    from triage.mail.store import StoreError

    store = make_store(_spanning_mail())
    index = SeriesIndex(store, path=tmp_path / "parts.sqlite", batch_messages=4, write_in_copy=False)
    errors: list[str] = []

    def batch(done: int, total: int) -> None:
        try:
            index.list_view("subject:widget")
        except StoreError as e:
            errors.append(str(e))

    index.refresh(batch=batch)
    assert errors and "is still being built" in errors[0] and f"of {store.count('*')} messages" in errors[0]
    assert index.list_view("subject:widget").count() >= 1


@pytest.mark.skipif(not PWM.is_dir(), reason="../shared/corpus is absent")
@pytest.mark.parametrize("kill", [False, True])
def test_batches_read_by_the_helper_lose_nothing(make_store, monkeypatch, tmp_path: Path, kill: bool) -> None:
    """The body helper reads a batch ahead of the grouping; killed half-way (the OOM killer,
    say), what it was handed is read here and the index is the same."""
    import os
    import signal

    from triage.series import facts_reader

    store = make_store(PWM)
    assert store.count("*") > 200
    whole, _ = _build(store, tmp_path / "whole.sqlite", 10**6)
    monkeypatch.setattr(facts_reader, "PARALLEL_THRESHOLD", 0)
    monkeypatch.setattr(facts_reader, "CHUNK", 5)
    collect = facts_reader.FactsReader.collect
    calls: list[bool] = []

    def collect_killing(self: facts_reader.FactsReader) -> dict:
        calls.append(self._helper is not None)
        if kill and len(calls) == 3 and self._helper is not None:
            os.kill(self._helper.proc.pid, signal.SIGKILL)
        return collect(self)

    monkeypatch.setattr(facts_reader.FactsReader, "collect", collect_killing)
    parts, said = _build(store, tmp_path / "parts.sqlite", 40)
    assert len(calls) > 4 and calls[0]
    assert calls[-1] is not kill  # killed: the last batches were read here alone
    assert parts.series_json_bytes() == whole.series_json_bytes()
    assert '"carried_trailers": [{' in parts.series_json()  # patch-ids made: reviews carried


def test_a_stopped_build_leaves_no_list_and_is_built_again(make_store, tmp_path: Path) -> None:
    from triage.cache.db import BuildStopped

    store = make_store(_spanning_mail())
    index = SeriesIndex(store, path=tmp_path / "parts.sqlite", batch_messages=3, write_in_copy=False)
    seen: list[int] = []

    def stop(done: int, total: int) -> None:
        seen.append(done)
        if len(seen) == 2:
            raise BuildStopped("stopped")

    with pytest.raises(BuildStopped):
        index.refresh(batch=stop)
    assert len(seen) == 2 and index.partial_view() is None and not index.has_list()
    r = index.refresh()
    assert r.kind == "cold" and r.reason == "new index"
    assert json.loads(index.series_json()) == [s.to_json() for s in load_series(store)]


async def test_the_app_shows_each_batch_and_then_the_linked_list(make_store, monkeypatch) -> None:
    """A first start on a store with no index: the newest series on screen after the first
    batch, with the count so far in the status line; the versions folded at the end."""
    from tests.uihelpers import wait_for
    from triage.config import Settings
    from triage.ui import messages as msg
    from triage.ui.app import make_app
    from triage.ui.keymaps import load_keymap
    from triage.ui.widgets.panes import SeriesList

    monkeypatch.setenv("TRIAGE_BATCH_MESSAGES", "3")
    store = make_store(_spanning_mail())
    views: list[tuple[int, str]] = []  # what each list handed to the screen held when made
    partial_view = SeriesIndex.partial_view

    def recorded(self, **kw):
        view = partial_view(self, **kw)
        if view is not None:
            views.append((view.count(), view.window(0, 1)[0]["id"]))
        return view

    monkeypatch.setattr(SeriesIndex, "partial_view", recorded)
    hows: dict[str, None] = {}
    app = make_app(store, Settings(), load_keymap("default"))

    def hook(message) -> None:
        if isinstance(message, msg.SeriesLoaded):
            hows[message.how] = None

    async with app.run_test(size=(80, 24), message_hook=hook) as pilot:
        table = app.query_one(SeriesList)
        await wait_for(pilot, lambda: "index built" in hows and table.row_count > 0, "the built list")
        total = store.count("*")
        partial = [re.fullmatch(rf"building the index: (\d+) of {total} messages", h) for h in hows if h != "index built"]
        assert len(partial) > 3 and all(partial), hows
        done = [int(m.group(1)) for m in partial if m]
        assert done == sorted(done) and done[-1] == total
        assert len(views) == len(partial) and views[0] == (1, "lone@x")  # the newest series first
        assert [n for n, _ in views] == sorted(n for n, _ in views)
        # Every version listed while building; v1 folded under v2 once linked.
        assert views[-1][0] > table.row_count
        assert "c1@x" not in table.row_ids() and "c2@x" in table.row_ids()
        assert table.row_ids()[0] == "lone@x"


async def test_a_first_start_on_the_queue_shows_the_batches_then_the_queue(make_store, monkeypatch) -> None:
    """With ``[queue] start`` a first start showed "loading…" and nothing else until the whole
    store was built (a minute at ten times linux-pwm): it shows the list batch by batch, with
    the build's progress, then the queue."""
    from tests.uihelpers import wait_for
    from triage.config import Settings
    from triage.ui import messages as msg
    from triage.ui.app import make_app
    from triage.ui.keymaps import load_keymap
    from triage.ui.widgets.panes import SeriesList

    monkeypatch.setenv("TRIAGE_BATCH_MESSAGES", "3")
    store = make_store(_spanning_mail())
    seen: list[str] = []
    app = make_app(store, Settings(queue_start=True), load_keymap("default"))

    def hook(message) -> None:
        if isinstance(message, msg.SeriesLoaded):
            seen.append(message.how)
        elif isinstance(message, msg.QueueLoaded):
            seen.append("queue")

    async with app.run_test(size=(80, 24), message_hook=hook) as pilot:
        table = app.query_one(SeriesList)
        await wait_for(pilot, lambda: app.main.in_queue, "the queue")
        said = list(dict.fromkeys(seen))  # a message bubbles: the hook sees it twice
        assert len(said) > 3 and all(h.startswith("building the index: ") for h in said[:-1]), said
        assert said[-1] == "queue" and "Queue" in str(table.border_title)
        assert set(table.row_ids()) == {i.row["id"] for i in Session(store).todo()}


def test_a_write_beside_a_batch_never_breaks_the_build(make_store, tmp_path: Path, monkeypatch) -> None:
    """Another connection writing the index (a verdict kept by the screen, another triage)
    while a batch is read: the batch holds the write lock from its start, so the other
    writer waits or gives up, and the build never meets a snapshot it cannot write on."""
    store = make_store(_spanning_mail())
    index = SeriesIndex(store, path=tmp_path / "parts.sqlite", batch_messages=3, write_in_copy=False)
    expand = SeriesIndex._expand
    outcomes: list[str] = []

    def expand_beside_a_writer(self, con, threads, fresh):
        got = expand(self, con, threads, fresh)  # read in the batch's transaction
        other = sqlite3.connect(index.path, isolation_level=None, timeout=0.05)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("INSERT OR REPLACE INTO verdicts VALUES ('x@y', 0, x'')")
            other.execute("COMMIT")
            outcomes.append("written")
        except sqlite3.OperationalError as e:
            outcomes.append(str(e))
        finally:
            other.close()
        return got

    monkeypatch.setattr(SeriesIndex, "_expand", expand_beside_a_writer)
    assert index.refresh().kind == "cold"
    assert outcomes and set(outcomes) == {"database is locked"}
    assert json.loads(index.series_json()) == [s.to_json() for s in load_series(store)]


def test_a_list_closed_while_a_worker_reads_it_answers_empty(make_store, tmp_path: Path) -> None:
    """The screen closes a list when the next batch's arrives while its workers may still
    read it: they get an empty answer, never a closed connection mid-statement."""
    import threading

    store = make_store(_spanning_mail())
    index, _ = _build(store, tmp_path / "parts.sqlite", 3)
    for _ in range(20):
        view = listing.ListView(index.path)
        errors: list[BaseException] = []
        answers: list[object] = []

        def read(view=view, errors=errors, answers=answers) -> None:
            try:
                for _ in range(300):
                    answers.extend((view.get("c2@x"), view.window(0, 5), view.position("c2@x"), view.counts()))
            except BaseException as e:  # noqa: BLE001 - what the reader met is the assertion
                errors.append(e)

        reader = threading.Thread(target=read)
        reader.start()
        view.close()
        reader.join()
        assert not errors
    assert view.get("c2@x") is None and view.window(0, 5) == [] and view.count() >= 0
    assert any(a for a in answers)  # some reads came before the close


def test_a_batched_index_is_rebuilt_in_place_when_the_settings_change(make_store, tmp_path: Path) -> None:
    """Another identity rebuilds the index into the open file, in batches, and the answer
    follows ("replied")."""
    from triage.series.service import policy_for

    store = make_store(_spanning_mail())
    path = tmp_path / "parts.sqlite"
    plain, _ = _build(store, path, 2)
    assert not any(r["replied"] for r in plain.series())
    as_bob = SeriesIndex(store, path=path, batch_messages=2, write_in_copy=False,
                         policy=policy_for(store, identities=["bob@example.net"]))
    said: list[str] = []
    r = as_bob.refresh(progress=said.append)
    assert r.kind == "cold" and "settings changed" in r.reason
    assert sum(s.endswith("messages grouped") for s in said) > 3
    replied = {s["id"] for s in as_bob.series() if s["replied"]}
    assert "c1@x" in replied  # Bob reviewed v1
    whole = SeriesIndex(store, path=tmp_path / "whole.sqlite", batch_messages=10**6, write_in_copy=False,
                        policy=policy_for(store, identities=["bob@example.net"]))
    whole.refresh()
    assert as_bob.series_json_bytes() == whole.series_json_bytes()
