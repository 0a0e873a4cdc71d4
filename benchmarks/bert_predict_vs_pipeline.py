"""Prediction speed: nerkit's `bert` tagger against `transformers.pipeline(
"token-classification")`, the same trained model, on the WNUT-17 test sentences.

Both sides get words and must return one tag per word:
- the pipeline reads each sentence as the words joined by spaces (no aggregation, no
  label ignored), at batch 32 and at its default batch size, 1; a word's tag is the
  tag of the subword that starts at the word's first character, `O` where the
  pipeline returns none (a word the tokenizer drops, or one past its truncation);
- nerkit calls `BertTagger.predict` (batch 32, length-sorted batches, windows) in fp32,
  in bf16 autocast, and with the weights cast to bf16.

Reported: sentences per second (median of interleaved repeats), the ratio to the
pipeline, and the share of word tags equal to nerkit fp32's. Targets: >= 3x the
pipeline in fp32; >= 8x in bf16 with >= 99.5% of the word tags equal to fp32's.

The model is a saved bert tagger folder (`--model RUN/tagger`); without one, a tagger
is trained for one epoch on WNUT-17 train and kept in `benchmarks/.cache/bert_predict/`
(reused by later invocations):

    python benchmarks/bert_predict_vs_pipeline.py [--model DIR] [--repeats 3] [--threads 2]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from nerkit.datasets import load_dataset
from nerkit.interfaces import RunContext
from nerkit.types import Sentence

CACHE = Path(__file__).resolve().parent / ".cache" / "bert_predict"
BATCH = 32


def data_dir() -> Path:
    default = Path(__file__).resolve().parents[2] / "shared" / "data"
    return Path(os.environ.get("NERKIT_DATA_DIR", default))


def trained_model(train: list[Sentence], dev: list[Sentence]) -> Path:
    from nerkit_bert.tagger import BertTagger

    folder = CACHE / "model"
    if (folder / "nerkit-bert.json").is_file():
        return folder
    tagger = BertTagger({"epochs": 1, "learning_rate": 1e-4, "precision": "bf16"})
    tagger.fit(train, dev, scheme="IOB2", context=RunContext(seed=42))
    partial = folder.with_name("model.partial")
    partial.mkdir(parents=True, exist_ok=True)
    tagger.save(partial)
    partial.rename(folder)
    return folder


def pipeline_tagger(
    model_dir: Path, batch_size: int
) -> Callable[[Sequence[Sentence]], list[list[str]]]:
    from transformers import AutoModelForTokenClassification, AutoTokenizer, pipeline

    tokenizer = AutoTokenizer.from_pretrained(model_dir, local_files_only=True)
    model = AutoModelForTokenClassification.from_pretrained(model_dir, local_files_only=True)
    tag = pipeline(
        "token-classification",
        model=model,
        tokenizer=tokenizer,
        aggregation_strategy="none",
        ignore_labels=[],
        device=-1,
    )

    def run(sentences: Sequence[Sentence]) -> list[list[str]]:
        texts, starts = [], []
        for s in sentences:
            offsets, at = [], 0
            for word in s.tokens:
                offsets.append(at)
                at += len(word) + 1
            texts.append(" ".join(s.tokens))
            starts.append(offsets)
        out = []
        for tokens, offsets in zip(tag(texts, batch_size=batch_size), starts, strict=True):
            first = {}
            for token in tokens:
                first.setdefault(token["start"], token["entity"])
            out.append([first.get(at, "O") for at in offsets])
        return out

    return run


def nerkit_tagger(model_dir: Path, mode: str) -> Callable[[Sequence[Sentence]], list[list[str]]]:
    import torch

    from nerkit_bert.tagger import BertTagger

    tagger = BertTagger.load(model_dir)
    options = {"batch_size": BATCH, "precision": "bf16" if mode == "bf16-autocast" else "fp32"}
    tagger.options = dataclasses.replace(tagger.options, **options)
    if mode == "bf16-weights":
        tagger.model.to(torch.bfloat16)

    def run(sentences: Sequence[Sentence]) -> list[list[str]]:
        return [list(p.tags) for p in tagger.predict(sentences)]

    return run


def agreement(a: list[list[str]], b: list[list[str]]) -> float:
    pairs = [(x, y) for sa, sb in zip(a, b, strict=True) for x, y in zip(sa, sb, strict=True)]
    return sum(x == y for x, y in pairs) / len(pairs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="a saved bert tagger folder (RUN/tagger)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: default)")
    args = parser.parse_args(argv)
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    corpus = load_dataset("wnut17", data_dir=data_dir(), download=False, scheme=None)
    test = list(corpus["test"])
    model_dir = args.model or trained_model(list(corpus["train"]), list(corpus["dev"]))
    sides = {
        "pipeline fp32": pipeline_tagger(model_dir, BATCH),
        "pipeline fp32, batch 1": pipeline_tagger(model_dir, 1),
        "nerkit fp32": nerkit_tagger(model_dir, "fp32"),
        "nerkit bf16 autocast": nerkit_tagger(model_dir, "bf16-autocast"),
        "nerkit bf16 weights": nerkit_tagger(model_dir, "bf16-weights"),
    }
    for run in sides.values():  # warm-up: first calls allocate and compile kernels
        run(test[:64])
    seconds: dict[str, list[float]] = {name: [] for name in sides}
    tags: dict[str, list[list[str]]] = {}
    for _ in range(args.repeats):  # interleaved: each repeat runs every side once
        for name, run in sides.items():
            start = time.perf_counter()
            tags[name] = run(test)
            seconds[name].append(time.perf_counter() - start)
    print(
        f"python {platform.python_version()}, torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads; WNUT-17 test: {len(test)} sentences, "
        f"{sum(len(s) for s in test)} words; batch {BATCH}; median of {args.repeats}"
    )
    base = statistics.median(seconds["pipeline fp32"])
    base1 = statistics.median(seconds["pipeline fp32, batch 1"])
    reference = tags["nerkit fp32"]
    for name in sides:
        median = statistics.median(seconds[name])
        print(
            f"{name:22s} {len(test) / median:8.1f} sentences/s  {base / median:5.2f}x pipeline"
            f"  {base1 / median:5.2f}x pipeline at batch 1"
            f"  word tags equal to nerkit fp32: {100 * agreement(tags[name], reference):.2f}%"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
