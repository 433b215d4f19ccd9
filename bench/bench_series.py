"""Scale benchmark: ``triage series --json`` on the linux-pwm list, as ratios measured in one run.

Usage: ``.venv/bin/python bench/bench_series.py [--repeat N]``

Every figure is a ratio to a baseline timed in the same run (the machine is shared
and noisy), each the median of N interleaved runs of whole processes (but for the
refresh, timed in process):

1. cold: ``triage series --json`` with an empty cache / a plain notmuch2 walk of
   the same messages' id, subject, from, date and tags (the floor);
2. warm: the same with the cache / ``notmuch search --format=json '*'``;
3. incremental: after importing the list's last 200 messages, the refresh
   (``SeriesIndex.refresh()``, which brings the index up to date) / a cold build, both
   in process; the whole ``triage series --json`` command after the import / cold is
   printed beside it (start-up and the 7.5 MB answer are most of it; no goal);
4. scaling: cold seconds per message on the whole list / on its first quarter;
5. peak RSS of each process;
6. with ``--baseline DIR`` (a checkout of another commit, e.g. ``git worktree add /tmp/base
   HEAD~5``): cold ``series --json`` of this tree / of that one, interleaved, so that a
   change's cost is a ratio measured in one run (``TRIAGE_NO_DNS`` set for both).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from corpus_db import INCREMENT, list_messages, stores  # noqa: E402

from triage.mail.importer import import_paths  # noqa: E402
from triage.mail.store import Store  # noqa: E402

FLOOR = """
import sys, notmuch2
db = notmuch2.Database(config=sys.argv[1])
rows = []
for t in db.threads('*'):
    for m in t:
        try:
            s = m.header('subject')
        except LookupError:
            s = ''
        try:
            f = m.header('from')
        except LookupError:
            f = ''
        rows.append((m.messageid, s, f, m.date, frozenset(m.tags)))
