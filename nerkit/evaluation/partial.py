"""Partial-match evaluation: the four scoring schemes of SemEval-2013 task 9.1 (MUC style).

Every gold and predicted entity is a span ``[start, end)`` with a type. Spans may
overlap or nest, on either side; nothing here assumes they do not.

Matching (one sentence at a time, one-to-one, per scoring scheme)
-----------------------------------------------------------------
The overall counts are nervaluate's (1.x, as its current strategies count: the
default minimum overlap, and in ``type`` the closest boundaries), and so is the
matching, made for each scoring scheme on its own: ``exact`` and ``partial`` share
one, ``strict`` and ``type`` have their own. A gold entity and a prediction are
*candidates* when their spans overlap by at least one token and by at least 1% of
the gold entity's tokens (which only rules out overlaps with gold entities of more
than 100 tokens). Within a sentence the entities of each side are taken in order of
position (start, then end, then type name: for entities read from tags, the order
of the text, whatever the order of the input lists), and each prediction in turn
claims the first gold entity not claimed before it that the scheme prefers:

* ``strict``: a candidate with its boundaries and type, else the first candidate;
* ``exact`` and ``partial``: a candidate with its boundaries, else the first candidate;
* ``type``: of the candidates of its type the one with the closest boundaries (the
  smallest ``|start difference| + |end difference|``, the first of equals), else the
  first candidate of another type.

A gold entity left without a partner is **missed** (MIS): no prediction overlaps it,
or every one that does claimed another. A prediction left without a partner is
**spurious** (SPU): it overlaps no gold entity, or only gold entities claimed before
it. So one prediction has exactly one outcome per scoring scheme: a prediction
overlapping two gold entities is counted once, and the one it did not claim is
missed unless a later prediction claims it. Gold A ``PER [0, 2)``, B ``PER [2, 6)`` and
predictions ``PER [1, 4)``, ``PER [5, 6)``: the first claims A (the first candidate), the
second B, so ``partial`` counts PAR 2 (F1 50) and ``type`` COR 2.

Outcomes of a pair, per scoring scheme (the SemEval / nervaluate table)::

    boundaries  types   strict  exact  partial  type
    equal       equal   COR     COR    COR      COR
    equal       differ  INC     COR    COR      INC
    overlap     equal   INC     INC    PAR      COR
    overlap     differ  INC     INC    PAR      INC

``POS = COR + INC + PAR + MIS`` (the number of gold entities) and
``ACT = COR + INC + PAR + SPU`` (the number of predictions) in every scheme.
Precision is ``(COR + 0.5 * PAR) / ACT``, recall ``(COR + 0.5 * PAR) / POS`` (``PAR`` is
non-zero only in ``partial``, so the other schemes read ``COR / ACT`` and ``COR / POS``);
a zero denominator gives 0, and F1 is their harmonic mean (0 when both are 0).

Per type
--------
A pair whose types differ concerns two types, so each side is charged to its own:
the gold-side outcomes (``correct``, ``incorrect``, ``partial``, ``missed``) to the gold
entity's type, the prediction-side outcomes (``pred_correct``, ``pred_incorrect``,
``pred_partial``, ``spurious``) to the predicted type. Hence, per type, ``possible`` is
the number of gold entities of that type and ``actual`` the number of predictions of
that type, and precision is computed over the type's predictions, recall over its
gold entities (so ``strict`` per type equals seqeval's per-type report on flat data).
Over all types the two sides agree and ``pred_* == *``.

Where nervaluate differs
------------------------
* Per type, nervaluate matches each type's entities on their own (gold and
  predictions of that type only), so there a type confusion is a missed gold entity
  of one type and a spurious prediction of the other, and its per-type counts need
  not add up to its overall ones. nerkit's per-type counts split the overall matching
  as described above.
* Where a side overlaps itself (nested or overlapping spans, never in entities read
  from tags), the pairs a scheme counts correct come first: with ``strict`` and
  ``type`` a prediction with the boundaries and type of a gold entity, with ``exact``
  and ``partial`` one with its boundaries, is paired with it before the others claim
  anything, so that an exact match is never lost to an earlier prediction overlapping
  the same gold entity (``strict`` then counts every exact match, as the entity scores
  do). nervaluate takes the predictions in list order only: gold ``PER [1, 3)`` with
  predictions ``PER [0, 2)``, ``PER [1, 3)`` is there INC 1, SPU 1 in ``strict``, here
  COR 1, SPU 1. Entities read from tags cannot meet this case: a prediction with the
  boundaries of a gold entity overlaps no other entity on either side.
* nervaluate takes entities in the order of its input lists, nerkit in order of
  position; for entities read from tags the two are the same.

In code
-------
``match_spans`` returns one scheme's matching as ``Match`` values; ``pair_entities``
computes it on arrays (``Entities``, convertible from the metric engine's
``EntityArrays``); ``score_entities`` scores all four schemes, and
``nerkit.evaluation.analysis`` pairs as ``type`` does. Candidate pairs come from a
vectorised search when neither side overlaps itself, else from a sweep over starts; a
pair whose two entities have no other candidate is taken outright (in every scheme),
and only contested pairs go through the ordered pass, in Python.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

from nerkit.errors import InputError
from nerkit.metrics import EntityArrays, extract_entity_pair
from nerkit.schemes import Scheme
from nerkit.types import Span

SCORING_SCHEMES = ("strict", "exact", "partial", "type")
OUTCOMES = ("COR", "INC", "PAR", "MIS", "SPU")
_COR, _INC, _PAR, _MIS, _SPU = range(5)

# Outcome of a pair, indexed by [scheme][exact boundaries][same type].
_PAIR_OUTCOME = {
    "strict": ((_INC, _INC), (_INC, _COR)),
    "exact": ((_INC, _INC), (_COR, _COR)),
    "partial": ((_PAR, _PAR), (_COR, _COR)),
    "type": ((_INC, _COR), (_INC, _COR)),
}


def _check_scoring(scoring: str) -> None:
    if scoring not in _PAIR_OUTCOME:
        raise ValueError(
            f"unknown scoring scheme {scoring!r} (known: {', '.join(SCORING_SCHEMES)})"
        )


@dataclass(frozen=True, slots=True)
class Match:
    """One outcome of the matching of scoring scheme ``scoring``: a pair, a missed gold
    entity (``pred is None``) or a spurious prediction (``gold is None``), in sentence
    ``sentence``."""

    sentence: int
    gold: Span | None
    pred: Span | None
    scoring: str

    def __post_init__(self) -> None:
        _check_scoring(self.scoring)

    @property
    def exact_boundary(self) -> bool:
        g, p = self.gold, self.pred
        return g is not None and p is not None and (g.start, g.end) == (p.start, p.end)

    @property
    def same_type(self) -> bool:
        g, p = self.gold, self.pred
        return g is not None and p is not None and g.label == p.label

    @property
    def outcome(self) -> str:
        """``COR``, ``INC``, ``PAR``, ``MIS`` or ``SPU`` under ``scoring``."""
        if self.pred is None:
            return OUTCOMES[_MIS]
        if self.gold is None:
            return OUTCOMES[_SPU]
        return OUTCOMES[_PAIR_OUTCOME[self.scoring][self.exact_boundary][self.same_type]]


@dataclass(frozen=True, slots=True)
class PartialCounts:
    """Counts and scores of one scoring scheme, overall or for one type.

    ``correct`` / ``incorrect`` / ``partial`` / ``missed`` count gold entities;
    ``pred_correct`` / ``pred_incorrect`` / ``pred_partial`` / ``spurious`` count
    predictions (see the module docstring; overall both sides agree).
    """

    correct: int
    incorrect: int
    partial: int
    missed: int
    spurious: int
    pred_correct: int
    pred_incorrect: int
    pred_partial: int

    @property
    def possible(self) -> int:
        """POS: the number of gold entities."""
        return self.correct + self.incorrect + self.partial + self.missed

    @property
    def actual(self) -> int:
        """ACT: the number of predictions."""
        return self.pred_correct + self.pred_incorrect + self.pred_partial + self.spurious

    @property
    def precision(self) -> float:
        actual = self.actual
        return (self.pred_correct + 0.5 * self.pred_partial) / actual if actual else 0.0

    @property
    def recall(self) -> float:
        possible = self.possible
        return (self.correct + 0.5 * self.partial) / possible if possible else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        # Same operation order as nerkit.metrics (and seqeval), so strict F1 agrees bit for bit.
        return 2.0 * p * r / (p + r) if p + r else 0.0


@dataclass(frozen=True, slots=True)
class PartialResult:
    """``overall[scoring]`` and ``per_type[type][scoring]`` for the four scoring schemes.

    ``labels`` are the types found in gold or predictions, sorted; ``per_type`` follows it.
    """

    overall: Mapping[str, PartialCounts]
    per_type: Mapping[str, Mapping[str, PartialCounts]]
    labels: tuple[str, ...]
    n_gold: int
    n_pred: int


@dataclass(frozen=True, slots=True)
class Entities:
    """Entities of a batch as parallel int arrays ordered by sentence (within a
    sentence in any order); ``label`` indexes ``labels``. ``EntityArrays`` from the
    metric engine converts with ``Entities.from_arrays``."""

    sentence: np.ndarray
    start: np.ndarray
    end: np.ndarray
    label: np.ndarray
    labels: tuple[str, ...]
    n_sentences: int

    def __len__(self) -> int:
        return int(self.sentence.size)

    @classmethod
    def from_arrays(cls, entities: EntityArrays) -> Entities:
        return cls(
            entities.sentence,
            entities.start,
            entities.end,
            entities.label,
            entities.labels,
            entities.n_sentences,
        )

    @classmethod
    def from_spans(cls, spans: Sequence[Sequence[Span]], labels: Sequence[str]) -> Entities:
        index = {label: i for i, label in enumerate(labels)}
        flat = [
            (i, sp.start, sp.end, index[sp.label]) for i, sent in enumerate(spans) for sp in sent
        ]
        columns = np.array(flat, dtype=np.int64).reshape(len(flat), 4).T
        return cls(*columns, labels=tuple(labels), n_sentences=len(spans))


@dataclass(frozen=True, slots=True)
class Pairing:
    """The one-to-one matching of a batch under scoring scheme ``scoring``, as arrays
    over its gold and predicted entities.

    ``gold_partner[i]`` is the index of the prediction paired with gold entity ``i``, or
    -1 (missed); ``pred_partner[j]`` the gold entity paired with prediction ``j``, or -1
    (spurious). ``exact_boundary`` / ``same_type`` describe each gold entity's pair
    (False when it has none).
    """

    gold_partner: np.ndarray
    pred_partner: np.ndarray
    exact_boundary: np.ndarray
    same_type: np.ndarray
    scoring: str

    def gold_codes(self) -> np.ndarray:
        """The outcome code (index into ``OUTCOMES``) of each gold entity."""
        table = np.asarray(_PAIR_OUTCOME[self.scoring], dtype=np.int64)
        paired = self.gold_partner >= 0
        return np.where(
            paired, table[self.exact_boundary.astype(np.intp), self.same_type.astype(np.intp)], _MIS
        )

    def pred_codes(self, gold_codes: np.ndarray | None = None) -> np.ndarray:
        """The outcome code of each prediction: its pair's code, or SPU."""
        codes = self.gold_codes() if gold_codes is None else gold_codes
        out = np.full(self.pred_partner.size, _SPU, dtype=np.int64)
        paired = self.pred_partner >= 0
        out[paired] = codes[self.pred_partner[paired]]
        return out


