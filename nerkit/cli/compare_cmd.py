"""``nerkit compare``: stored runs side by side, seeds aggregated, deltas tested."""

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from nerkit.compare import Comparison, Group, Row

FORMATS = ("table", "markdown", "csv", "json")


def compare(
    refs: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="RUN_OR_DIR...",
            help="Run folders, run ids (looked up in --runs) or folders holding runs "
            "(every finished run inside). None: every finished run in --runs.",
            show_default=False,
        ),
    ] = None,
    runs_dir: Annotated[
        Path, typer.Option("--runs", help="Folder that holds the runs named by id.")
    ] = Path("runs"),
    metric: Annotated[
        str,
        typer.Option(
            "--metric",
            help="Metric to line up: f1, precision, recall (micro), accuracy, "
            "accuracy_without_o, repairs, ...",
        ),
    ] = "f1",
    mode: Annotated[
        str, typer.Option("--mode", help="Entity spans read leniently (conlleval) or strictly.")
    ] = "lenient",
    baseline: Annotated[
        str | None,
        typer.Option(
            "--baseline",
            "-b",
            help="Run (id or folder; an id is looked up among the compared runs, then in "
            "--runs) every row is compared with: delta and paired-test p-value on test.",
            show_default=False,
        ),
    ] = None,
    test: Annotated[
        str,
        typer.Option(
            "--test",
            help="Paired test against --baseline: bootstrap (paired bootstrap), "
            "ar (approximate randomisation), both two-sided, or none.",
        ),
    ] = "bootstrap",
    resamples: Annotated[
        int,
        typer.Option(
            "--resamples", min=1, help="Resamples (bootstrap) or trials (ar) of the paired test."
        ),
    ] = 1000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed of the paired test.")] = 13,
    output_format: Annotated[
        str, typer.Option("--format", "-f", help="Output: table, markdown, csv or json.")
    ] = "table",
    run_ids: Annotated[
        bool,
        typer.Option(
            "--run-ids/--no-run-ids",
            help="Show the runs column in table and markdown output (--no-run-ids for a "
            "table to publish; csv and json always name the runs).",
        ),
    ] = True,
) -> None:
    """Compare stored runs: one row per config (seeds as mean ± std), grouped by test data.

    Runs are grouped by the fingerprint of their test split; runs that differ only in
    seed share a row. Options count as the components ran with them: one asked for at
    its default (-T max_length=8 of lexicon) is the run without it, and a row names
    only options that are not the installed plugin's defaults. With --baseline every row gets its delta on test and the p-value
    of a two-sided paired test over sentences (for a row of several seeds: the largest
    p-value of its runs, a run whose delta has the other sign than the row's counted
    as 1).

    Example: `nerkit compare runs --baseline RUN_ID`
    """
    from nerkit.compare import compare_runs, resolve_baseline, resolve_runs
    from nerkit.errors import ConfigError
    from nerkit.jsontext import json_text

    if output_format not in FORMATS:
        raise ConfigError(f"unknown format {output_format!r} (known: {', '.join(FORMATS)})")
    paths = resolve_runs(refs or [], runs_dir)
    base = resolve_baseline(baseline, paths, runs_dir) if baseline is not None else None
    result = compare_runs(
        paths,
        metric=metric,
        mode=mode,
        baseline=base,
        test=test,
        iterations=resamples,
        seed=seed,
    )
    if output_format == "json":
        typer.echo(json_text(result.to_dict(), default=str))
    elif output_format == "csv":
        typer.echo(_csv(result), nl=False)
    elif output_format == "markdown":
        typer.echo(_markdown(result, run_ids))
    else:
        _print_tables(result, run_ids)


# ----------------------------------------------------------------- text


def _cell(row: "Row", column: tuple[str, str], percent: bool) -> str:
    from nerkit.compare import format_value

    cell = row.cells.get(column)
    if cell is None:
        return ""
    if cell.n == 1:
        return format_value(cell.mean, percent)
    return f"{format_value(cell.mean, percent)} ± {format_value(cell.std, percent)} (n={cell.n})"


def _delta(row: "Row", percent: bool) -> str:
    if row.baseline:
        return "baseline"
    if row.delta is None:
        return ""
    return f"{100 * row.delta:+.2f}" if percent else f"{row.delta:+g}"


