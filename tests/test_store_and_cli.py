"""Store writes, imports, locking and the command line, on real notmuch databases."""

from __future__ import annotations

import json
import time
from pathlib import Path

import notmuch2
import pytest

from tests.conftest import FIXTURES, create_store, needs_corpus, write_lock_held
from tests.mailgen import mail, mbox, patch_body
from triage.cli import main
from triage.mail.importer import import_paths
from triage.mail.store import StoreLocked
from triage.series.service import find_series, load_series

SERIES = [
    mail("s0@x", "[PATCH v2 0/2] demo", "cover\n"),
    mail("s1@x", "[PATCH v2 1/2] demo: a", patch_body(), minutes=1, parent="s0@x"),
    mail("s2@x", "[PATCH v2 2/2] demo: b", patch_body(), minutes=2, parent="s0@x"),
    mail("s3@x", "Re: [PATCH v2 1/2] demo: a", "Reviewed-by: Bob <bob@example.net>\n", minutes=3, parent="s1@x", sender="Bob <bob@example.net>"),
]


def _tags(store, mid: str) -> set[str]:
    with store.read() as db:
        return set(db.find(mid).tags)


def test_state_tags_every_message_one_state_at_a_time(make_store) -> None:
    store = make_store(mbox(*SERIES))
    s = find_series(store, "s2@x")
    assert s.id == "s0@x" and s.state == "new"
    store.set_state(s.message_ids(), "under-review")
    store.set_state(s.message_ids(), "reviewed")
    for mid in ("s0@x", "s1@x", "s2@x", "s3@x"):
        assert {t for t in _tags(store, mid) if t.startswith("triage/")} == {"triage/reviewed"}
    assert find_series(store, "s0@x").state == "reviewed"


def test_locked_database_is_retried_then_queued_without_loss(make_store, tmp_path: Path) -> None:
    store = make_store(mbox(*SERIES))
    with write_lock_held(store):
        t0 = time.monotonic()
        with pytest.raises(StoreLocked, match="locked by another process.*queued"):
            store.set_state(["s0@x", "s1@x"], "accepted")
        assert time.monotonic() - t0 < 10
        assert store.pending() and "triage/accepted" not in _tags(store, "s0@x")
    assert store.retry_pending() == 1
    assert "triage/accepted" in _tags(store, "s0@x") and not store.pending()


def test_import_skips_duplicates_and_names_broken_files(make_store, tmp_path: Path) -> None:
    store = make_store()
    good = tmp_path / "series.mbox"
    good.write_bytes(mbox(*SERIES))
    junk = tmp_path / "junk.txt"
    junk.write_bytes(b"\x00\x01 this is not mail at all\n")
    report = import_paths(store, [good, junk, tmp_path / "missing.mbox"])
    assert report.added == 4 and report.duplicates == 0
    assert any("junk.txt" in b for b in report.broken) and any("missing.mbox" in b for b in report.broken)
    again = import_paths(store, [good])
    assert (again.added, again.duplicates) == (0, 4)
    assert store.count("*") == 4
    assert "unread" in _tags(store, "s1@x")


def test_import_maildir(make_store, tmp_path: Path) -> None:
    md = tmp_path / "md"
    for sub in ("cur", "new", "tmp"):
        (md / sub).mkdir(parents=True)
    for i, m in enumerate(SERIES):
        (md / "new" / f"{i}.eml").write_bytes(m)
    store = make_store(md)
    assert [s.received for s in load_series(store)] == [2]


@needs_corpus
def test_hostile_fixtures_import_and_group_without_raising(make_store) -> None:
    sources = [FIXTURES / d for d in ("patchwork/fuzz", "patchwork/mail", "patchew", "alot", "git-mailinfo", "public-inbox")]
    store = make_store(*[s for s in sources if s.exists()])
    series = load_series(store)
    assert series and store.count("*") > 80
    json.dumps([s.to_json() for s in series])


def _cli(capsys, *args: str) -> tuple[int, str, str]:
    rc = main(list(args))
    out, err = capsys.readouterr()
    return rc, out, err


def test_series_json_shape_and_literal_subject(make_store, capsys, tmp_path: Path) -> None:
    hostile = mail("h1@x", "[PATCH] x: [bold red]boom[/] \x1b[31mred", patch_body(), minutes=10)
    store = make_store(mbox(*SERIES, hostile))
    rc, out, _ = _cli(capsys, "--config", store.config.config_path, "series", "--json")
    assert rc == 0 and "\x1b" not in out
    data = json.loads(out)
    assert [d["id"] for d in data] == ["h1@x", "s0@x"]
    s = data[1]
    for key in ("id", "title", "subject", "version", "rfc", "resend", "total", "received", "complete", "cover",
                "author", "date", "state", "patches", "previous_versions", "newer_versions"):
        assert key in s
    assert (s["version"], s["total"], s["received"], s["complete"], s["cover"]) == (2, 2, 2, True, "s0@x")
    assert s["author"] == {"name": "Alice Author", "email": "alice@example.com"}
    assert s["date"].startswith("2026-01-05T10:00:00")
    t = s["patches"][0]["trailers"]
    assert {"name": "Reviewed-by", "value": "Bob <bob@example.net>", "message_id": "s3@x", "source": "followup", "sender_match": True} in t
    assert data[0]["subject"] == "[PATCH] x: [bold red]boom[/] \x1b[31mred"


def test_series_table_never_prints_control_characters(make_store, capsys) -> None:
    store = make_store(mbox(mail("h1@x", "[PATCH] x \x1b[31mred\x9b", patch_body())))
    rc, out, _ = _cli(capsys, "--config", store.config.config_path, "series", "id:h1@x")
    assert rc == 0 and "\x1b" not in out and "\x9b" not in out and "x [31mred" in out


