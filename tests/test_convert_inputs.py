"""``nerkit convert``: what it refuses to write over, where it writes (a file or
stdout), how it is told to read its input (-D), the inputs it reads back (untagged
CoNLL, Hugging Face rows with string ``ner_tags``) and what it says it did not keep."""

from __future__ import annotations

import csv
import json
import os
import threading
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner, Result

from nerkit.cli.app import app
from nerkit.errors import InputError
from nerkit.io import read, read_csv, read_jsonl, write
from nerkit.types import Sentence

runner = CliRunner()

GOLD = "EU\tB-ORG\nrejects\tO\n\nPeter\tB-PER\nBlackburn\tI-PER\n"
# token, part of speech, tag: as the CoNLL-2002 Dutch files are
THREE_COLUMNS = "-DOCSTART- -DOCSTART- O\n\nDe Art O\nEU N B-ORG\n\nPeter N B-PER\n"


def invoke(*args: str | Path) -> Result:
    return runner.invoke(app, [str(a) for a in args], env={"COLUMNS": "300"})


def put(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def jsonl(path: Path, *rows: dict) -> Path:
    return put(path, "".join(json.dumps(row) + "\n" for row in rows))


def assert_user_error(result: Result, *expected: str) -> None:
    """Exit code 2, one ``Error:`` message holding ``expected``, no traceback."""
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.stderr.startswith("Error: "), result.stderr
    for text in expected:
        assert text in result.stderr, (text, result.stderr)


# ----------------------------------------------------------- OUT: files


def test_an_existing_out_is_replaced_only_with_overwrite(tmp_path: Path) -> None:
    src = put(tmp_path / "gold.conll", GOLD)
    out = put(tmp_path / "out.conll", "kept\tO\n")
    result = invoke("convert", src, out, "--to-scheme", "BIOES")
    assert_user_error(result, f"{out} exists: give --overwrite to replace it")
    assert out.read_text(encoding="utf-8") == "kept\tO\n"
    result = invoke("convert", src, out, "--to-scheme", "BIOES", "--overwrite")
    assert result.exit_code == 0, result.output
    assert [s.tags for s in read(out, scheme="BIOES").sentences] == [
        ("S-ORG", "O"),
        ("B-PER", "E-PER"),
    ]


def test_an_existing_out_is_refused_before_the_input_is_read(tmp_path: Path) -> None:
    # a bad input would be an error too: the one about OUT comes first, before a long read
    src = put(tmp_path / "bad.conll", "EU\tX-ORG\n")
    out = put(tmp_path / "out.jsonl", "")
    assert_user_error(invoke("convert", src, out), f"{out} exists")


def test_a_fifo_is_written_into_without_overwrite(tmp_path: Path) -> None:
    # nothing there is replaced: what is written goes to the process that reads it
    src = put(tmp_path / "gold.conll", GOLD)
    fifo = tmp_path / "pipe.conll"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    try:
        result = invoke("convert", src, fifo, "--to-scheme", "BIOES")
    finally:
        if reader.is_alive():  # the command failed before it opened the FIFO
            with fifo.open("wb"):
                pass
        reader.join(timeout=30)
    assert result.exit_code == 0, result.output
    assert received == [b"EU\tS-ORG\nrejects\tO\n\nPeter\tB-PER\nBlackburn\tE-PER\n\n"]


def test_the_input_as_out_is_refused_even_with_overwrite(tmp_path: Path) -> None:
    src = put(tmp_path / "same.conll", GOLD)
    for extra in ([], ["--overwrite"]):
        result = invoke("convert", src, src, "--to-scheme", "BIOES", *extra)
        assert_user_error(
            result,
            f"{src} is a file this command reads: write to another file (--overwrite never "
            "replaces a file that is read)",
        )
    assert src.read_text(encoding="utf-8") == GOLD
    # the same file by other names
    os.link(src, tmp_path / "hard.conll")
    (tmp_path / "soft.conll").symlink_to(src)
    for other in ("hard.conll", "soft.conll"):
        result = invoke("convert", src, tmp_path / other, "--overwrite")
        assert_user_error(result, f"a file this command reads ({src}, by another name)")
    assert src.read_text(encoding="utf-8") == GOLD


def test_a_split_file_of_the_dataset_as_out_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    put(folder / "train.conll", GOLD)
    put(folder / "test.conll", GOLD)
    for name in ("test.conll", "train.conll"):  # the split converted, and another one read
        out = folder / name
        result = invoke("convert", "--dataset", folder, "--split", "test", out, "--overwrite")
        assert_user_error(result, f"{out} is a file this command reads")
        assert out.read_text(encoding="utf-8") == GOLD
    result = invoke("convert", "--dataset", folder, "--split", "test", folder / "test.jsonl")
    assert result.exit_code == 0, result.output


def test_out_among_the_shards_read_is_refused(tmp_path: Path) -> None:
    shards = tmp_path / "train"
    shards.mkdir()
    write([Sentence(("EU",), ("B-ORG",))], shards / "data-00000-of-00001.arrow")
    # written there, OUT would be read as a shard of the table the next time
    result = invoke("convert", shards, shards / "more.arrow")
    assert_user_error(result, f"is in {shards}, whose files are read as one table")
    result = invoke("convert", shards / "data-*.arrow", shards / "data-00001.arrow")
    assert_user_error(result, "is one of the files", "data-*.arrow names, which are read")
    assert sorted(p.name for p in shards.iterdir()) == ["data-00000-of-00001.arrow"]


def test_a_folder_as_out_is_an_error_about_writing(tmp_path: Path) -> None:
    src = put(tmp_path / "gold.conll", GOLD)
    folder = tmp_path / "out"
    folder.mkdir()
    for extra in ([], ["--overwrite"]):
        result = invoke("convert", src, folder, *extra)
        assert_user_error(result, f"cannot write {folder}: it is a folder (give the file to write)")
        assert "shards" not in result.stderr
    assert list(folder.iterdir()) == []


# ---------------------------------------------------------- OUT: stdout


@pytest.mark.parametrize("to_format", [None, "conll", "jsonl", "csv"])
def test_dash_writes_to_stdout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, to_format: str | None
) -> None:
    monkeypatch.chdir(tmp_path)
    src = jsonl(
        tmp_path / "in.jsonl",
        {"id": "a", "tokens": ["Peter", "Müller"], "tags": ["B-PER", "I-PER"]},
    )
    extra = ["--to-format", to_format] if to_format else []
    result = invoke("convert", src, "-", "--to-scheme", "BIOES", *extra)
    assert result.exit_code == 0, result.output
    assert not (tmp_path / "-").exists()
    # stdout holds what the file would hold
    suffix = {"jsonl": ".jsonl", "csv": ".csv"}.get(to_format or "conll", ".conll")
    file = tmp_path / f"file{suffix}"
    assert invoke("convert", src, file, "--to-scheme", "BIOES").exit_code == 0
    assert result.stdout_bytes == file.read_bytes()
    assert "Wrote 1 sentences (2 tokens, 1 entities) in BIOES to stdout." in result.stderr


