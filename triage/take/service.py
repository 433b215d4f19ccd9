"""Taking a series in, over the store: export, apply, compare versions, thank.

Plain Python shared by the command line and the screen's workers.
"""

from __future__ import annotations

from pathlib import Path

from triage.cache.index import SeriesIndex
from triage.config import Settings
from triage.mail.message import read_message
from triage.mail.store import Store
from triage.model.series import Series
from triage.reply.outbox import identity
from triage.series.service import find_series, policy_for
from triage.take.apply import Applied, ApplyError, apply_export, recorded
from triage.take.export import Export, ExportError, ExportOptions, export_series
from triage.take.rangediff import PatchText, RangeLine, normalize, range_diff


def export_options(store: Store, settings: Settings, *, force: bool = False) -> ExportOptions:
    signoff = identity(store, settings) if settings.export_signoff else None
    return ExportOptions(link=settings.export_link, link_to=settings.export_link_to, signoff=signoff, force=force,
                         carry=settings.export_carry)


def export(store: Store, settings: Settings, series_id: str, *, force: bool = False,
           index: SeriesIndex | None = None) -> Export:
    index = index or SeriesIndex(store, policy=policy_for(store, settings))
    series = find_series(store, series_id, policy=index.policy, verifier=index.verifier())
    if settings.export_carry:
        # Reviews carried from earlier versions, as the list links the versions.
        index.refresh()
        series.carried_trailers, series.review_lost = index.carried(series.id)
    return export_series(store, series, export_options(store, settings, force=force))


def apply(
    store: Store,
    settings: Settings,
    series_id: str,
    repo: str | None,
    *,
    base: str | None = None,
    force: bool = False,
    index: SeriesIndex | None = None,
) -> tuple[Applied, Export, list[str]]:
    """Export, ``git am -3`` on a new branch, then set the state ``accepted``.

    Returns (what was applied, the export, problems after a good apply).
    """
    target = repo or settings.apply_repo
    if not target:
        raise ApplyError("no repository: give --repo PATH or set [apply] repo in config.toml")
    exported = export(store, settings, series_id, force=force, index=index)
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


def versions(index: SeriesIndex, series_id: str) -> list[tuple[Series, list[tuple[str, str, str]]]]:
    """Every version of a series the list links it to, oldest first (this one included), each
    with why it is linked: (the other version, the rule, the message holding the evidence)."""
    store = index.store
    series = find_series(store, series_id, policy=index.policy)
    index.refresh()
    ids, why = index.version_family(series.id)
    out = []
    for sid in ids:
        s = series if sid == series.id else find_series(store, sid, policy=index.policy)
        out.append((s, why.get(sid, [])))
    return out


def patch_texts(store: Store, series: Series) -> list[PatchText]:
    out = []
    paths = store.message_paths(p.message_id for p in series.patches)
    for p in sorted(series.patches, key=lambda p: p.index):
        m = read_message(p.message_id, paths[p.message_id])
        out.append(normalize(p.index, p.message.parsed.title, m.body))
    return out


def compare_versions(store: Store, older: Series, newer: Series) -> list[RangeLine]:
    return range_diff(patch_texts(store, older), patch_texts(store, newer))


def previous_version(index: SeriesIndex, series: Series, steps: int = 1) -> Series | None:
    """The version ``steps`` before ``series`` (1: the one just before), or None."""
    family = [s for s, _ in versions(index, series.id)]
    at = next((i for i, s in enumerate(family) if s.id == series.id), len(family))
    older = family[:at]
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

