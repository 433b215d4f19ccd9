"""Turn messages and patches into styled lines for the viewer.

Every piece of mail text goes through ``safe_line`` here and becomes a plain
``Segment``: nothing is parsed as markup and no control character reaches the
terminal.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style

from triage.mail.message import MessageText, short_list
from triage.model.series import Series
from triage.series.patchdoc import PatchDoc, parse_patch
from triage.series.trailers import MENTION_RE, PERSON_TRAILERS
from triage.take.rangediff import RangeLine
from triage.textsafe import safe_line

HEADER_KEY = Style(bold=True, color="bright_blue")
TITLE = Style(bold=True)
ADDED = Style(color="green")
REMOVED = Style(color="red")
HUNK = Style(color="cyan")
FILE = Style(bold=True, color="yellow")
META = Style(dim=True)
QUOTE = Style(color="bright_black")
TRAILER = Style(bold=True, color="magenta")
NEGATIVE = Style(bold=True, color="red")
WARN = Style(bold=True, color="red")
MENTION = Style(italic=True, color="yellow")
SIGNED = Style(color="green")

_TRAILER_LINE = re.compile(r"^\s*([A-Za-z-]+-by)\s*:", re.IGNORECASE)

Line = list[Segment]


@dataclass
class Document:
    lines: list[Line] = field(default_factory=list)
    files: list[tuple[int, str, int, int]] = field(default_factory=list)  # (line, path, +, -)
    hunks: list[int] = field(default_factory=list)
    width: int = 0
    title: str = ""
    # For each line, the index of the message body line it shows (None: made by triage,
    # such as the headers or a file's summary): what an inline comment is anchored to.
    sources: list[int | None] = field(default_factory=list)
    targets: list[str | None] = field(default_factory=list)  # a thread's lines: the message each shows
    _line_of: tuple[int, dict[int, int]] | None = field(default=None, repr=False, compare=False)

    def add(self, text: str, style: Style | None = None, source: int | None = None) -> None:
        clean = safe_line(text.expandtabs(8))
        self.lines.append([Segment(clean, style)])
        self.sources.append(source)
        self.width = max(self.width, cell_len(clean))

    def add_parts(self, parts: list[tuple[str, Style | None]], source: int | None = None) -> None:
        segs = [Segment(safe_line(t.expandtabs(8)), s) for t, s in parts]
        self.lines.append(segs)
        self.sources.append(source)
        self.width = max(self.width, sum(cell_len(s.text) for s in segs))

    def add_link(self, text: str, style: Style | None, target: str) -> None:
        """A line that Enter opens: ``target`` is the message it names."""
        self.add(text, style)
        self.targets.extend([None] * (len(self.lines) - 1 - len(self.targets)))
        self.targets.append(target)

    def blank(self) -> None:
        self.lines.append([])
        self.sources.append(None)

    def source(self, index: int) -> int | None:
        return self.sources[index] if 0 <= index < len(self.sources) else None

    def line_of(self, source: int) -> int | None:
        """The document line showing body line ``source`` (a map made once: thousands of
        comments are placed in one pass, not one scan of the document each)."""
        if self._line_of is None or self._line_of[0] != len(self.sources):
            found: dict[int, int] = {}
            for i, s in enumerate(self.sources):
                if s is not None and s not in found:
                    found[s] = i
            self._line_of = (len(self.sources), found)
        return self._line_of[1].get(source)


class _BodyLines:
    """Finds, in order, the body line each shown line comes from."""

    def __init__(self, body: str) -> None:
        self.lines = body.split("\n")
        self.at = 0

    def find(self, text: str | None = None, prefix: str | None = None) -> int | None:
        for i in range(self.at, len(self.lines)):
            line = self.lines[i].rstrip("\r")
            if (text is not None and line == text) or (prefix is not None and line.startswith(prefix)):
                self.at = i + 1
                return i
        return None


def _headers(doc: Document, m: MessageText) -> None:
    for key, value in (
        ("From", m.from_),
        ("Date", m.date),
        ("To", short_list(m.to)),
        ("Cc", short_list(m.cc)),
        ("Subject", m.subject),
    ):
        if value:
            parts: list[tuple[str, Style | None]] = [(f"{key}: ", HEADER_KEY), (value, TITLE if key == "Subject" else None)]
            if key == "From":
                # What the signatures prove of the sender, on its line (a line of its own would
                # push the diff down on a small screen).
                for line in m.signatures:
                    parts.append(("  [" + line + "]", SIGNED if "✓" in line else WARN if "✗" in line else META))
            doc.add_parts(parts)
    if m.problem:
        doc.add(f"! {m.problem}", WARN)
    doc.blank()


def _prose(doc: Document, text: str, first: int | None = 0) -> None:
    """``text``'s lines; ``first`` is the body line the text starts at (None: not the body)."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    for n, line in enumerate(lines):
        line = line.rstrip("\r")
        source = None if first is None else first + n
        if line.startswith(">"):
            doc.add(line, QUOTE, source)
        elif (t := _TRAILER_LINE.match(line)) and t[1].lower() in PERSON_TRAILERS:
            doc.add(line, NEGATIVE if t[1].lower() == "nacked-by" else TRAILER, source)
        elif MENTION_RE.search(line):
            doc.add(line, MENTION, source)  # a review in words (T22): shown, not counted
        else:
            doc.add(line, None, source)


