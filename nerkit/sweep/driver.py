"""The sweep's driver: the only writer of the output folder.

It plans the runs, starts (or resumes) each run's unfinished folder, hands the work
to an executor, and records what comes back: a finished run is renamed into place
(never over an existing one), a failure is added to the unfinished run's failure
record and the sweep goes on. A killed sweep leaves unfinished runs marked with their
key, which the next sweep resumes.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import socket
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from nerkit import store
from nerkit.errors import ConfigError, NerkitError
from nerkit.export import export_run
from nerkit.pipeline import Run, unfinished_config
from nerkit.plugin.host import PluginHost, get_host
from nerkit.sweep.plan import (
    DONE,
    FAILED,
    MARKER,
    NEW,
    RESUME,
    Plan,
    PlannedRun,
    data_key,
    plan_sweep,
)
from nerkit.sweep.spec import SweepSpec

EXECUTORS = ("local", "ray")
LOCK = ".sweep.lock"
# A lock that cannot be read was being written by an older nerkit (which created the
# file, then filled it) or is damaged: taken for live until it is this many seconds old.
LOCK_GRACE_S = 10.0
# The tokens of the sweep locks this process holds: a lock naming this process's pid
# with another token was left by an earlier process that had the same pid (a restarted
# container, where pids and the host name repeat).
_HELD: set[str] = set()


@dataclass
class SweepEvent:
    """What a reporter is told: ``kind`` is started, finished or failed."""

    kind: str
    run: PlannedRun
    path: Path | None = None
    error: str = ""


@dataclass
class SweepOutcome:
    plan: Plan
    finished: list[PlannedRun] = field(default_factory=list)
    failed: list[PlannedRun] = field(default_factory=list)


class SweepDriver:
    """Creates, resumes, finishes and fails the runs of one sweep in ``out``."""

    def __init__(
        self,
        plan: Plan,
        executor: str,
        *,
        host: PluginHost | None = None,
        report: Callable[[SweepEvent], None] = lambda event: None,
    ) -> None:
        self.plan = plan
        self.executor = executor
        self.host = host or get_host()
        self.report = report
        self.outcome = SweepOutcome(plan)
        self.dirs: dict[int, Path] = {}  # run number -> its unfinished folder

    @property
    def out(self) -> Path:
        return self.plan.out

    def dataset(self, run: PlannedRun) -> Any:
        return self.plan.datasets[data_key(run.config)]

    def extra(self, run: PlannedRun) -> dict[str, Any]:
        """Stored with the run (``extra.sweep``): where and with what it ran."""
        return {
            "spec": self.plan.spec.name,
            "executor": self.executor,
            "cpus": run.cpus,
            "gpus": run.gpus,
            "threads": run.cpus,
        }

    def start(self, run: PlannedRun) -> Run:
        """The run's unfinished folder: resumed when this sweep started it before."""
        if run.run_id is not None and run.status in (RESUME, FAILED):
            directory = store.run_dir(self.out, run.run_id, partial=True)
            runner = Run(directory, unfinished_config(directory), self.host)
        else:
            runner = Run.create(self.out, run.config, self.host, loaded=self.dataset(run))
            marker = {"key": run.key, "spec": self.plan.spec.name, "number": run.number}
            store.write_json(runner.dir / MARKER, marker)
            run.run_id = runner.run_id
        self.dirs[run.number] = runner.dir
        runner.extra_info = {"sweep": self.extra(run) | {"host": socket.gethostname()}}
        self.report(SweepEvent("started", run, runner.dir))
        return runner

    def finished(self, run: PlannedRun, path: Path) -> None:
        if self.plan.export is not None:
            export_run(path, self.plan.export)
        self.outcome.finished.append(run)
        self.report(SweepEvent("finished", run, path))

    def failed(
        self,
        run: PlannedRun,
        error: str,
        trace: str = "",
        host: str | None = None,
        *,
        record: bool = True,
    ) -> None:
        """Record the failure in the unfinished run (when it has one and ``record``)
        and go on."""
        directory = self.dirs.get(run.number)
        if record and directory is not None and directory.is_dir():
            store.record_failure(
                directory,
                {
                    "error": error,
                    "traceback": trace,
                    "time_utc": datetime.now(UTC).isoformat(timespec="seconds"),
                    "executor": self.executor,
                    "host": host or socket.gethostname(),
                },
            )
        run.error = error
        self.outcome.failed.append(run)
        self.report(SweepEvent("failed", run, directory, error))

    def failed_with(self, run: PlannedRun, exc: BaseException) -> None:
        from nerkit.pipeline import RunHeldError

        if isinstance(exc, RunHeldError):
            # the run has not failed: nothing is recorded, so that the next sweep
            # resumes it (a recorded failure would wait for --retry-failed)
            self.failed(
                run,
                f"run {exc.run_id} is being run by another process; nothing recorded: "
                "run the sweep again once that process ends, and it resumes the run",
                record=False,
            )
            return
        self.failed(run, f"{type(exc).__name__}: {exc}", traceback.format_exc())


