"""Does correction pay? The main job (`nerkit run --tagger T --corrector openner`) on
WNUT-17 with 5 folds, against its own base stage and against the `bert` tagger alone.

Runs (each a normal stored run in `benchmarks/.cache/correction/runs`), all with the
corrector's epochs E (its default unless `--epochs`), which name the plan: its keys read
`eE/CONFIG/sSEED`, so a plan for other epochs keeps the runs and results of the last
(with `--fold-mode entity-disjoint`, the correctors' keys read `eE-ed/CONFIG/sSEED`, and
the taggers alone are the random plan's; `--name NAME` runs the whole plan anew, the
taggers alone included, under keys `eE@NAME/...`, e.g. to judge it again at a later
commit):
- the flair tagger alone (its default options), seeds 1, 2, 3: the correction runs of a
  seed reuse it as their base (nerkit does not retrain a base another run trained at
  the same commit);
- flair base + openner `onehot`, seeds 1, 2, 3;
- flair base + openner `add` and `concat`, seed 1; then the better of the two (by
  corrected dev F1, so that test F1 picks nothing) for seeds 2 and 3;
- bert base + openner `onehot`, seed 1;
- the `bert` tagger alone with the corrector's encoder and epochs E, seeds 1, 2, 3.

The folds of a base tagger are computed once per seed and shared by its correctors
(nerkit's out-of-fold cache). Reported per configuration: base and corrected test F1 as
mean ± std over seeds, their difference, and the paired approximate-randomisation
p-value of corrected vs base (nerkit.compare's stored counts; the largest over seeds),
and the mean CPU time a run spent (its own work: a reused base or folds cost it nothing).
Targets: corrected >= base for every base tagger and mode; with the flair base,
corrected >= +1.0 F1 over the better of the flair base and the bert tagger alone.

Resumable: `.cache/correction/index.json` maps each planned run to its run id as soon
as the run is created; an unfinished run is resumed (`Run.resume`), so an interrupted
benchmark continues where it stopped. Several processes may share the plan (one per
core, each with `--threads 1`: two one-thread runs use two cores better than one
two-thread run): a process takes the first planned run whose base tagger and seed no
other process holds (an OS file lock, released when the process dies), so the runs that
share a base and its folds still run one after the other, and it waits while every
remaining run is held. The index files are read and written under a lock.

A finished run is exported at once (`nerkit export`: run record, metrics and
per-sentence counts, tens of kilobytes, no models or corpus text) into
`results/correction/`, which is committed with its own `index.json`: a planned run found
there is skipped on any machine, and `--report` prints the table from it alone.

    nohup python benchmarks/correction.py [--threads 2] [--only KEY] > correction.log &
    nohup python benchmarks/correction.py --threads 1 >> a.log &  # one per core
    nohup python benchmarks/correction.py --threads 1 >> b.log &
    python benchmarks/correction.py --report [--epochs 3] [--fold-mode entity-disjoint]
    python benchmarks/correction.py --report --name NAME  # a plan run anew
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import platform
import statistics
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

CACHE = Path(__file__).resolve().parent / ".cache" / "correction"
RUNS = CACHE / "runs"
INDEX = CACHE / "index.json"
LOCKS = CACHE / "locks"
RESULTS = Path(__file__).resolve().parent / "results" / "correction"
RESULTS_INDEX = RESULTS / "index.json"
SEEDS = (1, 2, 3)
FOLDS = 5
OTHER_MODES = ("add", "concat")
# what a plan's keys add to its epochs for the corrector's folds (nerkit.folds modes)
FOLD_TAGS = {"random": "", "entity-disjoint": "-ed"}
WAIT_S = 60  # how often a process whose remaining runs are all held looks again


def data_dir() -> Path:
    default = Path(__file__).resolve().parents[2] / "shared" / "data"
    return Path(os.environ.get("NERKIT_DATA_DIR", default))


@dataclass(frozen=True)
class Planned:
    key: str  # "eEPOCHS/CONFIG/sSEED"
    tagger: str
    seed: int
    corrector: str | None = None
    corrector_options: dict[str, Any] = field(default_factory=dict)
    tagger_options: dict[str, Any] = field(default_factory=dict)
    fold_mode: str = "random"  # of the corrector's out-of-fold predictions

    @property
    def config(self) -> str:
        return self.key.rsplit("/", 1)[0]

    @property
    def group(self) -> str:
        """The runs that share a base tagger and its folds: one process at a time."""
        return f"{self.tagger}-s{self.seed}"


def corrector_epochs() -> int:
    from nerkit_openner.corrector import OpenNEROptions

    return OpenNEROptions().epochs


def plan_key(epochs: int, config: str, seed: int, fold_mode: str = "random", name: str = "") -> str:
    """A planned run's key: ``plan_key(10, "flair+add", 1)`` -> ``e10/flair+add/s1``;
    with entity-disjoint folds ``e10-ed/flair+add/s1``; in a plan named ``r2``
    ``e10@r2/flair+add/s1``."""
    return f"e{epochs}{FOLD_TAGS[fold_mode]}{'@' + name if name else ''}/{config}/s{seed}"


def label(config: str) -> str:
    """A configuration without its plan's name: ``e10/flair+add`` -> ``flair+add``."""
    return config.split("/", 1)[1]


