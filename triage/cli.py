"""Command line: ``triage`` opens the app; subcommands script the same core."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from triage import __version__
from triage.config import Settings, load_settings
from triage.errors import UserError
from triage.mail.store import Store, StoreConfig, StoreError
from triage.model.series import STATES
from triage.textsafe import json_safe, safe_line

EPILOG = """\
With no command, triage opens the review screen. The database is the one notmuch
itself would use (NOTMUCH_CONFIG, ~/.notmuch-config, the XDG profile), or the one
given by --config/--database; when none exists, it says where it looked and how to make
one (triage init DIR). The bundled demo store opens with --demo.

commands:
  series [--json] [QUERY]     list the series QUERY (notmuch syntax) reaches, newest first
  init DIR [--name N --email E]   make a notmuch store of your own in DIR (database and config)
  import [--new DIR] PATH...  add mbox, maildir or message files to the store and index them
                              (--new DIR: first make the store there, as init)
  state SERIES-ID STATE       set a series' state (tags triage/STATE on all its messages)
  state --query Q STATE [--dry-run]   every series a query reaches (--dry-run: list them)
  undo                        take back the last change to states or marks (as U does)
  export SERIES-ID [-o FILE]  a git-am-ready mbox of the patches, with collected trailers
  apply SERIES-ID [--repo P]  export, then git am -3 on a new branch; state -> accepted
  versions SERIES-ID          the versions of a series the store holds
  range-diff SERIES-ID [OLD]  what changed since the previous version (or OLD)
  fetch [QUERY...]            new list mail through lei (lei q / lei up), indexed into the store
  sync                        share states with [sync] remote through notmuch-git
  merged [--repo P] [--branch REF] [--since DATE]
                              the series whose patches are commits of a branch (git patch-id)
  demo [--rebuild]            build the demo store and print its notmuch config path

