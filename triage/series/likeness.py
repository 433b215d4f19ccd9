"""When two titles name the same patch or series, though worded a little differently.

Authors rename patches between versions: the subsystem prefix changes its punctuation
(``vfio-pci:``, ``vfio_pci:``, ``vfio/pci:``) and the wording moves a little ("Add a
new X region type" -> "Add X region type"). Titles are compared folded (case, spacing,
and the prefix's punctuation); then the words after the prefix by difflib's ratio
(twice the matching words over both counts) against :data:`SIMILAR`. A title with
another prefix, or another word with a digit in it (``mt8186``/``mt8195``), is never
alike: those name other drivers and other hardware.

:data:`SIMILAR` was measured on linux-pwm (``bench/title_likeness.py``). Of 83 patches
that kept their diff (same patch-id) across two linked versions under a new title, 18
changed prefix or a numbered word (never alike); of the other 65, 40 score 0.8 or more
(48% of all 83), and no more at 0.7 or 0.75; at 0.85 only 14 do, as one word changed in
a five-word title scores 0.8. Of a sample of 982 title pairs of one author's unrelated
patches that could be alike, 1.9% score 0.8 or more (2.8% at 0.75, 8.2% at 0.6); the
character ratio took 5.4% at 0.85 for fewer renames found. A share of a series'
patches, never one title, decides a link, so a near miss costs little.

A split names its parts: "SMMUv3 Nested Stage Setup (IOMMU part)", "... - part 2",
"...: part 1/3". :func:`part_of` gives the title the part was split from.
"""

from __future__ import annotations

import re
from difflib import SequenceMatcher
from functools import lru_cache

SIMILAR = 0.8

_PREFIX_PUNCT = re.compile(r"[-_/.:\s]+")
_SPACES = re.compile(r"\s+")
_PART_RE = re.compile(
    r"^(?P<base>.*?\S)\s*(?:"
    r"\((?:[^()]*\s)?part(?:\s[^()]*)?\)"  # "(IOMMU part)", "(part 2)", "(part 2 of 3)"
    r"|[-:,\u2013\u2014]\s*part\s*(?:\d+|[ivx]+)(?:\s*(?:/|of)\s*\d+)?"  # " - part 2", ": part 1/3"
    r"|\bpart\s*(?:\d+|[ivx]+)(?:\s*(?:/|of)\s*\d+)?"  # "... part 2"
    r")\s*$",
    re.IGNORECASE,
)


@lru_cache(maxsize=16384)
def fold(title: str) -> str:
    """Case and spacing folded, and the punctuation inside the subsystem prefix (everything
    before the last ": ") made one: "vfio-pci: Add", "vfio_pci: add" and "vfio/pci: add"
    fold alike."""
    t = _SPACES.sub(" ", title.strip().lower())
    prefix, sep, rest = t.rpartition(": ")
    if not sep:
        return t
    return _PREFIX_PUNCT.sub("/", prefix) + sep + rest


_WORD_RE = re.compile(r"[a-z0-9_]+(?:[-.,+][a-z0-9_]+)*")


def _words(text: str) -> list[str]:
    return _WORD_RE.findall(text)


def score(a: str, b: str) -> float | None:
    """How alike two patch titles are, 0 to 1, or None when they can never name one patch:
    another prefix, folded ("pwm: foo:" and "pwm: bar:" are two drivers), or another
    word with a digit in it ("mt8186" and "mt8195", "r8a7742": other hardware). The score
    is difflib's ratio over the words after the prefix."""
    fa, fb = fold(a), fold(b)
    if fa == fb:
        return 1.0
    pa, _, ra = fa.rpartition(": ")
    pb, _, rb = fb.rpartition(": ")
    if pa != pb:
        return None
    wa, wb = _words(ra), _words(rb)
    if not wa or not wb or {w for w in wa if any(c.isdigit() for c in w)} != {w for w in wb if any(c.isdigit() for c in w)}:
        return None
    return SequenceMatcher(None, wa, wb, autojunk=False).ratio()


def alike(a: str, b: str) -> bool:
    """Whether two patch titles name the same patch, renamed a little (see :func:`score`)."""
    got = score(a, b)
    return got is not None and got >= SIMILAR


def part_of(title: str) -> str | None:
    """The folded title a split part was taken from ("x (iommu part)" -> "x"), or None."""
    m = _PART_RE.match(title.strip())
    return fold(m["base"].rstrip(" -:,")) if m else None
