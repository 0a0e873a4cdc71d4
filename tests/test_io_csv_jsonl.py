"""CSV and JSON lines readers and writers, and the format dispatch."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
from io_utils import read_error

from nerkit.errors import ConfigError, NerkitError
from nerkit.io import (
    FORMATS,
    ReadResult,
    detect_format,
    read,
    read_csv,
    read_jsonl,
    write,
    write_csv,
    write_jsonl,
)
from nerkit.types import Sentence, Span


def put(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return path


def jsonl(tmp_path: Path, *rows: object, name: str = "data.jsonl") -> Path:
    return put(tmp_path, name, "".join(json.dumps(row) + "\n" for row in rows))


def error(path: Path, **options: object) -> str:
    return read_error(read, path, **options)


# --------------------------------------------------------------------- CSV


def test_csv_json_and_python_literal_cells(tmp_path: Path) -> None:
    text = (
        "tokens,tags\n"
        '"[""John"", ""runs""]","[""B-PER"", ""O""]"\n'
        # str() of a Python list, as pandas writes it
        '"[\'Paris\', ""it\'s""]","[\'B-LOC\', \'O\']"\n'
    )
    result = read_csv(put(tmp_path, "d.csv", text))
    assert result.sentences == (
        Sentence(("John", "runs"), ("B-PER", "O"), "s-1"),
        Sentence(("Paris", "it's"), ("B-LOC", "O"), "s-2"),
    )


def test_csv_ids_extra_columns_and_bom(tmp_path: Path) -> None:
    text = (
        "\ufeff,id,document_id,tokens,tags,pos\r\n"
        "0,a1,d1,\"['x']\",\"['O']\",\"['NN']\"\r\n"
        "1,,,\"['y']\",\"['B-X']\",\"['NN']\"\r\n"
    )
    result = read_csv(put(tmp_path, "d.csv", text))
    assert [(s.sentence_id, s.document_id) for s in result.sentences] == [
        ("a1", "d1"),
        ("s-2", None),  # empty cells: no id given
    ]


def test_csv_never_evaluates_code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    marker = tmp_path / "pwned"
    cell = f"__import__('pathlib').Path({str(marker)!r}).touch()"
    path = put(tmp_path, "d.csv", f'tokens,tags\n"{cell}","[\'O\']"\n')
    message = error(path)
    assert "line 2" in message and "tokens cell" in message
    assert not marker.exists()


def test_csv_errors_name_the_line(tmp_path: Path) -> None:
    mismatch = put(
        tmp_path, "a.csv", 'tokens,tags\n"[""a""]","[""O""]"\n"[""a"", ""b""]","[""O""]"\n'
    )
    message = error(mismatch)
    assert "line 3" in message and "2 tokens but 1 tags" in message
    malformed = put(tmp_path, "b.csv", 'tokens,tags\n"[""a""]","[O"\n')
    assert "line 2" in error(malformed)
    no_tokens = put(tmp_path, "c.csv", "words,tags\n")
    assert "line 1" in error(no_tokens) and "tokens" in error(no_tokens)
    cells = put(tmp_path, "d.csv", 'tokens,tags\n"[""a""]"\n')
    assert "line 2" in error(cells) and "expected 2 cells, found 1" in error(cells)
    header_only = put(tmp_path, "e.csv", "tokens,tags\n")
    assert "no sentences" in error(header_only)
    bad_tag = put(tmp_path, "f.csv", 'tokens,tags\n"[""a""]","[""O""]"\n"[""a""]","[""I-""]"\n')
    assert "line 3" in error(bad_tag) and "'I-'" in error(bad_tag)


@pytest.mark.parametrize(
    "cell",
    [
        "['EU' 'rejects' 'German' 'call']",
        # numpy wraps a long array over lines
        "['EU' 'rejects' 'German' 'call' 'EU' 'rejects' 'German' 'call'\n 'EU' 'rejects']",
        "('EU', 'rejects' u'German')",
    ],
)
def test_csv_numpy_array_cells_are_refused_not_glued(tmp_path: Path, cell: str) -> None:
    # pandas writes a cell holding a numpy array as numpy prints it, without commas;
    # Python would glue the strings into one token.
    n = cell.count("'") // 2
    tags = json.dumps(["O"] * n).replace('"', '""')
    path = put(tmp_path, "d.csv", f'tokens,tags\n"[""a""]","[""O""]"\n"{cell}","{tags}"\n')
    message = error(path)
    assert "line 3" in message and "tokens cell is not a list" in message and "numpy" in message


def test_csv_python_literal_cells_with_quotes_and_blanks_still_read(tmp_path: Path) -> None:
    # Quotes side by side inside strings are no glued strings.
    tokens = ["' '", "'", '"', " ' ' ", "it's"]
    buffer = io.StringIO()
    csv.writer(buffer).writerows([["tokens", "tags"], [str(tokens), str(["O"] * len(tokens))]])
    path = put(tmp_path, "d.csv", buffer.getvalue())
    assert read_csv(path).sentences[0].tokens == tuple(tokens)


def test_csv_multiline_cell_reports_the_row_start(tmp_path: Path) -> None:
    text = 'tokens,tags\n"[""a"",\n""b""]","[""O""]"\n'
    assert "line 2" in error(put(tmp_path, "d.csv", text))


def test_csv_writes_json_lists(tmp_path: Path) -> None:
    sentences = [Sentence(("a,b", 'say "hi"'), ("B-X", "I-X"), "s-1", "d-1")]
    path = tmp_path / "out.csv"
    write_csv(sentences, path)
    lines = path.read_text("utf-8").splitlines()
    assert lines[0] == "id,document_id,tokens,tags"
    assert read_csv(path).sentences == tuple(sentences)


# -------------------------------------------------------------- JSON lines


def test_jsonl_tags_rows(tmp_path: Path) -> None:
    path = jsonl(
        tmp_path,
        {"tokens": ["John", "runs"], "tags": ["B-PER", "O"], "id": "a", "document_id": 7},
        {"tokens": ["Paris"], "tags": ["B-LOC"]},
    )
    assert read_jsonl(path).sentences == (
        Sentence(("John", "runs"), ("B-PER", "O"), "a", "7"),
        Sentence(("Paris",), ("B-LOC",), "s-2"),
    )


def test_jsonl_flat_spans_become_tags_in_the_requested_scheme(tmp_path: Path) -> None:
    path = jsonl(tmp_path, {"tokens": ["New", "York", "is", "big"], "spans": [[0, 2, "LOC"]]})
    (iob2,) = read_jsonl(path).sentences
    assert iob2.tags == ("B-LOC", "I-LOC", "O", "O")
    assert iob2.spans == ()  # the tags say it all
    (bioes,) = read_jsonl(path, scheme="BIOES").sentences
    assert bioes.tags == ("B-LOC", "E-LOC", "O", "O")


def test_jsonl_nested_spans_keep_all_spans_and_tag_the_outer_layer(tmp_path: Path) -> None:
    spans = [[2, 3, "LOC"], [0, 3, "ORG"], [0, 1, "ORG"], [2, 3, "LOC"]]
    path = jsonl(tmp_path, {"tokens": ["Bank", "of", "China"], "spans": spans})
    (sentence,) = read_jsonl(path).sentences
    assert sentence.tags == ("B-ORG", "I-ORG", "I-ORG")
    assert sentence.spans == (Span(0, 1, "ORG"), Span(0, 3, "ORG"), Span(2, 3, "LOC"))


def test_jsonl_spans_only_with_auto_scheme(tmp_path: Path) -> None:
    path = jsonl(
        tmp_path,
        {"tokens": ["a"], "tags": ["S-X"]},
        {"tokens": ["b", "c"], "spans": [[0, 2, "Y"]]},
    )
    result = read_jsonl(path, scheme="auto")
    assert result.scheme == "BIOES"
    assert result.sentences[1].tags == ("B-Y", "E-Y")


def test_jsonl_rename_applies_to_tags_and_span_labels(tmp_path: Path) -> None:
    path = jsonl(
        tmp_path,
        {"tokens": ["a"], "tags": ["B-PER"]},
        {"tokens": ["b"], "spans": [[0, 1, "PER"]]},
    )
    result = read_jsonl(path, rename={"PER": "person"})
    assert [s.tags for s in result.sentences] == [("B-person",), ("B-person",)]


def test_jsonl_invalid_transitions_point_at_the_row(tmp_path: Path) -> None:
    path = put(
        tmp_path,
        "d.jsonl",
        '{"tokens": ["a"], "tags": ["O"]}\n\n{"tokens": ["b", "c"], "tags": ["O", "I-X"]}\n',
    )
    result = read_jsonl(path)
    assert [(r.sentence_id, r.line) for r in result.invalid] == [("s-2", 3)]
    assert result.summary() == "1 invalid transition in 1 sentence (first: line 3, I-X after O)"


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ('{"tokens": ["a", "b"], "tags": ["O"]}', "2 tokens but 1 tags"),
        ('{"tokens": ["a"], "tags": ["O"]', "malformed JSON"),
        ('["a", "b"]', "expected a JSON object"),
        ('{"tags": ["O"]}', 'no "tokens"'),
        ('{"tokens": "ab"}', "tokens must be a list of strings"),
        ('{"tokens": ["a", 1]}', "tokens must be a list of strings"),
        ('{"tokens": ["a", ""]}', "token 1 is empty"),
        ('{"tokens": ["a"], "spans": [[0, 2, "X"]]}', "out of range"),
        ('{"tokens": ["a"], "spans": [[1, 1, "X"]]}', "out of range"),
        ('{"tokens": ["a"], "spans": [[0, 1]]}', "not [start, end, label]"),
        ('{"tokens": ["a"], "spans": [[0, 1, " X"]]}', "span label"),
        ('{"tokens": ["a"], "spans": [[false, true, "X"]]}', "not [start, end, label]"),
        ('{"tokens": ["a"], "tags": ["X-LOC"]}', "X-LOC"),
        ('{"tokens": ["a"], "id": 1.5}', "id must be"),
        ("[" * 100_000, "malformed JSON"),
    ],
)
def test_jsonl_errors_name_file_and_line(tmp_path: Path, row: str, expected: str) -> None:
    path = put(tmp_path, "d.jsonl", '{"tokens": ["ok"], "tags": ["O"]}\n' + row + "\n")
    message = error(path)
    assert "line 2" in message
    assert expected in message


@pytest.mark.parametrize("key", ["ner_tags", "tag", "labels"])
def test_jsonl_tags_under_another_key_are_refused(tmp_path: Path, key: str) -> None:
    # Read as untagged, the row would lose its tags without a word (Hugging Face
    # exports name them "ner_tags", as ids).
    path = jsonl(
        tmp_path,
        {"tokens": ["a", "b"], "tags": ["O", "O"]},
        {"tokens": ["a", "b"], key: [1, 2] if key == "ner_tags" else ["B-X", "I-X"]},
    )
    message = error(path)
    assert "line 2" in message
    assert f"this row has neither, but has {key!r}" in message
    assert "'tags' or 'spans'" in message


def test_jsonl_untagged_rows_still_read(tmp_path: Path) -> None:
    path = jsonl(
        tmp_path,
        {"tokens": ["a", "b"]},
        {"tokens": ["a", "b"], "id": "x", "meta": {"source": "web"}, "note": ["one"]},
        {"tokens": ["a", "b"], "pos": ["DT", "NN"], "ws": [True, False]},
    )
    assert [s.tags for s in read_jsonl(path).sentences] == [(), (), ()]
    path = jsonl(
        tmp_path,
        {"tokens": ["a", "b"], "tags": ["O", "O"], "pos": ["DT", "NN"]},
        {"tokens": ["a"], "spans": [[0, 1, "X"]], "ner_tags": [3]},
    )
    assert [s.tags for s in read_jsonl(path).sentences] == [("O", "O"), ("B-X",)]


def test_an_untagged_row_in_a_tagged_file_is_refused(tmp_path: Path) -> None:
    """An empty tags cell made its sentence untagged, and its entities were lost."""
    path = jsonl(
        tmp_path,
        {"tokens": ["Peter", "runs"], "tags": ["B-PER", "O"]},
        {"tokens": ["Ann", "sleeps"]},
        {"tokens": ["Bob"], "spans": [[0, 1, "PER"]]},
    )
    message = error(path)
    assert "line 2: this row has neither tags nor spans" in message and "line 1" in message
    path = put(
        tmp_path,
        "d.csv",
        'tokens,tags\n"[""Ann""]",\n"[""Peter"",""runs""]","[""B-PER"",""O""]"\n',
    )
    assert "d.csv, line 2: this row has neither tags nor spans" in error(path)


def test_csv_tags_in_another_column_are_refused(tmp_path: Path) -> None:
    path = put(tmp_path, "d.csv", "tokens,ner_tags,note\n\"['a', 'b']\",\"[1, 2]\",[x\n")
    message = error(path)
    assert "line 2" in message and "but has 'ner_tags'" in message
    untagged = put(tmp_path, "u.csv", "tokens,note\n\"['a', 'b']\",\"[x\"\n\"['c']\",\n")
    assert [s.tokens for s in read_csv(untagged).sentences] == [("a", "b"), ("c",)]


def test_jsonl_refuses_a_json_array_with_a_hint(tmp_path: Path) -> None:
    path = put(tmp_path, "d.json", '[\n  {"tokens": ["a"], "tags": ["O"]}\n]\n')
    message = error(path)
    assert "line 1" in message and "not a JSON array" in message


def test_jsonl_empty_file(tmp_path: Path) -> None:
    assert "no sentences" in error(put(tmp_path, "d.jsonl", "\n\n"))


def test_jsonl_writer_output(tmp_path: Path) -> None:
    sentences = [
        Sentence(("x",), ("O",)),
        Sentence(("東京", "\u3000"), ("B-LOC", "O"), "s-2", "d", (Span(0, 1, "LOC"),)),
    ]
    path = tmp_path / "out.jsonl"
    # an untagged sentence among tagged ones would not be read back
    for writer in (write_jsonl, write_csv):
        with pytest.raises(NerkitError, match=r"sentence #3 \(no id\) has no tags"):
            writer([*sentences, Sentence(("raw",))], path)
    assert not path.exists()
    write_jsonl([Sentence(("raw",))], path)
    assert read_jsonl(path).sentences == (Sentence(("raw",), (), "s-1"),)
    write_jsonl(sentences, path)
    rows = [json.loads(line) for line in path.read_text("utf-8").splitlines()]
    assert rows == [
        {"tokens": ["x"], "tags": ["O"]},
        {
            "id": "s-2",
            "document_id": "d",
            "tokens": ["東京", "\u3000"],
            "tags": ["B-LOC", "O"],
            "spans": [[0, 1, "LOC"]],
        },
    ]
    assert "東京" in path.read_text("utf-8")  # not ASCII-escaped
    result = read_jsonl(path)
    assert result.sentences[0].sentence_id == "s-1"  # filled in on reading
    assert result.sentences[1:] == (sentences[1],)


# --------------------------------------------------------- Prodigy tasks


def prodigy_task(spans: list[dict], **extra: object) -> dict:
    """A ner.manual task as Prodigy's db-out writes it."""
    words = ["Apple", "updates", "its", "analytics", "service"]
    tokens, start = [], 0
    for i, word in enumerate(words):
        tokens.append({"text": word, "start": start, "end": start + len(word), "id": i})
        start += len(word) + 1
    return {"text": " ".join(words), "tokens": tokens, "spans": spans, "answer": "accept"} | extra


