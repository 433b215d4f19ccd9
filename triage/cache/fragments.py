"""A series as JSON in the index: its fragment (what does not depend on other versions), its
light row (what the list shows), and the keys its versions add when the answer is assembled.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any, NamedTuple

from triage.cache import listing
from triage.cache.codec import DamagedIndex, _encode_blob, _pack_thread
from triage.model.series import STATES, MessageRecord, Series, state_read
from triage.series.linking import LinkInfo, LinkNotes, carry_reviews, link_versions
from triage.textsafe import json_safe

_LIGHT_KEYS = ("id", "title", "version", "rfc", "resend", "total", "received", "complete", "author", "date", "progress",
               "unread", "replied", "counts", "outcome", "ci_state")


def _fragments(s: Series) -> tuple[str, str]:
    """The series' JSON without the keys that depend on other versions, and its light row:
    what the series list shows, a tenth of the full JSON, so a warm start reads little."""
    d = s.to_json(versions=False)  # what depends on other versions is added by _assemble
    return json_safe(_encode(d)), json_safe(_encode({k: d[k] for k in _LIGHT_KEYS}))


# json.dumps(ensure_ascii=False) without building an encoder per call or tracking containers
# for cycles (these dicts have none).
_encode = json.JSONEncoder(ensure_ascii=False, check_circular=False).encode


_STATE_JSON = {state: json.dumps(state) for state in STATES}
_LONE_TAIL = (', "current": true, "previous_versions": [], "newer_versions": [], "carried_trailers": [], "review_lost": [], '
              '"claims": []}')


class Versions(NamedTuple):
    """What depends on a series' other versions, over a set of series."""

    links: dict[str, tuple[list[str], list[str]]]
    carry: dict[str, tuple[list[dict[str, object]], list[dict[str, object]]]]
    claims: dict[str, list[dict[str, str]]]
    split_open: frozenset[str] = frozenset()  # current though it has newer versions (see LinkNotes)

    def current(self, sid: str) -> bool:
        got = self.links.get(sid)
        return not (got and got[1]) or sid in self.split_open


def _versions_of(infos: list[LinkInfo], *, carry: bool = True) -> Versions:
    notes = LinkNotes()
    links = link_versions(infos, notes)
    return Versions(links, carry_reviews(infos, links) if carry else {}, dict(notes.claims), frozenset(notes.split_open))


def _assemble(
    fragment: str,
    state_tag: str | None,
    links: tuple[list[str], list[str]] | None,
    carry: tuple[list[dict[str, object]], list[dict[str, object]]] | None = None,
    *,
    light: bool = False,
    claims: list[dict[str, str]] | None = None,
    current: bool | None = None,
) -> str:
    """A series' JSON: its stored fragment plus the keys that depend on its other versions."""
    if links is None and not light and not claims:
        state = _STATE_JSON.get(state_tag or "new") or json.dumps(state_tag)
        return f"{fragment[:-1]}, \"state\": {state}{_LONE_TAIL}"
    previous, newer = links or ([], [])
    if current is None:
        current = not newer
    state = state_read(state_tag, superseded=not current)
    tail: dict[str, object] = {"state": state, "current": current, "previous_versions": previous, "newer_versions": newer}
    if not light:
        carried, lost = carry or ([], [])
        tail |= {"carried_trailers": carried, "review_lost": lost}
    tail["claims"] = claims or []
    return fragment[:-1] + ", " + json_safe(json.dumps(tail, ensure_ascii=False))[1:]


def _join(rows: Iterable[tuple[str, str | None, str]], versions: Versions, light: bool) -> bytes:
    """The answer from (id, state tag, fragment) rows, newest first, in UTF-8. Each series is
    encoded on its own: one title with an emoji would otherwise widen the whole 7.5 MB text
    to four bytes a character before encoding it."""
    links, carry, claims = versions.links, versions.carry, versions.claims
    return _array([_assemble(f, st, links.get(sid), None if light else carry.get(sid), light=light,
                             claims=claims.get(sid), current=versions.current(sid)).encode("utf-8")
                   for sid, st, f in rows])


def _array(parts: list[bytes]) -> bytes:
    """Series' JSON texts as one JSON array, one series a line (``parts`` is used up)."""
    if not parts:
        return b"[]"
    parts[0] = b"[" + parts[0]
    parts[-1] += b"]"
    return b",\n".join(parts)


def _thread_rows(by_thread: dict[str, list[MessageRecord]]) -> Iterator[tuple[str, int, bytes]]:
    return ((tid, len(rs), _pack_thread(rs)) for tid, rs in by_thread.items() if rs)


def _series_rows(series: Iterable[Series], infos: Iterable[LinkInfo], fragments: Iterable[tuple[str, str]]) -> Iterator[tuple]:
    for s, info, (full, light) in zip(series, infos, fragments, strict=True):
        members = "\n".join(dict.fromkeys(s.message_ids()))
        link = _encode_blob(info)
        yield (s.id, s.date, s.author_email.lower(), listing.sort_name(s.author_name, s.author_email), s.effective_tag, link,
               members, full, light)


def _list_entry(sid: str, date: int, name: str, state_tag: str | None, light: str, versions: Versions) -> tuple:
    got = versions.links.get(sid)
    current = versions.current(sid)
    return listing.entry(sid, date, name, state_tag, not current,
                         _assemble(light, state_tag, got, light=True, claims=versions.claims.get(sid), current=current))


_ROW_KEYS = frozenset(("id", "title", "state", "version", "date", "author", "previous_versions", "newer_versions", "counts"))


def _checked_row(text: str) -> dict[str, Any]:
    """A list row as the index wrote it; DamagedIndex for anything else."""
    row = json.loads(text)
    if not isinstance(row, dict) or not row.keys() >= _ROW_KEYS:
        raise DamagedIndex("a list row lacks its fields")
    return row