def test_state_and_import_commands(make_store, capsys, tmp_path: Path) -> None:
    store = make_store()
    f = tmp_path / "s.mbox"
    f.write_bytes(mbox(*SERIES))
    cfg = store.config.config_path
    rc, out, _ = _cli(capsys, "--config", cfg, "import", str(f))
    assert rc == 0 and "imported 4" in out
    rc, out, _ = _cli(capsys, "--config", cfg, "state", "<s1@x>", "changes-requested")
    assert rc == 0 and "changes-requested" in out
    assert "triage/changes-requested" in _tags(store, "s0@x")
    rc, _, err = _cli(capsys, "--config", cfg, "state", "nope@x", "accepted")
    assert rc == 1 and "no series with id 'nope@x'" in err


def test_bad_database_and_bad_settings_are_reported(capsys, tmp_path: Path) -> None:
    bad = tmp_path / "config.toml"
    bad.write_text('tag_prefix = "ok/"\nkeymap = = 3\n', encoding="utf-8")
    rc, _, err = _cli(capsys, "--settings", str(bad), "--database", str(tmp_path / "nowhere"), "series")
    assert rc == 1
    assert f"{bad}:2" in err and "cannot open notmuch database" in err


def test_without_a_store_triage_says_where_it_looked_and_how_to_make_one(capsys, tmp_path: Path, monkeypatch) -> None:
    rc, out, err = _cli(capsys, "series", "--json")
    assert rc == 1 and "no notmuch store: looked for" in err and "triage init" in err and "--demo" in err
    rc, _, err = _cli(capsys, "import", str(tmp_path / "nothing.mbox"))
    assert rc == 1 and "no notmuch store" in err  # never into the demo store
    monkeypatch.setenv("NOTMUCH_CONFIG", str(tmp_path / "typo-config"))
    rc, _, err = _cli(capsys, "series")
    assert rc == 1 and f"NOTMUCH_CONFIG names {tmp_path / 'typo-config'}, which does not exist" in err


def test_init_and_import_new_make_a_store_of_ones_own(capsys, tmp_path: Path) -> None:
    from triage import paths

    demo = paths.cache_dir() / "demo"
    src = _write(tmp_path / "a.mbox", mbox(*SERIES))
    rc, out, _ = _cli(capsys, "import", "--new", str(tmp_path / "mail"), str(src))
    config = tmp_path / "mail" / "notmuch-config"
    assert rc == 0 and f"use it with: triage --config {config}" in out and config.exists()
    rc, out, _ = _cli(capsys, "--config", str(config), "series", "--json")
    assert rc == 0 and len(json.loads(out)) >= 1
    assert not demo.exists()  # the demo store was never touched
    rc, _, err = _cli(capsys, "init", str(tmp_path / "mail"))
    assert rc == 1 and "already holds a notmuch database" in err
    rc, out, _ = _cli(capsys, "init", str(tmp_path / "other"), "--email", "me@example.org")
    assert rc == 0 and "primary_email=me@example.org" in (tmp_path / "other" / "notmuch-config").read_text()
    # --database alone needs no config file
    rc, out, err = _cli(capsys, "--database", str(tmp_path / "other"), "import", str(src))
    assert rc == 0, err


def test_demo_opens_when_asked(capsys) -> None:
    rc, out, err = _cli(capsys, "--demo", "series", "--json")
    assert rc == 0
    data = json.loads(out)
    assert len(data) >= 6
    titles = {d["title"] for d in data}
    assert "gpio: sim: add line names" in titles
    v1, v2 = sorted((d for d in data if d["title"] == "gpio: sim: add line names"), key=lambda d: d["version"])
    assert v1["state"] == "superseded" and v1["newer_versions"] == [v2["id"]]
    assert any(not d["complete"] for d in data)
    assert any(d["cover"] is None for d in data)
    assert not any("GIT PULL" in d["subject"] for d in data)


def test_help_lists_commands(capsys) -> None:
    with pytest.raises(SystemExit) as e:
        main(["--help"])
    out = capsys.readouterr().out
    assert e.value.code == 0 and "series [--json] [QUERY]" in out and "import [--new DIR] PATH" in out
    assert "init DIR" in out


def test_store_opens_from_notmuch_config_env(tmp_path: Path, monkeypatch, capsys) -> None:
    store = create_store(tmp_path / "env")
    import_paths(store, [_write(tmp_path / "a.mbox", mbox(*SERIES))])
    monkeypatch.setenv("NOTMUCH_CONFIG", store.config.config_path)
    rc, out, err = _cli(capsys, "series", "--json")
    assert rc == 0 and "demo" not in err and json.loads(out)[0]["id"] == "s0@x"
    assert isinstance(notmuch2.Database, type)


def _write(p: Path, data: bytes) -> Path:
    p.write_bytes(data)
    return p


@pytest.mark.parametrize("tty", [True, False])
def test_a_builds_progress_is_one_line_written_over_on_a_terminal(monkeypatch, tty: bool) -> None:
    """A first build of a large store says hundreds of things: on a terminal they share one
    line, ended when the build is; piped, stderr stays quiet. Mail text in it is escaped."""
    import io

    from triage import cli

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return tty

    stderr = Terminal()
    monkeypatch.setattr(cli.sys, "stderr", stderr)
    status = cli._StatusLine()
    status("triage: 5000 of 9 messages read...")
    status("triage: grouping \x1b]0;title\x07...")
    status.end()
    got = stderr.getvalue()
    if not tty:
        assert got == ""
        return
    assert got.count("\r") == 2 and got.endswith("\n") and got.count("\n") == 1
    assert "\x1b]0;" not in got and "\x07" not in got  # the escapes a subject could carry
    assert got.split("\r")[-1].startswith("triage: grouping ")
