"""The stored answer: the whole list as ``series --json`` prints it (and the list's light
rows), kept in files beside the index and checked before a reader gets them.
"""

from __future__ import annotations

import hashlib
import json
import mmap
import os
import shutil
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, BinaryIO

import msgspec

from triage.cache.codec import DamagedIndex, _unpack_link
from triage.cache.db import IndexBase
from triage.cache.fragments import Versions, _array, _assemble, _join
from triage.cache.listing import _decode_row
from triage.mail.store import StoreError
from triage.series.linking import carry_reviews


def _answer_key(meta: dict[str, str]) -> bytes:
    """What a stored answer must have been made from: the database (UUID, revision) and
    the settings the index was built with (the user's identities change "replied")."""
    settings = hashlib.sha1(str(meta.get("settings")).encode()).hexdigest()[:16]
    return f"{meta.get('uuid')} {meta.get('revision')} {settings}".encode()





# Checks that a stored answer is one well-formed JSON array without building its objects
# (a tenth of the time and memory of decoding it: 86 MB at ten times linux-pwm).
_check_array = msgspec.json.Decoder(list[msgspec.Raw]).decode
_check_value = msgspec.json.Decoder(msgspec.Raw).decode


def _valid_json(payload: bytes, where: str) -> bytes:
    """``payload`` if it is one JSON array; a damaged or planted answer never reaches a reader."""
    try:
        _check_array(payload)
    except msgspec.DecodeError as e:
        raise DamagedIndex(f"{where}: {e}") from e
    return payload


@dataclass(slots=True)
class _Fresh:
    """What a cold build just made, kept for this process's first answer instead of reading it back."""

    uuid: str
    revision: str
    rows: list[tuple[str, str | None, str, str]]  # (id, state tag, fragment, light) newest first
    versions: Versions
    payload: bytes | None = None  # the whole answer, once made by prepare()

    def answer(self, light: bool) -> bytes:
        if not light and self.payload is not None:
            return self.payload
        return _join(((sid, st, lf if light else f) for sid, st, f, lf in self.rows), self.versions, light)

    def prepare(self) -> None:
        """Make the whole answer now (while a forked copy writes the index) and keep it."""
        self.payload = self.answer(light=False)


Carried = tuple[list[dict[str, object]], list[dict[str, object]]]


def _carried(con: sqlite3.Connection | sqlite3.Cursor, sid: str, previous: list[str], newer: list[str]) -> Carried | None:
    """(reviews carried from the previous version, reviews lost to changed patches) of one
    series with these settled links, from two link records; None without a previous version
    or a record."""
    if not previous:
        return None
    infos = []
    for other in (previous[-1], sid):
        blob = con.execute("SELECT link FROM series WHERE id=?", (other,)).fetchone()
        if blob is None:
            return None
        infos.append(_unpack_link(blob[0]))
    return carry_reviews(infos, {sid: (previous, newer)}).get(sid)


def _whole_json(con: sqlite3.Connection | sqlite3.Cursor, sid: str, state_tag: str | None, fragment: str,
                row: str) -> str:
    """A series as ``series --json`` gives it: its fragment, what its list row settled (links,
    claims, "current"), and the reviews carried from its previous version."""
    got = _decode_row(row)
    previous, newer = got["previous_versions"], got["newer_versions"]
    return _assemble(fragment, state_tag, (previous, newer) if previous or newer else None,
                     _carried(con, sid, previous, newer), claims=got.get("claims"), current=got.get("current"))


