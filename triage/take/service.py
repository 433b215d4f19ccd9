"""Taking a series in, over the store: export, apply, compare versions, thank.

Plain Python shared by the command line and the screen's workers.
"""

from __future__ import annotations

from pathlib import Path

from triage.config import Settings
from triage.mail.message import read_message
from triage.mail.query import from_query, id_query, thread_query
from triage.mail.store import Store
from triage.model.series import Series
from triage.reply.outbox import identity
from triage.series.service import find_series, load_series
from triage.take.apply import Applied, ApplyError, apply_export, recorded
from triage.take.export import Export, ExportError, ExportOptions, export_series
from triage.take.rangediff import PatchText, RangeLine, normalize, range_diff


def export_options(store: Store, settings: Settings, *, force: bool = False) -> ExportOptions:
    signoff = identity(store, settings) if settings.export_signoff else None
    return ExportOptions(link=settings.export_link, link_to=settings.export_link_to, signoff=signoff, force=force,
                         carry=settings.export_carry)


def export(store: Store, settings: Settings, series_id: str, *, force: bool = False) -> Export:
    series = find_series(store, series_id, ignore_from=settings.trailers_ignore_from)
    if settings.export_carry:
        # Reviews carried from earlier versions need the versions linked: read them too.
        linked = next((s for s in versions(store, series.id) if s.id == series.id), None)
        if linked is not None:
            linked.name_confirmed = series.name_confirmed
            series = linked
    return export_series(store, series, export_options(store, settings, force=force))


def apply(
    store: Store,
    settings: Settings,
    series_id: str,
    repo: str | None,
    *,
    base: str | None = None,
    force: bool = False,
) -> tuple[Applied, Export, list[str]]:
    """Export, ``git am -3`` on a new branch, then set the state ``accepted``.

    Returns (what was applied, the export, problems after a good apply).
    """
    target = repo or settings.apply_repo
    if not target:
        raise ApplyError("no repository: give --repo PATH or set [apply] repo in config.toml")
    exported = export(store, settings, series_id, force=force)
    applied = apply_export(exported, Path(target), base=base or settings.apply_base)
    problems = []
    try:
        store.set_state(exported.series.message_ids(), "accepted")
    except Exception as e:  # noqa: BLE001 - the commits are in whatever this raises: say where they are
        why = f"{e.strerror} ({e.filename})" if isinstance(e, OSError) and e.strerror else str(e)
        problems.append(
            f"applied to branch {applied.branch} in {applied.repo} (checked out), but the state was not set "
            f"to accepted: {why}"
        )
    return applied, exported, problems


def versions(store: Store, series_id: str) -> list[Series]:
    """Every version of a series that the store holds, oldest first (this one included)."""
    series = find_series(store, series_id)
    # Versions are linked across threads by sender and title (or change-id): group all
    # of this sender's mail (by address and by name), then keep the family of this series.
    senders = {series.author_email, series.author_name}  # the name: versions sent from other addresses
    first = series.cover or (series.patches[0].message if series.patches else None)
    if first is not None:
        senders.update((first.from_email, first.from_name))
    query = " or ".join(from_query(e) for e in sorted(senders) if e) or id_query(series.id)
    thread = store.thread_of(series.id)
    if thread is not None:
        query = f"({query}) or {thread_query(thread)}"
    everything = {s.id: s for s in load_series(store, query)}
    me = everything.get(series.id, series)
    ids = set(me.previous_versions) | set(me.newer_versions) | {me.id}
    return sorted((everything[i] for i in ids if i in everything), key=lambda s: (s.version, s.date))


def patch_texts(store: Store, series: Series) -> list[PatchText]:
    out = []
    paths = store.message_paths(p.message_id for p in series.patches)
    for p in sorted(series.patches, key=lambda p: p.index):
        m = read_message(p.message_id, paths[p.message_id])
        out.append(normalize(p.index, p.message.parsed.title, m.body))
    return out


def compare_versions(store: Store, older: Series, newer: Series) -> list[RangeLine]:
    return range_diff(patch_texts(store, older), patch_texts(store, newer))


def previous_version(store: Store, series: Series, steps: int = 1) -> Series | None:
    """The version ``steps`` before ``series`` (1: the one just before), or None."""
    older = [s for s in versions(store, series.id) if (s.version, s.date) < (series.version, series.date)]
    return older[-steps] if 0 < steps <= len(older) else None


def thanks_body(series: Series, applied: Applied, signature: str = "") -> str:
    """A note as ``b4 ty`` writes one: what was applied, where, with the commit ids."""
    lines = ["Hello:", ""]
    what = "This series was" if len(series.patches) > 1 else "This patch was"
    lines.append(f"{what} applied to {applied.branch}, thanks!")
    lines.append("")
    total = len(applied.commits)
    for n, (sha, title) in enumerate(applied.commits, 1):
        prefix = f"[{n}/{total}] " if total > 1 else ""
        lines.append(f"{prefix}{title}")
        lines.append(f"      commit: {sha[:12]}")
    lines += ["", "Best regards,"]
    if signature:
        lines += ["-- ", signature]
    return "\n".join(lines) + "\n"


def thanks_target(series: Series) -> str:
    """The message a thank-you note answers: the cover letter, or the single patch."""
    if series.cover is not None:
        return series.cover.message_id
    if series.patches:
        return series.patches[0].message_id
    raise ExportError(f"series {series.id!r} has no message to answer")


def applied_record(series_id: str) -> Applied:
    found = recorded(series_id)
    if found is None:
        raise ApplyError("no record of applying this series with triage: apply it first (triage.apply)")
    return found

