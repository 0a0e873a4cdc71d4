"""Line stored runs up: one row per configuration, grouped by the data they were scored on.

The choices a reader of the table needs to know:

* **Groups.** A score is comparable only with scores on the same data, so runs are
  grouped by the fingerprint of their test split (of their dev split when a run has
  no test split). Deltas and paired tests are computed only within a group. A group
  is named by its datasets, each data (every split's fingerprint) by the name its
  newest run gave it: one folder given as ``small``, ``./small`` and ``/data/small/``
  is one dataset.
* **Seeds.** Runs on the same data (every split's fingerprint equal) whose configs are
  equal once ``seed``, ``command``, ``dataset``, ``data_dir`` and ``cache`` are left
  out (what a corpus was called and where it was read from is not part of what was
  run, its fingerprints are; whether stored work was reused does not change what was
  computed; a setting stored as nothing equals one not stored) form one row: the mean
  of their scores, the sample standard deviation (``ddof=1``; none for one run) and
  ``n``. A seed counts once: of several runs of one config with the same seed (a
  rerun) the newest is counted and a note names the others, which would otherwise
  weigh that seed twice and shrink the spread. Runs trained (or tuned) on other data
  are never seeds of one row nor reruns of each other: the rows of a group whose
  train or dev splits differ are labelled by them (``train=30b1ac053a47``, the
  fingerprint's first 12 characters; ``dataset=NAME`` where the names differ too) and
  a note says so. A run reached twice (a run and its export, or a copy of its folder:
  the same run id) counts once, from its own folder rather than an export, and a
  note names the other.
* **Options.** A config holds each component's options as the component ran with
  them, less those equal to the installed plugin's default (``ran_options``): a run
  with ``-T max_length=8``, lexicon's default, is the run without it. Since 0.3.7 a
  run records every option it ran with, so a run made before a default changed keeps
  the value it ran with (its own row, labelled with it), and an option added since
  has its default. Of an older run only the options asked for are known; the others
  are taken to be today's defaults (as ``nerkit sweep`` takes them). A run whose
  plugin is not installed keeps its options as stored. ``folds`` and ``fold_mode``
  of a run without a corrector did nothing and are left out.
* **Labels.** A row is labelled by ``StoredRun.describe`` and, when the rows of its
  group differ in config keys that it leaves out (``max_train_sentences``, ``folds``,
  ``decoder_options``, ...), by those keys with the row's values
  (``max_train_sentences=300``, named in the rows that set them), so no two rows of a
  group look the same.
* **Baseline.** With a baseline every other row gets ``delta = row mean - baseline``
  on the test split, each run at its last stage (``corrected`` when it has one, else
  ``base``), and a paired test on the stored test predictions of that stage. The
  baseline is one run, so it gets a row of its own even when it has siblings that
  differ only in seed. A row of several seeds is tested run by run against the
  baseline and shows the **largest** of their p-values, where a run whose delta has
  not the sign of the row's delta counts as 1: one seed much better and one much
  worse than the baseline do not make a significant row (and a row of delta 0 gets
  1). The difference is called significant at level alpha only when it is, in the
  row's direction, for every seed (conservative; every member's own p-value is in
  the JSON output). A baseline scored on other test data than some of the runs is an
  error that names them.
* **Tests** are those of ``nerkit.evaluation.significance`` on per-sentence entity
  counts, for the statistics f1, precision and recall (micro); other metrics get a
  delta without a p-value.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from nerkit import store
from nerkit.errors import ConfigError, InputError, NerkitError
from nerkit.evaluation.significance import (
    BOOTSTRAP,
    RANDOMIZATION,
    STATISTICS,
    PairedTest,
    SentenceCounts,
    approximate_randomization_counts,
    paired_bootstrap_counts,
    sentence_counts,
)

SPLITS = ("dev", "test")
STAGES = ("base", "corrected")  # the order of a run's stages; unknown ones sort after
MODES = ("lenient", "strict")
TESTS = ("bootstrap", "ar", "none")
# Config keys that do not change what a run computes (``cache``: whether stored work
# is reused, set by --no-cache; ``dataset``: what the data was called, -d small or
# -d ./small, where the split fingerprints, part of ``config_key``, are the data).
IGNORED_CONFIG_KEYS = frozenset({"seed", "command", "dataset", "data_dir", "cache"})
# Config keys that only a corrector uses (its out-of-fold training predictions): a run
# without one computed the same whatever they say.
CORRECTOR_CONFIG_KEYS = frozenset({"folds", "fold_mode"})
# Config keys that ``StoredRun.describe`` shows (the decoder and device only when not
# the defaults): a row's label names other keys that set it apart from other rows.
DESCRIBED_CONFIG_KEYS = frozenset(
    {"tagger", "tagger_options", "dataset_options", "corrector", "corrector_options"}
    | {"decoder", "device"}
)
# Metrics stored as counts rather than shares (shown as numbers, not percentages).
COUNT_METRICS = frozenset({"repairs", "predicted", "correct"})

MetricKey = tuple[str, str, str, str, str]  # (split, stage, mode, metric, label)
Column = tuple[str, str]  # (split, stage)


# ------------------------------------------------------------------ runs


@dataclass(frozen=True, slots=True)
class StoredRun:
    """What ``compare`` reads of a finished run: its run row and its metrics."""

    run_id: str
    path: Path
    dataset: str
    tagger: str
    seed: int | None
    scheme: str
    created_utc: str
    config: Mapping[str, Any]
    fingerprints: Mapping[str, str]
    metrics: Mapping[MetricKey, float]
    # sentences of each scored split (stored since 0.3.8; empty for older runs)
    sizes: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))
    # per component role, the options it ran with that are not its default
    # (``ran_options``); a role missing here has the options of ``config``
    options: Mapping[str, Mapping[str, Any]] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def stages(self) -> tuple[str, ...]:
        found = {key[1] for key in self.metrics}
        return tuple(sorted(found, key=_stage_order))

    def last_stage(self, split: str = "test") -> str | None:
        stages = [key[1] for key in self.metrics if key[0] == split]
        return max(stages, key=_stage_order) if stages else None

    def value(self, split: str, stage: str, mode: str, metric: str) -> float | None:
        """The micro (or, for token metrics, ``all``) value of ``metric``."""
        for label in ("micro", "all"):
            found = self.metrics.get((split, stage, mode, metric, label))
            if found is not None:
                return found
        return None

    @property
    def group_split(self) -> str | None:
        """The split whose fingerprint defines this run's group."""
        for split in ("test", "dev"):
            if split in self.fingerprints:
                return split
        return None

    @property
    def kept_config(self) -> dict[str, Any]:
        """The config as the run ran it: each component's options as ``options`` has
        them (not as asked for), the keys that only name a repetition or what the data
        was called left out (``IGNORED_CONFIG_KEYS``), the fold settings of a run
        without a corrector, and keys set to nothing or to no options (a run stored
        before a setting existed has no key for it)."""
        config = dict(self.config)
        config |= {f"{role}_options": dict(opts) for role, opts in self.options.items()}
        unused = set() if config.get("corrector") else CORRECTOR_CONFIG_KEYS
        ignored = IGNORED_CONFIG_KEYS | unused
        return {k: v for k, v in config.items() if k not in ignored and v is not None and v != {}}

    @property
    def config_key(self) -> str:
        """``kept_config`` and the data (every split's fingerprint) as text: runs with
        equal keys differ only in seed."""
        return json.dumps([self.kept_config, self.data_key], sort_keys=True, default=str)

    @property
    def data_key(self) -> str:
        """The data the run was trained, tuned and scored on (every split's
        fingerprint) as text, whatever the dataset was called."""
        return json.dumps(dict(self.fingerprints), sort_keys=True)

    def describe(self) -> str:
        """The config in a few words: tagger and the options it ran with that are not
        its defaults, decoder and device when not the defaults (runs that differ only
        in them are rows of their own)."""
        cfg = self.kept_config
        words = [str(cfg.get("tagger") or self.tagger)]
        words += [f"{k}={_option(v)}" for k, v in sorted((cfg.get("tagger_options") or {}).items())]
        # how the data was read (-D): runs on one folder read two ways are two rows
        words += [
            f"data:{k}={_option(v)}" for k, v in sorted((cfg.get("dataset_options") or {}).items())
        ]
        if cfg.get("corrector"):
            words.append(f"+ {cfg['corrector']}")
            opts = cfg.get("corrector_options") or {}
            words += [f"{k}={_option(v)}" for k, v in sorted(opts.items())]
        decoder = str(cfg.get("decoder") or "")
        if decoder and not decoder.startswith("conlleval"):
            words.append(f"decoder={decoder.split('.')[0]}")
        device = str(cfg.get("device") or "cpu")
        if device != "cpu":
            words.append(f"device={device}")
        return " ".join(words)


