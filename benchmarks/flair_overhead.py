"""nerkit's `flair` tagger against the plain flair script a flair user writes for the
same configuration, on WNUT-17: the time nerkit adds to training, the test F1 of each
side for the same seed, and prediction time on the test set.

Configuration (both sides): flair's BiLSTM-CRF (`--hidden-size`, one layer, BIOES tags,
locked dropout 0.5, word dropout 0.05), SGD at 0.1, `--batch-size` sentences per training
step (32 per prediction batch), `--epochs` epochs, patience
3, anneal factor 0.5, `flair.set_seed(seed)` right before the label dictionary and the
embeddings, over `--embeddings`:

- `char,onehot` (default): `CharacterEmbeddings` (25 / 25) over a character dictionary
  of the training corpus (sorted characters; flair's default one is a download) and
  `OneHotEmbeddings` (100) over the training words seen at least twice, most frequent
  first, ties in alphabetical order (nerkit's order: `OneHotEmbeddings.from_corpus`
  breaks ties by first occurrence, which gives other words other random rows, so
  another F1 for the same seed); embeddings not stored (`"none"`: they are trained);
- `transformer`: frozen all-MiniLM-L6-v2 `TransformerWordEmbeddings` (last layer, first
  sub-token, long sentences windowed), embeddings stored on the CPU (`"cpu"`);
- `transformer,char`: the two stacked. The plain script stores nothing (`"none"`, so
  MiniLM runs over train and dev every epoch): flair's storage (its default is `"cpu"`)
  would keep the character vectors of its dev evaluation and evaluate every later epoch
  on them, stale. nerkit's `embeddings_storage=auto` stores the transformer's vectors
  and computes the character ones afresh, so MiniLM runs over train once. The numbers
  are not the plain script's: flair runs a frozen transformer with dropout while the
  tagger trains, so a stored training vector is one dropout draw for every epoch, where
  the plain script draws anew each epoch; the same-F1 target does not apply.

- **plain flair**: WNUT-17 read by flair's `ColumnCorpus` (train + dev), `ModelTrainer.train`
  with the same arguments as nerkit's plugin, except that flair keeps its best epoch by
  its own dev F1 (`best-model.pt`), which is what a flair user does; test predicted by
  `SequenceTagger.predict(test, mini_batch_size=32)` on `ColumnDataset` sentences.
- **nerkit**: `FlairTagger.fit(train, dev)`, which scores the dev tags of flair's own
  evaluation with nerkit's metric engine each epoch and keeps the epoch with the best
  nerkit dev F1 (lenient), then `FlairTagger.predict(test)` (tags, confidences,
  probabilities).

Test F1 of both sides: `nerkit.metrics.scores` (lenient, IOB2) on each side's predicted
tags. Training time: from the seed to a trained model (data already read); prediction
time: the predict call alone (flair's span output is turned into tags outside the clock).
Targets: nerkit's training time <= 1.05x plain flair's, the same test F1, prediction
speed >= 1x flair's.

Each (side, repeat) runs in its own process, the sides interleaved (which goes first
alternates), and its result is stored in `benchmarks/.cache/flair_overhead/` and skipped
when present, so an interrupted benchmark resumes where it stopped:

    python benchmarks/flair_overhead.py [--embeddings char,onehot|transformer|transformer,char]
        [--repeats 3] [--epochs 8] [--batch-size 8] [--hidden-size 64] [--seed 13]
        [--threads 1]

One torch thread by default: on a 2-core machine shared with other jobs, two threads per
process made flair's training about 40x slower (every small operation waits for the
other thread to be scheduled).

`--dev-pass` instead times one separate dev pass of the training curve for a frozen
transformer stack (untrained model; the cost does not depend on the weights), which
nerkit only runs where flair does not evaluate dev itself (`train_with_dev`): on fresh
Sentences (the transformer runs over dev again), on flair's dev Sentences with the
embeddings stored at flair's evaluation, and flair's own dev evaluation on those.

WNUT-17 is read from `$NERKIT_DATA_DIR/wnut17` (default: `../shared/data` next to the
repository).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

CACHE = Path(__file__).resolve().parent / ".cache" / "flair_overhead"
SIDES = ("flair", "nerkit")
BATCH = 32
#: nerkit options; the plain script spells out the same values
OPTIONS: dict[str, Any] = {
    "fine_tune": False,
    "subtoken_pooling": "first",
    "transformer_layers": "-1",
    "rnn_layers": 1,
    "use_crf": True,
    "locked_dropout": 0.5,
    "word_dropout": 0.05,
    "tag_format": "BIOES",
    "learning_rate": 0.1,
    "eval_batch_size": BATCH,
    "patience": 3,
    "anneal_factor": 0.5,
    "min_learning_rate": 1e-4,
    "char_embedding_dim": 25,
    "char_hidden_size": 25,
    "onehot_dim": 100,
    "onehot_min_freq": 2,
}
STACKS = {
    "char,onehot": ("char", "onehot"),
    "transformer": ("transformer",),
    "transformer,char": ("transformer", "char"),
}
#: stacks both sides compute alike (the same F1 for the same seed is a target)
SAME_NUMBERS = ("char,onehot", "transformer")
FILES = {"train": "wnut17train.conll", "dev": "emerging.dev.conll"}
TEST_FILE = "emerging.test.annotated"


def data_dir() -> Path:
    default = Path(__file__).resolve().parents[2] / "shared" / "data"
    return Path(os.environ.get("NERKIT_DATA_DIR", default))


def gold_corpus() -> dict[str, list[Any]]:
    from nerkit.datasets import load_dataset

    corpus = load_dataset("wnut17", data_dir=data_dir(), download=False, scheme=None)
    return {split: list(corpus[split]) for split in ("train", "dev", "test")}


def f1(gold: list[Any], predicted: list[tuple[str, ...]]) -> float:
    from nerkit.metrics import scores

    return scores([s.tags for s in gold], predicted, "IOB2", "lenient").f1


# ------------------------------------------------------------------ the two sides


def flair_embeddings(stack: str, corpus: Any) -> Any:
    """The plain script's embeddings, built from the training corpus."""
    from collections import Counter

    from flair.data import Dictionary
    from flair.embeddings import (
        CharacterEmbeddings,
        OneHotEmbeddings,
        StackedEmbeddings,
        TransformerWordEmbeddings,
    )

    from nerkit_flair.embeddings import default_transformer

    words = [token.text for sentence in corpus.train for token in sentence]
    parts = []
    for name in STACKS[stack]:
        if name == "transformer":
            parts.append(
                TransformerWordEmbeddings(
                    default_transformer(),
                    layers=OPTIONS["transformer_layers"],
                    subtoken_pooling=OPTIONS["subtoken_pooling"],
                    fine_tune=False,
                    allow_long_sentences=True,
                    local_files_only=True,
                )
            )
        elif name == "char":
            chars = Dictionary(add_unk=True)
            for char in sorted(set("".join(words))):
                chars.add_item(char)
            parts.append(
                CharacterEmbeddings(
                    path_to_char_dict=chars,
                    char_embedding_dim=OPTIONS["char_embedding_dim"],
                    hidden_size_char=OPTIONS["char_hidden_size"],
                )
            )
        else:
            vocabulary = Dictionary(add_unk=True)
            for word, count in sorted(Counter(words).items(), key=lambda kv: (-kv[1], kv[0])):
                if count >= OPTIONS["onehot_min_freq"]:
                    vocabulary.add_item(word)
            parts.append(OneHotEmbeddings(vocabulary, embedding_length=OPTIONS["onehot_dim"]))
    return parts[0] if len(parts) == 1 else StackedEmbeddings(parts)


