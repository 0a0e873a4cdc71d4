"""Named datasets, folders of split files, downloads, fingerprints."""

from __future__ import annotations

import functools
import http.server
import json
import re
import shutil
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import (
    SHARED_DATA,
    SHARED_DATA_REASON,
    closed_port_url,
    has_shared_data,
    requires_shared_data,
)

from nerkit.datasets import (
    BUILTIN_DATASETS,
    DataFile,
    DatasetSpec,
    dataset_names,
    find_split_files,
    fingerprint,
    get_dataset_spec,
    load_dataset,
    open_dataset,
    register_dataset,
    sha256_of,
    split_stats,
    unregister_dataset,
)
from nerkit.datasets.summary import summarize
from nerkit.errors import ConfigError, DatasetError
from nerkit.types import Sentence, Span

TINY = "EU\tB-ORG\nrejects\tO\nGerman\tB-MISC\ncall\tO\n\nPeter\tB-PER\nBlackburn\tI-PER\n"


def tiny_times(n: int) -> str:
    """``n`` copies of TINY (2 sentences each), as one file."""
    return "\n".join([TINY] * n)


def _tiny_spec(name: str, data_file: DataFile, **kwargs: object) -> DatasetSpec:
    return DatasetSpec(
        name=name,
        description="a tiny test dataset",
        language="English",
        license="CC0",
        citation="nobody",
        files={"train": data_file},
        reader_options={"format": "conll"},
        **kwargs,  # type: ignore[arg-type]
    )


@pytest.fixture
def registered() -> Iterator[list[str]]:
    """Names registered by the test; unregistered afterwards."""
    names: list[str] = []
    yield names
    for name in names:
        unregister_dataset(name)


# --------------------------------------------------------- counts (SOURCE.txt)

# The folder of the shared corpora each built-in dataset is copied from.
FOLDERS = {
    spec.name: spec.files[next(iter(spec.files))].path.split("/")[0] for spec in BUILTIN_DATASETS
}
_ROW = re.compile(r"^\s*(\S+)\s+\d+\s+(\d+)\s+(\d+)\s+(\d+)\b(.*)$")


def _source_counts(folder: str) -> dict[str, tuple[int, int, int, dict[str, int]]]:
    """``{file name: (sentences, tokens, entities, per type)}`` from a SOURCE.txt table
    (columns: file, lines, sentences, tokens, entities, then per-type counts written
    either as ``LOC/MISC/ORG/PER``-style slashes or as ``type N, type N``)."""
    text = (SHARED_DATA / folder / "SOURCE.txt").read_text(encoding="utf-8")
    slash_types: list[str] = []
    counts = {}
    for line in text.splitlines():
        header = re.search(r"\b([A-Z]+(?:/[A-Z]+)+)\b", line)
        if header and "entities" in line:
            slash_types = header.group(1).split("/")
        row = _ROW.match(line)
        if not row or row.group(1) in ("file",):
            continue
        rest = row.group(5)
        slashed = re.search(r"\b(\d+(?:/\d+)+)\b", rest)
        if slashed:
            per_type = dict(zip(slash_types, map(int, slashed.group(1).split("/")), strict=True))
        else:
            per_type = {t: int(n) for t, n in re.findall(r"([\w.\-]+) (\d+)", rest)}
        counts[row.group(1)] = (int(row.group(2)), int(row.group(3)), int(row.group(4)), per_type)
    return counts


@pytest.mark.parametrize("name", [spec.name for spec in BUILTIN_DATASETS])
def test_counts_match_source_txt(name: str) -> None:
    if not has_shared_data(FOLDERS[name]):
        pytest.skip(SHARED_DATA_REASON)
    spec = get_dataset_spec(name)
    documented = _source_counts(FOLDERS[name])
    loaded = open_dataset(name, data_dir=SHARED_DATA, download=False)
    if spec.partition:  # one file cut into splits: the documented counts are the total
        (data_file,) = spec.files.values()
        sentences = [s for split in loaded.corpus for s in loaded.corpus[split]]
        expected = {data_file.name: documented[data_file.name]}
        stats = {data_file.name: split_stats(sentences)}
    else:
        expected = {f.name: documented[f.name] for f in spec.files.values()}
        stats = {f.name: loaded.stats(split) for split, f in spec.files.items()}
    for file_name, (n_sentences, n_tokens, n_entities, per_type) in expected.items():
        assert sum(per_type.values()) == n_entities, f"SOURCE.txt table misread for {file_name}"
        got = stats[file_name]
        assert (got.sentences, got.tokens, got.entities) == (n_sentences, n_tokens, n_entities), (
            file_name
        )
        assert dict(got.entity_types) == per_type, file_name