def test_prodigy_tasks_read_by_token_or_character_offsets(tmp_path: Path) -> None:
    path = jsonl(
        tmp_path,
        prodigy_task(
            [
                {"start": 0, "end": 5, "token_start": 0, "token_end": 0, "label": "ORG"},
                {"start": 18, "end": 35, "label": "PRODUCT"},  # characters only
            ],
            _view_id="ner_manual",
            _task_hash=1,
        ),
        prodigy_task([]),  # accepted with no entity: all O
        {"tokens": ["a", "b", "c"], "spans": [{"token_start": 0, "token_end": 2, "label": "X"},
                                              {"token_start": 1, "token_end": 1, "label": "Y"}]},
    )  # fmt: skip
    first, empty, nested = read(path).sentences
    assert first.tokens == ("Apple", "updates", "its", "analytics", "service")
    assert first.tags == ("B-ORG", "O", "O", "B-PRODUCT", "I-PRODUCT")
    assert empty.tags == ("O",) * 5
    assert nested.tags == ("B-X", "I-X", "I-X")
    assert nested.spans == (Span(0, 3, "X"), Span(1, 2, "Y"))


@pytest.mark.parametrize(
    ("task", "message"),
    [
        (prodigy_task([], answer="reject"), "a task answered 'reject': only accepted tasks"),
        (prodigy_task([], answer="ignore"), "a task answered 'ignore'"),
        (prodigy_task([], _view_id="ner"), "binary 'ner' task"),
        (
            prodigy_task([{"start": 1, "end": 5, "label": "ORG"}]),
            "do not fall on the boundaries of its tokens",
        ),
        (prodigy_task([{"start": 0, "end": 5}]), "is not an object with a label"),
        (
            prodigy_task([{"token_start": 0, "token_end": 5, "label": "ORG"}]),
            r"need 0 <= token_start <= token_end < 5 \(token_end is the span's last token\)",
        ),
        ({"tokens": [{"text": "a"}, {"id": 1}]}, "token 1 is not an object with a text"),
        (
            {"tokens": [{"text": "a"}, {"text": "b"}], "spans": [{"token_start": 1, "label": "P"}]},
            "has no token_start / token_end, and its character offsets",
        ),
        (
            prodigy_task([{"start": {"x": 0}, "end": 5, "label": "ORG"}]),
            "has no token_start / token_end, and its character offsets",
        ),
    ],
)
def test_prodigy_tasks_that_are_no_annotations_are_errors(
    tmp_path: Path, task: dict, message: str
) -> None:
    path = jsonl(tmp_path, task)
    assert re.search(message, error(path)), error(path)