def plan(
    results: dict[str, str], epochs: int, fold_mode: str = "random", name: str = ""
) -> list[Planned]:
    """The runs of the plan whose corrector trains ``epochs`` epochs (stated in its
    options, so that a later default changes no run of it) on out-of-fold predictions
    of ``fold_mode`` folds. The taggers alone have no folds: every plan of ``epochs``
    and ``name`` shares them (their keys are the random plan's). A named plan shares
    no run with another plan."""
    runs = []
    best = best_other_mode(results, epochs, fold_mode, name)
    openner = {"epochs": epochs}
    for s in SEEDS:
        # The runs of a seed share its base tagger (trained by flair-alone) and its
        # folds (cached), so they run one after the other: a machine that keeps nothing
        # between sittings retrains them at most once per seed.
        runs.append(Planned(plan_key(epochs, "flair-alone", s, name=name), "flair", s))
        modes = ("onehot", *OTHER_MODES) if s == SEEDS[0] else ("onehot", *filter(None, [best]))
        runs += [
            Planned(
                plan_key(epochs, f"flair+{m}", s, fold_mode, name),
                "flair",
                s,
                "openner",
                openner | {"features": m},
                fold_mode=fold_mode,
            )
            for m in modes
        ]
    onehot = openner | {"features": "onehot"}
    key = plan_key(epochs, "bert+onehot", 1, fold_mode, name)
    runs.append(Planned(key, "bert", 1, "openner", onehot, fold_mode=fold_mode))
    runs += [
        Planned(
            plan_key(epochs, "bert-alone", s, name=name),
            "bert",
            s,
            tagger_options={"epochs": epochs},
        )
        for s in SEEDS
    ]
    return runs


def best_other_mode(
    results: dict[str, str], epochs: int, fold_mode: str = "random", name: str = ""
) -> str | None:
    """The better of add / concat by corrected dev F1 at seed 1, once both exist.

    Dev, not test: the choice must not look at the numbers it is then judged by. A tie
    goes to ``add``.
    """
    f1 = {}
    for mode in OTHER_MODES:
        key = plan_key(epochs, f"flair+{mode}", SEEDS[0], fold_mode, name)
        run = finished(results.get(key))
        if run is None:
            return None
        f1[mode] = split_f1(run, "dev", "corrected")
    return max(OTHER_MODES, key=lambda m: (f1[m], m == "add"))


def finished(run_id: str | None) -> Path | None:
    """The exported result of a finished run."""
    if run_id is None:
        return None
    path = RESULTS / run_id
    return path if path.is_dir() else None


def read_index(path: Path) -> dict[str, str]:
    return json.loads(path.read_text()) if path.is_file() else {}


