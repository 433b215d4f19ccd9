"""Print the README's key table from the binding table and the shipped keymaps.

Run ``.venv/bin/python scripts/keys_table.py`` after changing a binding and paste
the output between the KEYS markers in README.md (a test checks they agree).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from triage.ui.bindings import ACTIONS  # noqa: E402
from triage.ui.keymaps import read_keymap_file, shipped_keymaps  # noqa: E402
from triage.ui.screens.help import SCOPE_TITLES  # noqa: E402


def _keys(keys: str) -> str:
    return ", ".join(f"`{k.strip()}`" for k in keys.split(","))


def table() -> str:
    maps = {name: read_keymap_file(path)[0] for name, path in sorted(shipped_keymaps().items())}
    names = ["default", *[n for n in maps if n != "default"]]
    head = "| binding id | action | where | " + " | ".join(names) + " |"
    rows = [head, "|" + "---|" * (3 + len(names))]
    for a in ACTIONS:
        cells = [f"`{a.id}`", a.description, SCOPE_TITLES[a.scope], *(_keys(maps[n].get(a.id, a.keys)) for n in names)]
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(table())