@requires_shared_data
def test_counts_named_in_the_issue() -> None:
    def counts(name: str, split: str) -> tuple[int, int, int]:
        stats = open_dataset(name, data_dir=SHARED_DATA, download=False).stats(split)
        return stats.sentences, stats.tokens, stats.entities

    # WNUT-17 train separates 2394 of its sentences with lines holding only a tab.
    assert counts("wnut17", "train") == (3394, 62730, 1975)
    assert counts("conll2002-es", "train") == (8323, 264715, 18798)
    # Dutch -DOCSTART- lines are document marks, not sentences.
    assert counts("conll2002-nl", "train") == (15806, 202644, 13344)
    assert counts("weibo", "train") == (1350, 73778, 1895)
    assert counts("msra", "test") == (3442, 172601, 6190)


@requires_shared_data
def test_builtin_checksums_and_urls_match_the_shared_copies() -> None:
    for spec in BUILTIN_DATASETS:
        folder = SHARED_DATA / FOLDERS[spec.name]
        source = (folder / "SOURCE.txt").read_text(encoding="utf-8")
        for data_file in spec.files.values():
            assert sha256_of(SHARED_DATA / data_file.path) == data_file.sha256, data_file.path
            if data_file.url:
                commit = re.search(r"commit ([0-9a-f]{40})", source).group(1)  # type: ignore[union-attr]
                assert data_file.url.startswith("https://raw.githubusercontent.com/")
                assert f"/{commit}/" in data_file.url
                assert data_file.url.endswith(("/" + data_file.name, ".zip"))


# ------------------------------------------------------------ named datasets


@requires_shared_data
def test_named_dataset_carries_licence_citation_and_fingerprints() -> None:
    loaded = open_dataset("wnut17", data_dir=SHARED_DATA, download=False)
    corpus = loaded.corpus
    assert list(corpus) == ["train", "dev", "test"]
    assert corpus.name == "wnut17"
    assert corpus.license == "CC BY 4.0"
    assert "Derczynski" in corpus.citation
    assert loaded.files["test"].name == "emerging.test.annotated"
    assert set(loaded.fingerprints) == {"train", "dev", "test"}
    assert loaded.fingerprints["train"] == fingerprint(corpus["train"])
    assert all(len(fp) == 64 for fp in loaded.fingerprints.values())


@requires_shared_data
def test_weibo_tokens_lose_their_segmentation_digit() -> None:
    corpus = load_dataset("weibo", data_dir=SHARED_DATA, download=False)
    text = (SHARED_DATA / "weibo-ner/weiboNER_2nd_conll.train").read_text("utf-8")
    raw = [line.split("\t")[0] for line in text.splitlines() if line.strip()]
    assert raw[:2] == [t + d for t, d in zip(corpus["train"][0].tokens[:2], "01", strict=True)]
    assert [t for s in corpus["train"] for t in s.tokens] == [t[:-1] for t in raw]


@requires_shared_data
def test_target_scheme_converts_tags_and_keeps_entities() -> None:
    iob2 = load_dataset("wnut17", data_dir=SHARED_DATA, download=False)
    bioes = load_dataset("wnut17", data_dir=SHARED_DATA, download=False, scheme="BIOES")
    assert bioes.scheme == "BIOES"
    assert any(tag.startswith("S-") for s in bioes["dev"] for tag in s.tags)
    assert split_stats(bioes["dev"], "BIOES") == split_stats(iob2["dev"], "IOB2")


def test_hironsan_comes_from_the_installed_package(tmp_path: Path) -> None:
    loaded = open_dataset("hironsan", data_dir=tmp_path, download=False)
    corpus = loaded.corpus
    assert [len(corpus[split]) for split in ("train", "dev", "test")] == [450, 25, 25]
    assert loaded.files["train"].parts[-3:] == ("hironsan", "corpus", "iob_sents.txt")
    assert corpus.license == "MIT"
    assert sum(split_stats(corpus[s]).tokens for s in corpus) == 15520
    assert sum(split_stats(corpus[s]).entities for s in corpus) == 1284


def test_hironsan_split_sizes_are_options(tmp_path: Path) -> None:
    default = load_dataset("hironsan", data_dir=tmp_path)
    corpus = load_dataset("hironsan", data_dir=tmp_path, train_size=400, dev_size=50)
    assert [len(corpus[s]) for s in ("train", "dev", "test")] == [400, 50, 50]
    # The same file order: the test split is still the last sentences.
    assert corpus["test"][-25:] == default["test"]
    with pytest.raises(ConfigError, match=r"does not take option\(s\) test_siz .*train_size"):
        load_dataset("hironsan", data_dir=tmp_path, test_siz=3)
    with pytest.raises(ConfigError, match="train_size must be a whole number"):
        load_dataset("hironsan", data_dir=tmp_path, train_size=-1)
    with pytest.raises(ConfigError, match="has 500 sentences, fewer than the 510"):
        load_dataset("hironsan", data_dir=tmp_path, train_size=485)


def test_dataset_without_partition_refuses_size_options(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="'wnut17' does not take option"):
        load_dataset("wnut17", data_dir=tmp_path, train_size=3)


