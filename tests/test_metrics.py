"""The metric engine, cross-checked with seqeval 1.2.2 and with ``nerkit.schemes``.

``test_scores_equal_seqeval`` draws 80 batches of 25-40 sentence pairs (gold,
predicted) per scheme and checks each batch in both modes, so every scheme and mode
sees at least 2,000 pairs (4,000 tag sequences): random tags of the scheme (mostly
invalid), tags encoded from random spans (valid), and predictions made by copying,
corrupting or replacing the gold tags.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from seqeval.metrics import classification_report, f1_score
from seqeval.scheme import BILOU, IOB2, IOBES, IOE2, Token

from nerkit import metrics, schemes
from nerkit.errors import InputError, NerkitError, SchemeError
from nerkit.types import Span

ALL = list(schemes.SCHEMES)
TYPES = ("PER", "LOC", "creative-work")
TOLERANCE = 1e-12
BATCH = st.integers(25, 40)  # sentence pairs per example
EXAMPLES = 80  # x 25 pairs = 2,000 pairs at least per scheme, each checked in both modes
SEQEVAL_STRICT: dict[str, type[Token]] = {
    "IOB2": IOB2,
    "IOE2": IOE2,
    "BIOES": IOBES,
    "BILOU": BILOU,
}

Batch = tuple[list[list[str]], list[list[str]]]


# ------------------------------------------------------------------ strategies


def _encoded(draw: st.DrawFn, n: int, scheme: str, types: Sequence[str]) -> list[str]:
    spans, i = [], 0
    while i < n:
        if draw(st.booleans()):
            length = draw(st.integers(1, min(4, n - i)))
            spans.append(Span(i, i + length, draw(st.sampled_from(types))))
            i += length
        else:
            i += 1
    return schemes.encode(spans, n, scheme)


@st.composite
def batches(draw: st.DrawFn, scheme: str) -> Batch:
    """Gold and predicted tags of one batch, over 2 or 3 entity types."""
    types = TYPES[: draw(st.integers(2, 3))]
    tags = ["O"] + [f"{p}-{t}" for p in schemes.get_scheme(scheme).prefixes for t in types]
    random_tag = st.sampled_from(tags)
    gold, pred = [], []
    for _ in range(draw(BATCH)):
        n = draw(st.integers(0, 10))
        if draw(st.booleans()):
            g = draw(st.lists(random_tag, min_size=n, max_size=n))
        else:
            g = _encoded(draw, n, scheme, types)
        kind = draw(st.sampled_from(("copy", "corrupt", "corrupt", "random", "encoded")))
        if kind == "random":
            p = draw(st.lists(random_tag, min_size=n, max_size=n))
        elif kind == "encoded":
            p = _encoded(draw, n, scheme, types)
        else:
            p = list(g)
            if kind == "corrupt" and n:
                for _ in range(draw(st.integers(1, 3))):
                    p[draw(st.integers(0, n - 1))] = draw(random_tag)
        gold.append(g)
        pred.append(p)
    return gold, pred


SETTINGS = settings(
    max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


# --------------------------------------------------------------------- helpers


def _seqeval_report(gold: list[list[str]], pred: list[list[str]], **kwargs: Any) -> dict:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # undefined metrics; L-/U- "not a NE tag"
        report = classification_report(gold, pred, output_dict=True, **kwargs)
        report["f1_score"] = f1_score(gold, pred, **kwargs)
    return report


def _close(ours: float, theirs: float) -> bool:
    if math.isnan(theirs):
        return math.isnan(ours)
    return abs(ours - theirs) <= TOLERANCE


def assert_same_report(ours: metrics.Scores, theirs: dict) -> None:
    theirs = dict(theirs)
    assert _close(ours.f1, theirs.pop("f1_score"))
    mine = ours.report_dict()
    assert list(mine) == list(theirs)  # same types, same order, types only predicted too
    for label, row in theirs.items():
        for key in ("precision", "recall", "f1-score"):
            assert _close(mine[label][key], float(row[key])), (label, key, mine[label], row)
        assert mine[label]["support"] == int(row["support"]), (label, mine[label], row)


def assert_spans_as_schemes(batch: Batch, scheme: str, mode: str) -> None:
    for tags_batch in batch:
        got = metrics.batch_spans(tags_batch, scheme, mode)
        assert got == [schemes.spans(tags, scheme, mode) for tags in tags_batch]


def _bilou_as_iobes(batch: list[list[str]]) -> list[list[str]]:
    rename = {"L": "E", "U": "S"}
    return [[rename.get(t[0], t[0]) + t[1:] for t in tags] for tags in batch]


def _valid_pairs(gold: list[list[str]], pred: list[list[str]], scheme: str) -> Batch:
    kept = [
        (g, p)
        for g, p in zip(gold, pred, strict=True)
        if not schemes.validate(g, scheme) and not schemes.validate(p, scheme)
    ]
    return [g for g, _ in kept], [p for _, p in kept]


# ------------------------------------------------------------ property tests


@pytest.mark.parametrize("scheme", ALL)
@SETTINGS
@given(data=st.data())
def test_scores_equal_seqeval(scheme: str, data: st.DataObject) -> None:
    """One batch, both modes: spans as nerkit.schemes finds them, reports as seqeval's."""
    gold, pred = data.draw(batches(scheme))
    check_lenient(gold, pred, scheme)
    check_strict(gold, pred, scheme)


