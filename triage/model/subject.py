"""Parse patch-mail subjects: prefixes, version, counter, reply markers.

The rules follow ``series-rules.md`` section 1, which compares b4, patchwork,
patchew and patch-hub. In short: every leading ``[...]`` group is read, tokens
are separated by commas *and* whitespace, ``vN`` / ``PATCHvN`` / ``vN.M`` give
the version, ``n/N`` and ``n of N`` give the counter, and anything unknown in a
patch group is kept as a tree tag (``net-next``, ``6.6``, ``GSoC``).
"""

from __future__ import annotations

import functools
import re
from typing import NamedTuple

# Reply and forward markers in the languages mail clients actually emit.
REPLY_RE = re.compile(r"^(?:re|aw|sv|antw|vs|odp|r)\s*(?:\[\d+\])?\s*:\s*", re.IGNORECASE)
_FORWARD_RE = re.compile(r"^(?:fwd?|fw|wg|tr)\s*:\s*", re.IGNORECASE)
_GROUP_RE = re.compile(r"^\[([^\[\]]*)\]\s*")
# ASCII digits only: int() reads Arabic-Indic digits and fails on "²", which isdigit() accepts.
_VERSION_RE = re.compile(r"^v(\d+)(?:\.(\d+))?$", re.IGNORECASE | re.ASCII)
_PATCHV_RE = re.compile(r"^patch-?v(\d+)(?:\.(\d+))?$", re.IGNORECASE | re.ASCII)
_COUNTER_RE = re.compile(r"^(\d+)/(\d+|[nN])$", re.ASCII)
# What a subject may claim is capped: a count or version of 10**20 (or of 5,000 digits,
# which int() refuses) must size nothing and must fit the index's 64-bit integers.
CLAIM_CAP = 99_999


def _claim(digits: str) -> int:
    return CLAIM_CAP if len(digits) > 5 else min(int(digits), CLAIM_CAP)


def _ascii_number(tok: str) -> bool:
    return tok.isascii() and tok.isdigit()
# "PATCH V2 3/4] title": a prefix group whose "[" was lost; patchwork relies on
# References for it, triage reads it.
_BROKEN_GROUP_RE = re.compile(r"^(patch\b[^\[\]]*)\]\s*", re.IGNORECASE)
_TITLE_VERSION_HINT_RE = re.compile(r"\((?:v|version\s*)(\d+)\)\s*$", re.IGNORECASE | re.ASCII)
_WS_RE = re.compile(r"\s+")
# "cleanup swiotlb initialization v2": a cover letter's version at the end of its title.
_TRAILING_VERSION_RE = re.compile(r"^(.*\S)\s+[vV](\d{1,3})$", re.ASCII)
_TOKEN_SEP_RE = re.compile(r"[,\s]+")

_PATCH_WORDS = {"patch"}
_FLAG_WORDS = {"rfc", "resend"}


class ParsedSubject(NamedTuple):
    """What a subject line says about the message it heads.

    A named tuple: results are shared (cached), hence immutable, and a tuple is built
    several times faster than a frozen dataclass, which shows on a list archive."""

    raw: str
    title: str
    is_reply: bool = False
    is_forward: bool = False
    is_patch: bool = False
    is_pull: bool = False
    version: int = 1
    subversion: int | None = None
    version_explicit: bool = False
    index: int | None = None  # type: ignore[assignment]  # shadows tuple.index, as named in the JSON
    total: int | None = None
    open_total: bool = False
    rfc: bool = False
    resend: bool = False
    tree_tags: tuple[str, ...] = ()
    list_tags: tuple[str, ...] = ()
    prefixes: tuple[str, ...] = ()

    @property
    def is_cover(self) -> bool:
        return self.is_patch and self.index == 0

    @property
    def normalized_title(self) -> str:
        return normalize_title(self.title)


def trailing_version(title: str) -> tuple[str, int] | None:
    """(title, N) for a title ending in " vN" (N from 2), else None."""
    m = _TRAILING_VERSION_RE.match(title)
    if m is None or int(m[2]) < 2:
        return None
    return m[1], int(m[2])


def normalize_title(title: str) -> str:
    """Title key used to link versions of one series: case and spacing folded, (vN) dropped."""
    t = _TITLE_VERSION_HINT_RE.sub("", title) if "(" in title else title
    # isprintable() is False for every whitespace but " ": with no double space, no run to fold.
    if "  " in t or not t.isprintable():
        t = _WS_RE.sub(" ", t)
    return t.strip().lower()


_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


def _unfold(subject: str) -> str:
    # Header folding and stray control characters must not change how a subject parses.
    if subject.isprintable():
        return subject.strip() if "  " not in subject else _WS_RE.sub(" ", subject).strip()
    return _WS_RE.sub(" ", _CONTROL_RE.sub(" ", subject)).strip()


class _GroupInfo(NamedTuple):
    """What one bracket group says; shared between subjects (cached), hence immutable."""

    patch: bool
    rfc: bool
    resend: bool
    pull: bool
    version: int | None
    subversion: int | None
    index: int | None  # type: ignore[assignment]
    total: int | None
    open_total: bool
    others: tuple[str, ...]

    @property
    def bot_report(self) -> bool:
        """A build bot's "[tree:branch n/N]" prefix (kernel test robot): a report on a tree,
        not a patch. Without the word PATCH, a "name:branch" token names a tree."""
        return not self.patch and any(":" in o and not o.endswith(":") for o in self.others)

    @property
    def patchish(self) -> bool:
        if self.bot_report:
            return False
        return self.patch or self.rfc or self.resend or self.version is not None or self.index is not None