class AnswerMixin(IndexBase):
    """The whole list as ``series --json`` prints it, kept in a file beside the index."""

    @staticmethod
    def _parts(con: sqlite3.Connection, light: bool, wanted: set[str] | None = None) -> Iterator[tuple[str, bytes]]:
        """(id, its JSON in UTF-8) of each series, newest first, one at a time: the links,
        claims and "current" from its list row (settled when the index was written), the
        reviews carried from its previous version from the two link records. Nothing is
        held for the whole list, whatever the store's size."""
        column = "s.light" if light else "s.fragment"
        rows = con.execute(f"SELECT s.id, s.state_tag, {column}, l.row FROM series s JOIN list l ON l.id = s.id "
                           "ORDER BY s.date DESC, s.id DESC")
        links_of = con.cursor()
        for sid, st, fragment, row in rows:
            if wanted is not None and sid not in wanted:
                continue
            if light:
                yield sid, row.encode("utf-8")  # the list row is the light JSON with its links
                continue
            yield sid, _whole_json(links_of, sid, st, fragment, row).encode("utf-8")

    @classmethod
    def _payload(
        cls,
        con: sqlite3.Connection,
        wanted: set[str] | None = None,
        *,
        light: bool = False,
    ) -> bytes:
        return _valid_json(_array([part for _, part in cls._parts(con, light, wanted)]), "series rows")

    def answer_file(self, light: bool = False) -> Path:
        return self.path.with_suffix(".list.json" if light else ".json")

    def _answer(self, con: sqlite3.Connection, meta: dict[str, str], light: bool) -> bytes:
        """The whole list as ``series --json`` prints it (or the list's light rows), UTF-8, kept
        in a file beside the index: a warm start reads only that. Made when first asked for
        after a change, so a refresh never builds an answer nobody reads."""
        if not light:
            stored = self._stored_answer(con, meta)
            if stored is None:  # it cannot be kept (a full disk): answered all the same
                return self._made_answer(con, meta, light)
            with stored:
                return stored.read()
        cached = self._cached_answer(meta, light)
        if cached is not None:
            return cached
        payload = self._made_answer(con, meta, light)
        target = self.answer_file(light)
        tmp = target.with_suffix(f".tmp{os.getpid()}")
        try:
            with open(tmp, "wb") as fh:  # two writes: no copy of the payload to prepend the key
                fh.write(_answer_key(meta) + b"\n")
                fh.write(payload)
            tmp.replace(target)
        except OSError:
            # Not kept (a full disk, a directory in its place): answered all the same, and
            # made again next time.
            tmp.unlink(missing_ok=True)
        return payload

    def _fresh_for(self, meta: dict[str, str]) -> _Fresh | None:
        """What this process's cold build made, when it is of the index's revision."""
        fresh = self._fresh
        if fresh is not None and (fresh.uuid, fresh.revision) == (meta.get("uuid"), meta.get("revision")):
            return fresh
        return None

    def _made_answer(self, con: sqlite3.Connection, meta: dict[str, str], light: bool) -> bytes:
        fresh = self._fresh_for(meta)
        return fresh.answer(light) if fresh is not None else self._payload(con, light=light)

    def built_json(self, light: bool = False) -> str:
        """The whole list (as ``series_json()``) of the last build from scratch, which may be
        still writing the index (see :meth:`refresh`)."""
        if self._fresh is None:
            raise StoreError("the series index has not been built in this process")
        return self._fresh.answer(light).decode("utf-8")

    def built_series(self, light: bool = False) -> list[dict[str, object]]:
        return json.loads(self.built_json(light))

    def _cached_answer(self, meta: dict[str, str], light: bool = False) -> bytes | None:
        try:
            data = self.answer_file(light).read_bytes()
        except OSError:
            return None
        head, _, payload = data.partition(b"\n")
        if head != _answer_key(meta):
            return None
        try:
            return _valid_json(payload, str(self.answer_file(light)))
        except DamagedIndex:
            return None  # made again from the index

    def write_series_json(self, out: BinaryIO, query: str = "*") -> None:
        """``series --json QUERY`` written to ``out``. The whole list is copied from its stored
        file a megabyte at a time, once checked to be one JSON array through a memory map
        (never a copy of it in memory); a list not stored yet is written into that file
        series by series first. Other queries, or a file that cannot be written, are
        answered from memory."""
        if (query.strip() or "*") == "*":

            def stored() -> IO[bytes] | None:
                with self._db() as con:
                    meta = self._meta(con)
                    return self._stored_answer(con, meta) if meta else None

            fh = self._read(stored)
            if fh is not None:
                with fh:
                    shutil.copyfileobj(fh, out, 1 << 20)
                return
        out.write(self.series_json_bytes(query))

    def _stored_answer(self, con: sqlite3.Connection, meta: dict[str, str]) -> IO[bytes] | None:
        """The stored whole answer, open after its header line, made first when missing or
        stale; None when it cannot be written (a full disk)."""
        fh = self._open_answer(meta)
        if fh is not None:
            return fh
        target = self.answer_file()
        tmp = target.with_suffix(f".tmp{os.getpid()}")
        fresh = self._fresh_for(meta)
        try:
            with open(tmp, "wb") as out:
                out.write(_answer_key(meta) + b"\n")
                if fresh is not None:
                    out.write(fresh.answer(light=False))
                else:
                    self._write_answer(con, out)
            tmp.replace(target)
        except OSError:
            tmp.unlink(missing_ok=True)
            return None
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        # Made here, each series checked as it was written: not read through again (at ten
        # times linux-pwm that put 100 MB of mapped pages into this process's peak).
        return self._open_answer(meta, checked=fresh is None)

    def _open_answer(self, meta: dict[str, str], *, checked: bool = False) -> IO[bytes] | None:
        """The stored answer open after its header when it is current and one JSON array
        (``checked``: known to be, as this process just wrote it series by series)."""
        if not checked:
            return self._open_checked_answer(meta)
        try:
            fh = open(self.answer_file(), "rb")  # noqa: SIM115 - handed to the caller
        except OSError:
            return None
        if fh.readline() != _answer_key(meta) + b"\n":
            fh.close()
            return None
        return fh

    def _write_answer(self, con: sqlite3.Connection, out: IO[bytes]) -> None:
        """The whole answer from the index, one series at a time, each checked to be JSON
        (a damaged or planted fragment raises DamagedIndex before the file is used)."""
        out.write(b"[")
        first = True
        for sid, part in self._parts(con, light=False):
            try:
                _check_value(part)
            except msgspec.DecodeError as e:
                raise DamagedIndex(f"series {sid}: {e}") from e
            out.write(part if first else b",\n" + part)
            first = False
        out.write(b"]")

    def _open_checked_answer(self, meta: dict[str, str]) -> IO[bytes] | None:
        """The stored answer open after its header when it is current and one JSON array."""
        try:
            fh = open(self.answer_file(), "rb")  # noqa: SIM115 - handed to the caller
        except OSError:
            return None
        try:
            head = fh.readline()
            if head != _answer_key(meta) + b"\n":
                fh.close()
                return None
            start = fh.tell()
            size = os.fstat(fh.fileno()).st_size
            if size <= start:
                fh.close()
                return None
            with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm, memoryview(mm) as view:
                try:
                    _check_array(view[start:])
                except msgspec.DecodeError:
                    fh.close()
                    return None  # made again from the index
            fh.seek(start)
            return fh
        except (OSError, ValueError):
            fh.close()
            return None

    def series_json_bytes(self, query: str = "*") -> bytes:
        """As :meth:`series_json`, UTF-8 encoded; the warm whole list is never decoded."""
        if (query.strip() or "*") == "*":

            def stored() -> bytes | None:
                with self._db() as con:
                    meta = self._meta(con)
                    return self._answer(con, meta, light=False) if meta else None  # stored when current

            got = self._read(stored)
            if got is not None:
                return got
        return self.series_json(query).encode("utf-8")

    def series_json(self, query: str = "*", *, light: bool = False) -> str:
        """``triage series --json QUERY`` from the index (call :meth:`refresh` first).

        ``light`` gives only what the series list shows (no patches or trailers)."""
        return self._read(lambda: self._series_json(query, light))

    def _matching_series(self, con: sqlite3.Connection, query: str) -> set[str]:
        """The series with a message that ``query`` (notmuch) matches."""
        matched = self.store.matching_ids(query)
        return {sid for sid, members in con.execute("SELECT id, members FROM series")
                if not matched.isdisjoint(members.split("\n"))}

    def _series_json(self, query: str, light: bool) -> str:
        q = query.strip() or "*"
        with self._db() as con:
            meta = self._built_meta(con)
            if q == "*":
                return self._answer(con, meta, light).decode("utf-8")
            wanted = self._matching_series(con, q)
            return self._payload(con, wanted, light=light).decode("utf-8") if wanted else "[]"