def message_document(m: MessageText, *, empty_note: str = "") -> Document:
    """A cover letter or any message: headers, then the body (a diffstat stays text)."""
    doc = Document(title=m.subject)
    _headers(doc, m)
    _prose(doc, m.body or empty_note, 0 if m.body else None)
    return doc


def patch_document(m: MessageText, patch: PatchDoc | None = None) -> Document:
    """A patch: headers, commit message, then each file's diff with +/- counts and hunks."""
    patch = patch or parse_patch(m.body)
    doc = Document(title=m.subject)
    _headers(doc, m)
    _prose(doc, patch.message)  # the commit message is the body's first lines
    body = _BodyLines(m.body)
    body.at = patch.message.count("\n")
    if patch.problem:
        doc.add(f"! {patch.problem}", WARN)
    if patch.raw_diff is not None:
        for line in patch.raw_diff.splitlines():
            style = ADDED if line.startswith("+") else REMOVED if line.startswith("-") else None
            doc.add(line, style, body.find(line))
        return doc
    if patch.files:
        doc.add(f"{len(patch.files)} file(s) changed, +{patch.added} -{patch.removed}", META)
    for f in patch.files:
        doc.files.append((len(doc.lines), f.path, f.added, f.removed))
        doc.add_parts([(f"━━ {f.path} ", FILE), (f"+{f.added}", ADDED), (" ", None), (f"-{f.removed}", REMOVED)],
                      body.find(prefix="diff --git ") if f.header else None)
        for header_line in f.header[1:]:
            doc.add(header_line, META, body.find(header_line))
        if f.binary:
            doc.add("(binary file)", META)
        for h in f.hunks:
            doc.hunks.append(len(doc.lines))
            doc.add(h.header, HUNK, body.find(prefix="@@"))
            for kind, text in h.lines:
                raw = ("" if kind == "\\" else kind) + text
                line = "\\" + text if kind == "\\" else raw
                doc.add(line, ADDED if kind == "+" else REMOVED if kind == "-" else META if kind == "\\" else None,
                        body.find(line))
    return doc


_FILE_RE = re.compile(r"^diff --git .* b/(.*)$", re.MULTILINE)
_HUNK_RE = re.compile(r"^@@", re.MULTILINE)
_META_PREFIXES = ("index ", "--- ", "+++ ", "new file mode", "deleted file mode", "similarity", "rename ")


class _PrefixLines:
    """Lines styled by prefix when first drawn: no per-line work before the first paint."""

    def __init__(self, head: list[Line], lines: list[str], diff_from: int) -> None:
        self.head = head
        self.text = lines
        self.diff_from = diff_from
        self.cache: dict[int, Line] = {}

    def __len__(self) -> int:
        return len(self.head) + len(self.text)

    def _line(self, i: int) -> Line:
        if i < len(self.head):
            return self.head[i]
        j = i - len(self.head)
        line = safe_line(self.text[j].expandtabs(8))
        if j < self.diff_from:
            style = QUOTE if line.startswith(">") else TRAILER if _TRAILER_LINE.match(line) else None
        elif line.startswith("diff --git "):
            style = FILE
        elif line.startswith("@@"):
            style = HUNK
        elif line.startswith(_META_PREFIXES):
            style = META
        elif line.startswith("+"):
            style = ADDED
        elif line.startswith("-"):
            style = REMOVED
        else:
            style = None
        return [Segment(line, style)]

    def __getitem__(self, index: int | slice) -> Line | list[Line]:
        if isinstance(index, slice):
            return [self._cached(i) for i in range(*index.indices(len(self)))]
        return self._cached(index)

    def _cached(self, index: int) -> Line:
        if index < 0:
            index += len(self)
        if index not in self.cache:
            if len(self.cache) > 4096:
                self.cache.clear()
            self.cache[index] = self._line(index)
        return self.cache[index]


