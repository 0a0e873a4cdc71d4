"""Partial-match evaluation (SemEval-2013 task 9.1): hand-made outcomes, the
one-to-one matching of each scoring scheme, the count invariants on random
(overlapping) span sets, every count against a reference written here (nervaluate's
loop on flat entities read from tags by seqeval, nerkit's documented rule on nested
ones), and ``strict`` against the metric engine on flat entities."""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console
from seqeval.metrics.sequence_labeling import get_entities
from strategies import tag_batches

from nerkit import metrics
from nerkit.errors import InputError
from nerkit.evaluation import (
    SCORING_SCHEMES,
    Entities,
    Match,
    PartialCounts,
    PartialResult,
    match_spans,
    pair_entities,
    partial_scores,
    partial_scores_from_tags,
    partial_table,
    partial_to_dict,
    partial_type_table,
)
from nerkit.types import Span

TYPES = ("PER", "LOC", "ORG")


def _counts(c: PartialCounts) -> tuple[int, int, int, int, int, int, int]:
    return (c.correct, c.incorrect, c.partial, c.missed, c.spurious, c.possible, c.actual)


# ------------------------------------------------------------------ SemEval table

# The classic examples (Segura-Bedmar et al. 2013; nervaluate's README), one sentence
# each: (gold, predicted, expected outcome under strict / exact / partial / type).
SEMEVAL = {
    "exact match": ([Span(3, 4, "BRAND")], [Span(3, 4, "BRAND")], ("COR", "COR", "COR", "COR")),
    "spurious": ([], [Span(0, 1, "BRAND")], ("SPU", "SPU", "SPU", "SPU")),
    "missed": ([Span(0, 1, "DRUG")], [], ("MIS", "MIS", "MIS", "MIS")),
    "type mismatch": ([Span(0, 1, "DRUG")], [Span(0, 1, "BRAND")], ("INC", "COR", "COR", "INC")),
    "boundary overlap": (
        [Span(0, 1, "DRUG")],
        [Span(0, 2, "DRUG")],
        ("INC", "INC", "PAR", "COR"),
    ),
    "boundary and type": (
        [Span(1, 2, "GROUP")],
        [Span(0, 2, "DRUG")],
        ("INC", "INC", "PAR", "INC"),
    ),
}


@pytest.mark.parametrize("case", SEMEVAL)
def test_semeval_example_outcomes(case: str) -> None:
    gold, pred, expected = SEMEVAL[case]
    outcomes = []
    for scoring in SCORING_SCHEMES:
        (match,) = match_spans([gold], [pred], scoring)
        outcomes.append(match.outcome)
    assert tuple(outcomes) == expected


def _semeval_batch() -> tuple[list[list[Span]], list[list[Span]]]:
    gold = [g for g, _, _ in SEMEVAL.values()]
    pred = [p for _, p, _ in SEMEVAL.values()]
    return gold, pred


def test_semeval_table_totals() -> None:
    result = partial_scores(*_semeval_batch())
    #                      COR INC PAR MIS SPU POS ACT
    assert _counts(result.overall["strict"]) == (1, 3, 0, 1, 1, 5, 5)
    assert _counts(result.overall["exact"]) == (2, 2, 0, 1, 1, 5, 5)
    assert _counts(result.overall["partial"]) == (2, 0, 2, 1, 1, 5, 5)
    assert _counts(result.overall["type"]) == (2, 2, 0, 1, 1, 5, 5)
    prf = {s: (c.precision, c.recall, c.f1) for s, c in result.overall.items()}
    assert prf["strict"] == pytest.approx((0.2, 0.2, 0.2))
    assert prf["exact"] == pytest.approx((0.4, 0.4, 0.4))
    assert prf["partial"] == pytest.approx((0.6, 0.6, 0.6))  # (2 + 0.5 * 2) / 5
    assert prf["type"] == pytest.approx((0.4, 0.4, 0.4))
    assert (result.n_gold, result.n_pred, result.labels) == (5, 5, ("BRAND", "DRUG", "GROUP"))


