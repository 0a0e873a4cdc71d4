"""Named dataset loaders, folders of split files, downloads, fingerprints.

>>> from nerkit.datasets import load_dataset
>>> corpus = load_dataset("wnut17")          # doctest: +SKIP
>>> len(corpus["train"])                     # doctest: +SKIP
3394
"""

from __future__ import annotations

from nerkit.datasets.builtin import BUILTIN_DATASETS
from nerkit.datasets.download import sha256_of
from nerkit.datasets.load import (
    LoadedDataset,
    SplitStats,
    ensure_files,
    fingerprint,
    load_dataset,
    open_dataset,
    split_stats,
)
from nerkit.datasets.locate import (
    DATA_DIR_ENV,
    default_data_dir,
    find_split_files,
    locate,
    resolve_data_dir,
)
from nerkit.datasets.spec import (
    DataFile,
    DatasetSpec,
    dataset_names,
    get_dataset_spec,
    register_dataset,
    registered_datasets,
    unregister_dataset,
)

__all__ = [
    "BUILTIN_DATASETS",
    "DATA_DIR_ENV",
    "DataFile",
    "DatasetSpec",
    "LoadedDataset",
    "SplitStats",
    "dataset_names",
    "default_data_dir",
    "ensure_files",
    "find_split_files",
    "fingerprint",
    "get_dataset_spec",
    "load_dataset",
    "locate",
    "open_dataset",
    "register_dataset",
    "registered_datasets",
    "resolve_data_dir",
    "sha256_of",
    "split_stats",
    "unregister_dataset",
]
