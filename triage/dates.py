"""Dates the user types: an ISO date, or a duration from today (3d, 2w, 1m)."""

from __future__ import annotations

import re
from datetime import date, timedelta

from triage.errors import UserError

_DURATION_RE = re.compile(r"^\s*(\d{1,4})\s*([dwm])\s*$", re.IGNORECASE)


def duration_seconds(text: str) -> int:
    """Seconds in a duration such as 180d, 26w, 6m; raises UserError otherwise."""
    m = _DURATION_RE.match(text)
    if not m:
        raise UserError(f"{text!r} is not a duration: give a number of days, weeks or months (180d, 26w, 6m)")
    return int(m[1]) * {"d": 1, "w": 7, "m": 30}[m[2].lower()] * 86400


def until_date(text: str, today: date | None = None) -> str:
    """``YYYY-MM-DD`` for ``text``; raises UserError naming what is wanted."""
    today = today or date.today()
    m = _DURATION_RE.match(text)
    if m:
        n, unit = int(m[1]), m[2].lower()
        days = n * {"d": 1, "w": 7, "m": 30}[unit]
        return (today + timedelta(days=days)).isoformat()
    try:
        return date.fromisoformat(text.strip()).isoformat()
    except ValueError as e:
        raise UserError(f"{text!r} is not a date: give YYYY-MM-DD or a duration such as 3d, 2w, 1m") from e
