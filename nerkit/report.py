"""Rich tables of a run's scores (print them with ``nerkit.cli.output.print_whole``,
which keeps every number whole whatever the width of the output)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.table import Table

from nerkit import store
from nerkit.errors import NerkitError

_AVERAGES = ("micro", "macro", "weighted")


def scores_table(run_dir: Path, *, split: str = "test", mode: str = "lenient") -> Table:
    """Per-type and averaged P / R / F1 of every stage of ``split`` in a stored run."""
    rows = store.read_table(run_dir, "metrics").to_pylist()
    rows = [r for r in rows if r["split"] == split and r["mode"] == mode]
    stages = list(dict.fromkeys(r["stage"] for r in rows))
    value = {(r["stage"], r["metric"], r["label"]): r for r in rows}
    labels = sorted(
        {r["label"] for r in rows if r["metric"] == "f1" and r["label"] not in _AVERAGES}
    )
    table = Table(title=f"{run_dir.name}: {split} ({mode})", title_justify="left")
    # Numbers never wrap or shrink to "60…"; a type name folds instead.
    table.add_column("type", overflow="fold")
    for stage in stages:
        for metric in ("P", "R", "F1"):
            name = f"{stage} {metric}" if len(stages) > 1 else metric
            table.add_column(name, justify="right", no_wrap=True)
    delta = len(stages) == 2  # base and corrected: show what correction changed
    if delta:
        table.add_column("Δ F1", justify="right", no_wrap=True)
    table.add_column("support", justify="right", no_wrap=True)
    for label in [*labels, *_AVERAGES]:
        cells = []
        support = 0
        for stage in stages:
            for metric in ("precision", "recall", "f1"):
                row = value.get((stage, metric, label))
                cells.append(f"{100 * row['value']:.2f}" if row else "")
                support = row["support"] if row else support
        if delta:
            a, b = (value.get((stage, "f1", label)) for stage in stages)
            cells.append(f"{100 * (b['value'] - a['value']):+.2f}" if a and b else "")
        style = "bold" if label == "micro" else None
        table.add_row(
            label,
            *cells,
            str(support),
            style=style,
            end_section=label == labels[-1] if labels else False,
        )
    for metric in ("accuracy", "accuracy_without_o", "repairs"):
        cells = []
        for stage in stages:
            row = value.get((stage, metric, "all"))
            text = (
                ""
                if row is None
                else (f"{row['value']:.0f}" if metric == "repairs" else f"{100 * row['value']:.2f}")
            )
            cells += ["", "", text]
        if delta:
            cells.append("")
        table.add_row(metric.replace("_", " "), *cells, "")
    spent = _time_spent(run_dir)
    if spent:
        table.caption = (
            f"took {duration(spent.get('wall_s'))} wall-clock, {duration(spent.get('cpu_s'))} CPU"
        )
        table.caption_justify = "left"
    return table


def _time_spent(run_dir: Path) -> dict[str, Any]:
    try:
        return store.time_spent(store.read_table(run_dir, "run").to_pylist()[0])
    except (NerkitError, IndexError):
        return {}


def duration(seconds: float | None) -> str:
    """``1 h 02 min``, ``3 min 07 s``, ``12 s``; unknown: empty."""
    if seconds is None:
        return ""
    s = round(seconds)
    if s >= 3600:
        return f"{s // 3600} h {s % 3600 // 60:02d} min"
    if s >= 60:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s} s"