def to_run(plan: Plan, *, retry_failed: bool = False) -> list[PlannedRun]:
    """The runs a sweep does: new ones, unfinished ones, and failed ones when asked."""
    wanted = {NEW, RESUME} | ({FAILED} if retry_failed else set())
    return [r for r in plan.runs if r.status in wanted]


def check_available(plan: Plan) -> None:
    """Refuse to start while planned runs cannot run, or stored runs cannot be read
    (the sweep cannot tell whether it would do them again)."""
    problems = plan.problems()
    parts = []
    if problems:
        lines = [f"  {reason} ({n} run{'s' if n != 1 else ''})" for reason, n in problems.items()]
        parts.append(f"{sum(problems.values())} planned runs cannot run here:\n" + "\n".join(lines))
    if plan.unreadable:
        lines = [f"  {run_id}: {why}" for run_id, why in plan.unreadable.items()]
        n = len(plan.unreadable)
        parts.append(
            f"{n} stored run{'s' if n != 1 else ''} in {plan.out} cannot be read, so the "
            "sweep cannot tell whether it would run them again (mend them, or move them "
            "out):\n" + "\n".join(lines)
        )
    if parts:
        listed = "; --dry-run lists them all" if problems else ""
        raise ConfigError(
            f"{plan.spec.path}: "
            + "\n".join(parts)
            + f"\n(--skip-unavailable runs the others{listed})"
        )


@contextlib.contextmanager
def sweep_lock(out: Path, spec: SweepSpec) -> Iterator[None]:
    """One sweep at a time writes to ``out``: two would resume the same runs.

    The lock appears whole: it is written to a file of its own, then linked into place,
    which fails when a lock is there, so no sweep ever reads a half-written one. A lock
    whose process is gone is renamed aside, and removed only if it is the very lock
    judged stale; another sweep's lock moved aside meanwhile is put back.
    """
    out.mkdir(parents=True, exist_ok=True)
    path = out / LOCK
    token = secrets.token_hex(8)
    me = {"pid": os.getpid(), "host": socket.gethostname(), "spec": str(spec.path), "token": token}
    mine = out / f"{LOCK}.{os.getpid()}-{token}.tmp"
    mine.write_text(json.dumps(me))
    _HELD.add(token)
    try:
        for _ in range(5):
            try:
                os.link(mine, path)
                break
            except FileExistsError:
                pass
            seen = _lock_state(path)
            if seen is None:
                continue  # released meanwhile
            holder, stat = seen
            if not _stale(holder, stat):
                who = (
                    f" ({holder.get('spec')}, pid {holder.get('pid')} on {holder.get('host')})"
                    if holder is not None
                    else ", whose lock is not written yet,"
                )
                raise NerkitError(
                    f"{out}: another sweep{who} is writing here; wait for it, or remove "
                    f"{path} if it is gone"
                )
            _remove_stale(path, stat)
        else:
            raise NerkitError(f"{path}: could not take the sweep lock")
    except BaseException:
        _HELD.discard(token)
        raise
    finally:
        mine.unlink(missing_ok=True)
    try:
        yield
    finally:
        _HELD.discard(token)
        if _read_lock(path) == me:
            path.unlink(missing_ok=True)


def _read_lock(path: Path) -> dict[str, Any] | None:
    try:
        value = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def _lock_state(path: Path) -> tuple[dict[str, Any] | None, os.stat_result] | None:
    """The lock's content (``None``: unreadable) and its file's identity and age, read
    from the same open file; ``None`` when there is no lock."""
    try:
        with path.open("rb") as fh:
            stat = os.fstat(fh.fileno())
            data = fh.read()
    except FileNotFoundError:
        return None
    try:
        value = json.loads(data)
    except ValueError:
        value = None
    return (value if isinstance(value, dict) else None), stat


