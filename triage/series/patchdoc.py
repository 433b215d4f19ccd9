"""Split a patch mail body into commit message, diffstat and per-file diffs (with unidiff)."""

from __future__ import annotations

from dataclasses import dataclass, field

from unidiff import PatchSet
from unidiff.errors import UnidiffParseError


@dataclass(slots=True)
class Hunk:
    header: str
    lines: list[tuple[str, str]]  # (kind, text): kind is "+", "-", " " or "\\"


@dataclass(slots=True)
class FileDiff:
    path: str
    source: str
    target: str
    added: int
    removed: int
    hunks: list[Hunk] = field(default_factory=list)
    binary: bool = False
    header: list[str] = field(default_factory=list)


@dataclass(slots=True)
class PatchDoc:
    message: str
    files: list[FileDiff]
    trailer_text: str = ""
    raw_diff: str | None = None  # set when unidiff could not parse the diff
    problem: str | None = None

    @property
    def added(self) -> int:
        return sum(f.added for f in self.files)

    @property
    def removed(self) -> int:
        return sum(f.removed for f in self.files)


def _diff_start(body: str) -> int:
    padded = "\n" + body
    best = -1
    for marker in ("\ndiff --git ", "\nIndex: ", "\n--- a/", "\n--- "):
        i = padded.find(marker)
        if i != -1 and (best == -1 or i < best):
            best = i
    return best


def parse_patch(body: str) -> PatchDoc:
    """Parse a patch body; a diff unidiff rejects is kept raw with the reason."""
    start = _diff_start(body)
    if start == -1:
        return PatchDoc(message=body, files=[])
    message, diff = body[:start], body[start:]
    # git format-patch ends with "-- \n<version>": not part of the diff.
    sig = diff.rfind("\n-- \n")
    if sig != -1:
        diff = diff[: sig + 1]
    try:
        patch = PatchSet(diff)
    except (UnidiffParseError, ValueError, IndexError) as e:
        return PatchDoc(message=message, files=[], raw_diff=diff, problem=f"diff not parsed ({e}); shown as text")
    files: list[FileDiff] = []
    for pf in patch:
        fd = FileDiff(
            path=pf.path,
            source=pf.source_file or "",
            target=pf.target_file or "",
            added=pf.added,
            removed=pf.removed,
            binary=pf.is_binary_file,
            header=[line for line in str(pf.patch_info or "").splitlines() if line],
        )
        for h in pf:
            section = f" {h.section_header}" if h.section_header else ""
            header = f"@@ -{h.source_start},{h.source_length} +{h.target_start},{h.target_length} @@{section}"
            fd.hunks.append(Hunk(header, [(line.line_type, line.value.rstrip("\n")) for line in h]))
        files.append(fd)
    return PatchDoc(message=message, files=files)