def check_lenient(gold: list[list[str]], pred: list[list[str]], scheme: str) -> None:
    assert_spans_as_schemes((gold, pred), scheme, "lenient")
    ours = metrics.scores(gold, pred, scheme, "lenient")
    if scheme == "BILOU":
        # seqeval's default extraction does not know L/U (documented in nerkit.schemes).
        gold, pred = _bilou_as_iobes(gold), _bilou_as_iobes(pred)
    assert_same_report(ours, _seqeval_report(gold, pred))


def check_strict(gold: list[list[str]], pred: list[list[str]], scheme: str) -> None:
    assert_spans_as_schemes((gold, pred), scheme, "strict")
    ours = metrics.scores(gold, pred, scheme, "strict")
    if scheme in SEQEVAL_STRICT:
        theirs = _seqeval_report(gold, pred, mode="strict", scheme=SEQEVAL_STRICT[scheme])
        assert_same_report(ours, theirs)
    elif scheme == "IO":
        # No IO class in seqeval; IO has no invalid sequence, so strict is lenient.
        assert_equal_scores(ours, metrics.scores(gold, pred, scheme, "lenient"))
        assert_same_report(ours, _seqeval_report(gold, pred))
    else:
        # IOB1 / IOE1: seqeval's classes miss some valid entities (nerkit.schemes);
        # on sequences valid in the scheme nerkit equals seqeval's strict IOBES on the
        # sequences converted to IOBES. Every sequence is checked against
        # schemes.spans_strict above.
        gold, pred = _valid_pairs(gold, pred, scheme)
        ours = metrics.scores(gold, pred, scheme, "strict")
        converted = [[schemes.convert(tags, scheme, "BIOES") for tags in b] for b in (gold, pred)]
        assert_same_report(ours, _seqeval_report(*converted, mode="strict", scheme=IOBES))


@pytest.mark.parametrize("scheme", ["IOB2", "BILOU", "IOE1"])
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_entity_arrays_and_matches(scheme: str, data: st.DataObject) -> None:
    gold, pred = data.draw(batches(scheme))
    for mode in metrics.MODES:
        g, p = metrics.extract_entity_pair(gold, pred, scheme, mode)
        assert g.labels == p.labels
        assert g.to_spans() == metrics.batch_spans(gold, scheme, mode)
        assert p.to_spans() == metrics.batch_spans(pred, scheme, mode)
        hits = metrics.exact_matches(g, p)
        gold_set = {
            (s, a, b, g.labels[t])
            for s, a, b, t in zip(g.sentence, g.start, g.end, g.label, strict=True)
        }
        expected = [
            (s, a, b, p.labels[t]) in gold_set
            for s, a, b, t in zip(p.sentence, p.start, p.end, p.label, strict=True)
        ]
        assert hits.tolist() == expected
        scores = metrics.scores(gold, pred, scheme, mode)
        assert scores.micro.correct == int(hits.sum())
        assert scores.micro.predicted == len(p)
        assert scores.micro.support == len(g)