# -------------------------------------------------------------- tokens only


def test_jsonl_tags_false_reads_tokens_and_ids_of_any_row(tmp_path: Path) -> None:
    """Rows the default read refuses: integer ner_tags without names, tags of no scheme
    (part of speech), a tagged row beside an untagged one, a task not accepted."""
    path = jsonl(
        tmp_path,
        {"id": "a7", "document_id": "d1", "tokens": ["EU", "rejects"], "ner_tags": [3, 0]},
        {"id": 2, "tokens": ["Paris"], "tags": ["NNP"], "spans": "PER: x"},
        {"tokens": ["nothing"]},
        prodigy_task([], answer="reject"),
    )
    assert "integer ids" in error(path)
    got = [
        (s.sentence_id, s.document_id, s.tokens, s.tags, s.spans)
        for s in read(path, tags=False).sentences
    ]
    assert got == [
        ("a7", "d1", ("EU", "rejects"), (), ()),
        ("2", None, ("Paris",), (), ()),
        ("s-3", None, ("nothing",), (), ()),
        ("s-4", None, ("Apple", "updates", "its", "analytics", "service"), (), ()),
    ]


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ('{"tokens": "a b"}', "line 2: tokens must be a list of strings"),
        ('{"tokens": [{"text": "a"}, {"id": 1}]}', "line 2: token 1 is not an object with a text"),
        ('{"words": ["a"]}', 'line 2: the object has no "tokens"'),
        ('{"id": 1.5, "tokens": ["a"]}', "line 2: id must be a string or an integer"),
    ],
)
def test_jsonl_tags_false_still_checks_tokens_and_ids(
    tmp_path: Path, row: str, expected: str
) -> None:
    path = put(tmp_path, "d.jsonl", '{"tokens": ["a"], "tags": [7]}\n' + row + "\n")
    assert expected in error(path, tags=False)


