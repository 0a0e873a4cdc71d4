"""Readers and writers for CoNLL column files, CSV, JSON lines, and Parquet and Arrow
tables (as Hugging Face ``datasets`` stores them).

Every reader returns a :class:`ReadResult`; ``read(write(sentences))`` gives the
sentences back, as readers normalise them: a sentence without an id gets ``s-N`` (an
empty document id is none), spans come back sorted and without duplicates, and a
sentence given only spans gets the tags they encode. ``read`` and ``write`` pick the
format from the file extension.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nerkit.errors import ConfigError

if TYPE_CHECKING:
    from nerkit.io.common import PathLike, ReadResult, TransitionReport
    from nerkit.io.conll import read_conll
    from nerkit.io.conll_write import write_conll
    from nerkit.io.csv import read_csv, write_csv
    from nerkit.io.jsonl import read_jsonl, write_jsonl
    from nerkit.io.table import read_arrow, read_parquet, write_arrow, write_parquet
    from nerkit.types import Sentence

__all__ = [
    "FORMATS",
    "ReadResult",
    "TransitionReport",
    "detect_format",
    "read",
    "read_arrow",
    "read_conll",
    "read_csv",
    "read_jsonl",
    "read_parquet",
    "write",
    "write_arrow",
    "write_conll",
    "write_csv",
    "write_jsonl",
    "write_parquet",
]

FORMATS = ("conll", "csv", "jsonl", "parquet", "arrow")

# The format modules load on first use (PEP 562): `nerkit eval`'s fast path
# (nerkit.io.scan) needs none of them.
_WHERE = {
    "ReadResult": "common",
    "TransitionReport": "common",
    "PathLike": "common",
    "read_conll": "conll",
    "write_conll": "conll_write",
    "read_csv": "csv",
    "write_csv": "csv",
    "read_jsonl": "jsonl",
    "write_jsonl": "jsonl",
    "read_parquet": "table",
    "read_arrow": "table",
    "write_parquet": "table",
    "write_arrow": "table",
}
_READERS = {f: f"read_{f}" for f in FORMATS}
_WRITERS = {f: f"write_{f}" for f in FORMATS}
# Suffixes of the formats other than CoNLL, which is the rest.
SUFFIXES = {
    ".csv": "csv",
    ".jsonl": "jsonl",
    ".json": "jsonl",
    ".parquet": "parquet",
    ".arrow": "arrow",
    ".feather": "arrow",
    ".ipc": "arrow",
}
_TABLES = ("parquet", "arrow")


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)


def detect_format(path: PathLike) -> str:
    """The format a file name implies: ``.csv`` -> csv, ``.jsonl``/``.json`` -> jsonl,
    ``.parquet`` -> parquet, ``.arrow``/``.feather``/``.ipc`` -> arrow, anything else
    -> conll. A folder is a table's shards: parquet or arrow, as its data files say."""
    path = Path(path)
    if path.is_dir():
        found = {
            SUFFIXES.get(f.suffix.lower())
            for f in path.iterdir()
            if f.is_file() and not f.name.startswith(".")
        }
        tables = found & set(_TABLES)
        if len(tables) == 1:
            return tables.pop()
        raise ConfigError(
            f"{path} is a folder: a folder is read as the shards of one Parquet or Arrow "
            "table, and it holds "
            + ("both .parquet and .arrow files" if tables else "no .parquet or .arrow files")
        )
    return SUFFIXES.get(path.suffix.lower(), "conll")


def _pick(format: str | None, path: PathLike, table: dict[str, str]) -> Callable[..., Any]:
    name = detect_format(path) if format is None else format.lower()
    if name not in table:
        raise ConfigError(f"unknown format {format!r} (known: {', '.join(FORMATS)})")
    function: Callable[..., Any] = __getattr__(table[name])
    return function


def _check_options(function: Callable[..., Any], options: dict[str, Any]) -> None:
    # A misspelt option should name the options there are, not raise a TypeError.
    known = [
        name
        for name, p in inspect.signature(function).parameters.items()
        if p.kind is inspect.Parameter.KEYWORD_ONLY
    ]
    unknown = sorted(set(options) - set(known))
    if unknown:
        raise ConfigError(
            f"unknown option{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))} "
            f"for {function.__name__} (known: {', '.join(known)})"
        )


def read(
    path: PathLike, *, format: str | None = None, scheme: str = "IOB2", **options: Any
) -> ReadResult:
    """Read ``path`` in ``format`` (default: from its extension); ``options`` go to the
    format's reader (e.g. ``tag_col=`` for CoNLL). ``tags=False`` reads tokens, ids and
    documents only, ignoring the tags, in every format."""
    reader = _pick(format, path, _READERS)
    _check_options(reader, options)
    return reader(path, scheme=scheme, **options)


def write(
    sentences: Iterable[Sentence], path: PathLike, *, format: str | None = None, **options: Any
) -> None:
    """Write ``sentences`` to ``path`` in ``format`` (default: from its extension),
    through a temporary file renamed into place."""
    writer = _pick(format, path, _WRITERS)
    _check_options(writer, options)
    writer(sentences, path, **options)
