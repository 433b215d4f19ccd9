"""``triage import``: bring mbox, maildir and single-message files into the store.

What ``b4 mbox`` and ``lei q`` write are mboxrd files; plain mboxo and maildirs are
common too. Each message is written as a new file in the store's maildir and
indexed; a message whose Message-ID the database has already is skipped.
"""

from __future__ import annotations

import email
import email.parser
import email.policy
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import notmuch2

from triage.mail import maildir
from triage.mail.parse import strip_msgid
from triage.mail.store import Store, StoreError

_FROM_LINE = re.compile(rb"^From ")
_MBOXRD_QUOTED = re.compile(rb"^>(>*From )")
IMPORT_FOLDER = "triage-import"


@dataclass
class ImportReport:
    added: int = 0
    duplicates: int = 0
    broken: list[str] = field(default_factory=list)
    added_ids: list[str] = field(default_factory=list)

    def summary(self) -> str:
        parts = [f"imported {self.added}", f"skipped {self.duplicates} duplicate(s)"]
        if self.broken:
            parts.append(f"{len(self.broken)} broken")
        return ", ".join(parts)


def split_mbox(data: bytes) -> Iterator[bytes]:
    """Split an mbox (mboxrd or mboxo) into messages, undoing ``>From`` quoting."""
    current: list[bytes] = []
    started = False
    prev_blank = True
    for line in data.splitlines(keepends=True):
        if _FROM_LINE.match(line) and prev_blank:
            if started and current:
                yield _finish(current)
            current = []
            started = True
            prev_blank = False
            continue
        if started:
            current.append(_MBOXRD_QUOTED.sub(rb"\1", line))
        prev_blank = line in (b"\n", b"\r\n")
    if started and current:
        yield _finish(current)


def _finish(lines: list[bytes]) -> bytes:
    # The blank line before the next "From " separator belongs to the mbox, not the message.
    if lines and lines[-1] in (b"\n", b"\r\n"):
        lines = lines[:-1]
    return b"".join(lines)


def looks_like_message(data: bytes) -> bool:
    """A file is a message if it starts with RFC 5322 headers that name the mail."""
    head = data[:65536].split(b"\n\n", 1)[0].split(b"\r\n\r\n", 1)[0]
    if not head.strip():
        return False
    first = head.lstrip().split(b"\n", 1)[0]
    if not re.match(rb"^[!-9;-~]+:", first):
        return False
    lower = head.lower()
    return any(h in lower for h in (b"\nfrom:", b"\nsubject:", b"\nmessage-id:", b"\ndate:")) or lower.startswith(
        (b"from:", b"subject:", b"message-id:", b"date:", b"return-path:", b"received:")
    )


def _message_id(data: bytes) -> str | None:
    try:
        msg = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(data)
        return strip_msgid(msg.get("Message-ID")) or None
    except Exception:  # noqa: BLE001 - malformed headers: let notmuch assign an id
        return None


def iter_sources(target: Path) -> Iterator[tuple[str, bytes | None]]:
    """(name, message bytes) for every message under ``target``; bytes None means unreadable."""
    if target.is_dir():
        if (target / "cur").is_dir() or (target / "new").is_dir():
            for sub in ("cur", "new"):
                d = target / sub
                if d.is_dir():
                    for f in sorted(d.iterdir()):
                        if f.is_file():
                            yield from _iter_file(f)
            return
        for f in sorted(target.rglob("*")):
            if f.is_file() and not any(part.startswith(".") for part in f.relative_to(target).parts):
                yield from _iter_file(f)
        return
    yield from _iter_file(target)


def _iter_file(path: Path) -> Iterator[tuple[str, bytes | None]]:
    try:
        data = path.read_bytes()
    except OSError:
        yield str(path), None
        return
    if path.suffix == ".xz":
        import lzma

        try:
            data = lzma.decompress(data)
        except lzma.LZMAError:
            yield str(path), None
            return
    if data.startswith(b"From "):
        for i, msg in enumerate(split_mbox(data), 1):
            yield f"{path} (message {i})", msg
    else:
        yield str(path), data


class Importer:
    def __init__(self, store: Store) -> None:
        self.store = store

    def run(
        self,
        targets: list[Path],
        *,
        tags: list[str] | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> ImportReport:
        report = ImportReport()
        root = self.store.path()
        dest = maildir.folder(root, IMPORT_FOLDER)
        new_tags = tags if tags is not None else self._new_tags()
        with self.store.write() as db, db.atomic():
            seen: set[str] = set()
            for target in targets:
                if not target.exists():
                    report.broken.append(f"{target}: no such file or directory")
                    continue
                for name, data in iter_sources(target):
                    if data is None:
                        report.broken.append(f"{name}: cannot be read")
                        continue
                    if not looks_like_message(data):
                        report.broken.append(f"{name}: not a mail message (no headers)")
                        continue
                    mid = _message_id(data)
                    if mid and (mid in seen or self._exists(db, mid)):
                        report.duplicates += 1
                        continue
                    path = str(maildir.write(dest, data))
                    try:
                        added, dup = db.add(path)
                    except notmuch2.NotmuchError as e:
                        os.unlink(path)
                        report.broken.append(f"{name}: notmuch could not index it ({e})")
                        continue
                    if dup:
                        report.duplicates += 1
                        continue
                    with added.frozen():
                        for t in new_tags:
                            added.tags.add(t)
                    seen.add(added.messageid)
                    report.added += 1
                    report.added_ids.append(added.messageid)
                    if progress and report.added % 500 == 0:
                        progress(report.added)
        return report

    def _new_tags(self) -> list[str]:
        value = self.store.config_value("new.tags")
        if value is None:
            return ["unread", "inbox"]
        return [t for t in value.split(";") if t]

    @staticmethod
    def _exists(db: notmuch2.Database, mid: str) -> bool:
        try:
            msg = db.find(mid)
        except (LookupError, notmuch2.NotmuchError):
            return False
        # A message others refer to but that never arrived is a "ghost": not a duplicate.
        return not msg.ghost


def import_paths(store: Store, targets: list[Path], **kw: object) -> ImportReport:
    try:
        return Importer(store).run(targets, **kw)  # type: ignore[arg-type]
    except notmuch2.NotmuchError as e:
        raise StoreError(f"import failed: {e}") from e
