"""``nerkit runs``: list the runs in a folder."""

from collections.abc import Collection
from pathlib import Path
from typing import Annotated

import typer


def runs(
    folder: Annotated[Path, typer.Argument(help="Folder that holds the runs.")] = Path("runs"),
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    dataset: Annotated[
        str | None,
        typer.Option(
            "--dataset",
            "-d",
            help="Only the finished runs on this dataset: a named one by its name, a folder "
            "however it was given (small, ./small, /data/small/).",
        ),
    ] = None,
) -> None:
    """List stored runs (finished and unfinished) with their dev and test F1 (of the
    corrected stage where a corrector ran) and the wall-clock
    and CPU time they took (the caption sums them). An unfinished run says whether a
    process is running it now, or it was interrupted (resume it with nerkit run
    --resume). A run that cannot be read is listed with the reason."""
    import json

    from rich.markup import escape
    from rich.table import Table

    from nerkit.cli.output import print_whole
    from nerkit.report import duration
    from nerkit.store import list_runs

    if not folder.is_dir() and folder != Path("runs"):  # ./runs: no run stored yet
        from nerkit.errors import InputError

        raise InputError("no such folder", path=folder)
    found = list_runs(folder)
    if dataset is not None:
        from nerkit.datasets import dataset_names

        named = set(dataset_names())
        wanted = _dataset_place(dataset, named)
        found = [r for r in found if r.complete and _dataset_place(r.dataset, named) == wanted]
    if as_json:
        typer.echo(
            json.dumps(
                [
                    {
                        "run_id": r.run_id,
                        "path": str(r.path),
                        "complete": r.complete,
                        "running": r.running,
                        "created_utc": r.created_utc,
                        "tagger": r.tagger,
                        "corrector": r.corrector,
                        "dataset": r.dataset,
                        "dev_f1": r.dev_f1,
                        "test_f1": r.test_f1,
                        "wall_s": r.wall_s,
                        "cpu_s": r.cpu_s,
                        "problem": r.problem or None,
                    }
                    for r in found
                ],
                indent=2,
            )
        )
        return
    table = Table(title=escape(f"runs in {folder}"), title_justify="left")
    columns = (
        "run",
        "created (UTC)",
        "tagger",
        "corrector",
        "dataset",
        "dev F1",
        "test F1",
        "wall",
        "CPU",
    )
    for column in columns:
        table.add_column(column, justify="left" if columns.index(column) < 5 else "right")
    for r in found:
        dev, test = (f"{100 * f1:.2f}" if f1 is not None else "" for f1 in (r.dev_f1, r.test_f1))
        if r.problem:
            status = f" [red](unreadable: {escape(r.problem)})[/]"
        elif r.complete:
            status = ""
        elif r.running:  # its process holds the run's lock: a --resume would be refused
            status = " [cyan](running)[/]"
        else:
            status = " [yellow](unfinished: --resume)[/]"
        # names are shown as they are: a dataset folder "[bold]x" is not rich markup
        table.add_row(
            escape(r.run_id) + status,
            r.created_utc[:19],
            escape(r.tagger),
            escape(r.corrector),
            escape(r.dataset),
            dev,
            test,
            duration(r.wall_s),
            duration(r.cpu_s),
        )
    timed = [r for r in found if r.wall_s is not None and r.cpu_s is not None]
    if timed:
        wall, cpu = sum(r.wall_s or 0 for r in timed), sum(r.cpu_s or 0 for r in timed)
        runs_word = "run" if len(timed) == 1 else "runs"
        table.caption = (
            f"{len(timed)} timed {runs_word}: {duration(wall)} wall-clock, {duration(cpu)} CPU"
        )
        table.caption_justify = "left"
    print_whole(table)
    if not found:
        typer.echo(f"no runs in {folder}", err=True)


def _dataset_place(name: str, named: Collection[str]) -> str:
    """What ``nerkit run -d NAME`` reads, as ``open_dataset`` looks it up: a named
    dataset (one of ``named``) or a Hub data set by its name, an existing folder by its
    resolved path (``small``, ``./small`` and ``/data/small/`` are one folder), anything
    else as given (a folder gone since, or a relative name given in another folder,
    matches only as it was spelled)."""
    from nerkit.datasets import hub

    if name.startswith(hub.PREFIX) or name in named:
        return name
    path = Path(name).expanduser()
    return str(path.resolve()) if path.is_dir() else name


def register(app: typer.Typer) -> None:
    app.command("runs")(runs)