# Group texts repeat across a list ("PATCH", "PATCH v2 3/7"): each is read once.
@functools.lru_cache(maxsize=8192)
def _read_group(text: str) -> _GroupInfo:
    patch = rfc = resend = pull = open_total = False
    version = subversion = index = total = None
    others: list[str] = []
    tokens = [t for t in _TOKEN_SEP_RE.split(text) if t]
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        low = tok.lower()
        # "1 of 3", as Mercurial's patchbomb writes it.
        if (
            _ascii_number(tok)
            and i + 2 < len(tokens)
            and tokens[i + 1].lower() == "of"
            and _ascii_number(tokens[i + 2])
        ):
            index, total = _claim(tok), _claim(tokens[i + 2])
            i += 3
            continue
        if low in _PATCH_WORDS:
            patch = True
        elif low == "rfc":
            rfc = True
        elif low == "resend":
            resend = True
        elif low in ("git", "pull"):
            pull = True
            others.append(tok)
        elif m := _PATCHV_RE.match(tok):
            patch = True
            version, subversion = _claim(m[1]), _claim(m[2]) if m[2] else None
        elif m := _VERSION_RE.match(tok):
            version, subversion = _claim(m[1]), _claim(m[2]) if m[2] else None
        elif m := _COUNTER_RE.match(tok):
            # "3/n" (patchwork's extra-patch case): an index with no known total.
            index, total = _claim(m[1]), _claim(m[2]) if m[2].isdigit() else None
            open_total = not m[2].isdigit()
        else:
            others.append(tok)
        i += 1
    return _GroupInfo(patch, rfc, resend, pull, version, subversion, index, total, open_total, tuple(others))


@functools.lru_cache(maxsize=16384)
def parse_subject(subject: str | None) -> ParsedSubject:
    """Parse one subject header (already RFC 2047 decoded); results are shared, hence frozen."""
    raw = subject or ""
    rest = _unfold(raw)
    if m := REPLY_RE.match(rest):
        # "Re: X" says what X says, as a reply: X is mostly the patch's own subject, parsed already.
        # (raw, title, is_reply, is_forward, is_patch, is_pull, ...): _make is 4x cheaper than _replace.
        p = parse_subject(rest[m.end() :])
        return ParsedSubject._make((raw, p.title, True, p.is_forward, False, False, *p[6:]))
    is_reply = is_forward = False
    groups: list[tuple[str, _GroupInfo]] = []
    seen_patch_group = False
    while rest:
        if not seen_patch_group and (m := REPLY_RE.match(rest)):
            is_reply = True
            rest = rest[m.end() :]
            continue
        if not seen_patch_group and (m := _FORWARD_RE.match(rest)):
            is_forward = True
            rest = rest[m.end() :]
            continue
        m = _GROUP_RE.match(rest) or (None if groups else _BROKEN_GROUP_RE.match(rest))
        if m:
            info = _read_group(m[1])
            groups.append((m[1], info))
            seen_patch_group = seen_patch_group or info.patchish
            rest = rest[m.end() :]
            continue
        break
    # "[Patch 2/2]: title" puts a colon after the prefix.
    title = rest.strip().lstrip(":").strip()

    patch_groups = [g for _, g in groups if g.patchish]
    pull = any(g.pull and not g.patch for _, g in groups) and not patch_groups
    # "[GIT PULL]" / "[git pull]" / "[GIT] Networking": a pull request, never a patch.
    pull = pull or any(
        g.pull and {o.lower() for o in g.others} >= {"git", "pull"} for _, g in groups
    )

    version = subversion = index = total = None
    rfc = resend = open_total = False
    tree_tags: list[str] = []
    list_tags: list[str] = []
    for text, g in groups:
        if not g.patchish:
            if g.pull:
                continue
            # A bracket group with no patch word before or between patch groups is a
            # list tag ("[Qemu-devel]", "[dpdk-dev]") or a free-form tag ("[RFC]" is patchish).
            list_tags.append(text.strip())
            continue
        rfc = rfc or g.rfc
        resend = resend or g.resend
        if g.version is not None and version is None:
            version, subversion = g.version, g.subversion
        if g.index is not None and index is None:
            index, total, open_total = g.index, g.total, g.open_total
        tree_tags.extend(o for o in g.others if o.lower() not in ("git", "pull"))

    version_explicit = version is not None
    if version is None and index == 0 and not is_reply and (tail := trailing_version(title)):
        # A cover that says its version only at the end of its title, a common style.
        title, version = tail
        version_explicit = True
    if version is None:
        # "(v2)" at the end of the title: a weak hint, as patchwork reads it.
        version = _claim(m[1]) if (m := _TITLE_VERSION_HINT_RE.search(title)) else 1

    is_patch = bool(patch_groups) and not is_reply and not is_forward and not pull
    return ParsedSubject(
        raw=raw,
        title=title,
        is_reply=is_reply,
        is_forward=is_forward,
        is_patch=is_patch,
        is_pull=pull and not is_reply,
        version=version,
        subversion=subversion,
        version_explicit=version_explicit,
        index=index,
        total=total,
        open_total=open_total,
        rfc=rfc,
        resend=resend,
        tree_tags=tuple(tree_tags),
        list_tags=tuple(list_tags),
        prefixes=tuple(t for t, _ in groups),
    )
