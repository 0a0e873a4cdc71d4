"""Training time of nerkit's `bert` tagger in bf16 autocast against fp32, on WNUT-17
with the default encoder and the `bert_vs_hf_trainer.py` settings (max length 128,
learning rate 5e-5, batch 32, warmup ratio 0.1, weight decay 0.01, head multiplier 1,
no dev), one epoch over the first `--sentences` training sentences per timed run.

fp32 and bf16 runs alternate (fp32, bf16, fp32, bf16, ...) so both see the same
machine load, after an untimed warm-up run of each; reported: the median seconds of
each, their ratio, and each run's test F1 (after one epoch, so lower than a full
run's; the F1 of full 3-epoch runs in both precisions is in RESULTS.md from
`bert_vs_hf_trainer.py --side nerkit-bf16`).

Each run's result is stored in `benchmarks/.cache/bert_precision/` and skipped when
present, so an interrupted benchmark resumes where it stopped:

    python benchmarks/bert_precision.py [--repeats 3] [--sentences 1000] [--threads 1]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

from nerkit.datasets import load_dataset

CACHE = Path(__file__).resolve().parent / ".cache" / "bert_precision"
PRECISIONS = ("fp32", "bf16")
SEED = 42


def data_dir() -> Path:
    default = Path(__file__).resolve().parents[2] / "shared" / "data"
    return Path(os.environ.get("NERKIT_DATA_DIR", default))


def run_one(train: list, test: list, precision: str, threads: int) -> dict:  # type: ignore[type-arg]
    from bert_vs_hf_trainer import run_nerkit  # the same recipe, one epoch

    result = run_nerkit(train, test, 1, SEED, threads=threads, precision=precision)
    return result | {
        "precision": precision,
        "train_sentences": len(train),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--sentences", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    corpus = load_dataset("wnut17", data_dir=data_dir(), download=False, scheme=None)
    train, test = list(corpus["train"])[: args.sentences], list(corpus["test"])
    CACHE.mkdir(parents=True, exist_ok=True)
    results: dict[str, list[dict]] = {p: [] for p in PRECISIONS}  # type: ignore[type-arg]
    warm = False
    for repeat in range(args.repeats):
        for precision in PRECISIONS:
            path = CACHE / f"n{len(train)}-t{args.threads}-{precision}-r{repeat}.json"
            if path.exists():
                result = json.loads(path.read_text())
            else:
                if not warm:  # one-time costs (model files, kernels) outside the timings
                    for p in PRECISIONS:
                        run_one(train[:8], test[:8], p, args.threads)
                    warm = True
                print(f"repeat {repeat}: {precision} ...", flush=True)
                result = run_one(train, test, precision, args.threads)
                path.write_text(json.dumps(result, indent=2))
            results[precision].append(result)
    print(
        f"python {platform.python_version()}; {platform.processor() or platform.machine()}; "
        f"{len(train)} WNUT-17 sentences, 1 epoch, {args.threads} thread(s), "
        f"{args.repeats} interleaved repeats"
    )
    median = {p: statistics.median(r["train_seconds"] for r in results[p]) for p in PRECISIONS}
    for p in PRECISIONS:
        f1s = ", ".join(f"{100 * r['f1']:.2f}" for r in results[p])
        print(f"{p}: median training {median[p]:.1f} s; test F1 per repeat {f1s}")
    print(f"bf16 / fp32 training time: {median['bf16'] / median['fp32']:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
