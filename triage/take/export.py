"""A series as a ``git am``-ready mbox: patches in order, each with its collected trailers.

The trailers added are the follow-up and cover-letter trailers of the series model
(the foundation's rules, b4's order: after the patch's own block), then a ``Link:``
and the user's ``Signed-off-by`` when configured. The cover letter is not a patch.
"""

from __future__ import annotations

import email.policy
import re
import urllib.parse
from dataclasses import dataclass, field
from email.message import EmailMessage

from triage.errors import UserError
from triage.mail import wire
from triage.mail.addresses import parse_list, parse_raw
from triage.mail.message import read_message
from triage.mail.store import Store
from triage.model.series import Patch, Series
from triage.reply.compose import Identity
from triage.reply.headers import one_line
from triage.series.trailers import RawTrailer, commit_message, patch_trailers
from triage.textsafe import clean_value

MBOX_FROM = b"From git@z Thu Jan  1 00:00:00 1970\n"
_OUT = email.policy.default.clone(max_line_length=998, linesep="\n")
_FROM_LINE_RE = re.compile(rb"^(>*From )", re.MULTILINE)
_BASE_RE = re.compile(r"^base-commit: ([0-9a-f]{7,40})\s*$", re.MULTILINE)


class ExportError(UserError):
    """The series cannot be exported as asked (incomplete, unreadable)."""


@dataclass(frozen=True)
class ExportOptions:
    link: str | None = "https://lore.kernel.org/r/{msgid}"  # None: no Link trailer
    link_to: str = "cover"  # "cover" (or the first patch without one) | "patch" (each its own, as b4)
    signoff: Identity | None = None
    force: bool = False  # export an incomplete series
    carry: bool = True  # add the reviews of earlier versions of an unchanged patch (as b4 does)


@dataclass
class ExportedPatch:
    index: int
    title: str
    message_id: str
    added: list[str]  # trailer lines added to the commit message
    body: str


@dataclass
class Export:
    series: Series
    patches: list[ExportedPatch] = field(default_factory=list)
    mbox: bytes = b""
    notes: list[str] = field(default_factory=list)  # trailers left out and why
    base_commit: str | None = None  # what ``git format-patch --base`` declared, if anything


def link_url(template: str, msgid: str) -> str:
    # Plain substitution, never str.format: a template is config text, and format would
    # read attributes ({msgid.__class__}) or pad to any width ({msgid:>300000000}).
    return template.replace("{msgid}", urllib.parse.quote(msgid, safe="@!$&'()*+,;=:~._-"))


def _key(line: str) -> tuple[str, str]:
    # The trailer rules' own identity: case and spacing folded, links by message id.
    name, _, value = line.partition(":")
    return RawTrailer(name.strip(), value.strip()).key()


def with_trailers(body: str, lines: list[str]) -> tuple[str, list[str]]:
    """``body`` with trailer ``lines`` appended to its commit message's trailer block.

    Lines already present are not repeated. Returns (new body, lines added).
    """
    message = commit_message(body)
    head = message.rstrip()
    own = patch_trailers(body)
    existing = {t.key() for t in own}
    added = []
    for line in lines:
        if _key(line) not in existing:
            existing.add(_key(line))
            added.append(line)
    if not added:
        return body, []
    joiner = "\n" if own else "\n\n"
    tail = body[len(head) :]
    if not tail.startswith("\n"):
        tail = "\n" + tail
    return head + joiner + "\n".join(added) + tail, added


def _collected(patch: Patch, verified: set[str] | frozenset[str] = frozenset()) -> tuple[list[str], list[str]]:
    """(trailer lines to add, notes on those left out), in the series model's order."""
    lines, notes = [], []
    for t in patch.trailers:
        if t.source == "patch":
            continue
        # The value comes from a stranger's mail: no control or invisible character reaches
        # the commit message (the patch's own text stays byte for byte).
        line = f"{t.name}: {clean_value(t.value)}"
        if not t.sender_match:
            notes.append(f"patch {patch.index}: left out {line!r}: sent by {t.from_email or 'someone else'}")
            continue
        if t.sender_match == "name":
            how = ("verified: DKIM signs the mail in the named address's domain" if t.value in verified
                   else "not verified")
            notes.append(f"patch {patch.index}: {line!r} was sent from {t.from_email}: same name as the trailer, "
                         f"other address ({how})")
        lines.append(line)
    return lines, notes


