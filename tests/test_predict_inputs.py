"""``nerkit predict``: which format an input is read in, that only its tokens are read,
what -o may replace, what CoNLL output loses, pipes, and how plain text is split."""

from __future__ import annotations

import json
import subprocess
import sys
import unicodedata
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from test_cli import assert_user_error, invoke
from test_runs import cli, only_run

from nerkit.io import read, write
from nerkit.testing import toy_corpus


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished lexicon run on the toy corpus: it knows Paris and Angela Merkel."""
    folder = tmp_path_factory.mktemp("toy")
    corpus = toy_corpus()
    for split in corpus:
        write(corpus[split], folder / f"{split}.conll")
    out = folder / "runs"
    code, output = cli("run", "-t", "lexicon", "-d", str(folder), "-o", str(out))
    assert code == 0, output
    return only_run(out)


def conll_blocks(output: str) -> list[list[tuple[str, ...]]]:
    """CoNLL text as sentences of (token, tag)."""
    return [
        [tuple(line.split("\t")) for line in block.split("\n")]
        for block in output.strip("\n").split("\n\n")
    ]


PARIS = [[("Angela", "B-PER"), ("Merkel", "I-PER"), ("visited", "O"), ("Paris", "B-LOC")]]


# ------------------------------------------------------------ input formats


MSRA_LIKE = "Angela\tB-PER\nMerkel\tI-PER\nvisited\tO\nParis\tB-LOC\n\nnothing\tO\n"


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("msra_test_bio.txt", MSRA_LIKE),
        ("UPPER.TXT", MSRA_LIKE),
        # CoNLL-2003 as its train.txt: space-separated, POS and chunk columns
        ("train.txt", "-DOCSTART- -X- -X- O\n\nEU NNP B-NP B-ORG\nrejects VBZ B-VP O\n"),
    ],
)
def test_a_conll_corpus_named_txt_is_refused_saying_how_to_read_it(
    run: Path, tmp_path: Path, name: str, text: str
) -> None:
    source = tmp_path / name
    source.write_text(text, encoding="utf-8")
    result = invoke("predict", "--run", run, source)
    assert_user_error(
        result, f"{source}, line 1: looks like CoNLL columns, not plain text", "--format conll"
    )
    assert result.stdout == ""


def test_format_conll_reads_a_txt_corpus_and_format_text_reads_it_as_text(
    run: Path, tmp_path: Path
) -> None:
    source = tmp_path / "msra_test_bio.txt"
    source.write_text(MSRA_LIKE, encoding="utf-8")
    result = invoke("predict", "--run", run, source, "--format", "conll")
    assert result.exit_code == 0, result.output
    assert conll_blocks(result.stdout) == [*PARIS, [("nothing", "O")]]
    # asked for, plain text it is: a line a sentence, split at whitespace
    result = invoke("predict", "--run", run, source, "--format", "text")
    assert result.exit_code == 0, result.output
    assert [token for token, _ in conll_blocks(result.stdout)[0]] == ["Angela", "B-PER"]


def test_a_txt_file_of_any_case_is_plain_text_and_tabs_in_sentences_are_no_columns(
    run: Path, tmp_path: Path
) -> None:
    source = tmp_path / "INPUT.TXT"
    source.write_text("Angela Merkel visited\tParis\n\tindented\ttext here\n", encoding="utf-8")
    result = invoke("predict", "--run", run, source)
    assert result.exit_code == 0, result.output
    assert conll_blocks(result.stdout) == [
        *PARIS,
        [("indented", "O"), ("text", "O"), ("here", "O")],
    ]


@pytest.mark.parametrize(
    "text",
    [
        "1\tPeter went to Paris\n2\tMaria saw the EU\n3\tAnna saw Google\n",  # id, text
        "Peter:\tgo to Paris\nMaria:\tsaw the EU\n",  # a dialogue
        "彼得\t去了巴黎\n玛丽\t看到欧盟\n",  # text without spaces
        "Name\tCity\nPeter\tParis\nMaria\tBerlin\n",
        "Peter saw a B-52\nMaria saw the I-95\n",  # words that look like tags
    ],
)
def test_plain_text_with_tabs_or_tag_like_words_is_read_as_text(
    run: Path, tmp_path: Path, text: str
) -> None:
    """Not taken for CoNLL: a NER corpus has tags at the ends of nearly all its lines,
    O among them."""
    source = tmp_path / "input.txt"
    source.write_text(text, encoding="utf-8")
    result = invoke("predict", "--run", run, source)
    assert result.exit_code == 0, result.output
    assert len(conll_blocks(result.stdout)) == len(text.splitlines())
    result = invoke_stdin(run, text)
    assert result.exit_code == 0, result.output


def test_json_lines_where_conll_is_expected_are_refused(run: Path, tmp_path: Path) -> None:
    """A name without a known extension (/dev/stdin, a pipe) is read as CoNLL: JSON
    lines there would be tagged as tokens."""
    source = tmp_path / "rows"
    source.write_text('{"tokens": ["Paris", "is"], "tags": ["B-LOC", "O"]}\n', encoding="utf-8")
    result = invoke("predict", "--run", run, source)
    assert_user_error(result, f"{source}, line 1: a JSON object", "--format jsonl")
    result = invoke("predict", "--run", run, source, "--format", "jsonl")
    assert result.exit_code == 0, result.output


def test_stdin_that_looks_like_conll_is_refused_unless_format_says_conll(run: Path) -> None:
    result = invoke_stdin(run, MSRA_LIKE)
    assert_user_error(result, "<stdin>, line 1: looks like CoNLL columns", "--format conll")
    result = invoke_stdin(run, MSRA_LIKE, "--format", "CoNLL")
    assert result.exit_code == 0, result.output
    assert conll_blocks(result.stdout) == [*PARIS, [("nothing", "O")]]


def invoke_stdin(run: Path, stdin: str, *args: str):  # type: ignore[no-untyped-def]
    from typer.testing import CliRunner

    from nerkit.cli.app import app

    return CliRunner().invoke(app, ["predict", "--run", str(run), "-", *args], input=stdin)


def test_an_unknown_format_or_text_with_another_format_is_refused(
    run: Path, tmp_path: Path
) -> None:
    source = tmp_path / "in.conll"
    source.write_text("Paris\n", encoding="utf-8")
    for args, expected in [
        (["--format", "tsv"], "'tsv': one of text, conll, csv, jsonl, parquet, arrow"),
        (["--text", "--format", "conll"], "give one"),
    ]:
        result = invoke("predict", "--run", run, source, *args)
        assert result.exit_code == 2, result.output
        assert expected in " ".join(result.stderr.replace("│", " ").split())


# ------------------------------------------------------------- tokens only


def test_a_conll_file_with_part_of_speech_columns_is_tagged(run: Path, tmp_path: Path) -> None:
    source = tmp_path / "pos.conll"
    source.write_text("Angela NNP\nMerkel NNP\nvisited VBD\nParis NNP\n", encoding="utf-8")
    result = invoke("predict", "--run", run, source)
    assert result.exit_code == 0, result.output
    assert conll_blocks(result.stdout) == PARIS


ROWS = [
    {"id": "a7", "document_id": "d1", "tokens": ["Angela", "Merkel", "visited", "Paris"]},
    {"id": "b2", "document_id": "d1", "tokens": ["nothing"]},
]
INTEGER_TAGS = [[1, 2, 0, 5], [0]]


def test_hugging_face_json_with_integer_tags_is_tagged_keeping_ids(
    run: Path, tmp_path: Path
) -> None:
    """As ``Dataset.to_json`` writes a split: ``ner_tags`` as ids, without names."""
    source = tmp_path / "test.jsonl"
    rows = [{**r, "ner_tags": t, "pos_tags": t} for r, t in zip(ROWS, INTEGER_TAGS, strict=True)]
    source.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    assert_tagged_keeping_ids(run, source, tmp_path / "out.jsonl")


def test_json_lines_with_tags_of_no_scheme_is_tagged(run: Path, tmp_path: Path) -> None:
    source = tmp_path / "pos.jsonl"
    rows = [{**r, "tags": ["NNP"] * len(r["tokens"])} for r in ROWS]
    source.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    assert_tagged_keeping_ids(run, source, tmp_path / "out.jsonl")


def test_parquet_with_integer_tags_and_no_tag_names_is_tagged_keeping_ids(
    run: Path, tmp_path: Path
) -> None:
    source = tmp_path / "test.parquet"
    table = pa.table(
        {
            "id": [r["id"] for r in ROWS],
            "document_id": [r["document_id"] for r in ROWS],
            "tokens": [r["tokens"] for r in ROWS],
            "ner_tags": INTEGER_TAGS,
        }
    )
    pq.write_table(table, source)
    assert_tagged_keeping_ids(run, source, tmp_path / "out.parquet")


def test_csv_with_integer_tags_is_tagged_keeping_ids(run: Path, tmp_path: Path) -> None:
    source = tmp_path / "test.csv"
    lines = ["id,document_id,tokens,ner_tags"] + [
        f'{r["id"]},{r["document_id"]},"{json.dumps(r["tokens"]).replace(chr(34), chr(34) * 2)}",'
        f'"{t}"'
        for r, t in zip(ROWS, INTEGER_TAGS, strict=True)
    ]
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert_tagged_keeping_ids(run, source, tmp_path / "out.jsonl")


def test_prodigy_tasks_are_tagged_by_their_token_texts(run: Path, tmp_path: Path) -> None:
    """Token objects with a ``text``; the task's answer and spans are not read."""
    source = tmp_path / "tasks.jsonl"
    words = ["Angela", "Merkel", "visited", "Paris"]
    task = {
        "tokens": [{"text": w, "id": i} for i, w in enumerate(words)],
        "spans": [{"start": 0, "end": 5, "label": "ORG"}],
        "answer": "reject",
        "_view_id": "ner",
    }
    source.write_text(json.dumps(task) + "\n", encoding="utf-8")
    result = invoke("predict", "--run", run, source)
    assert result.exit_code == 0, result.output
    assert conll_blocks(result.stdout) == PARIS