print(len(rows))
"""


# A small launcher measures its child: a child forked straight from this (large)
# process would report this process's memory as its own peak.
LAUNCH = """
import resource, subprocess, sys, time
t0 = time.perf_counter()
rc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode
t = time.perf_counter() - t0
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
print(t, ru.ru_maxrss // 1024, ru.ru_utime + ru.ru_stime, rc)
"""


def measure(cmd: list[str], env: dict[str, str]) -> tuple[float, int, float]:
    """Wall seconds, peak RSS (MB) and CPU seconds of one process (with the processes it
    waited for: the body helper, the forked index writer)."""
    out = subprocess.run([sys.executable, "-c", LAUNCH, *cmd], env=env, capture_output=True, text=True)
    try:
        t, rss, cpu, rc = out.stdout.split()
    except ValueError:
        raise SystemExit(f"bench: {' '.join(cmd)} failed: {out.stderr}") from None
    if rc != "0":
        raise SystemExit(f"bench: {' '.join(cmd)} failed: {out.stderr}")
    return float(t), int(rss), float(cpu)


def run(cmd: list[str], env: dict[str, str]) -> tuple[float, int]:
    """Wall seconds and peak RSS (MB) of one process."""
    t, rss, _ = measure(cmd, env)
    return t, rss


class Bench:
    def __init__(self, repeat: int) -> None:
        self.repeat = repeat
        self.cache = Path(tempfile.mkdtemp(prefix="triage-bench-cache-"))
        self.env = dict(os.environ, XDG_CACHE_HOME=str(self.cache), XDG_STATE_HOME=str(self.cache / "state"))
        self.triage = [sys.executable, "-m", "triage"]

    def clear_cache(self) -> None:
        shutil.rmtree(self.cache / "triage", ignore_errors=True)

    def floor(self, store: Store) -> tuple[float, int]:
        return run([sys.executable, "-c", FLOOR, str(store.config.config_path)], self.env)

    def series(self, store: Store, *, cold: bool, code: Path | None = None) -> tuple[float, int]:
        if cold:
            self.clear_cache()
        env = dict(self.env, TRIAGE_NO_DNS="1")  # the machine's own DNS never times a run
        if code is not None:
            env["PYTHONPATH"] = str(code)
        return run([*self.triage, "--config", str(store.config.config_path), "series", "--json"], env)

    def notmuch_search(self, store: Store) -> tuple[float, int]:
        env = dict(self.env, NOTMUCH_CONFIG=str(store.config.config_path))
        return run(["notmuch", "search", "--format=json", "*"], env)

    def median(self, fns: dict[str, callable]) -> dict[str, tuple[float, int]]:
        """Interleave the measured commands so that load changes hit them alike."""
        times: dict[str, list[float]] = {k: [] for k in fns}
        rss: dict[str, int] = dict.fromkeys(fns, 0)
        for _ in range(self.repeat):
            for k, fn in fns.items():
                t, r = fn()
                times[k].append(t)
                rss[k] = max(rss[k], r)
        return {k: (statistics.median(v), rss[k]) for k, v in times.items()}


def incremental_in_process(bench: Bench, store: Store) -> tuple[float, float]:
    """The refresh itself, without interpreter start-up and output: in-process refresh / in-process cold build."""
    from triage.cache.index import SeriesIndex

    msgs = list_messages()[-INCREMENT:]
    src = bench.cache / "increment-ip.mbox"
    src.write_bytes(b"".join(b"From bench@z Thu Jan  1 00:00:00 1970\n" + m.replace(b"\nFrom ", b"\n>From ") + b"\n\n" for m in msgs))
    refreshes, colds = [], []
    for _ in range(bench.repeat):
        path = bench.cache / "ip-index.sqlite"
        path.unlink(missing_ok=True)
        index = SeriesIndex(store, path=path)
        index.refresh()
        report = import_paths(store, [src])
        refreshes.append(index.refresh().seconds)
        path.unlink(missing_ok=True)
        colds.append(SeriesIndex(store, path=path).refresh().seconds)
        with store.write() as db:
            for mid in report.added_ids:
                p = str(db.find(mid).path)
                db.remove(p)
                Path(p).unlink()
    return statistics.median(refreshes), statistics.median(colds)


def incremental(bench: Bench, store: Store) -> tuple[float, float, float, int]:
    """Import the list's last messages into the list-less-its-tail store, time the refresh, undo the import."""
    msgs = list_messages()[-INCREMENT:]
    src = bench.cache / "increment.mbox"
    src.write_bytes(b"".join(b"From bench@z Thu Jan  1 00:00:00 1970\n" + m.replace(b"\nFrom ", b"\n>From ") + b"\n\n" for m in msgs))
    refreshes: list[float] = []
    colds: list[float] = []
    rss = 0
    added = 0
    for _ in range(bench.repeat):
        bench.series(store, cold=True)  # index of the store without the increment
        report = import_paths(store, [src])
        added = report.added
        t_inc, r_inc = bench.series(store, cold=False)
        t_cold, _ = bench.series(store, cold=True)
        refreshes.append(t_inc)
        colds.append(t_cold)
        rss = max(rss, r_inc)
        with store.write() as db:
            for mid in report.added_ids:
                path = str(db.find(mid).path)
                db.remove(path)
                Path(path).unlink()
    return statistics.median(refreshes), statistics.median(colds), added, rss


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--only", choices=("cold", "warm", "incremental", "scaling", "baseline"), help="measure one figure")
    ap.add_argument("--baseline", type=Path, help="a checkout of another commit: cold series --json against it")
    args = ap.parse_args()
    st = stores()
    bench = Bench(args.repeat)
    full, quarter = st["full"], st["quarter"]
    n_full, n_quarter = full.count("*"), quarter.count("*")

    def want(name: str) -> bool:
        return args.only in (None, name)

    def row(name: str, t: float, base_name: str, base: float, ratio: float, goal: str, rss: int | None) -> None:
        mem = f"peak RSS {rss:4d} MB" if rss is not None else "(in process)"
        print(f"{name:<12} {t:7.3f}s  {base_name:<22} {base:7.3f}s  ratio {ratio:6.3f}  goal {goal:<7} {mem}")

    print(f"linux-pwm list: {n_full} messages (quarter: {n_quarter}); median of {args.repeat} interleaved runs")
    if want("cold"):
        cold = bench.median({"floor": lambda: bench.floor(full), "cold": lambda: bench.series(full, cold=True)})
        row("cold", cold["cold"][0], "notmuch2 walk (floor)", cold["floor"][0], cold["cold"][0] / cold["floor"][0], "<= 1.5", cold["cold"][1])
        print(f"floor peak RSS {cold['floor'][1]} MB")
    if want("warm"):
        bench.series(full, cold=True)
        warm = bench.median({"search": lambda: bench.notmuch_search(full), "warm": lambda: bench.series(full, cold=False)})
        row("warm", warm["warm"][0], "notmuch search json", warm["search"][0], warm["warm"][0] / warm["search"][0], "<= 0.3", warm["warm"][1])
        print(f"notmuch search peak RSS {warm['search'][1]} MB")
    if want("incremental"):
        t_inc, t_inc_cold, added, rss_inc = incremental(bench, st["full-inc"])
        ip_inc, ip_cold = incremental_in_process(bench, st["full-inc"])
        row("incremental", ip_inc, "in-process cold", ip_cold, ip_inc / ip_cold, "<= 0.05", None)
        row("  command", t_inc, f"cold (+{added} msgs)", t_inc_cold, t_inc / t_inc_cold, "(none)", rss_inc)
    if want("scaling"):
        scale = bench.median({"quarter": lambda: bench.series(quarter, cold=True), "full": lambda: bench.series(full, cold=True)})
        per_full = scale["full"][0] / n_full
        per_quarter = scale["quarter"][0] / n_quarter
        print(
            f"scaling      {per_full * 1e6:7.1f}us/msg whole list vs {per_quarter * 1e6:7.1f}us/msg quarter"
            f"  ratio {per_full / per_quarter:6.3f}  goal <= 1.2   peak RSS {scale['full'][1]} MB / {scale['quarter'][1]} MB (goal < 250)"
        )
    if args.baseline is not None and want("baseline"):
        import compileall

        compileall.compile_dir(args.baseline / "triage", quiet=1)
        ab = bench.median({"base": lambda: bench.series(full, cold=True, code=args.baseline.resolve()),
                           "this": lambda: bench.series(full, cold=True, code=HERE.parent)})
        row("vs baseline", ab["this"][0], f"cold at {args.baseline.name}", ab["base"][0], ab["this"][0] / ab["base"][0],
            "<= 1.05", ab["this"][1])
        print(f"baseline peak RSS {ab['base'][1]} MB")
    shutil.rmtree(bench.cache, ignore_errors=True)


if __name__ == "__main__":
    main()