states: """ + ", ".join(STATES)


if TYPE_CHECKING:
    from triage.session import Session


def out(line: str = "") -> None:
    """One line of output: every line the CLI prints goes through here or :func:`err`, so
    no mail text (a title, a Message-ID, an author) reaches the terminal raw."""
    print(safe_line(line))


def err(line: str) -> None:
    print(safe_line(line), file=sys.stderr, flush=True)


class _StatusLine:
    """Progress of long work on a terminal's stderr: one line, written over in place (a first
    build of a large store says hundreds of things), ended when the work is."""

    def __init__(self) -> None:
        self.shown = False

    def __call__(self, line: str) -> None:
        if sys.stderr.isatty():
            print(f"\r{safe_line(line)}\x1b[K", end="", file=sys.stderr, flush=True)
            self.shown = True

    def end(self) -> None:
        if self.shown:
            print(file=sys.stderr, flush=True)
            self.shown = False


def _notmuch_configs() -> list[Path]:
    """Where notmuch itself looks for its config, in its order: $NOTMUCH_CONFIG alone when
    set, else the XDG profile and ~/.notmuch-config."""
    env = os.environ.get("NOTMUCH_CONFIG")
    if env:
        return [Path(env)]
    home = Path.home()
    profile = os.environ.get("NOTMUCH_PROFILE", "default")
    xdg = Path(os.environ.get("XDG_CONFIG_HOME") or home / ".config")
    return [xdg / "notmuch" / profile / "config", home / ".notmuch-config"]


def _no_store_message() -> str:
    looked = _notmuch_configs()
    where = (f"NOTMUCH_CONFIG names {looked[0]}, which does not exist" if os.environ.get("NOTMUCH_CONFIG")
             else "looked for " + " and ".join(str(p) for p in looked))
    return (f"no notmuch store: {where}. Make one with `triage init ~/mail` (then --config ~/mail/notmuch-config), "
            "or `triage import --new ~/mail FILE...`; give one with --config FILE or --database DIR; "
            "or look around the demo: triage --demo")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="triage",
        description="Review patch series that arrive by email, from a notmuch mail store.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--version", action="version", version=f"triage {__version__}")
    p.add_argument("--config", metavar="FILE", help="notmuch config file to use")
    p.add_argument("--database", metavar="DIR", help="notmuch database (mail root) to use")
    p.add_argument("--demo", action="store_true", help="use the bundled demo store")
    p.add_argument("--settings", metavar="FILE", help="triage config.toml (default: XDG config dir)")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    s = sub.add_parser("series", help="list series")
    s.add_argument("--json", action="store_true", help="print one JSON array")
    s.add_argument("--no-cache", action="store_true", help="build from notmuch without the series index")
    s.add_argument("query", nargs="*", help="notmuch query (default: all mail)")

    i = sub.add_parser("import", help="import mail files")
    i.add_argument("--new", metavar="DIR", type=Path, help="first make a notmuch store in DIR (as triage init DIR)")
    i.add_argument("paths", nargs="+", type=Path)

    ini = sub.add_parser("init", help="make a notmuch store of your own in DIR (mail root, database, config)")
    ini.add_argument("dir", type=Path)
    ini.add_argument("--name", default="", help="your name, for replies (notmuch's user.name)")
    ini.add_argument("--email", default="", help="your address: what is addressed to you, and replies' From")

    st = sub.add_parser("state", help="set a series' state (or of every series a query reaches)")
    st.add_argument("series_id", nargs="?", help="a message id of the series")
    st.add_argument("state", choices=STATES)
    st.add_argument("--query", metavar="QUERY", help="every series this notmuch query reaches, e.g. 'date:..2024-01-01'")
    st.add_argument("--until", metavar="DATE", help="with deferred: out of the queue until DATE (YYYY-MM-DD or 2w, 10d)")
    st.add_argument("--dry-run", action="store_true", help="with --query: list what would change, change nothing")

    sub.add_parser("undo", help="take back the last change to states or marks (as U in the screen)")

    td = sub.add_parser("todo", help="the series that need you, with the reasons")
    td.add_argument("--json", action="store_true", help="one JSON array, each series with its reasons")
    td.add_argument("--all", action="store_true", help="with the series [queue] stale_after leaves out (reason: stale)")

    e = sub.add_parser("export", help="git-am-ready mbox of a series")
    e.add_argument("series_id")
    e.add_argument("-o", "--output", type=Path, help="file to write (default: standard output)")
    e.add_argument("--force", action="store_true", help="export an incomplete series")

    a = sub.add_parser("apply", help="apply a series to a git tree on a new branch")
    a.add_argument("series_id")
    a.add_argument("--repo", help="git work tree (default: [apply] repo in config.toml)")
    a.add_argument(
        "--base",
        help="commit to start the branch from, or 'auto' for the base-commit the series declares "
        "when the tree has it (default: HEAD, or [apply] base)",
    )
    a.add_argument("--force", action="store_true", help="apply an incomplete series")

    v = sub.add_parser("versions", help="list the versions of a series")
    v.add_argument("series_id")

    r = sub.add_parser("range-diff", help="compare two versions of a series")
    r.add_argument("series_id")
    r.add_argument("older", nargs="?", help="the older version's id (default: the previous version)")

    f = sub.add_parser("fetch", help="fetch list mail with lei into the store, then index it")
    f.add_argument("queries", nargs="*", metavar="QUERY",
                   help="a lei query, e.g. 'l:linux-pwm.vger.kernel.org AND d:2.weeks.ago..' (default: [fetch] queries)")

    sub.add_parser("sync", help="share series states with [sync] remote through notmuch-git")

    mg = sub.add_parser("merged", help="find the series whose patches are commits of a branch (git patch-id)")
    mg.add_argument("--repo", help="git tree (default: [apply] repo in config.toml)")
    mg.add_argument("--branch", default="HEAD", help="the branch (or any commit-ish) to look in (default: HEAD)")
    mg.add_argument("--since", metavar="DATE", help="only commits after DATE (git log --since)")

    d = sub.add_parser("demo", help="build the demo store")
    d.add_argument("--rebuild", action="store_true")
    return p


def _store(args: argparse.Namespace, settings: Settings) -> tuple[Store, str | None]:
    note = None
    config_path = args.config or settings.notmuch_config
    database = args.database or settings.database
    if args.demo:
        from triage.demo.build import demo_config

        config_path = str(demo_config())
        database = None
    elif config_path and not Path(config_path).expanduser().exists():
        raise UserError(f"notmuch config {config_path} does not exist; make a store with `triage init DIR`")
    elif not config_path and not database and not any(p.exists() for p in _notmuch_configs()):
        raise UserError(_no_store_message())
    return Store(StoreConfig(config_path=config_path, database_path=database, tag_prefix=settings.tag_prefix)), note


def format_table(series: list[dict]) -> str:
    """One line per series (from ``series --json`` objects); mail text made safe to print."""
    rows = []
    for s in series:
        counts = s["counts"]
        recv = f"{s['received']}/{s['total']}" + ("" if s["complete"] else "!")
        trail = f"R{counts['reviewed_by']} A{counts['acked_by']} T{counts['tested_by']}"
        if counts["nacked_by"]:
            trail += f" N{counts['nacked_by']}"
        flags = ("RFC " if s["rfc"] else "") + ("RESEND " if s["resend"] else "")
        author = s["author"]["name"] or s["author"]["email"]
        rows.append(
            f"{s['date'][:10]}  {s['state']:<17} v{s['version']:<3} {recv:>6}  {trail:<12} "
            f"{safe_line(author)[:24]:<24}  {flags}{safe_line(s['title'])}"
        )
    return "\n".join(rows)


def _cmd_series(store: Store, args: argparse.Namespace, settings: Settings) -> int:
    query = " ".join(args.query) or "*"
    if "touches:" in query:
        rows = _session(store, settings).rows(query)
        if args.json:
            sys.stdout.write(json_safe(json.dumps(rows, ensure_ascii=False)) + "\n")
        else:
            if rows:
                out(format_table(rows))
            err(f"{len(rows)} series")
        return 0
    if args.no_cache:
        from triage.series.service import load_series, policy_for

        # One series a line, as the index writes it: the two answers are byte for byte the same.
        data = [json_safe(json.dumps(s.to_json(), ensure_ascii=False))
                for s in load_series(store, query, policy=policy_for(store, settings))]
        payload = "[" + ",\n".join(data) + "]"
    else:
        from triage.cache.index import SeriesIndex
        from triage.series.service import policy_for

        index = SeriesIndex(store, policy=policy_for(store, settings))
        status = _StatusLine()
        try:
            index.refresh(progress=lambda msg: status(f"triage: {msg}..."))
        finally:
            status.end()
        if args.json:
            sys.stdout.flush()
            index.write_series_json(sys.stdout.buffer, query)
            sys.stdout.buffer.write(b"\n")
            sys.stdout.buffer.flush()
            return 0
        payload = index.series_json(query)
    if args.json:
        sys.stdout.write(payload + "\n")
        return 0
    data = json.loads(payload)
    if data:
        out(format_table(data))
    err(f"{len(data)} series")
    return 0


def _cmd_import(store: Store, args: argparse.Namespace) -> int:
    from triage.mail.importer import import_paths

    report = import_paths(store, args.paths, progress=lambda n: err(f"  {n} messages..."))
    for b in report.broken:
        err(f"triage: broken: {safe_line(b)}")
    out(report.summary())
    return 1 if report.broken and not report.added and not report.duplicates else 0


def _session(store: Store, settings: Settings) -> Session:
    from triage.session import Session  # here: a warm `series` never needs the services

    return Session(store, settings)


def _cmd_state(store: Store, args: argparse.Namespace, settings: Settings) -> int:
    session = _session(store, settings)
    if args.query:
        if args.series_id:
            raise UserError("give a series id or --query, not both")
        changes = session.set_state_by_query(args.query, args.state, dry_run=args.dry_run)
        count = sum(len(c.message_ids) for _, c in changes)
        if args.dry_run:
            for s, _ in changes:
                out(f"{s.state:<17} -> {args.state:<17} v{s.version:<3} {s.title}")
            out(f"would set {len(changes)} series to {args.state} ({count} messages); nothing changed (--dry-run)")
            return 0
        out(f"{len(changes)} series to {args.state} ({count} messages tagged {store.config.tag_prefix}{args.state}); "
            "triage undo takes it back")
        return 0
    if not args.series_id:
        raise UserError("give a series id, or --query QUERY")
    s = session.series(args.series_id)
    if args.until:
        if args.state != "deferred":
            raise UserError("--until goes with the state deferred")
        from triage.dates import until_date

        when = until_date(args.until)
        session.defer(s, when)
        out(f"{safe_line(s.title)}: deferred until {when}")
        return 0
    n = len(session.set_state(s, args.state).message_ids)
    out(f"{safe_line(s.title)}: {args.state} ({n} messages tagged {store.config.tag_prefix}{args.state})")
    return 0


def _cmd_export(store: Store, args: argparse.Namespace, settings: Settings) -> int:
    result = _session(store, settings).export(args.series_id, force=args.force)
    for note in result.notes:
        err(f"triage: {safe_line(note)}")
    if args.output:
        args.output.write_bytes(result.mbox)
        where = str(args.output)
    else:
        if sys.stdout.isatty():
            # For reading, not for git am: the patches' text is shown, its control characters escaped.
            from triage.textsafe import safe_text

            sys.stdout.write(safe_text(result.mbox.decode("utf-8", "replace")))
        else:
            sys.stdout.flush()
            sys.stdout.buffer.write(result.mbox)
        sys.stdout.flush()
        where = "standard output"
    added = sum(len(p.added) for p in result.patches)
    err(f"triage: {len(result.patches)} patch(es) to {where}, {added} trailer line(s) added; "
        f"apply with: git am --patch-format=mboxrd")
    return 0


def _cmd_apply(store: Store, args: argparse.Namespace, settings: Settings) -> int:
    applied, exported, problems = _session(store, settings).apply(args.series_id, args.repo, base=args.base, force=args.force)
    for note in exported.notes + problems:
        err(f"triage: {safe_line(note)}")
    out(f"applied {len(applied.commits)} commit(s) to {applied.branch} in {applied.repo}:")
    for sha, title in applied.commits:
        out(f"  {sha[:12]} {safe_line(title)}")
    return 0


def _cmd_todo(store: Store, args: argparse.Namespace, settings: Settings) -> int:
    session = _session(store, settings)
    items = session.todo(include_stale=args.all)
    if args.json:
        # The queue holds list rows; the JSON gives each series whole, as series --json does.
        full = [{**(session.index.full_row(i.row["id"]) or i.row), "reasons": i.reasons} for i in items]
        sys.stdout.write(json_safe(json.dumps(full, ensure_ascii=False)) + "\n")
        return 0
    for i in items:
        r = i.row
        out(f"{r['date'][:10]}  {r['state']:<17} v{r['version']:<3} {','.join(i.reasons):<28} {safe_line(r['title'])}")
    err(f"{len(items)} series need you")
    return 0


def _cmd_versions(store: Store, args: argparse.Namespace, settings: Settings) -> int:
    """Each version as the list links it, with its state there and the rule that linked it."""
    session = _session(store, settings)
    family = session.versions(args.series_id)
    wanted = args.series_id.strip().strip("<>")
    ids = {s.id for s, _ in family}
    for s, why in family:
        row = session.index.full_row(s.id) or {}
        state = str(row.get("state", s.state))
        mark = "*" if s.id == wanted or wanted in s.message_ids() else " "
        out(f"{mark} v{s.version:<3} {s.received}/{s.total:<3} {state:<17} <{s.id}>  {s.title}")
        for other, rule, via in why:
            if other in ids:
                out(f"        linked to <{other}>: {rule} (in <{via}>)")
        if row.get("current") and row.get("newer_versions"):
            out("        still current: its newer postings are parts of a split that do not yet hold most of its patches")
        for claim in row.get("claims") or ():
            verb = "claims to supersede" if claim.get("claims") == "supersedes" else "is claimed superseded by"
            out(f"        {verb} <{claim.get('id')}>: {claim.get('rule')} (not linked; accept with triage.accept_claim)")
    return 0


def _cmd_range_diff(store: Store, args: argparse.Namespace, settings: Settings) -> int:
    from triage.series.service import find_series
    from triage.take.service import compare_versions, previous_version

    session = _session(store, settings)
    newer = find_series(store, args.series_id, policy=session.policy)
    older = find_series(store, args.older, policy=session.policy) if args.older else previous_version(session.index, newer)
    if older is None:
        err(f"triage: {safe_line(newer.title)} v{newer.version} has no earlier version in the store")
        return 1
    out(f"range-diff v{older.version} -> v{newer.version}: {safe_line(newer.title)}")
    for line in compare_versions(store, older, newer):
        out(safe_line(line.text))
    return 0


def _say(text: str) -> None:
    err(f"triage: {safe_line(text)}")


def _cmd_fetch(store: Store, args: argparse.Namespace, settings: Settings) -> int:
    from triage.session import Session

    report = Session(store, settings).fetch(list(args.queries) or None, progress=_say)
    for r in report.results:
        out(f"{safe_line(r.query)}: {r.written} written to {r.folder}" + (f"; FAILED: {safe_line(r.error)}" if r.error else ""))
    out(report.counts())
    if report.indexing_error:
        err(f"triage: {report.indexing_error} (the mail is in the store; the next fetch or start indexes it)")
    return 1 if report.failed else 0


def _cmd_sync(store: Store, settings: Settings) -> int:
    from triage.session import Session

    session = Session(store, settings)
    report = session.sync(progress=_say)
    out(safe_line(report.outcome()))  # the conflicts follow, one line per series
    for line in session.conflict_lines(report):
        print(safe_line(line))
    for note in report.notes:
        out(f"note: {safe_line(note)}")
    for bad in report.skipped:
        out(f"skipped: {safe_line(bad)}")
    return 2 if report.conflicts else (0 if report.pushed else 1)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings = load_settings(Path(args.settings) if args.settings else None)
    for problem in settings.problems:
        err(f"triage: {safe_line(problem)}")
    try:
        if args.command == "demo":
            from triage.demo.build import demo_config

            out(str(demo_config(rebuild=args.rebuild)))
            return 0
        if args.command == "init" or (args.command == "import" and args.new):
            from triage.mail.setup import init_store

            root = args.dir if args.command == "init" else args.new
            config = init_store(root, name=getattr(args, "name", ""), email=getattr(args, "email", ""))
            out(f"made a notmuch store in {config.parent} (config {config})")
            out(f"use it with: triage --config {config}   (or: export NOTMUCH_CONFIG={config})")
            if args.command == "init":
                out(f"add mail with: triage --config {config} import FILE... (mbox, maildir, .eml; .xz too)")
                return 0
            args.config = str(config)
        store, note = _store(args, settings)
        if note:
            err(f"triage: {note}")
        if args.command == "series":
            return _cmd_series(store, args, settings)
        if args.command == "import":
            return _cmd_import(store, args)
        if args.command == "state":
            return _cmd_state(store, args, settings)
        if args.command == "undo":
            step = _session(store, settings).undo_last()
            if step is None:
                err("triage: nothing to undo")
                return 1
            out(f"undone: {step.label} ({len(step.changes)} messages)")
            return 0
        if args.command == "export":
            return _cmd_export(store, args, settings)
        if args.command == "apply":
            return _cmd_apply(store, args, settings)
        if args.command == "todo":
            return _cmd_todo(store, args, settings)
        if args.command == "versions":
            return _cmd_versions(store, args, settings)
        if args.command == "range-diff":
            return _cmd_range_diff(store, args, settings)
        if args.command == "fetch":
            return _cmd_fetch(store, args, settings)
        if args.command == "sync":
            return _cmd_sync(store, settings)
        if args.command == "merged":
            report = _session(store, settings).merged(args.repo, args.branch, args.since)
            out(report.summary())
            return 0
        return _run_app(store, settings)
    except (StoreError, UserError) as e:
        err(f"triage: {safe_line(str(e))}")
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # Output piped into `head` and the like: stop quietly, as git and notmuch do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


def _run_app(store: Store, settings: Settings) -> int:
    from triage.ui.app import run_app

    return run_app(store, settings)
