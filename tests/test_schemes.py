"""Tag schemes: validation, span extraction (cross-checked with seqeval), conversion."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from seqeval.metrics.sequence_labeling import get_entities
from seqeval.scheme import BILOU, IOB1, IOB2, IOBES, IOE1, IOE2, Tokens

from nerkit import schemes
from nerkit.errors import SchemeError
from nerkit.types import Span

SEQEVAL_CLASS = {
    "IOB1": IOB1,
    "IOB2": IOB2,
    "IOE1": IOE1,
    "IOE2": IOE2,
    "BIOES": IOBES,
    "BILOU": BILOU,
}
ALL = list(schemes.SCHEMES)
TYPES = ("PER", "LOC", "creative-work")


@st.composite
def span_lists(draw: st.DrawFn, max_len: int = 12) -> tuple[int, list[Span]]:
    """A length and non-overlapping spans (touching ones included) within it."""
    n = draw(st.integers(0, max_len))
    spans, i = [], 0
    while i < n:
        if draw(st.booleans()):
            length = draw(st.integers(1, min(4, n - i)))
            spans.append(Span(i, i + length, draw(st.sampled_from(TYPES))))
            i += length
        else:
            i += 1
    return n, spans


def random_tags(scheme: str) -> st.SearchStrategy[list[str]]:
    prefixes = schemes.get_scheme(scheme).prefixes
    tags = ["O"] + [f"{p}-{t}" for p in prefixes for t in TYPES[:2]]
    return st.lists(st.sampled_from(tags), max_size=12)


def merged(spans: list[Span]) -> list[Span]:
    """What IO can express: adjacent entities of one type become one."""
    out: list[Span] = []
    for sp in spans:
        if out and out[-1].end == sp.start and out[-1].label == sp.label:
            out[-1] = Span(out[-1].start, sp.end, sp.label)
        else:
            out.append(sp)
    return out


def as_triples(spans: list[Span]) -> list[tuple[int, int, str]]:
    return sorted((s.start, s.end, s.label) for s in spans)


def seqeval_lenient(tags: list[str]) -> list[tuple[int, int, str]]:
    return sorted((start, end + 1, label) for label, start, end in get_entities(list(tags)))


def seqeval_strict(tags: list[str], scheme: str) -> list[tuple[int, int, str]]:
    ents = Tokens(list(tags), SEQEVAL_CLASS[scheme]).entities
    return sorted((e.start, e.end, e.tag) for e in ents)


# ------------------------------------------------------------------ valid data


@pytest.mark.parametrize("scheme", ALL)
@settings(max_examples=300, deadline=None)
@given(data=span_lists())
def test_encoded_spans_are_valid_and_read_back(scheme: str, data: tuple[int, list[Span]]) -> None:
    n, spans = data
    tags = schemes.encode(spans, n, scheme)
    assert len(tags) == n
    assert schemes.validate(tags, scheme) == []
    expected = merged(spans) if scheme == "IO" else spans
    assert schemes.spans_lenient(tags, scheme) == expected
    assert schemes.spans_strict(tags, scheme) == expected


@pytest.mark.parametrize("source", ALL)
@pytest.mark.parametrize("target", ALL)
@settings(max_examples=30, deadline=None)
@given(data=span_lists())
def test_conversion_round_trips(source: str, target: str, data: tuple[int, list[Span]]) -> None:
    n, spans = data
    if "IO" in (source, target):
        spans = merged(spans)  # IO cannot keep touching same-type entities apart
    tags = schemes.encode(spans, n, source)
    there = schemes.convert(tags, source, target)
    assert schemes.validate(there, target) == []
    assert schemes.spans_lenient(there, target) == spans
    assert schemes.convert(there, target, source) == tags


@pytest.mark.parametrize("scheme", ["IOB1", "IOE1"])
@settings(max_examples=400, deadline=None)
@given(data=span_lists())
def test_strict_on_valid_sequences_matches_seqeval_iobes(
    scheme: str, data: tuple[int, list[Span]]
) -> None:
    n, spans = data
    tags = schemes.encode(spans, n, scheme)
    iobes = schemes.convert(tags, scheme, "BIOES")
    assert as_triples(schemes.spans_strict(tags, scheme)) == seqeval_strict(iobes, "BIOES")


# -------------------------------------------------- any data, seqeval as reference


@pytest.mark.parametrize("scheme", ALL)
@settings(max_examples=500, deadline=None)
@given(data=st.data())
def test_lenient_matches_seqeval(scheme: str, data: st.DataObject) -> None:
    tags = data.draw(random_tags(scheme))
    reference = tags
    if scheme == "BILOU":
        # seqeval's default reader does not know L/U (documented in nerkit.schemes)
        reference = [{"L": "E", "U": "S"}.get(t[0], t[0]) + t[1:] for t in tags]
    assert as_triples(schemes.spans_lenient(tags, scheme)) == seqeval_lenient(reference)


@pytest.mark.parametrize("scheme", ["IOB2", "IOE2", "BIOES", "BILOU"])
@settings(max_examples=500, deadline=None)
@given(data=st.data())
def test_strict_matches_seqeval(scheme: str, data: st.DataObject) -> None:
    tags = data.draw(random_tags(scheme))
    assert as_triples(schemes.spans_strict(tags, scheme)) == seqeval_strict(tags, scheme)


@pytest.mark.parametrize("scheme", ALL)
@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_strict_is_lenient_without_broken_chunks(scheme: str, data: st.DataObject) -> None:
    tags = data.draw(random_tags(scheme))
    lenient = schemes.spans_lenient(tags, scheme)
    strict = schemes.spans_strict(tags, scheme)
    assert set(strict) <= set(lenient)
    if not schemes.validate(tags, scheme):
        assert strict == lenient
    positions = [p.position for p in schemes.validate(tags, scheme)]
    for dropped in set(lenient) - set(strict):
        # a chunk is only dropped because of an invalid transition touching it
        assert any(dropped.start <= pos <= dropped.end for pos in positions)


def test_io_strict_equals_lenient_and_nothing_is_invalid() -> None:
    tags = ["I-PER", "I-PER", "I-LOC", "O", "I-LOC"]
    assert schemes.validate(tags, "IO") == []
    expected = [Span(0, 2, "PER"), Span(2, 3, "LOC"), Span(4, 5, "LOC")]
    assert schemes.spans_strict(tags, "IO") == schemes.spans_lenient(tags, "IO") == expected


# ------------------------------------------ documented differences from seqeval


def test_bilou_lenient_follows_the_scheme_not_seqeval() -> None:
    tags = ["U-PER", "U-PER", "B-LOC", "L-LOC", "B-LOC", "L-LOC"]
    ours = schemes.spans_lenient(tags, "BILOU")
    assert ours == [Span(0, 1, "PER"), Span(1, 2, "PER"), Span(2, 4, "LOC"), Span(4, 6, "LOC")]
    assert seqeval_lenient(tags) != as_triples(ours)  # seqeval merges them


def test_ioe1_strict_keeps_single_token_entity_seqeval_drops() -> None:
    tags = ["E-X", "I-X", "O"]
    assert schemes.validate(tags, "IOE1") == []
    assert schemes.spans_strict(tags, "IOE1") == [Span(0, 1, "X"), Span(1, 2, "X")]
    assert seqeval_strict(tags, "IOE1") == [(1, 2, "X")]


def test_iob1_strict_differences() -> None:
    valid = ["I-Y", "B-Y", "B-X", "I-X"]  # B-X is broken; B-Y after I-Y is fine
    assert schemes.spans_strict(valid, "IOB1") == [Span(0, 1, "Y"), Span(1, 2, "Y")]
    assert (1, 2, "Y") not in seqeval_strict(valid, "IOB1")
    broken_chunk = ["O", "B-X", "I-X"]
    assert schemes.spans_strict(broken_chunk, "IOB1") == []
    assert seqeval_strict(broken_chunk, "IOB1") == [(2, 3, "X")]


# ----------------------------------------------------------------- validation


def test_validate_reports_every_invalid_transition_with_position() -> None:
    tags = ["I-PER", "O", "B-LOC", "I-PER", "I-PER"]
    problems = schemes.validate(tags, "IOB2")
    assert [(p.position, p.previous, p.current) for p in problems] == [
        (0, "O", "I-PER"),
        (3, "B-LOC", "I-PER"),
    ]
    problems = schemes.validate(["B-PER", "I-PER", "O", "S-LOC", "I-LOC"], "BIOES")
    assert [(p.position, p.previous, p.current) for p in problems] == [
        (2, "I-PER", "O"),
        (4, "S-LOC", "I-LOC"),
        (5, "I-LOC", "O"),
    ]
    assert str(problems[0]) == "I-PER -> O at token 2"


@pytest.mark.parametrize(
    ("tag", "scheme"),
    [
        ("X-LOC", "IOB2"),
        ("S-LOC", "IOB2"),
        ("B-", "IOB2"),
        ("BPER", "BIOES"),
        ("B-PER", "IO"),
        ("", "IOB2"),
    ],
)
def test_check_tag_rejects_tags_outside_the_scheme(tag: str, scheme: str) -> None:
    with pytest.raises(SchemeError, match="tag"):
        schemes.check_tag(tag, scheme)


def test_scheme_names_and_aliases() -> None:
    assert schemes.get_scheme("iobes").name == "BIOES"
    assert schemes.get_scheme("bio").name == "IOB2"
    with pytest.raises(SchemeError, match="known: IOB1"):
        schemes.get_scheme("BIOLU2")


@pytest.mark.parametrize(
    ("sequences", "expected"),
    [
        ([["B-PER", "I-PER", "O"]], "IOB2"),
        ([["I-PER", "B-PER", "O", "I-LOC"]], "IOB1"),
        ([["I-PER", "I-PER", "O"]], "IO"),
        ([["B-PER", "E-PER", "S-LOC"]], "BIOES"),
        ([["U-PER", "B-LOC", "L-LOC"]], "BILOU"),
        ([["I-PER", "E-PER", "O", "E-LOC"]], "IOE2"),
        ([["I-PER", "E-PER", "I-PER", "O"]], "IOE1"),
    ],
)
def test_infer_scheme(sequences: list[list[str]], expected: str) -> None:
    assert schemes.infer_scheme(sequences).name == expected


def test_encode_rejects_overlaps() -> None:
    with pytest.raises(SchemeError, match="overlapping"):
        schemes.encode([Span(0, 2, "A"), Span(1, 3, "B")], 3, "IOB2")