def _option(value: Any) -> str:
    return json.dumps(value) if not isinstance(value, str) else value


def _stage_order(stage: str) -> tuple[int, str]:
    return (STAGES.index(stage) if stage in STAGES else len(STAGES), stage)


def load_run(path: Path) -> StoredRun:
    """Read a finished run folder (its ``run`` and ``metrics`` tables)."""
    path = Path(path)
    if path.name.endswith(store.PARTIAL):
        raise store.unfinished_error(path.name[: -len(store.PARTIAL)], path)
    row = store.read_table(path, "run").to_pylist()[0]
    extra = json.loads(row.get("extra") or "{}")
    config = typed_options(json.loads(row["config"]))
    metrics = {
        (r["split"], r["stage"], r["mode"], r["metric"], r["label"]): float(r["value"])
        for r in store.read_table(path, "metrics").to_pylist()
    }
    return StoredRun(
        run_id=row["run_id"],
        path=path,
        dataset=row["dataset"] or "",
        tagger=row["tagger"] or "",
        seed=row["seed"],
        scheme=row["scheme"] or "IOB2",
        created_utc=str(row["created_utc"]),
        config=MappingProxyType(config),
        fingerprints=MappingProxyType(json.loads(row["fingerprints"] or "{}")),
        metrics=MappingProxyType(metrics),
        sizes=MappingProxyType(extra.get("sentences") or {}),
        options=MappingProxyType(ran_options(config, extra.get("options") or {})),
    )


