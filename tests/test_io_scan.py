"""The numpy fast path for CoNLL tag columns: equal to the full reader, or it steps aside."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nerkit.io import read
from nerkit.io.scan import _valid_utf8, scan_columns

TOKENS = st.text(
    alphabet=st.characters(
        blacklist_categories=("Cs",),
        blacklist_characters="\t\n\r \x0b\x0c\x1c\x1d\x1e\x1f\x85\u2028\u2029",
    ),
    min_size=1,
    max_size=20,
).filter(lambda t: not t.isspace() and t != "-DOCSTART-")
TAGS = st.sampled_from(["O", "B-PER", "I-PER", "B-creative-work", "I-creative-work", "B-X" * 8])


@settings(max_examples=150, deadline=None)
@given(
    sentences=st.lists(
        st.lists(st.tuples(TOKENS, TAGS), min_size=1, max_size=8), min_size=1, max_size=12
    ),
    blank=st.sampled_from(["", "\t", "  ", "\t \t"]),
    trailing_newline=st.booleans(),
)
def test_scan_equals_the_full_reader(
    tmp_path_factory: pytest.TempPathFactory, sentences, blank: str, trailing_newline: bool
) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path_factory.mktemp("scan") / "f.conll"
    text = f"\n{blank}\n".join("\n".join(f"{tok}\t{tag}" for tok, tag in s) for s in sentences)
    path.write_text(text + ("\n" if trailing_newline else ""), encoding="utf-8")
    full = read(path)
    scanned = scan_columns(path, [-1])
    assert scanned is not None
    assert [scanned.vocab[i] for i in scanned.ids[-1]] == [
        t for s in full.sentences for t in s.tags
    ]
    assert scanned.lengths.tolist() == [len(s) for s in full.sentences]
    assert scanned.token_lengths.tolist() == [
        len(t.encode()) for s in full.sentences for t in s.tokens
    ]


@settings(max_examples=150, deadline=None)
@given(
    sentences=st.lists(
        st.lists(
            st.tuples(TOKENS, TAGS, st.sampled_from(["", " ", "\t", " \t"])), min_size=1, max_size=6
        ),
        min_size=1,
        max_size=6,
    ),
    sep=st.sampled_from(["\t", " "]),
    line_end=st.sampled_from(["\n", "\r\n", "\r"]),
)
def test_scan_steps_aside_or_agrees_on_line_ends_and_trailing_blanks(
    tmp_path_factory: pytest.TempPathFactory, sentences, sep: str, line_end: str
) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path_factory.mktemp("scan") / "f.conll"
    lines = [[f"{tok}{sep}{tag}{end}" for tok, tag, end in s] for s in sentences]
    text = (line_end * 2).join(line_end.join(s) for s in lines) + line_end
    path.write_text(text, encoding="utf-8", newline="")
    full = read(path)
    assert [s.tags for s in full.sentences] == [tuple(t for _, t, _ in s) for s in sentences]
    scanned = scan_columns(path, [-1])
    if scanned is not None:
        assert [scanned.vocab[i] for i in scanned.ids[-1]] == [
            t for s in full.sentences for t in s.tags
        ]
        assert scanned.lengths.tolist() == [len(s) for s in full.sentences]


def test_same_tokens_sees_a_one_byte_difference(tmp_path: Path) -> None:
    a, b = tmp_path / "a.conll", tmp_path / "b.conll"
    long = "https://example.org/" + "x" * 60
    a.write_text(f"{long}\tO\nb\tB-PER\n", encoding="utf-8")
    b.write_text(f"{long[:-1]}y\tO\nb\tI-PER\n", encoding="utf-8")
    sa, sb = scan_columns(a, [-1]), scan_columns(b, [-1])
    assert sa is not None and sb is not None and not sa.same_tokens(sb)
    assert sa.same_tokens(scan_columns(a, [-1]))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "text",
    [
        "\ufeffa\tO\n",  # byte-order mark
        "a\tO\r\n",  # carriage return
        "a\tO\rb\tO\n",  # a lone carriage return: a line end to the full reader
        "-DOCSTART-\tO\n\na\tO\n",
        "a\tO\n\x0c\nb\tO\n",  # form feed
        "a\tO\nb\n",  # a line short of its tag
        "a\tO\t\n",  # trailing separator
        "a\tO \n",  # trailing space after a tab-separated tag
        "a O\t\nb O\n",  # trailing tab in a space-separated file
        "  a\tO\n",  # leading blanks and content
        "",
    ],
)
def test_unusual_files_go_to_the_full_reader(tmp_path: Path, text: str) -> None:
    path = tmp_path / "f.conll"
    path.write_text(text, encoding="utf-8", newline="")
    assert scan_columns(path, [-1]) is None


def test_invalid_utf8_goes_to_the_full_reader(tmp_path: Path) -> None:
    path = tmp_path / "f.conll"
    path.write_bytes(b"a\tO\n\xff\tO\n")
    assert scan_columns(path, [-1]) is None


@settings(max_examples=500, deadline=None)
@given(
    data=st.one_of(
        st.binary(max_size=12),
        st.text(max_size=6).map(lambda t: t.encode("utf-8", "surrogatepass")),
    )
)
def test_utf8_check_agrees_with_python(data: bytes) -> None:
    try:
        data.decode("utf-8")
        expected = True
    except UnicodeDecodeError:
        expected = False
    assert _valid_utf8(np.frombuffer(data, dtype=np.uint8)) is expected


@pytest.mark.parametrize("text", ["a\tB-PER \nb\tO\n", "a B-PER\t\nb O\n", "a\tO\rb\tB-X\n"])
def test_files_the_scan_leaves_are_read_in_full(tmp_path: Path, text: str) -> None:
    # What the scan leaves must not be an error to the full reader either.
    path = tmp_path / "f.conll"
    path.write_text(text, encoding="utf-8", newline="")
    assert scan_columns(path, [-1]) is None
    assert [len(s) for s in read(path).sentences] == [2]
