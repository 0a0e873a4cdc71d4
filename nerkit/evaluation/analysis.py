"""Error analysis of predicted tags against gold tags: where a tagger goes wrong.

Entities are read from the tags by the metric engine (``nerkit.metrics``), in the
given scheme and mode, and "correct" means seqeval's exact match: same sentence,
boundaries and type. ``analyze_span_errors`` takes the entities as spans instead,
which may nest (every part below works on nested spans as on flat ones).

* **Confusion matrix.** Gold and predicted entities are paired one-to-one as the
  ``type`` scheme of partial-match scoring pairs them (nervaluate's, see
  ``nerkit.evaluation.partial``): each prediction in order of position claims an
  overlapping gold entity not claimed before it, of its own type where it can (the one
  with the closest boundaries), else the first of another type. ``counts[i, j]`` is the
  number of gold entities of type ``labels[i]`` paired with a prediction of type
  ``labels[j]``, whatever the boundaries; the last column counts **missed** gold
  entities (no prediction paired: none overlaps it, or every one that does claimed
  another), the last row **spurious** predictions (overlapping no gold entity, or only
  ones claimed before). So a prediction overlapping a gold entity is a boundary or
  type error rather than a miss and a spurious entity wherever nervaluate counts it so,
  and the diagonal sums to ``--partial``'s ``type`` COR, the other type cells to its INC,
  the last column to its MIS and the last row to its SPU. ``boundary`` holds the part
  of ``counts`` whose boundaries differ: on the diagonal a pure boundary error, off it
  a type confusion *with* a boundary error (it stays a type confusion in ``counts``).
  Row sums are the gold entities of each type, column sums the predictions of each
  type, and the diagonal of ``counts - boundary`` is the engine's correct count (an
  exact match is always paired: see ``nerkit.evaluation.partial``).
* **Frequent errors.** A false positive is a prediction with no exactly equal gold
  entity, a false negative a gold entity with no exactly equal prediction (so a
  boundary or type error is one of each, as in seqeval). They are counted by surface
  (the entity's tokens joined by one space) and type.
* **Scores by bucket.** Precision / recall / F1 within buckets of entity length
  (tokens), of sentence length (the entities of the sentences in the bucket) and,
  given training sentences, of whether the entity's surface was seen as an entity (of
  any type) in training. Recall puts each gold entity in the bucket of its own length
  / sentence / surface, precision each prediction in its own; an exact match lies in
  the same bucket on both sides, so one ``correct`` count serves both, and F1 is the
  harmonic mean of the two.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

from nerkit.errors import ConfigError, InputError
from nerkit.evaluation.partial import Entities, pair_entities
from nerkit.metrics import (
    EntityArrays,
    TypeScore,
    exact_matches,
    extract_entities,
    extract_entity_pair,
    scores_from_counts,
)
from nerkit.metrics.encoding import TagSequences, resolve
from nerkit.schemes import Scheme, get_scheme
from nerkit.types import Sentence, Span

ENTITY_LENGTH_EDGES = (1, 2, 3, 4)  # buckets 1, 2, 3, 4, 5+
SENTENCE_LENGTH_EDGES = (10, 20, 40)  # buckets 1-10, 11-20, 21-40, 41+
MISSED = "missed"
SPURIOUS = "spurious"
# Kinds of the confusion matrix's long form.
KINDS = ("correct", "boundary", "type", "type+boundary", MISSED, SPURIOUS)


@dataclass(frozen=True, slots=True)
class ConfusionMatrix:
    """Entity-type confusion (see the module docstring for the layout).

    ``counts`` and ``boundary`` are ``(len(labels) + 1)`` square int arrays: rows are
    the gold types then ``spurious``, columns the predicted types then ``missed``.
    """

    labels: tuple[str, ...]
    counts: np.ndarray
    boundary: np.ndarray

    @property
    def row_labels(self) -> tuple[str, ...]:
        return (*self.labels, SPURIOUS)

    @property
    def column_labels(self) -> tuple[str, ...]:
        return (*self.labels, MISSED)

    @property
    def correct(self) -> int:
        """Predictions with exactly the boundaries and type of a gold entity."""
        n = len(self.labels)
        return int(np.trace((self.counts - self.boundary)[:n, :n]))

    def rows(self) -> list[tuple[str, str, str, int]]:
        """Long form: ``(gold_label, pred_label, kind, count)`` for every non-zero cell,
        ``kind`` one of ``KINDS``; ``pred_label`` is ``""`` for a missed entity and
        ``gold_label`` is ``""`` for a spurious one."""
        n = len(self.labels)
        out: list[tuple[str, str, str, int]] = []
        for i in range(n + 1):
            for j in range(n + 1):
                gold = self.labels[i] if i < n else ""
                pred = self.labels[j] if j < n else ""
                if i == n or j == n:
                    kinds = [(SPURIOUS if i == n else MISSED, int(self.counts[i, j]))]
                else:
                    with_boundary = int(self.boundary[i, j])
                    exact = int(self.counts[i, j]) - with_boundary
                    kinds = (
                        [("correct", exact), ("boundary", with_boundary)]
                        if i == j
                        else [("type", exact), ("type+boundary", with_boundary)]
                    )
                out.extend((gold, pred, kind, count) for kind, count in kinds if count)
        return out


@dataclass(frozen=True, slots=True)
class SurfaceCount:
    """How often one surface string of one type was a false positive / negative."""

    surface: str
    label: str
    count: int


@dataclass(frozen=True, slots=True)
class BucketScores:
    """Entity P / R / F1 per bucket of one dimension (``entity length``, ...).

    ``scores`` has every bucket, in order, empty ones included (all zero).
    """

    dimension: str
    scores: Mapping[str, TypeScore]


@dataclass(frozen=True, slots=True)
class ErrorAnalysis:
    """Everything ``analyze_errors`` finds. ``by_seen`` is None without training data."""

    confusion: ConfusionMatrix
    false_positives: tuple[SurfaceCount, ...]
    false_negatives: tuple[SurfaceCount, ...]
    by_entity_length: BucketScores
    by_sentence_length: BucketScores
    by_seen: BucketScores | None
    n_gold: int
    n_pred: int
    correct: int
    scheme: str
    mode: str


# ------------------------------------------------------------------ preparing


@dataclass(frozen=True, slots=True)
class _Batch:
    """Gold and predicted entities of one batch, and which of them match exactly."""

    tokens: Sequence[Sequence[str]] | None
    lengths: np.ndarray
    gold: EntityArrays
    pred: EntityArrays
    gold_hit: np.ndarray
    pred_hit: np.ndarray
    scheme: Scheme
    mode: str

    def surfaces(self, entities: EntityArrays, which: np.ndarray | None = None) -> list[str]:
        """Surfaces of ``entities`` (of those at indices ``which``, when given)."""
        assert self.tokens is not None, "surfaces need the tokens"
        return _surfaces(self.tokens, entities, which)


def _surfaces(
    tokens: Sequence[Sequence[str]], entities: EntityArrays, which: np.ndarray | None = None
) -> list[str]:
    columns = (entities.sentence, entities.start, entities.end)
    if which is not None:
        columns = tuple(c[which] for c in columns)
    return [
        " ".join(tokens[s][a:b]) for s, a, b in zip(*(c.tolist() for c in columns), strict=True)
    ]


def _prepare(
    tokens: Sequence[Sequence[str]] | None,
    gold: TagSequences,
    pred: TagSequences,
    scheme: str | Scheme,
    mode: str,
) -> _Batch:
    s = resolve(scheme, mode, gold)
    gold_entities, pred_entities = extract_entity_pair(gold, pred, s, mode)
    lengths = np.fromiter(map(len, gold), dtype=np.int64, count=len(gold))
    if tokens is not None:
        if len(tokens) != len(gold):
            raise InputError(f"{len(tokens)} token sentences but {len(gold)} gold tag sentences")
        for i, (words, n) in enumerate(zip(tokens, lengths.tolist(), strict=True)):
            if len(words) != n:
                raise InputError(f"sentence {i} has {len(words)} tokens but {n} gold tags")
    return _Batch(
        tokens=tokens,
        lengths=lengths,
        gold=gold_entities,
        pred=pred_entities,
        # exact_matches answers "does the other side hold an equal entity" for its second argument.
        gold_hit=exact_matches(pred_entities, gold_entities),
        pred_hit=exact_matches(gold_entities, pred_entities),
        scheme=s,
        mode=mode,
    )


# ------------------------------------------------------------------ parts


def _confusion(batch: _Batch) -> ConfusionMatrix:
    labels = batch.gold.labels  # shared with batch.pred
    n = len(labels)
    gold, pred = Entities.from_arrays(batch.gold), Entities.from_arrays(batch.pred)
    pairing = pair_entities(gold, pred, "type")
    # Column n is "missed", row n "spurious": an unpaired side reads as index n.
    pred_label = np.append(pred.label, n)  # partner -1 picks the appended n
    column = pred_label[pairing.gold_partner]
    counts = np.zeros((n + 1, n + 1), dtype=np.int64)
    np.add.at(counts, (gold.label, column), 1)
    np.add.at(counts[n], pred.label[pairing.pred_partner < 0], 1)
    boundary = np.zeros_like(counts)
    off = (pairing.gold_partner >= 0) & ~pairing.exact_boundary
    np.add.at(boundary, (gold.label[off], column[off]), 1)
    counts.flags.writeable = boundary.flags.writeable = False
    return ConfusionMatrix(labels, counts, boundary)


def _top(
    batch: _Batch, entities: EntityArrays, wrong: np.ndarray, top_k: int
) -> tuple[SurfaceCount, ...]:
    if top_k < 0:
        raise ConfigError(f"top_k must be 0 or more, got {top_k}")
    which = np.flatnonzero(wrong)
    names = entities.labels
    counter = Counter(
        zip(
            batch.surfaces(entities, which),
            [names[k] for k in entities.label[which].tolist()],
            strict=True,
        )
    )
    # Most frequent first; ties by surface then type, so the list is reproducible.
    ranked = sorted(counter.items(), key=lambda item: (-item[1], item[0]))
    return tuple(SurfaceCount(s, label, c) for (s, label), c in ranked[:top_k])


def _bucket_labels(edges: Sequence[int]) -> tuple[str, ...]:
    if not edges or any(e < 1 for e in edges) or any(b <= a for a, b in itertools.pairwise(edges)):
        raise ConfigError(f"bucket edges must be increasing positive integers, got {list(edges)}")
    labels, low = [], 1
    for edge in edges:
        labels.append(str(edge) if edge == low else f"{low}-{edge}")
        low = edge + 1
    labels.append(f"{low}+")
    return tuple(labels)


def _bucket_scores(
    dimension: str,
    labels: Sequence[str],
    gold_bucket: np.ndarray,
    pred_bucket: np.ndarray,
    batch: _Batch,
) -> BucketScores:
    k = len(labels)
    per_bucket, *_ = scores_from_counts(
        labels,
        np.bincount(gold_bucket[batch.gold_hit], minlength=k),
        np.bincount(pred_bucket, minlength=k),
        np.bincount(gold_bucket, minlength=k),
    )
    empty = TypeScore(0.0, 0.0, 0.0, 0, 0, 0)  # scores_from_counts leaves empty buckets out
    return BucketScores(
        dimension, MappingProxyType({label: per_bucket.get(label, empty) for label in labels})
    )


def _by_entity_length(batch: _Batch, edges: Sequence[int]) -> BucketScores:
    labels = _bucket_labels(edges)
    edge_array = np.asarray(edges)
    # searchsorted(left): the first bucket whose upper edge is >= the length.
    gold = np.searchsorted(edge_array, batch.gold.end - batch.gold.start)
    pred = np.searchsorted(edge_array, batch.pred.end - batch.pred.start)
    return _bucket_scores("entity length", labels, gold, pred, batch)


def _by_sentence_length(batch: _Batch, edges: Sequence[int]) -> BucketScores:
    labels = _bucket_labels(edges)
    of_sentence = np.searchsorted(np.asarray(edges), batch.lengths)
    gold = of_sentence[batch.gold.sentence]
    pred = of_sentence[batch.pred.sentence]
    return _bucket_scores("sentence length", labels, gold, pred, batch)


def _training_surfaces(train: Sequence[Sentence], scheme: Scheme, mode: str) -> set[str]:
    # Sentences that carry explicit (possibly nested) spans are read from those.
    tagged = [s for s in train if s.tags and not s.spans]
    entities = extract_entities([s.tags for s in tagged], scheme, mode)
    seen = set(_surfaces([s.tokens for s in tagged], entities))
    for sentence in train:
        if sentence.spans:
            seen.update(" ".join(sentence.tokens[sp.start : sp.end]) for sp in sentence.spans)
    return seen


def _by_seen(batch: _Batch, train: Sequence[Sentence]) -> BucketScores:
    seen = _training_surfaces(train, batch.scheme, batch.mode)

    def bucket(entities: EntityArrays) -> np.ndarray:
        # 0 = seen, 1 = unseen
        flags = [surface not in seen for surface in batch.surfaces(entities)]
        return np.array(flags, dtype=np.int64)

    return _bucket_scores(
        "seen in training", ("seen", "unseen"), bucket(batch.gold), bucket(batch.pred), batch
    )


# ------------------------------------------------------------------ public


def confusion_matrix(
    gold: TagSequences,
    pred: TagSequences,
    scheme: str | Scheme = "IOB2",
    mode: str = "lenient",
) -> ConfusionMatrix:
    """The entity-type confusion matrix of predicted tags against gold tags."""
    return _confusion(_prepare(None, gold, pred, scheme, mode))


def frequent_errors(
    tokens: Sequence[Sequence[str]],
    gold: TagSequences,
    pred: TagSequences,
    scheme: str | Scheme = "IOB2",
    mode: str = "lenient",
    *,
    top_k: int = 10,
) -> tuple[tuple[SurfaceCount, ...], tuple[SurfaceCount, ...]]:
    """The ``top_k`` most frequent false positives and false negatives by surface and type."""
    batch = _prepare(tokens, gold, pred, scheme, mode)
    return _top(batch, batch.pred, ~batch.pred_hit, top_k), _top(
        batch, batch.gold, ~batch.gold_hit, top_k
    )


def scores_by_entity_length(
    gold: TagSequences,
    pred: TagSequences,
    scheme: str | Scheme = "IOB2",
    mode: str = "lenient",
    *,
    edges: Sequence[int] = ENTITY_LENGTH_EDGES,
) -> BucketScores:
    """Entity P / R / F1 by entity length in tokens; ``edges`` are the buckets' inclusive
    upper bounds (default: 1, 2, 3, 4, 5+)."""
    return _by_entity_length(_prepare(None, gold, pred, scheme, mode), edges)


def scores_by_sentence_length(
    gold: TagSequences,
    pred: TagSequences,
    scheme: str | Scheme = "IOB2",
    mode: str = "lenient",
    *,
    edges: Sequence[int] = SENTENCE_LENGTH_EDGES,
) -> BucketScores:
    """Entity P / R / F1 of the sentences in each length bucket (default: 1-10, 11-20,
    21-40, 41+ tokens; an empty sentence falls in the first bucket)."""
    return _by_sentence_length(_prepare(None, gold, pred, scheme, mode), edges)


def scores_by_seen(
    tokens: Sequence[Sequence[str]],
    gold: TagSequences,
    pred: TagSequences,
    train: Sequence[Sentence],
    scheme: str | Scheme = "IOB2",
    mode: str = "lenient",
) -> BucketScores:
    """Entity P / R / F1 of entities whose surface was / was not an entity in ``train``
    (read with the same scheme and mode; a sentence's explicit ``spans`` win over its tags)."""
    return _by_seen(_prepare(tokens, gold, pred, scheme, mode), train)


def analyze_errors(
    tokens: Sequence[Sequence[str]],
    gold: TagSequences,
    pred: TagSequences,
    scheme: str | Scheme = "IOB2",
    mode: str = "lenient",
    *,
    train: Sequence[Sentence] | None = None,
    top_k: int = 10,
    entity_length_edges: Sequence[int] = ENTITY_LENGTH_EDGES,
    sentence_length_edges: Sequence[int] = SENTENCE_LENGTH_EDGES,
) -> ErrorAnalysis:
    """Every part of the error analysis, reading the entities once.

    Raises ``InputError`` when tokens, gold and predictions differ in shape and
    ``SchemeError`` for a tag outside the scheme.
    """
    batch = _prepare(tokens, gold, pred, scheme, mode)
    return _analyze(batch, train, top_k, entity_length_edges, sentence_length_edges)


def analyze_span_errors(
    tokens: Sequence[Sequence[str]],
    gold: Sequence[Sequence[Span]],
    pred: Sequence[Sequence[Span]],
    scheme: str | Scheme = "IOB2",
    mode: str = "lenient",
    *,
    train: Sequence[Sentence] | None = None,
    top_k: int = 10,
    entity_length_edges: Sequence[int] = ENTITY_LENGTH_EDGES,
    sentence_length_edges: Sequence[int] = SENTENCE_LENGTH_EDGES,
) -> ErrorAnalysis:
    """``analyze_errors`` of gold and predicted spans, one list per sentence, which may
    nest or overlap (a span repeated within a sentence counts once, as in
    ``nerkit.metrics.span_scores``). ``scheme`` and ``mode`` only read ``train``'s tags.
    """
    batch = _prepare_spans(tokens, gold, pred, scheme, mode)
    return _analyze(batch, train, top_k, entity_length_edges, sentence_length_edges)


def _prepare_spans(
    tokens: Sequence[Sequence[str]],
    gold: Sequence[Sequence[Span]],
    pred: Sequence[Sequence[Span]],
    scheme: str | Scheme,
    mode: str,
) -> _Batch:
    if not len(tokens) == len(gold) == len(pred):
        raise InputError(
            f"{len(tokens)} token sentences, {len(gold)} gold and {len(pred)} predicted span lists"
        )
    lengths = np.fromiter(map(len, tokens), dtype=np.int64, count=len(tokens))
    for what, side in (("gold", gold), ("predicted", pred)):
        for i, (spans, n) in enumerate(zip(side, lengths.tolist(), strict=True)):
            if any(sp.end > n for sp in spans):
                raise InputError(f"sentence {i}: a {what} span ends beyond its {n} tokens")
    labels = tuple(sorted({sp.label for side in (gold, pred) for sent in side for sp in sent}))
    offsets = np.concatenate(([0], np.cumsum(lengths)))
    gold_entities = _span_arrays(gold, labels, offsets)
    pred_entities = _span_arrays(pred, labels, offsets)
    return _Batch(
        tokens=tokens,
        lengths=lengths,
        gold=gold_entities,
        pred=pred_entities,
        gold_hit=_equal_in(gold_entities, pred_entities),
        pred_hit=_equal_in(pred_entities, gold_entities),
        scheme=get_scheme(scheme) if isinstance(scheme, str) else scheme,
        mode=mode,
    )


def _span_arrays(
    spans: Sequence[Sequence[Span]], labels: tuple[str, ...], offsets: np.ndarray
) -> EntityArrays:
    """Spans as the engine's arrays, by sentence, start, end and type, without repeats
    (``flat_start`` is not unique when spans nest: ``exact_matches`` must not see them)."""
    index = {label: k for k, label in enumerate(labels)}
    rows = sorted(
        {(i, sp.start, sp.end, index[sp.label]) for i, sent in enumerate(spans) for sp in sent}
    )
    sentence, start, end, label = np.array(rows, dtype=np.int64).reshape(len(rows), 4).T
    return EntityArrays(sentence, start, end, label, offsets[sentence] + start, labels, len(spans))


def _equal_in(entities: EntityArrays, other: EntityArrays) -> np.ndarray:
    """For each of ``entities``, whether ``other`` holds one with its sentence, start,
    end and type."""

    def keys(e: EntityArrays) -> list[tuple[int, int, int, int]]:
        columns = (e.sentence, e.start, e.end, e.label)
        return list(zip(*(c.tolist() for c in columns), strict=True))

    found = set(keys(other))
    return np.array([k in found for k in keys(entities)], dtype=bool)


def _analyze(
    batch: _Batch,
    train: Sequence[Sentence] | None,
    top_k: int,
    entity_length_edges: Sequence[int],
    sentence_length_edges: Sequence[int],
) -> ErrorAnalysis:
    return ErrorAnalysis(
        confusion=_confusion(batch),
        false_positives=_top(batch, batch.pred, ~batch.pred_hit, top_k),
        false_negatives=_top(batch, batch.gold, ~batch.gold_hit, top_k),
        by_entity_length=_by_entity_length(batch, entity_length_edges),
        by_sentence_length=_by_sentence_length(batch, sentence_length_edges),
        by_seen=_by_seen(batch, train) if train is not None else None,
        n_gold=len(batch.gold),
        n_pred=len(batch.pred),
        correct=int(np.count_nonzero(batch.pred_hit)),
        scheme=batch.scheme.name,
        mode=batch.mode,
    )
