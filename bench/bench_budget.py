"""Where a cold build's time goes, and the least wall time this machine's cores allow it.

Usage: ``.venv/bin/python bench/bench_budget.py [--repeat N]``

The cold build (``triage series --json`` with an empty cache) runs in several processes: the
command, the body helper and the forked index writer. However the work is spread, it cannot
end before its CPU time divided by the cores. This prints, on linux-pwm (medians of N
interleaved runs, whole processes):

1. the floor (the notmuch2 header walk of ``bench_series.py``) and the cold command: wall
   seconds and CPU seconds (the command's: all its processes, each waited for);
2. the parts of the cold build, each alone in a process of its own, in CPU seconds: libnotmuch
   building every thread (the floor's own work), the walk that copies every message's fields
   out of them, the trailer query, and the body facts of the messages the helper reads, with
   their patch-ids; what is left of the command's CPU is grouping, the series JSON, the index,
   the answer and the processes' start-up;
3. the least wall time the command's CPU allows on this machine's cores, as a ratio to the
   floor, beside the goal.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from bench_series import FLOOR, Bench, measure  # noqa: E402
from corpus_db import compile_triage, stores  # noqa: E402

# The parts, one after the other in one process, each timed in CPU seconds of this process.
PARTS = r"""
import gc, json, resource, sys
gc.disable()  # as the build has it
from triage.mail.store import Store, StoreConfig
from triage.mail.walk import thread_records
from triage.mail.rawwalk import message_ids
from triage.series.facts import body_patch_id
from triage.series.facts_reader import TRAILER_QUERY, _is_reply, _read_items

def cpu():
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime

class Sink:
    def __init__(self):
        self.items = []
    def submit(self, mid, path, subject):
        self.items.append((mid, path, subject))

out = {}
store = Store(StoreConfig(config_path=sys.argv[1]))
with store.read() as db:
    t = cpu()
    for _ in db.threads("*"):
        pass
    out["threads"] = cpu() - t
    sink = Sink()
    t = cpu()
    n = sum(len(rs) for rs in thread_records(db.threads("*"), sink, None))
    out["walk"] = cpu() - t
    t = cpu()
    trailer_ids = message_ids(db, TRAILER_QUERY)
    out["trailer query"] = cpu() - t
t = cpu()
items = [(mid, path, _is_reply(subject)) for mid, path, subject in sink.items]
later = []
read = _read_items(items, trailer_ids, later)
pids = {mid: body_patch_id(text) for mid, text in later}
out["bodies"] = cpu() - t
out["messages"], out["bodies read"] = n, len(read)
print(json.dumps(out))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--goal", type=float, default=1.3, help="the goal: cold <= GOAL x the floor")
    args = ap.parse_args()
    compile_triage()
    full = stores()["full"]
    config = str(full.config.config_path)
    bench = Bench(args.repeat)
    cold_env = dict(bench.env, TRIAGE_NO_DNS="1")
    runs: dict[str, list[tuple[float, int, float]]] = {"floor": [], "cold": []}
    parts: list[dict[str, float]] = []
    for _ in range(args.repeat):
        runs["floor"].append(measure([sys.executable, "-c", FLOOR, config], bench.env))
        bench.clear_cache()
        runs["cold"].append(measure([*bench.triage, "--config", config, "series", "--json"], cold_env))
        got = subprocess.run([sys.executable, "-c", PARTS, config], env=bench.env, capture_output=True, text=True)
        if got.returncode != 0:
            raise SystemExit(f"bench: the parts failed: {got.stderr}")
        parts.append(json.loads(got.stdout))

    def med(k: str, i: int) -> float:
        return statistics.median(r[i] for r in runs[k])

    def part(k: str) -> float:
        return statistics.median(p[k] for p in parts)

    cores = len(os.sched_getaffinity(0))
    floor, cold, cold_cpu = med("floor", 0), med("cold", 0), med("cold", 2)
    print(f"linux-pwm: {int(parts[0]['messages'])} messages, {int(parts[0]['bodies read'])} bodies read;"
          f" medians of {args.repeat} interleaved runs; {cores} cores")
    print(f"floor (notmuch2 header walk)     wall {floor:6.3f} s   CPU {med('floor', 2):6.3f} s")
    print(f"cold series --json               wall {cold:6.3f} s   CPU {cold_cpu:6.3f} s (all its processes)"
          f"   ratio {cold / floor:5.2f}")
    print("its parts, each alone (CPU s):")
    named = [("threads", "libnotmuch building every thread (the floor's own work)"),
             ("walk", "the walk: threads, and each message's fields and file"),
             ("trailer query", "the trailer query (replies that can hold a trailer)"),
             ("bodies", "body facts and patch-ids")]
    for k, what in named:
        print(f"  {part(k):6.3f}  {what}")
    measured = part("walk") + part("trailer query") + part("bodies")
    print(f"  {cold_cpu - measured:6.3f}  the rest (by difference): grouping, series JSON, index, answer, start-ups")
    bound = cold_cpu / cores
    print(f"least wall time on {cores} cores: CPU / cores = {bound:.3f} s = {bound / floor:.2f}x the floor")
    budget = args.goal * floor * cores
    print(f"the goal ({args.goal}x the floor = {args.goal * floor:.3f} s) gives {budget:.3f} CPU s on {cores} cores;"
          f" walk, trailer query and bodies alone use {measured:.3f} ({measured / budget:.0%})")


if __name__ == "__main__":
    main()
