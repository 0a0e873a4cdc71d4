"""LEAR's decoding and label descriptions, and span scoring: numpy only, no model."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from nerkit.errors import InputError
from nerkit.metrics import entity_spans, scores, span_scores
from nerkit.testing import parse_bracketed
from nerkit.types import Sentence, Span
from nerkit_lear.decoding import Thresholds, decode
from nerkit_lear.descriptions import FROM_NAMES, from_label_name, read_descriptions

LABELS = ("LOC", "ORG")


def matrix(n: int, marks: dict[tuple[int, str], float]) -> np.ndarray:
    out = np.full((n, len(LABELS)), 0.05)
    for (word, label), value in marks.items():
        out[word, LABELS.index(label)] = value
    return out


def spans_of(found: list) -> list[Span]:  # type: ignore[type-arg]
    return [s.span for s in found]


# ------------------------------------------------------------------ decoding


def test_nested_decoding_returns_the_nested_pair_the_scores_imply() -> None:
    # "Bank of China opened": ORG starts at Bank and ends at China; LOC is China alone
    start = matrix(4, {(0, "ORG"): 0.9, (2, "LOC"): 0.8})
    end = matrix(4, {(2, "ORG"): 0.7, (2, "LOC"): 0.9})
    assert spans_of(decode(start, end, LABELS, nested=True)) == [
        Span(0, 3, "ORG"),
        Span(2, 3, "LOC"),
    ]
    # flat keeps the better-scored of the two: LOC sqrt(.8*.9) > ORG sqrt(.9*.7)
    assert spans_of(decode(start, end, LABELS, nested=False)) == [Span(2, 3, "LOC")]


def test_nested_decoding_finds_an_entity_inside_one_of_the_same_label() -> None:
    # [[Bank of America] Stadium] as two ORGs: one start, two ends
    start = matrix(5, {(0, "ORG"): 0.9})
    end = matrix(5, {(2, "ORG"): 0.8, (3, "ORG"): 0.9})
    found = spans_of(decode(start, end, LABELS, nested=True))
    assert found == [Span(0, 3, "ORG"), Span(0, 4, "ORG")]
    # flat pairs the start with its nearest end only
    assert spans_of(decode(start, end, LABELS)) == [Span(0, 3, "ORG")]
    # two starts, two ends, the inner pair nearest to both: the outer pair (0, 3) is
    # neither start's nearest end nor end's nearest start; only span matching finds it
    start = matrix(5, {(0, "ORG"): 0.9, (2, "ORG"): 0.6})
    end = matrix(5, {(2, "ORG"): 0.8, (3, "ORG"): 0.9})
    assert spans_of(decode(start, end, LABELS, nested=True)) == [
        Span(0, 3, "ORG"),
        Span(2, 3, "ORG"),
        Span(2, 4, "ORG"),
    ]


def test_adjacent_entities_of_one_label_are_not_joined() -> None:
    start = matrix(4, {(0, "LOC"): 0.9, (2, "LOC"): 0.9})
    end = matrix(4, {(0, "LOC"): 0.9, (3, "LOC"): 0.9})
    for nested in (False, True):
        found = spans_of(decode(start, end, LABELS, nested=nested))
        assert found == [Span(0, 1, "LOC"), Span(2, 4, "LOC")]


def test_thresholds_and_the_maximum_span_length_are_applied() -> None:
    start = matrix(6, {(0, "ORG"): 0.55})
    end = matrix(6, {(5, "ORG"): 0.9})
    assert spans_of(decode(start, end, LABELS)) == [Span(0, 6, "ORG")]
    assert decode(start, end, LABELS, Thresholds(start=0.6)) == []
    assert decode(start, end, LABELS, Thresholds(max_span_length=5)) == []
    assert spans_of(decode(start, end, LABELS, Thresholds(max_span_length=6))) == [
        Span(0, 6, "ORG")
    ]


def test_match_scores_pick_the_pairs_in_nested_decoding() -> None:
    start = matrix(4, {(0, "ORG"): 0.9, (1, "ORG"): 0.9})
    end = matrix(4, {(1, "ORG"): 0.9, (3, "ORG"): 0.9})
    seen: list[tuple[int, int, int]] = []

    def match(candidates: list[tuple[int, int, int]]) -> np.ndarray:
        seen.extend(candidates)
        return np.array([0.9 if (i, j) in {(0, 3), (1, 1)} else 0.1 for i, j, _ in candidates])

    found = spans_of(decode(start, end, LABELS, nested=True, match=match))
    assert sorted(seen) == [(0, 1, 1), (0, 3, 1), (1, 1, 1), (1, 3, 1)]  # every pair asked
    assert found == [Span(0, 4, "ORG"), Span(1, 2, "ORG")]


@pytest.mark.parametrize("seed", range(40))
def test_flat_decoding_never_returns_overlapping_spans(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 30))
    labels = ("A", "B", "C")
    start, end = rng.random((n, 3)), rng.random((n, 3))
    limits = Thresholds(start=0.4, end=0.4, max_span_length=int(rng.integers(1, 8)))
    flat = decode(start, end, labels, limits)
    spans = spans_of(flat)
    for k, a in enumerate(spans):
        assert len(a) <= limits.max_span_length
        assert start[a.start, labels.index(a.label)] >= 0.4
        assert end[a.end - 1, labels.index(a.label)] >= 0.4
        for b in spans[k + 1 :]:
            assert not a.overlaps(b), f"{a} overlaps {b}"
    # every flat span is also a nested candidate, and nested finds at least as many
    nested = spans_of(decode(start, end, labels, limits, nested=True))
    assert set(spans) <= set(nested)
    assert all(0.0 <= s.score <= 1.0 for s in flat)


def test_decoding_checks_the_shapes() -> None:
    with pytest.raises(ValueError, match="must both be"):
        decode(np.zeros((3, 2)), np.zeros((3, 3)), LABELS)


# -------------------------------------------------------------- descriptions


def test_descriptions_from_label_names() -> None:
    assert from_label_name("creative-work") == "creative work"
    assert from_label_name("PER") == "person"
    assert from_label_name("PER.NAM") == "person name"
    assert from_label_name("GPE_NOM") == "geo-political entity nominal mention"
    assert from_label_name("DATE") == "date"
    assert from_label_name("product") == "product"


def test_a_description_file_is_read(tmp_path: Path) -> None:
    path = tmp_path / "labels.tsv"
    path.write_text(
        "# WNUT-17\n\ncreative-work\ttitles of books, songs, films\nperson\tnames of people\n",
        encoding="utf-8",
    )
    found = read_descriptions(path)
    assert found.source == str(path) != FROM_NAMES
    assert found.for_labels(["person", "creative-work"]) == [
        "names of people",
        "titles of books, songs, films",
    ]


@pytest.mark.parametrize(
    ("text", "line", "problem"),
    [
        ("PER\tperson\nLOC location\n", 2, "no tab"),
        ("PER\tperson\nLOC\t  \n", 2, "empty description"),
        ("PER\tperson\n\tlocation\n", 2, "label before the tab is empty"),
        ("PER\tperson\nLOC\tplace\nPER\tpeople\n", 3, "described twice (first on line 1)"),
    ],
)
def test_description_file_errors_name_the_file_and_line(
    tmp_path: Path, text: str, line: int, problem: str
) -> None:
    path = tmp_path / "labels.tsv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as error:
        read_descriptions(path)
    assert error.value.path == str(path) and error.value.line == line
    assert problem in str(error.value) and f"{path}, line {line}" in str(error.value)


def test_a_label_without_a_description_is_an_error_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "labels.tsv"
    path.write_text("PER\tperson\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"no description for label\(s\) LOC, ORG") as error:
        read_descriptions(path).for_labels(["LOC", "ORG", "PER"])
    assert str(error.value).startswith(str(path))


def test_missing_and_empty_description_files_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not found"):
        read_descriptions(tmp_path / "absent.tsv")
    (tmp_path / "empty.tsv").write_text("# nothing\n", encoding="utf-8")
    with pytest.raises(InputError, match="describes no labels"):
        read_descriptions(tmp_path / "empty.tsv")


# ------------------------------------------------------------- span scores


def test_span_scores_count_nested_spans() -> None:
    gold = [[Span(0, 3, "ORG"), Span(2, 3, "LOC")], [Span(1, 2, "PER")]]
    pred = [[Span(0, 3, "ORG"), Span(2, 3, "ORG"), Span(0, 3, "ORG")], []]
    result = span_scores(gold, pred)
    assert (result.micro.correct, result.micro.predicted, result.micro.support) == (1, 2, 3)
    assert result.precision == pytest.approx(0.5)
    assert result.recall == pytest.approx(1 / 3)
    assert result.per_type["ORG"].precision == pytest.approx(0.5)
    assert result.per_type["LOC"].recall == 0.0
    assert ("f1", "micro", result.f1, 3) in result.rows()
    with pytest.raises(InputError, match="2 gold sentences but 1"):
        span_scores(gold, pred[:1])


def test_span_scores_on_flat_spans_equal_the_tag_scores() -> None:
    gold = [
        parse_bracketed("[Angela Merkel](PER) visited [Paris](LOC) ."),
        parse_bracketed("[Google](ORG) and [Apple](ORG) in [New York](LOC)"),
    ]
    pred = [
        parse_bracketed("[Angela](PER) Merkel visited [Paris](LOC) ."),
        parse_bracketed("[Google](ORG) and [Apple](LOC) in [New York](LOC)"),
    ]
    by_spans = span_scores(
        [entity_spans(s, "IOB2") for s in gold], [entity_spans(s, "IOB2") for s in pred]
    )
    by_tags = scores([s.tags for s in gold], [s.tags for s in pred], "IOB2")
    assert by_spans.per_type == by_tags.per_type
    assert (by_spans.micro, by_spans.macro, by_spans.weighted) == (
        by_tags.micro,
        by_tags.macro,
        by_tags.weighted,
    )


def test_entity_spans_prefer_the_sentences_spans() -> None:
    nested = Sentence(
        ("Bank", "of", "China"),
        ("B-ORG", "I-ORG", "I-ORG"),
        spans=(Span(0, 3, "ORG"), Span(2, 3, "LOC")),
    )
    assert entity_spans(nested, "IOB2") == (Span(0, 3, "ORG"), Span(2, 3, "LOC"))
    assert entity_spans(Sentence(("Bank",), ("B-ORG",)), "IOB2") == (Span(0, 1, "ORG"),)
    assert entity_spans(Sentence(("Bank",)), "IOB2") == ()


# ------------------------------------------------------------------- plugin


def test_registered_through_the_plugin_entry_point() -> None:
    from nerkit.plugin import PluginHost

    registry = PluginHost().registry("tagger")
    assert registry.resolve("lear") == "lear.tagger.v1"
    assert registry.get("lear").__name__ == "LearTagger"


def test_the_plugin_module_imports_neither_torch_nor_transformers() -> None:
    code = (
        "import sys, nerkit_lear, nerkit_lear.decoding, nerkit_lear.descriptions; "
        "print(sorted({'torch', 'transformers'} & set(sys.modules)))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.strip() == "[]", done.stderr