def typed_options(config: dict[str, Any]) -> dict[str, Any]:
    """``config`` with the components' options typed as their plugins type them.

    Runs stored before 0.3.7 kept command-line options as strings (``epochs="10"``)
    and Python ones as given (``epochs=10``): one config, two rows. A run whose options
    hold such a string is typed again by its installed plugin; a plugin that is gone or
    no longer takes an option leaves the options as stored."""
    from nerkit.options import given
    from nerkit.pipeline import ROLES, options_class
    from nerkit.plugin.host import get_host

    for role in ROLES:
        name, options = config.get(role), config.get(f"{role}_options")
        if not name or not options or not any(map(_untyped, options.values())):
            continue
        try:
            full, cls = options_class(get_host(), role, name)
            config[f"{role}_options"] = given(cls, options, component=full)
        except NerkitError:
            continue
    return config


def ran_options(
    config: Mapping[str, Any], recorded: Mapping[str, Mapping[str, Any]]
) -> dict[str, dict[str, Any]]:
    """For each component of ``config``, the options it ran with that are not the
    installed plugin's default: ``-T max_length=8`` at the default 8 is a run without
    it, and options equal to a default need not be named in a row's label.

    ``recorded`` is what a run stores of every option it ran with (``extra.options``,
    since 0.3.7): a run made before a default changed keeps the value it ran with, and
    an option added since, not recorded, has its default (as ``nerkit sweep`` takes
    it). An older run has only its asked options, which count over today's defaults.
    A plugin that is not installed (or no longer takes an option, or cannot say its
    defaults) leaves the options as stored: every option recorded, else those asked."""
    from nerkit.options import as_dict, build_options, given
    from nerkit.pipeline import ROLES, options_class
    from nerkit.plugin.host import get_host

    out: dict[str, dict[str, Any]] = {}
    for role in ROLES:
        name = config.get(role)
        if not name:
            continue
        asked = dict(config.get(f"{role}_options") or {})
        ran = recorded.get(role)
        try:
            full, cls = options_class(get_host(), role, name)
            defaults = _plain(as_dict(build_options(cls, {}, component=full)))
            used = _plain(ran if ran is not None else given(cls, asked, component=full))
        except (NerkitError, TypeError):
            out[role] = dict(ran) if ran is not None else asked
            continue
        # an option the plugin no longer has stays: nothing says it was a default
        out[role] = {k: v for k, v in used.items() if k not in defaults or v != defaults[k]}
    return out


def _plain(options: Mapping[str, Any]) -> dict[str, Any]:
    """Options as stored in JSON (a tuple as a list, a path as text), to compare a
    recorded option with a default."""
    return json.loads(json.dumps(dict(options), default=str))


def _untyped(value: Any) -> bool:
    """A string a command line may have left where a number or a switch was meant."""
    if not isinstance(value, str):
        return False
    if value.lower() in ("true", "false", "yes", "no", "on", "off", "none", "null"):
        return True
    try:
        float(value.replace("_", ""))
    except ValueError:
        return False
    return True


def resolve_runs(refs: Sequence[str | Path], runs_dir: Path) -> list[Path]:
    """Run folders from run folders, run ids (looked up in ``runs_dir``) and folders
    holding runs (every finished run inside, oldest first). No refs: every finished
    run in ``runs_dir``. Duplicates are dropped; the order of first mention is kept."""
    if not refs and not Path(runs_dir).is_dir():
        raise NerkitError(
            f"no runs to compare: {runs_dir} is not a folder (name run folders, run ids "
            "or folders of runs, or the folder of runs with --runs)"
        )
    found: dict[Path, None] = {}
    for ref in refs or [runs_dir]:
        for path in _expand(ref, runs_dir):
            found.setdefault(path.resolve(), None)
    if not found:
        where = ", ".join(str(r) for r in refs) if refs else str(runs_dir)
        raise NerkitError(f"no finished runs to compare in {where}")
    return list(found)


def _expand(ref: str | Path, runs_dir: Path) -> list[Path]:
    path = Path(ref)
    if path.name.endswith(store.PARTIAL) and path.is_dir():
        load_run(path)  # raises: unfinished
    if (path / "run.arrow").exists():
        return [path]
    if path.is_dir() and not (runs_dir / str(ref) / "run.arrow").exists():
        finished = [r.path for r in store.list_runs(path) if r.complete]
        if not finished:
            listed = store.list_runs(path)
            unfinished = [r.run_id for r in listed if not r.problem]
            unreadable = [f"{r.run_id}: {r.problem}" for r in listed if r.problem]
            notes = [f"unfinished: {', '.join(unfinished)}"] if unfinished else []
            notes += [f"unreadable: {'; '.join(unreadable)}"] if unreadable else []
            extra = f" ({'; '.join(notes)})" if notes else ""
            raise NerkitError(f"no finished runs in {path}{extra}")
        return finished
    return [store.find_run(str(ref), runs_dir)]


