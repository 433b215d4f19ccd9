"""A Message-ID that looks like a query matches exactly itself (issue 13, class 3)."""

from __future__ import annotations

import pytest

from tests.mailgen import T0, patch_body, raw_mail
from triage.cli import main
from triage.mail.query import id_query
from triage.series.service import find_series
from triage.session import Session

DATE = T0.strftime("%a, %d %b %Y %H:%M:%S +0000")
HOSTILE_IDS = ["id:victim@x", "a(b)c@x", 'q"uote@x', "star*@x", "sp ace@x", "esc\x1b[31m@x", "brace}{@x"]


def _patch(mid: str, title: str, sender: str = "Eve <eve@example.net>", minutes: int = 0) -> bytes:
    date = T0.replace(minute=minutes).strftime("%a, %d %b %Y %H:%M:%S +0000")
    return raw_mail([("From", sender), ("To", "list@example.org"), ("Subject", f"[PATCH] {title}"), ("Date", date),
                     ("Message-ID", f"<{mid}>")], patch_body())


def _tags(store, mid: str) -> set[str]:
    with store.read() as db:
        return {t for t in db.find(mid).tags if t.startswith("triage/")}


def test_an_id_that_reads_like_a_query_tags_only_its_own_series(make_store, capsys) -> None:
    store = make_store(_patch("victim@x", "victim: fix", "Vic <vic@example.org>"), _patch("id:victim@x", "eve: thing"))
    assert find_series(store, "id:victim@x").id == "id:victim@x"
    assert find_series(store, "<id:victim@x>").id == "id:victim@x"
    assert main(["--config", store.config.config_path, "state", "id:victim@x", "rejected"]) == 0
    assert _tags(store, "id:victim@x") == {"triage/rejected"}
    assert _tags(store, "victim@x") == set()  # the victim's series is untouched
    # The ordinary spelling still reaches a plain id.
    assert main(["--config", store.config.config_path, "state", "id:<victim@x>", "accepted"]) == 0
    assert _tags(store, "victim@x") == {"triage/accepted"}


@pytest.mark.parametrize("mid", HOSTILE_IDS)
def test_state_and_versions_work_on_hostile_ids(make_store, mid: str) -> None:
    store = make_store(_patch(mid, "widget: fix"), _patch("v2-" + mid.replace(" ", ""), "widget: fix", minutes=30))
    with store.read() as db:
        stored = next(m.messageid for m in db.messages("*") if not m.messageid.startswith("v2-"))
    s = find_series(store, stored)
    assert s.id == stored
    store.set_state(s.message_ids(), "deferred")
    assert _tags(store, stored) == {"triage/deferred"}
    got = Session(store).versions(stored)  # no Xapian error
    assert stored in {v.id for v, _ in got}
    with store.read() as db:
        assert [m.messageid for m in db.messages(id_query(stored))] == [stored]