def quick_patch_document(m: MessageText) -> Document:
    """A patch styled by line prefix alone, for the first paint of a large patch.

    Regex scans in C find files and hunks; lines are styled only when drawn. The
    unidiff-parsed :func:`patch_document` replaces it once ready.
    """
    doc = Document(title=m.subject)
    _headers(doc, m)
    body = m.body  # made safe line by line when drawn
    first = _FILE_RE.search(body)
    diff_from = body.count("\n", 0, first.start()) if first else len(body)
    head = len(doc.lines)
    for f in _FILE_RE.finditer(body):
        doc.files.append((head + body.count("\n", 0, f.start()), f[1], 0, 0))
    # Offsets to line numbers in one pass: count newlines between consecutive hunk starts.
    pos = line_no = 0
    for h in _HUNK_RE.finditer(body):
        line_no += body.count("\n", pos, h.start())
        pos = h.start()
        doc.hunks.append(head + line_no)
    lines = body.split("\n")
    doc.width = max(doc.width, max(map(len, lines), default=0))
    doc.lines = _PrefixLines(doc.lines, lines, diff_from)  # type: ignore[assignment]
    return doc


def followups_document(messages: list[MessageText], what: str) -> Document:
    """The replies under a patch or cover letter as a thread: one line each (indented by
    depth: author, date, first line of their own words, trailer marks). Each line knows
    its message (``targets``): Enter shows it, the reply keys answer it."""
    doc = Document(title=f"{len(messages)} follow-up(s) to {what}")
    if not messages:
        doc.add(f"No follow-ups to {what} yet.", META)
        return doc
    ids = {m.message_id for m in messages}
    parent = {m.message_id: (m.headers.get("In-Reply-To") or "").strip().strip("<>") for m in messages}
    depth: dict[str, int] = {}

    def level(mid: str, seen: int = 0) -> int:
        if mid not in depth:
            up = parent.get(mid, "")
            depth[mid] = level(up, seen + 1) + 1 if up in ids and seen < 50 else 0
        return depth[mid]

    for m in messages:
        d = min(level(m.message_id), 12)
        marks = _marks(m.body)
        first = next((x.strip() for x in m.body.split("\n")
                      if x.strip() and not x.startswith(">") and not _ATTRIBUTION.search(x)
                      and x.strip() not in ("[...]", "...", "[snip]")), "")
        doc.add_parts([("  " * d + ("└ " if d else "▌ "), TRAILER if marks else META), (m.from_, TITLE),
                       (f"  {m.date}  ", META), (marks + " " if marks else "", TRAILER), (first[:200], None)])
        doc.targets.append(m.message_id)
    return doc


_ATTRIBUTION = re.compile(r"(wrote|writes|schrieb):\s*$", re.IGNORECASE)


def _marks(body: str) -> str:
    """R, A, T, N for the review trailers a reply gives (outside quotes)."""
    found = []
    for line in body.split("\n"):
        if line.startswith(">"):
            continue
        t = _TRAILER_LINE.match(line)
        if t:
            key = {"reviewed-by": "R", "acked-by": "A", "tested-by": "T", "nacked-by": "N"}.get(t[1].lower())
            if key and key not in found:
                found.append(key)
    return "".join(found)


def trailer_basis(s: Series) -> list[tuple[str, Style | None]]:
    """Each collected review trailer with what it rests on, for the cover letter's view:
    = the sender's own address; ≈ the sender's name at another address (✓ where DKIM signs
    it in the named domain); ✗ sent by someone else, neither counted nor exported."""
    rows: list[tuple[str, Style | None]] = []
    seen: set[tuple[str, str, str]] = set()
    for p in s.patches:
        for t in p.trailers:
            if t.source == "patch" or t.name.lower() not in ("reviewed-by", "acked-by", "tested-by", "nacked-by"):
                continue
            where = "all" if t.source == "cover" else f"{p.index}/{s.total}"
            key = (where, t.name, t.value)
            if key in seen:
                continue
            seen.add(key)
            if t.sender_match is True:
                basis, style = "= sent from that address", SIGNED
            elif t.sender_match == "name":
                verified = "verified by DKIM" if t.value in s.name_verified else "not verified"
                basis, style = f"≈ same name, other address {t.from_email} ({verified})", MENTION
            else:
                basis, style = f"✗ sent by {t.from_email}: not counted, not exported", WARN
            rows.append((f"  {where:>5}  {t.name}: {t.value}   {basis}", style))
    if not rows:
        return []
    return [("Review trailers, and what each rests on:", TITLE), *rows]