def test_semeval_per_type_charges_each_side_to_its_own_type() -> None:
    result = partial_scores(*_semeval_batch())
    brand, drug, group = (result.per_type[t]["partial"] for t in ("BRAND", "DRUG", "GROUP"))
    # The spurious BRAND is charged to BRAND only (nervaluate charges it to every type).
    assert (brand.spurious, drug.spurious, group.spurious) == (1, 0, 0)
    # BRAND: 1 gold (matched exactly); 3 predictions: 2 exact-boundary pairs
    # (one with the gold DRUG "propranolol") and the spurious one.
    assert _counts(brand) == (1, 0, 0, 0, 1, 1, 3)
    assert (brand.pred_correct, brand.pred_incorrect, brand.pred_partial) == (2, 0, 0)
    assert (brand.precision, brand.recall) == pytest.approx((2 / 3, 1.0))
    # DRUG: gold "warfarin" missed, "propranolol" exact (typed BRAND), "phenytoin" partial;
    # its 2 predictions are both partial (one of them over the gold GROUP).
    assert _counts(drug) == (1, 0, 1, 1, 0, 3, 2)
    assert (drug.pred_correct, drug.pred_partial) == (0, 2)
    assert (drug.precision, drug.recall, drug.f1) == pytest.approx((0.5, 0.5, 0.5))
    # GROUP was never predicted: recall 0.5 (one partial), precision 0 (no predictions).
    assert _counts(group) == (0, 0, 1, 0, 0, 1, 0)
    assert (group.precision, group.recall, group.f1) == (0.0, 0.5, 0.0)
    strict_brand = result.per_type["BRAND"]["strict"]
    assert _counts(strict_brand) == (1, 0, 0, 0, 1, 1, 3)
    assert (strict_brand.pred_correct, strict_brand.pred_incorrect) == (1, 1)


# ------------------------------------------------------------------ matching rule


def _scores(gold: list[Span], pred: list[Span]) -> dict[str, tuple[int, ...]]:
    """COR INC PAR MIS SPU of one sentence under each scoring scheme."""
    result = partial_scores([gold], [pred])
    return {s: _counts(result.overall[s])[:5] for s in SCORING_SCHEMES}


def test_prediction_over_two_gold_entities_takes_the_first() -> None:
    """The audit's reproduction (nervaluate: PAR 2, F1 50): the first prediction overlaps
    both gold entities and takes the first, leaving the second to the later one. It used
    to take the larger overlap, B, leaving A missed and the second prediction spurious
    (PAR 1, MIS 1, SPU 1, F1 25)."""
    gold = [Span(0, 2, "PER"), Span(2, 6, "PER")]
    pred = [Span(1, 4, "PER"), Span(5, 6, "PER")]
    #                                      COR INC PAR MIS SPU
    assert _scores(gold, pred) == {
        "strict": (0, 2, 0, 0, 0),
        "exact": (0, 2, 0, 0, 0),
        "partial": (0, 0, 2, 0, 0),
        "type": (2, 0, 0, 0, 0),
    }
    result = partial_scores([gold], [pred])
    assert result.overall["partial"].f1 == 0.5
    assert result.overall["type"].f1 == 1.0
    assert match_spans([gold], [pred], "partial") == [
        Match(0, Span(0, 2, "PER"), Span(1, 4, "PER"), "partial"),
        Match(0, Span(2, 6, "PER"), Span(5, 6, "PER"), "partial"),
    ]


def test_type_prefers_a_gold_entity_of_its_own_type() -> None:
    """The audit's second reproduction: the prediction overlaps a LOC by three tokens
    and a PER by one. strict / exact / partial pair it with the first (LOC), type with
    the PER (nervaluate: COR 1, MIS 1; the largest overlap gave INC 1, MIS 1)."""
    gold = [Span(0, 3, "LOC"), Span(3, 4, "PER")]
    pred = [Span(0, 4, "PER")]
    assert _scores(gold, pred) == {
        "strict": (0, 1, 0, 1, 0),
        "exact": (0, 1, 0, 1, 0),
        "partial": (0, 0, 1, 1, 0),
        "type": (1, 0, 0, 1, 0),
    }
    assert match_spans([gold], [pred], "type") == [
        Match(0, Span(0, 3, "LOC"), None, "type"),
        Match(0, Span(3, 4, "PER"), Span(0, 4, "PER"), "type"),
    ]
    result = partial_scores([gold], [pred])
    assert (result.overall["type"].precision, result.overall["type"].recall) == (1.0, 0.5)
    # per type: the PER pair counts for PER alone, the LOC is missed
    assert _counts(result.per_type["PER"]["type"]) == (1, 0, 0, 0, 0, 1, 1)
    assert _counts(result.per_type["LOC"]["type"]) == (0, 0, 0, 1, 0, 1, 0)
    assert _counts(result.per_type["LOC"]["strict"]) == (0, 1, 0, 0, 0, 1, 0)
    assert result.per_type["PER"]["strict"].pred_incorrect == 1


