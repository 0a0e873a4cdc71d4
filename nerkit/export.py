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
copy of the run) is refused: it is no results-only copy, and nothing is written.
"""

from __future__ import annotations

import shutil
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
    row = store.read_table(run, "run").to_pylist()[0]
    run_id = row["run_id"]
    final = store.run_dir(out, run_id)
    if final.exists():
        if not is_export(final):
            # not "exported already": the models and the corpus text would go along
            what = "is the run itself" if final.resolve() == run.resolve() else "holds the run"
            raise NerkitError(
                f"cannot export {run_id} into {out}: {final} {what}, with its models and "
                "predictions, not a results-only copy; export into another folder (--out)"
            )
        return Exported(run_id, final, new=False)
    counts = store.read_table(run, "counts") if is_export(run) else counts_table(run)
    partial = store.run_dir(out, run_id, partial=True)
    shutil.rmtree(partial, ignore_errors=True)  # an export killed half-way
    partial.mkdir(parents=True)
    for name in KEPT_TABLES:
        if (run / f"{name}.arrow").exists():
            shutil.copyfile(run / f"{name}.arrow", partial / f"{name}.arrow")
    store.write_table(partial, "counts", counts, compression="zstd")  # repetitive: ~20x
    dropped = sorted(p.name for p in run.iterdir() if not (partial / p.name).exists())
    record = {"run_id": run_id, "exported_utc": datetime.now(UTC).isoformat(timespec="seconds")}
    store.write_json(partial / EXPORT_RECORD, record | {"left_out": dropped})
    return Exported(run_id, store.finish(partial), new=True)


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