def resolve_baseline(ref: str | Path, paths: Sequence[Path], runs_dir: Path) -> Path:
    """The baseline's folder: one of ``paths`` whose folder is named ``ref``, else a
    run folder or a run id looked up in ``runs_dir``."""
    for path in paths:
        if path.name == str(ref):
            return path
    return store.find_run(str(ref), runs_dir)


# ------------------------------------------------------------ the table


@dataclass(frozen=True, slots=True)
class Cell:
    """The values of one column for the runs of a row."""

    values: tuple[float, ...]

    @property
    def n(self) -> int:
        return len(self.values)

    @property
    def mean(self) -> float:
        return float(np.mean(self.values))

    @property
    def std(self) -> float | None:
        """The sample standard deviation; None for one value (it has no spread to
        estimate, and 0.0 would claim one)."""
        return float(np.std(self.values, ddof=1)) if self.n > 1 else None


@dataclass(frozen=True, slots=True)
class Row:
    """One configuration: one run, or the runs that differ from each other only in seed."""

    runs: tuple[StoredRun, ...]
    cells: Mapping[Column, Cell]
    baseline: bool = False
    delta: float | None = None
    p_value: float | None = None
    tests: tuple[PairedTest, ...] = ()  # one per run, in the order of ``runs``
    # config keys (as ``key=value``) that set this row apart from others of its group
    # and that ``describe`` leaves out
    extra: tuple[str, ...] = ()

    @property
    def config(self) -> str:
        return " ".join([self.runs[0].describe(), *self.extra])

    @property
    def seeds(self) -> tuple[int | None, ...]:
        return tuple(r.seed for r in self.runs)


@dataclass(frozen=True, slots=True)
class Group:
    """Runs scored on the same data: ``split``'s fingerprint is ``fingerprint``."""

    split: str
    fingerprint: str
    datasets: tuple[str, ...]
    columns: tuple[Column, ...]
    rows: tuple[Row, ...]
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Comparison:
    """Every group of a comparison and the settings that produced its numbers."""

    groups: tuple[Group, ...]
    metric: str
    mode: str
    baseline: str | None = None
    test: str | None = None  # the paired test's method name, None without baseline or test
    iterations: int = 1000
    seed: int = 13
    notes: tuple[str, ...] = ()

    @property
    def percent(self) -> bool:
        return self.metric not in COUNT_METRICS

    def to_dict(self) -> dict[str, Any]:
        """Everything, with raw values (shares, not percentages), for JSON."""
        return {
            "metric": self.metric,
            "mode": self.mode,
            "baseline": self.baseline,
            "test": self.test,
            "iterations": self.iterations,
            "seed": self.seed,
            "notes": list(self.notes),
            "groups": [
                {
                    "split": g.split,
                    "fingerprint": g.fingerprint,
                    "datasets": list(g.datasets),
                    "notes": list(g.notes),
                    "columns": [column_name(c) for c in g.columns],
                    "rows": [_row_dict(row, g.columns) for row in g.rows],
                }
                for g in self.groups
            ],
        }

    def records(self) -> list[dict[str, Any]]:
        """One flat record per row (raw values), the columns of every group together:
        for CSV and data frames."""
        columns = list(dict.fromkeys(c for g in self.groups for c in g.columns))
        out = []
        for number, g in enumerate(self.groups, 1):
            for row in g.rows:
                record: dict[str, Any] = {
                    "group": number,
                    "datasets": " ".join(g.datasets),
                    f"{g.split}_fingerprint": g.fingerprint,
                    "runs": " ".join(r.run_id for r in row.runs),
                    "config": row.config,
                    "seeds": " ".join(str(s) for s in row.seeds),
                    "n": len(row.runs),
                    "baseline": row.baseline,
                }
                for column in columns:
                    cell = row.cells.get(column)
                    record[column_name(column)] = cell.mean if cell else None
                    record[f"{column_name(column)} std"] = cell.std if cell else None
                record["delta"] = row.delta
                record["p_value"] = row.p_value
                out.append(record)
        # One header for every record, so that a CSV writer needs no special case.
        keys = list(dict.fromkeys(k for r in out for k in r))
        return [{k: r.get(k) for k in keys} for r in out]


def column_name(column: Column) -> str:
    return f"{column[0]} {column[1]}"


def _row_dict(row: Row, columns: Sequence[Column]) -> dict[str, Any]:
    return {
        "runs": [r.run_id for r in row.runs],
        "config": row.config,
        "seeds": list(row.seeds),
        "n": len(row.runs),
        "baseline": row.baseline,
        "values": {
            column_name(c): {
                "mean": row.cells[c].mean,
                "std": row.cells[c].std,
                "n": row.cells[c].n,
                "values": list(row.cells[c].values),
            }
            for c in columns
            if c in row.cells
        },
        "delta": row.delta,
        "p_value": row.p_value,
        "tests": [
            {"run": r.run_id, "delta": t.delta, "p_value": t.p_value}
            for r, t in zip(row.runs, row.tests, strict=True)
        ]
        if row.tests
        else [],
    }


