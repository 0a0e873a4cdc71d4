"""The openner corrector: the corrector contract, each feature mode, the gate."""

from __future__ import annotations

import random

import numpy as np
import pytest

from nerkit.interfaces import Corrector, RunContext
from nerkit.testing import CorrectorContract, toy_corpus
from nerkit.types import Prediction
from nerkit_openner.corrector import OpenNERCorrector

SMALL = {"max_length": 32, "batch_size": 8, "epochs": 1}
CORPUS = toy_corpus()
TRAIN, DEV, TEST = list(CORPUS["train"]), list(CORPUS["dev"]), list(CORPUS["test"])


class TestOpenNERContract(CorrectorContract):
    allows_invalid_sequences = (
        True  # the corrector's argmax is not repaired (the run's decoder does)
    )

    def make_corrector(self) -> Corrector:
        return OpenNERCorrector(dict(SMALL))


def noisy(sentences, rate: float, seed: int) -> list[Prediction]:  # type: ignore[no-untyped-def]
    rng = random.Random(seed)
    labels = sorted({t for s in TRAIN for t in s.tags})
    return [
        Prediction(tags=tuple(rng.choice(labels) if rng.random() < rate else t for t in s.tags))
        for s in sentences
    ]


@pytest.mark.parametrize("features", ["onehot", "add", "concat"])
def test_each_feature_mode_trains_and_reads_the_base_tags(features: str) -> None:
    corrector = OpenNERCorrector(
        dict(
            SMALL, features=features, token_majority=True, gate=False, epochs=2, task_layer_lr=20.0
        )
    )
    corrector.fit(TRAIN, noisy(TRAIN, 0.3, 1), DEV, noisy(DEV, 0.3, 2), context=RunContext(seed=3))
    a = corrector._raw(TEST, [Prediction(tags=s.tags) for s in TEST])[1]
    b = corrector._raw(TEST, [Prediction(tags=("O",) * len(s)) for s in TEST])[1]
    # other base tags, other output: the base tag is an input of the model
    assert any(not np.array_equal(x, y) for x, y in zip(a, b, strict=True))


def test_trained_on_gold_base_tags_it_reproduces_them() -> None:
    gold = [Prediction(tags=s.tags) for s in TRAIN]
    corrector = OpenNERCorrector(
        dict(SMALL, gate=False, epochs=10, learning_rate=2e-4, task_layer_lr=50.0, warmup_ratio=0.1)
    )
    corrector.fit(TRAIN, gold, context=RunContext(seed=5, threads=1))
    out = corrector.correct(TRAIN, gold)
    assert [p.tags for p in out] == [s.tags for s in TRAIN]


def test_gate_at_threshold_one_returns_the_base_tags() -> None:
    corrector = OpenNERCorrector(dict(SMALL, gate=False))
    corrector.fit(TRAIN, noisy(TRAIN, 0.3, 1), context=RunContext(seed=3))
    corrector.threshold = 1.0
    base = noisy(TEST, 0.5, 9) + [Prediction(tags=("I-PER", "O"))]  # includes an invalid sequence
    sentences = TEST + [TEST[0].__class__(tokens=("Anna", "sang"))]
    assert [p.tags for p in corrector.correct(sentences, base)] == [p.tags for p in base]


def test_gate_threshold_is_picked_on_dev_and_stored(tmp_path) -> None:  # type: ignore[no-untyped-def]
    corrector = OpenNERCorrector(dict(SMALL))
    corrector.fit(TRAIN, noisy(TRAIN, 0.3, 1), DEV, noisy(DEV, 0.3, 2), context=RunContext(seed=3))
    assert 0.0 <= corrector.threshold <= 1.0
    assert corrector.stats["threshold"] == corrector.threshold
    corrector.save(tmp_path)
    assert OpenNERCorrector.load(tmp_path).threshold == corrector.threshold
