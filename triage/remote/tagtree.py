"""notmuch-git's repository format: one empty file per (message, tag).

Format 1 (what ``notmuch-git init`` writes, with a ``FORMAT`` file holding ``1``) keeps
``tags/<2 hex>/<2 hex>/<quoted id>/<quoted tag>``, the hex digits a BLAKE2b hash of the
quoted id; format 0 keeps ``tags/<quoted id>/<quoted tag>``. Ids and tags are quoted as
URLs are (``urllib.parse.quote``, lower-case escapes), tags without notmuch-git's prefix.

A path read back from a shared repository is whatever another machine (or an attacker)
put there: :func:`parse_path` checks it and says why it refuses one (a ``..``, a tag
notmuch cannot hold, a path in the wrong place), so one bad entry is skipped and named,
never the end of a sync.
"""

from __future__ import annotations

import re
from hashlib import blake2b
from urllib.parse import quote, unquote

TAG_MAX_BYTES = 200  # notmuch's NOTMUCH_TAG_MAX
EMPTY_BLOB = "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"
_ESCAPE_RE = re.compile(r"%[0-9A-F]{2}")
_BAD_CHARS_RE = re.compile(r"[\x00-\x20\x7f]")


def hex_quote(text: str, safe: str = "+@=:,") -> str:
    """notmuch-git's quoting: URL quoting with a few more safe characters, lower-case escapes."""
    return _ESCAPE_RE.sub(lambda m: m.group(0).lower(), quote(text, safe))


def id_path(message_id: str, version: int) -> str:
    hid = hex_quote(message_id)
    if version == 0:
        return f"tags/{hid}"
    h = blake2b(hid.encode("utf-8"), digest_size=2).hexdigest()
    return f"tags/{h[0:2]}/{h[2:]}/{hid}"


def tag_path(message_id: str, tag: str, version: int) -> str:
    """The file for ``tag`` (without the prefix) on ``message_id``."""
    return f"{id_path(message_id, version)}/{hex_quote(tag)}"


class BadEntry(ValueError):
    """A path of the repository that is no (message, tag) this store can hold."""


def check_tag(tag: str, prefix: str) -> None:
    whole = prefix + tag
    if not tag:
        raise BadEntry("an empty tag")
    if len(whole.encode("utf-8")) > TAG_MAX_BYTES:
        raise BadEntry(f"a tag of {len(whole.encode('utf-8'))} bytes (notmuch holds at most {TAG_MAX_BYTES})")
    if _BAD_CHARS_RE.search(whole):
        raise BadEntry("a tag with a blank or control character")
    if tag.startswith("-"):
        raise BadEntry("a tag that starts with '-'")


def parse_path(path: str, version: int, prefix: str) -> tuple[str, str]:
    """(message id, tag without the prefix) of a tag file's path; BadEntry says why not."""
    parts = path.split("/")
    if any(p in ("", ".", "..") for p in parts):
        raise BadEntry("a '.' or '..' or empty path component")
    want = 3 if version == 0 else 5
    if len(parts) != want or parts[0] != "tags":
        raise BadEntry(f"not a tag file of format {version}")
    hid, qtag = parts[-2], parts[-1]
    try:
        message_id = unquote(hid, errors="strict")
        tag = unquote(qtag, errors="strict")
    except UnicodeDecodeError as e:
        raise BadEntry("an id or tag that is not UTF-8") from e
    if not message_id or "\x00" in message_id:
        raise BadEntry("an empty message id")
    if version == 1 and id_path(message_id, 1) != "/".join(parts[:-1]):
        raise BadEntry("a message id in another id's directory")
    check_tag(tag, prefix)
    return message_id, tag
