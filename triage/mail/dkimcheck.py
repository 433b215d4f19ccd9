"""DKIM and ARC: what a message's signatures prove about who sent it (dkimpy, as b4 uses).

A From header is a claim. A DKIM signature that verifies proves that its signing domain
(``d=``) sent the message as it is; an ARC chain that verifies proves that each sealer
(a mailing list, say) recorded what it saw when the message reached it, such as
``dkim=pass header.d=redhat.com`` for a message whose From the list then rewrote.

:func:`verify` reads the signatures into a :class:`Verdict` (plain data, kept in the
series index); :func:`domain_signed` and :func:`list_vouches` answer the two questions
the series model asks of it.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterable
from typing import NamedTuple

from triage.mail.dns import DnsCache, DnsUnavailable
from triage.mail.parse import split_message

MAX_SIGNATURES = 8  # a message may carry any number of signatures; a few are ever real
# What a message dkimpy cannot parse at all proves (nothing).
UNPARSED = (("?", "fail", "the message could not be parsed"),)


class Verdict(NamedTuple):
    """What the signatures of one message showed (plain data: stored as a tuple)."""

    checked: int = 0  # when (unix time); 0: not checked
    # "checked"; "no-dns": DNS did not answer (checked again later); "off": [trust] dns = false;
    # "unreadable": the file could not be read
    status: str = ""
    dkim: tuple[tuple[str, str, str], ...] = ()  # (signing domain, "pass" | "fail", why it failed)
    arc: str = ""  # the chain: "pass" | "fail" | "none"
    # Each ARC set, newest first: (sealing domain, what it recorded: (method, result, domain) ...)
    arc_sets: tuple[tuple[str, tuple[tuple[str, str, str], ...]], ...] = ()
    # What an Authentication-Results header that a passing DKIM signature covers recorded, by
    # a server of the signer's own domain: (signing domain, method, result, domain, whether
    # that header is the message's topmost Authentication-Results).
    dkim_recorded: tuple[tuple[str, str, str, str, bool], ...] = ()

    @property
    def final(self) -> bool:
        """Checked for good: DNS answered (a later check would find the same)."""
        return self.status in ("checked", "unreadable")

    def summary(self) -> list[str]:
        """Lines for the message header pane: ``DKIM ✓ kernel.org``, ``ARC ✓ ...``."""
        if self.status == "no-dns":
            return ["DKIM: not checked (DNS did not answer; checked again later)"]
        if self.status == "off":
            return ["DKIM: not checked ([trust] dns = false)"]
        if self.status == "unreadable":
            return ["DKIM: not checked (the file could not be read)"]
        if self.status != "checked":
            return ["DKIM: not checked yet"]
        out = []
        if not self.dkim:
            out.append("DKIM: none (not signed)")
        for domain, result, why in self.dkim:
            out.append(f"DKIM ✓ {domain}" if result == "pass" else f"DKIM ✗ {domain}" + (f" ({why})" if why else ""))
        if self.arc in ("pass", "fail") and self.arc_sets:
            sealer, recorded = self.arc_sets[-1 if self.arc == "pass" else 0]
            said = "; ".join(f"{m}={r}" + (f" header.d={d}" if d else "") for m, r, d in recorded if m in ("dkim", "dmarc"))
            out.append(f"ARC {'✓' if self.arc == 'pass' else '✗'} {sealer}" + (f": {said}" if said else ""))
        return out


NOT_CHECKED = Verdict()


def org_domain(domain: str) -> str:
    """The registered domain (``smtp.subspace.kernel.org`` -> ``kernel.org``), by the common
    shape of second-level registries (``example.co.uk``) rather than the public suffix list."""
    labels = [x for x in domain.lower().strip(".").split(".") if x]
    if len(labels) <= 2:
        return ".".join(labels)
    if len(labels[-1]) == 2 and labels[-2] in {"co", "com", "org", "net", "ac", "gov", "edu", "ne", "or", "go"}:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


def aligned(signer: str, domain: str) -> bool:
    """DMARC's relaxed alignment: the signing domain and the address's domain share their
    registered domain."""
    return bool(signer and domain) and org_domain(signer) == org_domain(domain)


def domain_of(address: str) -> str:
    return address.rpartition("@")[2].lower()


def domain_signed(verdict: Verdict | None, address: str) -> bool:
    """A DKIM signature of ``address``'s domain verifies on the message."""
    if verdict is None or verdict.status != "checked":
        return False
    d = domain_of(address)
    return any(result == "pass" and aligned(signer, d) for signer, result, _ in verdict.dkim)


