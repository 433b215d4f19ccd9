"""Scale: a store of ten renamed copies of linux-pwm against linux-pwm itself, in one run.

Usage: ``.venv/bin/python bench/bench_scale.py [--repeat N] [--cold-repeat N] [--copies 10]``

The stores are built once by ``bench/scale_db.py`` (``bench/.data/x1``, ``x10``; see
there how copies are renamed so nothing links across them). Each figure is the median
of N interleaved runs of whole processes, printed as a ratio to a baseline timed in
the same run (the machine is shared and noisy):

1. cold ``triage series --json`` (empty cache), seconds per message: 10x / 1x (goal <= 1.1),
   and its peak RSS: 10x / 1x (goal <= 1.3); at 1x against the notmuch2 header walk (goal <= 1.3);
2. warm ``triage series --json`` / ``notmuch search --format=json '*'``, at 10x (goal <= 0.3);
3. the app's warm start to a painted series list (headless, 200x50): 10x / 1x (goal <= 1.5);
4. scrolling that list to its end (the End key until the last row is painted): 10x / 1x;
5. the app's peak RSS at 10x (goal < 300 MB);
6. the app's first start on a store with no index (a first build): time to the first rows
   on screen (goal <= 5 s at 10x), how many, the slowest answer to a key pressed while
   the rest is built, the time to the end of the build and the app's peak RSS.
"""

from __future__ import annotations

import argparse
import json
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

from bench_series import FLOOR, run  # noqa: E402
from corpus_db import compile_triage  # noqa: E402
from scale_db import build  # noqa: E402

# One app start in its own process (its RSS is its own): warm start to the painted list,
# then End until the last row is painted. Prints JSON.
APP = r"""
import time
t0 = time.perf_counter()
import asyncio, json, resource, sys
from triage.config import Settings
from triage.mail.store import Store, StoreConfig
from triage.ui.app import make_app
from triage.ui.keymaps import load_keymap

async def main():
    store = Store(StoreConfig(config_path=sys.argv[1]))
    app = make_app(store, Settings(), load_keymap("default"))
    loaded = asyncio.Event()

    def hook(message):
        if type(message).__name__ == "SeriesLoaded":
            loaded.set()

    async with app.run_test(size=(200, 50), message_hook=hook) as pilot:
        table = app.query_one("SeriesList")
        await loaded.wait()
        while table.row_count == 0:
            await pilot.pause(0.005)
        await pilot.pause()
        paint = time.perf_counter() - t0
        await app.workers.wait_for_complete()
        await pilot.pause()
        table.focus()
        last = table.row_count - 1
        t1 = time.perf_counter()
        await pilot.press("end")
        while table.cursor != last:
            await pilot.pause(0.001)
        await pilot.pause()
        end = time.perf_counter() - t1
        rows = table.row_count
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(json.dumps({"paint": paint, "end": end, "rss": rss, "rows": rows}))

asyncio.run(main())
"""


# A first start (no index): the first rows on screen, keys answered while the rest is
# built, the end of the build. Prints JSON.
APP_COLD = r"""
import time
t0 = time.perf_counter()
import asyncio, json, resource, sys
from textual import events
from triage.config import Settings
from triage.mail.store import Store, StoreConfig
from triage.ui.app import make_app
from triage.ui.keymaps import load_keymap

async def main():
    store = Store(StoreConfig(config_path=sys.argv[1]))
    app = make_app(store, Settings(), load_keymap("default"))
    async with app.run_test(size=(200, 50)) as pilot:
        table = app.query_one("SeriesList")
        while table.row_count == 0:
            await asyncio.sleep(0.01)
        first = time.perf_counter() - t0
        first_rows = table.row_count
        table.focus()
        keys = []
        building = [w for w in app.workers if w.group == "load" and not w.is_finished]
        # Down every 0.1 s while the rest is built, each timed until the cursor is there. The
        # key goes in as a terminal's would: Pilot's press waits for the process to be idle
        # (up to a second, twice), which a build in a worker never is.
        while any(not w.is_finished for w in building):
            want = min(table.cursor + 1, table.row_count - 1)
            key = events.Key("down", None)
            key.set_sender(app)
            t1 = time.perf_counter()
            app._driver.send_message(key)
            while table.cursor != want and time.perf_counter() - t1 < 10:
                await asyncio.sleep(0.001)
            keys.append(time.perf_counter() - t1)
            await asyncio.sleep(0.1)
        while any(w.is_running for w in app.workers):  # an open the cursor moved past is cancelled
            await asyncio.sleep(0.02)
        done = time.perf_counter() - t0
        rows = table.row_count
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(json.dumps({"first": first, "first_rows": first_rows, "keys": keys, "done": done, "rows": rows, "rss": rss}))

asyncio.run(main())
"""