def run_flair(
    stack: str, hidden_size: int, batch_size: int, epochs: int, seed: int, work: Path
) -> dict[str, Any]:
    """The plain flair script."""
    import flair
    from flair.datasets import ColumnCorpus, ColumnDataset
    from flair.models import SequenceTagger
    from flair.trainers import ModelTrainer

    folder = data_dir() / "wnut17"
    columns = {0: "text", 1: "ner"}
    corpus = ColumnCorpus(
        folder,
        columns,
        train_file=FILES["train"],
        dev_file=FILES["dev"],
        autofind_splits=False,
        sample_missing_splits=False,
    )
    start = time.perf_counter()
    flair.set_seed(seed)
    tags = corpus.make_label_dictionary("ner", add_unk=False)
    tagger = SequenceTagger(
        embeddings=flair_embeddings(stack, corpus),
        tag_dictionary=tags,
        tag_type="ner",
        tag_format=OPTIONS["tag_format"],
        hidden_size=hidden_size,
        rnn_layers=OPTIONS["rnn_layers"],
        use_crf=OPTIONS["use_crf"],
        locked_dropout=OPTIONS["locked_dropout"],
        word_dropout=OPTIONS["word_dropout"],
    )
    trainer = ModelTrainer(tagger, corpus)
    trainer.train(
        work,
        learning_rate=OPTIONS["learning_rate"],
        mini_batch_size=batch_size,
        eval_batch_size=BATCH,
        max_epochs=epochs,
        patience=OPTIONS["patience"],
        anneal_factor=OPTIONS["anneal_factor"],
        min_learning_rate=OPTIONS["min_learning_rate"],
        train_with_dev=False,
        # storage only for frozen embeddings: flair would evaluate dev on stale stored
        # char vectors (its own default, "cpu", does)
        embeddings_storage_mode="cpu" if stack == "transformer" else "none",
        save_final_model=False,
        create_file_logs=True,
        create_loss_file=True,
    )
    train_seconds = time.perf_counter() - start
    tagger.eval()

    test = list(ColumnDataset(folder / TEST_FILE, columns))
    start = time.perf_counter()
    tagger.predict(test, mini_batch_size=BATCH)
    predict_seconds = time.perf_counter() - start
    predicted = []
    for sentence in test:
        row = ["O"] * len(sentence)
        for span in sentence.get_spans("ner"):
            first = span.tokens[0].idx - 1
            row[first] = f"B-{span.tag}"
            for k in range(first + 1, first + len(span.tokens)):
                row[k] = f"I-{span.tag}"
        predicted.append(tuple(row))
    dev_f1 = _flair_dev_scores(work / "loss.tsv")
    return {
        "train_seconds": train_seconds,
        "predict_seconds": predict_seconds,
        "predicted": predicted,
        "dev_f1_per_epoch": dev_f1,
        "kept_epoch": kept_epoch("flair", dev_f1),
    }