def list_vouches(verdict: Verdict | None, list_address: str, original: str, trusted_lists: Iterable[str] = ()) -> bool:
    """Whether the message's signatures vouch for ``original`` as the sender of a message
    whose From a list (at ``list_address``) rewrote.

    - As b4 does: a DKIM signature of ``original``'s own domain verifies on the message.
    - Or the list's own signature (its domain aligned with the list address's) verifies and
      recorded a pass for ``original``'s domain: its ARC set in a chain that verifies, or an
      Authentication-Results header its DKIM signature covers. A list is only a domain
      whoever owns it can sign for, so its word counts where nothing came after it (its
      ARC set is the newest, its Authentication-Results the topmost header: it delivered
      the message), or anywhere when its domain is in ``trusted_lists`` ([trust] lists).
    """
    if verdict is None or verdict.status != "checked":
        return False
    if domain_signed(verdict, original):
        return True
    list_domain, orig = domain_of(list_address), domain_of(original)
    trusted = any(aligned(list_domain, t) for t in trusted_lists)

    def passes(recorded: Iterable[tuple[str, str, str]]) -> bool:
        return any(method in ("dkim", "dmarc") and result == "pass" and aligned(d, orig) for method, result, d in recorded)

    for signer, method, result, d, topmost in verdict.dkim_recorded:
        if aligned(signer, list_domain) and (topmost or trusted) and passes([(method, result, d)]):
            return True
    if verdict.arc != "pass":
        return False
    for n, (sealer, recorded) in enumerate(verdict.arc_sets):  # newest first
        if aligned(sealer, list_domain) and (n == 0 or trusted) and passes(recorded):
            return True
    return False


_COMMENT_RE = re.compile(r"\([^()]*\)")
_PROP_RE = re.compile(r"\b(header\.d|header\.i|header\.from|header\.b)=([^\s;]+)", re.IGNORECASE)


def recorded_results(value: str) -> tuple[tuple[str, str, str], ...]:
    """(method, result, domain) of an (ARC-)Authentication-Results value: ``dkim=pass
    header.d=kernel.org`` -> ("dkim", "pass", "kernel.org")."""
    text = _COMMENT_RE.sub(" ", value)
    out: list[tuple[str, str, str]] = []
    for part in text.split(";")[1:]:
        m = re.match(r"\s*([a-z0-9-]+)\s*=\s*([a-z]+)", part, re.IGNORECASE)
        if not m:
            continue
        domain = ""
        for key, val in _PROP_RE.findall(part):
            key = key.lower()
            if key in ("header.d", "header.from"):
                domain = val.strip().lower()
            elif key == "header.i" and not domain:
                domain = val.rpartition("@")[2].strip().lower()
        out.append((m[1].lower(), m[2].lower(), domain))
        if len(out) >= 32:
            break
    return tuple(out)


# An ARC header written without a space after its colon, as kernel.org's list servers
# write them ("ARC-Message-Signature:i=2; ..."): dkimpy looks its AMS up by " i=N;" and
# fails on every message of vger's lists. ARC canonicalizes headers "relaxed", which drops
# the white space after the colon, so adding one changes no signature.
_ARC_UNSPACED_RE = re.compile(rb"^(arc-message-signature|arc-seal|arc-authentication-results):(?=[^ \t])",
                              re.IGNORECASE | re.MULTILINE)