def _is_flat(e: Entities) -> bool:
    """Whether no two entities of one sentence overlap (always so for entities read
    from tags)."""
    sentence, start, end = e.sentence, e.start, e.end
    # The engine's arrays come sorted by (sentence, start): sort only what is not.
    if np.any(np.diff(sentence) < 0) or np.any(np.diff(start)[np.diff(sentence) == 0] < 0):
        order = np.lexsort((start, sentence))
        sentence, start, end = sentence[order], start[order], end[order]
    return bool(np.all((sentence[1:] != sentence[:-1]) | (start[1:] >= end[:-1])))


def _flat_candidates(gold: Entities, pred: Entities) -> tuple[np.ndarray, np.ndarray]:
    """Every overlapping (gold, prediction) pair when both sides are flat: on one line
    of positions ``sentence * width + offset`` (sentences never touch), the predictions
    overlapping a gold entity are a contiguous run of the predictions sorted by start,
    and sorted by start they are sorted by end too."""
    width = int(max(gold.end.max(), pred.end.max())) + 1
    order = np.lexsort((pred.start, pred.sentence))
    p_lo = (pred.sentence * width + pred.start)[order]
    p_hi = (pred.sentence * width + pred.end)[order]
    first = np.searchsorted(p_hi, gold.sentence * width + gold.start, side="right")
    last = np.searchsorted(p_lo, gold.sentence * width + gold.end, side="left")
    count = np.maximum(last - first, 0)
    gold_index = np.repeat(np.arange(len(gold)), count)
    # Position k of gold i's run is first[i] + k.
    run_start = np.cumsum(count) - count
    within = np.arange(gold_index.size) - run_start[gold_index]
    return gold_index, order[first[gold_index] + within]


