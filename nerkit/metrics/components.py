"""The metric engine and its seqeval cross-check as ``Metric`` components, registered
by ``nerkit.builtins`` through the ``register_metrics`` hook."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from nerkit.interfaces import Metric, MetricRow
from nerkit.metrics.reference import seqeval_scores
from nerkit.metrics.scoring import Scores, scores


class _ScoresMetric(Metric):
    score: Callable[..., Scores] = staticmethod(scores)

    def compute(
        self,
        gold: Sequence[Sequence[str]],
        predicted: Sequence[Sequence[str]],
        *,
        scheme: str = "IOB2",
        mode: str = "lenient",
    ) -> list[MetricRow]:
        result = self.score(gold, predicted, scheme, mode)
        return [MetricRow(*row) for row in result.rows()]


class EntityMetric(_ScoresMetric):
    """Entity-level P / R / F1 (micro, macro, weighted, per type) and token accuracy,
    computed by nerkit's vectorised engine; equal to seqeval 1.2.2."""

    score = staticmethod(scores)


class SeqevalMetric(_ScoresMetric):
    """The same numbers computed by seqeval itself (slow): a cross-check."""

    score = staticmethod(seqeval_scores)
