"""Time `nerkit eval GOLD PRED` against a plain seqeval script, as whole processes.

Both read the same two CoNLL files of about a million WNUT-17 tokens (gold, and gold
with seeded noise, as in ``metrics_vs_seqeval.py``) and print a per-type report. The
seqeval script is what people write today: read the tag column line by line, call
``classification_report``. Rounds alternate which goes first; medians are reported,
and one extra run of each with JSON output checks that the numbers are equal.

    python benchmarks/eval_cli_vs_seqeval.py [--tokens 1000000] [--repeats 7]

The two files are written once to ``benchmarks/.cache/`` and reused.
Data: ``$NERKIT_DATA_DIR/wnut17/`` (default: ``shared/data`` next to the repository).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from metrics_vs_seqeval import WNUT_FILES, corrupt, data_dir  # noqa: E402

from nerkit.io import read, write  # noqa: E402
from nerkit.types import Sentence  # noqa: E402

CACHE = Path(__file__).resolve().parent / ".cache"
TARGET = 20.0

SEQEVAL_SCRIPT = """\
import json
import sys

from seqeval.metrics import classification_report


def read(path):
    sentences, current = [], []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                if current:
                    sentences.append(current)
                    current = []
                continue
            current.append(line.rstrip("\\n").split("\\t")[-1])
    if current:
        sentences.append(current)
    return sentences


gold, pred = read(sys.argv[1]), read(sys.argv[2])
if len(sys.argv) > 3:
    print(json.dumps(classification_report(gold, pred, output_dict=True), default=float))
else:
    print(classification_report(gold, pred, digits=4))
"""


def make_files(n_tokens: int, seed: int) -> tuple[Path, Path]:
    CACHE.mkdir(exist_ok=True)
    gold_path = CACHE / f"eval-gold-{n_tokens}.conll"
    pred_path = CACHE / f"eval-pred-{n_tokens}-{seed}.conll"
    if gold_path.exists() and pred_path.exists():
        return gold_path, pred_path
    base = [s for name in WNUT_FILES for s in read(data_dir() / "wnut17" / name).sentences]
    gold: list[Sentence] = []
    total = 0
    while total < n_tokens:
        for sentence in base:
            gold.append(Sentence(sentence.tokens, sentence.tags))
            total += len(sentence)
            if total >= n_tokens:
                break
    noisy = corrupt([list(s.tags) for s in gold], seed)
    write(gold, gold_path)
    write([Sentence(s.tokens, tuple(t)) for s, t in zip(gold, noisy, strict=True)], pred_path)
    return gold_path, pred_path


def nerkit_command() -> list[str]:
    script = Path(sys.executable).with_name("nerkit")
    return [str(script)] if script.exists() else [sys.executable, "-m", "nerkit"]


def run(cmd: list[str]) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    took = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{done.stderr}")
    return took, done.stdout


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args(argv)

    gold, pred = make_files(args.tokens, args.seed)
    script = CACHE / "seqeval_eval.py"
    script.write_text(SEQEVAL_SCRIPT)
    ours = [*nerkit_command(), "eval", str(gold), str(pred)]
    theirs = [sys.executable, str(script), str(gold), str(pred)]

    # the numbers first: same micro / macro / per-type values
    ours_json = json.loads(run([*ours, "--json"])[1])
    theirs_json = json.loads(run([*theirs, "--json"])[1])
    for label, row in theirs_json.items():
        mine = ours_json.get(label.removesuffix(" avg")) or ours_json["per_type"][label]
        for key, our_key in (("precision", "precision"), ("recall", "recall"), ("f1-score", "f1")):
            if abs(mine[our_key] - row[key]) > 1e-12:
                raise SystemExit(f"{label} {key}: nerkit {mine[our_key]} != seqeval {row[key]}")
    print(f"numbers equal (micro F1 {ours_json['micro']['f1']:.6f})")

    times: dict[str, list[float]] = {"nerkit": [], "seqeval": []}
    for round_ in range(args.repeats):
        order = [("nerkit", ours), ("seqeval", theirs)]
        for name, cmd in order if round_ % 2 == 0 else reversed(order):
            times[name].append(run(cmd)[0])
    med = {name: statistics.median(values) for name, values in times.items()}
    ratio = med["seqeval"] / med["nerkit"]
    print(f"python {platform.python_version()}; {args.tokens:,} tokens; {args.repeats} rounds")
    for name, values in times.items():
        print(f"{name:8s} median {med[name]:.3f} s  runs {' '.join(f'{v:.3f}' for v in values)}")
    verdict = "meets" if ratio >= TARGET else "misses"
    print(
        f"nerkit eval is {ratio:.1f}x faster than the seqeval script ({verdict} the {TARGET:.0f}x target)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
