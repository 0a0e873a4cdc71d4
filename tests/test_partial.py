"""Partial-match evaluation (SemEval-2013 task 9.1): hand-made outcomes, the
one-to-one matching rule, the count invariants on random (overlapping) span sets, and
``strict`` against the metric engine on flat entities read from tags."""

from __future__ import annotations

import json
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console
from strategies import tag_batches

from nerkit import metrics
from nerkit.errors import InputError
from nerkit.evaluation import (
    SCORING_SCHEMES,
    Match,
    PartialCounts,
    match_spans,
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
    (match,) = match_spans([gold], [pred])
    assert tuple(match.outcome(s) for s in SCORING_SCHEMES) == expected


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


def test_incorrect_prediction_over_two_gold_entities_counts_once() -> None:
    gold = [[Span(0, 2, "PER"), Span(2, 4, "LOC")]]
    pred = [[Span(1, 3, "ORG")]]
    matches = match_spans(gold, pred)
    # Equal overlaps, neither type agrees: the earlier gold entity is paired.
    assert matches == [
        Match(0, Span(0, 2, "PER"), Span(1, 3, "ORG")),
        Match(0, Span(2, 4, "LOC"), None),
    ]
    result = partial_scores(gold, pred)
    assert _counts(result.overall["strict"]) == (0, 1, 0, 1, 0, 2, 1)
    assert _counts(result.overall["partial"]) == (0, 0, 1, 1, 0, 2, 1)
    assert result.overall["partial"].precision == 0.5
    assert result.overall["partial"].recall == 0.25


def test_exact_boundary_wins_over_larger_overlap() -> None:
    gold = [[Span(0, 5, "ORG"), Span(3, 5, "LOC")]]
    pred = [[Span(0, 5, "LOC"), Span(3, 5, "LOC")]]
    assert match_spans(gold, pred) == [
        Match(0, Span(0, 5, "ORG"), Span(0, 5, "LOC")),
        Match(0, Span(3, 5, "LOC"), Span(3, 5, "LOC")),
    ]


def test_larger_overlap_then_same_type_wins() -> None:
    gold = [[Span(0, 3, "PER"), Span(3, 4, "LOC")]]
    pred = [[Span(1, 4, "LOC")]]
    # Overlap 2 with PER beats overlap 1 with the LOC of the same type.
    assert match_spans(gold, pred)[0] == Match(0, Span(0, 3, "PER"), Span(1, 4, "LOC"))
    gold = [[Span(0, 2, "PER"), Span(2, 4, "LOC")]]
    pred = [[Span(1, 3, "LOC")]]
    # Equal overlaps: the gold entity of the same type wins over the earlier one.
    assert match_spans(gold, pred) == [
        Match(0, Span(0, 2, "PER"), None),
        Match(0, Span(2, 4, "LOC"), Span(1, 3, "LOC")),
    ]


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
        Match(0, None, Span(0, 1, "PER")).outcome("fuzzy")


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
    # Pairs agree across schemes: exact-boundary pairs are COR in `exact` and `partial`.
    assert result.overall["exact"].correct == result.overall["partial"].correct
    assert result.overall["strict"].correct <= result.overall["type"].correct


@settings(max_examples=200, deadline=None)
@given(span_sets(), st.randoms(use_true_random=False))
def test_matching_is_one_to_one_and_order_free(
    batch: tuple[list[list[Span]], list[list[Span]]], rng: random.Random
) -> None:
    gold, pred = batch
    matches = match_spans(gold, pred)
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


# ------------------------------------------------------------------ reference matcher


def reference_match(gold: list[list[Span]], pred: list[list[Span]]) -> list[Match]:
    """The matching rule written the obvious way: every pair of every sentence, sorted
    by the documented priority, taken greedily."""
    out: list[Match] = []
    for i, (g, p) in enumerate(zip(gold, pred, strict=True)):
        candidates = sorted(
            (
                (a.start, a.end) != (b.start, b.end),
                -(min(a.end, b.end) - max(a.start, b.start)),
                a.label != b.label,
                a.start,
                a.end,
                b.start,
                b.end,
                a.label,
                b.label,
                gi,
                pi,
            )  # fmt: skip
            for gi, a in enumerate(g)
            for pi, b in enumerate(p)
            if a.overlaps(b)
        )
        partner: dict[int, int] = {}
        taken: set[int] = set()
        for *_, gi, pi in candidates:
            if gi not in partner and pi not in taken:
                partner[gi] = pi
                taken.add(pi)
        out += [Match(i, a, p[partner[gi]] if gi in partner else None) for gi, a in enumerate(g)]
        out += [Match(i, None, b) for pi, b in enumerate(p) if pi not in taken]
    return out


@settings(max_examples=300, deadline=None)
@given(span_sets())
def test_matching_equals_reference_on_overlapping_spans(
    batch: tuple[list[list[Span]], list[list[Span]]],
) -> None:
    assert match_spans(*batch) == reference_match(*batch)


@settings(max_examples=200, deadline=None)
@given(tag_batches("BIOES", max_sentences=12, max_length=10, max_span=3))
def test_matching_equals_reference_on_flat_spans(
    batch: tuple[list[list[str]], list[list[str]]],
) -> None:
    gold, pred = (metrics.batch_spans(side, "BIOES") for side in batch)
    assert match_spans(gold, pred) == reference_match(gold, pred)


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