# ------------------------------------------------------------- compare


def compare_runs(
    paths: Iterable[Path],
    *,
    metric: str = "f1",
    mode: str = "lenient",
    baseline: Path | None = None,
    test: str = "bootstrap",
    iterations: int = 1000,
    seed: int = 13,
) -> Comparison:
    """Group and line up the runs in ``paths`` (see the module docstring).

    ``test`` is ``bootstrap`` (paired bootstrap), ``ar`` (approximate randomisation)
    or ``none``; ``iterations`` its resamples or trials, ``seed`` its random seed.
    """
    from nerkit.export import is_export

    if mode not in MODES:
        raise ConfigError(f"unknown mode {mode!r} (known: {', '.join(MODES)})")
    if test not in TESTS:
        raise ConfigError(f"unknown test {test!r} (known: {', '.join(TESTS)})")
    loaded = {p.resolve(): load_run(p) for p in paths}
    base_run = None
    if baseline is not None:
        key = Path(baseline).resolve()
        base_run = loaded[key] if key in loaded else loaded.setdefault(key, load_run(baseline))
    if not loaded:
        raise NerkitError("no runs to compare")
    runs, twice = _one_per_id(list(loaded.values()))
    if base_run is not None:
        base_run = runs[base_run.run_id]
    _check_metric(list(runs.values()), metric, mode)

    by_group: dict[tuple[str, str], list[StoredRun]] = {}
    for run in runs.values():
        split = run.group_split
        if split is None:
            raise NerkitError(f"run {run.run_id} has no dev or test split to compare")
        by_group.setdefault((split, run.fingerprints[split]), []).append(run)
    if base_run is not None:
        _check_baseline(base_run, by_group)

    counts = _CountsCache(mode)
    groups = tuple(
        _group(split, fp, members, metric, mode, base_run, test, iterations, seed, counts)
        for (split, fp), members in by_group.items()
    )
    notes = [
        f"{kept.run_id} is counted once, from {kept.path}: {other.path} holds the same run "
        f"({'an export' if is_export(other.path) else 'a copy'} of it)"
        for kept, other in twice
    ]
    method = None
    if base_run is not None and test != "none":
        if metric in STATISTICS:
            method = BOOTSTRAP if test == "bootstrap" else RANDOMIZATION
        else:
            notes.append(f"no paired test for {metric}: tests cover {', '.join(STATISTICS)}")
    return Comparison(
        groups=groups,
        metric=metric,
        mode=mode,
        baseline=base_run.run_id if base_run else None,
        test=method,
        iterations=iterations,
        seed=seed,
        notes=tuple(notes),
    )


def _one_per_id(
    runs: Sequence[StoredRun],
) -> tuple[dict[str, StoredRun], list[tuple[StoredRun, StoredRun]]]:
    """One run of each run id, and the (counted, left out) pairs of the others: a run
    named together with its export (or a copy of its folder) is one run, not a rerun
    of itself. The run's own folder is counted rather than an export (the same
    numbers; its predictions are the original), else the one named first."""
    from nerkit.export import is_export

    kept: dict[str, StoredRun] = {}
    for run in runs:
        held = kept.get(run.run_id)
        if held is None or (is_export(held.path) and not is_export(run.path)):
            kept[run.run_id] = run
    # in the order the kept runs were named; every other folder of an id, once
    ordered = {r.run_id: kept[r.run_id] for r in runs}
    twice = [(kept[r.run_id], r) for r in runs if kept[r.run_id] is not r]
    return ordered, twice


def _check_metric(runs: Sequence[StoredRun], metric: str, mode: str) -> None:
    known = sorted({key[3] for run in runs for key in run.metrics})
    if metric not in known:
        raise ConfigError(f"no metric {metric!r} in these runs (stored: {', '.join(known)})")
    modes = sorted({key[2] for run in runs for key in run.metrics if key[3] == metric})
    if mode not in modes:
        raise ConfigError(
            f"no metric {metric!r} in mode {mode} in these runs: it is stored in mode "
            f"{', '.join(modes)} only (use --mode {modes[0]})"
        )


def _check_baseline(
    base: StoredRun, by_group: Mapping[tuple[str, str], Sequence[StoredRun]]
) -> None:
    fingerprint = base.fingerprints.get("test")
    if fingerprint is None:
        raise NerkitError(
            f"baseline {base.run_id} has no test split; a baseline is compared on test predictions"
        )
    others = [
        r for key, members in by_group.items() if key != ("test", fingerprint) for r in members
    ]
    if others:
        shown = "; ".join(
            f"{r.run_id} (dataset {r.dataset}, test fingerprint "
            f"{_short(r.fingerprints.get('test'))})"
            for r in others
        )
        raise NerkitError(
            f"baseline {base.run_id} (dataset {base.dataset}, test fingerprint "
            f"{_short(fingerprint)}) is scored on other test data than {shown}; a baseline "
            "is compared only with runs on the same test split: leave those runs out, "
            "or compare without --baseline"
        )


