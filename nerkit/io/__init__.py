"""Readers and writers for CoNLL column files, CSV and JSON lines.

Every reader returns a :class:`ReadResult`; ``read(write(sentences))`` gives the
sentences back. ``read`` and ``write`` pick the format from the file extension.
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
    from nerkit.types import Sentence

__all__ = [
    "FORMATS",
    "ReadResult",
    "TransitionReport",
    "detect_format",
    "read",
    "read_conll",
    "read_csv",
    "read_jsonl",
    "write",
    "write_conll",
    "write_csv",
    "write_jsonl",
]

FORMATS = ("conll", "csv", "jsonl")

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
}
_READERS = {"conll": "read_conll", "csv": "read_csv", "jsonl": "read_jsonl"}
_WRITERS = {"conll": "write_conll", "csv": "write_csv", "jsonl": "write_jsonl"}


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)


def detect_format(path: PathLike) -> str:
    """The format a file name implies: ``.csv`` -> csv, ``.jsonl``/``.json`` -> jsonl,
    anything else -> conll."""
    suffix = Path(path).suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix in (".jsonl", ".json"):
        return "jsonl"
    return "conll"


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
    format's reader (e.g. ``tag_col=`` for CoNLL)."""
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
