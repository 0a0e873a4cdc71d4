"""Executors: who does a sweep's runs.

* ``local``: one run after another in this process, straight in the run's folder
  (every step is kept as it finishes, as with ``nerkit run``).
* ``ray``: each run, and each fold of a correction run, is a Ray task with the run's
  CPU and GPU request; the driver ships the dataset and the unfinished run's files,
  and writes what comes back (each fold as soon as it is trained, so a killed sweep
  keeps them). The same spec runs on a laptop or a cluster (``address``); a cluster's
  machines need nerkit and the plugins installed, not the data or the output folder.

Either way the run's lock (``run.lock``, as ``nerkit run`` takes it) is held while the
run is being done: by ``Run.execute`` in the local executor, by the driver from the
run's start to its end on Ray, so that no other process (a ``--resume``, another sweep)
works on the run meanwhile, and a run another process holds is refused.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nerkit import store
from nerkit.errors import NerkitError
from nerkit.sweep.plan import MARKER, data_key
from nerkit.sweep.tasks import (
    ShippedDataset,
    TaskResult,
    fold_task,
    pinned_threads,
    run_task,
    unpack,
)

if TYPE_CHECKING:
    from nerkit.pipeline import FoldSetup, Run, RunConfig
    from nerkit.sweep.driver import SweepDriver
    from nerkit.sweep.plan import PlannedRun

# A worker that died (out of memory, killed) is retried once; an exception in nerkit
# is not retried: it comes back as a failure.
MAX_RETRIES = 1
# What the driver keeps in an unfinished run for itself: never sent, never removed.
DRIVER_FILES = frozenset({store.FAILURES, MARKER})
# The run's lock file, which the driver holds: never sent, and never written over with
# what a task sends back (a new file would be a lock nobody holds); it goes when the
# run is finished, as ``Run.execute`` removes it.
NOT_SENT = DRIVER_FILES | {store.RUN_LOCK}


def run_local(runs: Sequence[PlannedRun], driver: SweepDriver) -> None:
    for run in runs:
        try:
            runner = driver.start(run)
            with pinned_threads(run.cpus):
                final = runner.execute(loaded=driver.dataset(run))
        except Exception as exc:  # recorded; the sweep goes on (Ctrl-C still stops it)
            driver.failed_with(run, exc)
        else:
            driver.finished(run, final)


def import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise NerkitError(
            "the ray executor needs the ray library: pip install 'nerkit[ray]'"
        ) from None
    return ray


@dataclass
class _RunState:
    """A run on its way through Ray: its folds, then the run itself."""

    run: PlannedRun
    runner: Run
    setup: FoldSetup | None = None
    waiting: set[int] = field(default_factory=set)  # folds still training
    trained: set[int] = field(default_factory=set)  # folds trained by this sweep's tasks
    failed: bool = False
    # holds the run's lock from its start until nothing of it is out or waiting
    lock: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)


def run_ray(
    runs: Sequence[PlannedRun],
    driver: SweepDriver,
    *,
    address: str | None = None,
    num_cpus: int | None = None,
) -> None:
    """Run on the Ray instance this process is connected to, else on ``address``, else
    on a new local instance (``num_cpus`` CPUs; all by default)."""
    ray = import_ray()
    _allow_open_files()
    started = False
    if not ray.is_initialized():
        options: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False}
        if address is not None:
            options["address"] = address
        elif num_cpus is not None:
            options["num_cpus"] = num_cpus
        ray.init(**options)
        started = True
    try:
        _RayDriver(ray, driver).run(runs)
    finally:
        if started:
            ray.shutdown()


def _allow_open_files() -> None:
    """Raise this process's soft limit of open files to its hard limit (at most 2^16):
    the driver holds one run lock, an open file, per run it has started, and submits
    every run at once, so a sweep of a thousand runs would outgrow the usual soft limit
    of 1024 (256 on macOS). Where the limit cannot be raised it stays as it is."""
    with contextlib.suppress(ImportError, ValueError, OSError):
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        wanted = 1 << 16 if hard == resource.RLIM_INFINITY else min(hard, 1 << 16)
        if soft != resource.RLIM_INFINITY and soft < wanted:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


class _RayDriver:
    def __init__(self, ray: Any, driver: SweepDriver) -> None:
        self.ray = ray
        self.driver = driver
        self.fold_remote = ray.remote(max_retries=MAX_RETRIES)(fold_task)
        self.run_remote = ray.remote(max_retries=MAX_RETRIES)(run_task)
        # data_key (a dataset, how it is read) -> object ref of its ShippedDataset
        self.datasets: dict[tuple[str, str], Any] = {}
        self.pending: dict[Any, tuple[_RunState, int | None]] = {}  # ref -> (run, fold)
        # runs without a corrector: by what their tagger's training depends on; the
        # ones whose task is out; correction runs waiting for one of them to finish
        self.base_runs: dict[tuple[Any, ...], int] = {}
        self.running: set[int] = set()
        self.deferred: dict[int, list[_RunState]] = {}
        self.states: list[_RunState] = []  # every run started, its lock held or let go

    def _dataset(self, run: PlannedRun) -> Any:
        key = data_key(run.config)
        if key not in self.datasets:
            self.datasets[key] = self.ray.put(ShippedDataset.of(self.driver.dataset(run)))
        return self.datasets[key]

    def _resources(self, run: PlannedRun) -> dict[str, Any]:
        return {"num_cpus": run.cpus, "num_gpus": run.gpus}

    def run(self, runs: Sequence[PlannedRun]) -> None:
        try:
            self._run(runs)
        finally:  # stopped (Ctrl-C, Ray gone): every lock still held is let go
            for state in self.states:
                state.lock.close()

    def _run(self, runs: Sequence[PlannedRun]) -> None:
        for run in runs:
            if not run.config.corrector:
                self.base_runs.setdefault(base_key(run.config), run.number)
        for run in runs:
            try:
                self._submit(run)
            except Exception as exc:
                self.driver.failed_with(run, exc)
        while self.pending:
            ready, _ = self.ray.wait(list(self.pending), num_returns=1)
            state, fold = self.pending.pop(ready[0])
            result = self._result(ready[0])
            try:
                if fold is None:
                    self._run_done(state, result)
                else:
                    self._fold_done(state, fold, result)
            except Exception as exc:  # writing the result failed: recorded, go on
                if not state.failed:
                    state.failed = True
                    self.driver.failed_with(state.run, exc)
            if fold is None:
                self._release(state.run.number)
            self._settle(state)

    def _release(self, number: int) -> None:
        """Run ``number`` is done (or failed): submit the correction runs waiting for it."""
        self.running.discard(number)
        for state in self.deferred.pop(number, []):
            try:
                self._submit_run(state)
            except Exception as exc:
                state.failed = True
                self.driver.failed_with(state.run, exc)
            self._settle(state)

    def _settle(self, state: _RunState) -> None:
        """Let go of the run's lock once nothing of it is out (a fold, the run) or
        waiting for another run: it is finished, or failed and recorded."""
        if any(s is state for s, _ in self.pending.values()):
            return
        if any(s is state for waiting in self.deferred.values() for s in waiting):
            return
        state.lock.close()

    def _result(self, ref: Any) -> TaskResult:
        try:
            return self.ray.get(ref)
        except self.ray.exceptions.RayError as exc:  # the worker died, the task was cancelled
            first = str(exc).strip().splitlines()
            return TaskResult(
                False,
                error=f"{type(exc).__name__}: {first[0] if first else ''}",
                traceback=str(exc),
            )

    def _submit(self, run: PlannedRun) -> None:
        runner = self.driver.start(run)
        state = _RunState(run, runner)
        # the lock Run.execute takes in the local executor, taken before anything is
        # written into the run and held while its tasks are out: a run another process
        # runs is refused (NerkitError, recorded as the run's failure)
        state.lock.enter_context(runner.locked())
        self.states.append(state)
        try:
            self._submit_tasks(state)
        except BaseException:
            state.failed = True  # what is out of it comes back, and is not run on
            self._settle(state)
            raise

    def _submit_tasks(self, state: _RunState) -> None:
        from nerkit.folds import fold_path, take_from_cache
        from nerkit.pipeline import fold_setup, limit_splits

        run, runner = state.run, state.runner
        if runner.config.corrector:
            loaded = limit_splits(self.driver.dataset(run), runner.config)
            state.setup = fold_setup(runner.config, loaded, self.driver.host)
            folds_dir = runner.dir / "folds"
            take_from_cache(state.setup.folds, folds_dir, state.setup.cache)
            state.waiting = {
                f.index for f in state.setup.folds if not fold_path(folds_dir, f).exists()
            }
        config = asdict(runner.config)
        for fold in sorted(state.waiting):
            ref = self.fold_remote.options(**self._resources(run)).remote(
                config, self._dataset(run), fold, run.cpus
            )
            self.pending[ref] = (state, fold)
        if not state.waiting:
            self._submit_run(state)

    def _submit_run(self, state: _RunState) -> None:
        from nerkit.pipeline import limit_splits

        run, runner = state.run, state.runner
        if runner.config.corrector:
            base = self.base_runs.get(base_key(runner.config))
            if base is not None and base in self.running:
                # that run trains this run's base tagger: wait for it, then reuse it
                self.deferred.setdefault(base, []).append(state)
                return
            runner.adopt_trained_base(limit_splits(self.driver.dataset(run), runner.config))
        ref = self.run_remote.options(**self._resources(run)).remote(
            runner.run_id,
            pack_partial(runner.dir),
            self._dataset(run),
            run.cpus,
            self.driver.extra(run),
            sorted(state.trained),
        )
        self.pending[ref] = (state, None)
        self.running.add(run.number)

    def _fold_done(self, state: _RunState, fold: int, result: TaskResult) -> None:
        from nerkit.folds import fill_cache, fold_path
        from nerkit.pipeline import TIMING_RECORD, Timing

        state.waiting.discard(fold)
        if result.ok:
            # kept at once: a killed sweep resumes with the folds trained so far
            folds_dir = state.runner.dir / "folds"
            folds_dir.mkdir(parents=True, exist_ok=True)
            store.write_raw_predictions(fold_path(folds_dir, fold), result.value)
            Timing.charge(state.runner.dir / TIMING_RECORD, "folds", result.wall_s, result.cpu_s)
            state.trained.add(fold)
        elif not state.failed:
            state.failed = True
            self.driver.failed(
                state.run, f"fold {fold}: {result.error}", result.traceback, result.host
            )
        if state.waiting or state.failed:
            return
        setup = state.setup
        if setup is not None and setup.cache is not None:
            fill_cache(setup.folds, state.runner.dir / "folds", setup.cache)
        self._submit_run(state)

    def _run_done(self, state: _RunState, result: TaskResult) -> None:
        directory = state.runner.dir
        if result.value:
            unpack({k: v for k, v in result.value.items() if k not in NOT_SENT}, directory)
        if result.ok:
            # the finished run is what the task finished: leftovers of earlier attempts go
            for path in sorted(directory.rglob("*"), reverse=True):
                name = path.relative_to(directory).as_posix()
                if path.is_file() and name not in result.value and name not in DRIVER_FILES:
                    path.unlink()
                elif path.is_dir() and not any(path.iterdir()):
                    path.rmdir()
            self.driver.finished(state.run, store.finish(directory))
        else:
            state.failed = True
            self.driver.failed(state.run, result.error, result.traceback, result.host)


def base_key(config: RunConfig) -> tuple[Any, ...]:
    """What training a run's tagger depends on (its corrector and folds aside)."""
    options = json.dumps(config.tagger_options, sort_keys=True, default=str)
    return (
        config.tagger,
        options,
        *data_key(config),  # the dataset and how its files are read
        config.data_dir,
        config.max_train_sentences,
        config.max_dev_sentences,
        config.seed,
        config.threads,
        config.device,
    )


def pack_partial(directory: Path) -> dict[str, bytes]:
    """The unfinished run's files, less the driver's own records and the run's lock."""
    from nerkit.sweep.tasks import pack

    return {name: data for name, data in pack(directory).items() if name not in NOT_SENT}