def test_prediction_of_no_gold_type_takes_the_first_overlap() -> None:
    gold = [[Span(0, 2, "PER"), Span(2, 4, "LOC")]]
    pred = [[Span(1, 3, "ORG")]]
    for scoring in SCORING_SCHEMES:
        assert match_spans(gold, pred, scoring) == [
            Match(0, Span(0, 2, "PER"), Span(1, 3, "ORG"), scoring),
            Match(0, Span(2, 4, "LOC"), None, scoring),
        ]
    result = partial_scores(gold, pred)
    assert _counts(result.overall["strict"]) == (0, 1, 0, 1, 0, 2, 1)
    assert _counts(result.overall["partial"]) == (0, 0, 1, 1, 0, 2, 1)
    assert result.overall["partial"].precision == 0.5
    assert result.overall["partial"].recall == 0.25


def test_type_takes_the_closest_boundaries_then_the_first() -> None:
    gold = [Span(0, 2, "PER"), Span(2, 5, "PER")]
    # |1 - 0| + |5 - 2| = 4 against |1 - 2| + |5 - 5| = 1: the second
    assert match_spans([gold], [[Span(1, 5, "PER")]], "type")[1].pred == Span(1, 5, "PER")
    assert match_spans([gold], [[Span(1, 5, "PER")]], "strict")[0].pred == Span(1, 5, "PER")
    # |1 - 0| + |3 - 2| = 2 both: the first
    assert match_spans([gold], [[Span(1, 3, "PER")]], "type")[0].pred == Span(1, 3, "PER")


def test_predictions_claim_in_order_of_position() -> None:
    """Gold LOC [0, 2), predictions PER [0, 1) then LOC [1, 2): the PER comes first and
    takes the LOC (INC in type), the LOC finds it taken (SPU), in whatever order the
    predictions are given (nervaluate: INC 1, SPU 1; the old tie rule gave COR 1)."""
    gold = [Span(0, 2, "LOC")]
    for pred in ([Span(0, 1, "PER"), Span(1, 2, "LOC")], [Span(1, 2, "LOC"), Span(0, 1, "PER")]):
        assert _scores(gold, pred)["type"] == (0, 1, 0, 0, 1)
        assert _scores(gold, pred)["partial"] == (0, 0, 1, 0, 1)


def test_exact_match_is_kept_where_predictions_overlap_each_other() -> None:
    """Where a side overlaps itself an exact match is paired first (a documented
    difference: nervaluate lets the earlier PER [0, 2) take the gold entity, INC 1 SPU 1)."""
    gold = [Span(1, 3, "PER")]
    pred = [Span(0, 2, "PER"), Span(1, 3, "PER")]
    scores = _scores(gold, pred)
    assert scores["strict"] == scores["exact"] == scores["partial"] == (1, 0, 0, 0, 1)
    assert scores["type"] == (1, 0, 0, 0, 1)
    # and the scheme's own correct pairs: exact boundaries of another type, in exact
    pred = [Span(0, 2, "PER"), Span(1, 3, "LOC")]
    scores = _scores(gold, pred)
    assert (scores["strict"], scores["exact"], scores["type"]) == (
        (0, 1, 0, 0, 1),
        (1, 0, 0, 0, 1),
        (1, 0, 0, 0, 1),
    )
    assert match_spans([gold], [pred], "strict")[0].pred == Span(0, 2, "PER")
    assert match_spans([gold], [pred], "exact")[0].pred == Span(1, 3, "LOC")


def test_exact_boundary_wins_over_larger_overlap() -> None:
    gold = [[Span(0, 5, "ORG"), Span(3, 5, "LOC")]]
    pred = [[Span(0, 5, "LOC"), Span(3, 5, "LOC")]]
    for scoring in SCORING_SCHEMES:
        assert match_spans(gold, pred, scoring) == [
            Match(0, Span(0, 5, "ORG"), Span(0, 5, "LOC"), scoring),
            Match(0, Span(3, 5, "LOC"), Span(3, 5, "LOC"), scoring),
        ]


