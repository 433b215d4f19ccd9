"""Measure ``likeness.SIMILAR`` on the linux-pwm list: how alike renamed patches are, and
how alike one author's unrelated patches are.

Usage: ``.venv/bin/python bench/title_likeness.py``

Renamed (true pairs): a patch of a series and the patch of its previous version with
the same patch-id (the same diff) but another title. Unrelated (false pairs): titles of
one author's patches with the same folded prefix in series that are not versions of
each other (a sample). For each threshold it prints the share of true pairs found and
of false pairs taken. A share of patches, not one pair, decides a link.
"""

from __future__ import annotations

import random
import sys
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from corpus_db import stores  # noqa: E402

from triage.series.likeness import score  # noqa: E402
from triage.series.service import load_series  # noqa: E402


def main() -> None:
    store = stores()["full"]
    series = load_series(store)
    by = {s.id: s for s in series}
    true_scores: list[float] = []
    never = 0
    for s in series:
        if not s.previous_versions or s.previous_versions[-1] not in by:
            continue
        old = {p.message.facts.patch_id: p.message.parsed.normalized_title for p in by[s.previous_versions[-1]].patches}
        for p in s.patches:
            before = old.get(p.message.facts.patch_id)
            title = p.message.parsed.normalized_title
            if p.message.facts.patch_id and before and before != title:
                got = score(before, title)
                if got is None:
                    never += 1
                else:
                    true_scores.append(got)
    family = {s.id: frozenset([s.id, *s.previous_versions, *s.newer_versions]) for s in series}
    by_author: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for s in series:
        for p in s.patches:
            by_author[s.author_email.lower()].append((s.id, p.message.parsed.normalized_title))
    rng = random.Random(7)
    false_scores: list[float] = []
    for titles in by_author.values():
        if len(titles) < 2:
            continue
        for _ in range(min(400, len(titles) * 4)):
            (a_id, a), (b_id, b) = rng.sample(titles, 2)
            if a_id == b_id or b_id in family[a_id] or a == b:
                continue
            got = score(a, b)
            if got is not None:
                false_scores.append(got)
    print(f"renamed patches (same diff, new title): {len(true_scores) + never}, "
          f"of which {never} can never be alike (another prefix, or another word with a digit)")
    print(f"unrelated title pairs of one author that could be alike (sample): {len(false_scores)}")
    print("threshold  renamed found  unrelated taken")
    for t in (0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95):
        found = sum(x >= t for x in true_scores) / max(1, len(true_scores) + never)
        taken = sum(x >= t for x in false_scores) / max(1, len(false_scores))
        print(f"  {t:.2f}     {found:6.1%}         {taken:6.2%}")


if __name__ == "__main__":
    main()
