"""Child processes (git, lei, notmuch-git, ssh under them) that can never reach the terminal.

The screen owns the terminal: a child that asks a question there (ssh's "Are you sure you
want to continue connecting?", a password prompt) reads the user's keys meant for
triage. Every child runs in a session of its own (no controlling terminal, so ssh cannot
open /dev/tty), with standard input closed, git told not to prompt and ssh told to fail
rather than ask (BatchMode). Its question becomes an error that names the tool.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path


class Cancelled(Exception):
    """The user stopped the work (Escape): the child was killed."""


class Deadline:
    """The time left for a whole run of several children (a sync, a fetch), and the user's
    way to stop it: each child gets what is left; ``cancel`` set kills the running one."""

    def __init__(self, seconds: float, cancel: threading.Event | None = None) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds
        self.cancel = cancel

    def left(self) -> float:
        """Seconds left (at least a little, so the child's own timeout names it)."""
        return max(0.05, self.end - time.monotonic())

    @property
    def expired(self) -> bool:
        return time.monotonic() >= self.end

    @property
    def cancelled(self) -> bool:
        return self.cancel is not None and self.cancel.is_set()

_BATCH = "-o BatchMode=yes"


def child_env(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """``env`` (or this process's) for a child that must not prompt."""
    out = dict(os.environ if env is None else env)
    out["GIT_TERMINAL_PROMPT"] = "0"
    ssh = out.get("GIT_SSH_COMMAND") or out.get("GIT_SSH") or "ssh"
    if "BatchMode" not in ssh:
        ssh = f"{ssh} {_BATCH}"
    out["GIT_SSH_COMMAND"] = ssh
    out.pop("GIT_ASKPASS", None)
    out.pop("SSH_ASKPASS", None)
    out["SSH_ASKPASS_REQUIRE"] = "never"
    return out


def run_child(
    args: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float | None = None,
    input_text: str | None = None,
    cancel: threading.Event | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``args`` to the end (or ``timeout``, or ``cancel`` set): no terminal, no prompts,
    output captured. Raises FileNotFoundError, OSError and subprocess.TimeoutExpired as
    subprocess does, and Cancelled (a timed-out or cancelled child and its own children
    are killed)."""
    proc = subprocess.Popen(
        list(args),
        stdin=subprocess.PIPE if input_text is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        errors="replace",
        env=child_env(env),
        cwd=cwd,
        start_new_session=True,
    )
    end = None if timeout is None else time.monotonic() + timeout
    pending_input = input_text
    try:
        while True:
            step = 0.2 if cancel is not None else None
            if end is not None:
                left = end - time.monotonic()
                if left <= 0:
                    raise subprocess.TimeoutExpired(list(args), timeout or 0)
                step = left if step is None else min(step, left)
            try:
                out, err = proc.communicate(pending_input, timeout=step)
                break
            except subprocess.TimeoutExpired:
                pending_input = None  # handed over already: communicate() goes on writing it
                if cancel is not None and cancel.is_set():
                    raise Cancelled(f"{args[0]} stopped") from None
    except BaseException:
        kill_group(proc)
        with contextlib.suppress(Exception):
            proc.communicate(timeout=5)
        raise
    return subprocess.CompletedProcess(list(args), proc.returncode, out, err)


def kill_group(proc: subprocess.Popen) -> None:
    """Kill a child started by :func:`run_child` and everything it started (ssh under git)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, 9)
    with contextlib.suppress(ProcessLookupError):
        proc.kill()
