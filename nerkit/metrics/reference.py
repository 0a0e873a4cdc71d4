"""The same scores computed by seqeval 1.2.2, imported lazily (a slow reference)."""

from __future__ import annotations

import warnings
from itertools import chain
from types import MappingProxyType
from typing import Any

from nerkit.metrics.encoding import TagSequences, check_same_shape, lengths_of, resolve
from nerkit.metrics.scoring import Scores, TypeScore, ratio
from nerkit.schemes import OUTSIDE, Scheme, check_tag

_SEQEVAL_CLASSES = {
    "IOB1": "IOB1",
    "IOB2": "IOB2",
    "IOE1": "IOE1",
    "IOE2": "IOE2",
    "BIOES": "IOBES",
    "BILOU": "BILOU",
}


def seqeval_scores(
    gold: TagSequences,
    pred: TagSequences,
    scheme: str | Scheme = "IOB2",
    mode: str = "lenient",
) -> Scores:
    """The same ``Scores``, computed by seqeval 1.2.2 (slow; a reference to check against).

    Lenient uses seqeval's default extraction, on BILOU tags renamed ``L``->``E``,
    ``U``->``S`` (seqeval's default extraction does not know ``L``/``U``). Strict uses
    ``mode="strict"`` with the scheme's seqeval class, except IO, which has none and
    is scored leniently. For IOB1 and IOE1 strict this is seqeval's own answer, which
    differs from ``scores`` in the cases ``nerkit.schemes`` documents.
    """
    from seqeval import scheme as seqeval_scheme
    from seqeval.metrics import classification_report
    from seqeval.metrics.sequence_labeling import get_entities

    s = resolve(scheme, mode, gold)
    check_same_shape(lengths_of(gold, "gold"), lengths_of(pred, "predicted"))
    y_true = [list(tags) for tags in gold]
    y_pred = [list(tags) for tags in pred]
    for tag in {*chain.from_iterable(y_true), *chain.from_iterable(y_pred)}:
        check_tag(tag, s)
    strict_class = None if mode == "lenient" or s.name == "IO" else _SEQEVAL_CLASSES[s.name]
    if strict_class is None and s.name == "BILOU":
        renamed = {"L": "E", "U": "S"}
        y_true, y_pred = (
            [[renamed.get(t[:1], t[:1]) + t[1:] for t in tags] for tags in y]
            for y in (y_true, y_pred)
        )

    def entity_set(y: list[list[str]]) -> set[tuple[Any, ...]]:
        if strict_class is None:
            return set(get_entities(y))  # (type, start, end) over the joined batch
        found = seqeval_scheme.Entities(y, getattr(seqeval_scheme, strict_class)).entities
        return {(e.tag, e.sent_id, e.start, e.end) for e in chain.from_iterable(found)}

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # undefined-metric and "not a NE tag" warnings
        if strict_class is None:
            report = classification_report(y_true, y_pred, output_dict=True)
        else:
            cls = getattr(seqeval_scheme, strict_class)
            report = classification_report(
                y_true, y_pred, output_dict=True, mode="strict", scheme=cls
            )
        true_set, pred_set = entity_set(y_true), entity_set(y_pred)

    def count(entities: set[tuple[Any, ...]], label: str) -> int:
        return sum(1 for e in entities if e[0] == label)

    hits = true_set & pred_set
    per_type: dict[str, TypeScore] = {}
    averages: dict[str, TypeScore] = {}
    for label, row in report.items():
        average = label.endswith(" avg")
        counts = (
            (len(pred_set), len(hits)) if average else (count(pred_set, label), count(hits, label))
        )
        score = TypeScore(
            float(row["precision"]),
            float(row["recall"]),
            float(row["f1-score"]),
            int(row["support"]),
            *counts,
        )
        (averages if average else per_type)[label.removesuffix(" avg")] = score

    flat_true = list(chain.from_iterable(gold))
    flat_pred = list(chain.from_iterable(pred))
    pairs = list(zip(flat_true, flat_pred, strict=True))
    n_correct = sum(t == p for t, p in pairs)
    n_entity = sum(t != OUTSIDE for t in flat_true)
    n_entity_correct = sum(t == p and t != OUTSIDE for t, p in pairs)
    return Scores(
        per_type=MappingProxyType(per_type),
        micro=averages["micro"],
        macro=averages["macro"],
        weighted=averages["weighted"],
        accuracy=ratio(n_correct, len(pairs)),
        accuracy_without_o=ratio(n_entity_correct, n_entity),
        tokens=len(pairs),
        correct_tokens=n_correct,
        tokens_without_o=n_entity,
        correct_tokens_without_o=n_entity_correct,
        scheme=s.name,
        mode=mode,
    )