def _stale(holder: dict[str, Any] | None, stat: os.stat_result) -> bool:
    """A lock whose sweep is gone: an unreadable one past its grace period, or one of a
    process on this machine that is no longer running (or that has this process's pid
    but was not taken by it). A process on another machine cannot be asked: its lock
    is live."""
    if holder is None:
        return time.time() - stat.st_mtime > LOCK_GRACE_S
    if holder.get("host") != socket.gethostname():
        return False
    try:
        pid = int(holder.get("pid", 0))
    except (TypeError, ValueError):
        return False
    if pid == os.getpid():
        return holder.get("token") not in _HELD
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # PermissionError: alive, another user's
        return False
    return False


def _remove_stale(path: Path, judged: os.stat_result) -> None:
    """Remove the stale lock ``judged`` (its stat when it was judged). It is renamed to
    a name of this process's first, so that no other sweep's lock is ever deleted: had
    another sweep replaced it meanwhile, that lock is put back."""
    aside = path.with_name(f"{LOCK}.stale-{os.getpid()}-{secrets.token_hex(4)}")
    try:
        os.rename(path, aside)
    except FileNotFoundError:
        return  # another sweep moved it first
    moved = aside.stat()
    same = (moved.st_dev, moved.st_ino, moved.st_mtime_ns) == (
        judged.st_dev,
        judged.st_ino,
        judged.st_mtime_ns,
    )
    if not same:
        with contextlib.suppress(FileExistsError):
            os.link(aside, path)  # a live sweep's lock: back in place
    aside.unlink()


def run_sweep(
    spec: SweepSpec,
    out: Path,
    *,
    executor: str = "local",
    address: str | None = None,
    num_cpus: int | None = None,
    retry_failed: bool = False,
    skip_unavailable: bool = False,
    datasets: Sequence[str] | None = None,
    report: Callable[[SweepEvent], None] = lambda event: None,
    host: PluginHost | None = None,
    export: Path | None = None,
) -> SweepOutcome:
    """Plan ``spec`` against ``out`` and do every run that is not stored yet.

    ``executor``: ``local`` (one run after another in this process) or ``ray`` (each
    run and each fold a Ray task; ``address`` names a running cluster, else a local
    Ray instance with ``num_cpus`` CPUs is started). A run that fails is recorded
    and the others go on; the outcome lists both. ``export``: a folder of results-only
    copies (``nerkit export``); runs copied there count as done, and every finished run
    in ``out`` is copied there (those of earlier sittings first).
    """
    from nerkit.sweep import executors

    if executor not in EXECUTORS:
        raise ConfigError(f"unknown executor {executor!r} (known: {', '.join(EXECUTORS)})")
    host = host or get_host()
    check_registered_options(spec, host)
    with sweep_lock(out, spec):
        plan = plan_sweep(spec, out, host=host, datasets=datasets, export=export)
        if export is not None:
            for done in plan.runs:
                if done.status == DONE and (store.run_dir(out, str(done.run_id))).is_dir():
                    export_run(store.run_dir(out, str(done.run_id)), export)
        if not skip_unavailable:
            check_available(plan)
        runs = to_run(plan, retry_failed=retry_failed)
        driver = SweepDriver(plan, executor, host=host, report=report)
        if executor == "ray":
            executors.run_ray(runs, driver, address=address, num_cpus=num_cpus)
        else:
            executors.run_local(runs, driver)
        return driver.outcome


def check_registered_options(spec: SweepSpec, host: PluginHost) -> None:
    """The options classes a plugin registered apart from its components (read to plan
    and to skip stored runs) must be the components' own: a sweep that is about to
    train imports them to check (``nerkit sweep --dry-run`` does not). An unknown or
    unloadable component is the plan's to report (``unavailable``)."""
    for component in (*spec.taggers, *spec.correctors):
        registry = host.registry(component.role)
        if component.name in registry:
            registry.check_options(component.name)


__all__ = ["EXECUTORS", "SweepDriver", "SweepEvent", "SweepOutcome", "run_sweep", "to_run"]
