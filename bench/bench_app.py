"""App benchmarks, as ratios measured in one run.

1. diff: time to first paint of a 20,000-line patch / of a 200-line patch (goal <= 2);
2. start: time from start to the first painted series list on the linux-pwm list,
   cold (no index) and warm, against the same baselines as bench_series.py.

Usage: ``.venv/bin/python bench/bench_app.py [--repeat N] [--no-list]``
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from triage.config import Settings  # noqa: E402
from triage.mail.importer import import_paths  # noqa: E402
from triage.mail.store import Store, StoreConfig  # noqa: E402
from triage.ui.app import make_app  # noqa: E402
from triage.ui.keymaps import load_keymap  # noqa: E402


def _patch(lines: int) -> bytes:
    body = ["big change", "", "Signed-off-by: A <a@example.org>", "---"]
    files = max(1, lines // 500)
    for f in range(files):
        body += [f"diff --git a/f{f}.c b/f{f}.c", "index 1..2 100644", f"--- a/f{f}.c", f"+++ b/f{f}.c"]
        per = lines // files
        for h in range(0, per, 50):
            body.append(f"@@ -{h + 1},25 +{h + 1},25 @@")
            body += [f"-old line {f}.{h + i}" if i % 2 else f"+new line {f}.{h + i}" for i in range(50)]
    text = "\n".join(body) + "\n"
    return (
        f"From: A <a@example.org>\nTo: l@example.org\nSubject: [PATCH] change of {lines} lines\n"
        f"Date: Mon, 5 Jan 2026 {10 + (lines > 1000):02d}:00:00 +0000\nMessage-ID: <p{lines}@bench>\n\n{text}"
    ).encode()


def _store(root: Path) -> Store:
    import notmuch2

    mail = root / "mail"
    mail.mkdir(parents=True)
    cfg = root / "notmuch-config"
    cfg.write_text(f"[database]\npath={mail}\n")
    notmuch2.Database.create(str(mail), config=notmuch2.Database.CONFIG.EMPTY).close()
    store = Store(StoreConfig(config_path=str(cfg)))
    for lines in (200, 20000):
        f = root / f"p{lines}.eml"
        f.write_bytes(_patch(lines))
        import_paths(store, [f])
    return store


async def _first_paint(store: Store, message_id: str, repeat: int) -> list[float]:
    app = make_app(store, Settings(), load_keymap("default"))
    times: list[float] = []
    async with app.run_test(size=(160, 45)) as pilot:
        while app.opened is None or app.shown_message is None:
            await pilot.pause(0.01)
        viewer = app.query_one("#message")
        table = app.query_one("SeriesList")
        other = "p200@bench" if message_id != "p200@bench" else "p20000@bench"

        async def show(mid: str) -> float:
            t0 = time.perf_counter()
            table.move_cursor(row=table.get_row_index(mid))
            deadline = t0 + 60
            while app.shown_message != mid or viewer.rendered_document is not viewer.document:
                if time.perf_counter() > deadline:
                    raise SystemExit(f"bench: {mid} was never painted")
                await asyncio.sleep(0.001)
            return time.perf_counter() - t0

        for _ in range(repeat):
            await show(other)
            await app.workers.wait_for_complete()  # nothing of the other patch still running
            await pilot.pause()
            times.append(await show(message_id))
            await app.workers.wait_for_complete()
    return times


async def _start(store: Store) -> float:
    t0 = time.perf_counter()
    app = make_app(store, Settings(), load_keymap("default"))
    loaded = asyncio.Event()

    def hook(message: object) -> None:  # runs on the event loop, as each message is dispatched
        if type(message).__name__ == "SeriesLoaded":
            loaded.set()

    async with app.run_test(size=(160, 45), message_hook=hook) as pilot:
        table = app.query_one("SeriesList")
        # Wait for the list to arrive rather than polling: a 5 ms poll loop on the event loop
        # took the GIL from the index build it was timing. (Not for the load worker to end:
        # a first start shows the list before the index is written.)
        await loaded.wait()
        while table.row_count == 0:
            await pilot.pause(0.005)
        await pilot.pause()
        elapsed = time.perf_counter() - t0
        await app.workers.wait_for_complete()  # the index written before the next start reads it
        return elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--no-list", action="store_true", help="skip the linux-pwm start-up figures")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="triage-bench-app-"))
    os.environ["XDG_CACHE_HOME"] = str(tmp / "cache")
    try:
        store = _store(tmp / "diff")
        small = statistics.median(asyncio.run(_first_paint(store, "p200@bench", args.repeat)))
        big = statistics.median(asyncio.run(_first_paint(store, "p20000@bench", args.repeat)))
        print(f"diff first paint: 20,000 lines {big * 1000:.1f} ms / 200 lines {small * 1000:.1f} ms = ratio {big / small:.2f} (goal <= 2)")
        if args.no_list:
            return
        from corpus_db import stores

        full = stores()["full"]
        colds, warms, searches = [], [], []
        for _ in range(args.repeat):
            shutil.rmtree(tmp / "cache" / "triage", ignore_errors=True)
            colds.append(asyncio.run(_start(full)))
            warms.append(asyncio.run(_start(full)))
            t0 = time.perf_counter()
            subprocess.run(["notmuch", "search", "--format=json", "*"], stdout=subprocess.DEVNULL, check=True,
                           env=dict(os.environ, NOTMUCH_CONFIG=str(full.config.config_path)))
            searches.append(time.perf_counter() - t0)
        cold, warm, search = statistics.median(colds), statistics.median(warms), statistics.median(searches)
        print(f"app start to first painted list (linux-pwm, {full.count('*')} messages): cold {cold:.2f} s, warm {warm:.2f} s;"
              f" notmuch search --format=json '*' {search:.2f} s; warm/search = {warm / search:.2f}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
