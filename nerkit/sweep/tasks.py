"""What a sweep's task does, wherever it runs: train one fold, or do one run.

A task gets everything as values (the run's folder as bytes, the dataset as
sentences) and returns everything as values, so an executor needs no shared
filesystem: the driver alone writes the output folder. Failures come back as values
too, with the error and its traceback.
"""

from __future__ import annotations

import contextlib
import os
import socket
import sys
import tempfile
import time
import traceback
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nerkit import store
from nerkit.types import Prediction, Sentence

THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


@dataclass(frozen=True)
class ShippedDataset:
    """A loaded dataset as plain values, so that a task needs no access to its files."""

    name: str
    scheme: str
    license: str
    citation: str
    splits: dict[str, tuple[Sentence, ...]]
    fingerprints: dict[str, str]

    @classmethod
    def of(cls, loaded: Any) -> ShippedDataset:
        corpus = loaded.corpus
        return cls(
            corpus.name,
            corpus.scheme,
            corpus.license,
            corpus.citation,
            {split: tuple(corpus[split]) for split in corpus},
            dict(loaded.fingerprints),
        )

    def loaded(self) -> Any:
        from nerkit.datasets.load import LoadedDataset
        from nerkit.types import Corpus

        corpus = Corpus(dict(self.splits), self.name, self.scheme, self.license, self.citation)
        return LoadedDataset(corpus, {}, {}, {}, dict(self.fingerprints))


@dataclass
class TaskResult:
    """A task's outcome: ``value`` (fold predictions, or a run folder as
    ``{relative path: bytes}``) or the error that stopped it."""

    ok: bool
    value: Any = None
    error: str = ""
    traceback: str = ""
    host: str = field(default_factory=socket.gethostname)
    # a fold task's wall-clock and CPU seconds, charged to its run by the driver
    wall_s: float = 0.0
    cpu_s: float = 0.0


@contextlib.contextmanager
def pinned_threads(cpus: int) -> Iterator[None]:
    """Library thread pools sized to the task's CPU request, restored afterwards.

    The environment variables reach libraries initialised later; torch, when it is
    loaded already, is set directly (plugins also call ``torch.set_num_threads`` with
    the run's ``threads``). torch is never imported here: the core stays torch-free.
    """
    saved = {name: os.environ.get(name) for name in THREAD_VARIABLES}
    torch = sys.modules.get("torch")
    torch_threads = torch.get_num_threads() if torch is not None else None
    for name in THREAD_VARIABLES:
        os.environ[name] = str(cpus)
    if torch is not None:
        torch.set_num_threads(cpus)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        if torch is not None and torch_threads is not None:
            torch.set_num_threads(torch_threads)


def pack(directory: Path) -> dict[str, bytes]:
    """Every file under ``directory`` by its relative path (POSIX separators)."""
    return {
        path.relative_to(directory).as_posix(): path.read_bytes()
        for path in sorted(directory.rglob("*"))
        if path.is_file()
    }


def unpack(files: Mapping[str, bytes], directory: Path) -> None:
    """Write ``files`` under ``directory``, each atomically."""
    root = directory.resolve()
    for name, data in files.items():
        target = (directory / name).resolve()
        if root not in target.parents:
            raise ValueError(f"{name!r} is not inside the run folder")
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".unpack-tmp")
        tmp.write_bytes(data)
        os.replace(tmp, target)


def fold_task(config: dict[str, Any], dataset: ShippedDataset, fold: int, cpus: int) -> TaskResult:
    """Train fold ``fold`` of a correction run; its held-out predictions."""
    from nerkit.folds import fit_fold
    from nerkit.pipeline import RunConfig, fold_setup, limit_splits

    wall, cpu = time.perf_counter(), time.process_time()
    try:
        cfg = RunConfig.from_dict(config)
        loaded = limit_splits(dataset.loaded(), cfg)
        setup = fold_setup(cfg, loaded)
        corpus = loaded.corpus
        with pinned_threads(cpus):
            predictions: list[Prediction] = fit_fold(
                setup.make_tagger,
                corpus["train"],
                setup.folds[fold],
                scheme=corpus.scheme,
                context=setup.context(cfg),
                dev=corpus.splits.get("dev"),
            )
    except Exception as exc:
        return TaskResult(False, error=describe(exc), traceback=traceback.format_exc())
    return TaskResult(
        True,
        predictions,
        wall_s=time.perf_counter() - wall,
        cpu_s=time.process_time() - cpu,
    )


def run_task(
    run_id: str,
    files: Mapping[str, bytes],
    dataset: ShippedDataset,
    cpus: int,
    extra: dict[str, Any],
    trained_folds: Sequence[int] = (),
) -> TaskResult:
    """Do (or finish) the unfinished run ``files`` in a scratch folder; the finished
    run's files, or the error with the unfinished run's files (the steps done are
    kept for a retry)."""
    from nerkit.pipeline import Run, unfinished_config

    with tempfile.TemporaryDirectory(prefix="nerkit-sweep-") as scratch:
        directory = Path(scratch) / (run_id + store.PARTIAL)
        directory.mkdir()
        try:
            unpack(files, directory)
            runner = Run(directory, unfinished_config(directory))
            runner.extra_info = {"sweep": dict(extra) | {"host": socket.gethostname()}}
            runner.use_fold_cache = False  # the driver keeps the cache
            runner.reuse_base = False  # the driver copied a trained base in already
            with pinned_threads(cpus):
                final = runner.execute(loaded=dataset.loaded(), trained_folds=trained_folds)
        except Exception as exc:
            return TaskResult(
                False, pack(directory), error=describe(exc), traceback=traceback.format_exc()
            )
        return TaskResult(True, pack(final))


def describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"