def test_an_overlap_under_one_percent_of_the_gold_entity_is_none() -> None:
    """nervaluate's default minimum overlap: 1% of the gold entity's tokens."""
    assert _scores([Span(0, 100, "ORG")], [Span(99, 101, "ORG")])["partial"] == (0, 0, 1, 0, 0)
    assert _scores([Span(0, 101, "ORG")], [Span(100, 102, "ORG")])["partial"] == (0, 0, 0, 1, 1)
    assert _scores([Span(0, 101, "ORG")], [Span(99, 102, "ORG")])["type"] == (1, 0, 0, 0, 0)


def test_prediction_overlapping_only_paired_gold_is_spurious() -> None:
    gold = [[Span(0, 2, "PER")]]
    pred = [[Span(0, 2, "PER"), Span(1, 3, "PER")]]
    result = partial_scores(gold, pred)
    for scoring in SCORING_SCHEMES:
        assert _counts(result.overall[scoring]) == (1, 0, 0, 0, 1, 1, 2)
    assert result.overall["type"].precision == 0.5


def test_nested_gold_spans_are_scored_on_spans() -> None:
    gold = [[Span(0, 4, "ORG"), Span(2, 4, "LOC")]]  # "Bank of [New York]"
    result = partial_scores(gold, [[Span(2, 4, "LOC")]])
    assert _counts(result.overall["strict"]) == (1, 0, 0, 1, 0, 2, 1)
    assert _counts(result.per_type["ORG"]["strict"]) == (0, 0, 0, 1, 0, 1, 0)
    assert _counts(result.per_type["LOC"]["strict"]) == (1, 0, 0, 0, 0, 1, 1)
    both = partial_scores(gold, [[Span(2, 4, "LOC"), Span(0, 4, "ORG")]])
    assert _counts(both.overall["strict"]) == (2, 0, 0, 0, 0, 2, 2)
    assert both.overall["strict"].f1 == 1.0


def test_duplicate_and_empty_sentences() -> None:
    gold = [[], [Span(0, 1, "PER"), Span(0, 1, "PER")], []]
    pred = [[], [Span(0, 1, "PER")], []]
    result = partial_scores(gold, pred)
    assert _counts(result.overall["strict"]) == (1, 0, 0, 1, 0, 2, 1)
    empty = partial_scores([[], []], [[], []])
    assert empty.labels == ()
    assert _counts(empty.overall["partial"]) == (0, 0, 0, 0, 0, 0, 0)
    assert (empty.overall["partial"].precision, empty.overall["partial"].f1) == (0.0, 0.0)


def test_input_errors() -> None:
    with pytest.raises(InputError, match="gold has 2 sentences but predicted has 1"):
        partial_scores([[], []], [[]])
    with pytest.raises(InputError, match="list of sentences"):
        partial_scores([Span(0, 1, "PER")], [[]])  # type: ignore[list-item]
    with pytest.raises(InputError, match="differ in length at sentence 0"):
        partial_scores_from_tags([["B-PER", "O"]], [["B-PER"]])
    with pytest.raises(ValueError, match="unknown scoring scheme 'fuzzy'"):
        Match(0, None, Span(0, 1, "PER"), "fuzzy")
    with pytest.raises(ValueError, match="unknown scoring scheme 'loose'.*strict, exact"):
        match_spans([[]], [[]], "loose")
    none = Entities.from_spans([[]], [])
    with pytest.raises(ValueError, match="unknown scoring scheme 'ent_type'"):
        pair_entities(none, none, "ent_type")


def test_from_tags() -> None:
    gold = [["B-PER", "I-PER", "O", "B-LOC"], ["B-ORG", "I-ORG", "I-ORG"]]
    pred = [["B-PER", "O", "O", "B-ORG"], ["O", "B-ORG", "I-ORG"]]
    result = partial_scores_from_tags(gold, pred, "IOB2")
    assert _counts(result.overall["strict"]) == (0, 3, 0, 0, 0, 3, 3)
    assert _counts(result.overall["exact"]) == (1, 2, 0, 0, 0, 3, 3)
    assert _counts(result.overall["partial"]) == (1, 0, 2, 0, 0, 3, 3)
    assert _counts(result.overall["type"]) == (2, 1, 0, 0, 0, 3, 3)
    assert result.overall["partial"].f1 == pytest.approx(2 / 3)