def test_dash_refuses_a_binary_format(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    src = put(tmp_path / "gold.conll", GOLD)
    result = invoke("convert", src, "-", "--to-format", "parquet")
    assert_user_error(result, "parquet is a binary format and is not written to stdout")
    assert not (tmp_path / "-").exists()


# ------------------------------------------------------------ -D for IN


def test_d_names_the_tag_column_of_a_single_table(tmp_path: Path) -> None:
    src = tmp_path / "labels.parquet"
    pq.write_table(pa.table({"tokens": [["Bob", "x"]], "labels": [["B-PER", "O"]]}), src)
    out = tmp_path / "out.jsonl"
    # the reader's advice, given the command's way
    assert_user_error(invoke("convert", src, out), "pass tag_col='labels'")
    result = invoke("convert", src, out, "--tag-col", "1")
    assert_user_error(result, "are for CoNLL input", "-D tag_col=NAME")
    result = invoke("convert", src, out, "-D", "tag_col=labels")
    assert result.exit_code == 0, result.output
    assert [s.tags for s in read(out).sentences] == [("B-PER", "O")]


def test_d_names_the_tags_of_integer_ids(tmp_path: Path) -> None:
    src = tmp_path / "ids.parquet"
    pq.write_table(pa.table({"tokens": [["Bob", "x"]], "ner_tags": [[1, 0]]}), src)
    out = tmp_path / "out.conll"
    assert_user_error(invoke("convert", src, out), "tag_names")
    result = invoke("convert", src, out, "-D", "tag_names=O,B-PER")
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8") == "Bob\tB-PER\nx\tO\n\n"


def test_d_reads_a_conll_file_as_the_flags_do(tmp_path: Path) -> None:
    src = put(tmp_path / "cols.conll", "EU\tB-ORG\tNNP\nsaid\tO\tVBD\n")
    result = invoke("convert", src, tmp_path / "a.jsonl", "-D", "tag_col=1", "-D", "format=conll")
    assert result.exit_code == 0, result.output
    assert [s.tags for s in read(tmp_path / "a.jsonl").sentences] == [("B-ORG", "O")]
    result = invoke("convert", src, tmp_path / "b.jsonl", "-D", "tag_col=1", "--tag-col", "1")
    assert_user_error(result, "give the columns once")
    result = invoke(
        "convert", src, tmp_path / "b.jsonl", "-D", "from_scheme=auto", "--from-scheme", "IOB2"
    )
    assert_user_error(result, "give --from-scheme or -D from_scheme, not both")


def test_d_options_a_format_does_not_take_are_named(tmp_path: Path) -> None:
    conll = put(tmp_path / "gold.conll", GOLD)
    result = invoke("convert", conll, tmp_path / "a.jsonl", "-D", "tag_names=O,B-PER")
    assert_user_error(
        result,
        "-D tag_names does not apply to conll input",
        "-D takes format, from_scheme, token_col",
    )
    rows = jsonl(tmp_path / "in.jsonl", {"tokens": ["a"], "tags": ["O"]})
    result = invoke("convert", rows, tmp_path / "b.conll", "-D", "tag_col=labels")
    assert_user_error(result, "-D tag_col does not apply to jsonl input", "from 'ner_tags'")
    assert_user_error(invoke("convert", rows, tmp_path / "b.conll", "-D", "colour=red"), "colour")


# ------------------------------------------------------- untagged CoNLL


def test_untagged_conll_reads_back(tmp_path: Path) -> None:
    src = jsonl(
        tmp_path / "in.jsonl",
        {"document_id": "doc-1", "tokens": ["EU", "rejects"]},
        {"document_id": "doc-1", "tokens": ["Peter"]},
    )
    conll = tmp_path / "tokens.conll"
    assert invoke("convert", src, conll).exit_code == 0
    assert conll.read_text(encoding="utf-8") == "-DOCSTART-\n\nEU\nrejects\n\nPeter\n\n"
    back = tmp_path / "back.jsonl"
    result = invoke("convert", conll, back)
    assert result.exit_code == 0, result.output
    assert read(back).sentences == read(src).sentences
    again = tmp_path / "again.conll"
    assert invoke("convert", back, again).exit_code == 0
    assert again.read_bytes() == conll.read_bytes()


def test_a_tag_column_after_a_token_only_line_is_an_error(tmp_path: Path) -> None:
    # read as tokens only, the later line would lose its tag
    src = put(tmp_path / "mixed.conll", "EU\nrejects\n\nPeter\tB-PER\n")
    result = invoke("convert", src, tmp_path / "out.jsonl")
    assert_user_error(
        result,
        f"{src}, line 4: a second column, but the first token line (line 1) has a token only",
    )
    assert not (tmp_path / "out.jsonl").exists()


# -------------------------------------------------- what is not kept


def test_conll_columns_not_read_are_named(tmp_path: Path) -> None:
    src = put(tmp_path / "ned.conll", THREE_COLUMNS)
    result = invoke("convert", src, tmp_path / "ned.jsonl")
    assert result.exit_code == 0, result.output
    assert f"Warning: {tmp_path / 'ned.jsonl'} does not have all that {src} holds:" in (
        result.stderr
    )
    assert (
        "  - column 1 of its 3 columns: convert reads the token column (0) and the tag "
        "column (-1) only"
    ) in result.stderr
    # lines of different lengths, as in the Hironsan corpus
    src = put(tmp_path / "wide.conll", "EU\tx\tB-ORG\nsaid\tx\ty\tz\tO\n")
    result = invoke("convert", src, tmp_path / "wide.jsonl")
    assert "column 1 of its lines of 3 columns (first: line 1)" in result.stderr
    assert "columns 1, 2, 3 of its lines of 5 columns (first: line 2)" in result.stderr
    # the same from a dataset folder
    folder = tmp_path / "data"
    folder.mkdir()
    put(folder / "test.conll", THREE_COLUMNS)
    result = invoke("convert", "--dataset", folder, "--split", "test", tmp_path / "d.jsonl")
    assert result.exit_code == 0, result.output
    assert "column 1 of its 3 columns" in result.stderr


def test_nothing_unread_gives_no_warning(tmp_path: Path) -> None:
    src = put(tmp_path / "gold.conll", GOLD)
    for name in ("a.jsonl", "a.csv", "a.parquet", "b.conll"):
        source = tmp_path / "a.jsonl" if name == "b.conll" else src
        result = invoke("convert", source, tmp_path / name)
        assert result.exit_code == 0, result.output
        assert "Warning" not in result.stderr, result.stderr
    result = invoke("convert", tmp_path / "a.parquet", tmp_path / "c.jsonl")
    assert "Warning" not in result.stderr, result.stderr
    result = invoke("convert", tmp_path / "a.csv", tmp_path / "c.conll")
    assert "Warning" not in result.stderr, result.stderr


def test_table_columns_not_read_are_named(tmp_path: Path) -> None:
    src = tmp_path / "hf.parquet"
    table = pa.table(
        {
            "id": ["0"],
            "tokens": [["EU", "rejects"]],
            "pos_tags": [[22, 42]],
            "chunk_tags": [[11, 21]],
            "ner_tags": [["B-ORG", "O"]],
        }
    )
    pq.write_table(table, src)
    result = invoke("convert", src, tmp_path / "out.jsonl")
    assert result.exit_code == 0, result.output
    assert "  - columns 'pos_tags', 'chunk_tags': convert reads tokens, tags, spans" in (
        result.stderr
    )


def test_row_keys_and_csv_columns_not_read_are_named(tmp_path: Path) -> None:
    src = jsonl(
        tmp_path / "in.jsonl",
        {"tokens": ["EU"], "tags": ["B-ORG"], "pos": ["NNP"]},
        {"tokens": ["x"], "tags": ["O"], "meta": {"source": "web"}},
    )
    result = invoke("convert", src, tmp_path / "out.csv")
    assert result.exit_code == 0, result.output
    assert "  - keys 'pos', 'meta': convert reads tokens, tags, spans" in result.stderr
    table = tmp_path / "in.csv"
    with table.open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["tokens", "tags", "pos", "empty"])
        writer.writerow(['["EU"]', '["B-ORG"]', '["NNP"]', ""])
    result = invoke("convert", table, tmp_path / "out.jsonl")
    assert result.exit_code == 0, result.output
    assert "  - column 'pos': convert reads" in result.stderr  # not 'empty': it holds nothing