def _short(fingerprint: str | None) -> str:
    return fingerprint[:12] if fingerprint else "none (no test split)"


def _group(
    split: str,
    fingerprint: str,
    members: Sequence[StoredRun],
    metric: str,
    mode: str,
    base: StoredRun | None,
    test: str,
    iterations: int,
    seed: int,
    counts: _CountsCache,
) -> Group:
    columns = tuple(
        (s, stage)
        for s in SPLITS
        for stage in sorted({st for r in members for st in r.stages}, key=_stage_order)
        if any(r.value(s, stage, mode, metric) is not None for r in members)
    )
    # Seed siblings share a row; the baseline is one run, so it is a row of its own.
    configs: dict[str, list[StoredRun]] = {}
    for run in members:
        key = "baseline" if run is base else run.config_key
        configs.setdefault(key, []).append(run)
    notes = []
    for runs in configs.values():
        kept, repeats = _one_per_seed(runs)
        runs[:] = kept
        notes += [
            f"{old.run_id} repeats seed {old.seed} of {new.run_id} (test {metric} "
            f"{_shown(_final(old, mode, metric), metric)} and "
            f"{_shown(_final(new, mode, metric), metric)}): "
            "only the newer run is counted"
            for old, new in repeats
        ]
    # A row's runs in seed order, whatever order they were named or finished in.
    for runs in configs.values():
        runs.sort(key=lambda r: (r.seed is None, r.seed or 0))
    ordered = sorted(configs.items(), key=lambda item: item[0] != "baseline")

    base_value = _final(base, mode, metric) if base is not None else None
    names = _data_names(members)
    extras = _extra_words([runs[0] for _, runs in ordered], names)
    rows = []
    for (key, runs), extra in zip(ordered, extras, strict=True):
        cells = {
            c: Cell(tuple(v for r in runs if (v := r.value(c[0], c[1], mode, metric)) is not None))
            for c in columns
        }
        cells = {c: cell for c, cell in cells.items() if cell.n}
        if base is None or key == "baseline":
            rows.append(
                Row(tuple(runs), MappingProxyType(cells), baseline=key == "baseline", extra=extra)
            )
            continue
        finals = [v for r in runs if (v := _final(r, mode, metric)) is not None]
        delta = float(np.mean(finals)) - base_value if finals and base_value is not None else None
        tests: tuple[PairedTest, ...] = ()
        if test != "none" and metric in STATISTICS:
            tests = tuple(_paired(counts, base, r, test, iterations, seed, metric) for r in runs)
        p_value = _row_p(tests, delta) if tests else None
        rows.append(Row(tuple(runs), MappingProxyType(cells), False, delta, p_value, tests, extra))

    if _data_differs(members, "train"):
        notes.append(
            "the train splits of these runs differ: runs trained on other data are rows of "
            "their own, labelled train= and the fingerprint's first 12 characters"
        )
    dev = {r.fingerprints.get("dev") for r in members}
    if split == "test" and len(dev) > 1:
        notes.append(
            "the dev splits of these runs differ (rows labelled dev=): their dev columns "
            "are not comparable"
        )
    return Group(
        split=split,
        fingerprint=fingerprint,
        datasets=tuple(dict.fromkeys(names[r.data_key] for r in members)),
        columns=columns,
        rows=tuple(rows),
        notes=tuple(notes),
    )


def _row_p(tests: Sequence[PairedTest], delta: float | None) -> float:
    """The largest p-value of a row's runs, a run whose delta has not the sign of the
    row's delta counted as 1: a seed much worse than the baseline does not support a
    row that is better on average (nor is a row of delta 0 better or worse)."""
    if delta is None:
        delta = float(np.mean([t.delta for t in tests]))
    direction = np.sign(delta)
    return max(t.p_value if np.sign(t.delta) == direction else 1.0 for t in tests)


def _data_names(runs: Iterable[StoredRun]) -> dict[str, str]:
    """The name of each data (``data_key``) of ``runs``: the dataset as its newest run
    called it, so that one folder given as ``small``, ``./small`` and ``/data/small/``
    is one dataset, not three."""
    names: dict[str, str] = {}
    for run in sorted(runs, key=lambda r: (r.created_utc, r.run_id)):
        names[run.data_key] = run.dataset
    return names


