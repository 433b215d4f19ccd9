"""b4's trailer fixtures give the trailers b4 expects (its ``-ref-defaults`` and ``.verify`` outputs).

b4's outputs also carry the test user's own Signed-off-by ("Test Override"), which b4
adds when applying; triage reports what the mail carries, so that line is left out
of the comparison.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, needs_corpus
from triage.mail.importer import split_mbox
from triage.mail.parse import body_text, header_text, parse_bytes
from triage.model.subject import parse_subject
from triage.series.trailers import patch_trailers

B4 = FIXTURES / "b4"
B4_USER = "test-override@example.com"
DEFAULT_REFS = sorted(p.name for p in B4.glob("trailers-*-ref-defaults.txt")) if B4.is_dir() else []
VERIFY = ["trailers-thread-with-followups.verify", "trailers-thread-with-cover-followup.verify"]


def _expected_from_ref(path: Path) -> dict[str, list[str]]:
    """title -> trailer lines, from b4's expected am-ready mbox."""
    out: dict[str, list[str]] = {}
    for raw in split_mbox(path.read_bytes()):
        msg = parse_bytes(raw)
        title = parse_subject(header_text(msg, "Subject")).title
        out[title] = [f"{t.name}: {t.value}" for t in patch_trailers(body_text(msg).text)]
    return out


def _expected_from_verify(path: Path) -> dict[str, list[str]]:
    """title -> trailer lines, from b4's ``git log`` style verify file."""
    out: dict[str, list[str]] = {}
    for block in path.read_text().split("\n---\n"):
        lines = block.strip("\n").split("\n")
        if len(lines) < 2:
            continue
        title = lines[1]
        body = "\n".join(lines[2:])
        out[title] = [f"{t.name}: {t.value}" for t in patch_trailers(body)]
    return out


def _mbox_for(name: str) -> Path:
    stem = re.sub(r"(-ref-defaults\.txt|\.verify)$", "", name)
    return B4 / f"{stem}.mbox"


def _got(series_of, mbox: Path) -> dict[str, list[str]]:
    got: dict[str, list[str]] = {}
    # Oldest first, so that a title shared by two versions maps to the newest.
    for s in sorted(series_of(mbox), key=lambda s: (s.version, s.date)):
        for p in s.patches:
            got[p.message.parsed.title] = [f"{t.name}: {t.value}" for t in p.trailers if t.sender_match]
    return got


def _without_b4_user(trailers: list[str]) -> list[str]:
    return [t for t in trailers if B4_USER not in t]


@needs_corpus
@pytest.mark.parametrize("ref", DEFAULT_REFS)
def test_b4_followup_trailers_match_reference(series_of, ref: str) -> None:
    expected = _expected_from_ref(B4 / ref)
    got = _got(series_of, _mbox_for(ref))
    for title, trailers in expected.items():
        assert title in got, f"no patch titled {title!r}"
        assert got[title] == _without_b4_user(trailers), title


@needs_corpus
@pytest.mark.parametrize("verify", VERIFY)
def test_b4_thread_trailers_match_verify(series_of, verify: str) -> None:
    expected = _expected_from_verify(B4 / verify)
    got = _got(series_of, _mbox_for(verify))
    assert expected
    for title, trailers in expected.items():
        assert got[title] == _without_b4_user(trailers), title


@needs_corpus
def test_mismatched_sender_is_kept_but_flagged(series_of) -> None:
    (s,) = series_of(B4 / "trailers-followup-single.mbox")
    flagged = [t for t in s.patches[0].trailers if not t.sender_match]
    assert [(t.name, t.value) for t in flagged] == [
        ("Reviewed-by", "Mismatched Reviewer1 <mismatched-reviewer1@example.net>")
    ]
    assert flagged[0].source == "followup"
