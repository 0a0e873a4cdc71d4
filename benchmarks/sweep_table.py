"""The benchmark table of `benchmarks/sweep.toml`, from its committed exports.

    python benchmarks/sweep_table.py                      # print it
    python benchmarks/sweep_table.py --write README.md benchmarks/RESULTS.md

Prints what each dataset's finished runs cost (CPU and wall-clock time as the runs
recorded them) and `nerkit compare --format markdown --no-run-ids` of all of them.
`--write` replaces the text between the lines `<!-- sweep-table -->` and
`<!-- /sweep-table -->` of each file given, so the published table is always the one
the exports give. Reads only `benchmarks/results/sweep` (or `--results`): no corpus,
no model, no stored run is needed.
"""

import argparse
import json
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
BEGIN, END = "<!-- sweep-table -->", "<!-- /sweep-table -->"


def nerkit(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "nerkit", *args], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        sys.exit(f"nerkit {' '.join(args)} failed:\n{done.stderr or done.stdout}")
    return done.stdout


def planned(spec: Path) -> dict[str, int]:
    """The spec's datasets in order, each with the number of runs the sweep plans for it."""
    from nerkit.sweep.plan import expand
    from nerkit.sweep.spec import load_spec

    loaded = load_spec(spec)
    counts = {entry.name: 0 for entry in loaded.datasets}
    for run in expand(loaded):
        counts[run.config.dataset] += 1
    return counts


def cost_table(results: Path, spec: Path) -> str:
    counts = planned(spec)
    runs = json.loads(nerkit("runs", str(results), "--json")) if results.is_dir() else []
    by_dataset: dict[str, list[dict]] = defaultdict(list)
    for run in runs:
        if run.get("complete"):
            by_dataset[run["dataset"]].append(run)
    lines = [
        "| dataset | runs done | CPU-hours | wall-clock hours |",
        "|---|---:|---:|---:|",
    ]
    for name in list(counts) + sorted(set(by_dataset) - set(counts)):
        done = by_dataset.get(name, [])
        cpu = sum(r["cpu_s"] or 0.0 for r in done) / 3600
        wall = sum(r["wall_s"] or 0.0 for r in done) / 3600
        lines.append(f"| {name} | {len(done)} of {counts.get(name, 0)} | {cpu:.2f} | {wall:.2f} |")
    return "\n".join(lines)


def table(results: Path, spec: Path) -> str:
    compared = (
        nerkit("compare", str(results), "--format", "markdown", "--no-run-ids").strip()
        if results.is_dir() and any(results.iterdir())
        else "(no finished runs yet)"
    )
    return f"{cost_table(results, spec)}\n\n{compared}"


def write(path: Path, text: str) -> None:
    content = path.read_text(encoding="utf-8")
    if BEGIN not in content or END not in content:
        sys.exit(f"{path}: no {BEGIN} ... {END} block to replace")
    head, rest = content.split(BEGIN, 1)
    tail = rest.split(END, 1)[1]
    path.write_text(f"{head}{BEGIN}\n{text}\n{END}{tail}", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=HERE / "results" / "sweep")
    parser.add_argument("--spec", type=Path, default=HERE / "sweep.toml")
    parser.add_argument("--write", type=Path, nargs="*", default=[], metavar="FILE")
    args = parser.parse_args()
    text = table(args.results, args.spec)
    for path in args.write:
        write(path, text)
    if not args.write:
        print(text)


if __name__ == "__main__":
    main()
