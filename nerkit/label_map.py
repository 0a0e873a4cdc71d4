"""Using a trained model as it is on a data set whose entity types it names
otherwise: a label map renames the model's types, and the types that map to none of
the data's are predicted as ``O`` (they could only ever be scored as wrong)."""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path

from nerkit.errors import NerkitError


def read_label_map(path: Path | str, source: str = "model") -> dict[str, str]:
    """``{model_type: dataset_type}`` from ``source_label<TAB>dataset_label`` lines;
    blank lines and ``#`` comments skipped, a byte-order mark dropped."""
    try:
        lines = Path(path).read_text(encoding="utf-8-sig").splitlines()
    except OSError as exc:
        raise NerkitError(f"{path}: cannot read the label map: {exc}") from None
    mapping: dict[str, str] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) != 2 or not parts[0].strip() or not parts[1].strip():
            raise NerkitError(f"{path}, line {number}: expected {source}_label<TAB>dataset_label")
        mapping[parts[0].strip()] = parts[1].strip()
    return mapping


def unmapped_types(
    model_types: Iterable[str], dataset_types: Iterable[str], type_map: Mapping[str, str]
) -> list[str]:
    """The model's types that do not end up, after ``type_map``, as one of
    ``dataset_types``; given no dataset types, those ``type_map`` does not name (and
    none without a map)."""
    dataset = set(dataset_types)
    if dataset:
        return sorted(t for t in model_types if type_map.get(t, t) not in dataset)
    return sorted(t for t in model_types if type_map and t not in type_map)


def warn_unmapped(component: str, unmapped: list[str], predicted_as_o: bool) -> None:
    if unmapped:
        note = (
            "predicted as O (not among the dataset's types)"
            if predicted_as_o
            else "kept as they are"
        )
        warnings.warn(
            f"{component}: entity types that map to none of the dataset's types: "
            f"{', '.join(unmapped)}; {note}",
            stacklevel=3,
        )