def test_package_file_falls_back_to_the_data_dir(tmp_path: Path, registered: list[str]) -> None:
    (tmp_path / "tiny").mkdir()
    (tmp_path / "tiny" / "all.txt").write_text(tiny_times(3), encoding="utf-8")
    spec = DatasetSpec(
        name="tiny-pkg",
        description="",
        language="",
        license="",
        citation="",
        files={"all": DataFile("tiny/all.txt", package="nerkit-no-such-distribution")},
        reader_options={"format": "conll"},
        partition=(("train", 4), ("test", None)),
    )
    register_dataset(spec)
    registered.append("tiny-pkg")
    corpus = load_dataset("tiny-pkg", data_dir=tmp_path)
    assert [len(corpus[s]) for s in corpus] == [4, 2]
    (tmp_path / "tiny" / "all.txt").unlink()
    with pytest.raises(DatasetError) as info:
        load_dataset("tiny-pkg", data_dir=tmp_path)
    assert "install: pip install nerkit-no-such-distribution" in str(info.value)
    assert str(tmp_path / "tiny" / "all.txt") in str(info.value)


# ------------------------------------------------------------------ registry


def test_builtin_names_are_registered() -> None:
    assert {"wnut17", "conll2002-es", "conll2002-nl", "weibo", "msra", "hironsan"} <= set(
        dataset_names()
    )


def test_duplicate_name_is_an_error(registered: list[str]) -> None:
    spec = _tiny_spec("tiny-dup", DataFile("tiny/train.txt"))
    register_dataset(spec)
    registered.append("tiny-dup")
    with pytest.raises(DatasetError, match="'tiny-dup' is already registered"):
        register_dataset(spec)
    register_dataset(spec, replace=True)


def test_unknown_name_lists_the_known_ones() -> None:
    with pytest.raises(DatasetError, match=r"unknown dataset 'wnut18' \(known: .*wnut17"):
        load_dataset("wnut18")


def test_spec_names_are_checked() -> None:
    with pytest.raises(DatasetError, match="invalid dataset name"):
        _tiny_spec("Bad Name", DataFile("x"))


# ------------------------------------------------------------------- folders


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        (["train.conll", "dev.conll", "test.conll"], ["train", "dev", "test"]),
        (["train.txt", "valid.txt", "test.txt"], ["train", "dev", "test"]),
        (["esp.train", "esp.testa", "esp.testb"], ["train", "dev", "test"]),
        (["train_data.tsv", "README.md", "SOURCE.txt"], ["train"]),
        (["weiboNER_2nd_conll.train", "weiboNER_2nd_conll.test"], ["train", "test"]),
        # NAME-SPLIT, as the Hub's converted files: the split is the last part
        (
            ["devanagari-ner-train.parquet", "devanagari-ner-validation.parquet"],
            ["train", "dev"],
        ),
        (["testbed_train.conll", "testbed_dev.conll"], ["train", "dev"]),
    ],
)
def test_folder_files_are_found_by_name(
    tmp_path: Path, names: list[str], expected: list[str]
) -> None:
    for name in names:
        (tmp_path / name).write_text(TINY, encoding="utf-8")
    assert list(find_split_files(tmp_path)) == expected


def test_folder_loads_with_its_name_and_fingerprints(tmp_path: Path) -> None:
    folder = tmp_path / "mycorpus"
    folder.mkdir()
    (folder / "train.conll").write_text(TINY, encoding="utf-8")
    (folder / "test.conll").write_text(TINY.split("\n\n")[1], encoding="utf-8")
    loaded = open_dataset(folder)
    assert loaded.corpus.name == "mycorpus"
    assert [len(loaded.corpus[s]) for s in loaded.corpus] == [2, 1]
    assert loaded.corpus["test"][0].tokens == ("Peter", "Blackburn")


def test_folder_with_two_train_files_is_ambiguous(tmp_path: Path) -> None:
    for name in ("esp.train", "ned.train", "esp.testb"):
        (tmp_path / name).write_text(TINY, encoding="utf-8")
    with pytest.raises(
        DatasetError, match=r"several files look like the train split \(esp.train, ned.train\)"
    ):
        load_dataset(tmp_path)


