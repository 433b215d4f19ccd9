"""Property tests (Hypothesis): no message, however broken, stops the listing (issue 13, classes 7 and 8).

Generated headers and bodies go through the whole path a message takes: the body
reader and its facts, the sender rule, the subject parser, grouping, version linking,
the series JSON and the index's MessagePack; and, for a smaller number, a real notmuch
store and the index built from it.
"""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import create_store
from tests.mailgen import raw_mail
from triage.cache.index import SeriesIndex, _pack_thread, _unpack_thread
from triage.mail.addresses import parse_raw, raw_sender, sender_of_decoded
from triage.mail.importer import import_paths
from triage.mail.message import read_message
from triage.mail.parse import body_text_of
from triage.model.series import MessageRecord
from triage.model.subject import CLAIM_CAP, parse_subject
from triage.series.facts import facts_from_text
from triage.series.facts_reader import read_facts
from triage.series.grouping import group_series, link_info, link_versions

NASTY_TEXT = st.text(
    alphabet=st.characters(min_codepoint=0, max_codepoint=0x10FFFF, blacklist_categories=("Cs",)), max_size=80
)
SUBJECT_PIECES = st.sampled_from([
    "[PATCH", "]", "[", "v", "2", "0/3", "1/3", "² of 3", "٣/٥", "1 of 100000000000000000000", "v" + "9" * 30,
    "RFC", "RESEND", "Re: ", "Fwd: ", "[GIT PULL]", "=?utf-8?q?=0D=0A?=", "\r\n", "n/n", " ", "3/n", "(v2)", "\x00",
])
SUBJECTS = st.one_of(NASTY_TEXT, st.lists(SUBJECT_PIECES, max_size=8).map("".join))
ADDRESSES = st.one_of(
    NASTY_TEXT,
    st.sampled_from([
        "Alice <alice@example.com>", "=?utf-8?q?=3Ca=40b=3E?= <eve@x.example>", "<>", "a@", "@b", '"unterminated <x@y>',
        "Bob <=?utf-8?q?bob=40x?=>", "group: a@b.c, d@e.f;", "x" * 3000 + " <y@z.example>",
    ]),
)
BODY_PIECES = st.sampled_from([
    "Reviewed-by: A <a@b.c>\n", "Acked-by:\n", "> Reviewed-by: q <q@q>\n", "-- \n", "diff --git a/f b/f\n",
    "--- a/f\n+++ b/f\n@@ -1,3 +1,3 @@\n", "+x\n", "-y\n", " z\n", "@@ -99999999999999999999 @@\n",
    "change-id: abc\n", "Supersedes: <a@b>\n", "\x1b[31m", "\u202e", "\r\n", "GIT binary patch\n",
])
BODIES = st.one_of(NASTY_TEXT, st.lists(BODY_PIECES, max_size=20).map("".join))
DATES = st.integers(min_value=-(2**62), max_value=2**62)


def _nested_multipart(depth: int) -> bytes:
    head = b"From: a@b.c\nSubject: [PATCH] deep\nMessage-ID: <deep@x>\n"
    body = b"".join(b'Content-Type: multipart/mixed; boundary="b%d"\n\n--b%d\n' % (i, i) for i in range(depth))
    return head + b'Content-Type: multipart/mixed; boundary="top"\n\n--top\n' + body + b"text\n"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.tuples(SUBJECTS, ADDRESSES, BODIES, DATES, st.integers(0, 6)), min_size=1, max_size=8),
)
def test_generated_messages_group_link_and_serialise(messages) -> None:
    records = []
    for n, (subject, sender, body, date, parent) in enumerate(messages):
        facts = facts_from_text(body)
        name, addr = sender_of_decoded(sender)
        raw = raw_mail([("From", sender.replace("\n", " ")), ("Subject", subject.replace("\n", " "))], body)
        facts = facts._replace(sender=raw_sender(raw) or ("", ""))
        parse_raw(sender)
        parse_subject(subject)
        body_text_of(raw)
        records.append(MessageRecord(
            f"m{n}@x", "t1" if parent % 2 else f"t{n}", subject, name, addr, date,
            parent_id=f"m{parent}@x" if parent < n else None, facts=facts,
        ))
    series = group_series(records, link=True)
    for s in series:
        assert s.total <= CLAIM_CAP and s.version <= CLAIM_CAP
        json.dumps(s.to_json())
        s.missing()
    link_versions([link_info(s) for s in series])
    assert _unpack_thread("t1", _pack_thread(records))[0].message_id == records[0].message_id


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2000))
def test_any_bytes_read_as_a_message(data: bytes) -> None:
    body_text_of(data)
    raw_sender(data)


def test_a_thousand_levels_of_multipart_do_not_stop_anything(tmp_path) -> None:
    f = tmp_path / "deep.eml"
    f.write_bytes(_nested_multipart(1000))
    facts = read_facts(str(f))
    assert facts is not None
    msg = read_message("deep@x", str(f))
    assert msg.message_id == "deep@x"


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.lists(st.tuples(SUBJECTS, ADDRESSES, BODIES), min_size=1, max_size=4))
def test_a_real_store_of_generated_mail_lists(tmp_path_factory, messages) -> None:
    root = tmp_path_factory.mktemp("fuzzstore")
    store = create_store(root)
    files = []
    dates = ["Mon, 05 Jan 2026 10:00:00 +0000", "Fri, 31 Dec 9999 23:59:59 -9959", "garbage", "Thu, 01 Jan 1970 00:00:00 +9999"]
    for n, (subject, sender, body) in enumerate(messages):
        f = root / f"m{n}.eml"
        f.write_bytes(raw_mail([("From", sender.replace("\n", " ").replace("\r", " ")),
                                ("Subject", subject.replace("\n", " ").replace("\r", " ")),
                                ("Date", dates[n % len(dates)]), ("Message-ID", f"<fz{n}@x>")], body))
        files.append(f)
    files.append(root / "deep.eml")
    files[-1].write_bytes(_nested_multipart(1000))
    import_paths(store, files)
    index = SeriesIndex(store, write_in_copy=False)
    index.refresh()
    listed = index.series()
    assert isinstance(listed, list)
    assert json.loads(index.series_json()) == listed