# ------------------------------------------------------------------ invariants


@st.composite
def span_sets(draw: st.DrawFn) -> tuple[list[list[Span]], list[list[Span]]]:
    """Gold and predicted spans of a few sentences, overlapping, nested and duplicated,
    predictions partly derived from gold (shifted, retyped) so that every outcome occurs."""

    def random_span(n: int) -> Span:
        start = draw(st.integers(0, n - 1))
        end = draw(st.integers(start + 1, n))
        return Span(start, end, draw(st.sampled_from(TYPES)))

    gold, pred = [], []
    for _ in range(draw(st.integers(1, 6))):
        n = draw(st.integers(1, 8))
        g = [random_span(n) for _ in range(draw(st.integers(0, 5)))]
        p = [random_span(n) for _ in range(draw(st.integers(0, 3)))]
        for span in g:
            how = draw(st.sampled_from(("drop", "copy", "retype", "shift")))
            if how == "copy":
                p.append(span)
            elif how == "retype":
                p.append(Span(span.start, span.end, draw(st.sampled_from(TYPES))))
            elif how == "shift":
                start = min(n - 1, max(0, span.start + draw(st.integers(-1, 1))))
                end = min(n, max(start + 1, span.end + draw(st.integers(-1, 1))))
                p.append(Span(start, end, span.label))
        gold.append(g)
        pred.append(draw(st.permutations(p)))
    return gold, pred


@settings(max_examples=300, deadline=None)
@given(span_sets())
def test_count_invariants(batch: tuple[list[list[Span]], list[list[Span]]]) -> None:
    gold, pred = batch
    result = partial_scores(gold, pred)
    n_gold, n_pred = sum(map(len, gold)), sum(map(len, pred))
    assert (result.n_gold, result.n_pred) == (n_gold, n_pred)
    for scoring in SCORING_SCHEMES:
        c = result.overall[scoring]
        assert c.correct + c.incorrect + c.partial + c.missed == n_gold
        assert c.correct + c.incorrect + c.partial + c.spurious == n_pred
        assert (c.pred_correct, c.pred_incorrect, c.pred_partial) == (
            c.correct,
            c.incorrect,
            c.partial,
        )
        if scoring != "partial":
            assert c.partial == 0
        assert 0.0 <= c.precision <= 1.0 and 0.0 <= c.recall <= 1.0
        for field in ("correct", "incorrect", "partial", "missed", "spurious"):
            per_type = sum(getattr(result.per_type[t][scoring], field) for t in result.labels)
            assert per_type == getattr(c, field)
        for label in result.labels:
            t = result.per_type[label][scoring]
            assert t.possible == sum(s.label == label for sent in gold for s in sent)
            assert t.actual == sum(s.label == label for sent in pred for s in sent)
    # `exact` and `partial` share a matching; every exact match is paired in `strict`
    # and `type` alike, and is correct in both.
    assert result.overall["exact"].correct == result.overall["partial"].correct
    assert result.overall["exact"].incorrect == result.overall["partial"].partial
    assert result.overall["strict"].correct <= result.overall["type"].correct


@settings(max_examples=200, deadline=None)
@given(span_sets(), st.randoms(use_true_random=False))
def test_matching_is_one_to_one_and_order_free(
    batch: tuple[list[list[Span]], list[list[Span]]], rng: random.Random
) -> None:
    gold, pred = batch
    for scoring in SCORING_SCHEMES:
        matches = match_spans(gold, pred, scoring)
        for i, (g, p) in enumerate(zip(gold, pred, strict=True)):
            mine = [m for m in matches if m.sentence == i]
            assert sorted((m.gold for m in mine if m.gold), key=repr) == sorted(g, key=repr)
            assert sorted((m.pred for m in mine if m.pred), key=repr) == sorted(p, key=repr)
            for m in mine:
                if m.gold is not None and m.pred is not None:
                    assert m.gold.overlaps(m.pred)
    shuffled_gold = [rng.sample(s, len(s)) for s in gold]
    shuffled_pred = [rng.sample(s, len(s)) for s in pred]
    assert partial_to_dict(partial_scores(shuffled_gold, shuffled_pred)) == partial_to_dict(
        partial_scores(gold, pred)
    )


