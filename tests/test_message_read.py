"""Reading messages for display never raises and never yields undecodable text."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import FIXTURES, needs_corpus
from triage.mail.importer import iter_sources
from triage.mail.message import read_message
from triage.ui.documents import message_document, patch_document, quick_patch_document


def test_raw_8bit_headers_are_decoded(tmp_path: Path) -> None:
    f = tmp_path / "m.eml"
    f.write_bytes(b"From: J\xc3\xb6rg <j@x.org>\nSubject: caf\xe9 [PATCH]\nMessage-ID: <a@b>\n\nbody\n")
    m = read_message("a@b", str(f))
    assert m.from_ == "Jörg <j@x.org>" and m.subject == "café [PATCH]"


def test_folded_headers_are_unfolded_as_rfc_5322_says(tmp_path: Path) -> None:
    """A line break and the white space after it are one space, not two (the viewer's title
    read "register  handling" for git send-email's folded subjects)."""
    f = tmp_path / "m.eml"
    f.write_bytes(b"From: A <a@x.org>\nSubject: [PATCH v3 1/2] pwm: loongson: Fix low pulse buffer register\n"
                  b" handling\nMessage-ID: <a@b>\n\nbody\n")
    m = read_message("a@b", str(f))
    assert m.subject == "[PATCH v3 1/2] pwm: loongson: Fix low pulse buffer register handling"
    f.write_bytes(b"From: A <a@x.org>\r\nSubject: =?utf-8?q?caf=C3=A9?=\r\n\t[PATCH]\r\nMessage-ID: <a@b>\r\n\r\nbody\r\n")
    assert read_message("a@b", str(f)).subject == "café\t[PATCH]"  # the word after an encoded word kept apart


def test_missing_file_is_a_problem_not_an_error(tmp_path: Path) -> None:
    m = read_message("gone@x", str(tmp_path / "nope"))
    assert m.problem and "cannot read" in m.problem


@needs_corpus
@pytest.mark.parametrize("corpus", ["patchwork/fuzz", "patchwork/mail", "alot", "public-inbox", "ruby-mail", "patchew"])
def test_hostile_corpora_render_as_encodable_text(tmp_path: Path, corpus: str) -> None:
    n = 0
    for i, (name, data) in enumerate(iter_sources(FIXTURES / corpus)):
        if data is None:
            continue
        f = tmp_path / f"{i}.eml"
        f.write_bytes(data)
        m = read_message("x", str(f))
        for doc in (message_document(m), patch_document(m), quick_patch_document(m)):
            for line in doc.lines:
                for seg in line:
                    seg.text.encode("utf-8")  # nothing a terminal cannot take
                    assert "\x1b" not in seg.text and "\x9b" not in seg.text, name
        n += 1
    assert n > 5
