"""Runs on disk: one folder per run holding Arrow IPC files with explicit schemas.

``ID.partial/`` is a run being made; only the final rename creates ``ID/``, so a
folder without the suffix is always complete. Every table carries the schema version
in its metadata. The tables are readable by pyarrow, pandas, polars and DuckDB.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.ipc as ipc

from nerkit.errors import NerkitError
from nerkit.types import Prediction, Span

try:
    import fcntl
except ImportError:  # Windows: runs are not locked there
    fcntl = None  # type: ignore[assignment]

SCHEMA_VERSION = "1"
PARTIAL = ".partial"
# In an unfinished run: one record per failed attempt (error, traceback, time, where).
FAILURES = "failures.json"
# In an unfinished run: the file whose lock (``fcntl.flock``) the process running it
# holds (``nerkit.pipeline.RUN_LOCK``, the same file).
RUN_LOCK = "run.lock"

RUN_SCHEMA = pa.schema(
    [
        pa.field("run_id", pa.string(), nullable=False),
        pa.field("created_utc", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("command", pa.string()),
        pa.field("config", pa.string(), nullable=False),  # JSON: the full run config
        pa.field("tagger", pa.string()),
        pa.field("corrector", pa.string()),
        pa.field("decoder", pa.string()),
        pa.field("dataset", pa.string()),
        pa.field("scheme", pa.string()),
        pa.field("seed", pa.int64()),
        pa.field("fingerprints", pa.string()),  # JSON: split -> fingerprint
        pa.field("dataset_license", pa.string()),
        pa.field("dataset_citation", pa.string()),
        pa.field("versions", pa.string()),  # JSON: package -> version
        pa.field("git_hash", pa.string()),
        pa.field("extra", pa.string()),  # JSON: counts a run reports (windowed, repairs, ...)
    ]
)

PREDICTIONS_SCHEMA = pa.schema(
    [
        pa.field("split", pa.dictionary(pa.int8(), pa.string()), nullable=False),
        pa.field("stage", pa.dictionary(pa.int8(), pa.string()), nullable=False),
        pa.field("sentence", pa.int32(), nullable=False),
        pa.field("token", pa.int32(), nullable=False),
        pa.field("text", pa.string(), nullable=False),
        pa.field("gold", pa.dictionary(pa.int32(), pa.string())),
        pa.field("predicted", pa.dictionary(pa.int32(), pa.string()), nullable=False),
        pa.field("confidence", pa.float32()),
    ]
)

METRICS_SCHEMA = pa.schema(
    [
        pa.field("split", pa.string(), nullable=False),
        pa.field("stage", pa.string(), nullable=False),
        pa.field("mode", pa.string(), nullable=False),
        pa.field("metric", pa.string(), nullable=False),
        pa.field("label", pa.string(), nullable=False),
        pa.field("value", pa.float64(), nullable=False),
        pa.field("support", pa.int64(), nullable=False),
    ]
)

CURVES_SCHEMA = pa.schema(
    [
        pa.field("epoch", pa.int32(), nullable=False),
        pa.field("step", pa.int64(), nullable=False),
        pa.field("split", pa.string(), nullable=False),
        pa.field("metric", pa.string(), nullable=False),
        pa.field("value", pa.float64(), nullable=False),
    ]
)

# A results-only copy of a run (nerkit.export) stores, instead of its predictions, the
# per-sentence entity counts of each scored block: enough for the paired tests.
COUNTS_SCHEMA = pa.schema(
    [
        pa.field("split", pa.string(), nullable=False),
        pa.field("stage", pa.string(), nullable=False),
        pa.field("mode", pa.string(), nullable=False),
        pa.field("sentence", pa.int32(), nullable=False),
        pa.field("correct", pa.int32(), nullable=False),
        pa.field("predicted", pa.int32(), nullable=False),
        pa.field("gold", pa.int32(), nullable=False),
    ]
)

SCHEMAS = {
    "run": RUN_SCHEMA,
    "predictions": PREDICTIONS_SCHEMA,
    "metrics": METRICS_SCHEMA,
    "curves": CURVES_SCHEMA,
    "counts": COUNTS_SCHEMA,
}


def temp_path(path: Path) -> Path:
    """A name beside ``path`` for writing it before the rename that makes it appear
    whole: hidden, ending in ``.tmp``, and of this process only (its id and a random
    part), so that two writers never share one."""
    return path.with_name(f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp")


def copy_atomically(source: Path, target: Path) -> None:
    """Copy ``source`` to ``target``, which appears whole or not at all: the copy goes to
    a name no other writer uses (a killed copy leaves only that), then is renamed."""
    tmp = temp_path(target)
    try:
        shutil.copyfile(source, tmp)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def _with_metadata(name: str) -> pa.Schema:
    return SCHEMAS[name].with_metadata(
        {"nerkit.table": name, "nerkit.schema_version": SCHEMA_VERSION}
    )


def write_table(
    directory: Path,
    name: str,
    columns: dict[str, Sequence[Any]] | pa.Table,
    *,
    compression: str | None = None,
) -> Path:
    """Write table ``name`` (``run``, ``predictions``, ...) into ``directory`` atomically,
    its buffers compressed with ``compression`` (``zstd``, ``lz4``) when given; readers
    of Arrow IPC files decompress them by themselves. A null in a column the schema
    says is never null is a ``NerkitError`` naming the table and the column, and
    nothing is written (pyarrow would store it, under a schema that denies it)."""
    schema = _with_metadata(name)
    if isinstance(columns, pa.Table):
        try:
            table = columns.cast(schema)
        except ValueError:
            _refuse_nulls(name, columns, schema)  # pyarrow's message names neither
            raise
    else:
        table = pa.Table.from_pydict(dict(columns), schema=schema)
    _refuse_nulls(name, table, schema)
    path = directory / f"{name}.arrow"
    tmp = temp_path(path)
    options = ipc.IpcWriteOptions(compression=compression)
    try:
        with (
            pa.OSFile(str(tmp), "wb") as sink,
            ipc.new_file(sink, schema, options=options) as writer,
        ):
            writer.write_table(table)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def _refuse_nulls(name: str, table: pa.Table, schema: pa.Schema) -> None:
    for field in schema:
        if field.nullable or field.name not in table.column_names:
            continue
        column = table.column(field.name)
        if column.null_count:
            row = next(i for i, value in enumerate(column.is_null().to_pylist()) if value)
            raise NerkitError(
                f"{name} table: column {field.name!r} must not be null, but {column.null_count} "
                f"of its {len(column)} values are (the first in row {row}); nothing was written"
            )


def read_table(directory: Path, name: str) -> pa.Table:
    path = Path(directory) / f"{name}.arrow"
    if not path.exists():
        if (Path(directory) / "counts.arrow").exists():
            raise NerkitError(
                f"{path}: no {name} table: this run is a results-only copy (nerkit export), "
                "without predictions or models; use the run it was exported from"
            )
        raise NerkitError(f"{path}: no {name} table in this run")
    try:
        with pa.memory_map(str(path)) as source:
            table = ipc.open_file(source).read_all()
    except pa.ArrowInvalid as exc:
        raise NerkitError(f"{path}: not a readable Arrow file ({exc})") from None
    version = (table.schema.metadata or {}).get(b"nerkit.schema_version", b"?").decode()
    if version != SCHEMA_VERSION:
        raise NerkitError(
            f"{path}: schema version {version}, this nerkit reads version {SCHEMA_VERSION}"
        )
    return table


def predictions_table(
    rows: Iterable[
        tuple[
            str,
            str,
            Sequence[Sequence[str]],
            Sequence[Sequence[str]] | None,
            Sequence[Sequence[str]],
            Sequence[Sequence[float]] | None,
        ]
    ],
) -> pa.Table:
    """Build the predictions table from ``(split, stage, tokens, gold, predicted, confidences)``
    blocks (one per split and stage), vectorised per block."""
    import numpy as np

    parts = []
    for split, stage, tokens, gold, predicted, confidences in rows:
        lengths = np.fromiter((len(t) for t in tokens), dtype=np.int64, count=len(tokens))
        n = int(lengths.sum())
        sentence = np.repeat(np.arange(len(tokens), dtype=np.int32), lengths)
        starts = np.repeat(np.cumsum(lengths) - lengths, lengths)
        token = (np.arange(n, dtype=np.int64) - starts).astype(np.int32)
        flat = [t for sent in tokens for t in sent]
        flat_pred = [t for sent in predicted for t in sent]
        if len(flat_pred) != n:
            raise NerkitError(f"{split}/{stage}: {len(flat_pred)} predicted tags for {n} tokens")
        flat_gold = [t for sent in gold for t in sent] if gold is not None else [None] * n
        if confidences is not None and any(len(c) for c in confidences):
            conf = [float(c) for sent in confidences for c in sent]
            if len(conf) != n:
                conf = [None] * n
        else:
            conf = [None] * n
        parts.append(
            pa.table(
                {
                    "split": pa.array([split] * n, pa.string()).dictionary_encode(),
                    "stage": pa.array([stage] * n, pa.string()).dictionary_encode(),
                    "sentence": sentence,
                    "token": token,
                    "text": pa.array(flat, pa.string()),
                    "gold": pa.array(flat_gold, pa.string()).dictionary_encode(),
                    "predicted": pa.array(flat_pred, pa.string()).dictionary_encode(),
                    "confidence": pa.array(conf, pa.float32()),
                }
            )
        )
    schema = PREDICTIONS_SCHEMA
    if not parts:
        return schema.empty_table()
    return pa.concat_tables([p.cast(schema) for p in parts]).combine_chunks()


@dataclass(frozen=True)
class RunSummary:
    run_id: str
    path: Path
    complete: bool
    created_utc: str = ""
    tagger: str = ""
    corrector: str = ""
    dataset: str = ""
    test_f1: float | None = None
    dev_f1: float | None = None
    error: str = ""  # an unfinished run that failed: the last attempt's error
    # the seconds the run spent (``extra["time"]``; runs stored before 0.3.4 have none)
    wall_s: float | None = None
    cpu_s: float | None = None
    # a finished run that cannot be read: why (it is listed, but not ``complete``, so
    # that nothing takes it for a run it could compare, reuse or skip)
    problem: str = ""
    # an unfinished run that a live process is running (it holds the run's lock), so
    # that a ``--resume`` of it is refused; ``False``: interrupted, to be resumed
    running: bool = False


def run_dir(out: Path, run_id: str, *, partial: bool = False) -> Path:
    return Path(out) / (run_id + (PARTIAL if partial else ""))


def finish(partial_dir: Path) -> Path:
    """Rename ``ID.partial`` to ``ID``; refuse to overwrite an existing run."""
    if not partial_dir.name.endswith(PARTIAL):
        raise NerkitError(f"{partial_dir}: not an unfinished run")
    final = partial_dir.with_name(partial_dir.name[: -len(PARTIAL)])
    if final.exists():
        raise NerkitError(f"{final}: a run with this id exists already; it is never overwritten")
    os.rename(partial_dir, final)
    return final


def unfinished_error(run_id: str, path: Path) -> NerkitError:
    """What is said of the unfinished run ``run_id`` (its folder ``path``) where a
    finished one is needed."""
    return NerkitError(
        f"run {run_id} is unfinished ({path}); finish it with nerkit run --resume {run_id}"
    )


def find_run(ref: str | Path, out: Path | None = None) -> Path:
    """A run folder from a path or an id (looked up in ``out``). An unfinished run
    (``ID.partial``) is refused, even one that holds a run table already (a run killed
    while storing it): only the final rename makes a run."""
    path = Path(ref)
    where = f" in {out}" if out is not None else ""
    if path.name.endswith(PARTIAL):
        for folder in (path, *([Path(out) / str(ref)] if out is not None else [])):
            if folder.exists():
                raise unfinished_error(path.name[: -len(PARTIAL)], folder)
        raise NerkitError(f"no run {ref!r}{where}")
    if (path / "run.arrow").exists():
        return path
    if out is not None and (Path(out) / str(ref) / "run.arrow").exists():
        return Path(out) / str(ref)
    if out is not None and (Path(out) / (str(ref) + PARTIAL)).exists():
        raise unfinished_error(str(ref), Path(out) / (str(ref) + PARTIAL))
    raise NerkitError(f"no run {ref!r}{where} (a run folder holds run.arrow)")


def is_running(partial_dir: Path) -> bool:
    """Whether a live process holds the lock of the unfinished run ``partial_dir`` (it
    is running the run, and a ``--resume`` is refused meanwhile). A killed process
    holds none: its lock went with it. No lock file, one that cannot be opened, or no
    ``fcntl`` (Windows): not running.

    The holder's lock is never taken or changed: this asks with a shared lock of its
    own, on a file description of its own, let go at once (an ``flock`` belongs to the
    open file that took it, so closing this one leaves the holder's be). For those few
    microseconds a ``--resume`` of a run nobody runs would be refused; one that holds
    the lock already is never disturbed."""
    if fcntl is None:
        return False
    try:
        fd = os.open(Path(partial_dir) / RUN_LOCK, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:  # a file system without locks: nobody can hold one there either
        return False
    finally:
        os.close(fd)  # lets go of the shared lock, where it was taken
    return False


def list_runs(out: Path) -> list[RunSummary]:
    """Every run in ``out``, finished and unfinished, oldest first. A run reached twice
    (a link to its folder, a copy of it) is listed once, by its own folder where it has
    one. A finished run that cannot be read (a damaged table, another schema version)
    is listed too, not ``complete``, with ``problem`` saying why: one bad run neither
    hides the others nor disappears itself. An unfinished run a live process is running
    is ``running`` (``is_running``)."""
    out = Path(out)
    if not out.is_dir():
        return []
    summaries = []
    seen: set[Path] = set()
    # folders before links to them, so that a run reached both ways shows its own path
    for child in sorted(out.iterdir(), key=lambda c: (c.is_symlink(), c.name)):
        if not child.is_dir() or child.resolve() in seen:
            continue
        seen.add(child.resolve())
        if child.name.endswith(PARTIAL):
            failures = read_failures(child)
            error = str(failures[-1].get("error", "")) if failures else ""
            summaries.append(
                RunSummary(
                    child.name[: -len(PARTIAL)],
                    child,
                    complete=False,
                    error=error,
                    running=is_running(child),
                )
            )
        elif (child / "run.arrow").exists():
            summaries.append(_finished_summary(child))
    # a copy of a finished run under another name: listed (and its time counted) once
    by_id: dict[str, RunSummary] = {}
    for summary in sorted(
        (s for s in summaries if s.complete),
        key=lambda s: (s.path.name != s.run_id, s.path.is_symlink(), s.path.name),
    ):
        by_id.setdefault(summary.run_id, summary)
    kept = [s for s in summaries if not s.complete or by_id[s.run_id] is s]
    return sorted(kept, key=lambda s: (s.created_utc, s.run_id))


def _finished_summary(directory: Path) -> RunSummary:
    """The summary of the finished run in ``directory``; one with ``problem`` set when
    its run or metrics table cannot be read."""
    try:
        rows = read_table(directory, "run").to_pylist()
        if not rows:
            raise NerkitError(f"{directory / 'run.arrow'}: the run table holds no row")
        row = rows[0]
        f1: dict[str, float] = {}
        if (directory / "metrics.arrow").exists():
            wanted = ("corrected" if row.get("corrector") else "base", "lenient", "f1", "micro")
            for r in read_table(directory, "metrics").to_pylist():
                if (r["stage"], r["mode"], r["metric"], r["label"]) == wanted:
                    f1[r["split"]] = r["value"]
        spent = time_spent(row)
        return RunSummary(
            row["run_id"],
            directory,
            True,
            str(row["created_utc"]),
            row["tagger"] or "",
            row["corrector"] or "",
            row["dataset"] or "",
            f1.get("test"),
            f1.get("dev"),
            wall_s=spent.get("wall_s"),
            cpu_s=spent.get("cpu_s"),
        )
    except NerkitError as exc:
        return RunSummary(directory.name, directory, False, problem=str(exc))
    except (KeyError, TypeError) as exc:  # tables of another layout
        problem = f"{directory}: tables of a layout nerkit does not read ({exc!r})"
        return RunSummary(directory.name, directory, False, problem=problem)


def time_spent(row: dict[str, Any]) -> dict[str, Any]:
    """The seconds a run spent, from its run-table ``row`` (``extra["time"]``); ``{}``
    for a run stored before runs were timed."""
    try:
        return json.loads(row.get("extra") or "{}").get("time") or {}
    except (AttributeError, ValueError):
        return {}


def record_failure(partial_dir: Path, record: dict[str, Any]) -> list[dict[str, Any]]:
    """Add ``record`` (at least ``error``) to the unfinished run's failed attempts;
    earlier attempts are kept. Returns every attempt."""
    if not partial_dir.name.endswith(PARTIAL):
        raise NerkitError(f"{partial_dir}: not an unfinished run; a stored run is never changed")
    attempts = [*read_failures(partial_dir), dict(record)]
    write_json(partial_dir / FAILURES, attempts)
    return attempts


def read_failures(directory: Path) -> list[dict[str, Any]]:
    """The failed attempts recorded in a run folder (oldest first); none: ``[]``."""
    path = Path(directory) / FAILURES
    if not path.exists():
        return []
    try:
        value = json.loads(path.read_text())
    except (OSError, ValueError):
        return [{"error": f"{path}: unreadable failure record"}]
    return value if isinstance(value, list) else [value]


def write_json(path: Path, value: Any) -> None:
    """Write ``value`` as JSON under a name of its own, flushed to disk, then rename it:
    neither a killed process nor a crash of the machine leaves a cut-short file."""
    tmp = temp_path(path)
    try:
        with tmp.open("w", encoding="utf-8") as fh:
            fh.write(json.dumps(value, indent=2, sort_keys=True, default=str))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


# ------------------------------------------------ a tagger's own output

_RAW_SCHEMA = pa.schema(
    [
        pa.field("tags", pa.list_(pa.string())),
        pa.field("confidences", pa.list_(pa.float64())),
        pa.field("labels", pa.list_(pa.string())),
        pa.field("probabilities", pa.list_(pa.list_(pa.float64()))),
        # nested output (``Prediction.spans``); files written before it lack the column
        pa.field(
            "spans",
            pa.list_(
                pa.struct(
                    [
                        pa.field("start", pa.int64()),
                        pa.field("end", pa.int64()),
                        pa.field("label", pa.string()),
                    ]
                )
            ),
        ),
    ]
)


def write_raw_predictions(path: Path, preds: Sequence[Prediction]) -> None:
    """The tagger's own output before decoding, kept so that a resumed run needn't
    predict again (probabilities included: the viterbi decoder needs them)."""
    table = pa.table(
        {
            "tags": [list(p.tags) for p in preds],
            "confidences": [list(p.confidences) for p in preds],
            "labels": [list(p.labels) for p in preds],
            "probabilities": [
                p.probabilities.tolist() if p.probabilities is not None else None for p in preds
            ],
            "spans": [
                [{"start": s.start, "end": s.end, "label": s.label} for s in p.spans] for p in preds
            ],
        },
        schema=_RAW_SCHEMA,
    )
    tmp = temp_path(path)
    try:
        with pa.OSFile(str(tmp), "wb") as sink, ipc.new_file(sink, _RAW_SCHEMA) as writer:
            writer.write_table(table)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def read_raw_predictions(path: Path) -> list[Prediction]:
    """A tagger's output as ``write_raw_predictions`` stored it; a file that is not
    readable (cut short, damaged) is a ``NerkitError`` naming it."""
    import numpy as np

    try:
        with pa.memory_map(str(path)) as source:
            rows = ipc.open_file(source).read_all().to_pylist()
    except pa.ArrowException as exc:
        raise NerkitError(f"{path}: not a readable Arrow file ({exc})") from None
    return [
        Prediction(
            tags=tuple(r["tags"]),
            confidences=tuple(r["confidences"]),
            labels=tuple(r["labels"]),
            probabilities=np.array(r["probabilities"], dtype=np.float64).reshape(
                len(r["tags"]), len(r["labels"])
            )
            if r["probabilities"] is not None
            else None,
            spans=tuple(Span(s["start"], s["end"], s["label"]) for s in r.get("spans") or ()),
        )
        for r in rows
    ]
