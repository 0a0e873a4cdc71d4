"""What is known locally about a named dataset, without downloading anything."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from nerkit.datasets.load import LoadedDataset, SplitStats, open_dataset
from nerkit.datasets.locate import locate, resolve_data_dir
from nerkit.datasets.spec import DataFile, DatasetSpec
from nerkit.errors import NerkitError


@dataclass(frozen=True, slots=True)
class SplitSummary:
    """One split of a named dataset: its local file (``None`` when missing) and, when
    the file could be read, its counts and fingerprint (else ``error`` says why not)."""

    split: str
    data_file: DataFile
    expected: Path
    path: Path | None
    stats: SplitStats | None = None
    fingerprint: str | None = None
    error: str | None = None


def summarize(spec: DatasetSpec, data_dir: str | Path | None = None) -> list[SplitSummary]:
    """Summaries of ``spec``'s splits, reading the files that are present locally."""
    root = resolve_data_dir(data_dir)
    found = {split: locate(f, root) for split, f in spec.files.items()}
    present = {split: path for split, path in found.items() if path is not None}
    loaded: LoadedDataset | None = None
    error = None
    if present:
        # scheme=None: tags as read, as `nerkit run` reads them, so that the
        # fingerprints are the ones its runs store.
        try:
            if len(present) == len(found):
                loaded = open_dataset(
                    spec, data_dir=root, download=False, progress=False, scheme=None
                )
            else:
                # Read what is there, as the full dataset would be read.
                loaded = open_dataset(
                    present, from_scheme=spec.scheme, scheme=None, **spec.reader_options
                )
        except NerkitError as exc:
            error = str(exc)

    (single,) = spec.files if spec.partition else (None,)
    summaries = []
    for split in spec.splits:
        key = single or split
        data_file = spec.files[key]
        path = found[key]
        if loaded is not None and split in loaded.corpus:
            summaries.append(
                SplitSummary(
                    split,
                    data_file,
                    root / data_file.path,
                    path,
                    loaded.stats(split),
                    loaded.fingerprints[split],
                )
            )
        else:
            summaries.append(
                SplitSummary(
                    split, data_file, root / data_file.path, path, error=error if path else None
                )
            )
    return summaries
