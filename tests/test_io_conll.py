"""CoNLL column files: reading, writing, errors and the real corpora."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from io_utils import read_error

from nerkit.errors import ConfigError, InputError, NerkitError
from nerkit.io import read, read_conll, write, write_conll
from nerkit.schemes import InvalidTransition
from nerkit.types import Sentence, Span

DATA_DIR = Path(os.environ.get("NERKIT_DATA_DIR", Path(__file__).parents[2] / "shared" / "data"))


def conll(tmp_path: Path, text: str | bytes, name: str = "data.conll") -> Path:
    path = tmp_path / name
    if isinstance(text, str):
        text = text.encode("utf-8")
    path.write_bytes(text)
    return path


def data_file(relative: str) -> Path:
    path = DATA_DIR / relative
    if not path.is_file():
        pytest.skip(f"{path} not found (set NERKIT_DATA_DIR to the shared corpus folder)")
    return path


# ------------------------------------------------------------------ reading


def test_reads_tab_separated_sentences_with_ids(tmp_path: Path) -> None:
    path = conll(tmp_path, "John\tB-PER\nruns\tO\n\nParis\tB-LOC\n")
    result = read_conll(path)
    assert result.sentences == (
        Sentence(("John", "runs"), ("B-PER", "O"), "s-1"),
        Sentence(("Paris",), ("B-LOC",), "s-2"),
    )
    assert result.scheme == "IOB2"
    assert result.invalid == ()
    assert result.path == str(path)


def test_space_separated_keeps_unicode_space_tokens(tmp_path: Path) -> None:
    # U+3000 and U+00A0 are whitespace to str.split() but tokens in Chinese/Japanese corpora.
    path = conll(tmp_path, "\u3000 B-LOC\n\u00a0 I-LOC\nx\u3000y O\n")
    (sentence,) = read_conll(path).sentences
    assert sentence.tokens == ("\u3000", "\u00a0", "x\u3000y")
    assert sentence.tags == ("B-LOC", "I-LOC", "O")


def test_tab_separated_tokens_may_hold_spaces(tmp_path: Path) -> None:
    path = conll(tmp_path, "New York\tB-LOC\n \tO\n")
    assert read_conll(path).sentences[0].tokens == ("New York", " ")


def test_separator_is_chosen_once_per_file(tmp_path: Path) -> None:
    # The first token line has a tab, so "a b c" later is one token, not three columns.
    path = conll(tmp_path, "x\tO\na b\tB-PER\n")
    assert read_conll(path).sentences[0].tokens == ("x", "a b")


def test_every_whitespace_only_line_is_a_break(tmp_path: Path) -> None:
    # WNUT-17's train file separates sentences by lines holding a single tab.
    text = "a\tO\n\t\nb\tO\n  \n\u3000\n\t\n\n\nc\tO\n \t \n"
    result = read_conll(conll(tmp_path, text))
    assert [s.tokens for s in result.sentences] == [("a",), ("b",), ("c",)]
    assert [s.sentence_id for s in result.sentences] == ["s-1", "s-2", "s-3"]


def test_crlf_line_endings(tmp_path: Path) -> None:
    path = conll(tmp_path, "a\tB-PER\r\nb\tI-PER\r\n\r\nc\tO\r\n")
    result = read_conll(path)
    assert [s.tags for s in result.sentences] == [("B-PER", "I-PER"), ("O",)]


def test_lone_carriage_returns_end_lines(tmp_path: Path) -> None:
    # Old Mac line ends: kept inside a line, the \r glued the file into one line
    # whose first and last fields were read as one token and its tag.
    path = conll(tmp_path, "John\tB-PER\rSmith\tI-PER\rruns\tO\r\rParis\tB-LOC\r")
    assert [(s.tokens, s.tags) for s in read_conll(path).sentences] == [
        (("John", "Smith", "runs"), ("B-PER", "I-PER", "O")),
        (("Paris",), ("B-LOC",)),
    ]
    stray = conll(tmp_path, "x O\ny B-PER\rz O\n", "stray.conll")
    (sentence,) = read_conll(stray).sentences
    assert (sentence.tokens, sentence.tags) == (("x", "y", "z"), ("O", "B-PER", "O"))


def test_lone_carriage_returns_count_as_lines_in_messages(tmp_path: Path) -> None:
    # Lines as an editor (or Python's open()) numbers them: \r, \r\n and \n each end one.
    path = conll(tmp_path, "a\tO\rb\tO\r\nc\tO\n\rd\tX-LOC\r")
    assert "line 5" in error(path) and "X-LOC" in error(path)
    invalid = conll(tmp_path, "a\tO\r\rb\tO\rc\tI-PER\r", "invalid.conll")
    (report,) = read_conll(invalid).invalid
    assert report.line == 4
    utf8 = conll(tmp_path, b"a\tO\r\rb\xff\tO\r", "utf8.conll")
    message = error(utf8)
    assert "line 3" in message and "column 2" in message


def test_docstart_lines_start_documents(tmp_path: Path) -> None:
    # Dutch CoNLL-2002 style: no blank line after -DOCSTART-, which still ends a sentence.
    text = (
        "before O\n\n"
        "-DOCSTART- -DOCSTART- O\nDe O\nzon O\n\nis O\n"
        "-DOCSTART- -DOCSTART- O\n\nheet O\n"
    )
    result = read_conll(conll(tmp_path, text))
    assert [(s.tokens, s.document_id) for s in result.sentences] == [
        (("before",), None),
        (("De", "zon"), "doc-1"),
        (("is",), "doc-1"),
        (("heet",), "doc-2"),
    ]


def test_comment_lines_are_skipped_only_with_a_prefix(tmp_path: Path) -> None:
    path = conll(tmp_path, "# text = a b\na\tO\n#\tO\n")
    assert read_conll(path, comment_prefix="# ").sentences[0].tokens == ("a", "#")
    assert read_conll(path, comment_prefix="#").sentences[0].tokens == ("a",)
    with pytest.raises(InputError, match="line 1"):
        read_conll(path)  # "# text = a b" is then a token line with a bad tag


def test_columns_by_index_and_lines_of_different_lengths(tmp_path: Path) -> None:
    path = conll(tmp_path, "Melbourne NP B-LOC\n( O\nAustralia NP extra B-LOC\n")
    (sentence,) = read_conll(path).sentences
    assert sentence.tokens == ("Melbourne", "(", "Australia")
    assert sentence.tags == ("B-LOC", "O", "B-LOC")
    tagged_first = conll(tmp_path, "B-PER\tJohn\nO\truns\n", "first.conll")
    (sentence,) = read_conll(tagged_first, token_col=1, tag_col=0).sentences
    assert sentence.tokens == ("John", "runs")


def test_trailing_separator_is_ignored(tmp_path: Path) -> None:
    path = conll(tmp_path, "a B-PER \nb I-PER  \n")
    assert read_conll(path).sentences[0].tags == ("B-PER", "I-PER")


@pytest.mark.parametrize(
    "text",
    [
        "a\tB-PER \nb\tI-PER\t \n",  # a space after a tab-separated tag
        "a B-PER\t\nb I-PER\n",  # a space-separated file whose first line ends in a tab
        "a B-PER\nb I-PER \t\n",
    ],
)
def test_trailing_tabs_and_spaces_of_either_kind_are_ignored(tmp_path: Path, text: str) -> None:
    (sentence,) = read_conll(conll(tmp_path, text)).sentences
    assert (sentence.tokens, sentence.tags) == (("a", "b"), ("B-PER", "I-PER"))


def test_only_tabs_and_spaces_are_stripped_from_line_ends(tmp_path: Path) -> None:
    # A token in the last column may be, or end with, a Unicode space.
    path = conll(tmp_path, "B-LOC\t\u3000\nI-LOC\tx\u00a0 \nO\t\u3000\t\n")
    (sentence,) = read_conll(path, token_col=1, tag_col=0).sentences
    assert sentence.tokens == ("\u3000", "x\u00a0", "\u3000")


def test_rename_maps_entity_types(tmp_path: Path) -> None:
    path = conll(tmp_path, "John\tB-PER\nSmith\tI-PER\nin\tO\nRome\tB-LOC\n")
    result = read_conll(path, rename={"PER": "person"})
    assert result.sentences[0].tags == ("B-person", "I-person", "O", "B-LOC")


def test_token_transform_and_empty_result(tmp_path: Path) -> None:
    # Weibo NER: each character carries a trailing segmentation digit.
    path = conll(tmp_path, "我0\tO\n们1\tO\n\n0\tO\n")
    with pytest.raises(InputError) as info:
        read_conll(path, token_transform=lambda t: t[:-1])
    assert str(path) in str(info.value)
    assert "line 4" in str(info.value)
    assert "empty" in str(info.value)
    good = conll(tmp_path, "我0\tO\n们1\tO\n", "good.conll")
    assert read_conll(good, token_transform=lambda t: t[:-1]).sentences[0].tokens == ("我", "们")


def test_tokens_only(tmp_path: Path) -> None:
    path = conll(tmp_path, "a\nb\n\nc\n")
    result = read_conll(path, tag_col=None)
    assert [s.tokens for s in result.sentences] == [("a", "b"), ("c",)]
    assert all(s.tags == () for s in result.sentences)


def test_tags_false_reads_tokens_only_as_the_other_readers_do(tmp_path: Path) -> None:
    path = conll(tmp_path, "a\tNN\tB-PER\nb\tNN\tnot-a-tag\n\nc\tNN\tO\n")
    for result in (read_conll(path, tags=False), read(path, tags=False)):
        assert [s.tokens for s in result.sentences] == [("a", "b"), ("c",)]
        assert all(s.tags == () for s in result.sentences)
    with pytest.raises(ConfigError, match="leave out inner_tag_col"):
        read_conll(path, tags=False, inner_tag_col=1)


def test_two_tag_columns_read_as_nested_spans(tmp_path: Path) -> None:
    text = "Bank\tB-ORG\tO\nof\tI-ORG\tO\nChina\tI-ORG\tB-LOC\n\nhello\tO\tO\n"
    result = read_conll(conll(tmp_path, text), tag_col=1, inner_tag_col=2)
    nested, flat = result.sentences
    assert nested.tags == ("B-ORG", "I-ORG", "I-ORG")
    assert nested.spans == (Span(0, 3, "ORG"), Span(2, 3, "LOC"))
    assert flat.spans == ()  # no inner entity: the tags say it all


def test_auto_scheme_is_inferred(tmp_path: Path) -> None:
    path = conll(tmp_path, "a\tS-PER\nb\tB-LOC\nc\tE-LOC\n")
    assert read_conll(path, scheme="auto").scheme == "BIOES"
    all_o = conll(tmp_path, "a\tO\n", "o.conll")
    assert read_conll(all_o, scheme="auto").scheme == "IOB2"


def test_invalid_transitions_are_reported_with_lines(tmp_path: Path) -> None:
    text = "a\tO\nb\tI-PER\n\nc\tB-LOC\nd\tI-ORG\n\ne\tO\n"
    result = read_conll(conll(tmp_path, text))
    assert len(result.sentences) == 3  # reported, not rejected
    assert [(r.sentence_index, r.sentence_id, r.line) for r in result.invalid] == [
        (0, "s-1", 2),
        (1, "s-2", 5),
    ]
    assert result.invalid[0].transition == InvalidTransition(1, "O", "I-PER")
    assert result.summary() == "2 invalid transitions in 2 sentences (first: line 2, I-PER after O)"


def test_end_of_sentence_transition_points_at_the_sentence_end(tmp_path: Path) -> None:
    text = "a\tB-PER\n\nb\tO\nc\tB-LOC\n"
    result = read_conll(conll(tmp_path, text), scheme="BIOES")
    lines = [(r.line, r.transition.position) for r in result.invalid]
    # B- must be followed by I-/E-: the blank line 2 ends the first sentence too early;
    # the second ends at the end of the file, after "c" on line 4.
    assert lines == [(2, 1), (4, 2)]
    assert result.summary() == (
        "2 invalid transitions in 2 sentences (first: line 2, sentence end after B-PER)"
    )


def test_report_lines_skip_comments(tmp_path: Path) -> None:
    text = "# one\na\tO\n# two\nb\tI-PER\n"
    (report,) = read_conll(conll(tmp_path, text), comment_prefix="#").invalid
    assert report.line == 4


def test_summary_without_problems(tmp_path: Path) -> None:
    assert read_conll(conll(tmp_path, "a\tO\n")).summary() == "no invalid transitions"


# ------------------------------------------------------------------- errors


def error(path: Path, **options: object) -> str:
    return read_error(read_conll, path, **options)


def test_missing_tag_column_names_file_line_and_text(tmp_path: Path) -> None:
    path = conll(tmp_path, "a\tO\n\nlonely\n")
    message = error(path)
    assert "line 3" in message
    assert "'lonely'" in message
    assert "found 1 (a token without its tag?)" in message
    # a file of one column has no separator: none is named
    assert "separated" not in message
    two = error(conll(tmp_path, "a\tb\tO\n\nx\ty\n", "two.conll"), tag_col=2)
    assert "expected at least 3 tab-separated columns" in two and "found 2:" in two


def test_tag_not_of_scheme_form(tmp_path: Path) -> None:
    message = error(conll(tmp_path, "a\tO\nb\tX-LOC\n"))
    assert "line 2" in message and "X-LOC" in message
    message = error(conll(tmp_path, "a\tS-LOC\n", "s.conll"))
    assert "line 1" in message and "S-LOC" in message and "IOB2" in message
    message = error(conll(tmp_path, "a\tB-\n", "b.conll"), scheme="auto")
    assert "line 1" in message and "'B-'" in message


def test_rename_to_a_bad_type_is_an_error(tmp_path: Path) -> None:
    message = error(conll(tmp_path, "a\tB-PER\n"), rename={"PER": " person"})
    assert "line 1" in message and "renaming" in message


def test_invalid_utf8_names_the_line_of_the_first_bad_byte(tmp_path: Path) -> None:
    path = conll(tmp_path, b"a\tO\n\nb\xff\xfe\tO\nc\xff\tO\n")
    message = error(path)
    assert "line 3" in message and "UTF-8" in message and "0xff" in message


def test_empty_and_blank_files(tmp_path: Path) -> None:
    assert "no sentences" in error(conll(tmp_path, ""))
    assert "no sentences" in error(conll(tmp_path, "\n\t\n\n", "blank.conll"))
    assert "no sentences" in error(conll(tmp_path, "-DOCSTART- O\n\n", "doc.conll"))


def test_missing_file(tmp_path: Path) -> None:
    assert "cannot read" in error(tmp_path / "nope.conll")


def test_empty_token(tmp_path: Path) -> None:
    message = error(conll(tmp_path, "a O\n  O\n"))
    assert "line 2" in message and "empty token" in message


def test_bad_column_options(tmp_path: Path) -> None:
    path = conll(tmp_path, "a\tO\n")
    with pytest.raises(ConfigError):
        read_conll(path, tag_col=-1, inner_tag_col=-1)
    with pytest.raises(ConfigError):
        read_conll(path, tag_col=None, inner_tag_col=1)
    with pytest.raises(ConfigError):
        read_conll(path, comment_prefix="")


# ------------------------------------------------------------------ writing


def test_write_blank_lines_and_docstart(tmp_path: Path) -> None:
    sentences = [
        Sentence(("a",), ("O",), "s-1"),
        Sentence(("b", "c"), ("B-PER", "I-PER"), "s-2", "doc-1"),
        Sentence(("d",), ("O",), "s-3", "doc-1"),
        Sentence(("e",), ("O",), "s-4", "doc-2"),
    ]
    path = tmp_path / "out.conll"
    write_conll(sentences, path)
    assert path.read_text("utf-8") == (
        "a\tO\n\n-DOCSTART-\tO\n\nb\tB-PER\nc\tI-PER\n\nd\tO\n\n-DOCSTART-\tO\n\ne\tO\n\n"
    )
    assert read_conll(path).sentences == tuple(sentences)
    write_conll(sentences, path, sep=" ", docstart=False)
    assert path.read_text("utf-8").startswith("a O\n\nb B-PER\n")
    assert {s.document_id for s in read_conll(path).sentences} == {None}


def test_write_refuses_a_sentence_without_document_after_a_document(tmp_path: Path) -> None:
    """Read back, it would belong to the document before it: [none, d1, none] came back
    as [none, doc-1, doc-1]."""
    from nerkit.io.conll_write import check_conll_tokens

    sentences = [
        Sentence(("x",), ("O",), "a"),
        Sentence(("y",), ("O",), "b", "d1"),
        Sentence(("z",), ("O",), "c"),
    ]
    path = tmp_path / "out.conll"
    with pytest.raises(
        NerkitError, match="sentence 'c' has no document, but follows document 'd1'"
    ):
        write_conll(sentences, path)
    assert not path.exists()
    with pytest.raises(NerkitError, match="sentence 'c' has no document"):
        check_conll_tokens(sentences)
    write_conll(sentences, path, docstart=False)  # no documents asked for
    assert [s.document_id for s in read_conll(path).sentences] == [None, None, None]


def test_write_nested_two_columns_round_trips(tmp_path: Path) -> None:
    sentence = Sentence(
        ("Bank", "of", "China"),
        ("B-ORG", "I-ORG", "I-ORG"),
        "s-1",
        spans=(Span(0, 3, "ORG"), Span(2, 3, "LOC")),
    )
    flat = Sentence(("hi",), ("O",), "s-2")
    path = tmp_path / "nested.conll"
    write_conll([sentence, flat], path, nested=True)
    assert path.read_text("utf-8").splitlines()[:3] == [
        "Bank\tB-ORG\tO",
        "of\tI-ORG\tO",
        "China\tI-ORG\tB-LOC",
    ]
    assert read_conll(path, tag_col=-2, inner_tag_col=-1).sentences == (sentence, flat)


def test_write_refuses_spans_it_cannot_express(tmp_path: Path) -> None:
    nested = Sentence(("a", "b"), ("B-X", "I-X"), "n-1", spans=(Span(0, 2, "X"), Span(0, 1, "Y")))
    with pytest.raises(NerkitError, match="'n-1'.*nested=True"):
        write_conll([nested], tmp_path / "a.conll")
    three = Sentence(
        ("a", "b", "c"),
        ("B-X", "I-X", "I-X"),
        "n-2",
        spans=(Span(0, 3, "X"), Span(0, 2, "Y"), Span(1, 3, "Z")),
    )
    with pytest.raises(NerkitError, match="'n-2'.*more than two layers"):
        write_conll([three], tmp_path / "b.conll", nested=True)


@pytest.mark.parametrize(
    ("token", "options", "reason"),
    [
        ("", {}, "empty token"),
        ("a\tb", {}, "separator"),
        ("a b", {"sep": " "}, "separator"),
        ("a\tb", {"sep": " "}, "separator"),
        ("line\nbreak", {}, "line break"),
        ("carriage\r", {}, "line break"),
        ("-DOCSTART-", {}, "-DOCSTART-"),
        ("-DOCSTART- x", {}, "-DOCSTART-"),
        ("#hashtag", {"comment_prefix": "#"}, "comment prefix"),
    ],
)
def test_write_refuses_tokens_that_would_not_read_back(
    tmp_path: Path, token: str, options: dict[str, str], reason: str
) -> None:
    sentences = [Sentence(("ok",), ("O",), "s-1"), Sentence(("x", token), ("O", "O"), "s-2")]
    path = tmp_path / "out.conll"
    path.write_text("old content", "utf-8")
    with pytest.raises(NerkitError) as info:
        write_conll(sentences, path, **options)  # type: ignore[arg-type]
    message = str(info.value)
    assert "'s-2', token 1" in message and reason in message
    assert path.read_text("utf-8") == "old content"  # nothing half written
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind


def test_whitespace_tokens_are_fine_next_to_a_tag(tmp_path: Path) -> None:
    sentences = [Sentence(("\u3000", "\u00a0", " "), ("O", "B-X", "I-X"), "s-1")]
    path = tmp_path / "ws.conll"
    write_conll(sentences, path)
    assert path.read_text("utf-8").startswith("\u3000\tO\n")
    assert read_conll(path).sentences == tuple(sentences)


def test_whitespace_token_without_tags_is_refused(tmp_path: Path) -> None:
    with pytest.raises(NerkitError, match="'s-1', token 0: whitespace-only"):
        write_conll([Sentence(("\u3000",), (), "s-1")], tmp_path / "raw.conll")
    path = tmp_path / "raw2.conll"
    write_conll([Sentence(("a", "b"), (), "s-1")], path)
    assert read_conll(path, tag_col=None).sentences == (Sentence(("a", "b"), (), "s-1"),)


def test_write_refuses_bad_tags_and_mixed_tagging(tmp_path: Path) -> None:
    with pytest.raises(NerkitError, match="'s-1', token 1: tag 'B-NEW YORK'"):
        write_conll([Sentence(("a", "b"), ("O", "B-NEW YORK"), "s-1")], tmp_path / "a", sep=" ")
    mixed = [Sentence(("a",), ("O",), "s-1"), Sentence(("b",), (), "s-2")]
    with pytest.raises(NerkitError, match="'s-2'.*some sentences have tags"):
        write_conll(mixed, tmp_path / "b")
    with pytest.raises(ConfigError):
        write_conll(mixed[:1], tmp_path / "c", sep=",")


def test_first_token_with_byte_order_mark_survives(tmp_path: Path) -> None:
    # A leading BOM is dropped on reading, so a token that starts with one must be kept.
    sentences = (Sentence(("\ufeffa",), ("O",), "s-1"),)
    path = tmp_path / "bom.conll"
    write_conll(sentences, path)
    assert read_conll(path).sentences == sentences


def test_write_error_when_folder_is_missing(tmp_path: Path) -> None:
    with pytest.raises(NerkitError, match="cannot write"):
        write_conll([Sentence(("a",), ("O",))], tmp_path / "no" / "such" / "file.conll")


def test_dispatch_picks_conll_for_other_extensions(tmp_path: Path) -> None:
    path = tmp_path / "train.txt"
    sentences = (Sentence(("a", "b"), ("B-X", "I-X"), "s-1"),)
    write(sentences, path)
    assert read(path).sentences == sentences


# -------------------------------------------------------------- real corpora


def test_wnut17_train_counts() -> None:
    result = read_conll(data_file("wnut17/wnut17train.conll"))
    assert len(result.sentences) == 3394
    assert sum(len(s) for s in result.sentences) == 62730
    assert result.scheme == "IOB2"
    assert {t.split("-", 1)[-1] for s in result.sentences for t in s.tags} == {
        "O",
        "corporation",
        "creative-work",
        "group",
        "location",
        "person",
        "product",
    }


def test_conll2002_spanish_train_reports_invalid_transitions() -> None:
    path = data_file("conll2002/esp.train")
    result = read(path, scheme="auto")
    assert result.scheme == "IOB2"
    assert len(result.sentences) == 8323
    assert sum(len(s) for s in result.sentences) == 264715
    assert result.invalid  # the corpus has an I-LOC right after a sentence break
    first = result.invalid[0]
    line = path.read_text("utf-8").split("\n")[first.line - 1]
    assert line.endswith(" " + first.transition.current)
    assert result.summary().startswith(f"{len(result.invalid)} invalid transition")


def test_conll2002_dutch_train_documents() -> None:
    result = read_conll(data_file("conll2002/ned.train"))
    assert len(result.sentences) == 15806
    assert sum(len(s) for s in result.sentences) == 202644
    assert len({s.document_id for s in result.sentences}) == 287
    assert all(s.document_id is not None for s in result.sentences)
    assert all(t != "-DOCSTART-" for s in result.sentences for t in s.tokens)


def test_nested_output_read_by_its_last_column_is_found(tmp_path: Path) -> None:
    """A file as `write_conll(nested=True)` writes it (token, outer tags, inner tags),
    read by its last column, loses its outer entities: the line that shows it is found,
    comments and a last column without entities too."""
    from nerkit.io.conll import HiddenOuterColumn, find_hidden_outer_column

    sentences = [
        Sentence(("Maria", "ran"), ("B-PER", "O"), "s-1"),
        Sentence(
            ("Bank", "of", "China"),
            ("B-ORG", "I-ORG", "I-ORG"),
            "s-2",
            spans=(Span(0, 3, "ORG"), Span(2, 3, "LOC")),
        ),
    ]
    path = tmp_path / "nested.conll"
    write_conll(sentences, path, nested=True)
    found = find_hidden_outer_column(path, read_conll(path))
    assert found == HiddenOuterColumn(6, "China\tI-ORG\tB-LOC")

    text = "# a comment\nMaria\tB-PER\tO\n# another\nBank\tB-ORG\tO\nof\tE-ORG\tS-LOC\n"
    path = conll(tmp_path, text)
    result = read_conll(path, comment_prefix="#", scheme="auto")
    found = find_hidden_outer_column(path, result, comment_prefix="#")
    assert found == HiddenOuterColumn(5, "of\tE-ORG\tS-LOC")


@pytest.mark.parametrize(
    "text",
    [
        "EU\tB-ORG\tB-ORG\nsaid\tO\tO\n\nPeter\tB-PER\tB-LOC\n",  # token, gold, predicted
        "EU\tB-ORG\tO\nsaid\tO\tB-LOC\n",  # a last-column entity outside the other's
        "De\tArt\tO\nHaag\tN\tB-LOC\n",  # token, POS, tag
        "EU\tNNP\tB-NP\tB-ORG\nsaid\tVBD\tB-VP\tO\n",  # four columns
        "Bank\tB-ORG\nof\tI-ORG\n",  # two columns
        "in\tO\tO\nit\tO\tO\n",  # no entities anywhere
        # gold beside predictions that find nothing: nested output with no inner entity
        # cannot be told from it, and is read by its last column
        "in\tO\tO\n\nJohn\tB-PER\tO\nSmith\tI-PER\tO\n",
        # token, chunk, NER: entities inside noun phrases, some with a phrase's span
        "the\tB-NP\tO\nEU\tI-NP\tB-ORG\nsaid\tB-VP\tO\n\nEU\tB-NP\tB-ORG\nrejects\tB-VP\tO\n",
        # coarse and fine types: the same spans
        "Obama\tB-PER\tB-PER-politician\nspoke\tO\tO\n",
    ],
)
def test_other_three_column_files_are_not_taken_for_nested_output(
    tmp_path: Path, text: str
) -> None:
    from nerkit.io.conll import find_hidden_outer_column

    path = conll(tmp_path, text)
    assert find_hidden_outer_column(path, read_conll(path)) is None


@pytest.mark.parametrize(
    ("text", "three"),
    [
        (b"Bank\tB-ORG\tO\nof\tI-ORG\n", True),  # only the first token line counts
        (b"Bank B-ORG O \nof I-ORG O\n", True),  # trailing separators dropped, as read
        (b"\xef\xbb\xbf\r\n-DOCSTART-\tO\tO\r\n\r\n# c\td\te\tf\rBank\tB-ORG\tO", True),
        (b"Bank\tB-ORG\nof\tI-ORG\tO\n", False),
        (b"Bank\tNN\tB-NP\tB-ORG\n", False),
        (b"# one\ttwo\tthree\n\n", False),  # no token line
        (b"#" * 100_000 + b"\nBank\tB-ORG\tO\n", True),  # beyond the first block
        (b"B" * 100_000 + b"\tB-ORG\n", False),
    ],
)
def test_may_hide_outer_column_counts_the_columns_of_the_first_token_line(
    tmp_path: Path, text: bytes, three: bool
) -> None:
    from nerkit.io.conll import may_hide_outer_column

    assert may_hide_outer_column(conll(tmp_path, text), comment_prefix="#") is three


def test_a_file_of_other_than_three_columns_is_judged_by_its_start(tmp_path: Path) -> None:
    """`nerkit eval` asks before its fast path reads a file of a million tokens: a file
    whose first token line has two columns is not read on (here: not even to the bytes
    that are no UTF-8, which its reader reports)."""
    from nerkit.io.common import ReadResult
    from nerkit.io.conll import find_hidden_outer_column, may_hide_outer_column

    text = b"Bank\tB-ORG\n" * 10_000 + b"\xff\tO\n"
    path = conll(tmp_path, text)
    with pytest.raises(InputError, match="invalid UTF-8"):
        read_conll(path)
    assert not may_hide_outer_column(path)
    assert find_hidden_outer_column(path, ReadResult((), "IOB2", (), str(path))) is None


def test_token_gold_and_predicted_columns_are_ruled_out_by_their_start(tmp_path: Path) -> None:
    """Predictions beside gold tags repeat gold entities in the first sentences: the
    rest of the file is not read (here: not even to its bytes that are no UTF-8). A
    start that shows no such entity, or cannot be read in the scheme, leaves it to the
    whole file."""
    from nerkit.io.conll import find_hidden_outer_column, may_hide_outer_column

    pairs = "EU\tB-ORG\tB-ORG\nsaid\tO\tO\n\n" * 5_000  # about 100 KiB: beyond one block
    path = conll(tmp_path, pairs.encode() + b"\xff\tO\tO\n")
    assert may_hide_outer_column(path)  # three columns: without a scheme, maybe
    assert not may_hide_outer_column(path, scheme="IOB2")
    result = read_conll(conll(tmp_path, pairs, "valid.conll"))
    assert find_hidden_outer_column(path, result) is None

    # a nested start: the whole file decides, and a later sentence rules it out
    nested = "Bank\tB-ORG\tO\nof\tI-ORG\tO\nChina\tI-ORG\tB-LOC\n\n"
    path = conll(tmp_path, nested * 2_000 + "EU\tB-ORG\tB-ORG\n")
    assert may_hide_outer_column(path, scheme="IOB2")
    assert find_hidden_outer_column(path, read_conll(path)) is None
    # a column before the last that holds no tags of the last one's scheme (POS tags,
    # or E- among IOB2 tags) is no outer column: the start says so
    for text in ("De\tArt\tO\nHaag\tN\tB-LOC\n\n", "John\tB-PER\tB-PER\nSmith\tE-PER\tO\n\n"):
        path = conll(tmp_path, (text * 5_000).encode() + b"\xff\tO\tO\n")
        assert not may_hide_outer_column(path, scheme="IOB2")
        result = read_conll(conll(tmp_path, text, "valid.conll"))
        assert find_hidden_outer_column(path, result) is None