def _p(row: "Row") -> str:
    if row.p_value is None:
        return ""
    return "<0.001" if row.p_value < 0.001 else f"{row.p_value:.3f}"


def _title(group: "Group") -> str:
    runs = sum(len(r.runs) for r in group.rows)
    return (
        f"{', '.join(group.datasets)}: {group.split} fingerprint {group.fingerprint[:12]} "
        f"({runs} run{'s' if runs != 1 else ''})"
    )


def _header(result: "Comparison", group: "Group", run_ids: bool = True) -> list[str]:
    from nerkit.compare import column_name

    header = ["runs"] if run_ids else []
    header += ["config", "seeds", *(column_name(c) for c in group.columns)]
    if result.baseline is not None:
        header += ["Δ test"] + (["p"] if result.test else [])
    return header


def _text_columns(run_ids: bool) -> int:
    """How many leading columns are text (left-aligned): runs, config, seeds."""
    return 3 if run_ids else 2


def _cells(
    result: "Comparison", group: "Group", row: "Row", join: str, run_ids: bool = True
) -> list[str]:
    cells = [join.join(r.run_id for r in row.runs)] if run_ids else []
    cells += [
        row.config,
        ", ".join(str(s) for s in row.seeds),
        *(_cell(row, c, result.percent) for c in group.columns),
    ]
    if result.baseline is not None:
        cells.append(_delta(row, result.percent))
        if result.test:
            cells.append(_p(row))
    return cells


def _legend(result: "Comparison") -> list[str]:
    unit = " in %" if result.percent else ""
    lines = [f"{result.metric} ({result.mode}){unit}; ± is the sample std over seeds."]
    if result.baseline is not None:
        lines.append(
            f"Δ test: row mean minus baseline {result.baseline} on test, each run at its "
            "last stage" + (" (points)." if result.percent else ".")
        )
    if result.test:
        what = "resamples" if result.test == "paired-bootstrap" else "trials"
        lines.append(
            f"p: {result.test} over sentences, {result.iterations} {what}, seed "
            f"{result.seed}, two-sided; for several seeds the largest p of their runs, "
            "a run whose Δ has the other sign than the row's counted as 1."
        )
    return lines + list(result.notes)


def _print_tables(result: "Comparison", run_ids: bool = True) -> None:
    from rich.markup import escape
    from rich.table import Table
    from rich.text import Text

    from nerkit.cli.output import print_whole

    items: list[Table | Text] = []
    texts = _text_columns(run_ids)
    for group in result.groups:
        # rich reads markup in text: a dataset or option named "[bold]x" is shown as it is
        table = Table(title=escape(_title(group)), title_justify="left")
        for i, name in enumerate(_header(result, group, run_ids)):
            # A run id folds in a narrow terminal; numbers are never cut (print_whole).
            table.add_column(name, justify="right" if i >= texts else "left", overflow="fold")
        for row in group.rows:
            cells = _cells(result, group, row, "\n", run_ids)
            table.add_row(*map(escape, cells), style="bold" if row.baseline else None)
        items.append(table)
        items += [Text(f"note: {note}", style="yellow") for note in group.notes]
    items += [Text(line, style="dim") for line in _legend(result)]
    print_whole(*items)


def _markdown(result: "Comparison", run_ids: bool = True) -> str:
    lines: list[str] = []
    texts = _text_columns(run_ids)
    for group in result.groups:
        header = _header(result, group, run_ids)
        lines += [f"**{_title(group)}**", ""]
        lines.append("| " + " | ".join(header) + " |")
        lines.append(
            "|" + "|".join("---:" if i >= texts else "---" for i in range(len(header))) + "|"
        )
        for row in group.rows:
            lines.append("| " + " | ".join(_cells(result, group, row, ", ", run_ids)) + " |")
        lines += [f"> note: {note}" for note in group.notes]
        lines.append("")
    lines += _legend(result)
    return "\n".join(lines)


def _csv(result: "Comparison") -> str:
    import csv
    import io

    records = result.records()
    buffer = io.StringIO()
    if records:
        writer = csv.DictWriter(buffer, fieldnames=list(records[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(records)
    return buffer.getvalue()


def register(app: typer.Typer) -> None:
    app.command("compare")(compare)
