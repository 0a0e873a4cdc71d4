"""Where dataset files are: the data dir, files shipped inside installed packages,
and the split files of a user's folder."""

from __future__ import annotations

import os
import re
from importlib import metadata
from pathlib import Path

from nerkit.datasets.spec import DataFile
from nerkit.errors import DatasetError

DATA_DIR_ENV = "NERKIT_DATA_DIR"


def default_data_dir() -> Path:
    """``$NERKIT_DATA_DIR``, else ``~/.cache/nerkit/data``."""
    env = os.environ.get(DATA_DIR_ENV)
    if env:
        return Path(env).expanduser()
    return Path.home() / ".cache" / "nerkit" / "data"


def resolve_data_dir(data_dir: str | Path | None) -> Path:
    return Path(data_dir).expanduser() if data_dir is not None else default_data_dir()


def package_file(distribution: str, name: str) -> Path | None:
    """The file called ``name`` inside the installed ``distribution``, if any."""
    try:
        files = metadata.files(distribution) or []
    except metadata.PackageNotFoundError:
        return None
    for entry in files:
        if entry.name == name:
            path = Path(str(entry.locate()))
            if path.is_file():
                return path
    return None


def locate(data_file: DataFile, data_dir: Path) -> Path | None:
    """The local copy of ``data_file``: the shipping package's, else the data dir's."""
    if data_file.package:
        shipped = package_file(data_file.package, data_file.name)
        if shipped is not None:
            return shipped
    path = data_dir / data_file.path
    return path if path.is_file() else None


# ------------------------------------------------------------ user folders

# Checked in order, so that ``testa`` (CoNLL's dev split) is not taken for ``test``.
_SPLIT_PREFIXES: tuple[tuple[str, str], ...] = (
    ("train", "train"),
    ("dev", "dev"),
    ("valid", "dev"),
    ("testa", "dev"),
    ("testb", "test"),
    ("test", "test"),
)
_PARTS = re.compile(r"[._\-\s]+")


def split_of(file_name: str) -> str | None:
    """The split a file name stands for: its name, or a ``.``/``_``/``-`` separated
    part of it, starts with ``train``, ``dev``/``valid``/``testa`` or ``test``/``testb``
    (``train.conll``, ``esp.testa``, ``weiboNER_2nd_conll.dev``). The last such part
    counts: the split comes after a data set's name (``devanagari-ner-train.parquet``
    is train, not dev)."""
    if file_name.startswith("."):  # editor and download leftovers
        return None
    for part in reversed(_PARTS.split(file_name.lower())):
        for prefix, split in _SPLIT_PREFIXES:
            if part.startswith(prefix):
                return split
    return None


def _table_folder(path: Path) -> bool:
    """Whether ``path`` is a folder of Parquet or Arrow shards (``save_to_disk``'s
    ``train/``, the Hub's ``train/0000.parquet``)."""
    from nerkit.io import SUFFIXES

    return path.is_dir() and any(
        f.is_file() and SUFFIXES.get(f.suffix.lower()) in ("parquet", "arrow")
        for f in path.iterdir()
    )


# push_to_hub's shard names; older versions of datasets add a hash after the count
_SHARD = re.compile(
    r"(?P<stem>.+)-(?P<i>\d{5})-of-(?P<n>\d{5})(?P<tail>-[0-9a-f]+)?(?P<suffix>\.\w+)"
)


def shard_set(paths: list[Path]) -> Path | str | None:
    """For a split's files: the pattern that names them when they are every shard of
    one Parquet or Arrow table, as ``push_to_hub`` names them
    (``train-00000-of-00002.parquet``, ``train-00001-of-00002.parquet`` ->
    ``train-*-of-00002.parquet``); what is wrong when they are shards of a table but
    not one complete set; None when they are no table's shards."""
    from glob import escape

    from nerkit.io import SUFFIXES

    matches = [_SHARD.fullmatch(p.name) for p in paths]
    if not any(m and int(m["n"]) > 1 for m in matches):
        return None
    if not all(matches) or len({p.parent for p in paths}) != 1:
        return "shards mixed with other files"
    keys = {(m["stem"], m["n"], m["suffix"]) for m in matches if m}
    if len(keys) != 1:
        return "shards of more than one set"
    ((stem, n, suffix),) = keys
    if SUFFIXES.get(suffix.lower()) not in ("parquet", "arrow"):
        return None  # not a table's shards: the files are read as they are
    present = sorted(int(m["i"]) for m in matches if m)
    missing = sorted(set(range(int(n))) - set(present))
    if missing:
        shown = ", ".join(f"{stem}-{i:05d}-of-{n}" for i in missing[:5])
        return f"shards missing: {shown}" + (", ..." if len(missing) > 5 else "")
    if len(present) != len(set(present)):
        return "a shard number twice"
    tails = {m["tail"] or "" for m in matches if m}
    tail = escape(tails.pop()) if len(tails) == 1 else "*"
    return paths[0].parent / f"{escape(stem)}-*-of-{n}{tail}{suffix}"