def kept_epoch(side: str, dev_f1: list[float]) -> int | None:
    """The epoch whose weights each side ends with: the first with the best dev F1; flair
    only saves an epoch whose score beats 0, else it keeps the last one."""
    if not dev_f1:
        return None
    if side == "flair" and max(dev_f1) <= 0:
        return len(dev_f1)
    return 1 + dev_f1.index(max(dev_f1))


def _flair_dev_scores(path: Path) -> list[float]:
    lines = path.read_text().splitlines()
    header = lines[0].split("\t")
    column = header.index("DEV_F1") if "DEV_F1" in header else header.index("DEV_SCORE")
    return [float(line.split("\t")[column]) for line in lines[1:]]


def run_nerkit(
    stack: str,
    hidden_size: int,
    batch_size: int,
    epochs: int,
    seed: int,
    threads: int,
    gold: dict[str, list[Any]],
) -> dict[str, Any]:
    from nerkit.interfaces import RunContext
    from nerkit_flair.tagger import FlairTagger

    points: list[tuple[Any, ...]] = []
    context = RunContext(seed=seed, threads=threads, curve=lambda *p: points.append(p))
    options = {
        "embeddings": STACKS[stack],
        "hidden_size": hidden_size,
        "mini_batch_size": batch_size,
        "max_epochs": epochs,
    }
    tagger = FlairTagger(OPTIONS | options)
    start = time.perf_counter()
    tagger.fit(gold["train"], gold["dev"], scheme="IOB2", context=context)
    train_seconds = time.perf_counter() - start
    start = time.perf_counter()
    predictions = tagger.predict(gold["test"])
    predict_seconds = time.perf_counter() - start
    dev_f1 = [p[4] for p in points if p[2:4] == ("dev", "f1")]
    return {
        "train_seconds": train_seconds,
        "predict_seconds": predict_seconds,
        "predicted": [p.tags for p in predictions],
        "dev_f1_per_epoch": dev_f1,
        "kept_epoch": kept_epoch("nerkit", dev_f1),
    }


