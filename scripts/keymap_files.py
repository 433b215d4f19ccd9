"""Write the shipped keymap files from the binding table, keeping each file's own keys.

Run ``.venv/bin/python scripts/keymap_files.py`` after adding or moving a binding: every
id is listed under its scope, with the file's keys where it has them (the default file
takes the table's), so no file misses an id (a test checks it).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from triage.ui.bindings import ACTIONS, SCOPES  # noqa: E402

KEYMAPS = Path(__file__).resolve().parents[1] / "keymaps"
TITLES = {
    "default": "mutt/less-like (the built-in default)",
    "vim": "vim-like",
    "emacs": "emacs-like",
}
WHERE = {
    "app": "works everywhere",
    "main": "the main screen, whichever pane has focus",
    "list": "while the series list has focus (the series' states are set here, never while reading)",
    "patches": "while the patch list has focus",
    "viewer": "while the message view or the follow-ups have focus",
    "comment": "while the comment editor is open",
    "composer": "while the reply composer is open",
    "batch": "while a series' replies are previewed to be sent together",
}
_LINE_RE = re.compile(r'^"([^"]+)"\s*=\s*"([^"]*)"')


def write(name: str, overrides: dict[str, str]) -> None:
    path = KEYMAPS / f"{name}.toml"
    own = {}
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            m = _LINE_RE.match(line)
            if m:
                own[m[1]] = m[2]
    own.update(overrides)
    out = [f"# triage keymap: {TITLES[name]}", "# binding id = Textual key names, comma separated. See README.md, 'Keys'.",
           "", "[bindings]"]
    for scope in SCOPES:
        out += ["", f"# {scope} scope: {WHERE[scope]}"]
        for a in ACTIONS:
            if a.scope == scope:
                keys = a.keys if name == "default" else own.get(a.id, a.keys)
                out.append(f'"{a.id}" = "{keys}"  # {a.description}')
    path.write_text("\n".join(out) + "\n", encoding="utf-8")


if __name__ == "__main__":
    write("default", {})
    write("vim", {"triage.state.changes-requested": "C"})
    write("emacs", {"triage.state.changes-requested": "C", "triage.send_series": "alt+s"})