def _one_file_a_split(split: str, found: dict[str, list[Path]]) -> str:
    """What to do about a split that several files claim: on the command line, which
    reads a folder only by its file names, move or rename the files that are no split
    (``test-predictions.conll`` beside ``test.conll``); from Python, name the files."""
    splits = ", ".join(f"{name!r}: ..." for name in ("train", "dev", "test") if name in found)
    return (
        f"move the files that are not the {split} split out of the folder (or the split "
        "files into a folder of their own), or rename them so that no part of their "
        "names (split at '.', '_', '-' and spaces) starts with 'train', 'dev', 'valid' or "
        "'test'; from Python, name each split's file in a dict instead of the folder: "
        f"load_dataset({{{splits}}})"
    )


def _shard_hint(split: str, paths: list[Path]) -> str:
    """For Parquet or Arrow files only: how the shards of one table are named (a
    folder of CoNLL, CSV or JSON lines files is no split)."""
    from nerkit.io import SUFFIXES

    if not all(
        p.is_file() and SUFFIXES.get(p.suffix.lower()) in ("parquet", "arrow") for p in paths
    ):
        return ""
    return (
        f"; if they are the shards of one table, put them in a folder named {split}/ or "
        f"name them as push_to_hub does ({split}-00000-of-00002{paths[0].suffix}, ...)"
    )


def find_split_files(folder: Path) -> dict[str, Path]:
    """``{split: file}`` for the data files of ``folder``. A split may also be a
    subfolder named after it that holds Parquet or Arrow shards (as Hugging Face's
    ``save_to_disk`` writes a ``DatasetDict``); every shard of one split, named as
    ``push_to_hub`` names them, is the pattern that names them all (``shard_set``);
    a folder with no split files of its own but a ``data`` subfolder (a Hub data set's
    layout) is read from there.

    A split matched by several files, or no split file at all, is an error that lists
    what was found and says what to do: on the command line, move or rename files;
    from Python, name the files in a dict (a folder without a train file is a dataset
    to score a trained model on; a run that trains refuses it).
    """
    found: dict[str, list[Path]] = {}
    for path in sorted(folder.iterdir()):
        if path.is_file() or _table_folder(path):
            split = split_of(path.name)
            if split is not None:
                found.setdefault(split, []).append(path)
    if not found and (folder / "data").is_dir():
        return find_split_files(folder / "data")
    for split, paths in found.items():
        shards = shard_set(paths)
        if isinstance(shards, str):
            names = ", ".join(p.name for p in paths)
            raise DatasetError(
                f"{folder}: the {split} split's files ({names}) are not one table's "
                f"complete set of shards ({shards}); "
                + ("add the missing shards, or " if shards.startswith("shards missing") else "")
                + _one_file_a_split(split, found)
            )
        if shards is not None:
            found[split] = [shards]
        elif len(paths) > 1:
            names = ", ".join(p.name for p in paths)
            raise DatasetError(
                f"{folder}: several files look like the {split} split ({names}), and a "
                f"split is read from one file; {_one_file_a_split(split, found)}"
                + _shard_hint(split, paths)
            )
    if not found:
        seen = ", ".join(sorted(p.name for p in folder.iterdir())) or "no files"
        raise DatasetError(
            f"{folder}: no split files (expected names starting with 'train', 'dev', "
            f"'valid' or 'test', or parts like '.train'; found: {seen}); name the files "
            "after their splits (train.conll, dev.conll, test.conll); from Python, name "
            "each split's file in a dict instead of the folder: "
            "load_dataset({'train': ..., 'dev': ..., 'test': ...})"
        )
    order = ("train", "dev", "test")
    return {split: found[split][0] for split in order if split in found}
