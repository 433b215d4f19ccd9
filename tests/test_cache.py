"""The series index gives what a cold build gives, after imports, state changes and rebuilds."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import notmuch2
import pytest

from tests.conftest import CORPUS
from tests.mailgen import mail, mbox, patch_body
from triage.cache.index import SeriesIndex
from triage.mail.importer import import_paths
from triage.series.service import load_series

PWM = CORPUS / "threads" / "linux-pwm"


def _cold(store, query: str = "*") -> list[dict]:
    return [s.to_json() for s in load_series(store, query)]


def _v(n: int, minutes: int, parent: str | None = None) -> list[bytes]:
    pre = f"[PATCH v{n} " if n > 1 else "[PATCH "
    cover = f"c{n}@x"
    out = [mail(cover, f"{pre}0/2] widget", "cover\n", minutes=minutes, parent=parent)]
    out += [mail(f"p{n}-{i}@x", f"{pre}{i}/2] widget: part {i}", patch_body(), minutes=minutes + i, parent=cover) for i in (1, 2)]
    return out


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    p = tmp_path / name
    p.write_bytes(data)
    return p


def test_cold_index_equals_a_build_without_cache(make_store) -> None:
    sources = [mbox(*_v(1, 0), *_v(2, 100))]
    if PWM.is_dir():
        sources += [PWM / "improve-pwm-ir-tx-precision", PWM / "misc"]
    store = make_store(*sources)
    index = SeriesIndex(store)
    assert index.refresh().kind == "cold"
    assert json.loads(index.series_json()) == _cold(store)
    assert index.refresh().kind == "warm"
    assert json.loads(index.series_json("subject:widget")) == _cold(store, "subject:widget")


def test_import_and_state_change_update_incrementally(make_store, tmp_path: Path) -> None:
    store = make_store(mbox(*_v(1, 0), mail("other@x", "[PATCH] other", patch_body(), minutes=5, sender="Bob <bob@example.net>")))
    index = SeriesIndex(store)
    index.refresh()
    # A new version in its own thread, and a review of v1 in v1's thread.
    review = mail("r@x", "Re: [PATCH 1/2] widget: part 1", "Reviewed-by: Bob <bob@example.net>\n", minutes=50,
                  parent="p1-1@x", sender="Bob <bob@example.net>")
    import_paths(store, [_write(tmp_path, "more.mbox", mbox(*_v(2, 100), review))])
    r = index.refresh()
    assert r.kind == "incremental" and r.changed >= 4
    got = json.loads(index.series_json())
    assert got == _cold(store)
    v1 = next(s for s in got if s["id"] == "c1@x")
    assert v1["state"] == "superseded" and v1["newer_versions"] == ["c2@x"]
    assert v1["counts"]["reviewed_by"] == 1

    s = next(s for s in load_series(store) if s.id == "c2@x")
    store.set_state(s.message_ids(), "accepted")
    assert index.refresh().kind == "incremental"
    got = json.loads(index.series_json())
    assert got == _cold(store)
    assert next(x for x in got if x["id"] == "c2@x")["state"] == "accepted"


def test_loose_patch_joining_another_thread_is_regrouped(make_store, tmp_path: Path) -> None:
    # Unthreaded patches: 2/3 arrives after the index was built and joins 1/3's series.
    first = [mail("u1@x", "[PATCH v3 1/3] a", patch_body()), mail("u3@x", "[PATCH v3 3/3] c", patch_body(), minutes=2)]
    store = make_store(mbox(*first))
    index = SeriesIndex(store)
    index.refresh()
    import_paths(store, [_write(tmp_path, "late.mbox", mbox(mail("u2@x", "[PATCH v3 2/3] b", patch_body(), minutes=1)))])
    assert index.refresh().kind == "incremental"
    got = json.loads(index.series_json())
    assert got == _cold(store) and [s["received"] for s in got] == [3]


def test_rebuilt_database_is_detected_by_uuid(make_store) -> None:
    store = make_store(mbox(*_v(1, 0)))
    index = SeriesIndex(store)
    index.refresh()
    root = store.path()
    files = sorted(p for p in root.rglob("*") if p.is_file() and ".notmuch" not in p.parts)
    shutil.rmtree(root / ".notmuch")
    db = notmuch2.Database.create(str(root), config=notmuch2.Database.CONFIG.EMPTY)
    for f in files[:2]:  # the rebuilt database holds less mail
        db.add(str(f))
    db.close()
    r = index.refresh()
    assert r.kind == "cold" and "replaced" in r.reason
    assert json.loads(index.series_json()) == _cold(store)


def test_removed_message_and_damaged_cache_rebuild(make_store) -> None:
    store = make_store(mbox(*_v(1, 0)))
    index = SeriesIndex(store)
    index.refresh()
    with store.write() as db:
        db.remove(str(db.find("p1-2@x").path))
    r = index.refresh()
    assert r.kind == "cold" and "removed" in r.reason
    assert json.loads(index.series_json()) == _cold(store)
    # A removal next to a change in the same thread is handled without a rebuild.
    with store.write() as db:
        db.remove(str(db.find("p1-1@x").path))
        db.find("c1@x").tags.add("touched")
    assert index.refresh().kind == "incremental"
    assert json.loads(index.series_json()) == _cold(store)
    index.path.write_bytes(b"this is not sqlite")
    assert index.refresh().kind == "cold"
    assert json.loads(index.series_json()) == _cold(store)


def test_a_busy_index_is_reported_and_kept(make_store) -> None:
    import sqlite3

    from triage.mail.store import StoreError

    store = make_store(mbox(*_v(1, 0)))
    index = SeriesIndex(store)
    index.refresh()
    with store.write() as db:
        db.find("c1@x").tags.add("touched")  # the next refresh has to write
    other = sqlite3.connect(index.path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another triage in the middle of a refresh
    index.busy_timeout = 0.05
    try:
        with pytest.raises(StoreError, match="busy"):
            index.refresh()
        assert index.path.exists()  # not taken for a damaged cache and removed
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert index.refresh().kind == "incremental"
    assert json.loads(index.series_json()) == _cold(store)


def test_light_rows_are_the_full_rows_cut_down(make_store) -> None:
    store = make_store(mbox(*_v(1, 0), *_v(2, 100)))
    index = SeriesIndex(store)
    index.refresh()
    full = json.loads(index.series_json())
    light = index.series(light=True)
    assert [r["id"] for r in light] == [r["id"] for r in full]
    for f, lrow in zip(full, light, strict=True):
        assert "patches" not in lrow and all(f[k] == v for k, v in lrow.items())
    assert index.series("subject:widget", light=True) == light


def test_carried_reviews_match_between_index_and_cold_build(make_store, tmp_path: Path) -> None:
    from tests.test_grouping import _t19_mails

    mails = _t19_mails()
    store = make_store(mbox(*mails[:5]))
    index = SeriesIndex(store)
    index.refresh()
    import_paths(store, [_write(tmp_path, "v2.mbox", mbox(*mails[5:]))])
    assert index.refresh().kind == "incremental"
    got = json.loads(index.series_json())
    assert got == _cold(store)
    v2 = next(s for s in got if s["id"] == "b0@x")
    assert [c["patch"] for c in v2["carried_trailers"]] == [1] and [lost["patch"] for lost in v2["review_lost"]] == [2]


# Run in a process of its own: this one (pytest, after UI tests) may have other threads,
# and then nothing is forked.
_WRITE_BOTH_WAYS = r"""
import json, os, sqlite3, sys
import msgspec
from pathlib import Path
from triage import forked
from triage.cache import index as ix
from triage.series import facts_reader
from triage.mail.store import Store, StoreConfig

