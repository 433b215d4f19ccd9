"""notmuch queries built from message ids, so that each matches exactly that id.

A Message-ID is mail text: ``<id:OTHER-ID>``, parentheses, quotes, ``*``, spaces and
control characters all occur. Inside a quoted term notmuch reads everything literally
but ``"``, which is doubled.
"""

from __future__ import annotations


def quoted(text: str) -> str:
    """``text`` as one quoted notmuch term value."""
    return '"' + text.replace('"', '""') + '"'


def id_query(message_id: str) -> str:
    """The query for exactly this message id (without angle brackets)."""
    return f"id:{quoted(message_id)}"


def from_query(address_or_name: str) -> str:
    return f"from:{quoted(address_or_name)}"


def thread_query(thread_id: str) -> str:
    """notmuch's own thread ids are hex; anything else is quoted all the same."""
    return f"thread:{quoted(thread_id)}"
