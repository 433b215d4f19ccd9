"""What changed between two versions of a series: a range-diff computed from the mails.

No git repository is needed: each patch is reduced to its commit message and diff
(index lines and hunk line numbers dropped, as ``git range-diff`` does), patches are
paired (same content, then same title, then position) and each changed pair is shown
as a diff of the two patches.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from dataclasses import dataclass

from triage.series.trailers import commit_message

_HUNK_RE = re.compile(r"^@@ -\d+(?:,\d+)? \+\d+(?:,\d+)? @@ ?(.*)$")
_PSEUDO_HEADER_RE = re.compile(r"^(From|Date|Subject): ")


SIMILAR = 0.6  # share of lines two patches need in common to count as one patch reworked


@dataclass(frozen=True)
class PatchText:
    index: int
    title: str
    lines: tuple[str, ...]

    @property
    def short(self) -> str:
        return hashlib.sha1("\n".join(self.lines).encode("utf-8", "replace")).hexdigest()[:7]


@dataclass(frozen=True)
class RangeLine:
    kind: str  # "same" | "changed" | "added" | "removed" | "+" | "-" | "@" | " "
    text: str


def normalize(index: int, title: str, body: str) -> PatchText:
    """The parts of a patch that matter for comparing versions."""
    message = commit_message(body)
    rest = body[len(message) :]
    head = message.strip("\n").split("\n")
    # In-body "From:"/"Date:" lines (b4 relay, forwarded patches) are mail, not the commit.
    while head and _PSEUDO_HEADER_RE.match(head[0]):
        head.pop(0)
    while head and not head[0].strip():
        head.pop(0)
    lines = [title, "", *head]
    in_diff = False
    for line in rest.split("\n"):
        if line == "-- ":  # git's version signature
            break
        if line.startswith("diff --git ") or line.startswith("Index: "):
            in_diff = True
        if not in_diff:
            continue  # the "---" separator, notes and the diffstat
        if line.startswith("index ") and ".." in line:
            continue
        m = _HUNK_RE.match(line)
        lines.append(f"@@ {m[1]}".rstrip() if m else line)
    while lines and not lines[-1]:
        lines.pop()
    return PatchText(index, title, tuple(lines))


def _pairs(old: list[PatchText], new: list[PatchText]) -> list[tuple[PatchText | None, PatchText | None]]:
    left, right = list(old), list(new)
    matched: dict[int, PatchText] = {}  # new index -> old
    for key in (lambda p: p.lines, lambda p: p.title.strip().lower()):
        for n in right:
            if n.index in matched:
                continue
            o = next((o for o in left if key(o) == key(n)), None)
            if o is not None:
                matched[n.index] = o
                left.remove(o)
    # What is left pairs by position when the two are alike enough to be one patch
    # reworked (git range-diff's creation factor plays this part).
    rest_new = [n for n in right if n.index not in matched]
    for n, o in zip(rest_new, list(left), strict=False):
        if difflib.SequenceMatcher(None, o.lines, n.lines, autojunk=False).ratio() >= SIMILAR:
            matched[n.index] = o
            left.remove(o)
    out: list[tuple[PatchText | None, PatchText | None]] = []
    removed = sorted(left, key=lambda p: p.index)
    for n in right:
        o = matched.get(n.index)
        # Show a dropped patch where it stood in the old version.
        while removed and (o is None or removed[0].index < o.index):
            out.append((removed.pop(0), None))
        out.append((o, n))
    out.extend((o, None) for o in removed)
    return out


def range_diff(old: list[PatchText], new: list[PatchText], context: int = 3) -> list[RangeLine]:
    out: list[RangeLine] = []
    width = len(str(max([p.index for p in old + new] or [1])))
    dash = "-" * 7

    def label(p: PatchText | None) -> str:
        return f"{'-':>{width}}:  {dash}" if p is None else f"{p.index:>{width}}:  {p.short}"

    for o, n in _pairs(old, new):
        if o is None and n is not None:
            out.append(RangeLine("added", f"{label(None)} > {label(n)} {n.title}"))
        elif n is None and o is not None:
            out.append(RangeLine("removed", f"{label(o)} < {label(None)} {o.title}"))
        elif o is not None and n is not None:
            if o.lines == n.lines:
                out.append(RangeLine("same", f"{label(o)} = {label(n)} {n.title}"))
                continue
            out.append(RangeLine("changed", f"{label(o)} ! {label(n)} {n.title}"))
            for line in list(difflib.unified_diff(o.lines, n.lines, lineterm="", n=context))[2:]:
                kind = "@" if line.startswith("@@") else line[:1]
                out.append(RangeLine(kind, "    " + ("@@" if kind == "@" else line)))
    return out
