"""``nerkit predict``: what it reads (tagged or not, any scheme, plain text) and what
it writes (the same CoNLL on stdout as with ``-o FILE.conll``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_cli import assert_user_error, invoke
from test_runs import cli, only_run
from typer.testing import CliRunner

from nerkit.cli.app import app
from nerkit.errors import NerkitError
from nerkit.io import read
from nerkit.io.conll_write import write_conll
from nerkit.types import Sentence


@pytest.fixture
def run(toy: Path, tmp_path: Path) -> Path:
    """A finished lexicon run on the toy corpus: it knows Paris and Angela Merkel."""
    out = tmp_path / "runs"
    code, output = cli("run", "-t", "lexicon", "-d", str(toy), "-o", str(out))
    assert code == 0, output
    return only_run(out)


def blocks(output: str) -> list[list[tuple[str, str]]]:
    """CoNLL text as sentences of (token, tag)."""
    return [
        [tuple(line.split("\t")) for line in block.split("\n")]  # type: ignore[misc]
        for block in output.strip("\n").split("\n\n")
    ]


def test_a_tokens_only_conll_file_is_tagged(run: Path, tmp_path: Path) -> None:
    source = tmp_path / "in.conll"
    source.write_text("Angela\nMerkel\nvisited\nParis\n\nnothing\nhere\n", encoding="utf-8")
    result = invoke("predict", "--run", run, source)
    assert result.exit_code == 0, result.output
    assert blocks(result.stdout) == [
        [("Angela", "B-PER"), ("Merkel", "I-PER"), ("visited", "O"), ("Paris", "B-LOC")],
        [("nothing", "O"), ("here", "O")],
    ]


def test_a_conll_file_with_and_without_tags_is_refused_naming_the_line(
    run: Path, tmp_path: Path
) -> None:
    # Read as tokens only, the second line would lose its tag column, or in a file
    # split at spaces, a token's second half.
    source = tmp_path / "mixed.conll"
    source.write_text("Hello\n\nParis B-LOC\n", encoding="utf-8")
    assert_user_error(
        invoke("predict", "--run", run, source),
        f"{source}, line 3: a second column, but the first token line (line 1) has a token only",
    )
    source.write_text("Hello\tO\n\nParis\n", encoding="utf-8")
    assert_user_error(
        invoke("predict", "--run", run, source), f"{source}, line 3: expected at least 2"
    )


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("bioes.conll", "Hello\tO\nParis\tS-LOC\n\nNew\tB-LOC\nYork\tE-LOC\n"),
        ("iob1.conll", "Hello\tO\nParis\tI-LOC\n\nNew\tI-LOC\nYork\tI-LOC\n"),
        (
            "bioes.jsonl",
            '{"tokens": ["Hello", "Paris"], "tags": ["O", "S-LOC"]}\n'
            '{"tokens": ["New", "York"], "tags": ["B-LOC", "E-LOC"]}\n',
        ),
    ],
)
def test_tagged_input_in_another_scheme_than_the_run_is_tagged(
    run: Path, tmp_path: Path, name: str, text: str
) -> None:
    """The input's own tags are not used, so any valid scheme will do; the output
    is in the run's scheme (IOB2)."""
    source = tmp_path / name
    source.write_text(text, encoding="utf-8")
    result = invoke("predict", "--run", run, source)
    assert result.exit_code == 0, result.output
    assert blocks(result.stdout) == [
        [("Hello", "O"), ("Paris", "B-LOC")],
        [("New", "B-LOC"), ("York", "I-LOC")],
    ]


