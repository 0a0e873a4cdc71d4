"""nerkit's `lear` tagger against its `bert` tagger with the same encoder (the bundled
all-MiniLM-L6-v2), on WNUT-17 (English, words) and Weibo (Chinese, characters; both
taggers with `extend_vocab`), trained on 10% and on 100% of the training sentences.

Same settings on both sides (`bert`'s defaults): max length 128, learning rate 1e-4,
task-layer multiplier 10, batch 32, warmup ratio 0.1, weight decay 0.01, 5 epochs,
fp32, length-grouped batches, seed 42, dev early stopping (the best dev weights are
kept); lear with thresholds picked on dev and its defaults otherwise (flat decoding,
balanced positive weight, descriptions from the label names). The 10% sample is
drawn once per dataset with the seed, so both taggers see the same sentences.

Reported: test entity F1 (lenient, micro) and training wall time (fit, dev
evaluations included).

Each (dataset, fraction, tagger) result is stored in
`benchmarks/.cache/lear_vs_bert/` and skipped when present, so an interrupted
benchmark resumes where it stopped:

    python benchmarks/lear_vs_bert.py [--datasets wnut17 weibo] [--fractions 0.1 1.0]
        [--taggers bert lear] [--epochs 5] [--patience N] [--device cpu|cuda|auto]
        [--threads N]

A quick check that it works: `--fractions 0.01 --epochs 1 --eval-limit 50`
(results of such runs are stored under their own names).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import random
import time
import warnings
from pathlib import Path
from typing import Any

from nerkit import __version__
from nerkit.datasets import load_dataset
from nerkit.interfaces import RunContext
from nerkit.metrics import scores

CACHE = Path(__file__).resolve().parent / ".cache" / "lear_vs_bert"
SETTINGS = {
    "max_length": 128,
    "learning_rate": 1e-4,
    "task_layer_lr": 10.0,
    "batch_size": 32,
    "warmup_ratio": 0.1,
    "weight_decay": 0.01,
    "epochs": 5,
    "precision": "fp32",
    # the cells of RESULTS.md were run with length-grouped batches (the default before
    # 0.3.1); pinned so that results run before and after stay comparable
    "group_by_length": True,
}
SEED = 42
DATASETS = ("wnut17", "weibo")
#: options one dataset needs on both sides (MiniLM's vocabulary lacks most CJK characters)
DATASET_OPTIONS: dict[str, dict[str, Any]] = {"weibo": {"extend_vocab": True}}
NAMES = {"wnut17": "WNUT-17", "weibo": "Weibo"}
#: lear's start / end thresholds picked on dev, as the cells of RESULTS.md since 0.3.1
#: were run (lear's own default is 0.5 again since 0.3.2)
LEAR_OPTIONS = {"start_threshold": None, "end_threshold": None}


def data_dir() -> Path:
    default = Path(__file__).resolve().parents[2] / "shared" / "data"
    return Path(os.environ.get("NERKIT_DATA_DIR", default))


def sample(sentences: list[Any], fraction: float) -> list[Any]:
    """A seeded sample of ``fraction`` of the sentences, in corpus order."""
    if fraction >= 1.0:
        return list(sentences)
    k = max(1, round(fraction * len(sentences)))
    keep = sorted(random.Random(SEED).sample(range(len(sentences)), k))
    return [sentences[i] for i in keep]


def make_tagger(name: str, options: dict[str, Any]) -> Any:
    if name == "bert":
        from nerkit_bert.tagger import BertTagger

        return BertTagger(options)
    from nerkit_lear.tagger import LearTagger

    return LearTagger(LEAR_OPTIONS | options)


def run_one(
    tagger_name: str,
    train: list[Any],
    dev: list[Any],
    test: list[Any],
    options: dict[str, Any],
    context: RunContext,
) -> dict[str, Any]:
    tagger = make_tagger(tagger_name, options)
    with warnings.catch_warnings():
        # lear names the descriptions it makes; the [UNK] warnings are expected on Weibo
        warnings.simplefilter("ignore", UserWarning)
        start = time.perf_counter()
        tagger.fit(train, dev, scheme="IOB2", context=context)
        train_seconds = time.perf_counter() - start
    start = time.perf_counter()
    predicted = [p.tags for p in tagger.predict(test)]
    predict_seconds = time.perf_counter() - start
    result = scores([s.tags for s in test], predicted, "IOB2", "lenient")
    return {
        "f1": result.f1,
        "precision": result.precision,
        "recall": result.recall,
        "train_seconds": train_seconds,
        "predict_seconds": predict_seconds,
        "train_sentences": len(train),
        "test_sentences": len(test),
        "options": options,
        "training": tagger.stats.get("training", {}),
    }


def cache_path(
    dataset: str,
    fraction: float,
    tagger: str,
    epochs: int,
    eval_limit: int | None,
    patience: int | None = None,
    settings: dict[str, Any] | None = None,
) -> Path:
    """Where a result is kept: named by its settings, and by a digest of what else
    changes it (the tagger's options, threads, device, nerkit's version), so that a
    rerun after a change measures again instead of reprinting an older result."""
    limit = f"-n{eval_limit}" if eval_limit else ""
    wait = f"-p{patience}" if patience is not None else ""
    digest = ""
    if settings is not None:
        text = json.dumps(settings, sort_keys=True, default=str).encode()
        digest = "-" + hashlib.sha256(text).hexdigest()[:10]
    return CACHE / f"{dataset}-f{fraction:g}-{tagger}-e{epochs}{wait}{limit}{digest}.json"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", choices=DATASETS, default=list(DATASETS))
    parser.add_argument("--fractions", nargs="+", type=float, default=[0.1, 1.0])
    parser.add_argument("--taggers", nargs="+", choices=("bert", "lear"), default=["bert", "lear"])
    parser.add_argument("--epochs", type=int, default=SETTINGS["epochs"])
    parser.add_argument(
        "--patience",
        type=int,
        default=None,
        help="dev evaluations without improvement before stopping (default: the taggers' 3); "
        "on 10%% of the data both start at dev F1 0 for several epochs",
    )
    parser.add_argument("--device", default="cpu", help="cpu, cuda or auto")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument(
        "--eval-limit",
        type=int,
        default=None,
        help="quick checks: the first N dev and test sentences only",
    )
    args = parser.parse_args(argv)
    if any(not 0.0 < f <= 1.0 for f in args.fractions):
        parser.error("fractions must be in (0, 1]")
    CACHE.mkdir(parents=True, exist_ok=True)
    context = RunContext(seed=SEED, device=args.device, threads=args.threads)
    rows = []
    for dataset in args.datasets:
        corpus = load_dataset(dataset, data_dir=data_dir(), download=False)
        dev = list(corpus["dev"])[: args.eval_limit]
        test = list(corpus["test"])[: args.eval_limit]
        for fraction in args.fractions:
            train = sample(list(corpus["train"]), fraction)
            results = {}
            for tagger in args.taggers:
                options = {**SETTINGS, "epochs": args.epochs, **DATASET_OPTIONS.get(dataset, {})}
                if args.patience is not None:
                    options["patience"] = args.patience
                settings = {
                    "options": options,
                    "threads": args.threads,
                    "device": args.device,
                    "nerkit": __version__,
                }
                path = cache_path(
                    dataset, fraction, tagger, args.epochs, args.eval_limit, args.patience, settings
                )
                if path.exists():
                    print(f"{tagger} on {dataset}: stored result {path.name}", flush=True)
                    results[tagger] = json.loads(path.read_text())
                    continue
                print(f"training {tagger} on {len(train)} {dataset} sentences ...", flush=True)
                results[tagger] = run_one(tagger, train, dev, test, options, context) | {
                    "device": args.device,
                    "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                }
                path.write_text(json.dumps(results[tagger], indent=2))
            rows.append((dataset, fraction, len(train), results))
    print_table(rows, args)
    return 0


def print_table(rows: list[tuple[str, float, int, dict[str, Any]]], args: Any) -> None:
    limit = f"; first {args.eval_limit} dev / test sentences" if args.eval_limit else ""
    print(
        f"python {platform.python_version()}; all-MiniLM-L6-v2; {args.epochs} epochs; "
        f"seed {SEED}; device {args.device}; patience {args.patience or 'default'}{limit}"
    )
    header = f"{'dataset':8s} {'train':>9s} {'sentences':>9s}"
    for tagger in args.taggers:
        header += f" {tagger + ' F1':>9s} {tagger + ' time':>10s}"
    print(header)
    for dataset, fraction, n_train, results in rows:
        line = f"{NAMES[dataset]:8s} {fraction:>9.0%} {n_train:>9d}"
        for tagger in args.taggers:
            r = results[tagger]
            line += f" {100 * r['f1']:>9.2f} {r['train_seconds']:>9.0f}s"
        print(line)


if __name__ == "__main__":
    raise SystemExit(main())
