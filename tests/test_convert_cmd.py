"""``nerkit convert``: what each output format keeps of what was read, and what the
command says about what it does not keep."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
from typer.testing import CliRunner, Result

from nerkit.cli.app import app
from nerkit.io import read

runner = CliRunner()

ROWS = [
    {"id": "a", "document_id": "d1", "tokens": ["John"], "tags": ["B-PER"]},
    {"id": "b", "document_id": "d2", "tokens": ["b"], "tags": ["O"]},
    {"id": "c", "document_id": "d1", "tokens": ["c"], "tags": ["O"]},
]


def invoke(*args: str | Path) -> Result:
    return runner.invoke(app, [str(a) for a in args])


def jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def test_help_says_which_formats_keep_ids() -> None:
    result = invoke("convert", "--help")
    assert result.exit_code == 0
    text = " ".join(result.stdout.split())
    assert "sentence and document ids are carried over" not in text
    assert "JSON lines, CSV, Parquet and Arrow keep sentence and document ids" in text
    assert "CoNLL has no ids: it keeps document boundaries only, as -DOCSTART- lines" in text


def test_ids_written_to_conll_are_named_in_a_warning(tmp_path: Path) -> None:
    src, out = jsonl(tmp_path / "docs.jsonl", ROWS), tmp_path / "docs.conll"
    result = invoke("convert", src, out)
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert f"Warning: {out} is CoNLL, which cannot keep all that was read:" in result.stderr
    assert "sentence ids are not kept (3 of 3; 'a' reads back as 's-1')" in result.stderr
    assert "document ids are not kept ('d1' as 'doc-1', 'd2' as 'doc-2')" in result.stderr
    assert (
        "document 'd1' comes back after 'd2' at sentence 'c': a new -DOCSTART- line starts "
        "it there, and it reads back as a document of its own ('doc-3')"
    ) in result.stderr
    assert "To keep them, convert to JSON lines, CSV, Parquet or Arrow" in result.stderr
    # what the warning says is what reading the file gives back
    assert out.read_text(encoding="utf-8").count("-DOCSTART-") == 3
    back = read(out).sentences
    assert [(s.sentence_id, s.document_id) for s in back] == [
        ("s-1", "doc-1"),
        ("s-2", "doc-2"),
        ("s-3", "doc-3"),
    ]


def test_a_returning_document_alone_is_warned_about(tmp_path: Path) -> None:
    rows = [
        {"document_id": "doc-1", "tokens": ["a"], "tags": ["O"]},
        {"document_id": "doc-2", "tokens": ["b"], "tags": ["O"]},
        {"document_id": "doc-1", "tokens": ["c"], "tags": ["O"]},
    ]
    result = invoke("convert", jsonl(tmp_path / "in.jsonl", rows), tmp_path / "out.conll")
    assert result.exit_code == 0, result.output
    assert "sentence ids" not in result.stderr and "document ids" not in result.stderr
    assert "document 'doc-1' comes back after 'doc-2' at sentence 's-3'" in result.stderr
    assert "('doc-3')" in result.stderr


def test_nothing_to_lose_in_conll_gives_no_warning(tmp_path: Path) -> None:
    # no ids but the names readers give sentences and documents without one (a split
    # cut from one file starts at s-451), or CoNLL read back
    rows = [
        {"id": f"s-{451 + i}", "tokens": row["tokens"], "tags": row["tags"], "document_id": doc}
        for i, (row, doc) in enumerate(zip(ROWS, ("doc-3", "doc-4", "doc-4"), strict=True))
    ]
    first, second = tmp_path / "first.conll", tmp_path / "second.conll"
    for src, out, scheme in (
        (jsonl(tmp_path / "in.jsonl", rows), first, "BIOES"),
        (first, second, "IOB2"),
    ):
        result = invoke("convert", src, out, "--from-scheme", "auto", "--to-scheme", scheme)
        assert result.exit_code == 0, result.output
        assert "Warning" not in result.stderr


def test_other_formats_keep_ids_and_documents_without_a_warning(tmp_path: Path) -> None:
    src = jsonl(tmp_path / "docs.jsonl", ROWS)
    for name in ("out.csv", "out.parquet", "out.arrow", "out.jsonl"):
        result = invoke("convert", src, tmp_path / name)
        assert result.exit_code == 0, result.output
        assert "Warning" not in result.stderr
        back = read(tmp_path / name).sentences
        assert [(s.sentence_id, s.document_id) for s in back] == [
            ("a", "d1"),
            ("b", "d2"),
            ("c", "d1"),
        ]


def test_an_empty_sentence_converted_to_parquet_has_empty_tags(tmp_path: Path) -> None:
    rows = [{"tokens": ["John", "Smith"], "tags": ["B-PER", "I-PER"]}, {"tokens": [], "tags": []}]
    out = tmp_path / "e.parquet"
    result = invoke("convert", jsonl(tmp_path / "e.jsonl", rows), out)
    assert result.exit_code == 0, result.output
    # run_ner.py takes set(label) of every row's labels: a null would break it
    assert pq.read_table(out).column("ner_tags").to_pylist() == [["B-PER", "I-PER"], []]