def test_an_unreadable_row_is_refused_naming_file_and_line(run: Path, tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text('tokens,ner_tags\n"[""Paris""]",[5]\n"[""a"", 1]",[0]\n', "utf-8")
    assert_user_error(
        invoke("predict", "--run", run, source),
        f"{source}, line 3: tokens must be a list of strings",
    )
    rows = '{"tokens": ["Paris"], "ner_tags": [5]}\n{"tokens": ["Paris"]\n'
    assert_user_error(invoke_stdin(run, rows, "--format", "jsonl"), "<stdin>, line 2: malformed")
    source = tmp_path / "in.parquet"
    pq.write_table(pa.table({"tokens": [["Paris"], ["a", ""]], "ner_tags": [[5], [0, 0]]}), source)
    assert_user_error(
        invoke("predict", "--run", run, source), f"{source}, row index 1: token 1 is empty"
    )


def assert_tagged_keeping_ids(run: Path, source: Path, target: Path) -> None:
    result = invoke("predict", "--run", run, source, "-o", target)
    assert result.exit_code == 0, result.output
    got = [(s.sentence_id, s.document_id, s.tokens, s.tags) for s in read(target).sentences]
    assert got == [
        ("a7", "d1", ("Angela", "Merkel", "visited", "Paris"), ("B-PER", "I-PER", "O", "B-LOC")),
        ("b2", "d1", ("nothing",), ("O",)),
    ]


def test_help_says_what_of_the_input_is_kept() -> None:
    result = invoke("predict", "--help")
    assert result.exit_code == 0
    text = " ".join(result.stdout.replace("│", " ").split())
    assert "Only its tokens are read" in text and "tags and other columns are not read" in text


# ------------------------------------------------------------------ output


@pytest.fixture
def source(tmp_path: Path) -> Path:
    path = tmp_path / "in.conll"
    path.write_text("Angela\tO\nMerkel\tO\nvisited\tO\nParis\tO\n", encoding="utf-8")
    return path


def test_an_existing_output_is_replaced_only_with_overwrite(
    run: Path, tmp_path: Path, source: Path
) -> None:
    target = tmp_path / "out.conll"
    target.write_text("earlier results\n", encoding="utf-8")
    result = invoke("predict", "--run", run, source, "-o", target)
    assert_user_error(result, f"{target} exists: give --overwrite to replace it")
    assert target.read_text(encoding="utf-8") == "earlier results\n"
    result = invoke("predict", "--run", run, source, "-o", target, "--overwrite")
    assert result.exit_code == 0, result.output
    assert conll_blocks(target.read_text(encoding="utf-8")) == PARIS


def test_the_input_is_never_the_output(run: Path, tmp_path: Path, source: Path) -> None:
    before = source.read_bytes()
    link = tmp_path / "link.conll"
    link.symlink_to(source)
    for target in (source, link):
        for args in ([], ["--overwrite"]):
            result = invoke("predict", "--run", run, source, "-o", target, *args)
            assert_user_error(result, f"{target} is a file this command reads")
            assert source.read_bytes() == before


def test_no_output_joins_an_input_folder_or_pattern_of_shards(run: Path, tmp_path: Path) -> None:
    """Written there, the predictions would be read as shards of the input next time."""
    shards = tmp_path / "shards"
    shards.mkdir()
    pq.write_table(pa.table({"tokens": [["Paris"]]}), shards / "train-0.parquet")
    pattern = shards / "train-*.parquet"
    for source, target, said in [
        (shards, shards / "p.parquet", f"is in {shards}, whose files are read as one table"),
        (pattern, shards / "train-1.parquet", f"is one of the files {pattern} names"),
    ]:
        result = invoke("predict", "--run", run, source, "-o", target)
        assert_user_error(result, f"{target} {said}")
        assert not target.exists()


def test_missing_folders_of_the_output_are_made(run: Path, tmp_path: Path, source: Path) -> None:
    target = tmp_path / "new" / "folder" / "out.conll"
    result = invoke("predict", "--run", run, source, "-o", target)
    assert result.exit_code == 0, result.output
    assert conll_blocks(target.read_text(encoding="utf-8")) == PARIS


def test_an_output_that_cannot_be_made_is_refused_before_the_input_is_read(
    run: Path, tmp_path: Path
) -> None:
    """Checked before the input (here: none) is read, so that no long prediction is lost
    for want of it at the end."""
    blocker = tmp_path / "a-file"
    blocker.write_text("", encoding="utf-8")
    target = blocker / "sub" / "out.conll"
    result = invoke("predict", "--run", run, tmp_path / "absent.conll", "-o", target)
    assert_user_error(result, f"cannot write {target}: {blocker} is no folder")


def test_a_folder_as_output_is_refused_as_a_place_to_write(
    run: Path, tmp_path: Path, source: Path
) -> None:
    folder = tmp_path / "results"
    folder.mkdir()
    result = invoke("predict", "--run", run, source, "-o", folder)
    assert_user_error(result, f"cannot write {folder}: it is a folder")
    assert "shards" not in result.stderr
    assert list(folder.iterdir()) == []


@pytest.mark.parametrize("output", [None, "out.conll"])
def test_conll_output_warns_that_ids_and_documents_are_lost(
    run: Path, tmp_path: Path, output: str | None
) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in ROWS), encoding="utf-8")
    args = [] if output is None else ["-o", tmp_path / output]
    result = invoke("predict", "--run", run, source, *args)
    assert result.exit_code == 0, result.output
    where = "stdout" if output is None else str(tmp_path / output)
    assert f"Warning: {where} is CoNLL, which cannot keep all that was read" in result.stderr
    assert "sentence ids are not kept (2 of 2; 'a7' reads back as 's-1')" in result.stderr
    assert "document ids are not kept ('d1' as 'doc-1')" in result.stderr
    # JSON lines keep them: no warning
    result = invoke("predict", "--run", run, source, "-o", tmp_path / "out.jsonl")
    assert result.exit_code == 0, result.output
    assert "Warning" not in result.stderr


