"""Inline review comments: kept as they are typed, and turned into a reply that quotes only
the lines they are about.

A comment is anchored to a line of the message body (its index in ``body.split("\\n")``,
with the line's text to check the anchor). Comments live in one JSON file per series in
``$XDG_STATE_HOME/triage/comments/``, written atomically on every change, so a killed
process loses none; each patch (each message) gets its own reply. A change reads, changes
and writes the file under a lock on it, so two triage processes commenting at once lose
nothing; a write that fails (a full disk) leaves no temporary file behind.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from triage import paths
from triage.textsafe import safe_text

CONTEXT_LINES = 5  # lines quoted above a commented line (after the hunk header)


@dataclass(frozen=True, slots=True)
class Comment:
    line: int  # index of the commented line in the body's lines
    text: str  # the reviewer's words
    quoted: str  # the line as it was when commented (checked when the reply is built)


class CommentStore:
    """Comments by series, then by message id; every change is written at once."""

    def __init__(self, directory: Path | None = None) -> None:
        self.dir = directory or paths.state_dir() / "comments"
        # series id -> (the file's (mtime, size) when read, what it held): a screen redraws
        # comments often, and reads the file again only when it changed.
        self._read: dict[str, tuple[tuple[int, int], dict[str, list[Comment]]]] = {}

    def _file(self, series_id: str) -> Path:
        return self.dir / (hashlib.sha1(series_id.encode("utf-8", "surrogatepass")).hexdigest()[:20] + ".json")

    @contextlib.contextmanager
    def _locked(self, series_id: str) -> Iterator[None]:
        """The series' comments held for a read-change-write (another process waits)."""
        self.dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self._file(series_id).with_suffix(".lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def load(self, series_id: str) -> dict[str, list[Comment]]:
        path = self._file(series_id)
        try:
            st = path.stat()
        except OSError:
            return {}
        stamp = (st.st_mtime_ns, st.st_size)
        got = self._read.get(series_id)
        if got is not None and got[0] == stamp:
            return {m: list(cs) for m, cs in got[1].items()}
        out = self._parse(series_id, path)
        self._read[series_id] = (stamp, out)
        return {m: list(cs) for m, cs in out.items()}

    def _parse(self, series_id: str, path: Path) -> dict[str, list[Comment]]:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        out: dict[str, list[Comment]] = {}
        if not isinstance(data, dict) or data.get("series") != series_id:
            return out
        for mid, items in (data.get("messages") or {}).items():
            comments = []
            for item in items if isinstance(items, list) else []:
                try:
                    comments.append(Comment(int(item["line"]), str(item["text"]), str(item.get("quoted", ""))))
                except (KeyError, TypeError, ValueError):
                    continue  # a damaged entry is left out, never executed or trusted
            if comments:
                out[str(mid)] = sorted(comments, key=lambda c: c.line)
        return out

    def for_message(self, series_id: str, message_id: str) -> list[Comment]:
        return self.load(series_id).get(message_id, [])

    def set(self, series_id: str, message_id: str, comment: Comment) -> None:
        """Add or replace the comment on ``comment.line``; empty text deletes it."""
        with self._locked(series_id):
            data = self._parse(series_id, self._file(series_id))
            kept = [c for c in data.get(message_id, []) if c.line != comment.line]
            if comment.text.strip():
                kept.append(comment)
            data[message_id] = sorted(kept, key=lambda c: c.line)
            self._save(series_id, data)

    def clear(self, series_id: str, message_id: str) -> None:
        with self._locked(series_id):
            data = self._parse(series_id, self._file(series_id))
            if data.pop(message_id, None) is not None:
                self._save(series_id, data)

    def _save(self, series_id: str, data: dict[str, list[Comment]]) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        final = self._file(series_id)
        tmp = final.with_suffix(f".tmp{os.getpid()}")
        payload = {"series": series_id, "messages": {m: [asdict(c) for c in cs] for m, cs in data.items() if cs}}
        try:
            with open(tmp, "w", encoding="utf-8") as fh:
                json.dump(payload, fh, ensure_ascii=False, indent=1)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, final)
        except BaseException:
            tmp.unlink(missing_ok=True)  # a full disk leaves nothing half written behind
            raise


def _diff_start(lines: list[str]) -> int:
    return next((i for i, line in enumerate(lines) if line.startswith("diff --git ")), len(lines))


def quote_with_comments(body: str, comments: list[Comment], context: int = CONTEXT_LINES) -> str:
    """The reply's quote: for each comment the lines it is about (the file's diff line and
    the hunk header when it is in a diff, then up to ``context`` lines above it), the
    comment unquoted right under its line, ``[...]`` where quoted text was skipped.
    Nothing of an uncommented file or hunk is quoted."""
    lines = safe_text(body).split("\n")
    diff_at = _diff_start(lines)
    out: list[str] = []
    shown_until = -1  # the last body line quoted so far
    file_shown: int | None = None
    for c in sorted(comments, key=lambda c: c.line):
        if not 0 <= c.line < len(lines):
            continue
        want: list[int] = []
        first = max(shown_until + 1, c.line - context)
        if c.line >= diff_at:
            file_line = max((i for i in range(diff_at, c.line + 1) if lines[i].startswith("diff --git ")), default=None)
            hunk = max((i for i in range(diff_at, c.line + 1) if lines[i].startswith("@@")), default=None)
            if file_line is not None and file_line != file_shown and file_line > shown_until:
                want.append(file_line)
                file_shown = file_line
            if hunk is not None and hunk > shown_until and hunk != c.line:
                want.append(hunk)
            if hunk is not None:
                first = max(first, hunk + 1)
        want += range(first, c.line + 1)
        for i in want:
            if i > shown_until + 1:
                out.append("[...]")  # something was left out above this line
            out.append(f"> {lines[i]}" if lines[i] else ">")
            shown_until = max(shown_until, i)
        out.append("")
        out.extend(c.text.rstrip("\n").split("\n"))
        out.append("")
    if out and shown_until < len(lines) - 1:
        out.append("[...]")
    while out and not out[-1]:
        out.pop()
    return "\n".join(out)
