"""``nerkit sweep``: the runs of a TOML spec, skipping those stored already."""

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from nerkit.sweep import Plan, SweepEvent

STATUS_TEXT = {
    "new": "to run",
    "resume": "to resume",
    "done": "stored already (skipped)",
    "failed": "failed before (skipped; --retry-failed runs them again)",
    "unavailable": "unavailable here",
}


def sweep(
    spec: Annotated[
        Path,
        typer.Argument(
            metavar="SPEC.toml", help="Sweep spec: datasets, taggers, correctors, grids, seeds."
        ),
    ],
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="Folder that holds the runs (default: the spec's 'out', else runs).",
            show_default=False,
        ),
    ] = None,
    export: Annotated[
        Path | None,
        typer.Option(
            "--export",
            help="Folder of results-only copies (nerkit export): runs copied there count as "
            "done, and every finished run is copied there (default: the spec's 'export').",
            show_default=False,
        ),
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run", "-n", help="List the planned runs and their status; run nothing."
        ),
    ] = False,
    executor: Annotated[
        str,
        typer.Option(
            "--executor",
            "-e",
            help="local (one run after another) or ray (each run and fold a Ray task).",
        ),
    ] = "local",
    address: Annotated[
        str | None,
        typer.Option(
            "--address",
            help="Ray cluster to run on (e.g. ray://head:10001); default: a local Ray instance.",
            show_default=False,
        ),
    ] = None,
    num_cpus: Annotated[
        int | None,
        typer.Option(
            "--num-cpus",
            min=1,
            help="CPUs of the local Ray instance (default: all).",
            show_default=False,
        ),
    ] = None,
    dataset: Annotated[
        list[str] | None,
        typer.Option(
            "--dataset",
            "-d",
            help="Only the runs on this dataset of the spec (repeatable): one sitting each.",
            show_default=False,
        ),
    ] = None,
    retry_failed: Annotated[
        bool, typer.Option("--retry-failed", help="Run failed runs again (resuming them).")
    ] = False,
    skip_unavailable: Annotated[
        bool,
        typer.Option(
            "--skip-unavailable",
            help="Run the others when some runs name a component or dataset not available here.",
        ),
    ] = False,
) -> None:
    """Expand a sweep spec into runs and do those not stored yet.

    Each run is stored as a normal run, so `nerkit compare` reads them all. Runs stored
    with the same config and split fingerprints are skipped; a run that fails is
    recorded with its error and the sweep goes on; a killed sweep run again resumes
    where it stopped. Nothing stored is overwritten.

    Example: `nerkit sweep benchmarks/sweep.toml --dry-run`
    """
    from nerkit.errors import ConfigError
    from nerkit.sweep import EXECUTORS, load_spec, plan_sweep, run_sweep

    if executor not in EXECUTORS:
        raise ConfigError(f"unknown executor {executor!r} (known: {', '.join(EXECUTORS)})")
    loaded = load_spec(spec)
    folder = out if out is not None else Path(loaded.out or "runs")
    if export is None and loaded.export is not None:
        export = Path(loaded.export)
    if dry_run:
        plan = plan_sweep(loaded, folder, download=False, datasets=dataset, export=export)
        _print_plan(plan, executor)
        return
    outcome = run_sweep(
        loaded,
        folder,
        executor=executor,
        address=address,
        num_cpus=num_cpus,
        retry_failed=retry_failed,
        skip_unavailable=skip_unavailable,
        datasets=dataset,
        report=_Reporter(queued=executor == "ray"),
        export=export,
    )
    plan = outcome.plan
    tried = {run.number for run in [*outcome.finished, *outcome.failed]}
    # not run in this sitting: failed in an earlier one (without --retry-failed), or
    # not available here (with --skip-unavailable); the sweep is not done while any is
    failed_before = [r for r in plan.runs if r.status == "failed" and r.number not in tried]
    unavailable = [r for r in plan.runs if r.status == "unavailable" and r.number not in tried]
    parts = [
        f"{len(outcome.finished)} finished",
        f"{len(outcome.failed)} failed",
        f"{plan.count('done')} stored already",
    ]
    if failed_before:
        parts.append(f"{len(failed_before)} failed before (skipped; --retry-failed runs them)")
    if unavailable:
        parts.append(f"{len(unavailable)} unavailable here (skipped)")
    typer.echo(f"sweep {plan.spec.name}: {', '.join(parts)}, in {folder}")
    for run in outcome.failed:
        typer.echo(f"  failed #{run.number} {run.run_id or ''}: {run.error}", err=True)
    for run in failed_before:
        typer.echo(f"  failed before #{run.number} {run.run_id or ''}: {run.error}", err=True)
    if outcome.failed or failed_before:
        raise typer.Exit(1)


class _Reporter:
    """One line per started (on Ray: queued), finished or failed run, with its timing."""

    def __init__(self, *, queued: bool = False) -> None:
        self.started: dict[int, float] = {}
        self.word = "queued" if queued else "start "

    def __call__(self, event: "SweepEvent") -> None:
        import time

        run = event.run
        what = f"#{run.number} {run.config.dataset} seed {run.config.seed} {run.tagger_label}"
        if run.corrector_label != "-":
            what += f" + {run.corrector_label}"
        if event.kind == "started":
            self.started[run.number] = time.perf_counter()
            folder = event.path.name if event.path else ""
            typer.echo(f"{self.word} {what}  ({folder})", err=True)
            return
        began = self.started.get(run.number)  # none: it failed before it started
        took = f"({time.perf_counter() - began:.0f} s)" if began is not None else ""
        if event.kind == "finished":
            typer.echo(f"done   {what}  -> {run.run_id} {took}".rstrip(), err=True)
        else:
            typer.echo(f"FAILED {what}  {took}".rstrip() + f": {event.error}", err=True)


def _print_plan(plan: "Plan", executor: str) -> None:
    header = ["#", "status", "dataset", "seed", "tagger", "corrector", "cpus", "gpus", "run"]
    rows = [
        [
            str(run.number),
            run.status,
            run.config.dataset,
            str(run.config.seed),
            run.tagger_label,
            run.corrector_label,
            str(run.cpus),
            f"{run.gpus:g}",
            run.run_id or ("" if run.problem is None else "see below"),
        ]
        for run in plan.runs
    ]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    typer.echo(
        f"sweep {plan.spec.name} ({plan.spec.path}): {len(plan.runs)} runs in {plan.out}, "
        f"executor {executor}"
    )
    for row in [header, *rows]:
        typer.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    counts = [
        f"{plan.count(status)} {text}" for status, text in STATUS_TEXT.items() if plan.count(status)
    ]
    typer.echo(f"{len(plan.runs)} planned: " + ", ".join(counts or ["none"]))
    if plan.duplicates:
        typer.echo(f"{plan.duplicates} duplicate runs of the spec dropped (same config and data)")
    for reason, n in plan.problems().items():
        typer.echo(f"warning: {n} run{'s' if n != 1 else ''} cannot run here: {reason}")
    for run_id, why in plan.unreadable.items():
        typer.echo(
            f"warning: stored run {run_id} cannot be read ({why}); the sweep refuses to start"
        )
    for run in plan.runs:
        if run.status == "failed":
            typer.echo(f"failed before: #{run.number} {run.run_id}: {run.error}")


def register(app: typer.Typer) -> None:
    app.command("sweep")(sweep)
