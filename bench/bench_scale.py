"""Scale: a store of ten renamed copies of linux-pwm against linux-pwm itself, in one run.

Usage: ``.venv/bin/python bench/bench_scale.py [--repeat N] [--cold-repeat N] [--copies 10]``

The stores are built once by ``bench/scale_db.py`` (``bench/.data/x1``, ``x10``; see
there how copies are renamed so nothing links across them). Each figure is the median
of N interleaved runs of whole processes, printed as a ratio to a baseline timed in
the same run (the machine is shared and noisy):

1. cold ``triage series --json`` (empty cache), seconds per message: 10x / 1x (goal <= 1.2);
2. warm ``triage series --json`` / ``notmuch search --format=json '*'``, at 10x (goal <= 0.3);
3. the app's warm start to a painted series list (headless, 200x50): 10x / 1x (goal <= 1.5);
4. scrolling that list to its end (the End key until the last row is painted): 10x / 1x;
5. the app's peak RSS at 10x (goal < 300 MB).
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

from bench_series import run  # noqa: E402
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


def app_start(config: Path, env: dict[str, str]) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-c", APP, str(config)], env=env, capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"bench: the app failed on {config}: {out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--cold-repeat", type=int, default=3)
    ap.add_argument("--copies", type=int, default=10)
    ap.add_argument("--only-app", action="store_true", help="only the app's figures (3-5)")
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
        cold: dict[int, list[float]] = {1: [], big: []}
        cold_rss: dict[int, int] = {1: 0, big: 0}
        for _ in range(args.cold_repeat):
            for k in (1, big):
                shutil.rmtree(tmp / f"cache{k}", ignore_errors=True)
                t, rss = series(k)
                cold[k].append(t / counts[k])
                cold_rss[k] = max(cold_rss[k], rss)
        per = {k: statistics.median(v) for k, v in cold.items()}
        print(f"1. cold series --json per message: 1x {per[1] * 1e6:.0f} us, {big}x {per[big] * 1e6:.0f} us;"
              f" ratio {per[big] / per[1]:.2f} (goal <= 1.2); peak RSS 1x {cold_rss[1]} MB, {big}x {cold_rss[big]} MB",
              flush=True)

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
