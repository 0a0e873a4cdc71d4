"""A sweep's runs: the spec expanded, each run matched against the runs stored already.

A planned run is *done* when a finished run in the output folder has the same config
and the same split fingerprints (``run_key``: component names resolved to their
versioned names, options with their defaults filled in, for a stored run the values
it recorded having run with; the command, the data folder, the dataset's name and the
cache switch left out, since they do not change what is computed). It is *resumed*
when an unfinished run that this sweep started has the same key, and *failed* when
that unfinished run recorded a failure. A stored run that cannot be read is never
taken for a run to do again: one whose key is known (a sweep's runs keep their key in
``sweep.json``) makes its planned run *unavailable*, saying why; the others are listed
in ``Plan.unreadable``, and the sweep's driver refuses to run while there are any.
A run that cannot run at all (a fold that leaves its tagger nothing to train on) is
*unavailable* too, so that a sweep does not fail it again at every sitting.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from nerkit import store
from nerkit.errors import NerkitError
from nerkit.options import as_dict, build_options
from nerkit.pipeline import (
    ROLES,
    SPLIT_LIMITS,
    RunConfig,
    check_data,
    limit_splits,
    options_class,
)
from nerkit.plugin.host import PluginHost, get_host
from nerkit.sweep.spec import Component, DatasetEntry, SweepSpec

NEW, RESUME, DONE, FAILED, UNAVAILABLE = "new", "resume", "done", "failed", "unavailable"
# In an unfinished run a sweep started: the run's key (to resume it) and the sweep's name.
MARKER = "sweep.json"
# Settings that do not change what a run computes (the fingerprints stand for the data).
IGNORED_SETTINGS = frozenset({"command", "data_dir", "cache", "dataset"})


@dataclass
class PlannedRun:
    number: int  # 1-based position in the sweep
    config: RunConfig
    cpus: int
    gpus: float
    tagger_label: str
    corrector_label: str
    key: str | None = None
    problem: str | None = None  # why it cannot run here (unknown tagger, bad option, ...)
    status: str = NEW
    run_id: str | None = None  # the stored or unfinished run it matches
    error: str = ""  # failed before: the last error


@dataclass
class Plan:
    spec: SweepSpec
    out: Path
    runs: list[PlannedRun]
    # data_key(config) -> LoadedDataset: a dataset and how its files are read
    datasets: dict[tuple[str, str], Any] = field(default_factory=dict)
    duplicates: int = 0  # planned runs dropped because an earlier one has the same key
    export: Path | None = None  # results-only copies: done there is done here
    # stored runs that cannot be read and whose key is unknown (run id -> why): any
    # planned run may be one of them
    unreadable: dict[str, str] = field(default_factory=dict)

    def count(self, status: str) -> int:
        return sum(r.status == status for r in self.runs)

    def problems(self) -> dict[str, int]:
        """Each reason some runs cannot run here, with how many runs it stops."""
        found: dict[str, int] = {}
        for run in self.runs:
            if run.problem:
                found[run.problem] = found.get(run.problem, 0) + 1
        return found


# ------------------------------------------------------------------ keys


def normalise(config: Mapping[str, Any], host: PluginHost) -> dict[str, Any]:
    """A run config as stored, with names resolved and options typed and complete.

    Raises ``NerkitError`` (``ConfigError``) on an unknown component or a bad option.
    """
    cfg = asdict(RunConfig.from_dict(dict(config)))
    for role in ROLES:
        name = cfg.get(role)
        if not name:
            continue
        full, cls = options_class(host, role, name)
        cfg[role] = full
        cfg[f"{role}_options"] = as_dict(
            build_options(cls, cfg.get(f"{role}_options") or {}, component=full)
        )
    return cfg


def run_key(config: Mapping[str, Any], fingerprints: Mapping[str, str]) -> str:
    """What decides a run's results: its normalised config and its data."""
    kept = {k: v for k, v in config.items() if k not in IGNORED_SETTINGS}
    if not kept.get("corrector"):
        for unused in ("corrector_options", "folds", "fold_mode"):
            kept.pop(unused, None)
    text = json.dumps([kept, dict(sorted(fingerprints.items()))], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


@dataclass
class StoredIndex:
    """The runs of an output folder by key."""

    finished: dict[str, str] = field(default_factory=dict)  # key -> run id
    unfinished: dict[str, str] = field(default_factory=dict)  # key -> run id
    errors: dict[str, str] = field(default_factory=dict)  # run id -> last recorded error
    # finished runs that cannot be read: key -> (run id, why); run id -> why when the
    # key is unknown too
    unreadable: dict[str, tuple[str, str]] = field(default_factory=dict)
    unmatched: dict[str, str] = field(default_factory=dict)


# What reading a stored run's key raises when the run cannot tell (a damaged or empty
# table, an old layout, a plugin that is gone).
KEY_ERRORS = (NerkitError, ValueError, TypeError, KeyError, IndexError)


def stored_key(run: Path, host: PluginHost) -> str:
    """The key of the finished run in ``run``, from its run table; one of
    ``KEY_ERRORS`` when it cannot tell."""
    row = store.read_table(run, "run").to_pylist()[0]
    config = normalise(json.loads(row["config"]), host)
    fingerprints = json.loads(row["fingerprints"] or "{}")
    # since 0.3.7 a run records every option it ran with: those override today's
    # defaults, which normalise filled in (an option added since keeps its default: it
    # is taken to leave the old behaviour as it was)
    ran = json.loads(row["extra"] or "{}").get("options") or {}
    for role, options in ran.items():
        if config.get(role):
            config[f"{role}_options"] = config[f"{role}_options"] | options
    return run_key(config, fingerprints)


def marked_key(run: Path) -> str | None:
    """The key a sweep wrote into a run it started (kept when the run finishes)."""
    try:
        return str(json.loads((run / MARKER).read_text())["key"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def index_runs(out: Path, host: PluginHost) -> StoredIndex:
    index = StoredIndex()
    for summary in store.list_runs(out):
        if summary.problem:
            key = marked_key(summary.path)
            if key is None:
                try:
                    key = stored_key(summary.path, host)  # its metrics, say, are damaged
                except KEY_ERRORS:
                    index.unmatched[summary.run_id] = summary.problem
                    continue
            index.unreadable.setdefault(key, (summary.run_id, summary.problem))
            continue
        if summary.complete:
            try:
                key = stored_key(summary.path, host)
            except KEY_ERRORS:
                continue  # a run of a plugin that is gone, or an old layout: never matched
            index.finished.setdefault(key, summary.run_id)
            continue
        if not (summary.path / MARKER).exists():
            continue  # not a sweep's: it may be another command's run in progress
        key = marked_key(summary.path)
        if key is None:
            continue
        index.unfinished.setdefault(key, summary.run_id)
        if summary.error:
            index.errors[summary.run_id] = summary.error
    return index


# ------------------------------------------------------------- planning


def _label(name: str, options: Mapping[str, Any]) -> str:
    words = [name] + [
        f"{k}={v if isinstance(v, str) else json.dumps(v)}" for k, v in sorted(options.items())
    ]
    return " ".join(words)


def _applies(component: Component, dataset: DatasetEntry) -> bool:
    return component.datasets is None or dataset.name in component.datasets


def expand(spec: SweepSpec, datasets: Sequence[str] | None = None) -> list[PlannedRun]:
    """Every run of the spec, in order: dataset, seed, tagger (grid), corrector (grid).

    ``datasets``: only these of the spec's datasets.
    """
    runs: list[PlannedRun] = []
    for entry in spec.datasets:
        if datasets is not None and entry.name not in datasets:
            continue
        for seed in spec.seeds:
            for tagger in spec.taggers:
                if not _applies(tagger, entry):
                    continue
                for tagger_options in tagger.variants():
                    for corrector in spec.correctors:
                        if not _applies(corrector, entry):
                            continue
                        for corrector_options in corrector.variants():
                            runs.append(
                                _planned(
                                    spec,
                                    entry,
                                    seed,
                                    tagger,
                                    tagger_options,
                                    corrector,
                                    corrector_options,
                                    len(runs) + 1,
                                )
                            )
    return runs


def _planned(
    spec: SweepSpec,
    entry: DatasetEntry,
    seed: int,
    tagger: Component,
    tagger_options: dict[str, Any],
    corrector: Component,
    corrector_options: dict[str, Any],
    number: int,
) -> PlannedRun:
    with_corrector = not corrector.is_none
    cpus = max(tagger.cpus or spec.cpus, (corrector.cpus or spec.cpus) if with_corrector else 0)
    gpus = max(
        spec.gpus if tagger.gpus is None else tagger.gpus,
        (spec.gpus if corrector.gpus is None else corrector.gpus) if with_corrector else 0.0,
    )
    defaults = RunConfig(tagger="", dataset="")
    config = RunConfig(
        tagger=tagger.name,
        dataset=entry.name,
        dataset_options=dict(entry.dataset_options),
        tagger_options=tagger_options,
        decoder=spec.decoder,
        decoder_options=dict(spec.decoder_options),
        corrector=corrector.name if with_corrector else None,
        corrector_options=corrector_options if with_corrector else {},
        # a run without a corrector has no folds: the defaults, as `nerkit run` stores them
        folds=spec.folds if with_corrector else defaults.folds,
        fold_mode=spec.fold_mode if with_corrector else defaults.fold_mode,
        seed=seed,
        threads=cpus,
        device="cuda" if gpus > 0 else "cpu",
        data_dir=spec.data_dir,
        max_train_sentences=entry.max_train_sentences,
        max_dev_sentences=entry.max_dev_sentences,
        max_test_sentences=entry.max_test_sentences,
        command=f"nerkit sweep {spec.path}",
    )
    return PlannedRun(
        number=number,
        config=config,
        cpus=cpus,
        gpus=gpus,
        tagger_label=_label(tagger.name, tagger_options),
        corrector_label=_label(corrector.name, corrector_options) if with_corrector else "-",
    )


def data_key(config: RunConfig) -> tuple[str, str]:
    """Which loaded dataset a run reads: its name, and how its files are read."""
    return config.dataset, json.dumps(config.dataset_options, sort_keys=True)


def load_datasets(
    configs: Iterable[RunConfig], data_dir: str | None, *, download: bool
) -> tuple[dict[tuple[str, str], Any], dict[tuple[str, str], str]]:
    """Each dataset loaded once per way of reading it (the driver ships it to the
    runs), keyed by ``data_key``; and why the others could not be loaded."""
    from nerkit.datasets import open_dataset

    loaded: dict[tuple[str, str], Any] = {}
    problems: dict[tuple[str, str], str] = {}
    for config in configs:
        key = data_key(config)
        if key in loaded or key in problems:
            continue
        name = config.dataset
        try:
            loaded[key] = open_dataset(
                name,
                data_dir=data_dir,
                scheme=None,
                download=download,
                progress=False,
                **config.dataset_options,
            )
        except NerkitError as exc:
            problems[key] = f"dataset {name!r} not available: {exc}"
    return loaded, problems


def plan_sweep(
    spec: SweepSpec,
    out: Path,
    *,
    host: PluginHost | None = None,
    download: bool = True,
    datasets: Sequence[str] | None = None,
    export: Path | None = None,
) -> Plan:
    """Expand ``spec`` and give each run its status against the runs in ``out`` and
    the results-only copies in ``export`` (a run copied there is done, wherever it ran).

    ``download``: fetch missing named datasets (a dry run does not). A run whose
    dataset cannot be loaded, or whose components are unknown or badly configured,
    is ``unavailable`` and says why in ``problem``.
    """
    from nerkit.errors import ConfigError

    host = host or get_host()
    if export is not None and export.resolve() == out.resolve():
        from_spec = spec.export is not None and Path(spec.export).resolve() == out.resolve()
        where = f"{spec.path}: export" if from_spec else "--export"
        raise ConfigError(
            f"{where} names the folder of the runs themselves ({out}): results-only copies "
            "(nerkit export) go to a folder of their own; give another one, or none"
        )
    if datasets is not None:
        unknown = sorted(set(datasets) - {d.name for d in spec.datasets})
        if unknown:
            known = ", ".join(d.name for d in spec.datasets)
            raise ConfigError(f"{spec.path}: no dataset {unknown[0]!r} in the spec (has: {known})")
    runs = expand(spec, datasets)
    loaded, dataset_problems = load_datasets(
        (r.config for r in runs), spec.data_dir, download=download
    )
    index = index_runs(out, host)
    if export is not None:
        for key, run_id in index_runs(export, host).finished.items():
            index.finished.setdefault(key, run_id)
    fingerprints: dict[tuple[str, int | None], Mapping[str, str]] = {}
    data_problems: dict[tuple[Any, ...], str | None] = {}
    seen: set[str] = set()
    kept: list[PlannedRun] = []
    duplicates = 0
    for run in runs:
        cfg = run.config
        run.problem = dataset_problems.get(data_key(cfg))
        if run.problem is None:
            try:
                normalised = normalise(asdict(cfg), host)
            except NerkitError as exc:
                run.problem = str(exc)
        if run.problem is not None:
            run.status = UNAVAILABLE
            kept.append(run)
            continue
        limited = (*data_key(cfg), *(getattr(cfg, name) for _, name in SPLIT_LIMITS))
        if limited not in fingerprints:
            fingerprints[limited] = limit_splits(loaded[data_key(cfg)], cfg).fingerprints
        run.key = run_key(normalised, fingerprints[limited])
        if run.key in seen:
            duplicates += 1
            continue
        seen.add(run.key)
        if run.key in index.finished:
            run.status, run.run_id = DONE, index.finished[run.key]
        elif run.key in index.unreadable:
            run.run_id, why = index.unreadable[run.key]
            run.problem = (
                f"stored run {run.run_id} cannot be read ({why}); mend it, or move it out "
                f"of {out} to run it again"
            )
            run.status = UNAVAILABLE
        elif run.key in index.unfinished:
            run.run_id = index.unfinished[run.key]
            run.error = index.errors.get(run.run_id, "")
            run.status = FAILED if run.error else RESUME
        if run.status != DONE and run.problem is None:
            # what Run.create would refuse (a fold with no training sentences): said
            # now, rather than at every sitting of the sweep
            checked = (*limited, cfg.corrector is not None, cfg.folds, cfg.fold_mode, cfg.seed)
            if checked not in data_problems:
                data_problems[checked] = _data_problem(loaded[data_key(cfg)], cfg)
            if data_problems[checked] is not None:
                run.problem, run.status = data_problems[checked], UNAVAILABLE
        kept.append(run)
    for number, run in enumerate(kept, 1):
        run.number = number
    return Plan(spec, out, kept, loaded, duplicates, export, dict(index.unmatched))


def _data_problem(loaded: Any, config: RunConfig) -> str | None:
    """Why ``config`` cannot run on ``loaded`` at all (``check_data``), or ``None``."""
    try:
        check_data(limit_splits(loaded, config), config)
    except NerkitError as exc:
        return str(exc)
    return None
