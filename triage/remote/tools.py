"""Running an external tool, with errors that name the tool, what it was doing and why."""

from __future__ import annotations

import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from triage.children import Cancelled, Deadline, run_child
from triage.errors import UserError
from triage.textsafe import safe_line

PACKAGES = {"lei": "lei", "notmuch": "notmuch", "notmuch-git": "notmuch-git", "git": "git"}


class ToolError(UserError):
    """An external tool is missing, failed or took too long."""


def run_tool(
    args: Sequence[str],
    *,
    what: str,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 600.0,
    ok: Sequence[int] = (0,),
    deadline: Deadline | None = None,
    input_text: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``args`` and return what it did; a ToolError saying ``what`` failed, which
    command, and the last lines it wrote, when it could not run or exited otherwise.
    With ``deadline`` the child gets what is left of the whole run, and stops when it is
    cancelled."""
    if deadline is not None:
        if deadline.cancelled:
            raise ToolError(f"{what}: stopped")
        if deadline.expired:
            raise ToolError(f"{what}: not started, the run's {deadline.seconds:.0f} s are up")
        timeout = min(timeout, deadline.left())
    try:
        done = run_child(args, env=env, cwd=cwd, timeout=timeout, input_text=input_text,
                         cancel=deadline.cancel if deadline is not None else None)
    except Cancelled as e:
        raise ToolError(f"{what}: stopped") from e
    except FileNotFoundError as e:
        package = PACKAGES.get(Path(args[0]).name, args[0])
        raise ToolError(f"{what}: {args[0]} is not installed (Debian package {package}; `bash bootstrap` installs it)") from e
    except subprocess.TimeoutExpired as e:
        raise ToolError(f"{what}: {args[0]} did not finish in {timeout:.0f} s") from e
    except OSError as e:
        raise ToolError(f"{what}: {args[0]} could not be run: {e.strerror or e}") from e
    if done.returncode not in ok:
        raise ToolError(f"{what}: `{command_line(args)}` exited {done.returncode}: {last_lines(done.stderr or done.stdout)}")
    return done


def command_line(args: Sequence[str]) -> str:
    return safe_line(" ".join(args))[:200]


def last_lines(text: str, n: int = 5) -> str:
    """The last few lines a tool wrote, as one line (its own words say best what went wrong)."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return safe_line(" / ".join(lines[-n:]))[:600] or "(no output)"
