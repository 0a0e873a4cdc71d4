"""``nerkit export``: results-only copies of finished runs."""

from pathlib import Path
from typing import Annotated

import typer


def export(
    runs: Annotated[
        list[str],
        typer.Argument(
            help="Run folders, run ids (in --runs) or folders of runs (every finished run)."
        ),
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder to write the copies into.")],
    runs_dir: Annotated[
        Path, typer.Option("--runs", help="Folder that holds the runs named by id.")
    ] = Path("runs"),
) -> None:
    """Copy finished runs without their models, predictions or corpus text: the run
    record, metrics, training curves and per-sentence entity counts, tens of kilobytes
    a run. `nerkit runs` and `nerkit compare` (paired tests included) read the copies as
    they read the runs. Runs exported already are left as they are; a folder that holds
    the runs themselves (--out the folder of the runs), and a run folder or a folder
    inside one, are refused."""
    from nerkit.compare import resolve_runs
    from nerkit.export import check_destination, export_run

    paths = resolve_runs(runs, runs_dir)
    check_destination(out, paths)  # before any run is exported: all or none refused
    new = 0
    for path in paths:
        done = export_run(path, out)
        new += done.new
        typer.echo(f"{done.run_id}: {'exported' if done.new else 'exported already'} ({done.path})")
    typer.echo(f"{new} of {len(paths)} runs exported to {out}")


def register(app: typer.Typer) -> None:
    app.command("export")(export)
