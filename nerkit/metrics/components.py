"""The metric engine and its seqeval cross-check as ``Metric`` components, registered
by ``nerkit.builtins`` through the ``register_metrics`` hook."""

from __future__ import annotations

from collections.abc import Sequence

from nerkit.interfaces import Metric, MetricRow
from nerkit.metrics.reference import seqeval_scores
from nerkit.metrics.scoring import Scores, scores


def _rows(result: Scores) -> list[MetricRow]:
    return [
        MetricRow(metric, label, value, support) for metric, label, value, support in result.rows()
    ]


class EntityMetric(Metric):
    """Entity-level P / R / F1 (micro, macro, weighted, per type) and token accuracy,
    computed by nerkit's vectorised engine; equal to seqeval 1.2.2."""

    def compute(
        self,
        gold: Sequence[Sequence[str]],
        predicted: Sequence[Sequence[str]],
        *,
        scheme: str = "IOB2",
        mode: str = "lenient",
    ) -> list[MetricRow]:
        return _rows(scores(gold, predicted, scheme, mode))


class SeqevalMetric(Metric):
    """The same numbers computed by seqeval itself (slow): a cross-check."""

    def compute(
        self,
        gold: Sequence[Sequence[str]],
        predicted: Sequence[Sequence[str]],
        *,
        scheme: str = "IOB2",
        mode: str = "lenient",
    ) -> list[MetricRow]:
        return _rows(seqeval_scores(gold, predicted, scheme, mode))