def test_a_pipe_given_as_dev_stdin_is_read_once(run: Path, source: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "nerkit", "predict", "--run", str(run), "/dev/stdin"],
        input=source.read_text(encoding="utf-8"),
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert conll_blocks(done.stdout) == PARIS


# -------------------------------------------------------------- tokenizers


def tokens_of(run: Path, tmp_path: Path, lines: list[str], tokenizer: str) -> list[list[str]]:
    source = tmp_path / "in.txt"
    source.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    target = tmp_path / f"{tokenizer}-{len(list(tmp_path.glob('*.jsonl')))}.jsonl"
    args = ["--tokenizer", tokenizer, "-o", target]
    result = invoke("predict", "--run", run, source, *args)
    assert result.exit_code == 0, result.output
    return [list(s.tokens) for s in read(target).sentences]


def test_chars_keeps_combining_marks_with_their_character(run: Path, tmp_path: Path) -> None:
    lines = ["Cafe\u0301 Paris", "か\u3099く", "東\u200b京", " \u0301x"]
    assert tokens_of(run, tmp_path, lines, "chars") == [
        ["C", "a", "f", "e\u0301", "P", "a", "r", "i", "s"],
        ["か\u3099", "く"],
        ["東", "京"],  # a zero-width space is no token
        ["\u0301", "x"],  # a mark after a space is kept, without the space
    ]


