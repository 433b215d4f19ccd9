"""What a reply says was decided (applied, queued) or found by a robot (a build failed).

Read from a reply's own text only: quoted lines and the signature are left out, so an
"Applied, thanks!" quoted in a later reply decides nothing. The forms are those that
maintainers, ``b4 ty`` and patchwork-bot write on real lists:

- "Applied, thanks!", "Thanks, applied.", "Applied.", "Patch applied!", "Now queued up",
  "Both patches applied", "Applied the series to", "Applied to <branch>" (the branch may
  be on the next line, as a URL and a branch), "I applied this patch to my for-next
  branch at", "I've applied patches 1-3 to", "Queued for <tree>", "Picked up";
- b4 ty: "[2/9] <title>" lines, each with a "commit: <sha>" line under it: only those
  patches were applied;
- patchwork-bot: "This series was applied to <tree> (<branch>)" / "This patch was
  applied to ...", then "by Name <addr>:" (who applied it), and a summary whose
  "[n/m] <title>" lines have a commit link or "(no matching commit)".

A tester's "I applied this patch on top of v5.10 and it boots", an author's "applied
your suggestion" and "applied" anywhere in prose are not decisions.
"""

from __future__ import annotations

import re

from triage.model.outcome import CiResult, Decision
from triage.series.trailers import strip_signature

__all__ = ["CiResult", "Decision", "read_ci", "read_decision"]


MAX_WHERE = 160
MAX_COMMITS = 64
MAX_PATCHES = 256

_WORDS = ("pplied", "ueued", "icked up", "aken", "erged")
_APPLIED_RE = re.compile(
    r"^\s*(?:(?:thanks|thank\s+you|ok|great)[,!.]*\s+)?"
    r"(?:(?:i|we)(?:'ve|'ll|\s+have)?\s+)?(?:now\s+|just\s+|also\s+|finally\s+)?"
    r"(?:(?P<scope>(?:all|both|these|the|this|that)(?:\s+(?:two|three|four|five|six|seven|eight|nine|ten|\d+))?"
    r"|the\s+whole|whole)\s+)?"
    r"(?:(?P<noun>patch(?:es)?|series|change(?:s)?|commit(?:s)?|ones?|bits?)\s+)?"
    r"(?:(?:is|are|was|were|has\s+been|have\s+been)\s+)?"
    r"(?P<verb>applied|queued(?:\s+up)?|picked\s+up|merged|taken)\b(?P<rest>.*)$",
    re.IGNORECASE,
)
# What turns "applied" into something else: a tester's build, an author's edit, a condition.
_NOT_A_DECISION_RE = re.compile(
    r"\bon\s+top\s+of\b|\band\s+(?:tested|test|booted|ran|run)\b|\btested\b|\bboots?\b|\blocally\b|\bcleanly\b"
    r"|\byour\s+(?:suggestion|comments?|feedback|review|changes|fix)|\bsuggest|\bif\b|\bwhen\b|\bwithout\b|\bbefore\b"
    r"|\bto\s+(?:the|my|your)\s+(?:working|local)\b|\?",
    re.IGNORECASE,
)
_PATCH_OBJECT_RE = re.compile(
    r"^\s*(?P<what>(?:the\s+)?(?:whole\s+)?series|(?:all|both|these|the)\b[^.,;:]*?\bpatch(?:es)?|this\s+patch|"
    r"(?:this|it|them|that\s+patch|those|the\s+patch(?:es)?|"
    r"patch(?:es)?\s+#?\d+(?:\s*(?:,|-|–|and|&|through|to)\s*#?\d+)*))",
    re.IGNORECASE,
)
_NUMBERS_RE = re.compile(r"\bpatch(?:es)?\s+#?(\d+(?:\s*(?:-|–|to|through|,|and|&)\s*#?\d+)*)", re.IGNORECASE)
_RANGE_RE = re.compile(r"(\d+)\s*(?:-|–|to|through)\s*(\d+)|(\d+)")
_WHERE_RE = re.compile(r"\b(?:to|into|on|in|for)\s+(?:my\s+|the\s+)?(.+?)\s*(?:[,!.;](?:\s|$)|\bthanks\b|$)",
                       re.IGNORECASE)
