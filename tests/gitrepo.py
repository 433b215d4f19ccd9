"""Scratch git repositories for the apply tests."""

from __future__ import annotations

import email
import email.policy
import os
import subprocess
from pathlib import Path

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Alice Author",
    "GIT_AUTHOR_EMAIL": "alice@example.com",
    "GIT_COMMITTER_NAME": "Test Maintainer",
    "GIT_COMMITTER_EMAIL": "maint@example.org",
    "GIT_CONFIG_NOSYSTEM": "1",
}


def git(repo: Path, *args: str) -> str:
    env = dict(os.environ, **GIT_ENV, HOME=str(repo.parent))
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=True, env=env).stdout.strip()


def new_repo(path: Path) -> Path:
    path.mkdir(parents=True)
    git(path, "init", "-q", "-b", "main")
    git(path, "config", "user.name", "Test Maintainer")
    git(path, "config", "user.email", "maint@example.org")
    return path


def commit(repo: Path, message: str, files: dict[str, str]) -> str:
    for name, text in files.items():
        (repo / name).write_text(text)
        git(repo, "add", name)
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")


def series_repo(tmp_path: Path) -> tuple[Path, str, str, Path]:
    """A repo with a base and three commits, sent as a series with a cover letter."""
    repo = new_repo(tmp_path / "repo")
    base = commit(repo, "base", {"a.c": "int a;\n" * 5, "b.c": "int b;\n"})
    commit(repo, "a: change the first line\n\nBecause.\n\nSigned-off-by: Alice Author <alice@example.com>", {"a.c": "int aa;\n" + "int a;\n" * 4})
    commit(repo, "b: grow\n\nMore b.\n\nSigned-off-by: Alice Author <alice@example.com>", {"b.c": "int b;\nint b2;\n"})
    tip = commit(repo, "c: add\n\nA new file from ?>From here.\nFrom the start of a line.\n\nSigned-off-by: Alice Author <alice@example.com>",
                 {"c.c": "From the diff too\nint c;\n"})
    out = tmp_path / "patches"
    git(repo, "format-patch", "-q", "--cover-letter", "--thread=shallow", "-o", str(out), f"{base}..{tip}")
    cover = out / "0000-cover-letter.patch"
    cover.write_text(cover.read_text().replace("*** SUBJECT HERE ***", "widget: three changes").replace("*** BLURB HERE ***", "Please take these."))
    return repo, base, tip, out


def msgid(path: Path) -> str:
    return str(email.message_from_bytes(path.read_bytes(), policy=email.policy.default)["Message-Id"]).strip("<>")