# ------------------------------------------ Hugging Face rows: ner_tags


HF_ROW = {"id": "0", "tokens": ["Bob", "x"], "ner_tags": ["B-PER", "O"]}


def test_string_ner_tags_are_read_as_tags(tmp_path: Path) -> None:
    src = jsonl(tmp_path / "hf.jsonl", HF_ROW)
    assert read_jsonl(src).sentences == (Sentence(("Bob", "x"), ("B-PER", "O"), "0"),)
    table = tmp_path / "hf.csv"
    with table.open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["id", "tokens", "ner_tags"])
        writer.writerow(["0", "['Bob', 'x']", "['B-PER', 'O']"])
    assert read_csv(table).sentences == (Sentence(("Bob", "x"), ("B-PER", "O"), "0"),)
    result = invoke("convert", src, tmp_path / "out.conll")
    assert result.exit_code == 0, result.output
    assert "does not have all" not in result.stderr  # (its id is lost: CoNLL has none)
    assert (tmp_path / "out.conll").read_text(encoding="utf-8") == "Bob\tB-PER\nx\tO\n\n"


def test_ner_tags_errors_name_the_key(tmp_path: Path) -> None:
    src = jsonl(tmp_path / "short.jsonl", {"tokens": ["Bob", "x"], "ner_tags": ["B-PER"]})
    with pytest.raises(InputError, match=r"line 1: 2 tokens but 1 ner_tags"):
        read_jsonl(src)
    src = jsonl(tmp_path / "bad.jsonl", {"tokens": ["Bob"], "ner_tags": ["X-PER"]})
    with pytest.raises(InputError, match="line 1: .*X-PER"):
        read_jsonl(src)