def app_start(config: Path, env: dict[str, str], script: str = APP) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-c", script, str(config)], env=env, capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"bench: the app failed on {config}: {out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--cold-repeat", type=int, default=3)
    ap.add_argument("--copies", type=int, default=10)
    ap.add_argument("--only-app", action="store_true", help="only the app's figures (3-5)")
    ap.add_argument("--only-cold-app", action="store_true", help="only the first start's figures (6)")
    ap.add_argument("--only-cold", action="store_true", help="only the cold build's figures (1)")
    args = ap.parse_args()
    compile_triage()
    stores = {1: build(1), args.copies: build(args.copies)}
    counts = {k: s.count("*") for k, s in stores.items()}
    big = args.copies
    tmp = Path(tempfile.mkdtemp(prefix="triage-bench-scale-"))
    triage = [sys.executable, "-m", "triage"]
    envs = {k: dict(os.environ, XDG_CACHE_HOME=str(tmp / f"cache{k}"), XDG_STATE_HOME=str(tmp / f"state{k}"),
                    XDG_CONFIG_HOME=str(tmp / "config"), NOTMUCH_CONFIG=str(s.config.config_path))
            for k, s in stores.items()}

    def series(k: int) -> tuple[float, int]:
        return run([*triage, "--config", str(stores[k].config.config_path), "series", "--json"], envs[k])

    try:
        print(f"stores: 1x {counts[1]} messages, {big}x {counts[big]} messages", flush=True)
        if args.only_app:
            for k in (1, big):
                series(k)  # an index for a warm start
            app_figures(stores, envs, big, args.repeat)
            return
        if not args.only_cold_app:
            cold_figures(stores, envs, counts, big, tmp, args.cold_repeat, series)
        if args.only_cold:
            return
        cold_app_figures(stores, envs, big, tmp, args.cold_repeat)
        if args.only_cold_app:
            return

        warm: dict[int, list[float]] = {1: [], big: []}
        search: dict[int, list[float]] = {1: [], big: []}
        for _ in range(args.repeat):
            for k in (1, big):
                warm[k].append(series(k)[0])
                search[k].append(run(["notmuch", "search", "--format=json", "*"], envs[k])[0])
        w = {k: statistics.median(v) for k, v in warm.items()}
        s = {k: statistics.median(v) for k, v in search.items()}
        print(f"2. warm series --json / notmuch search: 1x {w[1]:.2f} / {s[1]:.2f} s = {w[1] / s[1]:.2f};"
              f" {big}x {w[big]:.2f} / {s[big]:.2f} s = {w[big] / s[big]:.3f} (goal <= 0.3)", flush=True)

        app_figures(stores, envs, big, args.repeat)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def cold_figures(stores: dict, envs: dict, counts: dict, big: int, tmp: Path, repeat: int, series) -> None:
    """Figure 1: cold builds at 1x and 10x and the notmuch2 header walk at 1x, interleaved."""
    cold: dict[int, list[float]] = {1: [], big: []}
    cold_rss: dict[int, list[int]] = {1: [], big: []}
    floor: list[float] = []
    floor_cmd = [sys.executable, "-c", FLOOR, str(stores[1].config.config_path)]
    for _ in range(repeat):
        for k in (1, big):
            shutil.rmtree(tmp / f"cache{k}", ignore_errors=True)
            t, rss = series(k)
            cold[k].append(t / counts[k])
            cold_rss[k].append(rss)
            if k == 1:
                floor.append(run(floor_cmd, envs[1])[0])
    per = {k: statistics.median(v) for k, v in cold.items()}
    rss = {k: statistics.median(v) for k, v in cold_rss.items()}
    walk = statistics.median(floor)
    print(f"1. cold series --json per message: 1x {per[1] * 1e6:.0f} us, {big}x {per[big] * 1e6:.0f} us;"
          f" ratio {per[big] / per[1]:.2f} (goal <= 1.1)\n"
          f"   peak RSS: 1x {rss[1]:.0f} MB, {big}x {rss[big]:.0f} MB; ratio {rss[big] / rss[1]:.2f} (goal <= 1.3)\n"
          f"   1x against the notmuch2 header walk: {per[1] * counts[1]:.2f} / {walk:.2f} s ="
          f" {per[1] * counts[1] / walk:.2f} (goal <= 1.3)", flush=True)


def cold_app_figures(stores: dict, envs: dict, big: int, tmp: Path, repeat: int) -> None:
    """Figure 6: the app's first start, no index, 1x and 10x interleaved."""
    runs: dict[int, list[dict]] = {1: [], big: []}
    for _ in range(repeat):
        for k in (1, big):
            shutil.rmtree(tmp / f"cache{k}", ignore_errors=True)
            runs[k].append(app_start(stores[k].config.config_path, dict(envs[k], TRIAGE_NO_DNS="1"), APP_COLD))
    for k in (1, big):
        v = runs[k]
        keys = sorted(x for r in v for x in r["keys"])
        p90 = keys[int(len(keys) * 0.9)] if keys else 0
        print(f"6. {k}x first start: first rows {statistics.median(r['first'] for r in v):.2f} s"
              f" ({statistics.median(r['first_rows'] for r in v):.0f} rows{', goal <= 5 s' if k == big else ''}),"
              f" keys while building: {len(keys)}, 90% within {p90 * 1000:.0f} ms, slowest"
              f" {max(keys, default=0) * 1000:.0f} ms,"
              f" built {statistics.median(r['done'] for r in v):.1f} s ({v[0]['rows']} rows),"
              f" peak RSS {max(r['rss'] for r in v)} MB", flush=True)


def app_figures(stores: dict, envs: dict, big: int, repeat: int) -> None:
    """Figures 3-5: whole app processes, 1x and 10x interleaved."""
    runs: dict[int, list[dict[str, float]]] = {1: [], big: []}
    for _ in range(repeat):
        for k in (1, big):
            runs[k].append(app_start(stores[k].config.config_path, envs[k]))
    paint = {k: statistics.median(r["paint"] for r in v) for k, v in runs.items()}
    end = {k: statistics.median(r["end"] for r in v) for k, v in runs.items()}
    rss = {k: max(r["rss"] for r in v) for k, v in runs.items()}
    rows = {k: v[0]["rows"] for k, v in runs.items()}
    print(f"3. app warm start to painted list: 1x {paint[1]:.2f} s ({rows[1]} rows), {big}x {paint[big]:.2f} s"
          f" ({rows[big]} rows); ratio {paint[big] / paint[1]:.2f} (goal <= 1.5)")
    print(f"4. scrolling to the end: 1x {end[1] * 1000:.0f} ms, {big}x {end[big] * 1000:.0f} ms;"
          f" ratio {end[big] / end[1]:.2f}")
    print(f"5. app peak RSS: 1x {rss[1]} MB, {big}x {rss[big]} MB (goal < 300 MB)")


if __name__ == "__main__":
    main()