def test_an_extra_file_beside_a_split_says_what_a_command_line_user_can_do(
    tmp_path: Path,
) -> None:
    from typer.testing import CliRunner

    from nerkit.cli.app import app

    folder = tmp_path / "dup"
    folder.mkdir()
    for name in ("train.conll", "dev.conll", "test.conll", "test-predictions.conll"):
        (folder / name).write_text(TINY, encoding="utf-8")
    args = ["run", "-t", "lexicon", "-d", str(folder), "--out", str(tmp_path / "runs")]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    message = " ".join(result.stderr.split())
    assert message.startswith(
        f"Error: {folder}: several files look like the test split "
        "(test-predictions.conll, test.conll), and a split is read from one file; move "
        "the files that are not the test split out of the folder (or the split files "
        "into a folder of their own), or rename them so that no part of their names "
        "(split at '.', '_', '-' and spaces) starts with 'train', 'dev', 'valid' or 'test'"
    ), message
    # the dict is for Python, and said so; CoNLL files are no table's shards
    assert (
        "from Python, name each split's file in a dict instead of the folder: "
        "load_dataset({'train': ..., 'dev': ..., 'test': ...})"
    ) in message
    assert "shards" not in message
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())
    # what the message says works: the renamed file is no split
    (folder / "test-predictions.conll").rename(folder / "predictions.conll")
    assert list(find_split_files(folder)) == ["train", "dev", "test"]


def test_parquet_files_of_one_split_are_told_how_shards_are_named(tmp_path: Path) -> None:
    from nerkit.io import write
    from nerkit.testing import toy_corpus

    corpus = toy_corpus()
    for name in ("train-a.parquet", "train-b.parquet", "test.parquet"):
        write(corpus["test"], tmp_path / name)
    with pytest.raises(DatasetError) as info:
        find_split_files(tmp_path)
    message = str(info.value)
    assert "several files look like the train split (train-a.parquet, train-b.parquet)" in message
    assert "load_dataset({'train': ..., 'test': ...})" in message
    assert message.endswith(
        "if they are the shards of one table, put them in a folder named train/ or name "
        "them as push_to_hub does (train-00000-of-00002.parquet, ...)"
    )
    # as the message says: the shards in a folder named after their split
    (tmp_path / "train").mkdir()
    for name in ("train-a.parquet", "train-b.parquet"):
        (tmp_path / name).rename(tmp_path / "train" / name)
    assert list(find_split_files(tmp_path)) == ["train", "test"]


def test_folder_without_split_files_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "notes.conll").write_text(TINY, encoding="utf-8")
    with pytest.raises(DatasetError, match=r"no split files .*found: notes.conll") as info:
        load_dataset(tmp_path)
    assert "name the files after their splits (train.conll, dev.conll, test.conll)" in str(
        info.value
    )
    assert "from Python, name each split's file in a dict" in str(info.value)
    # a test file alone is a dataset to score a trained model on
    (tmp_path / "test.conll").write_text(TINY, encoding="utf-8")
    assert list(load_dataset(tmp_path).splits) == ["test"]


def test_explicit_split_files(tmp_path: Path) -> None:
    (tmp_path / "a.conll").write_text(TINY, encoding="utf-8")
    corpus = load_dataset({"train": tmp_path / "a.conll", "test": str(tmp_path / "a.conll")})
    assert list(corpus) == ["train", "test"]
    assert corpus["train"] == corpus["test"]
    with pytest.raises(DatasetError, match="dev file .*nope.conll does not exist"):
        load_dataset({"train": tmp_path / "a.conll", "dev": tmp_path / "nope.conll"})


def test_a_single_file_is_not_a_dataset(tmp_path: Path) -> None:
    (tmp_path / "a.conll").write_text(TINY, encoding="utf-8")
    with pytest.raises(
        DatasetError, match="is a file; a dataset is a folder of split files"
    ) as err:
        load_dataset(tmp_path / "a.conll")
    # what the command line takes, not a Python value only open_dataset accepts
    assert "{'train'" not in str(err.value) and "hf:NAME" in str(err.value)
    assert "nerkit eval" in str(err.value)


def test_invalid_transitions_are_reported_per_split(tmp_path: Path) -> None:
    (tmp_path / "train.conll").write_text("a\tO\nb\tI-PER\n\nc\tB-LOC\n", encoding="utf-8")
    loaded = open_dataset(tmp_path)
    (report,) = loaded.invalid["train"]
    assert (report.sentence_index, report.line) == (0, 2)
    # Kept as read in the file's scheme; converting repairs it.
    assert loaded.corpus["train"][0].tags == ("O", "I-PER")
    assert load_dataset(tmp_path, scheme="BIOES")["train"][0].tags == ("O", "S-PER")


# -------------------------------------------------------------- fingerprints


def test_fingerprint_is_stable_and_ignores_paths_and_ids(tmp_path: Path) -> None:
    sentences = [Sentence(("EU", "rejects"), ("B-ORG", "O"))]
    assert fingerprint(sentences) == fingerprint(
        [Sentence(("EU", "rejects"), ("B-ORG", "O"), sentence_id="x", document_id="d")]
    )
    assert fingerprint(sentences) != fingerprint([Sentence(("EU", "rejects"), ("B-ORG", "B-ORG"))])
    assert fingerprint(sentences) != fingerprint([Sentence(("EUrejects",), ("B-ORG",))])
    for folder in ("one", "two"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "train.conll").write_text(TINY, encoding="utf-8")
    one = open_dataset(tmp_path / "one")
    two = open_dataset(tmp_path / "two")
    assert one.fingerprints == two.fingerprints
    assert one.fingerprint == two.fingerprint