# ------------------------------------------------------------------ against the engine


@pytest.mark.parametrize("scheme", ["IOB2", "BIOES", "IOB1"])
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_strict_equals_metric_engine_on_flat_entities(scheme: str, data: st.DataObject) -> None:
    gold, pred = data.draw(tag_batches(scheme, max_sentences=12, max_length=10, max_span=3))
    engine = metrics.scores(gold, pred, scheme, "lenient")
    strict = partial_scores_from_tags(gold, pred, scheme, "lenient").overall["strict"]
    assert (strict.precision, strict.recall, strict.f1) == (
        engine.micro.precision,
        engine.micro.recall,
        engine.micro.f1,
    )
    assert (strict.correct, strict.possible, strict.actual) == (
        engine.micro.correct,
        engine.micro.support,
        engine.micro.predicted,
    )
    per_type = partial_scores_from_tags(gold, pred, scheme, "lenient").per_type
    assert set(per_type) == set(engine.per_type)
    for label, score in engine.per_type.items():
        mine = per_type[label]["strict"]
        assert (mine.precision, mine.recall, mine.f1) == (score.precision, score.recall, score.f1)
        assert (mine.pred_correct, mine.possible, mine.actual) == (
            score.correct,
            score.support,
            score.predicted,
        )


# ------------------------------------------------------------------ reference matchers


def _prefers(scoring: str, gold: Span, pred: Span) -> tuple[int, int]:
    """How much ``pred`` wants ``gold`` under ``scoring`` (lower: more)."""
    exact = (gold.start, gold.end) == (pred.start, pred.end)
    same = gold.label == pred.label
    if scoring == "type":
        return (0, abs(gold.start - pred.start) + abs(gold.end - pred.end)) if same else (1, 0)
    return (0, 0) if exact and (same or scoring != "strict") else (1, 0)


def _candidate(gold: Span, pred: Span) -> bool:
    overlap = min(gold.end, pred.end) - max(gold.start, pred.start)
    return overlap > 0 and 100 * overlap >= gold.end - gold.start


def nervaluate_match(scoring: str, gold: list[Span], pred: list[Span]) -> dict[int, int]:
    """nervaluate's loop, written out: the predictions in list order, each taking the
    gold entity it wants most among the overlapping ones nobody took yet (the first in
    list order among equals). Prediction index -> gold index."""
    taken: dict[int, int] = {}
    for j, p in enumerate(pred):
        free = [
            (_prefers(scoring, g, p), i)
            for i, g in enumerate(gold)
            if i not in taken.values() and _candidate(g, p)
        ]
        if free:
            taken[j] = min(free)[1]
    return taken


def reference_match(scoring: str, gold: list[Span], pred: list[Span]) -> dict[int, int]:
    """The rule of ``nerkit.evaluation.partial``, the obvious way: both sides in order of
    position (start, end, type, input order); the pairs the scheme counts correct are
    made first, then nervaluate's loop runs over what is left."""

    def by_position(spans: list[Span]) -> list[int]:
        return sorted(
            range(len(spans)), key=lambda k: (spans[k].start, spans[k].end, spans[k].label, k)
        )

    gold_order, pred_order = by_position(gold), by_position(pred)
    taken: dict[int, int] = {}
    for j in pred_order:
        for i in gold_order:
            if i not in taken.values() and _prefers(scoring, gold[i], pred[j]) == (0, 0):
                taken[j] = i
                break
    for j in pred_order:
        if j in taken:
            continue
        free = [
            (_prefers(scoring, gold[i], pred[j]), rank, i)
            for rank, i in enumerate(gold_order)
            if i not in taken.values() and _candidate(gold[i], pred[j])
        ]
        if free:
            taken[j] = min(free)[2]
    return taken


def _outcome(scoring: str, gold: Span, pred: Span) -> str:
    exact = (gold.start, gold.end) == (pred.start, pred.end)
    same = gold.label == pred.label
    if scoring == "strict":
        return "COR" if exact and same else "INC"
    if scoring == "type":
        return "COR" if same else "INC"
    return "COR" if exact else ("INC" if scoring == "exact" else "PAR")