_TY_LINE_RE = re.compile(r"^\s*-?\s*\[(\d+)/(\d+)\]\s+\S")
_COMMIT_RE = re.compile(r"^\s*commit:\s*([0-9a-f]{7,40})\b", re.IGNORECASE)
_LINK_COMMIT_RE = re.compile(r"https?://\S+/c(?:ommit)?/(?:\?id=)?([0-9a-f]{7,40})\b")
_BOT_RE = re.compile(r"^\s*this\s+(series|patch|patchset)\s+was\s+applied\s+to\s+(.+?)\s*$", re.IGNORECASE)
_BOT_BY_RE = re.compile(r"^\s*by\s+(.+?)\s*<([^<>\s]+@[^<>\s]+)>\s*:?\s*$", re.IGNORECASE)
_ATTRIBUTION_RE = re.compile(r"(wrote|writes|schrieb|a écrit)\s*:\s*$", re.IGNORECASE)
_AS_IS_RE = re.compile(r"^\s*(?:as|with)\b", re.IGNORECASE)


def own_lines(text: str) -> list[str]:
    """The lines a reply's sender wrote: no quotes, no signature, no attribution line."""
    return [line.rstrip() for line in strip_signature(text).split("\n")
            if not line.lstrip().startswith(">") and not _ATTRIBUTION_RE.search(line)]


def _numbers(spec: str) -> tuple[int, ...]:
    out: list[int] = []
    for a, b, single in _RANGE_RE.findall(spec):
        if single:
            out.append(int(single))
        else:
            lo, hi = sorted((int(a), int(b)))
            out.extend(range(lo, min(hi, lo + MAX_PATCHES) + 1))
        if len(out) >= MAX_PATCHES:
            break
    return tuple(dict.fromkeys(n for n in out if 0 < n < 100000))


_WHERE_START_RE = re.compile(r"^\s*(?:now\s+)?(?:to|into|on|in|for|at)\s+(?:my\s+|the\s+|our\s+)?(\S.*)$", re.IGNORECASE)
_WHERE_END_RE = re.compile(r"\s*(?:[,!;]|\.(?:\s|$)|\s(?:and|as|with|thanks|thank|so|but|because|since|after)\b).*$",
                           re.IGNORECASE)


def _where(rest: str, following: list[str]) -> str:
    """The tree or branch named right after "applied (it/the series)": on the same line, or
    (after a bare "to"/"at") on the next non-empty line, as "Applied to\\n\\n\\t<url> <branch>"."""
    obj = _PATCH_OBJECT_RE.match(rest)
    text = rest[obj.end():] if obj else rest
    text = text.strip()
    if not text or re.fullmatch(r"(?:now\s+)?(?:to|into|at|on|in)(?:\s+(?:my|the)\s+\S+\s+(?:branch|tree)\s+at)?\s*:?",
                                text, re.IGNORECASE):
        nxt = next((x.strip() for x in following[:3] if x.strip()), "")
        if text and nxt and not _TY_LINE_RE.match(nxt) and (nxt.startswith(("http", "git:", "ssh:")) or len(nxt.split()) <= 3):
            return nxt[:MAX_WHERE]
        return ""
    m = _WHERE_START_RE.match(text)
    if not m:
        return ""
    where = _WHERE_END_RE.sub("", m[1]).strip()
    if re.fullmatch(r"(?:\S+\s+)?(?:branch|tree)\s+at", where, re.IGNORECASE):  # "my for-next branch at" + next line
        nxt = next((x.strip() for x in following[:3] if x.strip()), "")
        return (nxt if nxt.startswith(("http", "git:", "ssh:")) else where)[:MAX_WHERE]
    return where[:MAX_WHERE]


def _ty_lines(lines: list[str]) -> tuple[tuple[int, ...], tuple[str, ...]]:
    """b4 ty / patchwork-bot summaries: the patch numbers listed with a commit, and the commits."""
    patches: list[int] = []
    commits: list[str] = []
    current: int | None = None
    for line in lines:
        m = _TY_LINE_RE.match(line)
        if m:
            current = int(m[1])
            continue
        c = _COMMIT_RE.match(line) or _LINK_COMMIT_RE.search(line)
        if c and current is not None:
            patches.append(current)
            commits.append(c[1].lower())
            current = None
        elif "(no matching commit)" in line:
            current = None
    return tuple(dict.fromkeys(patches))[:MAX_PATCHES], tuple(dict.fromkeys(commits))[:MAX_COMMITS]