def run_one(side: str, repeat: int, args: argparse.Namespace) -> None:
    """One (side, repeat) in this process; the result goes to its cache file."""
    import tempfile

    import flair
    import torch

    torch.set_num_threads(args.threads)
    flair.device = torch.device("cpu")
    gold = gold_corpus()
    config = (args.embeddings, args.hidden_size, args.batch_size, args.epochs, args.seed)
    if side == "flair":
        with tempfile.TemporaryDirectory(prefix="flair-overhead-") as tmp:
            result = run_flair(*config, Path(tmp))
    else:
        result = run_nerkit(*config, args.threads, gold)
    predicted = result.pop("predicted")
    if [len(t) for t in predicted] != [len(s) for s in gold["test"]]:
        raise SystemExit(f"{side}: test predictions do not line up with the gold tokens")
    result |= {
        "test_f1": f1(gold["test"], predicted),
        "threads": args.threads,
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "versions": {"python": platform.python_version(), "torch": torch.__version__}
        | {"flair": flair.__version__},
    }
    cache_file(side, repeat, args).write_text(json.dumps(result, indent=1))


def cache_file(side: str, repeat: int, args: argparse.Namespace) -> Path:
    stack = args.embeddings.replace(",", "-")
    config = f"{stack}-h{args.hidden_size}-b{args.batch_size}-e{args.epochs}-s{args.seed}"
    config += f"-t{args.threads}"
    name = f"{side}-{config}-r{repeat}.json"
    return CACHE / name


# ------------------------------------------------------------------ the report


def time_dev_pass(args: argparse.Namespace) -> None:
    import flair
    import torch
    from flair.data import Dictionary
    from flair.models import SequenceTagger

    from nerkit_flair import convert
    from nerkit_flair.embeddings import transformer
    from nerkit_flair.tagger import FlairOptions, predict_tags, predict_with

    torch.set_num_threads(args.threads)
    flair.device = torch.device("cpu")
    dev = [s for s in gold_corpus()["dev"] if s.tokens]
    flair.set_seed(args.seed)
    types = Dictionary(add_unk=False)
    for kind in sorted({t[2:] for s in dev for t in s.tags if t != "O"}):
        types.add_item(kind)
    model = SequenceTagger(
        embeddings=transformer(FlairOptions()),
        tag_dictionary=types,
        tag_type=convert.LABEL_TYPE,
        tag_format="BIOES",
        hidden_size=args.hidden_size,
    )
    model.eval()
    flair_dev = [convert.to_flair(s, "IOB2") for s in dev]
    times: dict[str, float] = {}
    start = time.perf_counter()
    fresh = [p.tags for p in predict_with(model, dev, scheme="IOB2", batch_size=BATCH)]
    times["separate pass, fresh Sentences (transformer over dev)"] = time.perf_counter() - start
    # flair's first evaluation stores the dev embeddings; later ones reuse them
    model.evaluate(flair_dev, "ner", mini_batch_size=BATCH, embedding_storage_mode="cpu")
    start = time.perf_counter()
    model.evaluate(flair_dev, "ner", mini_batch_size=BATCH, embedding_storage_mode="cpu")
    times["flair's own dev evaluation (stored)"] = time.perf_counter() - start
    start = time.perf_counter()
    stored = predict_tags(model, flair_dev, scheme="IOB2", batch_size=BATCH, storage="cpu")
    times["separate pass, flair's dev Sentences (stored)"] = time.perf_counter() - start
    print(f"one dev pass, {len(dev)} WNUT-17 dev sentences, {args.threads} thread(s):")
    for name, seconds in times.items():
        print(f"  {name:48s} {seconds:6.2f} s")
    print(f"  same tags both ways: {fresh == stored}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="nerkit's `flair` tagger vs a plain flair script on WNUT-17: training "
        "time, test F1 for the same seed, prediction time."
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--embeddings", choices=tuple(STACKS), default="char,onehot")
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=8, help="sentences per training step")
    parser.add_argument("--hidden-size", type=int, default=64, help="of the BiLSTM")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--dev-pass", action="store_true", help="time the curve's dev pass")
    parser.add_argument("--one", choices=SIDES, help=argparse.SUPPRESS)
    parser.add_argument("--repeat", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    CACHE.mkdir(parents=True, exist_ok=True)
    if args.one:
        run_one(args.one, args.repeat, args)
        return 0
    if args.dev_pass:
        time_dev_pass(args)
        return 0
    for repeat in range(args.repeats):
        order = SIDES if repeat % 2 == 0 else SIDES[::-1]
        for side in order:
            path = cache_file(side, repeat, args)
            if path.exists():
                continue
            print(f"running {side} repeat {repeat + 1}/{args.repeats} ...", flush=True)
            command = [sys.executable, __file__, "--one", side, "--repeat", str(repeat)]
            command += ["--epochs", str(args.epochs), "--seed", str(args.seed)]
            command += ["--threads", str(args.threads), "--embeddings", args.embeddings]
            command += [
                "--hidden-size",
                str(args.hidden_size),
                "--batch-size",
                str(args.batch_size),
            ]
            log = path.with_suffix(".log")
            with log.open("w") as out:
                done = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, check=False)
            if done.returncode:
                print(f"{side} repeat {repeat + 1} failed; see {log}", file=sys.stderr)
                return 1
    report(args)
    return 0