def _extra_words(runs: Sequence[StoredRun], names: Mapping[str, str]) -> list[tuple[str, ...]]:
    """For one run of each row of a group, the ``key=value`` words its label needs
    besides ``describe``: the config keys whose values differ between the rows, each
    named in the rows that set it, then the data where it differs (``_data_words``).
    Keys that ``describe`` shows (the decoder and the device only when not the
    defaults, without a version) are named too only when the labels of different
    configs would still be equal."""
    configs = [run.kept_config for run in runs]
    keys = sorted({k for c in configs for k in c})
    differ = [
        k
        for k in keys
        if len({json.dumps(c.get(k), sort_keys=True, default=str) for c in configs}) > 1
    ]
    data = _data_words(runs, names)

    def words(keys: Sequence[str]) -> list[tuple[str, ...]]:
        return [
            tuple(f"{k}={_option(c[k])}" for k in keys if k in c) + d
            for c, d in zip(configs, data, strict=True)
        ]

    extras = words([k for k in differ if k not in DESCRIBED_CONFIG_KEYS])
    labels = {" ".join([r.describe(), *e]) for r, e in zip(runs, extras, strict=True)}
    if len(labels) < len({run.config_key for run in runs}):
        extras = words(differ)
    return extras


def _data_words(runs: Sequence[StoredRun], names: Mapping[str, str]) -> list[tuple[str, ...]]:
    """For one run of each row of a group, the words that tell the rows' data apart
    where it differs: the dataset's name (``names``) and each split's fingerprint,
    its first 12 characters as a group's title shows it (``train=30b1ac053a47``;
    ``train=none``: a run without that split)."""
    data = [
        {"dataset": names[r.data_key]} | {s: fp[:12] for s, fp in r.fingerprints.items()}
        for r in runs
    ]
    splits = sorted({s for d in data for s in d} - {"dataset"}, key=_split_order)
    differ = [k for k in ("dataset", *splits) if len({d.get(k) for d in data}) > 1]
    differ = [k for k in differ if k == "dataset" or _data_differs(runs, k)]
    return [tuple(f"{k}={d.get(k) or 'none'}" for k in differ) for d in data]


def _data_differs(runs: Sequence[StoredRun], split: str) -> bool:
    """Whether runs that cut ``split`` alike (``max_train_sentences``, ...) hold other
    data in it: runs that cut it otherwise differ in it by their settings, which their
    labels name already."""
    from nerkit.pipeline import SPLIT_LIMITS

    limit = dict(SPLIT_LIMITS).get(split)
    seen: dict[Any, set[str | None]] = {}
    for run in runs:
        seen.setdefault(run.config.get(limit) if limit else None, set()).add(
            run.fingerprints.get(split)
        )
    return any(len(fingerprints) > 1 for fingerprints in seen.values())


def _split_order(split: str) -> tuple[int, str]:
    order = ("train", *SPLITS)
    return (order.index(split) if split in order else len(order), split)


def _one_per_seed(
    runs: Sequence[StoredRun],
) -> tuple[list[StoredRun], list[tuple[StoredRun, StoredRun]]]:
    """The newest run of each seed (every run without a seed), and the (left out,
    counted) pairs of the others."""
    newest: dict[int, StoredRun] = {}
    for run in runs:
        if run.seed is not None:
            held = newest.get(run.seed)
            if held is None or (run.created_utc, run.run_id) > (held.created_utc, held.run_id):
                newest[run.seed] = run
    kept = [r for r in runs if r.seed is None or newest[r.seed] is r]
    repeats = [(r, newest[r.seed]) for r in runs if r.seed is not None and newest[r.seed] is not r]
    return kept, repeats


def _shown(value: float | None, metric: str) -> str:
    return "none" if value is None else format_value(value, metric not in COUNT_METRICS)


def _final(run: StoredRun, mode: str, metric: str) -> float | None:
    stage = run.last_stage("test")
    return run.value("test", stage, mode, metric) if stage is not None else None


def _paired(
    counts: _CountsCache,
    base: StoredRun,
    run: StoredRun,
    test: str,
    iterations: int,
    seed: int,
    metric: str,
) -> PairedTest:
    a, b = counts.get(base), counts.get(run)
    # A run whose last sentences are empty stores no rows for them: pad with zeros.
    size = max(len(a), len(b))
    a, b = _padded(a, size), _padded(b, size)
    try:
        if test == "ar":
            return approximate_randomization_counts(
                a, b, trials=iterations, seed=seed, statistic=metric
            )
        return paired_bootstrap_counts(a, b, resamples=iterations, seed=seed, statistic=metric)
    except InputError as exc:
        raise NerkitError(
            f"cannot test {run.run_id} against baseline {base.run_id}: {exc.reason}"
        ) from None


def _padded(counts: SentenceCounts, size: int) -> SentenceCounts:
    if len(counts) == size:
        return counts
    extra = size - len(counts)
    return SentenceCounts(
        *(
            np.concatenate([a, np.zeros(extra, np.int64)])
            for a in (counts.correct, counts.predicted, counts.gold)
        )
    )