Matcher = Callable[[str, list[Span], list[Span]], dict[int, int]]


def reference_counts(
    matcher: Matcher, gold: list[list[Span]], pred: list[list[Span]]
) -> tuple[dict[str, Counter[str]], dict[tuple[str, str], Counter[str]]]:
    """Overall counts per scheme, and per (type, scheme): the gold side's outcomes to the
    gold type, the prediction side's (``pred_COR`` ..., ``SPU``) to the predicted type."""
    overall: dict[str, Counter[str]] = {s: Counter() for s in SCORING_SCHEMES}
    per_type: dict[tuple[str, str], Counter[str]] = {}
    for scoring in SCORING_SCHEMES:
        for g, p in zip(gold, pred, strict=True):
            taken = matcher(scoring, g, p)
            partner = {i: j for j, i in taken.items()}
            for i, a in enumerate(g):
                outcome = _outcome(scoring, a, p[partner[i]]) if i in partner else "MIS"
                overall[scoring][outcome] += 1
                per_type.setdefault((a.label, scoring), Counter())[outcome] += 1
            for j, b in enumerate(p):
                if j in taken:
                    outcome = "pred_" + _outcome(scoring, g[taken[j]], b)
                else:
                    outcome = "SPU"
                    overall[scoring]["SPU"] += 1
                per_type.setdefault((b.label, scoring), Counter())[outcome] += 1
    return overall, per_type


_FIELDS = {
    "COR": "correct",
    "INC": "incorrect",
    "PAR": "partial",
    "MIS": "missed",
    "SPU": "spurious",
    "pred_COR": "pred_correct",
    "pred_INC": "pred_incorrect",
    "pred_PAR": "pred_partial",
}


def _as_counter(c: PartialCounts) -> Counter[str]:
    return +Counter({name: getattr(c, field) for name, field in _FIELDS.items()})


def assert_counts_equal(
    result: PartialResult,
    overall: dict[str, Counter[str]],
    per_type: dict[tuple[str, str], Counter[str]] | None = None,
) -> None:
    for scoring in SCORING_SCHEMES:
        mine = _as_counter(result.overall[scoring])
        expected = overall[scoring] + Counter(
            {f"pred_{k}": overall[scoring][k] for k in ("COR", "INC", "PAR")}
        )
        assert mine == +expected, scoring
    if per_type is not None:
        assert {(t, s) for t in result.labels for s in SCORING_SCHEMES} == set(per_type)
        for (label, scoring), expected in per_type.items():
            assert _as_counter(result.per_type[label][scoring]) == +expected, (label, scoring)


def _seqeval_spans(tags: list[list[str]]) -> list[list[Span]]:
    """Entities as seqeval reads them (lenient), independently of nerkit's engine."""
    return [[Span(a, b + 1, t) for t, a, b in get_entities(list(s))] for s in tags]


@pytest.mark.parametrize("scheme", ["IOB2", "BIOES"])
@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_counts_equal_nervaluate_on_entities_read_from_tags(
    scheme: str, data: st.DataObject
) -> None:
    """Every count of every scheme is nervaluate's, entities read from tags (flat)."""
    gold, pred = data.draw(tag_batches(scheme, max_sentences=8, max_length=14, max_span=4))
    result = partial_scores_from_tags(gold, pred, scheme, "lenient")
    overall, _ = reference_counts(nervaluate_match, _seqeval_spans(gold), _seqeval_spans(pred))
    assert_counts_equal(result, overall)


