"""PNG plots of training curves (loss, F1, accuracy against optimizer steps), as the
run_ner / model-card reports show them."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

Point = tuple[int, int, str, str, float]  # (epoch, step, split, metric, value)

# file name -> the (split, metric) lines it shows
PLOTS: dict[str, tuple[tuple[str, str], ...]] = {
    "loss": (("train", "loss"), ("dev", "loss")),
    "f1": (("dev", "precision"), ("dev", "recall"), ("dev", "f1")),
    "accuracy": (("dev", "accuracy"),),
}


def write_plots(points: Iterable[Point], directory: Path) -> list[Path]:
    """Write ``loss.png``, ``f1.png`` and ``accuracy.png`` into ``directory`` (created),
    each plot only when it has points; returns the files written."""
    lines: dict[tuple[str, str], list[tuple[int, float]]] = defaultdict(list)
    for _epoch, step, split, metric, value in points:
        lines[(split, metric)].append((step, value))
    wanted = {name: [k for k in keys if lines.get(k)] for name, keys in PLOTS.items()}
    if not any(wanted.values()):
        return []
    # imported here: matplotlib costs a second, and only training needs it
    import matplotlib

    matplotlib.use("Agg")  # no display on servers; Agg only writes files
    import matplotlib.pyplot as plt

    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, keys in wanted.items():
        if not keys:
            continue
        fig, ax = plt.subplots(figsize=(6, 4))
        try:
            for split, metric in keys:
                steps, values = zip(*lines[(split, metric)], strict=True)
                ax.plot(steps, values, marker="o", label=f"{split} {metric}")
            ax.set_xlabel("optimizer step")
            ax.set_ylabel(name)
            ax.grid(alpha=0.3)
            ax.legend()
            fig.tight_layout()
            path = directory / f"{name}.png"
            fig.savefig(path, dpi=100)
            written.append(path)
        finally:
            plt.close(fig)
    return written