def read_decision(text: str) -> Decision | None:
    """The decision a reply's own text states, or None."""
    if not any(w in text for w in _WORDS):
        return None
    lines = own_lines(text)
    for i, line in enumerate(lines):
        if i and line[:1].islower() and lines[i - 1].strip() and not lines[i - 1].rstrip().endswith((".", "!", "?", ":")):
            continue  # the middle of a sentence ("... the settings are\napplied to hardware")
        bot = _BOT_RE.match(line)
        if bot:
            by = None
            for nxt in lines[i + 1 : i + 3]:
                b = _BOT_BY_RE.match(nxt)
                if b:
                    by = (b[1].strip().strip('"'), b[2])
                    break
            patches, commits = _ty_lines(lines[i + 1 :])
            return Decision("applied", bot[2].rstrip(":").strip()[:MAX_WHERE], commits, patches,
                            whole=bot[1].lower() != "patch" and not patches, by=by)
        m = _APPLIED_RE.match(line)
        if m is None:
            continue
        rest = m["rest"]
        if _NOT_A_DECISION_RE.search(rest) or (m["verb"].lower() == "taken" and not m["noun"]):
            continue
        obj = _PATCH_OBJECT_RE.match(rest)
        if rest.strip() and not obj and not re.match(r"^\s*(?:[,.!:;(]|to\b|into\b|on\b|in\b|for\b|now\b|as\b|with\b|"
                                                    r"thanks\b|thank\b|up\b|the\s+\w+\s+(?:patch|bits)|both\b|all\b)",
                                                    rest, re.IGNORECASE):
            continue  # "applied period/duty readback ...": prose, not a decision
        said = " ".join(x for x in (m["scope"] or "", m["noun"] or "", obj["what"] if obj else "") if x)
        numbers = _numbers(said + " " + rest) if re.search(r"\bpatch(?:es)?\s+#?\d", said + " " + rest, re.I) else ()
        whole = bool(re.search(r"\bseries\b|\bboth\b|\ball\b|\bthese\b|\bwhole\b", said, re.IGNORECASE))
        ty_patches, commits = _ty_lines(lines[i + 1 :])
        return Decision("applied", _where(_AS_IS_RE.sub("", rest), lines[i + 1 :]), commits,
                        ty_patches or numbers, whole=whole and not (ty_patches or numbers))
    return None


ROBOT_MARKS = ("test robot", "syzbot", "auto build test", "has tested the proposed patch")
_FIRST_PROBLEM_RE = re.compile(r"^(?:>>\s*)?(\S[^\n]*?:\d+(?::\d+)?:\s*(?:fatal\s+)?(error|warning):[^\n]*)$",
                               re.MULTILINE | re.IGNORECASE)


def read_ci(text: str) -> CiResult | None:
    """A robot's verdict: kernel test robot's build reports, syzbot's patch tests."""
    low = text[:4000].lower()
    if not any(w in low for w in ROBOT_MARKS):
        return None
    if "has tested the proposed patch and the reproducer did not trigger" in low:
        return CiResult("pass", "syzbot: the reproducer did not trigger any issue")
    if "has tested the proposed patch but the reproducer is still triggering" in low:
        return CiResult("fail", "syzbot: the reproducer still triggers an issue")
    head = re.search(r"\[auto build test (error|warning)[^\]]*\]", low)
    if "yet something to improve" in low or "build errors" in low or (head and head[1] == "error"):
        result = "fail"
    elif "perhaps something to improve" in low or "build warnings" in low or (head and head[1] == "warning"):
        result = "warn"
    elif "noticed" in low and ("regression" in low or "error" in low or "bug" in low):
        result = "fail"
    else:
        return None
    first = _FIRST_PROBLEM_RE.search(text)
    if first:
        summary = first[1]
    else:
        line = re.search(r"^\[auto build test[^\]]*\]", text, re.MULTILINE | re.IGNORECASE)
        summary = line[0] if line else "build test " + ("error" if result == "fail" else "warning")
    return CiResult(result, " ".join(summary.split())[:200])
