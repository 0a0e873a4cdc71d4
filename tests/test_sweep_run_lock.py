"""The ray executor holds each run's lock as the local executor does (``Run.execute``):
while a run's tasks are out no other process resumes it, and `nerkit runs` says it is
running; a run another process holds is refused, untouched; a run that is over, failed
or finished, is let go.

Ray itself is not needed: ``FakeRay`` does a task in this process when its result is
asked for, as the driver code sees Ray (``test_sweep_ray`` runs a real Ray instance)."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from test_sweep import _plugins, cli, snapshot, write_spec  # noqa: F401 (_plugins: autouse)

from nerkit import pipeline, store
from nerkit.sweep import executors, load_spec, plan_sweep, run_sweep
from nerkit.sweep.driver import SweepDriver, SweepEvent
from nerkit.sweep.plan import RESUME

fcntl = pytest.importorskip("fcntl", reason="runs are locked where fcntl is")


class FakeRef:
    def __init__(self, function: Callable[..., Any], args: Sequence[Any]) -> None:
        self.function, self.args = function, tuple(args)


class FakeRemote:
    def __init__(self, function: Callable[..., Any]) -> None:
        self.function = function

    def options(self, **resources: Any) -> FakeRemote:
        return self

    def remote(self, *args: Any) -> FakeRef:
        return FakeRef(self.function, args)


class FakeRay:
    """The part of Ray the executor uses. A task is done when its result is asked for,
    after ``before_task(ref)``: what a test does while the task is out."""

    class exceptions:  # as Ray names it: ray.exceptions.RayError
        class RayError(Exception):
            pass

    def __init__(self, before_task: Callable[[FakeRef], None] = lambda ref: None) -> None:
        self.before_task = before_task
        self.done = 0

    def is_initialized(self) -> bool:
        return True  # the sweep neither starts nor stops it

    def remote(self, **options: Any) -> Callable[[Callable[..., Any]], FakeRemote]:
        return FakeRemote

    def put(self, value: Any) -> Any:
        return value

    def wait(self, refs: list[FakeRef], num_returns: int = 1) -> tuple[list, list]:
        return refs[:num_returns], refs[num_returns:]

    def get(self, ref: FakeRef) -> Any:
        self.before_task(ref)
        self.done += 1
        return ref.function(*ref.args)


def use(monkeypatch: pytest.MonkeyPatch, ray: FakeRay) -> None:
    monkeypatch.setattr(executors, "import_ray", lambda: ray)


def listed(out: Path) -> dict[str, dict]:
    code, output = cli("runs", str(out), "--json")
    assert code == 0, output
    return {r["run_id"]: r for r in json.loads(output)}


def run_of_task(out: Path, ref: FakeRef) -> str:
    """The id of the run a task is for: named (a run's task), or the unfinished run of
    the same config (a fold's task)."""
    if ref.function is executors.run_task:
        return str(ref.args[0])
    config = ref.args[0]
    (run_id,) = [
        s.run_id
        for s in store.list_runs(out)
        if not s.complete
        and json.loads((s.path / "config.json").read_text())["tagger"] == config["tagger"]
        and json.loads((s.path / "config.json").read_text())["corrector"] == config["corrector"]
    ]
    return run_id


def test_a_run_whose_task_is_out_is_running_and_its_resume_refused(
    toy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While any task of a run is out (a fold's, the run's), and while its failure is
    recorded, `nerkit runs` says it is running and `nerkit run --resume` is refused;
    once it is over it is let go, the sweep still going."""
    spec = write_spec(
        tmp_path / "spec.toml",
        toy,
        'seeds = [1]\nfolds = 2\n[[tagger]]\nname = "lexicon"\n[[tagger]]\nname = "boom"\n'
        '[[corrector]]\nname = "none"\n[[corrector]]\nname = "majority"\n',
    )
    out = tmp_path / "runs"
    seen: list[tuple[str, set[str]]] = []  # per task: its run, and the runs running

    def while_out(ref: FakeRef) -> None:
        run_id = run_of_task(out, ref)
        running = {r for r, summary in listed(out).items() if summary["running"]}
        assert run_id in running, f"{run_id}: not running while its task is out"
        code, output = cli("run", "--resume", run_id, "-o", str(out))
        assert code == 2, output
        assert f"run {run_id} is being run by another process" in output
        seen.append((run_id, running))

    refused_when_failed: list[tuple[int, str]] = []

    def report(event: SweepEvent) -> None:
        # a failure is recorded while the run is still held: the lock held is the run's
        # own file (a failed task's files written back never replace it)
        if event.kind == "failed":
            refused_when_failed.append(
                cli("run", "--resume", str(event.run.run_id), "-o", str(out))
            )

    ray = FakeRay(while_out)
    use(monkeypatch, ray)
    outcome = run_sweep(load_spec(spec), out, executor="ray", report=report)
    # the lexicon runs (one a correction run, after the other: 1 task + 2 folds + 1 task)
    # finished; the boom runs failed, one in its task, the other in its first fold
    assert len(outcome.finished) == 2 and ray.done == 7
    assert sorted(r.error for r in outcome.failed) == [
        "RuntimeError: boom on purpose",
        "fold 0: RuntimeError: boom on purpose",
    ]
    assert {run_id for run_id, _ in seen} == {r.run_id for r in outcome.plan.runs}
    assert len(refused_when_failed) == 2
    for code, output in refused_when_failed:
        assert code == 2 and "is being run by another process" in output, output
    # the last task out is the correction run's (its base went first): the runs that are
    # over, finished or failed in a task or a fold, were let go while the sweep went on
    (lexicon_majority,) = [r for r in outcome.finished if r.config.corrector]
    assert seen[-1] == (lexicon_majority.run_id, {lexicon_majority.run_id})
    # every run that is over is let go: the failed ones are interrupted, not running,
    # and a resume of one is no longer refused (it starts, and fails as the sweep did)
    failed = {r.run_id for r in outcome.failed}
    for run_id, summary in listed(out).items():
        assert summary["running"] is False
        assert summary["complete"] is (run_id not in failed)
    code, output = cli("runs", str(out))
    assert output.count("(unfinished: --resume)") == 2 and "(running)" not in output
    for run_id in failed:
        code, output = cli("run", "--resume", run_id, "-o", str(out))
        assert code == 1 and "loading dataset" in output, output
        assert "being run by another process" not in output


@pytest.mark.parametrize("executor", ["ray", "local"])
def test_a_run_another_process_holds_is_refused_and_left_untouched(
    toy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, executor: str
) -> None:
    """A run another process holds fails the sweep that names it, but it is not a
    failure of the run: no task is sent, nothing of the run is written (no failure
    record), and the next sweep resumes it without --retry-failed."""
    spec = load_spec(
        write_spec(
            tmp_path / "spec.toml",
            toy,
            'seeds = [1]\nfolds = 2\n[[tagger]]\nname = "lexicon"\n'
            '[[corrector]]\nname = "majority"\n',
        )
    )
    out = tmp_path / "runs"
    # what a sweep killed as it started the run leaves: an unfinished run to resume
    plan = plan_sweep(spec, out)
    (planned,) = plan.runs
    run_id = SweepDriver(plan, executor).start(planned).run_id
    assert [r.status for r in plan_sweep(spec, out).runs] == [RESUME]
    partial = store.run_dir(out, run_id, partial=True)
    ray = FakeRay()
    use(monkeypatch, ray)
    with (partial / pipeline.RUN_LOCK).open("a") as other:  # another process runs it
        fcntl.flock(other.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        before = snapshot(partial)
        outcome = run_sweep(spec, out, executor=executor)
        assert not outcome.finished and ray.done == 0  # no task was sent
        (failed,) = outcome.failed
        assert failed.error.startswith(f"run {run_id} is being run by another process")
        assert "--resume" not in failed.error and "resumes the run" in failed.error
        # nothing of the run was written or removed: no fold taken from the cache, no
        # file replaced, no failure recorded
        assert snapshot(partial) == before and store.read_failures(partial) == []
        assert [r.status for r in plan_sweep(spec, out).runs] == [RESUME]
    # let go, the run is done by the next sweep
    outcome = run_sweep(spec, out, executor=executor)
    assert [r.run_id for r in outcome.finished] == [run_id] and not outcome.failed
    finished = store.run_dir(out, run_id)
    assert (finished / "metrics.arrow").exists() and not (finished / pipeline.RUN_LOCK).exists()
    assert sorted(p.name for p in (finished / "folds").iterdir()) == [
        "fold-0.arrow",
        "fold-1.arrow",
    ]