@st.composite
def flat_span_pairs(draw: st.DrawFn) -> tuple[list[list[Span]], list[list[Span]]]:
    """Flat gold spans and flat predictions made from them by the errors taggers make
    (shifted or cut boundaries, merged or split entities, other types, extra ones), so
    that a prediction often overlaps two gold entities and the reverse."""
    gold, pred = [], []
    for _ in range(draw(st.integers(1, 6))):
        n = draw(st.integers(0, 14))
        g, i = [], 0
        while i < n:
            length = draw(st.integers(1, 5))
            if draw(st.booleans()) and i + length <= n:
                g.append(Span(i, i + length, draw(st.sampled_from(TYPES))))
            i += length
        p: list[Span] = []
        for span in g:
            how = draw(st.sampled_from(("copy", "drop", "retype", "shift", "split")))
            start, end, label = span.start, span.end, span.label
            if how == "drop":
                continue
            if how == "retype":
                label = draw(st.sampled_from(TYPES))
            elif how == "shift":
                start = min(max(0, start + draw(st.integers(-2, 2))), n - 1)
                end = min(max(start + 1, end + draw(st.integers(-2, 2))), n)
            elif how == "split" and end - start > 1:
                cut = draw(st.integers(start + 1, end - 1))
                p.append(Span(start, cut, label))
                start = cut
            p.append(Span(start, end, label))
        for _ in range(draw(st.integers(0, 2)) if n else 0):
            start = draw(st.integers(0, n - 1))
            p.append(Span(start, draw(st.integers(start + 1, n)), draw(st.sampled_from(TYPES))))
        flat: list[Span] = []  # a tagger's output: the first of overlapping spans wins
        for span in sorted(p, key=lambda x: (x.start, x.end, x.label)):
            if not flat or span.start >= flat[-1].end:
                flat.append(span)
        gold.append(g)
        pred.append(flat)
    return gold, pred


@settings(max_examples=400, deadline=None)
@given(flat_span_pairs())
def test_counts_equal_nervaluate_on_flat_spans(
    batch: tuple[list[list[Span]], list[list[Span]]],
) -> None:
    gold, pred = batch
    overall, per_type = reference_counts(nervaluate_match, gold, pred)
    assert_counts_equal(partial_scores(gold, pred), overall, per_type)


@settings(max_examples=300, deadline=None)
@given(span_sets())
def test_counts_equal_the_reference_on_overlapping_spans(
    batch: tuple[list[list[Span]], list[list[Span]]],
) -> None:
    gold, pred = batch
    overall, per_type = reference_counts(reference_match, gold, pred)
    assert_counts_equal(partial_scores(gold, pred), overall, per_type)
    for scoring in SCORING_SCHEMES:
        expected: list[Match] = []
        for i, (g, p) in enumerate(zip(gold, pred, strict=True)):
            taken = reference_match(scoring, g, p)
            partner = {k: j for j, k in taken.items()}
            expected += [
                Match(i, a, p[partner[k]] if k in partner else None, scoring)
                for k, a in enumerate(g)
            ]
            expected += [Match(i, None, b, scoring) for j, b in enumerate(p) if j not in taken]
        assert match_spans(gold, pred, scoring) == expected


# ------------------------------------------------------------------ rendering


def _render(table: object) -> str:
    console = Console(width=200, record=True, color_system=None)
    console.print(table)
    return console.export_text()


def test_partial_table_and_dict() -> None:
    result = partial_scores(*_semeval_batch())
    lines = _render(partial_table(result)).splitlines()
    cells = [[c.strip() for c in line.strip("│").split("│")] for line in lines if "│" in line]
    rows = {r[0]: r[1:] for r in cells}
    #                                COR  INC  PAR  MIS  SPU  POS  ACT  P        R        F1
    assert rows["strict"] == ["1", "3", "0", "1", "1", "5", "5", "20.00", "20.00", "20.00"]
    assert rows["partial"] == ["2", "0", "2", "1", "1", "5", "5", "60.00", "60.00", "60.00"]
    assert list(rows) == ["strict", "exact", "partial", "type"]
    per_type = _render(partial_type_table(result, "partial"))
    assert "│ BRAND   │   1 │   0 │   0 │   0 │   1 │        2 │" in per_type
    with pytest.raises(ValueError, match="unknown scoring scheme"):
        partial_type_table(result, "loose")
    as_dict = json.loads(json.dumps(partial_to_dict(result)))
    assert as_dict["overall"]["partial"] == {
        "correct": 2,
        "incorrect": 0,
        "partial": 2,
        "missed": 1,
        "spurious": 1,
        "pred_correct": 2,
        "pred_incorrect": 0,
        "pred_partial": 2,
        "possible": 5,
        "actual": 5,
        "precision": 0.6,
        "recall": 0.6,
        "f1": 0.6,
    }
    assert as_dict["per_type"]["BRAND"]["strict"]["spurious"] == 1
    assert (as_dict["n_gold"], as_dict["n_pred"]) == (5, 5)