class _CountsCache:
    """Per-sentence entity counts of each run's test predictions, read once per run."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self._counts: dict[Path, SentenceCounts] = {}

    def get(self, run: StoredRun) -> SentenceCounts:
        if run.path not in self._counts:
            self._counts[run.path] = stored_counts(run, "test", None, self.mode)
        return self._counts[run.path]


def stored_counts(
    run: StoredRun, split: str = "test", stage: str | None = None, mode: str = "lenient"
) -> SentenceCounts:
    """Per-sentence entity counts of a run's stored predictions of ``split`` at ``stage``
    (default: the split's last stage), indexed by the stored sentence number."""
    stage = stage or run.last_stage(split) or "base"
    numbers, found = sentence_counts_of(run, split, stage, mode)
    if not numbers.size:
        raise NerkitError(f"run {run.run_id} stores no {split} predictions of stage {stage}")
    # empty sentences store no rows: the split's size counts those at its end too
    size = max(int(numbers.max()) + 1, int(run.sizes.get(split, 0)))
    full = []
    for a in (found.correct, found.predicted, found.gold):
        column = np.zeros(size, dtype=np.int64)
        column[numbers] = a
        full.append(column)
    return SentenceCounts(*full)


def sentence_counts_of(
    run: StoredRun, split: str, stage: str, mode: str = "lenient"
) -> tuple[np.ndarray, SentenceCounts]:
    """The numbers of the stored sentences of one block of a run and their entity
    counts: computed from the run's predictions, or read from the ``counts`` table of
    a results-only copy (``nerkit.export``)."""
    from nerkit.export import is_export

    if not is_export(run.path):
        gold, predicted, numbers = stored_sentences(run.path, split, stage)
        return numbers, sentence_counts(gold, predicted, run.scheme, mode)
    table = store.read_table(run.path, "counts")
    keep = pc.and_(
        pc.and_(pc.equal(table["split"], split), pc.equal(table["stage"], stage)),
        pc.equal(table["mode"], mode),
    )
    block = table.filter(keep).sort_by("sentence")
    numbers = block["sentence"].to_numpy().astype(np.int64)
    found = SentenceCounts(*(block[name].to_numpy() for name in ("correct", "predicted", "gold")))
    return numbers, found


def stored_blocks(run_dir: Path) -> list[tuple[str, str]]:
    """The (split, stage) blocks of a run's stored predictions that hold gold tags."""
    table = store.read_table(run_dir, "predictions")
    table = pa.table(
        {
            "split": table["split"].cast(pa.string()),
            "stage": table["stage"].cast(pa.string()),
            "gold": table["gold"].cast(pa.string()),
            "token": table["token"],
        }
    )
    sizes = table.group_by(["split", "stage"]).aggregate([("gold", "count"), ("token", "count")])
    return sorted(
        (r["split"], r["stage"])
        for r in sizes.to_pylist()
        if r["gold_count"] and r["gold_count"] == r["token_count"]
    )


def stored_sentences(
    run_dir: Path, split: str, stage: str
) -> tuple[list[np.ndarray], list[np.ndarray], np.ndarray]:
    """Gold and predicted tags per sentence of one block of a run's predictions, and the
    sentence numbers they belong to (sentences without tokens store no rows)."""
    table = store.read_table(run_dir, "predictions")
    keep = pc.and_(
        pc.equal(table["split"].cast(pa.string()), split),
        pc.equal(table["stage"].cast(pa.string()), stage),
    )
    block = table.filter(keep).select(["sentence", "token", "gold", "predicted"])
    sentence = block["sentence"].to_numpy()
    token = block["token"].to_numpy()
    # Stored sorted already; sort only when a writer did not.
    if sentence.size > 1 and (
        (np.diff(sentence) < 0).any() or ((np.diff(sentence) == 0) & (np.diff(token) <= 0)).any()
    ):
        order = np.lexsort((token, sentence))
        block, sentence = block.take(pa.array(order)), sentence[order]
    if block["gold"].null_count:
        raise NerkitError(f"{run_dir}: the {split} predictions have no gold tags to test against")
    gold, predicted = (_strings(block[name]) for name in ("gold", "predicted"))
    starts = np.flatnonzero(np.diff(sentence)) + 1
    numbers = sentence[np.concatenate(([0], starts))] if sentence.size else sentence
    return np.split(gold, starts), np.split(predicted, starts), numbers.astype(np.int64)


def _strings(column: pa.ChunkedArray) -> np.ndarray:
    """A dictionary column as an object array of str, decoded through its dictionary
    (one Python string per distinct tag instead of one per token)."""
    array = column.combine_chunks()
    if not pa.types.is_dictionary(array.type):
        return np.array(array.to_pylist(), dtype=object)
    names = np.array(array.dictionary.to_pylist(), dtype=object)
    return names[array.indices.to_numpy(zero_copy_only=False)]


def format_value(value: float | None, percent: bool = True) -> str:
    """A value as shown in tables: percentages with two decimals, counts as they are."""
    if value is None or math.isnan(value):
        return ""
    return f"{100 * value:.2f}" if percent else f"{value:g}"


__all__ = [
    "Cell",
    "Comparison",
    "Group",
    "Row",
    "StoredRun",
    "column_name",
    "compare_runs",
    "format_value",
    "load_run",
    "ran_options",
    "resolve_baseline",
    "resolve_runs",
    "sentence_counts_of",
    "stored_blocks",
    "stored_counts",
    "stored_sentences",
]
