"""Hugging Face Hub data sets (``hf:OWNER/NAME[:CONFIG]``): the Hub's Parquet layouts
read from local copies (the two calls to huggingface_hub replaced), and the real calls
made offline."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from nerkit import store
from nerkit.cli.app import app
from nerkit.datasets import hub, open_dataset
from nerkit.errors import DatasetError
from nerkit.io import write_parquet
from nerkit.testing import toy_corpus

SPLITS = {"train": "train", "validation": "dev", "test": "test"}


def conversion(root: Path, configs: tuple[str, ...] = ("default",), old: bool = False) -> Path:
    """The Hub's refs/convert/parquet tree of a data set: CONFIG/SPLIT/0000.parquet, or
    in older conversions CONFIG/NAME-SPLIT.parquet."""
    corpus = toy_corpus()
    for config in configs:
        for hub_split, split in SPLITS.items():
            path = (
                root / config / f"toy-{hub_split}.parquet"
                if old
                else root / config / hub_split / "0000.parquet"
            )
            path.parent.mkdir(parents=True, exist_ok=True)
            write_parquet(corpus[split], path)
    return root


class FakeHub:
    """Stands in for huggingface_hub: a listing of the conversion and snapshots of it
    (or of the main revision), with the calls kept."""

    def __init__(
        self,
        converted: Path | None,
        main: Path | None = None,
        online: bool = True,
        cached: bool = True,
    ) -> None:
        self.converted, self.main, self.online, self.cached = converted, main, online, cached
        self.calls: list[tuple] = []

    def list_files(self, repo_id: str, revision: str) -> list[str]:
        self.calls.append(("list", repo_id, revision))
        if not self.online:
            raise ConnectionError("offline")
        if self.converted is None:
            raise FileNotFoundError("Revision Not Found")
        return sorted(str(p.relative_to(self.converted)) for p in self.converted.rglob("*.*"))

    def snapshot(
        self, repo_id: str, revision: str, patterns: list[str], *, local_only: bool = False
    ) -> Path:
        self.calls.append(("snapshot", repo_id, revision, tuple(patterns), local_only))
        if local_only and not self.cached:
            raise FileNotFoundError("not in the cache")
        if not local_only and not self.online:
            raise ConnectionError("offline")
        root = self.converted if revision == hub.PARQUET_REVISION else self.main
        if root is None:
            raise FileNotFoundError("Revision Not Found")
        return root

    def install(self, monkeypatch: pytest.MonkeyPatch) -> FakeHub:
        monkeypatch.setattr(hub, "_list_files", self.list_files)
        monkeypatch.setattr(hub, "_snapshot", self.snapshot)
        return self


def test_a_converted_data_set_loads_with_its_splits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeHub(conversion(tmp_path / "conv")).install(monkeypatch)
    loaded = open_dataset("hf:someone/toy")
    assert loaded.corpus.name == "hf:someone/toy"
    assert {s: len(v) for s, v in loaded.corpus.splits.items()} == {
        "train": 27,
        "dev": 4,
        "test": 10,
    }
    assert loaded.corpus["test"] == tuple(toy_corpus()["test"])
    assert fake.calls[-1] == (
        "snapshot",
        "someone/toy",
        "refs/convert/parquet",
        ("default/**",),
        False,
    )


def test_the_older_conversion_layout_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    FakeHub(conversion(tmp_path / "conv", old=True)).install(monkeypatch)
    assert open_dataset("hf:someone/toy").corpus["dev"] == tuple(toy_corpus()["dev"])


def test_configs_are_named_when_there_are_several(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    FakeHub(conversion(tmp_path / "conv", ("en", "de"))).install(monkeypatch)
    with pytest.raises(DatasetError, match=r"several configs: name one.*\(configs: de, en\)"):
        open_dataset("hf:someone/toy")
    assert len(open_dataset("hf:someone/toy:de").corpus["train"]) == 27
    with pytest.raises(DatasetError, match="has no config 'fr'"):
        open_dataset("hf:someone/toy:fr")


def test_offline_the_cached_conversion_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeHub(conversion(tmp_path / "conv"), online=False).install(monkeypatch)
    assert len(open_dataset("hf:someone/toy").corpus["test"]) == 10
    assert fake.calls[-1][-1] is True  # local files only
    # download=False does not go online at all
    fake.calls.clear()
    assert len(open_dataset("hf:someone/toy", download=False).corpus["test"]) == 10
    assert [c[0] for c in fake.calls] == ["snapshot"]


def test_offline_a_config_the_cache_lacks_is_not_called_unknown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    FakeHub(conversion(tmp_path / "conv", ("en",)), online=False).install(monkeypatch)
    with pytest.raises(
        DatasetError, match="cannot be fetched .* not in the local Hugging Face cache"
    ):
        open_dataset("hf:someone/toy:de")
    with pytest.raises(DatasetError, match="hf:someone/toy:de is not in the local"):
        open_dataset("hf:someone/toy:de", download=False)


def test_offline_and_not_cached_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    FakeHub(conversion(tmp_path / "conv"), online=False, cached=False).install(monkeypatch)
    with pytest.raises(DatasetError, match=r"cannot fetch hf:someone/toy .*ConnectionError"):
        open_dataset("hf:someone/toy")
    with pytest.raises(DatasetError, match="hf:someone/toy is not in the local Hugging Face"):
        open_dataset("hf:someone/toy", download=False)


def test_without_a_conversion_the_repository_s_own_parquet_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    main = tmp_path / "main"
    (main / "data").mkdir(parents=True)
    write_parquet(toy_corpus()["train"], main / "data" / "train-00000-of-00001.parquet")
    write_parquet(toy_corpus()["test"], main / "data" / "test-00000-of-00001.parquet")
    (main / "README.md").write_text("# card", encoding="utf-8")
    FakeHub(None, main, cached=False).install(monkeypatch)
    loaded = open_dataset("hf:someone/toy")
    assert list(loaded.corpus.splits) == ["train", "test"]


@pytest.mark.parametrize("source", ["hf:", "hf:a/b/c", "hf:/x", "hf:x/"])
def test_malformed_hub_names(source: str) -> None:
    with pytest.raises(DatasetError, match="a Hub data set is hf:OWNER/NAME"):
        hub.parse(source)


def test_the_real_calls_offline_give_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    # huggingface_hub itself, with the network switched off: our calls fit its API
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(DatasetError, match="cannot fetch hf:nerkit-test/no-such-set"):
        open_dataset("hf:nerkit-test/no-such-set")


def test_nerkit_run_on_a_hub_data_set(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    FakeHub(conversion(tmp_path / "conv")).install(monkeypatch)
    out = tmp_path / "runs"
    result = CliRunner().invoke(
        app, ["run", "--tagger", "lexicon", "--dataset", "hf:someone/toy", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    (run,) = [p for p in out.iterdir() if p.is_dir()]
    assert "-lexicon-toy-" in run.name
    (row,) = store.read_table(run, "run").to_pylist()
    assert "hf:someone/toy" in row["config"]