@pytest.mark.parametrize("scheme", ["IOB2", "BILOU", "IO", "BIOES"])
@settings(max_examples=10, deadline=None)
@given(data=st.data())
def test_seqeval_scores_equals_scores(scheme: str, data: st.DataObject) -> None:
    gold, pred = data.draw(batches(scheme))
    for mode in metrics.MODES:
        assert_equal_scores(
            metrics.scores(gold, pred, scheme, mode),
            metrics.seqeval_scores(gold, pred, scheme, mode),
        )


def test_seqeval_scores_iob1_strict_is_seqevals_own_answer() -> None:
    # In I-Y B-Y B-X the B-Y chunk is valid IOB1 (B-X is not); seqeval's IOB1 class
    # drops B-Y too (a difference nerkit.schemes documents).
    gold = [["I-Y", "B-Y", "B-X"]]
    ours = metrics.scores(gold, gold, "IOB1", "strict")
    theirs = metrics.seqeval_scores(gold, gold, "IOB1", "strict")
    assert metrics.sentence_spans(gold[0], "IOB1", "strict") == [Span(0, 1, "Y"), Span(1, 2, "Y")]
    assert (ours.micro.support, ours.micro.f1) == (2, 1.0)
    assert (theirs.micro.support, theirs.micro.f1) == (1, 1.0)


def assert_equal_scores(a: metrics.Scores, b: metrics.Scores) -> None:
    rows_a, rows_b = a.rows(), b.rows()
    assert [r[:2] + r[3:] for r in rows_a] == [r[:2] + r[3:] for r in rows_b]
    assert all(_close(x[2], y[2]) for x, y in zip(rows_a, rows_b, strict=True))


# ---------------------------------------------------------------- examples

GOLD = [["B-PER", "I-PER", "O", "B-LOC"], ["O", "B-ORG", "I-ORG", "O", "O"]]
PRED = [["B-PER", "I-PER", "O", "B-PER"], ["O", "B-ORG", "O", "O", "B-MISC"]]


def test_example_counts_and_token_accuracy() -> None:
    s = metrics.scores(GOLD, PRED, "IOB2")
    assert list(s.per_type) == ["LOC", "MISC", "ORG", "PER"]
    assert s.per_type["MISC"] == metrics.TypeScore(0.0, 0.0, 0.0, support=0, predicted=1, correct=0)
    assert s.per_type["PER"] == metrics.TypeScore(
        0.5, 1.0, 2 / 3, support=1, predicted=2, correct=1
    )
    assert (s.micro.correct, s.micro.predicted, s.micro.support) == (1, 4, 3)
    assert s.micro.precision == 0.25 and s.micro.recall == pytest.approx(1 / 3)
    # 9 tokens, 6 equal; gold non-O tokens: B-PER I-PER B-LOC B-ORG I-ORG, 3 equal.
    assert (s.tokens, s.correct_tokens, s.accuracy) == (9, 6, 6 / 9)
    assert (s.tokens_without_o, s.correct_tokens_without_o) == (5, 3)
    assert s.accuracy_without_o == 3 / 5
    assert (s.scheme, s.mode) == ("IOB2", "lenient")


def test_rows() -> None:
    s = metrics.scores(GOLD, PRED, "IOB2")
    rows = s.rows()
    assert all(isinstance(v, float) and isinstance(n, int) for _, _, v, n in rows)
    labels = {label for _, label, _, _ in rows}
    assert labels == {"LOC", "MISC", "ORG", "PER", "micro", "macro", "weighted", "all"}
    by_key = {(m, label): (v, n) for m, label, v, n in rows}
    assert by_key["f1", "micro"] == (s.micro.f1, 3)
    assert by_key["precision", "PER"] == (0.5, 1)
    assert by_key["predicted", "MISC"] == (1.0, 0)
    assert by_key["accuracy", "all"] == (6 / 9, 9)
    assert by_key["accuracy_without_o", "all"] == (3 / 5, 5)
    assert ("predicted", "macro") not in by_key


def test_no_entities_gives_seqeval_zero_and_nan() -> None:
    s = metrics.scores([["O", "O"], []], [["O", "O"], []], "IOB2")
    assert s.per_type == {}
    assert (s.micro.f1, s.weighted.f1, s.accuracy) == (0.0, 0.0, 1.0)
    assert math.isnan(s.macro.f1)  # seqeval: the mean over no types
    assert s.accuracy_without_o == 0.0
    empty = metrics.scores([], [], "IOB2")
    assert (empty.tokens, empty.accuracy, empty.micro.support) == (0, 0.0, 0)