def test_plain_text_lines_end_at_a_newline_only(run: Path, tmp_path: Path) -> None:
    """U+2028, U+0085 and form feed are inside a line (and whitespace between its
    tokens); \\r\\n and \\r end one. Sentence ids number the lines."""
    source = tmp_path / "in.txt"
    source.write_bytes("Paris is\u2028nice\x0cin\x85May\n\nBerlin\r\nRome\rParis\n".encode())
    target = tmp_path / "out.jsonl"
    result = invoke("predict", "--run", run, source, "-o", target)
    assert result.exit_code == 0, result.output
    got = [(s.sentence_id, s.tokens) for s in read(target).sentences]
    assert got == [
        ("s-1", ("Paris", "is", "nice", "in", "May")),
        ("s-3", ("Berlin",)),
        ("s-4", ("Rome",)),
        ("s-5", ("Paris",)),
    ]
    piped = tmp_path / "piped.jsonl"
    stdin = source.read_text(encoding="utf-8")  # text mode: \r\n and \r are \n now
    result = CliRunner().invoke(
        app, ["predict", "--run", str(run), "-", "-o", str(piped)], input=stdin
    )
    assert result.exit_code == 0, result.output
    assert read(piped).sentences == read(target).sentences


def test_stdout_is_the_conll_file_that_output_writes(run: Path, tmp_path: Path) -> None:
    """Document boundaries included, so `> out.conll` and `-o out.conll` agree."""
    source = tmp_path / "in.conll"
    source.write_text(
        "-DOCSTART- -X- O O\n\nParis NNP B-LOC O\n\n-DOCSTART- -X- O O\n\nRome NNP B-LOC O\n",
        encoding="utf-8",
    )
    target = tmp_path / "out.conll"
    written = invoke("predict", "--run", run, source, "-o", target)
    assert written.exit_code == 0, written.output
    printed = invoke("predict", "--run", run, source)
    assert printed.exit_code == 0, printed.output
    assert printed.stdout == target.read_text(encoding="utf-8")
    assert printed.stdout == "-DOCSTART-\tO\n\nParis\tB-LOC\n\n-DOCSTART-\tO\n\nRome\tO\n\n"


@pytest.mark.parametrize("output", [None, "out.conll"])
def test_a_token_conll_cannot_hold_is_refused_naming_sentence_and_token(
    run: Path, tmp_path: Path, output: str | None
) -> None:
    """On stdout as in a CoNLL file: a tab in a token would split it into two columns."""
    source = tmp_path / "in.jsonl"
    rows = [{"tokens": ["Paris"]}, {"id": "tabbed", "tokens": ["Paris", "a\tb"]}]
    source.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    args = [] if output is None else ["-o", tmp_path / output]
    result = invoke("predict", "--run", run, source, *args)
    assert_user_error(
        result,
        f"{source}: sentence 'tabbed', token 1: token holds a separator or line break: 'a\\tb'",
        "-o FILE.jsonl",
    )
    assert result.stdout == ""
    assert output is None or not (tmp_path / output).exists()


def test_an_empty_sentence_is_refused_for_conll_and_kept_in_json_lines(
    run: Path, tmp_path: Path
) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text('{"tokens": ["Paris"]}\n{"tokens": []}\n', encoding="utf-8")
    for args in ([], ["-o", tmp_path / "out.conll"]):
        result = invoke("predict", "--run", run, source, *args)
        assert_user_error(
            result, f"{source}: sentence 's-2' has no tokens: a CoNLL file cannot hold"
        )
        assert result.stdout == ""
    target = tmp_path / "out.jsonl"
    result = invoke("predict", "--run", run, source, "-o", target)
    assert result.exit_code == 0, result.output
    got = [(s.sentence_id, s.tokens, s.tags) for s in read(target).sentences]
    assert got == [("s-1", ("Paris",), ("B-LOC",)), ("s-2", (), ())]


def test_write_conll_blames_an_empty_sentence_for_being_empty(tmp_path: Path) -> None:
    """Not for "some sentences have tags and some do not": it has no tags as it has
    no tokens (`nerkit convert in.jsonl out.conll` goes through here too)."""
    sentences = [Sentence(("Paris",), ("B-LOC",), "s-1"), Sentence((), (), "s-2")]
    with pytest.raises(NerkitError, match="'s-2' has no tokens: a CoNLL file cannot hold"):
        write_conll(sentences, tmp_path / "out.conll")
    assert not (tmp_path / "out.conll").exists()
