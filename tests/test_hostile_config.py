"""Hostile or mistaken configs are reported with file and line, and the defaults apply (issue 13, class 16)."""

from __future__ import annotations

import time
from pathlib import Path

from triage.config import load_settings
from triage.ui.keymaps import read_keymap_file


def _load(tmp_path: Path, text: str):
    f = tmp_path / "config.toml"
    f.write_text(text)
    return f, load_settings(f)


def test_an_unknown_key_is_named_with_its_likely_meaning_and_line(tmp_path: Path) -> None:
    f, s = _load(tmp_path, '[send]\nmethod = "smtp"\n[send.smtp]\nhots = "mail.example.org"\nport = 25\n')
    assert any(p.startswith(f"{f}:4: unknown key send.smtp.hots (did you mean 'host'?)") for p in s.problems), s.problems
    assert s.send.method is None  # [send] uses its defaults: nothing is sent to the wrong host
    f, s = _load(tmp_path, '[exprot]\nsignoff = true\n')
    assert any(p.startswith(f"{f}:1: unknown key exprot (did you mean 'export'?)") for p in s.problems), s.problems


def test_a_bad_table_keeps_the_good_ones(tmp_path: Path) -> None:
    f, s = _load(tmp_path, '[identity]\nname = "M"\nemail = "m@x.org"\n[export]\nsignoff = "yes"\n')
    assert s.identity_email == "m@x.org" and s.export_signoff is False
    assert any(p.startswith(f"{f}:5: export.signoff") for p in s.problems), s.problems


def test_deeply_nested_values_are_refused(tmp_path: Path) -> None:
    f, s = _load(tmp_path, "x = " + "[" * 100_000 + "]" * 100_000 + "\n")
    assert s.problems and s.tag_prefix == "triage/"
    f, s = _load(tmp_path, "[export]\nlink = " + "[" * 50 + "]" * 50 + "\n")
    assert any("export.link" in p for p in s.problems) and s.export_link == "https://lore.kernel.org/r/{msgid}"


def test_link_templates_with_other_fields_are_refused(tmp_path: Path) -> None:
    for link in ("{msgid.nope}", "{msgid:>300000000}", "{msgid!r}", "https://x/{0}", "https://x/{msgid}{other}"):
        f, s = _load(tmp_path, f'[export]\nlink = "{link}"\n')
        assert any(p.startswith(f"{f}:2: export.link") for p in s.problems), (link, s.problems)
        assert s.export_link == "https://lore.kernel.org/r/{msgid}"
    f, s = _load(tmp_path, '[export]\nlink = ""\n')
    assert not s.problems and s.export_link is None


def test_wrong_values_say_what_is_wanted(tmp_path: Path) -> None:
    f, s = _load(tmp_path, '[send]\nmethod = "smtp"\n[send.smtp]\nport = 700000\n')
    assert any(p.startswith(f"{f}:4: send.smtp.port") and "<= 65535" in p for p in s.problems), s.problems
    f, s = _load(tmp_path, '[reply]\nstate_after_review = "merged"\n')
    assert any("reply.state_after_review must be one of" in p for p in s.problems), s.problems


def test_an_oversized_config_is_not_read(tmp_path: Path) -> None:
    f, s = _load(tmp_path, "# filler\n" * 100_000)
    assert any("not a settings file" in p for p in s.problems)


def test_a_keymap_with_300000_ids_is_refused_quickly(tmp_path: Path) -> None:
    f = tmp_path / "keymap.toml"
    f.write_text("[bindings]\n" + "".join(f'"x.{i}" = "a"\n' for i in range(300_000)))
    t0 = time.monotonic()
    table, problems = read_keymap_file(f)
    assert table == {} and problems and problems[0].startswith(f"{f}:1:")
    assert time.monotonic() - t0 < 5
    small = tmp_path / "many.toml"
    small.write_text("[bindings]\n" + "".join(f'"x.{i}" = "a"\n' for i in range(2000)))
    table, problems = read_keymap_file(small)
    assert table == {} and "binding ids, more than" in problems[0]