def test_csv_tags_false_reads_tokens_and_ids_of_any_row(tmp_path: Path) -> None:
    text = (
        "id,document_id,tokens,ner_tags,tags,tags\n"
        'a7,d1,"[""EU"", ""rejects""]","[3, 0]",,x\n'
        'b2,,"[\'Paris\']",[1],"[""NNP""]",\n'
    )
    path = put(tmp_path, "d.csv", text)
    assert "two 'tags' columns" in error(path)
    got = [
        (s.sentence_id, s.document_id, s.tokens, s.tags) for s in read(path, tags=False).sentences
    ]
    assert got == [("a7", "d1", ("EU", "rejects"), ()), ("b2", None, ("Paris",), ())]
    bad = put(tmp_path, "bad.csv", 'tokens,tags\n"[""a""]",[7]\n,[1]\n')
    assert "bad.csv, line 3: empty tokens cell" in error(bad, tags=False)
    twice = put(tmp_path, "twice.csv", "tokens,id,id\n[],a,b\n")
    assert "line 1: two 'id' columns" in error(twice, tags=False)


# --------------------------------------------------------------- dispatch


def test_detect_format() -> None:
    assert FORMATS == ("conll", "csv", "jsonl", "parquet", "arrow")
    assert detect_format("a/train.CSV") == "csv"
    assert detect_format("x.jsonl") == "jsonl"
    assert detect_format("x.json") == "jsonl"
    assert detect_format("esp.train") == "conll"
    assert detect_format("x.conll") == "conll"
    assert detect_format("x.Parquet") == "parquet"
    assert detect_format("data-00000-of-00001.arrow") == "arrow"