def write_index(path: Path, index: dict[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(index, indent=1, sort_keys=True) + "\n")
    os.replace(tmp, path)


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """``path``'s index to itself while it is read, changed and written (the lock file
    sits in the cache: the results folder holds only what is committed)."""
    LOCKS.mkdir(parents=True, exist_ok=True)
    name = "results" if path == RESULTS_INDEX else "index"
    with open(LOCKS / f"{name}.lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def claim(item: Planned) -> IO[str] | None:
    """Hold ``item``'s group for this process; None when another process holds it."""
    LOCKS.mkdir(parents=True, exist_ok=True)
    handle = open(LOCKS / f"{item.group}.lock", "a")  # noqa: SIM115 (held past return)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return None
    return handle


def publish() -> dict[str, str]:
    """Export every finished run of the index that the results lack; the results."""
    from nerkit.export import export_run

    with locked(INDEX):
        index = read_index(INDEX)
    with locked(RESULTS_INDEX):
        results = read_index(RESULTS_INDEX)
        for key, run_id in sorted(index.items()):
            if key not in results and (RUNS / run_id / "run.arrow").is_file():
                export_run(RUNS / run_id, RESULTS)
                results[key] = run_id
                write_index(RESULTS_INDEX, results)
                print(f"{key}: exported {run_id} to {RESULTS}", flush=True)
    return results


def split_f1(run: Path, split: str, stage: str) -> float:
    from nerkit.compare import load_run

    value = load_run(run).value(split, stage, "lenient", "f1")
    if value is None:
        raise SystemExit(f"run {run.name} has no {stage} {split} F1")
    return value


def execute(item: Planned, threads: int | None) -> None:
    """Run (or resume) ``item``; its group must be held by this process."""
    from nerkit.pipeline import CodeChangedError, Run

    with locked(INDEX):
        run_id = read_index(INDEX).get(item.key)
    if run_id is not None and (RUNS / run_id).is_dir():
        return  # finished, to be exported
    start = time.perf_counter()
    if run_id is not None and (RUNS / f"{run_id}.partial").is_dir():
        print(f"{item.key}: resuming {run_id}", flush=True)
        try:
            Run.resume(RUNS, run_id).execute()
        except CodeChangedError as exc:
            # steps of other code are not mixed with this code's: the unfinished run
            # stays where it is, and the item starts again as a new run
            print(f"{item.key}: {exc}; started anew", flush=True)
            start_new(item, threads).execute()
    else:
        start_new(item, threads).execute()
    print(f"{item.key}: done in {time.perf_counter() - start:.0f} s", flush=True)


def start_new(item: Planned, threads: int | None) -> Any:
    """A new run of ``item``, recorded in the index (a ``nerkit.pipeline.Run``)."""
    from nerkit.pipeline import Run, RunConfig

    config = RunConfig(
        tagger=item.tagger,
        tagger_options=item.tagger_options,
        corrector=item.corrector,
        corrector_options=item.corrector_options,
        dataset="wnut17",
        data_dir=None,  # $NERKIT_DATA_DIR (set in main): no local path in the record
        folds=FOLDS,
        fold_mode=item.fold_mode,
        seed=item.seed,
        threads=threads,
        command=f"benchmarks/correction.py ({item.key})",
    )
    runner = Run.create(RUNS, config)
    with locked(INDEX):
        index = read_index(INDEX)
        index[item.key] = runner.run_id
        write_index(INDEX, index)
    print(f"{item.key}: started {runner.run_id}", flush=True)
    return runner


def p_value(run: Path) -> float:
    """Approximate randomisation, corrected vs base test predictions of one run."""
    from nerkit.compare import load_run, stored_counts
    from nerkit.evaluation.significance import approximate_randomization_counts

    stored = load_run(run)
    base = stored_counts(stored, "test", "base")
    corrected = stored_counts(stored, "test", "corrected")
    return approximate_randomization_counts(base, corrected, trials=10_000, seed=0).p_value


def mean_std(values: list[float]) -> str:
    if not values:
        return "-"
    std = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{100 * statistics.mean(values):.2f} ± {100 * std:.2f}"


def cpu_per_run(runs: list[Path]) -> str:
    """Mean CPU minutes of the runs that recorded their time (a correction run's own
    work: a base tagger or folds it reused are another run's)."""
    from nerkit.store import list_runs

    timed = [s.cpu_s for s in list_runs(RESULTS) if s.path in runs and s.cpu_s is not None]
    return f"{statistics.mean(timed) / 60:.0f} min" if timed else "-"


def report(results: dict[str, str], epochs: int, fold_mode: str = "random", name: str = "") -> None:
    configs: dict[str, list[Path]] = {}
    for item in plan(results, epochs, fold_mode, name):
        run = finished(results.get(item.key))
        configs.setdefault(item.config, [])
        if run is not None:
            configs[item.config].append(run)
    print(
        f"python {platform.python_version()}; WNUT-17 test, {FOLDS} {fold_mode} folds; "
        f"lenient entity F1; corrector epochs {epochs}" + (f"; plan {name}" if name else "")
    )
    print("| configuration | n | base F1 | corrected F1 | Δ | max p (AR) | CPU per run |")
    print("|---|---|---|---|---|---|---|")
    means: dict[str, float] = {}
    for config, runs in configs.items():
        base = [split_f1(r, "test", "base") for r in runs]
        cpu = cpu_per_run(runs)
        name = label(config)
        if name.endswith("-alone"):
            print(
                f"| {name.replace('-', ' ')} | {len(runs)} | {mean_std(base)} | - | - | - | {cpu} |"
            )
            if base:
                means[name] = statistics.mean(base)
            continue
        corrected = [split_f1(r, "test", "corrected") for r in runs]
        delta = [c - b for b, c in zip(base, corrected, strict=True)]
        p = max((p_value(r) for r in runs), default=None)
        print(
            f"| {name} | {len(runs)} | {mean_std(base)} | {mean_std(corrected)} | "
            f"{mean_std(delta)} | {'-' if p is None else f'{p:.3f}'} | {cpu} |"
        )
        if runs:
            means[name] = statistics.mean(corrected)
            means[f"{name}:base"] = statistics.mean(base)
    flair_rows = [k for k in means if k.startswith("flair+") and ":" not in k]
    if flair_rows and "bert-alone" in means:
        best = max(flair_rows, key=means.__getitem__)
        floor = max(means[f"{best}:base"], means["bert-alone"])
        gain = 100 * (means[best] - floor)
        print(
            f"best flair correction {best}: {gain:+.2f} F1 over the better of its base and "
            f"bert alone ({'meets' if gain >= 1.0 else 'misses'} the +1.0 target)"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=None, help="torch threads per run")
    parser.add_argument("--only", action="append", help="run only these KEYs (repeatable)")
    parser.add_argument("--report", action="store_true", help="print the table, run nothing")
    parser.add_argument(
        "--epochs", type=int, default=None, help="the corrector's epochs (its default)"
    )
    parser.add_argument(
        "--fold-mode",
        choices=sorted(FOLD_TAGS),
        default="random",
        help="the corrector's folds (a plan of its own; the taggers alone are shared)",
    )
    parser.add_argument(
        "--name",
        default="",
        help="run the whole plan anew under this name (e.g. at a later commit)",
    )
    args = parser.parse_args(argv)
    if args.name and not args.name.replace(".", "").replace("-", "").isalnum():
        parser.error(f"--name {args.name!r}: use letters, digits, '.' and '-'")
    epochs = args.epochs or corrector_epochs()
    os.environ.setdefault("NERKIT_DATA_DIR", str(data_dir()))
    RUNS.mkdir(parents=True, exist_ok=True)
    if not args.report:
        done_keys: set[str] = set()
        while True:  # the plan grows once add / concat are both done
            results = publish()
            todo = [
                item
                for item in plan(results, epochs, args.fold_mode, args.name)
                if item.key not in done_keys
                and finished(results.get(item.key)) is None
                and (not args.only or item.key in args.only)
            ]
            if not todo:
                break
            for item in todo:
                held = claim(item)
                if held is not None:
                    break
            else:
                time.sleep(WAIT_S)  # every remaining run is another process's
                continue
            with held:
                execute(item, args.threads)
            done_keys.add(item.key)
    report(read_index(RESULTS_INDEX), epochs, args.fold_mode, args.name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
