"""A new reply to a received message: headers as mail clients and b4 make them, the quote, the trailer."""

from __future__ import annotations

from dataclasses import dataclass

from triage.mail.addresses import parse_raw
from triage.mail.message import MessageText
from triage.mail.parse import parse_msgids
from triage.reply.comments import CONTEXT_LINES, Comment, quote_with_comments
from triage.reply.draft import Draft, new_draft_id
from triage.reply.headers import (
    format_addresses,
    one_line,
    reference_chain,
    reply_subject,
    without,
)
from triage.textsafe import safe_text

# What each review key puts in the reply; a trailer on the cover letter covers the whole series.
TRAILERS = {"review": "Reviewed-by", "ack": "Acked-by", "tested": "Tested-by"}
KINDS = ("reply", *TRAILERS, "thanks")


@dataclass(frozen=True, slots=True)
class Identity:
    name: str
    email: str

    def formatted(self) -> str:
        return format_addresses([(self.name, self.email)])

    def trailer(self, label: str) -> str:
        # A trailer is not a header: the name goes unquoted, as git writes it.
        return f"{label}: {self.name} <{self.email}>" if self.name else f"{label}: <{self.email}>"


MAX_QUOTED_LINES = 3000  # a 20,000-line patch is reviewed in parts; the rest is named, not quoted


def quote(body: str, limit: int = MAX_QUOTED_LINES) -> str:
    """The original quoted with ``> ``; its signature (``-- `` and after) left out."""
    lines = safe_text(body).split("\n")
    while lines and not lines[-1].strip():
        lines.pop()
    for i in range(len(lines) - 1, max(-1, len(lines) - 12), -1):
        if lines[i] == "-- ":
            del lines[i:]
            break
    cut = len(lines) - limit
    lines = lines[:limit]
    quoted = "\n".join(f"> {line}" if line else ">" for line in lines)
    return quoted + (f"\n> [... {cut} more lines not quoted ...]" if cut > 0 else "")


def attribution(original: MessageText) -> str:
    pairs = parse_raw(original.raw_addresses.get("From"))
    who = (pairs[0][0] or pairs[0][1]) if pairs else one_line(original.from_) or "someone"
    when = one_line(original.headers.get("Date")) or original.date
    return f"On {when}, {who} wrote:" if when else f"{who} wrote:"


def new_reply(
    original: MessageText,
    identity: Identity,
    *,
    own: set[str],
    kind: str = "reply",
    series_id: str | None = None,
    body: str | None = None,
    comments: list[Comment] | None = None,
    context: int = CONTEXT_LINES,
) -> Draft:
    """A draft replying to ``original``; ``body`` replaces the quote (for thank-you notes);
    with ``comments`` only the commented lines are quoted, each comment under its line."""
    if kind not in KINDS:
        raise ValueError(f"unknown reply kind {kind!r}")
    h, raw = original.headers, original.raw_addresses
    drop = {a.lower() for a in own} | {identity.email.lower()}
    to = parse_raw(raw.get("Reply-To")) or parse_raw(raw.get("From"))
    to = without(to, drop) or to  # replying to oneself still goes somewhere
    cc = parse_raw(raw.get("To")) + parse_raw(raw.get("Cc"))
    cc = without(cc, drop | {a.lower() for _, a in to})
    lines = [
        f"From: {identity.formatted()}",
        f"To: {format_addresses(to)}",
        f"Cc: {format_addresses(cc)}",
        f"Subject: {reply_subject(original.subject)}",
        "",
    ]
    if body is None:
        quoted = quote_with_comments(original.body, comments, context) if comments else quote(original.body)
        text = f"{attribution(original)}\n{quoted}\n"
        if kind in TRAILERS:
            text += f"\n{identity.trailer(TRAILERS[kind])}\n"
    else:
        text = body
    chain = reference_chain(parse_msgids(h.get("References")), h.get("In-Reply-To"), original.message_id)
    return Draft(
        id=new_draft_id(),
        parent_id=original.message_id,
        parent_subject=one_line(original.subject),
        series_id=series_id,
        kind=kind,
        references=chain,
        text="\n".join(lines) + "\n" + text,
    )