def decision_lines(s: Series) -> list[tuple[str, Style | None, str]]:
    """What was decided about the series and what robots reported, each with the message that
    says it (Enter opens it): (text, style, message id)."""
    out: list[tuple[str, Style | None, str]] = []
    merged = [p for p in s.patches if p.outcome and p.outcome.get("kind") == "merged"]
    if merged:
        o = merged[-1].outcome or {}
        commits = ", ".join(c for p in merged for c in (p.outcome or {}).get("commits", []))[:120]
        out.append((f"✓ {len(merged)}/{len(s.patches)} merged into {o.get('where') or 'the tree'} (git patch-id): {commits}",
                    SIGNED, merged[-1].message_id))
    for o in s.outcomes:
        patches = o.get("patches") or []
        which = "all patches" if len(patches) == len(s.patches) else "patch(es) " + ", ".join(map(str, patches))
        where = f" to {o['where']}" if o.get("where") else ""
        commits = f"; commits {', '.join(c[:12] for c in o.get('commits', []))}" if o.get("commits") else ""
        if o.get("trusted"):
            out.append((f"✓ {o.get('kind')} by {o.get('by')}{where} ({which}{commits})", SIGNED, str(o["message_id"])))
        else:
            out.append((f"? {o.get('by')} says {o.get('kind')}{where} ({which}): not a maintainer here, decides nothing",
                        MENTION, str(o["message_id"])))
    for c in s.ci:
        mark = {"fail": "✗", "warn": "!", "pass": "✓"}.get(str(c.get("result")), "?")
        where = f"patch {c['patch']}" if c.get("patch") else "series"
        out.append((f"{mark} {c.get('bot')} ({where}): {c.get('summary')}",
                    WARN if c.get("result") == "fail" else MENTION if c.get("result") == "warn" else SIGNED,
                    str(c["message_id"])))
    if out:
        out.insert(0, ("Decisions and robots (Enter opens the message):", TITLE, ""))
    return out


def version_lines(
    row: dict[str, Any], lookup: Callable[[str], dict[str, Any] | None], date_claimed: int | None = None
) -> list[tuple[str, Style | None, str]]:
    """The series' other versions, both ways, each a line Enter opens: (text, style, series id).
    An older series that a split has not yet covered says why it is still current; a
    clamped date says what the Date header claimed."""
    out: list[tuple[str, Style | None, str]] = []

    def line(mark: str, sid: str) -> tuple[str, Style | None, str]:
        other = lookup(sid) or {}
        title = safe_line(str(other.get("title") or f"<{sid}>"))
        return (f"  {mark} v{other.get('version', '?')}  {str(other.get('date') or '')[:10]}  {title}", META, sid)

    previous, newer = row.get("previous_versions") or [], row.get("newer_versions") or []
    if previous or newer:
        out.append(("Versions (Enter opens one):", TITLE, ""))
        out += [line("<", sid) for sid in reversed(previous)]
        out += [line(">", sid) for sid in newer]
        if newer and row.get("current"):
            out.append(("  still current: its newer postings are parts of a split that do not yet hold most "
                        "of its patches", MENTION, ""))
    if date_claimed is not None:
        claimed = datetime.fromtimestamp(date_claimed, UTC).strftime("%Y-%m-%d %H:%M")
        out.append((f"Its Date header says {claimed} UTC, over a day after it arrived: dated by its arrival", WARN, ""))
    return out


def series_summary(s: Series) -> str:
    counts = s.counts()
    parts = [f"v{s.version}", f"{s.received}/{s.total} patches" + ("" if s.complete else " (incomplete)")]
    parts.append(f"R{counts['reviewed_by']} A{counts['acked_by']} T{counts['tested_by']}")
    if counts["nacked_by"]:
        parts.append(f"NAK{counts['nacked_by']}")
    return " · ".join(parts)


_RANGE_STYLES = {
    "same": META,
    "changed": TITLE,
    "added": Style(bold=True, color="green"),
    "removed": Style(bold=True, color="red"),
    "+": ADDED,
    "-": REMOVED,
    "@": HUNK,
}


def range_diff_document(lines: list[RangeLine], title: str) -> Document:
    """A range-diff: one line per patch pair, and for a changed pair the diff of the two patches."""
    doc = Document(title=title)
    doc.add(title, TITLE)
    doc.add("= same   ! changed   < only in the older version   > only in the newer version", META)
    doc.blank()
    if not lines:
        doc.add("(no patches to compare)", META)
    for line in lines:
        if line.kind in ("same", "changed", "added", "removed") and doc.lines and line.kind != "same":
            doc.blank()
        doc.add(line.text, _RANGE_STYLES.get(line.kind))
        if line.kind == "changed":
            doc.hunks.append(len(doc.lines) - 1)
    return doc
