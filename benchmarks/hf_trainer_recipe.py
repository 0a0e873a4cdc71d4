"""The Hugging Face ``run_ner.py`` recipe with ``Trainer``, as a function the BERT
benchmarks call for the peer side (not part of nerkit).

It follows the recipe: first-subword labels (the other subwords -100), truncation at
``max_length`` (words past it get no prediction; they are scored as ``O``),
``DataCollatorForTokenClassification``, ``Trainer`` with linear warmup / decay and
weight decay, one evaluation at the end.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class RecipeResult:
    test_tags: list[list[str]]
    train_seconds: float
    unpredicted_words: int
    model_dir: str


def run_recipe(
    model_path: str,
    train: Sequence[Any],
    test: Sequence[Any],
    *,
    out_dir: Path,
    max_length: int = 128,
    learning_rate: float = 5e-5,
    batch_size: int = 32,
    warmup_ratio: float = 0.1,
    weight_decay: float = 0.01,
    epochs: int = 3,
    seed: int = 42,
    bf16: bool = False,
) -> RecipeResult:
    """Train on ``train`` (nerkit Sentences) and tag ``test``; returns word-level tags."""
    import numpy as np
    import torch
    from transformers import (
        AutoModelForTokenClassification,
        AutoTokenizer,
        DataCollatorForTokenClassification,
        Trainer,
        TrainingArguments,
        set_seed,
    )

    set_seed(seed)
    labels = sorted({t for s in train for t in s.tags}, key=lambda t: (t != "O", t))
    label_id = {t: i for i, t in enumerate(labels)}
    tokenizer = AutoTokenizer.from_pretrained(model_path)
    model = AutoModelForTokenClassification.from_pretrained(
        model_path,
        num_labels=len(labels),
        id2label=dict(enumerate(labels)),
        label2id=label_id,
    )

    def encode(sentences: Sequence[Any], with_labels: bool) -> list[dict[str, Any]]:
        out = []
        for s in sentences:
            enc = tokenizer(
                list(s.tokens), is_split_into_words=True, truncation=True, max_length=max_length
            )
            words = enc.word_ids()
            item = {k: v for k, v in enc.items()}
            if with_labels:
                previous = None
                ids = []
                for w in words:
                    ids.append(-100 if w is None or w == previous else label_id[s.tags[w]])
                    previous = w
                item["labels"] = ids
            out.append(item)
        return out

    train_set = encode(train, True)
    args = TrainingArguments(
        output_dir=str(out_dir),
        learning_rate=learning_rate,
        per_device_train_batch_size=batch_size,
        per_device_eval_batch_size=batch_size,
        warmup_ratio=warmup_ratio,
        weight_decay=weight_decay,
        num_train_epochs=epochs,
        seed=seed,
        group_by_length=False,
        eval_strategy="no",
        save_strategy="no",
        logging_strategy="no",
        report_to=[],
        bf16=bf16,
        use_cpu=not torch.cuda.is_available(),
        dataloader_num_workers=0,
    )
    trainer = Trainer(
        model=model,
        args=args,
        train_dataset=train_set,
        data_collator=DataCollatorForTokenClassification(tokenizer),
    )
    start = time.perf_counter()
    trainer.train()
    seconds = time.perf_counter() - start

    test_set = encode(test, False)
    logits = trainer.predict(test_set).predictions
    tags: list[list[str]] = []
    unpredicted = 0
    for s, item, row in zip(test, test_set, logits, strict=True):
        enc = tokenizer(
            list(s.tokens), is_split_into_words=True, truncation=True, max_length=max_length
        )
        words = enc.word_ids()
        sentence_tags = ["O"] * len(s.tokens)
        seen = set()
        best = np.argmax(row[: len(item["input_ids"])], axis=-1)
        for position, w in enumerate(words):
            if w is not None and w not in seen:
                seen.add(w)
                sentence_tags[w] = labels[int(best[position])]
        unpredicted += len(s.tokens) - len(seen)
        tags.append(sentence_tags)
    model_dir = out_dir / "model"
    trainer.save_model(str(model_dir))
    tokenizer.save_pretrained(str(model_dir))
    return RecipeResult(tags, seconds, unpredicted, str(model_dir))