def test_words_keeps_combining_marks_inside_words(run: Path, tmp_path: Path) -> None:
    lines = ["Mu\u0308ller's Cafe\u0301, na\u0308ive.", "Paris\u200bvisited"]
    assert tokens_of(run, tmp_path, lines, "words") == [
        ["Mu\u0308ller", "'s", "Cafe\u0301", ",", "na\u0308ive", "."],
        ["Paris", "visited"],
    ]


def test_whitespace_splits_at_a_zero_width_space(run: Path, tmp_path: Path) -> None:
    lines = ["Paris\u200bvisited Cafe\u0301"]
    assert tokens_of(run, tmp_path, lines, "whitespace") == [["Paris", "visited", "Cafe\u0301"]]


# Precomposed text and its decomposed form (NFD): tokens must differ only in that form.
COMPOSED = [
    "Müller's café, naïve São Paulo.",
    "がぎぐげご パピプペポ",
    "Ελληνικά: άέήίόύώ",
    "Tiếng Việt có dấu",
    "Å ångström Œuvre",
]


@pytest.mark.parametrize("tokenizer", ["chars", "words", "whitespace"])
def test_decomposed_text_splits_as_its_composed_form(
    run: Path, tmp_path: Path, tokenizer: str
) -> None:
    """An independent reference: NFC composes each base and its marks into one code
    point, which every tokenizer keeps whole."""
    assert all(unicodedata.normalize("NFD", s) != s for s in COMPOSED)
    decomposed = tokens_of(
        run, tmp_path, [unicodedata.normalize("NFD", s) for s in COMPOSED], tokenizer
    )
    composed = tokens_of(run, tmp_path, COMPOSED, tokenizer)
    assert [[unicodedata.normalize("NFC", t) for t in s] for s in decomposed] == composed
    if tokenizer == "chars":
        assert composed == [[c for c in s if not c.isspace()] for s in COMPOSED]
