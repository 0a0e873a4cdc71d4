"""``nerkit runs``: list the runs in a folder."""

from pathlib import Path
from typing import Annotated

import typer


def runs(
    folder: Annotated[Path, typer.Argument(help="Folder that holds the runs.")] = Path("runs"),
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """List stored runs (finished and unfinished) with their test F1."""
    import json

    from rich.console import Console
    from rich.table import Table

    from nerkit.store import list_runs

    found = list_runs(folder)
    if as_json:
        typer.echo(
            json.dumps(
                [
                    {
                        "run_id": r.run_id,
                        "path": str(r.path),
                        "complete": r.complete,
                        "created_utc": r.created_utc,
                        "tagger": r.tagger,
                        "corrector": r.corrector,
                        "dataset": r.dataset,
                        "test_f1": r.test_f1,
                    }
                    for r in found
                ],
                indent=2,
            )
        )
        return
    table = Table(title=f"runs in {folder}", title_justify="left")
    for column in ("run", "created (UTC)", "tagger", "corrector", "dataset", "test F1"):
        table.add_column(column, justify="right" if column == "test F1" else "left")
    for r in found:
        f1 = f"{100 * r.test_f1:.2f}" if r.test_f1 is not None else ""
        status = "" if r.complete else " [yellow](unfinished: --resume)[/]"
        table.add_row(r.run_id + status, r.created_utc[:19], r.tagger, r.corrector, r.dataset, f1)
    Console().print(table)
    if not found:
        typer.echo(f"no runs in {folder}", err=True)


def register(app: typer.Typer) -> None:
    app.command("runs")(runs)