def _arc_spaced(data: bytes) -> bytes:
    """The message with a space after the colon of each ARC header (see above)."""
    parts = split_message(data)
    head = data if parts is None else parts[0]
    return _ARC_UNSPACED_RE.sub(rb"\1: ", head) + data[len(head):]


def _aar_value(raw: bytes) -> str:
    """An ARC-Authentication-Results value without its ``i=N;``."""
    text = raw.decode("utf-8", "replace")
    return re.sub(r"^\s*i\s*=\s*\d+\s*;", "", text)


class _Said(logging.Handler):
    """The last error dkimpy logged (its only word on why some signatures fail), on a logger
    of its own: nothing reaches the root logger or the terminal."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.text = ""
        self.logger = logging.Logger("triage.dkim")  # not registered: no parent, no propagation
        self.logger.addHandler(self)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage()
        except Exception:  # noqa: BLE001 - a message dkimpy could not format says nothing
            return
        self.text = re.sub(r"\bb'([^']*)'", r"\1", text)[:120]


def verify(data: bytes, dns: DnsCache) -> Verdict:
    """Check every DKIM signature and the ARC chain of one message's bytes."""
    import dkim  # here: only messages whose sender matters are checked, and few are

    now = int(time.time())
    said = _Said()
    try:
        signer = dkim.DKIM(data, minkey=1024, logger=said.logger)
        count = sum(1 for name, _ in signer.headers if name.lower() == b"dkim-signature")
        results: list[tuple[str, str, str]] = []
        covered: list[tuple[str, str, str, str, bool]] = []
        for i in range(min(count, MAX_SIGNATURES)):
            said.text = ""
            try:
                ok = signer.verify(idx=i, dnsfunc=dns)
                # dkimpy says why only in its log: no key published, a key it cannot read.
                why = "" if ok else said.text or "signature does not match"
            except dkim.DKIMException as e:
                ok, why = False, str(e)[:120]
            except DnsUnavailable:
                raise
            except Exception:  # noqa: BLE001 - dkimpy failing on a signature it cannot read proves nothing
                ok, why = False, "the signature could not be read"
            domain = (signer.domain or b"?").decode("ascii", "replace").lower()
            results.append((domain, "pass" if ok else "fail", why))
            if ok and b"authentication-results" in (signer.include_headers or ()):
                covered.extend((domain, *r) for r in _own_results(signer.headers, domain))
        arc = dkim.ARC(_arc_spaced(data), minkey=1024)
        try:
            cv, sets, _ = arc.verify(dnsfunc=dns)
        except DnsUnavailable:
            raise
        except Exception:  # noqa: BLE001 - a chain dkimpy cannot read is not verified, the rest stands
            cv, sets = dkim.CV_Fail, []
    except DnsUnavailable:
        return Verdict(now, "no-dns" if dns.enabled else "off")
    except Exception:  # noqa: BLE001 - a message dkimpy cannot even parse proves nothing
        return Verdict(now, "checked", UNPARSED, "none")
    chain = {dkim.CV_Pass: "pass", dkim.CV_None: "none"}.get(cv, "fail")
    arc_sets = tuple(
        (
            (s.get("as-domain") or b"?").decode("ascii", "replace").lower(),
            recorded_results(_aar_value(s.get("aar-value") or b"")),
        )
        for s in sets
    )
    return Verdict(now, "checked", tuple(results), chain, arc_sets, tuple(covered[:32]))


def _own_results(headers: list[tuple[bytes, bytes]], signer: str) -> list[tuple[str, str, str, bool]]:
    """What the Authentication-Results headers written by a server of ``signer``'s domain
    recorded (their authserv-id, before the first ``;``, names the server), each with
    whether it is the topmost such header (added last, by the hop that delivered it)."""
    out: list[tuple[str, str, str, bool]] = []
    first = True
    for name, value in headers:
        if name.lower() != b"authentication-results":
            continue
        text = value.decode("utf-8", "replace")
        server = _COMMENT_RE.sub(" ", text).split(";", 1)[0].strip()
        if aligned(server, signer):
            out.extend((*r, first) for r in recorded_results(text))
        first = False
    return out