def _swept_candidates(gold: Entities, pred: Entities) -> tuple[np.ndarray, np.ndarray]:
    """Every overlapping pair for any spans (nested, overlapping, duplicated), one
    sentence at a time by a sweep over starts: an entity, when it starts, overlaps
    exactly the other side's started entities that have not ended yet."""
    bounds = np.arange(gold.n_sentences + 1)
    g_at = np.searchsorted(gold.sentence, bounds).tolist()
    p_at = np.searchsorted(pred.sentence, bounds).tolist()
    gs, ge = gold.start.tolist(), gold.end.tolist()
    ps, pe = pred.start.tolist(), pred.end.tolist()
    gold_index: list[int] = []
    pred_index: list[int] = []
    for s in np.flatnonzero((np.diff(g_at) > 0) & (np.diff(p_at) > 0)).tolist():
        events = sorted(
            [(gs[i], 0, i) for i in range(g_at[s], g_at[s + 1])]
            + [(ps[j], 1, j) for j in range(p_at[s], p_at[s + 1])]
        )
        open_gold: list[int] = []
        open_pred: list[int] = []
        for start, side, k in events:
            if side == 0:
                open_pred = [j for j in open_pred if pe[j] > start]
                gold_index.extend([k] * len(open_pred))
                pred_index.extend(open_pred)
                open_gold.append(k)
            else:
                open_gold = [i for i in open_gold if ge[i] > start]
                gold_index.extend(open_gold)
                pred_index.extend([k] * len(open_gold))
                open_pred.append(k)
    return np.array(gold_index, dtype=np.int64), np.array(pred_index, dtype=np.int64)


