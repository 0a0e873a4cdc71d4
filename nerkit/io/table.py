"""Parquet and Arrow tables, as Hugging Face ``datasets`` stores a data set: one row a
sentence, a ``tokens`` list column and a tags list column, optional ``id``,
``document_id`` and ``spans`` (a list of ``{start, end, label}``, end exclusive).

Tags are read from ``tag_col`` when it is given, else from ``tags``, else from
``ner_tags`` (the Hugging Face name). They may be strings, or integers that name
tags the way a ``datasets.ClassLabel`` does: the names come from the ``huggingface``
entry of the schema metadata, which ``Dataset.to_parquet``, ``save_to_disk`` and the
Hub's Parquet files carry, or from ``tag_names``. Reading a folder reads its data
files (``data-00000-of-00002.arrow``, ``0000.parquet``, ...) as the shards of one
table, in name order, and so are the files a pattern names (``train-*.parquet``).
Errors name the file and the row index (counted from 0, as
``dataset[i]`` counts; in a folder, over all its shards). A folder written by
``save_to_disk`` is read as its ``state.json`` lists its files (``map`` leaves cache
files beside them). A ``spans`` column that is not a list of ``{start, end, label}``
(WikiANN's strings such as ``"PER: Bob Smith"``) is another tool's and is left alone.

With ``tags=False`` (as ``nerkit predict`` reads) only the ``tokens``, ``id`` and
``document_id`` columns are read: tag and ``spans`` columns are neither read nor
checked, so a table with tags of any form (integer ids without names too), or none, is
read alike.

The writers write the tags as strings under ``ner_tags`` (see ``sentences_table``):
``datasets.load_dataset("parquet", ...)`` reads them as they are, the same in every
split, and ``run_ner.py`` maps string labels to ids itself.
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
    refuse_partly_tagged,
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
    """The data files of ``folder`` in ``format``, in name order, hidden ones left out;
    where a ``state.json`` of ``save_to_disk`` lists its data files, those, in its
    order (``datasets`` also keeps ``cache-*.arrow`` files of ``map`` there)."""
    state = folder / "state.json"
    if state.is_file():
        try:
            listed = [entry["filename"] for entry in json.loads(state.read_text())["_data_files"]]
        except (OSError, ValueError, KeyError, TypeError):
            listed = None
        if listed and all(isinstance(name, str) for name in listed):
            missing = [name for name in listed if not (folder / name).is_file()]
            if missing:
                raise InputError(
                    f"state.json lists data files that are not there: {', '.join(missing)}",
                    path=folder,
                )
            return [folder / name for name in listed]
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
    tags: bool = True,
) -> ReadResult:
    """Read a Parquet file, or a folder of Parquet shards (see the module's text).
    ``tags=False`` reads the ``tokens``, ``id`` and ``document_id`` columns only (see
    the module's text)."""
    return _read(path, "parquet", scheme, rename, token_transform, tag_col, tag_names, tags)


def read_arrow(
    path: PathLike,
    *,
    scheme: str = "IOB2",
    rename: Mapping[str, str] | None = None,
    token_transform: TokenTransform | None = None,
    tag_col: str | None = None,
    tag_names: Sequence[str] | None = None,
    tags: bool = True,
) -> ReadResult:
    """Read an Arrow IPC file or stream (``save_to_disk``'s ``data-*.arrow``), or a
    folder of them (see the module's text). ``tags=False`` reads the ``tokens``, ``id``
    and ``document_id`` columns only (see the module's text)."""
    return _read(path, "arrow", scheme, rename, token_transform, tag_col, tag_names, tags)


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


def _load(path: Path, format: str) -> list[tuple[Path, pa.Table]]:
    """The table of ``path``, or the shards of folder ``path``, each with its file (a
    shard's tag names are its own: each is decoded with them)."""
    if is_pattern(path) and not path.exists():
        files = sorted(path.parent.glob(path.name))
        if not files:
            raise InputError("no file matches this pattern", path=path)
    elif not path.is_dir():
        return [(path, _load_one(path, format))]
    else:
        files = shard_files(path, format)
    if not files:
        ends = " or ".join(s for s, f in SUFFIXES.items() if f == format)
        raise InputError(f"a folder with no {ends} files", path=path)
    tables = [(f, _load_one(f, format)) for f in files]
    first = tables[0][1].schema
    for f, table in tables[1:]:
        if not table.schema.equals(first, check_metadata=False):
            raise InputError(
                f"its columns ({table.schema.to_string(show_schema_metadata=False)}) differ "
                f"from those of {files[0].name}, the first shard",
                path=f,
            )
    return tables


def is_pattern(path: Path) -> bool:
    """Whether ``path``'s name is a glob pattern (``train-*-of-00002.parquet``): the
    files it matches are the shards of one table."""
    return any(c in path.name for c in "*?[")


def _is_list(kind: pa.DataType) -> bool:
    import pyarrow as pa

    return bool(
        pa.types.is_list(kind) or pa.types.is_large_list(kind) or pa.types.is_fixed_size_list(kind)
    )


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
    if not _has_spans(table):
        tag_like = [
            c
            for c in names
            if c not in ("id", "document_id", "tokens")
            and _TAG_LIKE.search(c)
            and _is_list(table.schema.field(c).type)
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
    value = kind.value_type if _is_list(kind) else None
    if value is None:
        raise InputError(f"column {column!r} is {kind}, not a list of tags", path=path)
    if pa.types.is_dictionary(value):
        value = value.value_type
    if pa.types.is_string(value) or pa.types.is_large_string(value):
        if given is not None:
            # the strings are the tags; names given for ids would be ignored
            raise ConfigError(
                f"{path}: tag_names applies to integer tag ids only; column {column!r} "
                "holds the tags as strings (leave out tag_names)"
            )
        return None
    if pa.types.is_null(value):
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
                "(no ClassLabel in its 'huggingface' metadata); name them in id order with "
                "tag_names (nerkit run -D tag_names=O,B-PER,I-PER,...)",
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


def _has_spans(table: pa.Table) -> bool:
    """Whether the table has nerkit's ``spans``: a list of ``{start, end, label}``
    structs. A ``spans`` column of another form is another tool's (WikiANN's holds
    strings such as ``"PER: Bob Smith"`` that its tags say in full) and is left alone."""
    import pyarrow as pa

    if "spans" not in table.column_names:
        return False
    kind = table.schema.field("spans").type
    if not _is_list(kind) or not pa.types.is_struct(kind.value_type):
        return False
    fields = {kind.value_type.field(i).name for i in range(kind.value_type.num_fields)}
    return {"start", "end", "label"} <= fields


def _spans(value: Any) -> Any:
    # {start, end, label} structs as the writer writes them; anything else goes to the
    # row checks as it is, which name what is wrong.
    if isinstance(value, list):
        return [
            [v.get("start"), v.get("end"), v.get("label")] if isinstance(v, dict) else v
            for v in value
        ]
    return value


def _shown(tokens: Any, tags: Any, read_tags: bool) -> str:
    """A row as errors show it: its tokens, and its tags when they are read."""
    row = {"tokens": tokens, "tags": tags} if read_tags else {"tokens": tokens}
    return json.dumps(row, ensure_ascii=False, default=str)


@paused_gc()
def _read(
    path: PathLike,
    format: str,
    scheme: str,
    rename: Mapping[str, str] | None,
    token_transform: TokenTransform | None,
    tag_col: str | None,
    tag_names: Sequence[str] | None,
    tags: bool,
) -> ReadResult:
    path = Path(path)
    if not tags and (tag_col is not None or tag_names is not None):
        raise ConfigError("tags=False reads no tags: leave out tag_col and tag_names")
    if tag_names is not None and (
        isinstance(tag_names, str) or not all(isinstance(n, str) for n in tag_names)
    ):
        raise ConfigError("tag_names must be a list of tag strings, in id order")
    rows = RowReader(path, scheme, rename, token_transform, unit=ROW)
    index = 0  # over the shards, as dataset[i] of the whole split counts
    for source, table in _load(path, format):
        if "tokens" not in table.column_names:
            columns = ", ".join(table.column_names) or "none"
            raise InputError(f"no 'tokens' column (columns: {columns})", path=source)
        column = _tag_column(table, tag_col, source) if tags else None
        names = _names(table, column, tag_names, source) if column is not None else None
        if names is not None and OUTSIDE not in names:
            raise InputError(
                f"the tag names of {column!r} have no {OUTSIDE!r}: {names}", path=source
            )
        spans_column = "spans" if tags and _has_spans(table) else None

        def values(name: str | None, table: pa.Table = table) -> list[Any]:
            if name is None or name not in table.column_names:
                return [None] * table.num_rows
            return table.column(name).to_pylist()

        for tokens, row_tags, spans, sentence_id, document_id in zip(
            values("tokens"),
            values(column),
            values(spans_column),
            values("id"),
            values("document_id"),
            strict=True,
        ):
            if row_tags is not None and names is not None:
                row_tags = _decode(row_tags, names, index, source, column or "")
            try:
                rows.add(index, tokens, row_tags, _spans(spans), sentence_id, document_id, "")
            except InputError as exc:
                shown = _shown(tokens, row_tags, tags)
                raise InputError(
                    exc.reason, path=source, line=index, text=shown, unit=ROW
                ) from None
            index += 1
    return rows.finish()


# ----------------------------------------------------------------- writing


def sentences_table(sentences: Iterable[Sentence], path: Path) -> pa.Table:
    """The table the writers write to ``path``: ``id``, ``document_id`` (when a
    sentence has one), ``tokens``, ``ner_tags`` as strings (when a sentence is tagged:
    ``[]`` for an empty sentence, null for one given only spans; an untagged file has
    no ``ner_tags``) and ``spans`` (when a sentence has spans).

    Tags are written as strings, not as ``ClassLabel`` ids: the ids of a file's own
    names would differ between the files of one data set (a test split without some
    tag), and ``load_dataset("parquet", data_files=...)`` reads every split with the
    first file's names; strings mean the same in every file."""
    import pyarrow as pa

    sentences = list(sentences)
    for index, sentence in enumerate(sentences):
        if "" in sentence.tokens:
            at = sentence.tokens.index("")
            raise NerkitError(f"{sentence_name(sentence, index)}, token {at}: empty token")
    refuse_partly_tagged(sentences)
    strings = pa.list_(pa.string())
    try:
        columns: dict[str, pa.Array] = {
            "id": pa.array([s.sentence_id for s in sentences], pa.string())
        }
        if any(s.document_id is not None for s in sentences):
            columns["document_id"] = pa.array([s.document_id for s in sentences], pa.string())
        columns["tokens"] = pa.array([list(s.tokens) for s in sentences], strings)
        if any(s.tags for s in sentences):
            # An empty sentence of a tagged file has its (no) tags: ``[]``, not null,
            # which ``run_ner.py``'s ``set(label)`` cannot take. Null is for a sentence
            # given only spans, whose tags the reader encodes from them.
            columns["ner_tags"] = pa.array(
                [list(s.tags) if s.tags or not s.spans else None for s in sentences], strings
            )
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
    except (UnicodeEncodeError, pa.ArrowException) as exc:
        raise NerkitError(f"cannot write {path}: {exc}") from None
    return pa.table(columns)


def write_parquet(sentences: Iterable[Sentence], path: PathLike) -> None:
    """Write a Parquet file (see ``sentences_table``), through a temporary file."""
    import pyarrow.parquet as pq

    table = sentences_table(sentences, Path(path))
    with replaced_atomically(Path(path)) as tmp:
        pq.write_table(table, tmp)


def write_arrow(sentences: Iterable[Sentence], path: PathLike) -> None:
    """Write an Arrow IPC stream, as ``save_to_disk`` does, to ``.arrow``; an Arrow IPC
    file (Feather version 2, which ``pyarrow.feather`` and pandas read) to ``.feather``
    and ``.ipc`` (see ``sentences_table``); through a temporary file."""
    import pyarrow as pa

    target = Path(path)
    table = sentences_table(sentences, target)
    new = pa.ipc.new_file if target.suffix.lower() in (".feather", ".ipc") else pa.ipc.new_stream
    with (
        replaced_atomically(target) as tmp,
        pa.OSFile(str(tmp), "wb") as sink,
        new(sink, table.schema) as writer,
    ):
        writer.write_table(table)