def _message(subject: str, from_raw: str, from_: str, date: str, msgid: str, body: str) -> tuple[bytes, str | None]:
    """One mbox entry, and a note when the author's address could not be written.

    Subject and From are encoded once from the text as read (never handed to the email
    policy to parse, which would decode an encoded word inside an encoded word again)."""
    msg = EmailMessage(policy=_OUT)
    note = None
    msg["Subject"] = wire.unstructured("Subject", one_line(subject))
    pairs = parse_raw(from_raw) or parse_list(from_)
    author = [(n, a) for n, a in ((n, wire.usable_address(a)) for n, a in pairs[:1]) if a]
    if author:
        msg["From"] = wire.addresses("From", author)
    else:
        note = f"<{msgid}>: the author's address {one_line(from_raw or from_)[:60]!r} cannot be written; git am will ask"
    if date:
        msg["Date"] = wire.unstructured("Date", one_line(date))
    if wire.usable_message_id(msgid):
        msg["Message-Id"] = f"<{msgid}>"
    msg.set_content(body, charset="utf-8", cte="8bit")
    data = msg.as_bytes()
    head, sep, text = data.partition(b"\n\n")
    # mboxrd: a body line starting with "From " (after any ">") gains one ">".
    return MBOX_FROM + head + sep + _FROM_LINE_RE.sub(rb">\1", text), note


def export_series(store: Store, series: Series, options: ExportOptions) -> Export:
    if not series.patches:
        raise ExportError(f"series {series.id!r} has no patches (a cover letter alone is not a patch)")
    if not series.complete and not options.force:
        missing, more = series.missing()
        listed = ", ".join(map(str, missing)) + (f" and {more} more" if more else "")
        raise ExportError(
            f"series {series.title!r} v{series.version} is incomplete: patch(es) {listed} "
            f"of {series.total} missing; force to export the {len(series.patches)} received"
        )
    out = Export(series)
    first = series.cover.message_id if series.cover else series.patches[0].message_id
    chunks = []
    cover_ids = [series.cover.message_id] if series.cover else []
    paths = store.message_paths([*cover_ids, *(p.message_id for p in series.patches)])
    for patch in sorted(series.patches, key=lambda p: p.index):
        m = read_message(patch.message_id, paths[patch.message_id])
        if m.problem and not m.body:
            raise ExportError(f"patch {patch.index} <{patch.message_id}>: {m.problem}")
        if not patch.message.facts.has_diff:
            out.notes.append(f"patch {patch.index} has no diff; git am will stop on it")
        lines, notes = _collected(patch, series.name_verified)
        out.notes.extend(notes)
        if options.carry:
            for c in series.carried_trailers:
                if c["patch"] == patch.index:
                    line = f"{c['name']}: {clean_value(str(c['value']))}"
                    lines.append(line)
                    out.notes.append(f"patch {patch.index}: carried from v{c['from_version']}: {line}")
            for lost in series.review_lost:
                if lost["patch"] == patch.index:
                    out.notes.append(f"patch {patch.index}: changed since v{lost['from_version']}, its review is not "
                                     f"carried: {'; '.join(map(str, lost['trailers']))}")
        if options.link:
            target = patch.message_id if options.link_to == "patch" else first
            lines.append(f"Link: {link_url(options.link, target)}")
        if options.signoff is not None:
            lines.append(options.signoff.trailer("Signed-off-by"))
        body, added = with_trailers(m.body, lines)
        date = m.headers.get("Date", "")
        chunk, note = _message(m.subject, m.raw_addresses.get("From", ""), m.from_, date, patch.message_id, body)
        chunks.append(chunk)
        if note:
            out.notes.append(note)
        out.patches.append(ExportedPatch(patch.index, patch.message.parsed.title, patch.message_id, added, body))
    out.mbox = b"\n".join(chunks)
    # git format-patch --base writes "base-commit:" at the end of the cover letter (or of the last patch).
    texts = [p.body for p in reversed(out.patches)]
    if series.cover is not None:
        texts.insert(0, read_message(series.cover.message_id, paths[series.cover.message_id]).body)
    out.base_commit = next((b[1] for t in texts if (b := _BASE_RE.search(t))), None)
    return out
