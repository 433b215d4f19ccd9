"""The series list read from the index a window at a time is the list the screen showed when
it sorted and filtered the whole stored answer in memory; and a list of 100,000 series
scrolls to its end reading only the rows it draws."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tests.conftest import CORPUS
from tests.mailgen import mail, mbox, patch_body
from triage.cache import listing
from triage.cache.index import SeriesIndex
from triage.mail.importer import import_paths
from triage.model.series import STATES
from triage.session import Session
from triage.ui.listmodel import ListModel, MemoryRows

PWM = CORPUS / "threads" / "linux-pwm"


def _versions(prefix: str, versions: int, start: int, sender: str) -> list[bytes]:
    out = []
    for v in range(1, versions + 1):
        tag = f"[PATCH v{v} " if v > 1 else "[PATCH "
        cover = f"{prefix}c{v}@x"
        at = start + 100 * v
        out.append(mail(cover, f"{tag}0/2] {prefix}: widget", "cover\n", minutes=at, sender=sender))
        out += [mail(f"{prefix}p{v}-{i}@x", f"{tag}{i}/2] {prefix}: widget part {i}", patch_body(f"{prefix}{v}{i}"),
                     minutes=at + i, parent=cover, sender=sender) for i in (1, 2)]
    return out


def _store(make_store):
    sources: list = [mbox(
        *_versions("alpha", 3, 0, "Zed Zulu <zed@example.org>"),
        *_versions("beta", 2, 50, "Amy Able <amy@example.org>"),
        *_versions("gamma", 1, 50, "amy able <amy@example.org>"),  # the same date as beta's v1: the id decides
        mail("solo@x", "[PATCH] solo: fix", patch_body("solo"), minutes=900, sender="Bob <bob@example.net>"),
    )]
    if PWM.is_dir():
        sources += sorted(PWM.iterdir())
    return make_store(*sources)


def _both(index: SeriesIndex, sort: str, state: str | None, expand: list[str], query: str = "*",
          rows: list[dict] | None = None) -> tuple[ListModel, ListModel]:
    old = ListModel(MemoryRows(rows if rows is not None else index.series(query, light=True), sort=sort, state=state))
    new = ListModel(index.list_view(query, sort=sort, state=state))
    for sid in expand:
        old.toggle_versions(sid)
        new.toggle_versions(sid)
    return old, new


def _assert_same(old: ListModel, new: ListModel) -> None:
    assert len(new) == len(old)
    assert new.visible() == old.visible()
    assert new.counts() == old.counts()
    for i, (row, _) in enumerate(old.visible()):
        assert new.index_of(row["id"]) == old.index_of(row["id"]) == i
    # Reading windows out of order (as a scroll does) gives the same rows.
    for start in (len(old) - 1, len(old) // 2, 0):
        assert new.window(start, 7) == old.window(start, 7)


def _check_index(index: SeriesIndex) -> int:
    rows = index.series(light=True)
    with_older = [r["id"] for r in rows if r["previous_versions"] and not r["newer_versions"]]
    compared = 0
    for sort in listing.SORTS:
        for state in (None, "new", "superseded", "reviewed"):
            for expand in ([], with_older[:6]):
                old, new = _both(index, sort, state, expand, rows=rows)
                _assert_same(old, new)
                compared += len(old)
    return compared


def test_the_index_list_is_the_list_sorted_filtered_and_folded_in_memory(make_store, tmp_path: Path) -> None:
    store = _store(make_store)
    session = Session(store)
    index = session.index
    index.refresh()
    rows = index.series(light=True)
    assert sum(1 for r in rows if r["previous_versions"]) >= 3  # versions fold
    # A state set by hand, so the state filter and sort have more than "new" to order.
    sid = next(r["id"] for r in rows if not r["newer_versions"] and r["id"].startswith("beta"))
    session.set_state(session.series(sid), "reviewed")
    assert index.refresh().kind == "incremental"
    assert _check_index(index) > 0
    # A query and a touches: filter read through the index as the in-memory rows did.
    for query in ("from:amy@example.org", "subject:widget"):
        old, new = _both(index, "date", None, [], query=query)
        assert len(new) > 0
        _assert_same(old, new)
    view = session.list_view("from:bob and touches:f.c", sort="author")
    assert [r["id"] for r in ListModel(view).rows] == ["solo@x"]
    old = ListModel(MemoryRows(session.rows("touches:f.c"), sort="author"))
    new = ListModel(session.list_view("touches:f.c", sort="author"))
    assert len(new) > 3 and [r["id"] for r in new.rows] == [r["id"] for r in old.rows]
    # A new version arriving links the old one: the old row leaves the list, the new one leads.
    v2 = mail("solo2@x", "[PATCH v2] solo: fix", patch_body("solo"), minutes=1900, sender="Bob <bob@example.net>")
    import_paths(store, [_write(tmp_path, "v2.mbox", mbox(v2))])
    assert index.refresh().kind == "incremental"
    new = ListModel(index.list_view())
    assert new.rows[0]["id"] == "solo2@x" and "solo@x" not in {r["id"] for r in new.rows}
    assert new.get("solo@x")["state"] == "superseded"
    _check_index(index)


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    p = tmp_path / name
    p.write_bytes(data)
    return p


def test_a_view_sees_the_index_change_under_it_and_survives_a_rebuild(make_store) -> None:
    store = make_store(mbox(*_versions("alpha", 2, 0, "Zed <zed@example.org>")))
    session = Session(store)
    session.refresh()
    view = session.list_view()
    assert view.count() == 1 and view.get("alphac1@x")["state"] == "superseded"
    session.set_state(session.series("alphac2@x"), "accepted")
    session.refresh()
    assert ListModel(session.list_view()).rows[0]["state"] == "accepted"
    assert view.get("alphac2@x")["state"] == "accepted"  # WAL: an open view reads the committed list
    view.close()


class CountingView(listing.ListView):
    reads = 0

    def window(self, start: int, n: int) -> list[dict]:
        CountingView.reads += n
        return super().window(start, n)


def _synthetic_index(path: Path, n: int) -> None:
    con = sqlite3.connect(path)
    con.executescript(listing.CREATE)
    base = 1_700_000_000

    def rows():
        for i in range(n):
            state = STATES[i % 3]
            row = {"id": f"s{i:06d}@x", "title": f"series number {i}", "version": 1, "rfc": False, "resend": False,
                   "total": 2, "received": 2, "complete": True, "author": {"name": f"Author {i % 97}", "email": "a@x"},
                   "date": "2023-11-14T22:13:20+00:00", "progress": {}, "unread": False, "replied": False,
                   "counts": {"reviewed_by": 0, "acked_by": 0, "tested_by": 0, "nacked_by": 0}, "state": state,
                   "current": True, "previous_versions": [], "newer_versions": []}
            yield listing.entry(row["id"], base - i, f"author {i % 97}", state, False, json.dumps(row))

    with con:
        listing.write(con, rows())
    con.close()


@pytest.mark.parametrize("size", [(80, 24), (200, 50)])
async def test_a_list_of_100000_series_scrolls_to_its_end_reading_only_what_it_draws(tmp_path: Path, size) -> None:
    from textual.app import App

    from tests.uihelpers import settle
    from triage.ui.widgets.panes import SeriesList

    n = 100_000
    path = tmp_path / "index.sqlite"
    _synthetic_index(path, n)
    CountingView.reads = 0
    model = ListModel(CountingView(path))
    seen: list[str] = []
    chosen: list[str] = []

    class ListApp(App[None]):
        def compose(self):
            yield SeriesList(model)

        def on_series_list_highlighted(self, event: SeriesList.Highlighted) -> None:
            seen.append(event.series_id)

        def on_series_list_selected(self, event: SeriesList.Selected) -> None:
            chosen.append(event.series_id)

    app = ListApp()
    async with app.run_test(size=size) as pilot:
        table = app.query_one(SeriesList)
        table.reload()
        table.focus()
        await settle(pilot)
        assert table.row_count == n
        await pilot.press("end")
        await settle(pilot)
        assert table.current_id == f"s{n - 1:06d}@x" and seen[-1] == table.current_id
        lines = [table.render_line(y).text for y in range(table.scrollable_content_region.height)]
        assert "title" in lines[0] and any(f"series number {n - 1}" in line for line in lines)
        await pilot.press("pageup", "up")
        await settle(pilot)
        assert table.current_id is not None and int(table.current_id[1:7]) < n - 2
        await pilot.press("home")
        await settle(pilot)
        assert table.current_id == "s000000@x"
        # A click puts the cursor on a row (below the border and the header); a second opens it.
        await pilot.click(SeriesList, offset=(10, 4))
        assert table.current_id == "s000002@x" and chosen == []
        await pilot.click(SeriesList, offset=(10, 4))
        assert chosen == ["s000002@x"]
        # Only chunks around what was drawn were read: a few hundred rows of 100,000.
        assert CountingView.reads < 1000
        # Sorting and filtering are done by SQLite, and the cursor stays on its series.
        table.move_cursor(row=500)
        keep = table.current_id
        model.cycle_sort()  # author
        table.reload(keep=keep)
        assert table.current_id == keep and table.row_count == n
        model.state_filter = "under-review"
        table.reload()
        assert table.row_count == n // 3 and all(
            r["state"] == "under-review" for r, _ in model.window(table.cursor, 40)
        )


def test_carried_reviews_of_one_series_are_those_of_the_whole_answer(make_store) -> None:
    """The screen asks for one series' carried and lost reviews; the index answers from
    two link records what the whole answer says."""
    rb = "Reviewed-by: Rita Reviewer <rita@example.org>\n"
    v1 = [mail("c1@x", "[PATCH 0/2] widget: x", "cover\n"),
          mail("p1-1@x", "[PATCH 1/2] widget: a", patch_body("a"), minutes=1, parent="c1@x"),
          mail("p1-2@x", "[PATCH 2/2] widget: b", patch_body("b").replace("+c\n", "+old\n"), minutes=2, parent="c1@x"),
          mail("r1@x", "Re: [PATCH 1/2] widget: a", rb, minutes=3, parent="p1-1@x", sender="Rita Reviewer <rita@example.org>"),
          mail("r2@x", "Re: [PATCH 2/2] widget: b", rb, minutes=4, parent="p1-2@x", sender="Rita Reviewer <rita@example.org>")]
    v2 = [mail("c2@x", "[PATCH v2 0/2] widget: x", "cover\n", minutes=100),
          mail("p2-1@x", "[PATCH v2 1/2] widget: a", patch_body("a"), minutes=101, parent="c2@x"),
          mail("p2-2@x", "[PATCH v2 2/2] widget: b", patch_body("b").replace("+c\n", "+new\n"), minutes=102, parent="c2@x")]
    sources: list = [mbox(*v1, *v2)]
    if PWM.is_dir():
        sources += sorted(PWM.iterdir())
    index = Session(make_store(*sources)).index
    index.refresh()
    rows = index.series()
    assert any(r["carried_trailers"] for r in rows) and any(r["review_lost"] for r in rows)
    for r in rows:
        assert index.carried(r["id"]) == (r["carried_trailers"], r["review_lost"]), r["id"]


def _list_table(path: Path) -> list[tuple]:
    con = sqlite3.connect(path)
    try:
        return con.execute("SELECT id, head, date, sort_name, state, state_rank, row FROM list ORDER BY id").fetchall()
    finally:
        con.close()


def test_incremental_relinking_gives_the_list_a_cold_build_gives(make_store, tmp_path: Path) -> None:
    """A refresh relinks only series sharing a link key with what changed: after each
    step (a new version by title, a renamed cover, a change-id, a Supersedes:, a state,
    a message removed) the list equals that of an index built from scratch."""
    from triage.mail.importer import import_paths as imp

    def d(tag: str) -> str:
        return patch_body(tag).replace("+c\n", f"+{tag}\n")

    rae, relay = "Rae Person <rae@example.com>", '"Rae Person via B4 Relay" <devnull+rae.example.com@kernel.org>'
    steps = [
        [mail("a1@x", "[PATCH 0/2] gadget: start", "cover\n"),
         mail("a1p1@x", "[PATCH 1/2] gadget: one", d("g1"), minutes=1, parent="a1@x"),
         mail("a1p2@x", "[PATCH 2/2] gadget: two", d("g2"), minutes=2, parent="a1@x"),
         mail("o1@x", "[PATCH] other: thing", d("o1"), minutes=3, sender="Bob <bob@example.net>")],
        [mail("a2@x", "[PATCH v2 0/2] gadget: start", "cover\n", minutes=100),
         mail("a2p1@x", "[PATCH v2 1/2] gadget: one", d("g1b"), minutes=101, parent="a2@x"),
         mail("a2p2@x", "[PATCH v2 2/2] gadget: two", d("g2b"), minutes=102, parent="a2@x")],
        [mail("a3@x", "[PATCH v3 0/2] gadget, widget: start again", "cover\n", minutes=200),  # renamed cover
         mail("a3p1@x", "[PATCH v3 1/2] gadget: one", d("g1c"), minutes=201, parent="a3@x"),
         mail("a3p2@x", "[PATCH v3 2/2] gadget: two", d("g2c"), minutes=202, parent="a3@x")],
        [mail("c1@x", "[PATCH] thing: one", "x\n\nchange-id: 20260101-thing-1234\n" + d("t1"), minutes=300,
              sender="Cy <cy@example.com>"),
         mail("c2@x", "[PATCH] thing: reworded", "x\n\nchange-id: 20260101-thing-1234\n" + d("t2"), minutes=400,
              sender="Cy <cy@example.com>")],
        # Another author's series claims to supersede Bob's posting (a claim: not linked).
        [mail("s2@x", "[PATCH] other: new approach", "Supersedes: <o1@x>\n\n" + d("o2"), minutes=500,
              sender="Carl <carl@example.net>"),
         # It supersedes a posting the store does not have yet ...
         mail("n2@x", "[PATCH] fix: the right way", "Supersedes: <late@x>\n\n" + d("n2"), minutes=600,
              sender="Dee <dee@example.com>")],
        # ... which arrives later (from an archive), by someone else under another title.
        [mail("late@x", "[PATCH] fix: a first try", d("late"), minutes=550, sender="Eve <eve@example.org>")],
        # A v2 sent through B4 Relay under a reworded cover, then (from an archive) the v1
        # its author sent herself: linked by name and shared patches.
        [mail("r2@x", "[PATCH v2 0/2] relay: things, reworded", "cover\n", minutes=700, sender=relay),
         mail("r2p1@x", "[PATCH v2 1/2] relay: a", d("ra2"), minutes=701, parent="r2@x", sender=relay),
         mail("r2p2@x", "[PATCH v2 2/2] relay: b", d("rb2"), minutes=702, parent="r2@x", sender=relay)],
        [mail("r1@x", "[PATCH 0/2] relay: things", "cover\n", minutes=4, sender=rae),
         mail("r1p1@x", "[PATCH 1/2] relay: a", d("ra1"), minutes=5, parent="r1@x", sender=rae),
         mail("r1p2@x", "[PATCH 2/2] relay: b", d("rb1"), minutes=6, parent="r1@x", sender=rae)],
    ]
    store = make_store()
    index = SeriesIndex(store)

    def check() -> None:
        cold = SeriesIndex(store, path=tmp_path / f"cold{len(list(tmp_path.glob('cold*')))}.sqlite")
        assert cold.refresh().kind == "cold"
        assert _list_table(index.path) == _list_table(cold.path)

    for i, msgs in enumerate(steps):
        imp(store, [_write(tmp_path, f"step{i}.mbox", mbox(*msgs))])
        assert index.refresh().kind in ("cold", "incremental")
        check()
    rows = {r["id"]: r for r in index.series(light=True)}
    assert rows["a3@x"]["previous_versions"] == ["a1@x", "a2@x"]
    assert rows["c1@x"]["newer_versions"] == ["c2@x"] and rows["r1@x"]["newer_versions"] == ["r2@x"]
    # Claims of other authors: on both rows, and nothing hidden.
    assert rows["o1@x"]["newer_versions"] == [] and rows["late@x"]["newer_versions"] == []
    assert [c["id"] for c in rows["o1@x"]["claims"]] == ["s2@x"] and rows["s2@x"]["claims"][0]["id"] == "o1@x"
    assert [c["id"] for c in rows["late@x"]["claims"]] == ["n2@x"]
    session = Session(store)
    session.set_state(session.series("a2@x"), "accepted")
    assert index.refresh().kind == "incremental"
    check()
    # The user accepts Carl's claim: from then on it links, the same incrementally as from scratch.
    session.accept_claim(session.series("s2@x"))
    assert index.refresh().kind == "incremental"
    check()
    rows = {r["id"]: r for r in index.series(light=True)}
    assert rows["o1@x"]["newer_versions"] == ["s2@x"] and rows["o1@x"]["state"] == "superseded"


def _queue_from_threads(session: Session, today: str) -> dict[str, list[str]]:
    """The queue as it was computed before its facts were kept in the index: from every
    series' whole JSON and the records of its threads (the reference)."""
    from triage.cache.queuefacts import deferred_until
    from triage.mail.query import quoted
    from triage.queue import FINAL, file_matches, members, touched

    index, store = session.index, session.store
    me = session.all_identities()
    prefix = store.config.tag_prefix
    to_me = store.matching_ids(" OR ".join(f"to:{quoted(a)}" for a in sorted(me)))
    watched = set().union(*(store.matching_ids(q) for q in session.settings.queue_watch))
    rows = index.series()
    by_id = {r["id"]: r for r in rows}
    out: dict[str, list[str]] = {}
    for row in rows:
        if not row["current"] or row["state"] in FINAL:
            continue
        records = index.thread_records(row["id"])
        ids = members(row)
        reasons = []
        if row["state"] == "deferred":
            until = deferred_until({t for r in records if r.message_id in ids for t in r.tags}, prefix)
            if until is None or until > today:
                continue
            reasons.append("deferred-until-passed")
        if records and max(records, key=lambda r: (r.date, r.message_id)).from_email.lower() in me:
            continue
        if ids & to_me:
            reasons.append("to-me")
        if any(by_id.get(p, {}).get("replied") for p in row["previous_versions"]):
            reasons.append("new-version")
        mine = {r.message_id for r in records if r.from_email.lower() in me}
        if any("unread" in r.tags and r.parent_id in mine and r.from_email.lower() not in me for r in records):
            reasons.append("reply-to-me")
        if ids & watched or any(file_matches(f, p) for f in touched(row) for p in session.settings.queue_files):
            reasons.append("watched")
        if reasons:
            out[row["id"]] = reasons
    return out