def report(args: argparse.Namespace) -> None:
    runs = {
        side: [json.loads(cache_file(side, r, args).read_text()) for r in range(args.repeats)]
        for side in SIDES
    }
    versions = runs["nerkit"][0]["versions"]
    print(
        f"WNUT-17, {args.embeddings} + BiLSTM-CRF (hidden {args.hidden_size}, "
        f"batch {args.batch_size}), "
        f"{args.epochs} epochs, seed {args.seed}, "
        f"{args.threads} threads, {args.repeats} repeats; "
        + ", ".join(f"{k} {v}" for k, v in versions.items())
    )
    medians: dict[str, dict[str, float]] = {}
    for side, results in runs.items():
        medians[side] = {}
        for key in ("train_seconds", "predict_seconds"):
            values = [r[key] for r in results]
            medians[side][key] = statistics.median(values)
            print(
                f"{side:6s} {key:15s} median {medians[side][key]:7.1f} s; runs "
                + " ".join(f"{v:.1f}" for v in values)
            )
        f1s = " ".join(f"{100 * r['test_f1']:.2f}" for r in results)
        kept = " ".join(str(kept_epoch(side, r["dev_f1_per_epoch"])) for r in results)
        dev = " | ".join(" ".join(f"{100 * v:.2f}" for v in r["dev_f1_per_epoch"]) for r in results)
        print(f"{side:6s} test F1 {f1s}; kept epoch {kept}; dev F1 per epoch {dev}")
    train_ratio = medians["nerkit"]["train_seconds"] / medians["flair"]["train_seconds"]
    speedup = medians["flair"]["predict_seconds"] / medians["nerkit"]["predict_seconds"]
    same_f1 = all(
        abs(a["test_f1"] - b["test_f1"]) < 1e-12
        for a, b in zip(runs["flair"], runs["nerkit"], strict=True)
    )
    if args.embeddings in SAME_NUMBERS:
        f1_text = f"test F1 {'the same' if same_f1 else 'DIFFERENT'} in every repeat"
    else:
        f1_text = "test F1 not comparable run for run (stored vs fresh dropout draws)"
    print(
        f"training time nerkit / flair {train_ratio:.3f} (target <= 1.05: "
        f"{'met' if train_ratio <= 1.05 else 'missed'}); {f1_text}; prediction speed-up "
        f"{speedup:.2f}x (target >= 1: {'met' if speedup >= 1 else 'missed'})"
    )


if __name__ == "__main__":
    raise SystemExit(main())