@pytest.mark.parametrize("fmt", FORMATS)
def test_read_write_dispatch_round_trip(tmp_path: Path, fmt: str) -> None:
    sentences = (
        Sentence(("a", "b"), ("B-X", "E-X"), "s-1"),
        Sentence(("c",), ("S-Y",), "s-2"),
    )
    path = tmp_path / "data.bin"
    write(sentences, path, format=fmt)
    result = read(path, format=fmt, scheme="auto")
    assert isinstance(result, ReadResult)
    assert result.sentences == sentences
    assert result.scheme == "BIOES"


def test_dispatch_rejects_unknown_formats_and_options(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    write([Sentence(("a",), ("O",))], path)
    with pytest.raises(ConfigError, match="unknown format 'xml'.*conll, csv, jsonl"):
        read(path, format="xml")
    with pytest.raises(
        ConfigError, match="'tag_col'.*known: scheme, rename, token_transform, tags"
    ):
        read(path, tag_col=2)
    # CoNLL reads tokens only with tags=False too (before 0.3.14: tag_col=None only)
    conll = tmp_path / "x.conll"
    write([Sentence(("a", "b"), ("B-PER", "O"))], conll)
    assert read(conll, tags=False).sentences[0].tags == ()
    with pytest.raises(ConfigError, match="'nested'"):
        write([], path, nested=True)


def test_json_lines_put_tokens_and_tags_first_for_run_ner(tmp_path: Path) -> None:
    """run_ner.py reads the labels from ``ner_tags``, else from the second column
    (``column_names[1]``), and Hugging Face ``datasets`` orders columns as the first
    object's keys: with the ids first, it trained on the tokens or the document ids."""
    path = tmp_path / "out.jsonl"
    sentence = Sentence(tokens=("Bob",), tags=("B-PER",), sentence_id="a", document_id="d")
    write([sentence], path)
    assert list(json.loads(path.read_text(encoding="utf-8"))) == [
        "tokens",
        "tags",
        "id",
        "document_id",
    ]
    assert read(path).sentences == (sentence,)


@pytest.mark.parametrize("name", ["out.jsonl", "out.csv"])
def test_an_empty_sentence_of_a_tagged_file_is_written_with_empty_tags(
    tmp_path: Path, name: str
) -> None:
    """Hugging Face ``datasets`` fills a missing ``tags`` with null, which ``run_ner.py``
    cannot take (``set(label)``): an empty sentence among tagged ones gets ``[]``; a
    sentence given only spans, and an untagged file, get no tags."""
    sentences = [
        Sentence(tokens=("a",), tags=("B-PER",)),
        Sentence(tokens=(), tags=()),
        Sentence(tokens=("b",), spans=(Span(0, 1, "LOC"),)),
    ]
    path = tmp_path / name
    write(sentences, path)
    if name.endswith(".jsonl"):
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
        assert [row.get("tags") for row in rows] == [["B-PER"], [], None]
    else:
        rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
        assert [row["tags"] for row in rows] == ['["B-PER"]', "[]", ""]
    back = read(path).sentences
    assert [s.tokens for s in back] == [("a",), (), ("b",)]
    assert back[1].tags == ()
    untagged = tmp_path / ("untagged" + path.suffix)
    write([Sentence(tokens=("a",)), Sentence(tokens=())], untagged)
    assert "tags" not in untagged.read_text(encoding="utf-8")
