"""Can a tagger fit a small training set? Train `lear` (or `bert`) on the first N
sentences of a corpus and score it, after every epoch, on those same sentences: the
training curve, free of any generalisation question. It is how the stalled start of
lear's pointers on Weibo showed up (benchmarks/RESULTS.md).

    python benchmarks/lear_curve.py --dataset weibo --sentences 100 --epochs 40
    python benchmarks/lear_curve.py --dataset weibo --tagger bert -T epochs=20

Options given with -T KEY=VALUE go to the tagger (as `nerkit run -T`); Weibo gets
`extend_vocab` as in `lear_vs_bert.py`. Thresholds stay at 0.5 (picking them on the
training sentences would flatter the curve).
"""

from __future__ import annotations

import argparse
import time
import warnings

from lear_vs_bert import DATASET_OPTIONS, data_dir, make_tagger

from nerkit.datasets import load_dataset
from nerkit.interfaces import RunContext
from nerkit.options import parse_pairs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="weibo")
    parser.add_argument("--tagger", choices=("lear", "bert"), default="lear")
    parser.add_argument("--sentences", type=int, default=100)
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("-T", dest="options", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args(argv)
    corpus = load_dataset(args.dataset, data_dir=data_dir(), download=False)
    train = list(corpus["train"])[: args.sentences]
    options = {
        "epochs": args.epochs,
        "batch_size": 16,
        "patience": 0,
        **DATASET_OPTIONS.get(args.dataset, {}),
        **({"start_threshold": 0.5, "end_threshold": 0.5} if args.tagger == "lear" else {}),
        **parse_pairs(args.options, flag="-T"),
    }
    tagger = make_tagger(args.tagger, options)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # descriptions, [UNK] rates
        start = time.perf_counter()
        tagger.fit(
            train,
            train,
            scheme=corpus.scheme,
            context=RunContext(seed=args.seed, threads=args.threads),
        )
        seconds = time.perf_counter() - start
    curve = [(p[0], p[4]) for p in tagger.curve_points if p[2] == "dev" and p[3] == "f1"]
    print(f"{args.tagger} on the first {len(train)} {args.dataset} sentences, options {options}")
    print("epoch  train-F1")
    for epoch, f1 in curve:
        print(f"{epoch:5d}  {100 * f1:7.2f}")
    print(f"{seconds:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