def test_integer_ner_tags_are_still_refused(tmp_path: Path) -> None:
    src = jsonl(tmp_path / "ids.jsonl", {"tokens": ["Bob", "x"], "ner_tags": [1, 0]})
    with pytest.raises(InputError, match="Dataset.to_parquet keeps the names"):
        read_jsonl(src)


def test_tags_beside_ner_tags(tmp_path: Path) -> None:
    same = jsonl(tmp_path / "same.jsonl", {**HF_ROW, "tags": ["B-PER", "O"]})
    assert read_jsonl(same).sentences[0].tags == ("B-PER", "O")
    ids = jsonl(tmp_path / "ids.jsonl", {**HF_ROW, "ner_tags": [1, 0], "tags": ["B-PER", "O"]})
    assert read_jsonl(ids).sentences[0].tags == ("B-PER", "O")
    result = invoke("convert", ids, tmp_path / "ids.conll")
    assert "  - key 'ner_tags': convert reads" in result.stderr
    differ = jsonl(tmp_path / "differ.jsonl", {**HF_ROW, "tags": ["B-LOC", "O"]})
    with pytest.raises(InputError, match="line 1: both 'tags' and 'ner_tags' hold tags"):
        read_jsonl(differ)


def test_conll2002_pos_column_is_named(tmp_path: Path, shared_data: Path) -> None:
    src = shared_data / "conll2002" / "ned.testa"
    result = invoke("convert", src, tmp_path / "ned.jsonl")
    assert result.exit_code == 0, result.output
    assert "Read 2,895 sentences (37,687 tokens, 2,616 entities) in IOB2" in result.stderr
    assert "column 1 of its 3 columns: convert reads the token column (0)" in result.stderr
