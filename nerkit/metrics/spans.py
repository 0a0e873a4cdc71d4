"""Entity scores of span lists: for taggers whose output (or corpora whose gold) holds
nested or overlapping entities, which tag sequences cannot express.

A predicted span is correct when the gold spans of its sentence hold one with the
same start, end and label; duplicates within a sentence count once. The averages are
seqeval's (``scores_from_counts``), so on flat spans the numbers equal ``scores`` of
the tags that encode them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from nerkit import schemes
from nerkit.errors import InputError
from nerkit.metrics.scoring import TypeScore, entity_rows, scores_from_counts
from nerkit.types import Sentence, Span


@dataclass(frozen=True, slots=True)
class SpanScores:
    """Per-type and averaged precision / recall / F1 of predicted spans."""

    per_type: Mapping[str, TypeScore]
    micro: TypeScore
    macro: TypeScore
    weighted: TypeScore

    @property
    def precision(self) -> float:
        return self.micro.precision

    @property
    def recall(self) -> float:
        return self.micro.recall

    @property
    def f1(self) -> float:
        return self.micro.f1

    def rows(self) -> list[tuple[str, str, float, int]]:
        """``(metric, label, value, support)`` rows, as ``Scores.rows`` without the
        token accuracies."""
        averages = {"micro": self.micro, "macro": self.macro, "weighted": self.weighted}
        return entity_rows(self.per_type, averages)


def span_scores(gold: Sequence[Sequence[Span]], pred: Sequence[Sequence[Span]]) -> SpanScores:
    """Scores of predicted spans against gold spans, one list of spans per sentence
    (spans may overlap or nest)."""
    if len(gold) != len(pred):
        raise InputError(f"{len(gold)} gold sentences but {len(pred)} predicted ones")
    support: Counter[str] = Counter()
    predicted: Counter[str] = Counter()
    correct: Counter[str] = Counter()
    for gold_spans, pred_spans in zip(gold, pred, strict=True):
        g, p = set(gold_spans), set(pred_spans)
        support.update(s.label for s in g)
        predicted.update(s.label for s in p)
        correct.update(s.label for s in g & p)
    labels = sorted(support.keys() | predicted.keys())
    per_type, micro, macro, weighted = scores_from_counts(
        labels,
        [correct[label] for label in labels],
        [predicted[label] for label in labels],
        [support[label] for label in labels],
    )
    return SpanScores(MappingProxyType(per_type), micro, macro, weighted)


def entity_spans(sentence: Sentence, scheme: str | schemes.Scheme) -> tuple[Span, ...]:
    """A sentence's entities: its ``spans`` when it has them (nested gold), else the
    ones its tags encode in ``scheme`` (read leniently)."""
    if sentence.spans:
        return sentence.spans
    return tuple(schemes.spans_lenient(sentence.tags, scheme)) if sentence.tags else ()