facts_reader.PARALLEL_THRESHOLD = 0  # the body helper runs, as on a large store: its threads must be gone at the fork
forks = []
class Counted(forked.ForkedWork):
    def __init__(self, work):
        forks.append(1)
        super().__init__(work)
ix.forked.ForkedWork = Counted
parent = os.getpid()
if sys.argv[3] == "fail":
    create = ix.SeriesIndex._create
    def failing_create(con):
        if os.getpid() != parent:
            raise sqlite3.OperationalError("disk I/O error")
        create(con)
    ix.SeriesIndex._create = staticmethod(failing_create)
if sys.argv[3] == "kill":  # killed half-way through its transaction: rows written, not committed
    write_threads = ix.SeriesIndex._write_threads
    def dying_write_threads(*a):
        write_threads(*a)
        if os.getpid() != parent:
            import signal
            os.kill(os.getpid(), signal.SIGKILL)
    ix.SeriesIndex._write_threads = staticmethod(dying_write_threads)

def tables(path):
    con = sqlite3.connect(path)
    out = {}
    for t in ("meta", "threads", "msg_thread", "series", "series_threads"):
        rows = [tuple(msgspec.msgpack.decode(v) if isinstance(v, bytes) else v for v in r) for r in con.execute(f"SELECT * FROM {t}")]
        out[t] = sorted(repr(r) for r in rows)
    return out

store = Store(StoreConfig(config_path=sys.argv[1]))
got = {}
for name, copy in (("copy", True), ("here", False)):
    index = ix.SeriesIndex(store, path=Path(sys.argv[2]) / f"{name}.sqlite", write_in_copy=copy)
    before = len(forks)
    r = index.refresh()
    got[name] = {"forked": len(forks) > before, "reason": r.reason, "tables": tables(index.path), "json": index.series_json()}
