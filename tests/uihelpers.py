"""Helpers for driving the app with Textual's Pilot: wait on conditions, never on the clock."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from textual.pilot import Pilot


async def settle(pilot: Pilot) -> None:
    """Let workers finish and their messages be handled."""
    for _ in range(50):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        if not any(w.is_running for w in pilot.app.workers):
            return


async def wait_for(pilot: Pilot, condition: Callable[[], bool], what: str, tries: int = 200) -> None:
    for _ in range(tries):
        await settle(pilot)
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"timed out waiting for: {what}")