def test_fingerprint_value_is_pinned() -> None:
    # A change here changes every stored run's dataset fingerprint (and cache keys):
    # bump the version in the fingerprint's prefix on purpose, never by accident.
    sentences = [Sentence(("EU", "rejects"), ("B-ORG", "O"))]
    assert (
        fingerprint(sentences) == "b38d22a6f84195a164a52f9dfe08eaadf35ae7005267e01202234ac71be01c07"
    )


def test_fingerprint_counts_spans_that_say_more_than_the_tags(tmp_path: Path) -> None:
    # Same tokens and tags, different entities: different data.
    row = {"tokens": ["Bank", "of", "China"], "tags": ["B-ORG", "I-ORG", "I-ORG"]}
    variants = {
        "none": [],
        "nested": [[0, 3, "ORG"], [2, 3, "LOC"]],
        "same": [[0, 3, "ORG"]],  # what the tags say: kept by the reader, adds nothing
        "other": [[0, 3, "LOC"]],  # scored instead of the tags
    }
    found = {}
    for name, spans in variants.items():
        (tmp_path / name).mkdir()
        (tmp_path / name / "train.jsonl").write_text(
            json.dumps({**row, "spans": spans} if spans else row) + "\n", encoding="utf-8"
        )
        found[name] = open_dataset(tmp_path / name).fingerprints["train"]
    assert found["same"] == found["none"]
    assert len({found["none"], found["nested"], found["other"]}) == 3
    # Neither the order nor repeats of spans make a difference.
    outer, inner = Span(0, 3, "ORG"), Span(2, 3, "LOC")
    reordered = Sentence(tuple(row["tokens"]), tuple(row["tags"]), spans=(inner, outer, inner))
    assert fingerprint([reordered]) == found["nested"]


def test_fingerprint_of_data_without_spans_is_unchanged(tmp_path: Path) -> None:
    # Values from before spans counted: stored runs and caches are keyed by them.
    sentences = [
        Sentence(("EU", "rejects", "German", "call"), ("B-ORG", "O", "B-MISC", "O"), "s-1"),
        Sentence(("Bank", "of", "China"), ("B-ORG", "I-ORG", "I-ORG"), "s-2"),
        Sentence(("raw", "text"), ()),
    ]
    assert fingerprint(sentences) == (
        "d647223461ae1b3c80f9b2289cfccb93ec4f8450141fb053cc03528e949176a9"
    )
    # Spans that the tags say all are not kept, so they change nothing either.
    rows = [
        {"tokens": ["EU", "rejects", "German", "call"], "tags": ["B-ORG", "O", "B-MISC", "O"]},
        {"tokens": ["Peter", "Blackburn"], "spans": [[0, 2, "PER"]]},
    ]
    (tmp_path / "train.jsonl").write_text(
        "".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8"
    )
    loaded = open_dataset(tmp_path)
    assert loaded.fingerprints["train"] == (
        "ba3d756bd904fd44f7320ab3450f059e1e06ca652aad30ae0d7ba8c7b9e81a03"
    )
    assert loaded.fingerprint == "94a256af49da56f1366d456be3abc1a8262c0543d58a68289a24799af1db1386"


# ----------------------------------------------------------------- downloads


def test_missing_file_is_downloaded_and_checked(tmp_path: Path, registered: list[str]) -> None:
    origin = tmp_path / "origin.conll"
    origin.write_text(TINY, encoding="utf-8")
    data_file = DataFile("tiny/train.conll", sha256=sha256_of(origin), url=origin.as_uri())
    register_dataset(_tiny_spec("tiny-dl", data_file))
    registered.append("tiny-dl")
    data_dir = tmp_path / "data"
    corpus = load_dataset("tiny-dl", data_dir=data_dir, progress=False)
    assert len(corpus["train"]) == 2
    assert (data_dir / "tiny" / "train.conll").read_bytes() == origin.read_bytes()
    assert sorted(p.name for p in (data_dir / "tiny").iterdir()) == ["train.conll"]


def test_checksum_mismatch_keeps_nothing(tmp_path: Path) -> None:
    origin = tmp_path / "origin.conll"
    origin.write_text(TINY, encoding="utf-8")
    spec = _tiny_spec(
        "tiny-bad", DataFile("tiny/train.conll", sha256="0" * 64, url=origin.as_uri())
    )
    with pytest.raises(
        DatasetError, match="checksum mismatch .*expected sha256 0{64}, got [0-9a-f]{64}"
    ):
        load_dataset(spec, data_dir=tmp_path / "data", progress=False)
    assert list((tmp_path / "data" / "tiny").iterdir()) == []


