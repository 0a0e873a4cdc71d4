"""Time nerkit's metric engine against seqeval 1.2.2 on about a million WNUT-17 tokens.

Gold: WNUT-17 train + dev + test (IOB2), repeated until ``--tokens`` tokens.
Predictions: gold with seeded noise (10% of tokens get a random tag of the label set,
some entity starts move one token left and some entity ends are cut).

Both libraries start from lists of string tags, so nerkit's string -> id conversion is
timed too. Rounds alternate which library goes first; the medians are reported and
the numbers of both are checked to be equal.

    python benchmarks/metrics_vs_seqeval.py [--tokens 1000000] [--repeats 5] [--seed 13]

Data: ``$NERKIT_DATA_DIR/wnut17/`` (default: ``shared/data`` next to the repository).
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import random
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import seqeval
from seqeval.metrics import classification_report, f1_score
from seqeval.scheme import IOB2

from nerkit import metrics
from nerkit.metrics.extraction import prepare_pair
from nerkit.schemes import get_scheme

WNUT_FILES = ("wnut17train.conll", "emerging.dev.conll", "emerging.test.annotated")
TARGETS = {"report": 50.0, "strict_f1": 20.0}


def data_dir() -> Path:
    default = Path(__file__).resolve().parents[2] / "shared" / "data"
    return Path(os.environ.get("NERKIT_DATA_DIR", default))


def read_tags(path: Path) -> list[list[str]]:
    """Tag column of a ``TOKEN<TAB>TAG`` file; any whitespace-only line ends a sentence."""
    sentences: list[list[str]] = []
    current: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            if current:
                sentences.append(current)
                current = []
            continue
        current.append(line.rsplit("\t", 1)[1].strip())
    if current:
        sentences.append(current)
    return sentences


def build_gold(n_tokens: int) -> list[list[str]]:
    base = [s for name in WNUT_FILES for s in read_tags(data_dir() / "wnut17" / name)]
    gold: list[list[str]] = []
    total = 0
    while total < n_tokens:
        for sentence in base:
            gold.append(list(sentence))
            total += len(sentence)
            if total >= n_tokens:
                break
    return gold


def corrupt(gold: list[list[str]], seed: int) -> list[list[str]]:
    """Seeded noise: random tags (10% of tokens) and boundary shifts (3% of entities)."""
    rng = random.Random(seed)
    labels = sorted({t for s in gold for t in s})
    pred = []
    for sentence in gold:
        p = list(sentence)
        for i, tag in enumerate(sentence):
            if tag.startswith("B-") and i > 0 and p[i - 1] == "O" and rng.random() < 0.03:
                p[i - 1], p[i] = tag, "I-" + tag[2:]  # entity starts one token early
            elif (
                tag.startswith("I-")
                and (i + 1 == len(sentence) or not sentence[i + 1].startswith("I-"))
                and rng.random() < 0.03
            ):
                p[i] = "O"  # entity ends one token early
        for i in range(len(p)):
            if rng.random() < 0.10:
                p[i] = rng.choice(labels)
        pred.append(p)
    return pred


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def same_report(ours: dict[str, dict[str, float | int]], theirs: dict[str, Any]) -> bool:
    if list(ours) != list(theirs):
        return False
    for label, row in theirs.items():
        for key in ("precision", "recall", "f1-score"):
            a, b = float(ours[label][key]), float(row[key])
            if not (math.isnan(a) and math.isnan(b)) and abs(a - b) > 1e-12:
                return False
        if ours[label]["support"] != int(row["support"]):
            return False
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=1_000_000, help="gold tokens (default 1M)")
    parser.add_argument("--repeats", type=int, default=5, help="rounds per comparison")
    parser.add_argument("--seed", type=int, default=13, help="seed of the prediction noise")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")  # seqeval's undefined-metric warnings

    gold = build_gold(args.tokens)
    pred = corrupt(gold, args.seed)
    n_tokens = sum(map(len, gold))
    print(
        f"python {platform.python_version()}, numpy {np.__version__}, seqeval {seqeval_version()}"
    )
    print(f"{len(gold):,} sentences, {n_tokens:,} tokens, {args.repeats} rounds")

    cases: dict[str, tuple[Callable[[], Any], Callable[[], Any]]] = {
        "report": (
            lambda: metrics.scores(gold, pred, "IOB2", "lenient"),
            lambda: classification_report(gold, pred, output_dict=True),
        ),
        "strict_f1": (
            lambda: metrics.scores(gold, pred, "IOB2", "strict").f1,
            lambda: f1_score(gold, pred, mode="strict", scheme=IOB2),
        ),
    }
    times: dict[str, tuple[list[float], list[float]]] = {k: ([], []) for k in cases}
    for case, (ours, theirs) in cases.items():
        for r in range(args.repeats):
            order = (0, 1) if r % 2 == 0 else (1, 0)  # alternate who goes first
            results: list[Any] = [None, None]
            for who in order:
                elapsed, results[who] = timed((ours, theirs)[who])
                times[case][who].append(elapsed)
            if case == "report":
                assert same_report(results[0].report_dict(), results[1]), "reports differ"
            else:
                assert abs(results[0] - results[1]) <= 1e-12, (results[0], results[1])
        print(f"{case}: equal numbers in all {args.repeats} rounds")

    # Where nerkit's time goes: the string -> id pass versus everything after it.
    encode_time = statistics.median(
        timed(lambda: prepare_pair(gold, pred, get_scheme("IOB2")))[0] for _ in range(args.repeats)
    )
    final = metrics.scores(gold, pred, "IOB2", "lenient")
    print(f"micro F1 (lenient) {final.f1:.6f}, strict {cases['strict_f1'][0]():.6f}")
    print()
    print(f"{'comparison':<48} {'nerkit':>10} {'seqeval':>10} {'speed-up':>9} {'target':>7}")
    ok = True
    labels = {
        "report": "lenient classification_report vs scores()",
        "strict_f1": "f1_score(mode='strict', IOB2) vs scores().f1",
    }
    for case, (ours_t, theirs_t) in times.items():
        a, b = statistics.median(ours_t), statistics.median(theirs_t)
        ratio = b / a
        met = ratio >= TARGETS[case]
        ok &= met
        print(
            f"{labels[case]:<48} {a * 1e3:>8.1f}ms {b:>9.2f}s {ratio:>8.1f}x "
            f"{TARGETS[case]:>5.0f}x {'met' if met else 'MISSED'}"
        )
    print(f"nerkit string->id conversion of gold + predictions: {encode_time * 1e3:.1f}ms")
    return 0 if ok else 1


def seqeval_version() -> str:
    from importlib.metadata import version

    try:
        return version("seqeval")
    except Exception:  # pragma: no cover - a source checkout without metadata
        return getattr(seqeval, "__version__", "?")


if __name__ == "__main__":
    sys.exit(main())
