"""The one base for problems that are the user's to fix, reported as one line (no traceback)."""

from __future__ import annotations


class UserError(Exception):
    """A problem with a message fit for the status line or stderr."""
