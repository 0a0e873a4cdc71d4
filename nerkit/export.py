"""Results-only copies of finished runs: what is needed to list, compare and test
runs, without their models, predictions or any text of the corpus.

A run folder holds its trained models and every predicted tag next to its token text:
hundreds of megabytes, and a copy of the corpus. Its results are tens of kilobytes: the
run table (config, fingerprints, versions, time spent), the metrics table, the training
curves, and - for paired significance tests - the per-sentence entity counts of every
scored block. ``export_run`` writes exactly those into ``OUT/RUN_ID/`` (the counts as
the ``counts`` table, zstd-compressed: tens of kilobytes), so a set of runs can be
committed beside a paper or shared, and ``nerkit runs`` and ``nerkit compare`` (deltas
and p-values included) read it as they read the original runs. Commands that need predictions or models (``nerkit predict``,
``nerkit eval RUN``, error analysis) say that the run holds results only.

An export is written as ``RUN_ID.partial`` and renamed when whole; a run exported
already is left as it is, so exporting a folder of runs again adds only the new ones.
A destination that holds the run itself (``--out`` the folder of the runs, or a full
copy of the run) is refused: it is no results-only copy, and nothing is written. So is
an ``--out`` that is a run or lies inside one, and a run whose table names an id that
is no plain folder name (it would put the copy outside ``--out``).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa

from nerkit import store
from nerkit.errors import NerkitError
from nerkit.metrics import MODES

# Copied as they are: the run's record, its scores and its training curves.
KEPT_TABLES = ("run", "metrics", "curves")
# Written into an export: where it came from and what was left out.
EXPORT_RECORD = "exported.json"


@dataclass(frozen=True)
class Exported:
    run_id: str
    path: Path
    new: bool  # False: exported before, left as it was


def export_run(run: Path, out: Path) -> Exported:
    """Export the finished run folder ``run`` into ``out`` (see the module docstring)."""
    run, out = Path(run), Path(out)
    if run.name.endswith(store.PARTIAL) or not (run / "run.arrow").exists():
        raise NerkitError(f"{run}: not a finished run (a finished run folder holds run.arrow)")
    check_destination(out, [run])
    rows = store.read_table(run, "run").to_pylist()
    if not rows:
        raise NerkitError(f"{run / 'run.arrow'}: the run table holds no row")
    run_id = checked_run_id(run, rows[0]["run_id"])
    final = store.run_dir(out, run_id)
    if os.path.lexists(final):
        if not is_export(final):
            # not "exported already": the models and the corpus text would go along
            raise _occupied(run, run_id, out, final)
        return Exported(run_id, final, new=False)
    counts = store.read_table(run, "counts") if is_export(run) else counts_table(run)
    partial = store.run_dir(out, run_id, partial=True)
    if os.path.lexists(partial):
        _remove_unfinished_export(run_id, out, partial)  # an export killed half-way
    partial.mkdir(parents=True)
    for name in KEPT_TABLES:
        if (run / f"{name}.arrow").exists():
            shutil.copyfile(run / f"{name}.arrow", partial / f"{name}.arrow")
    store.write_table(partial, "counts", counts, compression="zstd")  # repetitive: ~20x
    dropped = sorted(p.name for p in run.iterdir() if not (partial / p.name).exists())
    record = {"run_id": run_id, "exported_utc": datetime.now(UTC).isoformat(timespec="seconds")}
    store.write_json(partial / EXPORT_RECORD, record | {"left_out": dropped})
    return Exported(run_id, store.finish(partial), new=True)


def check_destination(out: Path, runs: Iterable[Path] = ()) -> None:
    """Raise NerkitError unless ``out`` can take exports of ``runs``: a folder, or none
    yet, that is neither one of the runs nor a run of any kind (finished, unfinished or
    a results-only copy), nor lies inside one. Exports written there would be files of
    that run, and an export of a run into itself would copy it into itself."""
    out = Path(out)
    where = out.resolve()
    for run in runs:
        source = Path(run).resolve()
        if where == source or where.is_relative_to(source):
            what = "is the run" if where == source else "lies inside the run"
            raise NerkitError(
                f"cannot export {run} into {out}: {out} {what} being exported; "
                "export into a folder outside it (--out)"
            )
    for folder in (where, *where.parents):
        if is_run_folder(folder):
            inside = "" if folder == where else f" lies inside {folder}, which"
            raise NerkitError(
                f"cannot export into {out}: {out}{inside} is a run folder; export into a "
                "folder that holds runs, not into a run (--out)"
            )
    if os.path.exists(out) and not os.path.isdir(out):
        raise NerkitError(f"cannot export into {out}: it is a file, not a folder (--out)")


def is_run_folder(folder: Path) -> bool:
    """Whether ``folder`` is a run: a finished run or a results-only copy (it holds
    run.arrow), or an unfinished run (``ID.partial`` holding its lock or its config)."""
    folder = Path(folder)
    if os.path.exists(folder / "run.arrow"):
        return True
    return folder.name.endswith(store.PARTIAL) and any(
        os.path.exists(folder / name) for name in (store.RUN_LOCK, "config.json")
    )


def checked_run_id(run: Path, run_id: object) -> str:
    """``run_id``, read from the run table of ``run``, if it is a plain folder name, as
    every id nerkit makes is; otherwise a NerkitError naming ``run``. The export is
    written to ``OUT/RUN_ID``: an id such as ``../x`` would put it outside ``OUT``."""
    if (
        not isinstance(run_id, str)
        or run_id in ("", ".", "..")
        or any(c in run_id for c in "/\\\0")
        or run_id.endswith(store.PARTIAL)
    ):
        raise NerkitError(
            f"{run}: the run table gives the run id {run_id!r}, which is no plain folder "
            "name (a run id is not empty, '.' or '..', holds no '/', '\\' or NUL and does "
            f"not end in {store.PARTIAL}); nothing was exported"
        )
    return run_id


def _occupied(run: Path, run_id: str, out: Path, final: Path) -> NerkitError:
    """The error for exporting ``run`` where ``final``, which is no export, is already."""
    advice = "export into another folder (--out)"
    if final.resolve() == run.resolve():
        what = "is the run itself, with its models and predictions, not a results-only copy"
    elif os.path.exists(final / "run.arrow"):
        what = "holds the run, with its models and predictions, not a results-only copy"
    else:
        kind = "a folder but no run (it holds no run.arrow)" if final.is_dir() else "no folder"
        what = f"is {kind}, and is never overwritten"
        advice = f"move it away or {advice}"
    return NerkitError(f"cannot export {run_id} into {out}: {final} {what}; {advice}")


def _remove_unfinished_export(run_id: str, out: Path, partial: Path) -> None:
    """Remove ``partial``, left by an export killed half-way; raise NerkitError, and
    remove nothing, where it holds anything else (an unfinished run of that id)."""
    written = {f"{name}.arrow" for name in (*KEPT_TABLES, "counts")} | {EXPORT_RECORD}
    if not partial.is_symlink() and partial.is_dir():
        names = [p.name for p in partial.iterdir()]
        # what store writes before its renames: hidden, ending in .tmp
        if all(n in written or (n.startswith(".") and n.endswith(".tmp")) for n in names):
            shutil.rmtree(partial)
            return
    raise NerkitError(
        f"cannot export {run_id} into {out}: {partial} is there already and is not an "
        "unfinished export, so it is never removed; move it away or export into another "
        "folder (--out)"
    )


def is_export(run: Path) -> bool:
    """Whether ``run`` is a results-only copy (it stores counts, not predictions)."""
    run = Path(run)
    return (run / "counts.arrow").exists() and not (run / "predictions.arrow").exists()


def counts_table(run: Path) -> pa.Table:
    """Per-sentence entity counts of every block (split, stage) of ``run``'s stored
    predictions that has gold tags, in each span mode: the ``counts`` table."""
    from nerkit.compare import load_run, sentence_counts_of, stored_blocks

    stored = load_run(run)
    columns: dict[str, list] = {name: [] for name in store.COUNTS_SCHEMA.names}
    for split, stage in stored_blocks(run):
        for mode in MODES:
            numbers, found = sentence_counts_of(stored, split, stage, mode)
            size = len(numbers)
            columns["split"] += [split] * size
            columns["stage"] += [stage] * size
            columns["mode"] += [mode] * size
            columns["sentence"].append(numbers)
            columns["correct"].append(found.correct)
            columns["predicted"].append(found.predicted)
            columns["gold"].append(found.gold)
    for name in ("sentence", "correct", "predicted", "gold"):
        parts = columns[name]
        columns[name] = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
    return pa.Table.from_pydict(columns, schema=store.COUNTS_SCHEMA)
