"""Parquet and Arrow tables, as Hugging Face ``datasets`` writes them: readers,
writers, ClassLabel names, shard folders and dataset folders in the Hub's layouts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import SHARED_DATA, requires_shared_data
from io_utils import read_error

from nerkit.datasets import open_dataset
from nerkit.errors import ConfigError, DatasetError, InputError, NerkitError
from nerkit.io import detect_format, read, read_arrow, read_parquet, write, write_parquet
from nerkit.io.table import class_label_names
from nerkit.testing import toy_corpus
from nerkit.types import Sentence, Span

NAMES = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]
TOKENS = [["John", "lives", "in", "New", "York"], ["Hi"]]
IDS = [[1, 0, 0, 3, 4], [0]]
EXPECTED = (
    Sentence(("John", "lives", "in", "New", "York"), ("B-PER", "O", "O", "B-LOC", "I-LOC"), "0"),
    Sentence(("Hi",), ("O",), "1"),
)


def hf_metadata(names: list[str], wrapper: str = "List", column: str = "ner_tags") -> dict:
    """The ``huggingface`` schema metadata ``datasets`` writes: ``List`` in current
    versions, ``Sequence`` in 2.x; ``"short"`` is the ``[ClassLabel]`` list form."""
    label = {"names": names, "_type": "ClassLabel"}
    feature: Any = [label] if wrapper == "short" else {"feature": label, "_type": wrapper}
    features = {
        "id": {"dtype": "string", "_type": "Value"},
        "tokens": {"feature": {"dtype": "string", "_type": "Value"}, "_type": wrapper},
        column: feature,
    }
    return {"huggingface": json.dumps({"info": {"features": features}})}


def hf_table(
    tags: list | None = None,
    column: str = "ner_tags",
    metadata: dict | None = None,
    tokens: list | None = None,
    **extra: list,
) -> pa.Table:
    columns = {
        "id": [str(i) for i in range(len(tokens or TOKENS))],
        "tokens": tokens or TOKENS,
        column: IDS if tags is None else tags,
        **extra,
    }
    table = pa.table(columns)
    return table.replace_schema_metadata(metadata if metadata is not None else hf_metadata(NAMES))


def parquet(tmp_path: Path, table: pa.Table, name: str = "train.parquet") -> Path:
    path = tmp_path / name
    pq.write_table(table, path)
    return path


def arrow_stream(path: Path, table: pa.Table) -> Path:
    with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return path


def error(path: Path, **options: object) -> str:
    return read_error(read, path, **options)


# ------------------------------------------------------------ Hugging Face files


@pytest.mark.parametrize("wrapper", ["List", "Sequence", "short"])
def test_class_label_ids_read_as_their_names(tmp_path: Path, wrapper: str) -> None:
    path = parquet(tmp_path, hf_table(metadata=hf_metadata(NAMES, wrapper)))
    result = read(path)
    assert result.sentences == EXPECTED
    assert result.scheme == "IOB2"


def test_arrow_stream_as_save_to_disk_writes_it(tmp_path: Path) -> None:
    path = arrow_stream(tmp_path / "data-00000-of-00001.arrow", hf_table())
    assert detect_format(path) == "arrow"
    assert read(path).sentences == EXPECTED


def test_arrow_ipc_file_format_too(tmp_path: Path) -> None:
    path = tmp_path / "t.feather"
    table = hf_table()
    with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)
    assert read_arrow(path).sentences == EXPECTED


def test_string_tags_under_tags_or_ner_tags(tmp_path: Path) -> None:
    strings = [list(s.tags) for s in EXPECTED]
    for column in ("tags", "ner_tags"):
        path = parquet(tmp_path, hf_table(strings, column, metadata={}), f"{column}.parquet")
        assert read(path).sentences == EXPECTED
        # names for integer ids cannot apply to string tags: not silently ignored
        with pytest.raises(ConfigError, match="tag_names applies to integer tag ids only"):
            read(path, tag_names=NAMES)


def test_integer_ids_without_names_need_tag_names(tmp_path: Path) -> None:
    path = parquet(tmp_path, hf_table(metadata={}))
    message = error(path)
    assert "'ner_tags' holds integer tag ids" in message and "tag_names" in message
    assert read(path, tag_names=NAMES).sentences == EXPECTED
    # Names given by hand win over the file's.
    path = parquet(tmp_path, hf_table(), "named.parquet")
    renamed = [n.replace("PER", "P") for n in NAMES]
    assert read(path, tag_names=renamed).sentences[0].tags[0] == "B-P"
    with pytest.raises(InputError, match="no 'O'"):
        read(path, tag_names=["B-X", "I-X"])


def test_id_out_of_range_names_row_and_position(tmp_path: Path) -> None:
    path = parquet(tmp_path, hf_table([[1, 0, 0, 3, 4], [7]]))
    message = error(path)
    assert "row index 1: ner_tags[0] is 7, not an id of the 5 tag names (0-4)" in message


def test_row_errors_name_the_row_index_and_show_the_row(tmp_path: Path) -> None:
    path = parquet(tmp_path, hf_table([[1, 0, 0, 3], [0]]))
    message = error(path)
    assert "row index 0: 5 tokens but 4 tags" in message and "John" in message
    path = parquet(tmp_path, hf_table(tokens=[["a", None], ["b"]], tags=[[0, 0], [0]]), "n.parquet")
    assert "row index 0: tokens must be a list of strings" in error(path)
    path = parquet(tmp_path, hf_table(tokens=[["a"], ["b", ""]], tags=[[0], [0, 0]]), "e.parquet")
    assert "row index 1: token 1 is empty" in error(path)
    path = parquet(
        tmp_path, hf_table([["B-PER"], ["X-Y"]], "tags", {}, [["a"], ["b"]]), "t.parquet"
    )
    assert "row index 1" in error(path)


def test_invalid_transitions_are_reported_by_row_index(tmp_path: Path) -> None:
    path = parquet(tmp_path, hf_table([[0, 0, 0, 0, 4], [2]]))
    result = read(path)
    assert [(r.sentence_index, r.line) for r in result.invalid] == [(0, 0), (1, 1)]
    assert "first: row index 0, I-LOC after O" in result.summary()


def test_missing_or_ambiguous_columns(tmp_path: Path) -> None:
    path = parquet(tmp_path, pa.table({"words": [["a"]], "ner_tags": [["O"]]}))
    assert "no 'tokens' column (columns: words, ner_tags)" in error(path)
    strings = [list(s.tags) for s in EXPECTED]
    both = hf_table(strings, "tags", {}, ner_tags=IDS)
    path = parquet(tmp_path, both, "both.parquet")
    assert "both 'tags' and 'ner_tags'" in error(path)
    assert read(path, tag_col="tags").sentences == EXPECTED
    assert "no column 'labels' (tag_col)" in error(path, tag_col="labels")
    with pytest.raises(ConfigError, match="in a table, tag_col names a column"):
        read(path, tag_col=2)
    with pytest.raises(ConfigError, match="tag_names must be a list"):
        read(path, tag_names="O B-PER")
    # A tag-like list column that is not read must not leave the data untagged silently.
    path = parquet(tmp_path, hf_table(strings, "ner_labels", {}), "misnamed.parquet")
    assert "pass tag_col='ner_labels'" in error(path)
    assert read(path, tag_col="ner_labels").sentences == EXPECTED
    path = parquet(tmp_path, hf_table([[1.0]], "ner_tags", {}, [["a"]]), "floats.parquet")
    assert "holds double values" in error(path)


def test_untagged_table_and_untagged_rows(tmp_path: Path) -> None:
    path = parquet(tmp_path, pa.table({"tokens": TOKENS}))
    assert [s.tags for s in read(path).sentences] == [(), ()]
    # a null tags cell in a tagged table would lose that sentence's entities
    path = parquet(tmp_path, hf_table([IDS[0], None]), "some.parquet")
    assert "row index 1: this row has neither tags nor spans" in error(path)


def test_tags_false_reads_tokens_and_ids_of_any_table(tmp_path: Path) -> None:
    """Tables the default read refuses: integer ids without names, both tag columns,
    a misnamed tag column, a null tags cell; spans are not read either."""
    spans = [[{"start": 0, "end": 1, "label": "PER"}], None]
    untagged = [("0", ("John", "lives", "in", "New", "York"), ()), ("1", ("Hi",), ())]
    for name, table in [
        ("ids.parquet", hf_table(metadata={}, spans=spans)),
        ("both.parquet", hf_table([["x"] * 5, ["y"]], "tags", {}, ner_tags=IDS)),
        ("misnamed.parquet", hf_table(IDS, "labels", {})),
        ("null.parquet", hf_table([IDS[0], None])),
    ]:
        path = parquet(tmp_path, table, name)
        error(path)
        got = [(s.sentence_id, s.tokens, s.tags) for s in read(path, tags=False).sentences]
        assert got == untagged, name
        assert not any(s.spans for s in read(path, tags=False).sentences)
    path = arrow_stream(tmp_path / "data.arrow", hf_table(metadata={}, document_id=["d", "d"]))
    assert {s.document_id for s in read(path, tags=False).sentences} == {"d"}


def test_tags_false_checks_tokens_and_refuses_tag_options(tmp_path: Path) -> None:
    path = parquet(tmp_path, hf_table(tokens=[["a"], ["b", ""]], tags=[[9], [0, 0]], metadata={}))
    message = error(path, tags=False)
    # the row shown as read: its tokens, no tags
    assert 'row index 1: token 1 is empty: \'{"tokens": ["b", ""]}\'' in message
    path = parquet(tmp_path, pa.table({"words": [["a"]]}), "words.parquet")
    assert "no 'tokens' column (columns: words)" in error(path, tags=False)
    with pytest.raises(ConfigError, match="tags=False reads no tags"):
        read(path, tags=False, tag_col="ner_tags")
    with pytest.raises(ConfigError, match="tags=False reads no tags"):
        read(path, tags=False, tag_names=NAMES)


def test_not_a_table_is_an_input_error(tmp_path: Path) -> None:
    for name in ("x.parquet", "x.arrow"):
        path = tmp_path / name
        path.write_text("John B-PER\n", encoding="utf-8")
        assert "not a readable" in error(path)


# -------------------------------------------------------------- writing


def test_round_trip_keeps_ids_spans_and_untagged_sentences(tmp_path: Path) -> None:
    sentences = (
        Sentence(
            ("a", "b", "c"), ("B-X", "I-X", "O"), "s-1", "doc-1", (Span(0, 2, "X"), Span(1, 2, "Y"))
        ),
        Sentence(("東京",), ("B-LOC",), "s-2", None),
        Sentence(("d",), ("B-Y",), "s-3", "doc-2"),
    )
    untagged = (Sentence(("東京",), (), "s-1", None), Sentence(("d",), (), "s-2", "doc-2"))
    for name in ("rt.parquet", "rt.arrow"):
        for corpus in (sentences, untagged):
            write(corpus, tmp_path / name)
            assert read(tmp_path / name).sentences == corpus
        # a file with some rows untagged is refused on reading: not written either
        with pytest.raises(NerkitError, match="sentence 's-2' has no tags, but sentence 's-1'"):
            write((sentences[0], untagged[1]), tmp_path / name)


def test_feather_is_written_as_feather_readers_read_it(tmp_path: Path) -> None:
    import pyarrow.feather as feather

    path = tmp_path / "out.feather"
    write(EXPECTED, path)
    assert feather.read_table(path).column("tokens").to_pylist()[1] == ["Hi"]
    assert read(path).sentences == EXPECTED


def test_written_tags_are_strings_the_same_in_every_file(tmp_path: Path) -> None:
    # ClassLabel ids of each file's own tags would differ between a data set's files
    # (test lacks a tag of train), and datasets reads all splits with train's names
    path = tmp_path / "out.parquet"
    write_parquet(EXPECTED, path)
    schema = pq.read_schema(path)
    assert schema.field("ner_tags").type == pa.list_(pa.string())
    assert class_label_names(schema, "ner_tags") is None
    assert pq.read_table(path).column("ner_tags").to_pylist() == [
        ["B-PER", "O", "O", "B-LOC", "I-LOC"],
        ["O"],
    ]


@pytest.mark.parametrize("name", ["out.parquet", "out.arrow"])
def test_an_empty_sentence_of_a_tagged_file_has_empty_tags_not_null(
    tmp_path: Path, name: str
) -> None:
    # run_ner.py collects the labels with set(label) for every row: a null breaks it
    path = tmp_path / name
    spans_only = Sentence(("a", "b"), (), "s-3", None, (Span(0, 2, "X"), Span(1, 2, "Y")))
    sentences = (EXPECTED[1], Sentence((), (), "s-2"), spans_only)
    write(sentences, path)
    assert read(path).sentences[:2] == sentences[:2]
    written = pq.read_table(path) if name.endswith(".parquet") else _read_stream(path)
    # null only for the sentence given only spans, whose tags the reader encodes
    assert written.column("ner_tags").to_pylist() == [["O"], [], None]
    assert read(path).sentences[2].tags == ("B-X", "I-X")
    labels: set[str] = set()
    for label in written.column("ner_tags").to_pylist()[:2]:
        labels |= set(label)
    assert labels == {"O"}
    # an untagged file, as nerkit predict reads it, still has no tags column
    untagged = (Sentence(("Hi",), (), "s-1"), Sentence((), (), "s-2"))
    write(untagged, path)
    assert read(path).sentences == untagged
    written = pq.read_table(path) if name.endswith(".parquet") else _read_stream(path)
    assert written.column_names == ["id", "tokens"]


def _read_stream(path: Path) -> pa.Table:
    with pa.memory_map(str(path)) as source:
        return pa.ipc.open_stream(source).read_all()


def test_unwritable_text_is_an_error_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "out.parquet"
    with pytest.raises(NerkitError, match="cannot write .*out.parquet"):
        write([Sentence(("a\udc80",), ("O",), "s")], path)
    assert not any(tmp_path.iterdir())


def test_failed_write_leaves_nothing(tmp_path: Path) -> None:
    path = tmp_path / "out.parquet"
    write_parquet(EXPECTED, path)
    before = path.read_bytes()
    with pytest.raises(Exception, match="empty token"):
        write([Sentence(("a", ""), ("O", "O"), "bad")], path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["out.parquet"]


# ----------------------------------------------------------- shards and folders


def test_folder_of_shards_reads_in_name_order(tmp_path: Path) -> None:
    folder = tmp_path / "train"
    folder.mkdir()
    arrow_stream(folder / "data-00001-of-00002.arrow", hf_table(tokens=[["b"]], tags=[[0]]))
    arrow_stream(folder / "data-00000-of-00002.arrow", hf_table(tokens=[["a"]], tags=[[1]]))
    (folder / "state.json").write_text("{}", encoding="utf-8")
    assert detect_format(folder) == "arrow"
    result = read(folder)
    assert [(s.tokens, s.tags) for s in result.sentences] == [
        (("a",), ("B-PER",)),
        (("b",), ("O",)),
    ]
    other = pa.table({"tokens": [["c"]]})
    arrow_stream(folder / "data-00002-of-00002.arrow", other)
    assert "differ from those of data-00000-of-00002.arrow" in error(folder)


def test_each_shard_is_read_with_its_own_tag_names(tmp_path: Path) -> None:
    folder = tmp_path / "train"
    folder.mkdir()
    parquet(
        folder,
        hf_table(tokens=[["Paris"]], tags=[[1]], metadata=hf_metadata(["O", "B-LOC"])),
        "0000.parquet",
    )
    parquet(
        folder,
        hf_table(tokens=[["Bob"]], tags=[[1]], metadata=hf_metadata(["O", "B-PER"])),
        "0001.parquet",
    )
    assert [s.tags for s in read(folder).sentences] == [("B-LOC",), ("B-PER",)]
    # a row error names the shard and the row's index over the whole folder
    parquet(
        folder, hf_table(tokens=[["x"]], tags=[[5]], metadata=hf_metadata(["O"])), "0002.parquet"
    )
    message = error(folder / "0002.parquet")
    assert "row index 0" in message
    with pytest.raises(InputError, match=r"0002.parquet, row index 2: ner_tags\[0\] is 5"):
        read(folder)


def test_a_saved_folder_reads_the_files_its_state_lists(tmp_path: Path) -> None:
    # datasets' map() leaves cache-*.arrow files in a folder loaded with load_from_disk
    folder = tmp_path / "train"
    folder.mkdir()
    arrow_stream(folder / "data-00000-of-00001.arrow", hf_table())
    arrow_stream(folder / "cache-5d2e.arrow", hf_table())
    state = {"_data_files": [{"filename": "data-00000-of-00001.arrow"}], "_split": "train"}
    (folder / "state.json").write_text(json.dumps(state), encoding="utf-8")
    assert read(folder).sentences == EXPECTED
    state["_data_files"].append({"filename": "data-00001-of-00002.arrow"})
    (folder / "state.json").write_text(json.dumps(state), encoding="utf-8")
    assert "state.json lists data files that are not there" in error(folder)


def test_another_tool_s_spans_column_is_left_alone(tmp_path: Path) -> None:
    # WikiANN: spans as strings that the tags say in full
    path = parquet(tmp_path, hf_table(spans=[["PER: John", "LOC: New York"], []]))
    assert read(path).sentences == EXPECTED


def test_large_and_fixed_size_lists_are_lists(tmp_path: Path) -> None:
    big = pa.large_list(pa.large_string())
    table = pa.table(
        {"tokens": pa.array([["a", "b"]], big), "labels": pa.array([["B-X", "O"]], big)}
    )
    assert "pass tag_col='labels'" in error(parquet(tmp_path, table, "large.parquet"))
    fixed = pa.table(
        {
            "tokens": pa.array([["a", "b"]], pa.list_(pa.string(), 2)),
            "ner_tags": pa.array([[1, 0]], pa.list_(pa.int64(), 2)),
        }
    ).replace_schema_metadata(hf_metadata(["O", "B-X"]))
    assert read(parquet(tmp_path, fixed, "fixed.parquet")).sentences[0].tags == ("B-X", "O")


def test_folder_format_must_be_one_table_format(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no .parquet or .arrow files"):
        detect_format(tmp_path)
    parquet(tmp_path, hf_table(), "a.parquet")
    arrow_stream(tmp_path / "b.arrow", hf_table())
    with pytest.raises(ConfigError, match="both .parquet and .arrow"):
        detect_format(tmp_path)
    assert len(read_parquet(tmp_path).sentences) == 2  # the format named picks its files


def test_dataset_dict_saved_to_disk_is_a_dataset(tmp_path: Path) -> None:
    root = tmp_path / "wnut"
    for split in ("train", "validation", "test"):
        (root / split).mkdir(parents=True)
        arrow_stream(root / split / "data-00000-of-00001.arrow", hf_table())
        (root / split / "dataset_info.json").write_text("{}", encoding="utf-8")
    (root / "dataset_dict.json").write_text('{"splits": []}', encoding="utf-8")
    loaded = open_dataset(root)
    assert list(loaded.corpus.splits) == ["train", "dev", "test"]
    assert loaded.corpus["dev"] == EXPECTED


def test_hub_layout_reads_the_data_folder(tmp_path: Path) -> None:
    data = tmp_path / "repo" / "data"
    data.mkdir(parents=True)
    (tmp_path / "repo" / "README.md").write_text("# card", encoding="utf-8")
    parquet(data, hf_table(), "train-00000-of-00001.parquet")
    parquet(data, hf_table(), "validation-00000-of-00001.parquet")
    loaded = open_dataset(tmp_path / "repo")
    assert {s: len(v) for s, v in loaded.corpus.splits.items()} == {"train": 2, "dev": 2}


def test_flat_shards_of_one_split_are_read_as_push_to_hub_names_them(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    corpus = toy_corpus()
    write_parquet(corpus["train"][:20], data / "train-00000-of-00002.parquet")
    write_parquet(corpus["train"][20:], data / "train-00001-of-00002.parquet")
    write_parquet(corpus["test"], data / "test-00000-of-00001.parquet")
    loaded = open_dataset(tmp_path)
    assert loaded.files["train"] == data / "train-*-of-00002.parquet"
    assert loaded.corpus["train"] == tuple(corpus["train"])
    # a pattern is read as the shards it names, in name order
    assert read(data / "train-0000[01]-of-00002.parquet").sentences == tuple(corpus["train"])
    assert "no file matches this pattern" in error(data / "dev-*.parquet")
    # shards of two sets, or one missing: not one table, and never half a split
    (data / "train-00001-of-00002.parquet").rename(data / "train-00001-of-00003.parquet")
    with pytest.raises(DatasetError, match="not one table's complete set of shards"):
        open_dataset(tmp_path)
    (data / "train-00001-of-00003.parquet").unlink()
    (data / "train-00000-of-00002.parquet").rename(data / "train-00001-of-00002.parquet")
    with pytest.raises(DatasetError, match=r"shards missing: train-00000-of-00002\)"):
        open_dataset(tmp_path)


def test_shards_named_with_a_hash_as_older_datasets_named_them(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    corpus = toy_corpus()
    write_parquet(corpus["train"][:20], data / "train-00000-of-00002-3f2a9c.parquet")
    write_parquet(corpus["train"][20:], data / "train-00001-of-00002-3f2a9c.parquet")
    loaded = open_dataset(tmp_path)
    assert loaded.corpus["train"] == tuple(corpus["train"])


def test_jsonl_with_integer_ids_points_to_parquet(tmp_path: Path) -> None:
    path = tmp_path / "train.jsonl"
    path.write_text(json.dumps({"tokens": ["a"], "ner_tags": [1]}) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match="Dataset.to_parquet keeps the names"):
        read(path)


# ----------------------------------------------------------------- commands


def test_convert_and_eval_take_tables_and_shard_folders(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from nerkit.cli.app import app

    runner = CliRunner()
    folder = tmp_path / "train"
    folder.mkdir()
    arrow_stream(folder / "data-00000-of-00001.arrow", hf_table())
    out = tmp_path / "train.conll"
    result = runner.invoke(app, ["convert", str(folder), str(out)])
    assert result.exit_code == 0, result.output
    ids = tmp_path / "ids"
    ids.mkdir()
    pq.write_table(pa.table({"tokens": [["John"]], "tags": [[1]]}), ids / "train.parquet")
    named = tmp_path / "named.conll"
    result = runner.invoke(
        app, ["convert", "--dataset", str(ids), "-D", "tag_names=O,B-PER", str(named)]
    )
    assert result.exit_code == 0, result.output
    assert named.read_text(encoding="utf-8") == "John\tB-PER\n\n"
    pattern = tmp_path / "pattern.conll"
    result = runner.invoke(app, ["convert", str(folder / "data-*.arrow"), str(pattern)])
    assert result.exit_code == 0, result.output
    assert pattern.read_text(encoding="utf-8") == out.read_text(encoding="utf-8")
    assert out.read_text(encoding="utf-8").startswith("John\tB-PER\nlives\tO\n")
    pred = tmp_path / "pred.parquet"
    write([EXPECTED[0], Sentence(("Hi",), ("B-PER",), "1")], pred)
    result = runner.invoke(app, ["eval", str(folder), str(pred), "--json"])
    assert result.exit_code == 0, result.output
    micro = json.loads(result.stdout)["micro"]
    assert (micro["precision"], micro["recall"]) == pytest.approx((2 / 3, 1.0))


@requires_shared_data
def test_wnut17_as_parquet_has_the_same_fingerprints(tmp_path: Path) -> None:
    # A corpus written as tables and read back is the same data to every run.
    named = open_dataset("wnut17", data_dir=SHARED_DATA, download=False)
    for split, sentences in named.corpus.splits.items():
        write(sentences, tmp_path / f"{split}.parquet")
    copied = open_dataset(tmp_path)
    assert dict(copied.fingerprints) == dict(named.fingerprints)
    assert copied.corpus["test"] == named.corpus["test"]