def test_zip_members_are_extracted_from_one_download(tmp_path: Path) -> None:
    archive = tmp_path / "corpus.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("corpus/x.train", TINY)
        zipped.writestr("corpus/x.testb", TINY.split("\n\n")[1])
        zipped.writestr("corpus/README", "not data")
    (tmp_path / "ref").mkdir()
    with zipfile.ZipFile(archive) as zipped:
        zipped.extractall(tmp_path / "ref")

    def member(name: str) -> DataFile:
        return DataFile(
            f"c/{name}",
            sha256=sha256_of(tmp_path / "ref" / "corpus" / name),
            url=archive.as_uri(),
            member=f"corpus/{name}",
        )

    spec = DatasetSpec(
        name="tiny-zip",
        description="",
        language="",
        license="",
        citation="",
        files={"train": member("x.train"), "test": member("x.testb")},
        reader_options={"format": "conll"},
    )
    corpus = load_dataset(spec, data_dir=tmp_path / "data", progress=False)
    assert [len(corpus[s]) for s in corpus] == [2, 1]
    assert sorted(p.name for p in (tmp_path / "data" / "c").iterdir()) == ["x.testb", "x.train"]


def test_download_over_http_with_progress(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    served = tmp_path / "served"
    served.mkdir()
    (served / "train.conll").write_text(tiny_times(200), encoding="utf-8")
    handler = functools.partial(QuietHandler, directory=str(served))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/train.conll"
        data_file = DataFile("tiny/train.conll", sha256=sha256_of(served / "train.conll"), url=url)
        corpus = load_dataset(
            _tiny_spec("tiny-http", data_file), data_dir=tmp_path / "data", timeout=10
        )
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
    assert len(corpus["train"]) == 400
    assert "downloading train.conll" in capfd.readouterr().err


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base's name
        pass


def test_offline_error_says_what_to_put_where(tmp_path: Path) -> None:
    url = closed_port_url("wnut17train.conll")
    data_file = DataFile(
        "tiny/train.conll", sha256="ab" * 32, url=url, origin="github.com/someone/corpus, path x"
    )
    data_dir = tmp_path / "data"
    with pytest.raises(DatasetError) as info:
        load_dataset(
            _tiny_spec("tiny-offline", data_file), data_dir=data_dir, progress=False, timeout=5
        )
    message = str(info.value)
    assert "the download failed" in message
    assert str(data_dir / "tiny" / "train.conll") in message
    assert f"download: {url}" in message
    assert "github.com/someone/corpus" in message
    assert not (data_dir / "tiny" / "train.conll").exists()


def test_builtin_dataset_with_downloads_off_names_file_and_origin(tmp_path: Path) -> None:
    with pytest.raises(DatasetError) as info:
        load_dataset("conll2002-es", data_dir=tmp_path, download=False)
    message = str(info.value)
    assert "3 file(s) missing and downloads are off" in message
    assert str(tmp_path / "conll2002" / "esp.train") in message
    assert (
        "extract: conll2002/esp.train from https://raw.githubusercontent.com/nltk/nltk_data/"
        in message
    )


def test_download_to_unwritable_place_is_a_clear_error(tmp_path: Path) -> None:
    origin = tmp_path / "origin.conll"
    origin.write_text(TINY, encoding="utf-8")
    blocker = tmp_path / "data"
    blocker.write_text("a file where the data dir should be", encoding="utf-8")
    spec = _tiny_spec(
        "tiny-ro", DataFile("tiny/train.conll", sha256=sha256_of(origin), url=origin.as_uri())
    )
    with pytest.raises(DatasetError, match="cannot write to .*set NERKIT_DATA_DIR"):
        load_dataset(spec, data_dir=blocker, progress=False)


# ------------------------------------------------------------------ summary


def test_summary_reports_missing_and_present_splits(tmp_path: Path) -> None:
    (tmp_path / "wnut17").mkdir()
    if not has_shared_data("wnut17"):
        pytest.skip(SHARED_DATA_REASON)
    shutil.copy(SHARED_DATA / "wnut17" / "emerging.dev.conll", tmp_path / "wnut17")
    rows = {s.split: s for s in summarize(get_dataset_spec("wnut17"), tmp_path)}
    assert rows["train"].path is None and rows["train"].stats is None
    assert rows["train"].expected == tmp_path / "wnut17" / "wnut17train.conll"
    assert rows["dev"].stats is not None
    assert (rows["dev"].stats.sentences, rows["dev"].stats.tokens, rows["dev"].stats.entities) == (
        1009,
        15733,
        836,
    )


def test_summary_fingerprints_are_the_ones_a_run_stores(
    tmp_path: Path, registered: list[str]
) -> None:
    """`nerkit datasets --json` converted a BIOES dataset to IOB2 when all its files
    were there and kept BIOES when one was missing; a run keeps the tags as read."""
    bioes = "John\tB-PER\nSmith\tE-PER\nin\tO\nParis\tS-LOC\n\n"
    spec = DatasetSpec(
        name="summary-bioes",
        description="",
        language="",
        license="CC0",
        citation="",
        files={"train": DataFile("toy/train.txt"), "test": DataFile("toy/test.txt")},
        reader_options={"format": "conll"},
        scheme="BIOES",
    )
    register_dataset(spec)
    registered.append(spec.name)
    (tmp_path / "toy").mkdir()
    for split in ("train", "test"):
        (tmp_path / "toy" / f"{split}.txt").write_text(bioes, encoding="utf-8")
    run = open_dataset(spec.name, data_dir=tmp_path, scheme=None)  # as a run loads it
    full = {s.split: s.fingerprint for s in summarize(spec, tmp_path)}
    (tmp_path / "toy" / "test.txt").unlink()
    part = {s.split: s.fingerprint for s in summarize(spec, tmp_path)}
    assert full["train"] == part["train"] == run.fingerprints["train"]


def test_a_folder_of_bioes_files_is_read_in_bioes(tmp_path: Path) -> None:
    """Flair's column reader takes a BIOES file as it is; a folder read as IOB2 refused
    its E- and S- tags, so `nerkit run -d FOLDER` could not run on it."""
    from nerkit.errors import InputError

    text = "John\tB-PER\nSmith\tE-PER\nin\tO\nParis\tS-LOC\n\n"
    for split in ("train", "dev", "test"):
        (tmp_path / f"{split}.conll").write_text(text, encoding="utf-8")
    loaded = open_dataset(tmp_path, scheme=None)
    assert loaded.corpus.scheme == "BIOES"
    assert loaded.corpus["train"][0].tags == ("B-PER", "E-PER", "O", "S-LOC")
    # a tag of no scheme still gets the IOB2 reading's error, with file and line
    (tmp_path / "dev.conll").write_text("a\tX-PER\n\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"dev.conll, line 1: .*X-PER"):
        open_dataset(tmp_path, scheme=None)


def test_a_stray_bioes_tag_in_an_iob2_folder_is_an_error(tmp_path: Path) -> None:
    """One `E-PER` typo in an IOB2 train file made the whole folder BIOES: train read
    with an invalid transition per entity and the clean test file rewritten in BIOES."""
    from nerkit.errors import InputError

    clean = "Ann\tB-PER\nSmith\tI-PER\nin\tO\nRome\tB-LOC\n\n"
    typo = "Bob\tB-PER\nJones\tE-PER\n\n"
    (tmp_path / "train.txt").write_text(clean * 3 + typo, encoding="utf-8")
    (tmp_path / "test.txt").write_text(clean, encoding="utf-8")
    with pytest.raises(
        InputError, match=r"train.txt, line 17: tag 'E-PER' has a prefix not in IOB2"
    ):
        open_dataset(tmp_path, scheme=None)
    # a BIOES folder whose test file has no entities is still read in BIOES
    (tmp_path / "train.txt").write_text("John\tB-PER\nSmith\tE-PER\n\n", encoding="utf-8")
    (tmp_path / "test.txt").write_text("a\tO\n\n", encoding="utf-8")
    assert open_dataset(tmp_path, scheme=None).corpus.scheme == "BIOES"


def test_a_stray_bioes_tag_in_a_one_file_folder_is_an_error(tmp_path: Path) -> None:
    """With one file there was nothing to disagree with: one `E-PER` typo read an IOB2
    file as BIOES, with an invalid transition at nearly every other entity. The scheme
    the prefixes show is taken only where the tags support it: fewer invalid
    transitions in it than tags of the prefixes IOB2 lacks."""
    from nerkit.errors import InputError

    clean = "Ann\tB-PER\nSmith\tI-PER\nin\tO\nRome\tB-LOC\n\n"
    typo = "Bob\tB-PER\nJones\tE-PER\n\n"
    train = tmp_path / "train.txt"
    train.write_text(clean * 3 + typo, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        open_dataset(tmp_path, scheme=None)
    message = str(caught.value)
    assert message.startswith(f"{train}, line 17: tag 'E-PER' has a prefix not in IOB2"), message
    assert (
        "read as BIOES, the file's tags break 6 transition(s) (first: line 3, I-PER -> O) "
        "against only 1 E-/S- tag(s)"
    ) in message
    assert "give from_scheme=BIOES" in message and "-D from_scheme=BIOES" in message
    # given the scheme, the file is read in it
    assert open_dataset(tmp_path, scheme=None, from_scheme="BIOES").corpus.scheme == "BIOES"
    # an IO file with a stray E- is not taken for IOE2 either
    train.write_text("Ann\tI-PER\nin\tO\nRome\tI-LOC\n\nBob\tE-PER\n\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"train.txt, line 5: tag 'E-PER'.*read as IOE2"):
        open_dataset(tmp_path, scheme=None)

    # a BIOES file with one entity that lacks its E- is BIOES, the slip reported
    bioes = "John\tB-PER\nSmith\tE-PER\nin\tO\nParis\tS-LOC\n\n"
    train.write_text(bioes * 2 + "Ann\tB-PER\nLee\tI-PER\nran\tO\n\n", encoding="utf-8")
    loaded = open_dataset(tmp_path, scheme=None)
    assert loaded.corpus.scheme == "BIOES"
    assert loaded.corpus["train"][0].tags == ("B-PER", "E-PER", "O", "S-LOC")
    (report,) = loaded.invalid["train"]
    assert (report.line, report.transition.previous, report.transition.current) == (
        13,
        "I-PER",
        "O",
    )


def test_a_stray_bioes_tag_beside_a_bioes_file_names_its_own_file(tmp_path: Path) -> None:
    """A BIOES train file and an IOB2 test file with one stray `E-PER` both showed
    BIOES, so the test file was read as BIOES; now its own stray tag is the error. Files
    that show different schemes say which."""
    from nerkit.errors import InputError

    bioes = "John\tB-PER\nSmith\tE-PER\nin\tO\nParis\tS-LOC\n\n"
    clean = "Ann\tB-PER\nSmith\tI-PER\nin\tO\nRome\tB-LOC\n\n"
    (tmp_path / "train.txt").write_text(bioes * 3, encoding="utf-8")
    test = tmp_path / "test.txt"
    test.write_text(clean * 3 + "Bob\tB-PER\nJones\tE-PER\n\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        open_dataset(tmp_path, scheme=None)
    assert str(caught.value).startswith(f"{test}, line 17: tag 'E-PER' has a prefix not in IOB2")
    assert "read as BIOES, the file's tags break 6 transition(s)" in str(caught.value)
    test.write_text(clean, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        open_dataset(tmp_path, scheme=None)
    assert str(caught.value).startswith(f"{tmp_path / 'train.txt'}, line 2: tag 'E-PER'")
    assert "different schemes (train.txt: BIOES, test.txt: IOB2)" in str(caught.value)


def test_a_folder_of_nested_conll_files_is_refused_unless_its_columns_are_named(
    tmp_path: Path,
) -> None:
    """`nerkit run -d FOLDER` read `nerkit convert --nested` output (token, outer tags,
    inner tags) by its last column: the outer entities were lost without a word."""
    from typer.testing import CliRunner

    from nerkit.cli.app import app
    from nerkit.errors import InputError
    from nerkit.io import write

    flat = Sentence(("Maria", "ran"), ("B-PER", "O"), "s-1")
    nested = Sentence(
        ("Bank", "of", "China", "grew"),
        ("B-ORG", "I-ORG", "I-ORG", "O"),
        "s-2",
        spans=(Span(0, 3, "ORG"), Span(2, 3, "LOC")),
    )
    folder = tmp_path / "nested"
    folder.mkdir()
    train = folder / "train.conll"
    write([flat, nested], train, nested=True)
    write([flat], folder / "test.conll", nested=True)
    with pytest.raises(InputError) as caught:
        open_dataset(folder, scheme=None)
    message = str(caught.value)
    assert message.startswith(f"{train}, line 6: two tag columns"), message
    assert "inner_tag_col=-1 to read both layers" in message
    assert "tag_col=-1 to read only the last" in message
    assert message.endswith("inside a longer one of the column before it: 'China\\tI-ORG\\tB-LOC'")
    # what `nerkit run -d FOLDER` shows
    result = CliRunner().invoke(
        app, ["run", "-t", "lexicon", "-d", str(folder), "-o", str(tmp_path / "runs")]
    )
    assert result.exit_code == 2, result.output
    assert f"Error: {train}, line 6: two tag columns" in result.output
    assert "-D inner_tag_col=-1" in result.output

    # both layers, as asked
    loaded = open_dataset(folder, scheme=None, inner_tag_col=-1)
    assert loaded.corpus["train"] == (flat, nested)
    # the last column alone, as asked
    only_last = open_dataset(folder, scheme=None, tag_col=-1).corpus["train"]
    assert [s.tags for s in only_last] == [("O", "O"), ("O", "O", "B-LOC", "O")]
    # a last column without entities is not told from gold beside empty predictions
    write([flat], train, nested=True)
    assert [s.tags for s in open_dataset(folder, scheme=None).corpus["train"]] == [("O", "O")]


def test_token_gold_and_predicted_columns_are_not_taken_for_nested(tmp_path: Path) -> None:
    """conlleval's layout keeps reading its last column, as `nerkit convert` does."""
    text = "EU\tB-ORG\tB-ORG\nsaid\tO\tO\n\nPeter\tB-PER\tB-LOC\nran\tO\tO\n\n"
    (tmp_path / "train.conll").write_text(text, encoding="utf-8")
    corpus = load_dataset(tmp_path, scheme=None)
    assert [s.tags for s in corpus["train"]] == [("B-ORG", "O"), ("B-LOC", "O")]