print(json.dumps(got))
"""


def _write_both_ways(store, tmp_path: Path, mode: str) -> dict:
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-c", _WRITE_BOTH_WAYS, str(store.config.config_path), str(tmp_path), mode],
        capture_output=True, text=True, timeout=120, cwd=Path(__file__).resolve().parents[1],
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def _store_with_versions(make_store):
    sources = [mbox(*_v(1, 0), *_v(2, 100))]
    if PWM.is_dir():
        sources += [PWM / "improve-pwm-ir-tx-precision"]  # real patch-ids and carried reviews
    return make_store(*sources)


def test_a_new_index_written_by_a_forked_copy_is_the_one_written_here(make_store, tmp_path: Path) -> None:
    store = _store_with_versions(make_store)
    got = _write_both_ways(store, tmp_path, "ok")
    assert got["copy"]["forked"] and not got["here"]["forked"]
    assert got["copy"]["reason"] == got["here"]["reason"] == "new index"
    assert got["copy"]["tables"] == got["here"]["tables"]
    assert len(got["copy"]["tables"]["series"]) >= 2
    assert got["copy"]["json"] == got["here"]["json"]
    assert json.loads(got["copy"]["json"]) == _cold(store)


@pytest.mark.parametrize(("mode", "why"), [("fail", "OperationalError: disk I/O error"), ("kill", "killed by signal 9")])
def test_a_failing_forked_writer_loses_nothing(make_store, tmp_path: Path, mode: str, why: str) -> None:
    store = _store_with_versions(make_store)
    got = _write_both_ways(store, tmp_path, mode)
    assert got["copy"]["forked"]
    assert f"the forked index writer failed ({why})" in got["copy"]["reason"]
    assert got["copy"]["tables"] == got["here"]["tables"]
    assert json.loads(got["copy"]["json"]) == _cold(store)


def test_a_damaged_index_is_rebuilt_when_read(make_store) -> None:
    """A new index is written without fsync, so a system crash can damage it: reading it
    then rebuilds it (once) instead of failing."""
    import sqlite3

    store = make_store(mbox(*_v(1, 0), *_v(2, 100)))
    index = SeriesIndex(store)
    index.refresh()
    expected = _cold(store, "subject:widget")
    with sqlite3.connect(index.path) as con:
        (page,) = con.execute("PRAGMA page_size").fetchone()
        (meta_root,) = con.execute("SELECT rootpage FROM sqlite_master WHERE name='meta'").fetchone()
    con.close()
    data = bytearray(index.path.read_bytes())
    for n in range(2, len(data) // page + 1):  # every page but the header's and the meta table's
        if n != meta_root:
            data[(n - 1) * page : n * page] = b"\xff" * page
    index.path.write_bytes(data)
    assert json.loads(index.series_json("subject:widget")) == expected
    assert json.loads(index.series_json()) == _cold(store)


def test_a_first_build_gives_its_list_before_it_writes_the_index(make_store) -> None:
    """What the app shows at once on a first start is the list the written index gives."""
    store = make_store(mbox(*_v(1, 0), *_v(2, 100)))
    index = SeriesIndex(store, write_in_copy=False)
    seen: dict[str, object] = {}

    def built() -> None:
        seen["written"] = index.path.exists()
        seen["light"] = index.built_series(light=True)
        seen["full"] = index.built_series()

    assert index.refresh(built=built).kind == "cold"
    assert seen["written"] is False
    assert seen["light"] == index.series(light=True)
    assert seen["full"] == index.series() == _cold(store)
    seen.clear()
    assert index.refresh(built=built).kind == "warm" and not seen  # nothing is built on a warm start


def test_an_index_that_cannot_be_written_is_a_clear_error(make_store, tmp_path: Path) -> None:
    from triage.mail.store import StoreError

    store = make_store(mbox(*_v(1, 0)))
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the cache directory should be\n")
    index = SeriesIndex(store, path=blocker / "index.sqlite")
    with pytest.raises(StoreError, match=r"series index .*not-a-directory/index\.sqlite could not be written"):
        index.refresh()


def test_a_stored_answer_of_other_settings_is_not_used(make_store) -> None:
    """The whole answer is kept in a file keyed by the database's revision and the index's
    settings: a new identity rebuilds the index, and the answer with it ("replied")."""
    store = make_store(mbox(
        mail("p@x", "[PATCH] widget: x", patch_body()),
        mail("r@x", "Re: [PATCH] widget: x", "looks fine\n", minutes=5, parent="p@x", sender="Ann <ann@example.org>"),
    ))
    plain = SeriesIndex(store)
    plain.refresh()
    assert [r["replied"] for r in plain.series()] == [False]
    from triage.series.service import policy_for

    as_ann = SeriesIndex(store, policy=policy_for(store, identities=["ann@example.org"]))
    assert as_ann.refresh().kind == "cold"
    assert [r["replied"] for r in as_ann.series()] == [True]
    assert json.loads(as_ann.series_json_bytes())[0]["replied"] is True


@pytest.mark.parametrize("raw", [True, False])
def test_a_cold_build_says_how_many_messages_it_has_read(make_store, monkeypatch, raw: bool) -> None:
    """Progress every PROGRESS_EVERY messages (made 2 here), on both walks."""
    import triage.mail.store as store_module

    monkeypatch.setattr(store_module, "PROGRESS_EVERY", 2)
    if not raw:
        monkeypatch.setenv("TRIAGE_NO_RAWWALK", "1")
    store = make_store(mbox(*_v(1, 0), *_v(2, 100)))
    said: list[str] = []
    SeriesIndex(store).refresh(progress=said.append)
    assert said[0] == "building the series index: reading 6 messages"
    read = [s for s in said if s.endswith("messages read")]
    assert read and all(s.startswith("building the series index: ") and " of 6 " in s for s in read)
    assert any("grouping 6 messages into series" in s for s in said)
