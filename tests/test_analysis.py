"""Error analysis: exact numbers on a hand-made batch, and cross-checks against the
metric engine on random tag sequences."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console
from seqeval.metrics.sequence_labeling import get_entities
from strategies import tag_batches

from nerkit import metrics
from nerkit.errors import ConfigError, InputError, SchemeError
from nerkit.evaluation import (
    SurfaceCount,
    analysis_tables,
    analysis_to_dict,
    analyze_errors,
    analyze_span_errors,
    confusion_matrix,
    frequent_errors,
    partial_scores,
    partial_scores_from_tags,
    scores_by_entity_length,
    scores_by_seen,
    scores_by_sentence_length,
)
from nerkit.metrics import TypeScore
from nerkit.types import Sentence, Span

# Five sentences, one error of each kind (see the comments), IOB2.
TOKENS = [
    ["John", "Smith", "lives", "in", "New", "York"],
    ["Acme", "Corp", "hired", "Mary"],
    ["Paris", "is", "in", "France"],
    ["He", "visited", "Paris"],
    ["the", "Bank", "of", "New", "York", "Mellon", "said", "on", "Tuesday", "that", "it", "will"],
]
GOLD = [
    ["B-PER", "I-PER", "O", "O", "B-LOC", "I-LOC"],
    ["B-ORG", "I-ORG", "O", "B-PER"],
    ["B-LOC", "O", "O", "B-LOC"],
    ["O", "O", "B-LOC"],
    ["O", "B-ORG", "I-ORG", "I-ORG", "I-ORG", "I-ORG", "O", "O", "O", "O", "O", "O"],
]
PRED = [
    ["B-PER", "I-PER", "O", "O", "B-LOC", "O"],  # PER correct; LOC boundary error
    ["B-PER", "O", "O", "O"],  # ORG -> PER with a boundary error; Mary missed
    ["B-PER", "O", "O", "B-LOC"],  # Paris LOC -> PER; France correct
    ["B-PER", "O", "B-PER"],  # "He" spurious; Paris LOC -> PER
    ["O", "B-ORG", "I-ORG", "I-ORG", "I-ORG", "I-ORG", "O", "O", "O", "O", "O", "O"],
]
TRAIN = [
    Sentence(("John", "Smith", "spoke"), ("B-PER", "I-PER", "O")),
    Sentence(("Paris",), ("B-LOC",)),
    # explicit spans win over (here absent) tags
    Sentence(("Acme", "Corp"), spans=(Span(0, 2, "ORG"),)),
    Sentence(("no", "tags")),
]


def _score(
    precision: float, recall: float, f1: float, support: int, predicted: int, correct: int
) -> TypeScore:
    return TypeScore(precision, recall, f1, support, predicted, correct)


ZERO = _score(0.0, 0.0, 0.0, 0, 0, 0)


def test_confusion_matrix_cells() -> None:
    cm = confusion_matrix(GOLD, PRED)
    assert cm.labels == ("LOC", "ORG", "PER")
    assert cm.row_labels == ("LOC", "ORG", "PER", "spurious")
    assert cm.column_labels == ("LOC", "ORG", "PER", "missed")
    assert cm.counts.tolist() == [
        [2, 0, 2, 0],  # LOC: 1 correct + 1 boundary; 2 read as PER
        [0, 1, 1, 0],  # ORG: 1 correct; 1 read as PER (with a boundary error)
        [0, 0, 1, 1],  # PER: 1 correct, 1 missed
        [0, 0, 1, 0],  # a spurious PER
    ]
    assert cm.boundary.tolist() == [[1, 0, 0, 0], [0, 0, 1, 0], [0, 0, 0, 0], [0, 0, 0, 0]]
    assert cm.correct == 3
    assert cm.rows() == [
        ("LOC", "LOC", "correct", 1),
        ("LOC", "LOC", "boundary", 1),
        ("LOC", "PER", "type", 2),
        ("ORG", "ORG", "correct", 1),
        ("ORG", "PER", "type+boundary", 1),
        ("PER", "PER", "correct", 1),
        ("PER", "", "missed", 1),
        ("", "PER", "spurious", 1),
    ]
    # Rows sum to gold entities per type, columns to predictions per type.
    assert cm.counts.sum(axis=1).tolist() == [4, 2, 2, 1]
    assert cm.counts.sum(axis=0).tolist() == [2, 1, 5, 1]


def test_a_prediction_over_two_gold_entities_takes_the_first() -> None:
    """The audit's first reproduction: gold PER [0, 2) and PER [2, 6), predictions
    PER [1, 4) and PER [5, 6). Each prediction overlaps a gold entity of its type: two
    boundary errors, as nervaluate pairs them (COR 2 in --partial's type scheme); the
    largest-overlap pairing made the first gold entity missed and the second
    prediction spurious."""
    gold = [["B-PER", "I-PER", "B-PER", "I-PER", "I-PER", "I-PER"]]
    pred = [["O", "B-PER", "I-PER", "I-PER", "O", "B-PER"]]
    cm = confusion_matrix(gold, pred)
    assert cm.rows() == [("PER", "PER", "boundary", 2)]
    assert cm.counts.tolist() == [[2, 0], [0, 0]]


def test_a_prediction_pairs_with_a_gold_entity_of_its_type() -> None:
    """The audit's second reproduction: the predicted PER [0, 4) overlaps gold LOC
    [0, 3) by three tokens and gold PER [3, 4) by one. As nervaluate's type scheme,
    it is a boundary error of the PER and the LOC is missed (it was a LOC read as PER
    and a missed PER)."""
    gold = [["B-LOC", "I-LOC", "I-LOC", "B-PER"]]
    pred = [["B-PER", "I-PER", "I-PER", "I-PER"]]
    cm = confusion_matrix(gold, pred)
    assert cm.labels == ("LOC", "PER")
    assert cm.rows() == [("LOC", "", "missed", 1), ("PER", "PER", "boundary", 1)]
    analysis = analyze_span_errors(
        [["w1", "w2", "w3", "w4"]], [[Span(0, 3, "LOC"), Span(3, 4, "PER")]], [[Span(0, 4, "PER")]]
    )
    assert analysis.confusion.rows() == cm.rows()


def test_frequent_errors_by_surface() -> None:
    fps, fns = frequent_errors(TOKENS, GOLD, PRED)
    assert fps == (
        SurfaceCount("Paris", "PER", 2),
        SurfaceCount("Acme", "PER", 1),
        SurfaceCount("He", "PER", 1),
        SurfaceCount("New", "LOC", 1),
    )
    assert fns == (
        SurfaceCount("Paris", "LOC", 2),
        SurfaceCount("Acme Corp", "ORG", 1),
        SurfaceCount("Mary", "PER", 1),
        SurfaceCount("New York", "LOC", 1),
    )
    fps, fns = frequent_errors(TOKENS, GOLD, PRED, top_k=2)
    assert [e.surface for e in fps] == ["Paris", "Acme"]
    assert [e.surface for e in fns] == ["Paris", "Acme Corp"]
    assert frequent_errors(TOKENS, GOLD, PRED, top_k=0) == ((), ())


def test_scores_by_entity_length() -> None:
    buckets = scores_by_entity_length(GOLD, PRED)
    assert buckets.dimension == "entity length"
    assert list(buckets.scores) == ["1", "2", "3", "4", "5+"]
    # length 1: gold Mary, Paris, France, Paris; predicted New, Acme, Paris, France, He,
    # Paris; correct France. Length 2: gold John Smith, New York, Acme Corp; predicted
    # John Smith (correct). Length 5: the bank, correct.
    assert buckets.scores["1"] == _score(1 / 6, 1 / 4, 0.2, 4, 6, 1)
    assert buckets.scores["2"] == _score(1.0, 1 / 3, 0.5, 3, 1, 1)
    assert buckets.scores["3"] == buckets.scores["4"] == ZERO
    assert buckets.scores["5+"] == _score(1.0, 1.0, 1.0, 1, 1, 1)
    custom = scores_by_entity_length(GOLD, PRED, edges=(1, 4))
    assert list(custom.scores) == ["1", "2-4", "5+"]
    assert custom.scores["2-4"] == _score(1.0, 1 / 3, 0.5, 3, 1, 1)


def test_scores_by_sentence_length() -> None:
    buckets = scores_by_sentence_length(GOLD, PRED)
    assert list(buckets.scores) == ["1-10", "11-20", "21-40", "41+"]
    # Sentences of 6, 4, 4 and 3 tokens: 7 gold, 7 predicted, 2 correct.
    first = buckets.scores["1-10"]
    assert (first.support, first.predicted, first.correct) == (7, 7, 2)
    assert (first.precision, first.recall, first.f1) == pytest.approx((2 / 7, 2 / 7, 2 / 7))
    assert buckets.scores["11-20"] == _score(1.0, 1.0, 1.0, 1, 1, 1)
    assert buckets.scores["21-40"] == buckets.scores["41+"] == ZERO
    by_four = scores_by_sentence_length(GOLD, PRED, edges=(4,))
    assert list(by_four.scores) == ["1-4", "5+"]
    assert (by_four.scores["1-4"].support, by_four.scores["1-4"].correct) == (5, 1)


def test_scores_by_seen_in_training() -> None:
    buckets = scores_by_seen(TOKENS, GOLD, PRED, TRAIN)
    assert buckets.dimension == "seen in training"
    # Seen surfaces: "John Smith", "Paris", "Acme Corp" (from explicit spans).
    # Gold seen: John Smith (correct), Acme Corp, Paris, Paris; predicted seen: John
    # Smith, Paris, Paris ("Acme" alone was never an entity in training).
    seen, unseen = buckets.scores["seen"], buckets.scores["unseen"]
    assert (seen.support, seen.predicted, seen.correct) == (4, 3, 1)
    assert (seen.precision, seen.recall, seen.f1) == pytest.approx((1 / 3, 1 / 4, 2 / 7))
    assert (unseen.support, unseen.predicted, unseen.correct) == (4, 5, 2)
    assert (unseen.precision, unseen.recall, unseen.f1) == pytest.approx((0.4, 0.5, 4 / 9))


def test_analyze_errors_bundles_every_part() -> None:
    analysis = analyze_errors(TOKENS, GOLD, PRED, "auto", train=TRAIN, top_k=3)
    assert (analysis.n_gold, analysis.n_pred, analysis.correct) == (8, 8, 3)
    assert (analysis.scheme, analysis.mode) == ("IOB2", "lenient")
    alone = confusion_matrix(GOLD, PRED)
    assert np.array_equal(analysis.confusion.counts, alone.counts)
    assert np.array_equal(analysis.confusion.boundary, alone.boundary)
    assert len(analysis.false_positives) == len(analysis.false_negatives) == 3
    assert analysis.by_entity_length == scores_by_entity_length(GOLD, PRED)
    assert analysis.by_sentence_length == scores_by_sentence_length(GOLD, PRED)
    assert analysis.by_seen == scores_by_seen(TOKENS, GOLD, PRED, TRAIN)
    assert analyze_errors(TOKENS, GOLD, PRED).by_seen is None


def test_strict_mode_drops_invalid_chunks() -> None:
    gold = [["B-PER", "I-PER", "O"]]
    pred = [["I-PER", "I-PER", "O"]]  # invalid in IOB2: no entity in strict mode
    lenient = analyze_errors([["a", "b", "c"]], gold, pred, "IOB2", "lenient")
    strict = analyze_errors([["a", "b", "c"]], gold, pred, "IOB2", "strict")
    assert (lenient.correct, lenient.n_pred) == (1, 1)
    assert (strict.correct, strict.n_pred) == (0, 0)
    assert strict.false_negatives == (SurfaceCount("a b", "PER", 1),)
    assert strict.confusion.rows() == [("PER", "", "missed", 1)]


def test_input_errors() -> None:
    with pytest.raises(InputError, match="sentence 1 has 3 tokens but 4 gold tags"):
        analyze_errors([TOKENS[0], TOKENS[1][:3], *TOKENS[2:]], GOLD, PRED)
    with pytest.raises(InputError, match="4 token sentences but 5 gold tag sentences"):
        frequent_errors(TOKENS[:4], GOLD, PRED)
    with pytest.raises(InputError, match="gold has 5 sentences but predicted has 4"):
        confusion_matrix(GOLD, PRED[:4])
    with pytest.raises(SchemeError):
        confusion_matrix([["X-PER"]], [["O"]])
    with pytest.raises(ConfigError, match="increasing positive integers"):
        scores_by_entity_length(GOLD, PRED, edges=(2, 2))
    with pytest.raises(ConfigError, match="increasing positive integers"):
        scores_by_sentence_length(GOLD, PRED, edges=())
    with pytest.raises(ConfigError, match="top_k"):
        frequent_errors(TOKENS, GOLD, PRED, top_k=-1)


def test_empty_batch() -> None:
    analysis = analyze_errors([], [], [], train=[])
    assert analysis.confusion.labels == ()
    assert analysis.confusion.counts.tolist() == [[0]]
    assert analysis.correct == 0
    assert analysis.by_entity_length.scores["1"] == ZERO
    assert analysis.by_seen is not None and analysis.by_seen.scores["unseen"] == ZERO


# ------------------------------------------------------------------ rendering


def _render(table: object) -> str:
    console = Console(width=200, record=True, color_system=None)
    console.print(table)
    return console.export_text()


def _body(text: str) -> list[list[str]]:
    return [
        [c.strip() for c in line.strip("│").split("│")] for line in text.splitlines() if "│" in line
    ]


def test_tables_show_the_numbers() -> None:
    analysis = analyze_errors(TOKENS, GOLD, PRED, train=TRAIN, top_k=2)
    tables = analysis_tables(analysis)
    assert len(tables) == 6
    confusion, fps, fns, by_length, by_sentence, by_seen = map(_render, tables)
    assert _body(confusion) == [
        ["LOC", "2 (1)", "0", "2", "0"],
        ["ORG", "0", "1", "1 (1)", "0"],
        ["PER", "0", "0", "1", "1"],
        ["spurious", "0", "0", "1", ""],
    ]
    assert _body(fps) == [["1", "Paris", "PER", "2"], ["2", "Acme", "PER", "1"]]
    assert _body(fns) == [["1", "Paris", "LOC", "2"], ["2", "Acme Corp", "ORG", "1"]]
    assert _body(by_length)[0] == ["1", "16.67", "25.00", "20.00", "4", "6", "1"]
    assert _body(by_sentence)[0] == ["1-10", "28.57", "28.57", "28.57", "7", "7", "2"]
    assert _body(by_seen) == [
        ["seen", "33.33", "25.00", "28.57", "4", "3", "1"],
        ["unseen", "40.00", "50.00", "44.44", "4", "5", "2"],
    ]


def test_analysis_dict_is_json() -> None:
    analysis = analyze_errors(TOKENS, GOLD, PRED, train=TRAIN, top_k=1)
    data = json.loads(json.dumps(analysis_to_dict(analysis)))
    assert (data["n_gold"], data["n_pred"], data["correct"]) == (8, 8, 3)
    assert data["confusion"]["counts"][0] == [2, 0, 2, 0]
    assert data["confusion"]["rows"][2] == {
        "gold": "LOC",
        "predicted": "PER",
        "kind": "type",
        "count": 2,
    }
    assert data["false_positives"] == [{"surface": "Paris", "label": "PER", "count": 2}]
    assert data["by_entity_length"]["buckets"]["5+"] == {
        "precision": 1.0,
        "recall": 1.0,
        "f1": 1.0,
        "support": 1,
        "predicted": 1,
        "correct": 1,
    }
    assert data["by_seen"]["buckets"]["seen"]["correct"] == 1
    assert analysis_to_dict(analyze_errors(TOKENS, GOLD, PRED))["by_seen"] is None


# ------------------------------------------------------------------ against the engine

TYPES = ("PER", "LOC", "ORG")


@pytest.mark.parametrize(("scheme", "mode"), [("IOB2", "lenient"), ("BIOES", "strict")])
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_counts_agree_with_the_metric_engine(scheme: str, mode: str, data: st.DataObject) -> None:
    gold, pred = data.draw(tag_batches(scheme))
    tokens = [[f"w{i % 3}" for i in range(len(tags))] for tags in gold]
    engine = metrics.scores(gold, pred, scheme, mode)
    analysis = analyze_errors(tokens, gold, pred, scheme, mode, train=[], top_k=10_000)
    cm = analysis.confusion
    n = len(cm.labels)
    assert cm.correct == engine.micro.correct == analysis.correct
    assert np.trace(cm.counts[:n, :n] - cm.boundary[:n, :n]) == engine.micro.correct
    for k, label in enumerate(cm.labels):
        score = engine.per_type.get(label, ZERO)
        assert int(cm.counts[k].sum()) == score.support
        assert int(cm.counts[:, k].sum()) == score.predicted
        assert int(cm.counts[k, k] - cm.boundary[k, k]) == score.correct
    assert cm.counts[n, n] == 0
    assert sum(e.count for e in analysis.false_positives) == (
        engine.micro.predicted - engine.micro.correct
    )
    assert sum(e.count for e in analysis.false_negatives) == (
        engine.micro.support - engine.micro.correct
    )
    assert analysis.by_seen is not None
    for buckets in (analysis.by_entity_length, analysis.by_sentence_length, analysis.by_seen):
        totals = [
            sum(getattr(s, f) for s in buckets.scores.values())
            for f in ("support", "predicted", "correct")
        ]
        assert totals == [engine.micro.support, engine.micro.predicted, engine.micro.correct]
    # Nothing was seen in an empty training set.
    assert analysis.by_seen.scores["unseen"].f1 == engine.micro.f1


@pytest.mark.parametrize("scheme", ["IOB2", "BIOES"])
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_span_analysis_of_flat_entities_equals_the_tag_analysis(
    scheme: str, data: st.DataObject
) -> None:
    gold, pred = data.draw(tag_batches(scheme))
    tokens = [[f"w{i % 3}" for i in range(len(tags))] for tags in gold]
    train = [Sentence(("w0", "w1"), spans=(Span(0, 1, "PER"),))]
    from_tags = analyze_errors(tokens, gold, pred, scheme, train=train)
    from_spans = analyze_span_errors(
        tokens, metrics.batch_spans(gold, scheme), metrics.batch_spans(pred, scheme), scheme,
        train=train,
    )  # fmt: skip
    assert analysis_to_dict(from_spans) == analysis_to_dict(from_tags)


def test_span_analysis_counts_nested_entities() -> None:
    """Gold ORG "Bank of China" holds LOC "China"; the predictions find the LOC (twice,
    counted once) but not the ORG: a missed ORG and a correct LOC (not a type error)."""
    tokens = [["The", "Bank", "of", "China", "rose"], ["Maria", "lives", "in", "Berlin"]]
    gold = [[Span(1, 4, "ORG"), Span(3, 4, "LOC")], [Span(0, 1, "PER"), Span(3, 4, "LOC")]]
    pred = [
        [Span(3, 4, "LOC"), Span(3, 4, "LOC")],
        [Span(0, 1, "PER"), Span(0, 2, "PER"), Span(3, 4, "LOC")],
    ]
    analysis = analyze_span_errors(tokens, gold, pred)
    assert (analysis.n_gold, analysis.n_pred, analysis.correct) == (4, 4, 3)  # LOC repeated once
    assert sorted(analysis.confusion.rows()) == sorted(
        [
            ("LOC", "LOC", "correct", 2),
            ("ORG", "", "missed", 1),
            ("PER", "PER", "correct", 1),
            ("", "PER", "spurious", 1),
        ]
    )
    assert analysis.false_negatives == (SurfaceCount("Bank of China", "ORG", 1),)
    assert analysis.false_positives == (SurfaceCount("Maria lives", "PER", 1),)
    lengths = {
        k: (s.support, s.predicted, s.correct) for k, s in analysis.by_entity_length.scores.items()
    }
    assert lengths["1"] == (3, 3, 3)
    assert lengths["3"] == (1, 0, 0) and lengths["2"] == (0, 1, 0)
    with pytest.raises(InputError, match="beyond"):
        analyze_span_errors([["a"]], [[Span(0, 2, "PER")]], [[]])


# ------------------------------------------------------------------ against nervaluate


def nervaluate_type_pairs(gold: list[Span], pred: list[Span]) -> dict[int, int]:
    """nervaluate's type scheme, written out: predictions in list order, each taking
    among the overlapping gold entities nobody took yet (overlap of at least 1% of
    the gold entity) the one of its type with the closest boundaries, else the first
    of another type. Prediction index -> gold index."""
    taken: dict[int, int] = {}
    for j, p in enumerate(pred):
        best: tuple[tuple[int, int], int] | None = None
        for i, g in enumerate(gold):
            overlap = min(g.end, p.end) - max(g.start, p.start)
            if i in taken.values() or overlap <= 0 or 100 * overlap < g.end - g.start:
                continue
            if g.label == p.label:
                want = (0, abs(g.start - p.start) + abs(g.end - p.end))
            else:
                want = (1, 0)
            if best is None or want < best[0]:
                best = (want, i)
        if best is not None:
            taken[j] = best[1]
    return taken


def reference_confusion(
    gold: list[list[Span]], pred: list[list[Span]], labels: tuple[str, ...]
) -> tuple[list[list[int]], list[list[int]]]:
    n = len(labels)
    counts = [[0] * (n + 1) for _ in range(n + 1)]
    boundary = [[0] * (n + 1) for _ in range(n + 1)]
    for g, p in zip(gold, pred, strict=True):
        taken = nervaluate_type_pairs(g, p)
        for j, b in enumerate(p):
            if j not in taken:
                counts[n][labels.index(b.label)] += 1
        for i, a in enumerate(g):
            partners = [j for j, k in taken.items() if k == i]
            if not partners:
                counts[labels.index(a.label)][n] += 1
                continue
            b = p[partners[0]]
            cell = (labels.index(a.label), labels.index(b.label))
            counts[cell[0]][cell[1]] += 1
            boundary[cell[0]][cell[1]] += (a.start, a.end) != (b.start, b.end)
    return counts, boundary


@pytest.mark.parametrize(("scheme", "mode"), [("IOB2", "lenient"), ("BIOES", "lenient")])
@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_confusion_pairs_as_nervaluate_type_scheme(
    scheme: str, mode: str, data: st.DataObject
) -> None:
    """Cell by cell the pairing of nervaluate's type scheme, entities read from the
    tags by seqeval (independently of nerkit); the cells sum to --partial's type counts."""
    gold, pred = data.draw(tag_batches(scheme, max_sentences=8, max_length=14, max_span=4))
    cm = confusion_matrix(gold, pred, scheme, mode)

    def spans(side: list[list[str]]) -> list[list[Span]]:
        return [[Span(a, b + 1, t) for t, a, b in get_entities(list(s))] for s in side]

    counts, boundary = reference_confusion(spans(gold), spans(pred), cm.labels)
    assert cm.counts.tolist() == counts
    assert cm.boundary.tolist() == boundary
    n = len(cm.labels)
    typed = partial_scores_from_tags(gold, pred, scheme, mode).overall["type"]
    off = cm.counts[:n, :n]
    assert (int(np.trace(off)), int(off.sum() - np.trace(off))) == (typed.correct, typed.incorrect)
    assert (int(cm.counts[:n, n].sum()), int(cm.counts[n, :n].sum())) == (
        typed.missed,
        typed.spurious,
    )


@st.composite
def nested_batches(
    draw: st.DrawFn,
) -> tuple[list[list[str]], list[list[Span]], list[list[Span]]]:
    """Tokens and gold / predicted spans that nest and overlap on both sides."""

    def span(n: int) -> Span:
        start = draw(st.integers(0, n - 1))
        return Span(start, draw(st.integers(start + 1, n)), draw(st.sampled_from(TYPES)))

    tokens, gold, pred = [], [], []
    for _ in range(draw(st.integers(1, 5))):
        n = draw(st.integers(1, 8))
        tokens.append([f"w{i}" for i in range(n)])
        gold.append([span(n) for _ in range(draw(st.integers(0, 4)))])
        pred.append([span(n) for _ in range(draw(st.integers(0, 4)))] + gold[-1][:1])
    return tokens, gold, pred


@settings(max_examples=200, deadline=None)
@given(nested_batches())
def test_nested_confusion_sums_to_the_type_counts_and_keeps_exact_matches(
    batch: tuple[list[list[str]], list[list[Span]], list[list[Span]]],
) -> None:
    tokens, gold, pred = batch
    analysis = analyze_span_errors(tokens, gold, pred)
    cm = analysis.confusion
    n = len(cm.labels)
    # a span repeated within a sentence counts once, in the analysis as in the scores
    unique_gold = [sorted(set(s), key=lambda x: (x.start, x.end, x.label)) for s in gold]
    unique_pred = [sorted(set(s), key=lambda x: (x.start, x.end, x.label)) for s in pred]
    typed = partial_scores(unique_gold, unique_pred).overall["type"]
    off = cm.counts[:n, :n]
    assert int(np.trace(off)) == typed.correct
    assert int(off.sum() - np.trace(off)) == typed.incorrect
    assert int(cm.counts[:n, n].sum()) == typed.missed
    assert int(cm.counts[n, :n].sum()) == typed.spurious
    # every exact match is paired with its gold entity: the correct count is the engine's
    assert cm.correct == analysis.correct == metrics.span_scores(gold, pred).micro.correct