def test_strict_drops_broken_chunks() -> None:
    gold = [["B-PER", "I-PER", "O", "I-LOC", "I-LOC"]]
    assert metrics.sentence_spans(gold[0], "IOB2", "strict") == [Span(0, 2, "PER")]
    lenient = metrics.scores(gold, gold, "IOB2", "lenient")
    strict = metrics.scores(gold, gold, "IOB2", "strict")
    assert lenient.micro.support == 2 and strict.micro.support == 1
    assert strict.micro.f1 == 1.0


def test_bilou_lenient_reads_l_and_u() -> None:
    tags = ["U-X", "U-X", "B-X", "L-X", "B-X", "L-X"]
    expected = [Span(0, 1, "X"), Span(1, 2, "X"), Span(2, 4, "X"), Span(4, 6, "X")]
    assert metrics.sentence_spans(tags, "BILOU") == expected == schemes.spans(tags, "BILOU")


def test_more_than_256_distinct_tags() -> None:
    # Ids stop fitting a byte: the encoder switches to int32 part-way through.
    gold = [[f"B-T{i}", f"I-T{i}", "O"] for i in range(200)]
    pred = [[f"B-T{i}", "O", "O"] if i % 2 else list(g) for i, g in enumerate(gold)]
    s = metrics.scores(gold, pred, "IOB2", "strict")
    assert (s.micro.support, s.micro.predicted, s.micro.correct) == (200, 200, 100)
    assert len(s.per_type) == 200 and s.per_type["T3"].precision == 0.0
    assert_equal_scores(s, metrics.seqeval_scores(gold, pred, "IOB2", "strict"))


def test_scheme_auto_and_aliases() -> None:
    assert metrics.scores(GOLD, PRED, "auto").scheme == "IOB2"
    assert metrics.scores(GOLD, PRED, "bio") == metrics.scores(GOLD, PRED, "IOB2")


@pytest.mark.parametrize(
    ("gold", "pred", "message"),
    [
        (GOLD, [GOLD[0], GOLD[1][:3]], "at sentence 1: 5 gold tags, 3 predicted tags"),
        (
            GOLD,
            GOLD[:1],
            "gold has 2 sentences but predicted has 1 (sentence 1 is the first one missing)",
        ),
        (GOLD + [["O"]], GOLD[:1] + [["O"]], "at sentence 1: 5 gold tags, 1 predicted tags"),
    ],
)
def test_shape_mismatch_names_the_sentence(
    gold: list[list[str]], pred: list[list[str]], message: str
) -> None:
    for call in (metrics.scores, metrics.seqeval_scores, metrics.extract_entity_pair):
        with pytest.raises(InputError, match=re.escape(message)) as info:
            call(gold, pred, "IOB2", "lenient")
        assert isinstance(info.value, NerkitError)


def test_bad_input_is_refused() -> None:
    with pytest.raises(SchemeError, match="E-PER"):
        metrics.scores([["E-PER"]], [["O"]], "IOB2")
    with pytest.raises(SchemeError, match="unknown span mode"):
        metrics.scores(GOLD, GOLD, "IOB2", "exact")
    with pytest.raises(InputError, match="list of sentences"):
        metrics.scores(["B-PER", "O"], ["B-PER", "O"], "IOB2")


def test_results_are_frozen() -> None:
    s = metrics.scores(GOLD, PRED, "IOB2")
    with pytest.raises(AttributeError):
        s.accuracy = 1.0  # type: ignore[misc]
    with pytest.raises(TypeError):
        s.per_type["PER"] = s.micro  # type: ignore[index]
    entities = metrics.extract_entities(GOLD, "IOB2")
    with pytest.raises(ValueError):
        entities.start[0] = 3
    assert entities.labels == ("LOC", "ORG", "PER")
    assert np.array_equal(entities.sentence, [0, 0, 1])
    assert np.array_equal(entities.start, [0, 3, 1])
    assert np.array_equal(entities.end, [2, 4, 3])
    assert np.array_equal(entities.label, [2, 0, 1])
