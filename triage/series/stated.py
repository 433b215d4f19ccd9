"""The earlier versions a posting names: "Link to v1: https://lore.kernel.org/r/<id>".

Covers (and a lone patch's notes below the ``---``) name their earlier versions by
URL: b4 writes "- Link to v2: <url>", people write "v1: <url>", "Previous version:
<url>", or a "v2:" line with the URL under it. A URL is taken when the words before
it on its line (or, for a URL alone on its line, the line above) speak of a version,
and nothing there says it is a dependency, a report or a discussion ("[1]", "depends
on", "based on", "follow-up to", "Closes:", "reported", "see"). Only a path segment
holding a message-id is read (lore, lkml, patchwork and msgid.link all put it there).

What is named is a claim like any other: version linking uses it only between postings
of one author, never across stable trees (see :mod:`triage.series.linking`).
"""

from __future__ import annotations

import re
from urllib.parse import unquote

# A URL whose path has a segment holding a message-id ("local@domain").
_URL_RE = re.compile(r"https?://[^\s/<>]+/(?:[^\s<>]*?/)?([^\s/<>@]+(?:@|%40)[^\s/<>#?]+?)(?=[/#?\s>)\],;]|$)", re.ASCII)
_SPEAKS_OF_A_VERSION = re.compile(
    r"\bv\d+\b|\brfc\b|\bprevious\b|\bprev\b|\bearlier (?:version|series|posting)|\blast (?:version|series|posting)"
    r"|\bold(?:er)? (?:version|series)|\bimplicit\b",
    re.ASCII | re.IGNORECASE,
)
_SPEAKS_OF_SOMETHING_ELSE = re.compile(
    r"\[\d+\]|\bdepend|\bbased\b|\bon top\b|\bfollow|\bclose|\breport|\bwarning|\berror|\bsuggest|\bdiscuss"
    r"|\bsquash|\binspired|\bmotivat|\bsee\b|\brefer|\brequire|\bneeds?\b|\bprerequisite|\bfor review\b"
    r"|\bapplied\b|\baccepted\b|\bmerged\b|\bthread\b|\bcomments?\b|\bfix(?:es|ed)?\b|\bbug\b|\bfrom\b",
    re.ASCII | re.IGNORECASE,
)
_BULLETS = " \t-*+>|•"
_MAX_CONTEXT = 80
_MAX_NAMED = 16  # a cover listing more earlier versions than this names something else


def _context_names_a_version(context: str) -> bool:
    context = context.strip(_BULLETS)
    if not context or len(context) > _MAX_CONTEXT:
        return False
    return bool(_SPEAKS_OF_A_VERSION.search(context)) and not _SPEAKS_OF_SOMETHING_ELSE.search(context)


def named_versions(text: str) -> tuple[str, ...]:
    """The message-ids ``text`` names as earlier versions of itself, in the order named."""
    if "://" not in text:
        return ()
    out: dict[str, None] = {}
    previous = ""
    for line in text.split("\n"):
        if "://" in line:
            for m in _URL_RE.finditer(line):
                before = line[: m.start()]
                context = before if before.strip(_BULLETS) else previous
                if _context_names_a_version(context):
                    out[unquote(m[1]).strip("<>")] = None
                before = ""
        if line.strip():
            previous = line
        if len(out) >= _MAX_NAMED:
            break
    return tuple(out)
