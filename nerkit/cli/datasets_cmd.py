"""``nerkit datasets``: the named datasets, whether they are here, and their counts."""

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from nerkit.datasets import DatasetSpec
    from nerkit.datasets.summary import SplitSummary


def datasets(
    names: Annotated[
        list[str] | None,
        typer.Argument(help="Datasets to show (default: every named dataset).", show_default=False),
    ] = None,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            "--data-dir",
            help="Where named datasets are stored (default: $NERKIT_DATA_DIR or ~/.cache/nerkit/data).",
            show_default=False,
        ),
    ] = None,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json", help="Print JSON (counts, fingerprints, licences) instead of a table."
        ),
    ] = False,
) -> None:
    """List the named datasets: local or not, sentences / tokens / entities per split, licence.

    Nothing is downloaded here; a missing dataset is downloaded the first time it is used.
    """
    from nerkit.datasets import dataset_names, get_dataset_spec, resolve_data_dir
    from nerkit.datasets.summary import summarize

    root = resolve_data_dir(data_dir)
    specs = [get_dataset_spec(name) for name in (names or dataset_names())]
    summaries = [(spec, summarize(spec, root)) for spec in specs]
    if as_json:
        typer.echo(json.dumps(_as_json(root, summaries), indent=2, ensure_ascii=False))
    else:
        _print_table(root, summaries)


def _as_json(
    root: Path, summaries: "list[tuple[DatasetSpec, list[SplitSummary]]]"
) -> dict[str, Any]:
    out = []
    for spec, splits in summaries:
        rows = []
        for s in splits:
            row: dict[str, Any] = {
                "split": s.split,
                "present": s.path is not None,
                "path": str(s.path or s.expected),
            }
            if s.stats is not None:
                row.update(
                    sentences=s.stats.sentences,
                    tokens=s.stats.tokens,
                    entities=s.stats.entities,
                    entity_types=dict(sorted(s.stats.entity_types.items())),
                    fingerprint=s.fingerprint,
                )
            if s.error:
                row["error"] = s.error
            rows.append(row)
        out.append(
            {
                "name": spec.name,
                "description": spec.description,
                "language": spec.language,
                "license": spec.license,
                "citation": spec.citation,
                "homepage": spec.homepage,
                "splits": rows,
            }
        )
    return {"data_dir": str(root), "datasets": out}


def _print_table(root: Path, summaries: "list[tuple[DatasetSpec, list[SplitSummary]]]") -> None:
    from rich.markup import escape
    from rich.table import Table

    from nerkit.cli.output import print_whole

    table = Table(
        title="Named datasets",
        caption=(
            f"data dir: {root}\nentities: lenient IOB2 chunks. "
            "Missing files are downloaded (and checksummed) the first time a dataset is used."
        ),
    )
    table.add_column("dataset", style="bold", no_wrap=True)
    table.add_column("split", no_wrap=True)
    for column in ("sentences", "tokens", "entities"):
        table.add_column(column, justify="right", no_wrap=True)
    table.add_column("licence / status", overflow="fold")
    for spec, splits in summaries:
        for i, s in enumerate(splits):
            first = i == 0
            name = f"{escape(spec.name)}\n[dim]{escape(spec.language)}[/]" if first else ""
            notes = [escape(spec.license)] if first else []
            if s.stats is not None:
                counts = [f"{n:,}" for n in (s.stats.sentences, s.stats.tokens, s.stats.entities)]
            else:
                counts = ["-"] * 3
                notes.append(_missing_status(s))
            table.add_row(name, s.split, *counts, "\n".join(notes))
        table.add_section()
    print_whole(table)


def _missing_status(s: "SplitSummary") -> str:
    from rich.markup import escape

    if s.error:
        return f"[red]unreadable: {escape(s.error)}[/]"
    if s.data_file.url:
        return "[yellow]not downloaded yet[/]"
    if s.data_file.package:
        return f"[yellow]missing: pip install {escape(s.data_file.package)}[/]"
    return f"[yellow]missing: put it at {escape(str(s.expected))}[/]"


def register(app: typer.Typer) -> None:
    app.command("datasets")(datasets)
