"""Entity-level precision / recall / F1 with seqeval's definitions, and token accuracy."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

from nerkit.metrics.encoding import TagSequences, resolve
from nerkit.metrics.extraction import PreparedPair, exact_matches, prepare_pair
from nerkit.schemes import Scheme


@dataclass(frozen=True, slots=True)
class TypeScore:
    """Scores of one entity type or one average.

    ``support`` is the number of gold entities, ``predicted`` of predicted ones and
    ``correct`` of predicted ones that equal a gold one (for averages: the totals).
    """

    precision: float
    recall: float
    f1: float
    support: int
    predicted: int
    correct: int


def entity_rows(
    per_type: Mapping[str, TypeScore], averages: Mapping[str, TypeScore]
) -> list[tuple[str, str, float, int]]:
    """``(metric, label, value, support)`` rows of entity scores: P / R / F1 of every
    type and average, and predicted / correct counts except for macro and weighted
    averages (which have none)."""
    out: list[tuple[str, str, float, int]] = []
    for label, score in [*per_type.items(), *averages.items()]:
        for metric in ("precision", "recall", "f1"):
            out.append((metric, label, float(getattr(score, metric)), score.support))
        if label not in ("macro", "weighted"):
            out.append(("predicted", label, float(score.predicted), score.support))
            out.append(("correct", label, float(score.correct), score.support))
    return out


@dataclass(frozen=True, slots=True)
class Scores:
    """Entity-level and token-level scores of a batch.

    ``per_type`` holds every type found in gold or predictions, sorted by name.
    ``accuracy_without_o`` is the share of tokens whose gold tag is not ``O`` that got
    exactly the gold tag (the FinBERT script's "accuracy without O").
    """

    per_type: Mapping[str, TypeScore]
    micro: TypeScore
    macro: TypeScore
    weighted: TypeScore
    accuracy: float
    accuracy_without_o: float
    tokens: int
    correct_tokens: int
    tokens_without_o: int
    correct_tokens_without_o: int
    scheme: str
    mode: str

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
        """``(metric, label, value, support)`` rows for the metrics table.

        Labels are type names, ``micro`` / ``macro`` / ``weighted``, or ``all`` for the
        token accuracies (whose support is the number of tokens counted).
        """
        out = entity_rows(self.per_type, self._averages())
        out.append(("accuracy", "all", self.accuracy, self.tokens))
        out.append(("accuracy_without_o", "all", self.accuracy_without_o, self.tokens_without_o))
        return out

    def report_dict(self) -> dict[str, dict[str, float | int]]:
        """The scores shaped like seqeval's ``classification_report(output_dict=True)``."""
        named = [*self.per_type.items()] + [(f"{k} avg", v) for k, v in self._averages().items()]
        return {
            label: {
                "precision": s.precision,
                "recall": s.recall,
                "f1-score": s.f1,
                "support": s.support,
            }
            for label, s in named
        }

    def _averages(self) -> dict[str, TypeScore]:
        return {"micro": self.micro, "macro": self.macro, "weighted": self.weighted}


def _divide(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    # seqeval's _prf_divide with zero_division="warn": x / 0 reads as 0.
    zero = denominator == 0
    result = numerator / np.where(zero, 1, denominator)
    result[zero] = 0.0
    return result


def _prf(
    correct: np.ndarray, predicted: np.ndarray, support: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    precision = _divide(correct, predicted)
    recall = _divide(correct, support)
    denominator = precision + recall
    denominator[denominator == 0] = 1
    # Same operation order as seqeval, so that the floats agree to the last bit.
    f1 = 2.0 * precision * recall / denominator
    return precision, recall, f1


def scores_from_counts(
    labels: Sequence[str],
    correct: Sequence[int] | np.ndarray,
    predicted: Sequence[int] | np.ndarray,
    support: Sequence[int] | np.ndarray,
) -> tuple[dict[str, TypeScore], TypeScore, TypeScore, TypeScore]:
    """Per-type scores and the micro / macro / weighted averages from entity counts,
    with seqeval's definitions. Types with neither gold nor predicted entities are left out."""
    c, p, s = (np.asarray(x, dtype=np.int64) for x in (correct, predicted, support))
    present = np.flatnonzero((s + p) > 0)
    c, p, s = c[present], p[present], s[present]
    precision, recall, f1 = _prf(c, p, s)
    per_type = {
        labels[k]: TypeScore(float(pr), float(rc), float(f), int(n), int(np_), int(nc))
        for k, pr, rc, f, n, np_, nc in zip(
            present.tolist(), precision, recall, f1, s, p, c, strict=True
        )
    }
    totals = (int(c.sum()), int(p.sum()), int(s.sum()))
    micro_p, micro_r, micro_f = (float(x[0]) for x in _prf(*(np.array([t]) for t in totals)))
    micro = TypeScore(micro_p, micro_r, micro_f, totals[2], totals[1], totals[0])
    if present.size:
        macro_values = [float(np.average(x)) for x in (precision, recall, f1)]
    else:
        macro_values = [math.nan] * 3  # seqeval: the mean of no types
    macro = TypeScore(*macro_values, totals[2], totals[1], totals[0])
    if totals[2]:
        weighted_values = [float(np.average(x, weights=s)) for x in (precision, recall, f1)]
    else:
        weighted_values = [0.0] * 3  # seqeval: zero_division when there is no support
    weighted = TypeScore(*weighted_values, totals[2], totals[1], totals[0])
    return per_type, micro, macro, weighted


def ratio(numerator: int, denominator: int) -> float:
    return numerator / denominator if denominator else 0.0


def scores(
    gold: TagSequences,
    pred: TagSequences,
    scheme: str | Scheme = "IOB2",
    mode: str = "lenient",
) -> Scores:
    """Entity-level and token-level scores of predicted tags against gold tags.

    ``scheme`` is a scheme name (or alias, or ``"auto"`` to infer it from gold);
    ``mode`` is ``"lenient"`` (conlleval, seqeval's default) or ``"strict"``.
    Raises ``InputError`` when gold and predictions differ in shape, and
    ``SchemeError`` for a tag outside the scheme.
    """
    s = resolve(scheme, mode, gold)
    return score_prepared(prepare_pair(gold, pred, s), s, mode)


def score_prepared(prepared: PreparedPair, s: Scheme, mode: str) -> Scores:
    """``scores`` of a batch already encoded as tag ids (``prepare_pair``/``prepare_ids``)."""
    gold_entities, pred_entities = prepared.entities(mode)
    hit = exact_matches(gold_entities, pred_entities)
    n_labels = len(prepared.tables.labels)
    per_type, micro, macro, weighted = scores_from_counts(
        prepared.tables.labels,
        np.bincount(pred_entities.label[hit], minlength=n_labels),
        np.bincount(pred_entities.label, minlength=n_labels),
        np.bincount(gold_entities.label, minlength=n_labels),
    )
    same = prepared.gold_ids == prepared.pred_ids
    entity_tokens = prepared.gold_ids != 0  # id 0 is O
    n, n_correct = int(same.size), int(np.count_nonzero(same))
    n_entity = int(np.count_nonzero(entity_tokens))
    n_entity_correct = int(np.count_nonzero(same & entity_tokens))
    return Scores(
        per_type=MappingProxyType(per_type),
        micro=micro,
        macro=macro,
        weighted=weighted,
        accuracy=ratio(n_correct, n),
        accuracy_without_o=ratio(n_entity_correct, n_entity),
        tokens=n,
        correct_tokens=n_correct,
        tokens_without_o=n_entity,
        correct_tokens_without_o=n_entity_correct,
        scheme=s.name,
        mode=mode,
    )