def _candidates(gold: Entities, pred: Entities) -> tuple[np.ndarray, np.ndarray]:
    """Every (gold, prediction) pair that overlaps by at least one token and by at
    least 1% of the gold entity (nervaluate's default minimum overlap)."""
    if _is_flat(gold) and _is_flat(pred):
        gi, pj = _flat_candidates(gold, pred)
    else:
        gi, pj = _swept_candidates(gold, pred)
    overlap = np.minimum(gold.end[gi], pred.end[pj]) - np.maximum(gold.start[gi], pred.start[pj])
    enough = 100 * overlap >= gold.end[gi] - gold.start[gi]
    return gi[enough], pj[enough]


def _order_keys(e: Entities, index: np.ndarray) -> tuple[np.ndarray, ...]:
    """Keys (first key first) of entities ``index`` in the order the matching takes
    them: by sentence, start, end and type name, then input order (which only orders
    identical spans)."""
    by_name = np.empty(len(e.labels), dtype=np.int64)
    by_name[np.argsort(np.array(e.labels, dtype=object), kind="stable")] = np.arange(len(e.labels))
    return (e.sentence[index], e.start[index], e.end[index], by_name[e.label[index]], index)


def _preferences(
    scoring: str, gold: Entities, pred: Entities, gi: np.ndarray, pj: np.ndarray
) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
    """Of candidate pairs ``(gi, pj)``: which ones ``scoring`` counts correct (paired
    first), and the keys by which a prediction prefers its candidates, first key
    first, lower preferred (the first candidate in order breaks the remaining ties)."""
    gs, ge, ps, pe = gold.start[gi], gold.end[gi], pred.start[pj], pred.end[pj]
    exact = (gs == ps) & (ge == pe)
    same = gold.label[gi] == pred.label[pj]
    if scoring == "type":
        distance = np.abs(gs - ps) + np.abs(ge - pe)
        return exact & same, (~same, np.where(same, distance, 0))
    correct = exact if scoring in ("exact", "partial") else exact & same
    return correct, (~correct,)


