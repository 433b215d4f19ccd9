"""A fast walk over notmuch threads through notmuch2's C bindings.

notmuch2's Python objects cost tens of microseconds per message (cffi wrappers,
finalizers, a Python iterator per reply list); on a million-message archive that
is the difference between an instant list and a coffee break. This walk calls the
same libnotmuch functions notmuch2 does, on the thread pointers notmuch2 hands
out, and copies everything into plain Python before the thread is freed. The
public-API walk in ``store.walk_thread`` gives the same result and is the fallback.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import notmuch2

try:
    from notmuch2._capi import ffi, lib  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - a notmuch2 without its compiled module
    ffi = lib = None

Row = tuple[str, str | None, str, str, int, tuple[str, ...], Any]


def available() -> bool:
    """The compiled notmuch2 internals are there, and the walk is not switched off
    (``TRIAGE_NO_RAWWALK=1``: the public-API walk, for the benchmark and the tests)."""
    return lib is not None and "_thread_p" in vars(notmuch2.Thread) and not os.environ.get("TRIAGE_NO_RAWWALK")


def _s(p: Any) -> str:
    return "" if p == ffi.NULL else ffi.string(p).decode("utf-8", errors="replace")


def _messages(it: Any) -> list[Any]:
    """The message pointers of a libnotmuch messages iterator."""
    out = []
    while lib.notmuch_messages_valid(it):
        out.append(lib.notmuch_messages_get(it))
        lib.notmuch_messages_move_to_next(it)
    return out


def walk(
    threads: Iterator[notmuch2.Thread], paths: bool = False
) -> Iterator[tuple[str, list[tuple[str, str | None, str, str, int, tuple[str, ...], str | None]]]]:
    """For each thread: (thread id, rows); a row is (id, parent id, subject, from, date, tags, path).

    The path (the message's first file) only with ``paths``: within a thread walk it costs
    next to nothing, libnotmuch has loaded the message's terms already.
    """
    subj_b, from_b = b"subject", b"from"
    for thread in threads:
        tp = thread._thread_p
        tid = _s(lib.notmuch_thread_get_thread_id(tp))
        rows: list[tuple[str, str | None, str, str, int, tuple[str, ...], str | None]] = []
        top = _messages(lib.notmuch_thread_get_toplevel_messages(tp))
        stack: list[tuple[Any, str | None]] = [(m, None) for m in reversed(top)]
        while stack:
            mp, parent = stack.pop()
            mid = _s(lib.notmuch_message_get_message_id(mp))
            subject = _s(lib.notmuch_message_get_header(mp, subj_b))
            sender = _s(lib.notmuch_message_get_header(mp, from_b))
            date = int(lib.notmuch_message_get_date(mp))
            tags: list[str] = []
            tp_ = lib.notmuch_message_get_tags(mp)
            while lib.notmuch_tags_valid(tp_):
                tags.append(_s(lib.notmuch_tags_get(tp_)))
                lib.notmuch_tags_move_to_next(tp_)
            lib.notmuch_tags_destroy(tp_)
            path = (_s(lib.notmuch_message_get_filename(mp)) or None) if paths else None
            rows.append((mid, parent, subject, sender, date, tuple(tags), path))
            stack.extend((m, mid) for m in reversed(_messages(lib.notmuch_message_get_replies(mp))))
        yield tid, rows


def message_ids(db: notmuch2.Database, query: str) -> set[str]:
    """Message ids that ``query`` matches, without a Python object per message."""
    it = db.messages(query)
    if lib is None or "_iter_p" not in vars(type(it)).keys() | vars(type(it).__mro__[1]).keys():
        return {m.messageid for m in it}
    p = it._iter_p
    out: set[str] = set()
    while lib.notmuch_messages_valid(p):
        mp = lib.notmuch_messages_get(p)
        out.add(_s(lib.notmuch_message_get_message_id(mp)))
        lib.notmuch_message_destroy(mp)
        lib.notmuch_messages_move_to_next(p)
    return out
