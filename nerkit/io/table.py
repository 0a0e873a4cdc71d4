"""Parquet and Arrow tables, as Hugging Face ``datasets`` stores a data set: one row a
sentence, a ``tokens`` list column and a tags list column, optional ``id``,
``document_id`` and ``spans`` (a list of ``{start, end, label}``, end exclusive).

Tags are read from ``tag_col`` when it is given, else from ``tags``, else from
``ner_tags`` (the Hugging Face name). They may be strings, or integers that name
tags the way a ``datasets.ClassLabel`` does: the names come from the ``huggingface``
entry of the schema metadata, which ``Dataset.to_parquet``, ``save_to_disk`` and the
Hub's Parquet files carry, or from ``tag_names``. Reading a folder reads its data
files (``data-00000-of-00002.arrow``, ``0000.parquet``, ...) as the shards of one
table, in name order. Errors name the file and the row index (counted from 0, as
``dataset[i]`` counts).

The writers write ``tags`` as ``ner_tags`` integers with their names in the
``huggingface`` metadata, so that ``datasets.load_dataset("parquet", ...)`` gives a
``ClassLabel`` column, as ``run_ner.py`` expects.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nerkit.errors import ConfigError, InputError, NerkitError
from nerkit.io import SUFFIXES
from nerkit.io.common import (
    PathLike,
    ReadResult,
    TokenTransform,
    paused_gc,
    replaced_atomically,
    sentence_name,
)
from nerkit.io.rows import _TAG_LIKE, RowReader
from nerkit.schemes import OUTSIDE
from nerkit.types import Sentence

if TYPE_CHECKING:
    import pyarrow as pa

ROW = "row index"
_TAG_COLUMNS = ("tags", "ner_tags")


def shard_files(folder: Path, format: str) -> list[Path]:
    """The data files of ``folder`` in ``format``, in name order, hidden ones left out."""
    return sorted(
        f
        for f in folder.iterdir()
        if f.is_file() and not f.name.startswith(".") and SUFFIXES.get(f.suffix.lower()) == format
    )


# ----------------------------------------------------------------- reading


def read_parquet(
    path: PathLike,
    *,
    scheme: str = "IOB2",
    rename: Mapping[str, str] | None = None,
    token_transform: TokenTransform | None = None,
    tag_col: str | None = None,
    tag_names: Sequence[str] | None = None,
) -> ReadResult:
    """Read a Parquet file, or a folder of Parquet shards (see the module's text)."""
    return _read(path, "parquet", scheme, rename, token_transform, tag_col, tag_names)


def read_arrow(
    path: PathLike,
    *,
    scheme: str = "IOB2",
    rename: Mapping[str, str] | None = None,
    token_transform: TokenTransform | None = None,
    tag_col: str | None = None,
    tag_names: Sequence[str] | None = None,
) -> ReadResult:
    """Read an Arrow IPC file or stream (``save_to_disk``'s ``data-*.arrow``), or a
    folder of them (see the module's text)."""
    return _read(path, "arrow", scheme, rename, token_transform, tag_col, tag_names)


def _load_one(path: Path, format: str) -> pa.Table:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        if format == "parquet":
            return pq.read_table(path)
        with pa.memory_map(str(path)) as source:
            try:
                return pa.ipc.open_stream(source).read_all()
            except pa.ArrowInvalid:
                source.seek(0)
                return pa.ipc.open_file(source).read_all()
    except OSError as exc:
        raise InputError(f"cannot read file ({exc.strerror or exc})", path=path) from None
    except (pa.ArrowException, ValueError) as exc:
        what = "Parquet" if format == "parquet" else "Arrow IPC"
        raise InputError(f"not a readable {what} file ({exc})", path=path) from None


def _load(path: Path, format: str) -> pa.Table:
    import pyarrow as pa

    if not path.is_dir():
        return _load_one(path, format)
    files = shard_files(path, format)
    if not files:
        ends = " or ".join(s for s, f in SUFFIXES.items() if f == format)
        raise InputError(f"a folder with no {ends} files", path=path)
    tables = [_load_one(f, format) for f in files]
    first = tables[0].schema
    for f, table in zip(files[1:], tables[1:], strict=True):
        if not table.schema.equals(first, check_metadata=False):
            raise InputError(
                f"its columns ({table.schema.to_string(show_schema_metadata=False)}) differ "
                f"from those of {files[0].name}, the first shard",
                path=f,
            )
    return pa.concat_tables(tables).replace_schema_metadata(first.metadata)


def class_label_names(schema: pa.Schema, column: str) -> list[str] | None:
    """The names of the ``ClassLabel`` inside list column ``column``, as the
    ``huggingface`` schema metadata records them (``datasets`` 2.x writes the list as
    ``Sequence``, later versions as ``List``); None when the metadata has none."""
    raw = (schema.metadata or {}).get(b"huggingface")
    if raw is None:
        return None
    try:
        features = json.loads(raw)["info"]["features"]
        feature = features[column]
    except (ValueError, KeyError, TypeError):
        return None
    for _ in range(4):  # Sequence/List wrappers, or the [ClassLabel] short form
        if isinstance(feature, list) and len(feature) == 1:
            feature = feature[0]
        elif isinstance(feature, dict) and feature.get("_type") == "ClassLabel":
            names = feature.get("names")
            ok = isinstance(names, list) and all(isinstance(n, str) for n in names)
            return names if ok else None
        elif isinstance(feature, dict) and "feature" in feature:
            feature = feature["feature"]
        else:
            return None
    return None


def _tag_column(table: pa.Table, tag_col: str | None, path: Path) -> str | None:
    names = table.column_names
    if tag_col is not None:
        if not isinstance(tag_col, str):
            raise ConfigError(
                f"tag_col={tag_col!r}: in a table, tag_col names a column (e.g. 'ner_tags')"
            )
        if tag_col not in names:
            raise InputError(
                f"no column {tag_col!r} (tag_col); columns: {', '.join(names)}", path=path
            )
        return tag_col
    found = [c for c in _TAG_COLUMNS if c in names]
    if len(found) > 1:
        raise InputError(
            f"both 'tags' and 'ner_tags' columns: name the one to read with tag_col "
            f"(columns: {', '.join(names)})",
            path=path,
        )
    if found:
        return found[0]
    if "spans" not in names:
        import pyarrow as pa

        tag_like = [
            c
            for c in names
            if c not in ("id", "document_id", "tokens")
            and _TAG_LIKE.search(c)
            and pa.types.is_list(table.schema.field(c).type)
        ]
        if tag_like:
            raise InputError(
                f"tags are read from 'tags' or 'ner_tags'; this table has neither, but has "
                f"{', '.join(map(repr, tag_like))} (pass tag_col={tag_like[0]!r} to read "
                "its tags from there)",
                path=path,
            )
    return None


def _names(
    table: pa.Table, column: str, given: Sequence[str] | None, path: Path
) -> list[str] | None:
    """The tag names that integer tags in ``column`` index, or None for string tags."""
    import pyarrow as pa

    kind = table.schema.field(column).type
    value = kind.value_type if pa.types.is_list(kind) or pa.types.is_large_list(kind) else None
    if value is None:
        raise InputError(f"column {column!r} is {kind}, not a list of tags", path=path)
    if pa.types.is_dictionary(value):
        value = value.value_type
    if pa.types.is_string(value) or pa.types.is_large_string(value) or pa.types.is_null(value):
        return None
    if not pa.types.is_integer(value):
        raise InputError(
            f"column {column!r} holds {value} values; tags are strings or integer ids",
            path=path,
        )
    if given is not None:
        names = list(given)
    else:
        names = class_label_names(table.schema, column)
        if names is None:
            raise InputError(
                f"column {column!r} holds integer tag ids and the file does not name them "
                "(no ClassLabel in its 'huggingface' metadata); pass tag_names=[...] in "
                "id order",
                path=path,
            )
    if len(set(names)) != len(names):
        raise InputError(f"tag names {names} repeat a name", path=path)
    return names


def _decode(ids: list[Any], names: list[str], index: int, path: Path, column: str) -> list[Any]:
    out = []
    for position, tag_id in enumerate(ids):
        if tag_id is None:
            out.append(None)  # the row check below names it
        elif 0 <= tag_id < len(names):
            out.append(names[tag_id])
        else:
            raise InputError(
                f"{column}[{position}] is {tag_id}, not an id of the {len(names)} tag names "
                f"(0-{len(names) - 1})",
                path=path,
                line=index,
                unit=ROW,
            )
    return out


def _spans(value: Any) -> Any:
    # {start, end, label} structs as the writer writes them; anything else goes to the
    # row checks as it is, which name what is wrong.
    if isinstance(value, list):
        return [
            [v.get("start"), v.get("end"), v.get("label")] if isinstance(v, dict) else v
            for v in value
        ]
    return value


def _shown(tokens: Any, tags: Any) -> str:
    return json.dumps({"tokens": tokens, "tags": tags}, ensure_ascii=False, default=str)


@paused_gc()
def _read(
    path: PathLike,
    format: str,
    scheme: str,
    rename: Mapping[str, str] | None,
    token_transform: TokenTransform | None,
    tag_col: str | None,
    tag_names: Sequence[str] | None,
) -> ReadResult:
    path = Path(path)
    if tag_names is not None and (
        isinstance(tag_names, str) or not all(isinstance(n, str) for n in tag_names)
    ):
        raise ConfigError("tag_names must be a list of tag strings, in id order")
    table = _load(path, format)
    if "tokens" not in table.column_names:
        raise InputError(
            f"no 'tokens' column (columns: {', '.join(table.column_names) or 'none'})", path=path
        )
    column = _tag_column(table, tag_col, path)
    names = _names(table, column, tag_names, path) if column is not None else None
    if names is not None and OUTSIDE not in names:
        raise InputError(f"the tag names of {column!r} have no {OUTSIDE!r}: {names}", path=path)

    def values(name: str | None) -> list[Any]:
        if name is None or name not in table.column_names:
            return [None] * table.num_rows
        return table.column(name).to_pylist()

    rows = RowReader(path, scheme, rename, token_transform, unit=ROW)
    for index, (tokens, tags, spans, sentence_id, document_id) in enumerate(
        zip(
            values("tokens"),
            values(column),
            values("spans"),
            values("id"),
            values("document_id"),
            strict=True,
        )
    ):
        if tags is not None and names is not None:
            tags = _decode(tags, names, index, path, column or "")
        try:
            rows.add(index, tokens, tags, _spans(spans), sentence_id, document_id, "")
        except InputError as exc:
            raise InputError(
                exc.reason, path=path, line=index, text=_shown(tokens, tags), unit=ROW
            ) from None
    return rows.finish()


# ----------------------------------------------------------------- writing


def _tag_order(sentences: Sequence[Sentence]) -> list[str]:
    """``O`` first, then each entity type's tags together, types in sorted order (the
    order of a ``ClassLabel`` such as CoNLL-2003's, up to the order of the types)."""
    found = {tag for s in sentences for tag in s.tags} | {OUTSIDE}
    prefix_order = {p: i for i, p in enumerate("BIESLU")}
    return sorted(found, key=lambda t: (t != OUTSIDE, t[2:], prefix_order.get(t[0], 9), t))


def sentences_table(sentences: Iterable[Sentence]) -> pa.Table:
    """The table the writers write: ``id``, ``document_id`` (when a sentence has one),
    ``tokens``, ``ner_tags`` (when a sentence is tagged; null for untagged ones) and
    ``spans`` (when a sentence has spans), with the tag names in the metadata."""
    import pyarrow as pa

    sentences = list(sentences)
    for index, sentence in enumerate(sentences):
        if "" in sentence.tokens:
            at = sentence.tokens.index("")
            raise NerkitError(f"{sentence_name(sentence, index)}, token {at}: empty token")
    names = _tag_order(sentences)
    ids = {tag: i for i, tag in enumerate(names)}
    columns: dict[str, pa.Array] = {"id": pa.array([s.sentence_id for s in sentences], pa.string())}
    if any(s.document_id is not None for s in sentences):
        columns["document_id"] = pa.array([s.document_id for s in sentences], pa.string())
    columns["tokens"] = pa.array([list(s.tokens) for s in sentences], pa.list_(pa.string()))
    features: dict[str, Any] = {
        "id": {"dtype": "string", "_type": "Value"},
        "tokens": {"feature": {"dtype": "string", "_type": "Value"}, "_type": "List"},
    }
    if "document_id" in columns:
        features["document_id"] = {"dtype": "string", "_type": "Value"}
    if any(s.tags for s in sentences):
        columns["ner_tags"] = pa.array(
            [[ids[t] for t in s.tags] if s.tags else None for s in sentences],
            pa.list_(pa.int64()),
        )
        features["ner_tags"] = {
            "feature": {"names": names, "_type": "ClassLabel"},
            "_type": "List",
        }
    if any(s.spans for s in sentences):
        span = pa.struct([("start", pa.int64()), ("end", pa.int64()), ("label", pa.string())])
        columns["spans"] = pa.array(
            [
                [{"start": x.start, "end": x.end, "label": x.label} for x in s.spans]
                if s.spans
                else None
                for s in sentences
            ],
            pa.list_(span),
        )
    table = pa.table(columns)
    metadata = {"huggingface": json.dumps({"info": {"features": features}})}
    return table.replace_schema_metadata(metadata)


def write_parquet(sentences: Iterable[Sentence], path: PathLike) -> None:
    """Write a Parquet file (see ``sentences_table``), through a temporary file."""
    import pyarrow.parquet as pq

    table = sentences_table(sentences)
    with replaced_atomically(Path(path)) as tmp:
        pq.write_table(table, tmp)


def write_arrow(sentences: Iterable[Sentence], path: PathLike) -> None:
    """Write an Arrow IPC stream, as ``save_to_disk`` does (see ``sentences_table``),
    through a temporary file."""
    import pyarrow as pa

    table = sentences_table(sentences)
    with (
        replaced_atomically(Path(path)) as tmp,
        pa.OSFile(str(tmp), "wb") as sink,
        pa.ipc.new_stream(sink, table.schema) as writer,
    ):
        writer.write_table(table)