def _claim(
    gi: np.ndarray, pj: np.ndarray, order: np.ndarray, g_partner: list[int], p_partner: list[int]
) -> None:
    """Walk the pairs in ``order``: a pair whose two entities are both free pairs them.
    With the pairs sorted by prediction, then by its preference, each prediction in
    turn claims the first free gold entity it prefers."""
    for i, j in zip(gi[order].tolist(), pj[order].tolist(), strict=True):
        if g_partner[i] < 0 and p_partner[j] < 0:
            g_partner[i], p_partner[j] = j, i


def _contested(
    scoring: str, gold: Entities, pred: Entities, gi: np.ndarray, pj: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The matching of the contested candidate pairs ``(gi, pj)`` under ``scoring``:
    the gold entities of ``gi`` (each once) and each one's partner or -1, then the
    same for the predictions of ``pj`` (indices into the whole batch)."""
    # Contested pairs are few: work on their own entities, numbered from 0.
    g_ids, g_local = np.unique(gi, return_inverse=True)
    p_ids, p_local = np.unique(pj, return_inverse=True)
    # lexsort reads its keys last to first: the gold entity's order keys go first.
    g_keys, p_keys = _order_keys(gold, gi)[::-1], _order_keys(pred, pj)[::-1]
    correct, preferences = _preferences(scoring, gold, pred, gi, pj)
    g_partner, p_partner = [-1] * g_ids.size, [-1] * p_ids.size
    # The scheme's correct pairs first, predictions in order (only where a side
    # overlaps itself can another prediction reach such a gold entity).
    first = np.flatnonzero(correct)
    order = first[np.lexsort(tuple(k[first] for k in (*g_keys, *p_keys)))]
    _claim(g_local, p_local, order, g_partner, p_partner)
    # Then nervaluate's pass: predictions in order, each claiming the free gold
    # entity it prefers. Contested pairs of different sentences share no entity, so
    # one order over the batch serves every sentence.
    order = np.lexsort((*g_keys, *preferences[::-1], *p_keys))
    _claim(g_local, p_local, order, g_partner, p_partner)
    g_found = np.array(g_partner, dtype=np.int64)
    p_found = np.array(p_partner, dtype=np.int64)
    return (
        g_ids,
        np.where(g_found >= 0, p_ids[np.maximum(g_found, 0)], -1),
        p_ids,
        np.where(p_found >= 0, g_ids[np.maximum(p_found, 0)], -1),
    )


def _pairings(gold: Entities, pred: Entities, scorings: Sequence[str]) -> dict[str, Pairing]:
    """``pair_entities`` for each of ``scorings``, finding the candidates once."""
    for scoring in scorings:
        _check_scoring(scoring)
    if gold.labels != pred.labels or gold.n_sentences != pred.n_sentences:
        raise ValueError("gold and predicted entities must share labels and sentences")
    n_gold, n_pred = len(gold), len(pred)
    gold_partner = np.full(n_gold, -1, dtype=np.int64)
    pred_partner = np.full(n_pred, -1, dtype=np.int64)
    gi = pj = np.zeros(0, dtype=np.int64)
    if n_gold and n_pred:
        gi, pj = _candidates(gold, pred)
        # A pair whose two entities have no other candidate is matched outright in
        # every scheme (in real data, nearly all); only the contested ones are left.
        alone = (np.bincount(gi, minlength=n_gold)[gi] == 1) & (
            np.bincount(pj, minlength=n_pred)[pj] == 1
        )
        gold_partner[gi[alone]] = pj[alone]
        pred_partner[pj[alone]] = gi[alone]
        gi, pj = gi[~alone], pj[~alone]
    out: dict[str, Pairing] = {}
    # exact and partial differ in outcomes only: one matching serves both
    found: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for scoring in scorings:
        matching = "exact" if scoring == "partial" else scoring
        if matching not in found:
            g_partner, p_partner = gold_partner.copy(), pred_partner.copy()
            if gi.size:
                g_ids, g_found, p_ids, p_found = _contested(matching, gold, pred, gi, pj)
                g_partner[g_ids], p_partner[p_ids] = g_found, p_found
            found[matching] = (g_partner, p_partner)
        out[scoring] = _pairing(gold, pred, *found[matching], scoring)
    return out


def _pairing(
    gold: Entities, pred: Entities, gold_partner: np.ndarray, pred_partner: np.ndarray, scoring: str
) -> Pairing:
    paired = gold_partner >= 0
    partner = np.where(paired, gold_partner, 0)
    exact = np.zeros(len(gold), dtype=bool)
    same = np.zeros(len(gold), dtype=bool)
    if len(pred):
        exact = paired & (gold.start == pred.start[partner]) & (gold.end == pred.end[partner])
        same = paired & (gold.label == pred.label[partner])
    return Pairing(gold_partner, pred_partner, exact, same, scoring)


def pair_entities(gold: Entities, pred: Entities, scoring: str) -> Pairing:
    """The matching of scoring scheme ``scoring`` (see the module docstring); ``gold``
    and ``pred`` share ``labels`` (label ids are compared) and hold the same number of
    sentences, each side ordered by sentence."""
    return _pairings(gold, pred, (scoring,))[scoring]


def _check_spans(gold: Sequence[Sequence[Span]], pred: Sequence[Sequence[Span]]) -> tuple[str, ...]:
    for what, spans in (("gold", gold), ("predicted", pred)):
        if isinstance(spans, Span) or (len(spans) and isinstance(spans[0], Span)):
            raise InputError(f"{what} spans must be a list of sentences, each a list of spans")
    if len(gold) != len(pred):
        raise InputError(f"gold has {len(gold)} sentences but predicted has {len(pred)}")
    return tuple(sorted({sp.label for side in (gold, pred) for sent in side for sp in sent}))


def match_spans(
    gold: Sequence[Sequence[Span]], pred: Sequence[Sequence[Span]], scoring: str
) -> list[Match]:
    """The one-to-one matching of gold and predicted spans under scoring scheme
    ``scoring``, sentence by sentence.

    Every gold entity and every prediction appears in exactly one ``Match``: per
    sentence, first the gold entities in input order (paired or missed), then the
    spurious predictions in input order.
    """
    _check_scoring(scoring)
    labels = _check_spans(gold, pred)
    pairing = pair_entities(
        Entities.from_spans(gold, labels), Entities.from_spans(pred, labels), scoring
    )
    gold_flat = [(i, sp) for i, sent in enumerate(gold) for sp in sent]
    pred_flat = [sp for sent in pred for sp in sent]
    pred_sentence = [i for i, sent in enumerate(pred) for _ in sent]
    by_sentence: list[list[Match]] = [[] for _ in gold]
    for (i, g), j in zip(gold_flat, pairing.gold_partner.tolist(), strict=True):
        by_sentence[i].append(Match(i, g, pred_flat[j] if j >= 0 else None, scoring))
    for j in np.flatnonzero(pairing.pred_partner < 0).tolist():
        by_sentence[pred_sentence[j]].append(Match(pred_sentence[j], None, pred_flat[j], scoring))
    return [m for sentence in by_sentence for m in sentence]


def _counts(gold_side: np.ndarray, pred_side: np.ndarray) -> PartialCounts:
    cor, inc, par, mis, _ = (int(x) for x in gold_side)
    pcor, pinc, ppar, _, spu = (int(x) for x in pred_side)
    return PartialCounts(cor, inc, par, mis, spu, pcor, pinc, ppar)


def score_entities(gold: Entities, pred: Entities) -> PartialResult:
    """The four scoring schemes' counts and scores, each of its own matching (see
    ``pair_entities``); ``gold`` and ``pred`` as ``pair_entities`` takes them."""
    labels = gold.labels
    n = len(labels)
    overall: dict[str, PartialCounts] = {}
    per_scheme: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for scoring, pairing in _pairings(gold, pred, SCORING_SCHEMES).items():
        gold_codes = pairing.gold_codes()
        pred_codes = pairing.pred_codes(gold_codes)
        overall[scoring] = _counts(
            np.bincount(gold_codes, minlength=5), np.bincount(pred_codes, minlength=5)
        )
        # One bincount per side gives every (type, outcome) count at once.
        gold_side = np.bincount(gold.label * 5 + gold_codes, minlength=5 * n).reshape(n, 5)
        pred_side = np.bincount(pred.label * 5 + pred_codes, minlength=5 * n).reshape(n, 5)
        per_scheme[scoring] = (gold_side, pred_side)
    present = np.flatnonzero(
        np.bincount(gold.label, minlength=n) + np.bincount(pred.label, minlength=n)
    ).tolist()
    per_type = {
        labels[k]: MappingProxyType(
            {s: _counts(per_scheme[s][0][k], per_scheme[s][1][k]) for s in SCORING_SCHEMES}
        )
        for k in present
    }
    return PartialResult(
        overall=MappingProxyType(overall),
        per_type=MappingProxyType(per_type),
        labels=tuple(per_type),
        n_gold=len(gold),
        n_pred=len(pred),
    )


def partial_scores(gold: Sequence[Sequence[Span]], pred: Sequence[Sequence[Span]]) -> PartialResult:
    """Strict / exact / partial / type scores of predicted spans against gold spans,
    one list of spans per sentence (spans may overlap or nest)."""
    labels = _check_spans(gold, pred)
    return score_entities(Entities.from_spans(gold, labels), Entities.from_spans(pred, labels))


def partial_scores_from_tags(
    gold: Sequence[Sequence[str]],
    pred: Sequence[Sequence[str]],
    scheme: str | Scheme = "IOB2",
    mode: str = "lenient",
) -> PartialResult:
    """``partial_scores`` of the entities that tag sequences encode (read by the
    metric engine: ``scheme`` may be ``"auto"``, ``mode`` is lenient or strict)."""
    gold_arrays, pred_arrays = extract_entity_pair(gold, pred, scheme, mode)
    return score_entities(Entities.from_arrays(gold_arrays), Entities.from_arrays(pred_arrays))
