"""The contract every Metric keeps. A plugin's test module subclasses it:

    from nerkit.testing import MetricContract

    class TestMyMetric(MetricContract):
        def make_metric(self):
            return MyMetric()

Rows are looked up by ``(metric, label)``: ``("f1", "micro")`` and so on, the names
of nerkit's metrics table; a metric that names them differently overrides the
``*_row`` attributes.
"""

from __future__ import annotations

import copy
import math
import random
from collections.abc import Sequence
from typing import ClassVar

from nerkit import schemes
from nerkit.interfaces import Metric, MetricRow
from nerkit.testing.data import entity_score, in_scheme, noisy_tags, toy_corpus


class MetricContract:
    """Promises of ``nerkit.interfaces.Metric``; subclass as ``TestXxx`` and define
    :meth:`make_metric`."""

    scheme: ClassVar[str] = "IOB2"
    modes: ClassVar[tuple[str, ...]] = ("lenient", "strict")
    seed: ClassVar[int] = 13
    precision_row: ClassVar[tuple[str, str]] = ("precision", "micro")
    recall_row: ClassVar[tuple[str, str]] = ("recall", "micro")
    f1_row: ClassVar[tuple[str, str]] = ("f1", "micro")
    #: metric names whose values are fractions in [0, 1]
    fraction_metrics: ClassVar[tuple[str, ...]] = ("precision", "recall", "f1")

    def make_metric(self) -> Metric:
        raise NotImplementedError(f"{type(self).__name__} must define make_metric()")

    def gold(self) -> list[list[str]]:
        corpus = toy_corpus()
        sentences = [s for split in corpus for s in corpus[split]]
        return [list(s.tags) for s in in_scheme(sentences, self.scheme)]

    def noisy(self, gold: Sequence[Sequence[str]]) -> list[list[str]]:
        """Predictions with some tags wrong (including invalid sequences)."""
        rng = random.Random(self.seed)
        labels = sorted({t for seq in gold for t in seq} | {schemes.OUTSIDE})
        return [list(noisy_tags(seq, labels, 0.3, rng)) for seq in gold]

    def value(self, rows: Sequence[MetricRow], key: tuple[str, str]) -> float:
        found = [r.value for r in rows if (r.metric, r.label) == key]
        assert len(found) == 1, f"expected one {key} row, found {len(found)}"
        return found[0]

    def compute(
        self, gold: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]], mode: str
    ) -> list[MetricRow]:
        rows = self.make_metric().compute(gold, predicted, scheme=self.scheme, mode=mode)
        assert isinstance(rows, list) and all(isinstance(r, MetricRow) for r in rows), (
            "compute must return a list of MetricRow"
        )
        return rows

    # --------------------------------------------------------------- tests

    def test_perfect_predictions_score_one(self) -> None:
        gold = self.gold()
        for mode in self.modes:
            rows = self.compute(gold, copy.deepcopy(gold), mode)
            for key in (self.precision_row, self.recall_row, self.f1_row):
                value = self.value(rows, key)
                assert value == 1.0, f"{mode}: {key} is {value} for perfect predictions"

    def test_predicting_only_o_recalls_nothing(self) -> None:
        gold = self.gold()
        nothing = [[schemes.OUTSIDE] * len(seq) for seq in gold]
        for mode in self.modes:
            rows = self.compute(gold, nothing, mode)
            for key in (self.recall_row, self.f1_row):
                value = self.value(rows, key)
                assert value == 0.0, f"{mode}: {key} is {value} for predictions without entities"

    def test_fractions_are_finite_and_between_zero_and_one(self) -> None:
        gold = self.gold()
        nothing = [[schemes.OUTSIDE] * len(seq) for seq in gold]
        for predicted in (gold, nothing, self.noisy(gold)):
            for mode in self.modes:
                for row in self.compute(gold, predicted, mode):
                    if row.metric in self.fraction_metrics:
                        assert math.isfinite(row.value) and 0.0 <= row.value <= 1.0, row
                    assert isinstance(row.support, int) and row.support >= 0, row

    def test_agrees_with_exact_span_matching(self) -> None:
        gold = self.gold()
        predicted = self.noisy(gold)
        for mode in self.modes:
            rows = self.compute(gold, predicted, mode)
            expected = entity_score(gold, predicted, self.scheme, mode=mode)
            assert math.isclose(
                self.value(rows, self.precision_row), expected.precision, abs_tol=1e-9
            )
            assert math.isclose(self.value(rows, self.recall_row), expected.recall, abs_tol=1e-9)
            assert math.isclose(self.value(rows, self.f1_row), expected.f1, abs_tol=1e-9)

    def test_swapping_gold_and_predictions_swaps_precision_and_recall(self) -> None:
        gold = self.gold()
        # valid predictions: in strict mode an invalid gold sequence would lose entities
        predicted = [schemes.convert(seq, self.scheme, self.scheme) for seq in self.noisy(gold)]
        for mode in self.modes:
            forward, backward = (
                self.compute(gold, predicted, mode),
                self.compute(predicted, gold, mode),
            )
            assert math.isclose(
                self.value(forward, self.precision_row), self.value(backward, self.recall_row)
            )
            assert math.isclose(
                self.value(forward, self.recall_row), self.value(backward, self.precision_row)
            )

    def test_every_gold_type_gets_a_row(self) -> None:
        gold = self.gold()
        types = {schemes.split_tag(t)[1] for seq in gold for t in seq} - {""}
        rows = self.compute(gold, self.noisy(gold), self.modes[0])
        labels = {r.label for r in rows if r.metric == self.f1_row[0]}
        assert types <= labels, f"no {self.f1_row[0]} row for {sorted(types - labels)}"

    def test_scoring_leaves_its_inputs_unchanged(self) -> None:
        gold = self.gold()
        predicted = self.noisy(gold)
        gold_before, predicted_before = copy.deepcopy(gold), copy.deepcopy(predicted)
        for mode in self.modes:
            self.compute(gold, predicted, mode)
        assert gold == gold_before and predicted == predicted_before
