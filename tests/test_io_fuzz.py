"""Property tests: every reader survives any input (a ReadResult or a NerkitError,
nothing else), and ``read(write(x)) == x`` for every format."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from nerkit.errors import NerkitError
from nerkit.io import (
    FORMATS,
    ReadResult,
    read,
    read_conll,
    write_arrow,
    write_conll,
    write_csv,
    write_jsonl,
    write_parquet,
)
from nerkit.io.common import normalize_spans
from nerkit.schemes import check_tag, encode, spans_lenient
from nerkit.types import Sentence, Span

SETTINGS = settings(max_examples=200, deadline=None)
ALL_SCHEMES = ("IOB1", "IOB2", "IOE1", "IOE2", "BIOES", "BILOU", "IO")


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("io_fuzz")


# ------------------------------------------------------------------ fuzzing

FRAGMENTS = st.sampled_from(
    [
        "\t", " ", "\n", "\r\n", "\r", "\u3000", "\xa0", "\x00", "\ufeff", "\\",
        "O", "B-", "I-", "E-", "S-", "L-", "U-", "X-", "PER", "LOC", "-DOCSTART-", "#",
        "[", "]", "{", "}", '"', "'", ",", ":", "0", "1", "-1", "null", "true",
        "tokens", "tags", "spans", "id", "document_id",
    ]
)  # fmt: skip
TEXTS = st.one_of(st.text(), st.lists(FRAGMENTS, max_size=80).map("".join))

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 5) | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=12,
)
TAGS = st.sampled_from(["O", "B-PER", "I-PER", "E-PER", "S-LOC", "X-Y", "B-", "", "L-A"])
JSON_ROWS = st.dictionaries(
    st.sampled_from(["tokens", "tags", "spans", "id", "document_id"]),
    st.one_of(
        JSON_VALUES,
        st.lists(st.text(max_size=3), max_size=4),
        st.lists(TAGS, max_size=4),
        st.lists(
            st.tuples(st.integers(-1, 4), st.integers(-1, 4), st.text(max_size=2)), max_size=3
        ),
    ),
)


@st.composite
def jsonl_texts(draw: st.DrawFn) -> str:
    rows = draw(st.lists(JSON_ROWS, max_size=4))
    lines = [json.dumps(row) for row in rows]
    if lines and draw(st.booleans()):
        cut = draw(st.integers(0, len(lines[-1])))
        lines[-1] = lines[-1][:cut]
    return "\n".join(lines)


@st.composite
def csv_texts(draw: st.DrawFn) -> str:
    header = draw(st.lists(st.sampled_from(["tokens", "tags", "spans", "id", "x"]), max_size=4))
    rows = draw(st.lists(st.lists(JSON_ROWS.map(str) | JSON_VALUES.map(json.dumps)), max_size=4))

    def cell(value: str) -> str:
        return '"' + value.replace('"', '""') + '"'

    return "\n".join(",".join(map(cell, row)) for row in [header, *rows])


READ_OPTIONS: list[tuple[str, dict[str, Any]]] = [
    ("conll", {}),
    ("conll", {"tag_col": -2, "inner_tag_col": -1, "comment_prefix": "#"}),
    ("conll", {"token_col": 1, "tag_col": 0, "rename": {"PER": " x"}}),
    ("conll", {"tag_col": None, "token_transform": lambda t: t[:-1]}),
    ("csv", {}),
    ("jsonl", {"rename": {"PER": "person"}, "token_transform": str.strip}),
    ("parquet", {}),
    ("arrow", {"tag_col": "ner_tags", "tag_names": ["O", "B-PER"]}),
]


def read_or_refuse(path: Path, fmt: str, scheme: str, options: dict[str, Any]) -> None:
    try:
        result = read(path, format=fmt, scheme=scheme, **options)
    except NerkitError as exc:
        assert str(path) in str(exc) or "option" in str(exc)
        return
    assert isinstance(result, ReadResult)
    assert result.sentences
    # A lone \r ends a line in CoNLL files (and \r\n is one line end).
    n_lines = len(path.read_bytes().replace(b"\r\n", b"\n").replace(b"\r", b"\n").split(b"\n"))
    for sentence in result.sentences:
        assert all(sentence.tokens)
        for tag in sentence.tags:
            check_tag(tag, result.scheme)
    for report in result.invalid:
        assert report.line is not None and 1 <= report.line <= n_lines
    assert isinstance(result.summary(), str)


@pytest.mark.parametrize(("fmt", "options"), READ_OPTIONS)
@SETTINGS
@given(
    data=st.one_of(st.binary(), TEXTS.map(lambda t: t.encode("utf-8", "surrogatepass"))),
    scheme=st.sampled_from(["IOB2", "auto"]),
)
@example(data=b"a\tO\rb\tI-PER\r", scheme="IOB2")  # a report on a line a lone \r ends
def test_any_bytes_read_or_refused(
    folder: Path, fmt: str, options: dict[str, Any], scheme: str, data: bytes
) -> None:
    path = folder / f"any.{fmt}"
    path.write_bytes(data)
    read_or_refuse(path, fmt, scheme, options)


@pytest.mark.parametrize(("fmt", "texts"), [("jsonl", jsonl_texts()), ("csv", csv_texts())])
@SETTINGS
@given(data=st.data(), scheme=st.sampled_from(["IOB2", "auto"]))
def test_structured_rows_read_or_refused(
    folder: Path, fmt: str, texts: st.SearchStrategy[str], scheme: str, data: st.DataObject
) -> None:
    path = folder / f"rows.{fmt}"
    path.write_text(data.draw(texts), "utf-8")
    read_or_refuse(path, fmt, scheme, {})


# --------------------------------------------------------------- round trips

# No separators or line breaks: the CoNLL writer refuses those. Unicode spaces,
# U+2028 and U+0085 (line breaks to str.splitlines, not to the readers) stay in.
PLAIN = st.characters(exclude_categories=("Cs",), exclude_characters="\t \n\r")
TOKENS = st.one_of(
    st.text(PLAIN, min_size=1, max_size=5),
    st.sampled_from(["\u3000", "\xa0", "\u2028", "\x85", "東京", "a\u3000b", "#", "-DOC", "O"]),
).filter(lambda t: not t.startswith("-DOCSTART-"))
LABELS = st.text(
    st.characters(categories=("L", "N"), include_characters="-_"), min_size=1, max_size=4
)


@st.composite
def flat_spans(draw: st.DrawFn, length: int) -> list[Span]:
    spans, start = [], 0
    while start < length:
        if draw(st.booleans()):
            end = start + draw(st.integers(1, min(3, length - start)))
            spans.append(Span(start, end, draw(LABELS)))
            start = end
        else:
            start += 1
    return spans


@st.composite
def any_spans(draw: st.DrawFn, length: int) -> list[Span]:
    pairs = draw(
        st.lists(st.tuples(st.integers(0, length - 1), st.integers(1, length)), max_size=5)
    )
    return [Span(min(a, b - 1), max(a + 1, b), draw(LABELS)) for a, b in pairs]


@st.composite
def flat_sentences(
    draw: st.DrawFn, scheme: str, tokens: st.SearchStrategy[str] = TOKENS
) -> Sentence:
    length = draw(st.integers(1, 7))
    words = draw(st.lists(tokens, min_size=length, max_size=length))
    return Sentence(words, encode(draw(flat_spans(length)), length, scheme))


@st.composite
def nested_sentences(draw: st.DrawFn, scheme: str) -> Sentence:
    """Outer tags plus an inner layer, as a two-column CoNLL file holds them."""
    flat = draw(flat_sentences(scheme))
    outer = set(spans_lenient(flat.tags, scheme))
    inner = set(draw(flat_spans(len(flat)))) - outer
    spans = normalize_spans(outer | inner) if inner else ()
    return Sentence(flat.tokens, flat.tags, spans=spans)


@st.composite
def documents(draw: st.DrawFn, sentences: st.SearchStrategy[Sentence]) -> list[Sentence]:
    """Sentences with the ids and document ids a CoNLL reader gives them."""
    drawn = draw(st.lists(sentences, min_size=1, max_size=6))
    starts = draw(st.lists(st.booleans(), min_size=len(drawn), max_size=len(drawn)))
    result, documents = [], 0
    for index, (sentence, new_document) in enumerate(zip(drawn, starts, strict=True)):
        documents += new_document
        document = f"doc-{documents}" if documents else None
        result.append(
            Sentence(sentence.tokens, sentence.tags, f"s-{index + 1}", document, sentence.spans)
        )
    return result


def ids(draw: st.DrawFn, sentences: list[Sentence]) -> list[Sentence]:
    """The same sentences with arbitrary ids; the readers fill a missing id with s-N."""
    result = []
    for index, sentence in enumerate(sentences):
        sentence_id = draw(st.none() | st.text(min_size=1, max_size=4))
        document_id = draw(st.none() | st.text(min_size=1, max_size=4))
        result.append(
            Sentence(
                sentence.tokens,
                sentence.tags,
                sentence_id if sentence_id is not None else f"s-{index + 1}",
                document_id,
                sentence.spans,
            )
        )
    return result


def round_trip(
    folder: Path,
    name: str,
    sentences: list[Sentence],
    writer: Callable[..., None],
    scheme: str,
    **options: Any,
) -> ReadResult:
    path = folder / name
    writer(sentences, path, **options.pop("write", {}))
    result = read(path, scheme=scheme, **options)
    assert result.sentences == tuple(sentences)
    return result


@SETTINGS
@given(data=st.data(), scheme=st.sampled_from(ALL_SCHEMES), sep=st.sampled_from(["\t", " "]))
def test_conll_round_trip(folder: Path, scheme: str, sep: str, data: st.DataObject) -> None:
    sentences = data.draw(documents(flat_sentences(scheme)))
    result = round_trip(folder, "rt.conll", sentences, write_conll, scheme, write={"sep": sep})
    assert result.scheme == scheme
    assert result.invalid == ()
    # Whatever scheme "auto" settles on, the sentences read back the same.
    assert read_conll(folder / "rt.conll", scheme="auto").sentences == tuple(sentences)


@SETTINGS
@given(data=st.data(), scheme=st.sampled_from([s for s in ALL_SCHEMES if s != "IO"]))
def test_nested_conll_round_trip(folder: Path, scheme: str, data: st.DataObject) -> None:
    # IO is left out: adjacent inner entities of one type cannot be told apart in it.
    sentences = data.draw(documents(nested_sentences(scheme)))
    round_trip(
        folder,
        "nested.conll",
        sentences,
        write_conll,
        scheme,
        write={"nested": True, "scheme": scheme},
        tag_col=-2,
        inner_tag_col=-1,
    )


@SETTINGS
@given(data=st.data(), scheme=st.sampled_from(ALL_SCHEMES))
def test_jsonl_round_trip_with_nested_spans(folder: Path, scheme: str, data: st.DataObject) -> None:
    flat = data.draw(st.lists(flat_sentences(scheme, st.text(min_size=1)), min_size=1, max_size=5))
    sentences = [
        Sentence(s.tokens, s.tags, spans=normalize_spans(data.draw(any_spans(len(s)))))
        for s in flat
    ]
    round_trip(folder, "rt.jsonl", ids(data.draw, sentences), write_jsonl, scheme)


@SETTINGS
@given(data=st.data(), scheme=st.sampled_from(ALL_SCHEMES))
def test_csv_round_trip(folder: Path, scheme: str, data: st.DataObject) -> None:
    # Cells are JSON, so tokens may hold anything: commas, quotes, line breaks.
    sentences = data.draw(
        st.lists(flat_sentences(scheme, st.text(min_size=1)), min_size=1, max_size=5)
    )
    round_trip(folder, "rt.csv", ids(data.draw, sentences), write_csv, scheme)


@SETTINGS
@given(
    data=st.data(),
    scheme=st.sampled_from(ALL_SCHEMES),
    writer=st.sampled_from([write_parquet, write_arrow]),
)
def test_table_round_trip_with_nested_spans(
    folder: Path, scheme: str, writer: Callable[..., None], data: st.DataObject
) -> None:
    flat = data.draw(st.lists(flat_sentences(scheme, st.text(min_size=1)), min_size=1, max_size=5))
    sentences = [
        Sentence(s.tokens, s.tags, spans=normalize_spans(data.draw(any_spans(len(s)))))
        for s in flat
    ]
    name = "rt.parquet" if writer is write_parquet else "rt.arrow"
    round_trip(folder, name, ids(data.draw, sentences), writer, scheme)


def test_formats_covered() -> None:
    assert {fmt for fmt, _ in READ_OPTIONS} == set(FORMATS)