@pytest.mark.skipif(not PWM.is_dir(), reason="../shared/corpus is absent")
def test_the_queue_from_index_facts_is_the_queue_from_threads(make_store) -> None:
    """The queue reads facts the index keeps per series; on the linux-pwm threads, as a
    maintainer who reviewed there, after a deferral and a state change, it is the queue
    computed from the threads themselves; and each series' whole JSON from its own rows
    is that of the whole answer."""
    from triage.config import Settings

    store = make_store(*sorted(PWM.iterdir()))
    setup = Session(store, Settings())
    setup.refresh()
    heads = [r for r in setup.index.series() if r["current"]]
    setup.defer(setup.series(heads[0]["id"]), "2026-01-01")
    setup.defer(setup.series(heads[1]["id"]), "2099-01-01")
    setup.set_state(setup.series(heads[2]["id"]), "accepted")
    # An author (mail to them, their threads) and the maintainer who often has the last word.
    for me in ("dima.fedrau@gmail.com", "ukleinek@kernel.org"):
        session = Session(store, Settings(identity_email=me, queue_watch=["subject:pwm"],
                                          queue_files=["drivers/pwm/pwm-ir-tx.c"]))
        session.refresh()
        got = {i.row["id"]: i.reasons for i in session.todo(today="2026-06-01")}
        assert got == _queue_from_threads(session, "2026-06-01"), me
        if me.startswith("dima"):
            reasons = {r for rs in got.values() for r in rs}
            assert {"watched", "deferred-until-passed"} <= reasons, reasons  # each reason alone: test_queue.py
    for row in session.index.series():
        assert session.index.full_row(row["id"]) == row
