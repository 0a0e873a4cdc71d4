"""CSV with a ``tokens`` and a ``tags`` column, each cell a list in JSON form
(``["a", "b"]``) or Python-literal form (``['a', 'b']``, as pandas writes lists);
optional ``id``, ``document_id`` and ``spans`` columns. A ``ner_tags`` column (the
Hugging Face name) of string tags is read as ``tags``. Other columns are ignored,
except that without tags and spans a list as long as the tokens in one with a
tag-like name (integer ``ner_tags`` too) is refused (see ``RowReader.check_untagged``)."""

from __future__ import annotations

import ast
import csv
import io
import json
import re
import tokenize
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from nerkit.errors import InputError
from nerkit.io.common import (
    PathLike,
    ReadResult,
    TokenTransform,
    paused_gc,
    read_text,
    refuse_partly_tagged,
    write_text,
)
from nerkit.io.jsonl import sentence_row
from nerkit.io.rows import HF_TAGS, RowReader, is_string_list
from nerkit.types import Sentence

COLUMNS = ("id", "document_id", "tokens", "tags", "spans")


@contextmanager
def _field_limit(limit: int) -> Iterator[None]:
    # csv refuses cells over 128 KiB by default; a long document's token list is bigger.
    old = csv.field_size_limit()
    csv.field_size_limit(max(old, limit))
    try:
        yield
    finally:
        csv.field_size_limit(old)


# Two quotes with only blanks (and a string prefix) between them: maybe two string
# literals side by side, which Python glues into one string.
_QUOTES_SIDE_BY_SIDE = re.compile(r"""['"]\s*[rRuUbBfF]{0,2}['"]""")


def _glued_strings(text: str) -> bool:
    """Whether ``text`` holds string literals with no comma between them, which
    ``ast.literal_eval`` would glue into one: numpy writes an array of strings so
    (``['EU' 'rejects']``), and pandas writes a cell that holds an array as numpy does."""
    if not _QUOTES_SIDE_BY_SIDE.search(text):
        return False  # the usual cell: no need to tokenize it
    previous = None
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type in (tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT):
                continue
            if token.type == previous == tokenize.STRING:
                return True
            previous = token.type
    except (tokenize.TokenError, SyntaxError):
        pass  # literal_eval has accepted the text, so this is not expected
    return False


def _decode(text: str) -> object:
    """``text`` (stripped, not empty) as JSON, else as a Python literal; never evaluates
    code (``ast.literal_eval`` only accepts literals). ValueError says what is wrong."""
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        pass
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        raise ValueError("is not a list in JSON or Python-literal form") from None
    if _glued_strings(text):
        raise ValueError(
            "is not a list: its strings have no commas between them, as numpy writes an "
            "array (store lists, e.g. with .tolist(), before writing the CSV)"
        )
    return value


def _parse_list(cell: str, column: str, path: Path, line: int) -> object:
    """A cell's list, or None for an empty cell."""
    text = cell.strip()
    if not text:
        return None
    try:
        return _decode(text)
    except ValueError as exc:
        raise InputError(f"{column} cell {exc}", path=path, line=line, text=cell) from None


def _unread_list(cell: str) -> object:
    """A cell of a column the reader does not read, as a list if it holds one, else
    None (never an error: such columns may hold anything)."""
    text = cell.strip()
    if not text.startswith(("[", "(")):
        return None
    try:
        return _decode(text)
    except ValueError:
        return None


@paused_gc()
def read_csv(
    path: PathLike,
    *,
    scheme: str = "IOB2",
    rename: Mapping[str, str] | None = None,
    token_transform: TokenTransform | None = None,
    tags: bool = True,
) -> ReadResult:
    """Read a CSV file whose first row names the columns. Rows without an ``id``
    get ``s-N`` (N: the row's 1-based position).

    ``tags=False`` reads the ``tokens``, ``id`` and ``document_id`` columns only (as
    ``nerkit predict`` does): ``tags``, ``ner_tags``, ``spans`` and the other columns
    are neither read nor checked, so files with tags of any form, or none, are read
    alike."""
    path = Path(path)
    rows = RowReader(path, scheme, rename, token_transform)
    text = read_text(path, newlines="keep")
    # newline="\n": lines split at \n only, so line numbers agree with the other readers.
    reader = csv.reader(io.StringIO(text, newline="\n"))
    with _field_limit(len(text) + 1):
        try:
            header = next(reader, None)
            if header is None:
                raise InputError("no sentences in file", path=path, line=None)
            names = [name.strip() for name in header]
            if "tokens" not in names:
                raise InputError(
                    'the header row has no "tokens" column',
                    path=path,
                    line=1,
                    text=",".join(header),
                )
            columns = COLUMNS if tags else ("id", "document_id", "tokens")
            wanted = {name: names.index(name) for name in columns if name in names}
            for name in wanted:
                if names.count(name) > 1:
                    raise InputError(
                        f"two {name!r} columns", path=path, line=1, text=",".join(header)
                    )
            hf_tags = names.index(HF_TAGS) if tags and HF_TAGS in names else None
            if hf_tags is not None and names.count(HF_TAGS) > 1:
                raise InputError(
                    f"two {HF_TAGS!r} columns", path=path, line=1, text=",".join(header)
                )
            # Without tags or spans, lists in other columns may be the tags misnamed.
            unread = (
                []
                if not tags or "tags" in wanted or "spans" in wanted
                else [(name, i) for i, name in enumerate(names) if name not in COLUMNS]
            )
            previous_end = reader.line_num
            for row in reader:
                line = previous_end + 1
                previous_end = reader.line_num
                if not row or (len(row) == 1 and not row[0].strip()):
                    continue
                if len(row) != len(names):
                    raise InputError(
                        f"expected {len(names)} cells, found {len(row)}",
                        path=path,
                        line=line,
                        text=",".join(row),
                    )
                cells = {name: row[i] for name, i in wanted.items()}
                tokens = _parse_list(cells["tokens"], "tokens", path, line)
                if tokens is None:
                    raise InputError("empty tokens cell", path=path, line=line, text=",".join(row))
                shown = ",".join(row)
                given = {"tags": _parse_list(cells.get("tags", ""), "tags", path, line)}
                if hf_tags is not None:
                    # as before string ner_tags were read: a cell of no list is ignored
                    given[HF_TAGS] = _unread_list(row[hf_tags])
                key, row_tags = rows.tags_of(given, line, shown)
                spans = _parse_list(cells.get("spans", ""), "spans", path, line)
                if unread and row_tags is None:
                    others = (
                        (name, given[name] if name in given else _unread_list(row[i]))
                        for name, i in unread
                    )
                    rows.check_untagged(line, tokens, others, shown)
                rows.add(
                    line,
                    tokens,
                    row_tags,
                    spans,
                    cells.get("id"),
                    cells.get("document_id"),
                    shown,
                    tag_key=key,
                )
        except csv.Error as exc:
            raise InputError(f"malformed CSV ({exc})", path=path, line=reader.line_num) from None
    return rows.finish()


def write_csv(sentences: Iterable[Sentence], path: PathLike) -> None:
    """Write a header and one row per sentence, lists as JSON. The id, document_id,
    tags and spans columns are written when some sentence has them."""
    write_text(path, csv_text(sentences))


def csv_text(sentences: Iterable[Sentence]) -> str:
    """The text :func:`write_csv` writes, for a stream such as stdout; the same errors
    for what the reader could not read back."""
    sentences = list(sentences)
    refuse_partly_tagged(sentences)
    tagged = any(s.tags for s in sentences)
    data = [sentence_row(s, index, tagged=tagged) for index, s in enumerate(sentences)]
    columns = [c for c in COLUMNS if c == "tokens" or any(c in row for row in data)]
    buffer = io.StringIO()
    # QUOTE_MINIMAL quotes a cell holding a line break only if the terminator has it.
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    for row in data:
        writer.writerow(
            [
                (row[c] if c in ("id", "document_id") else json.dumps(row[c], ensure_ascii=False))
                if c in row
                else ""
                for c in columns
            ]
        )
    return buffer.getvalue()


def unread_columns(path: PathLike) -> list[str]:
    """The columns of ``path``, a file that :func:`read_csv` has read, that it does not
    read and that hold something (``pos_tags``; ``ner_tags`` of integer ids, or beside
    ``tags``), in header order: what converting the file drops."""
    text = read_text(Path(path), newlines="keep")
    with _field_limit(len(text) + 1):
        reader = csv.reader(io.StringIO(text, newline="\n"))
        names = [name.strip() for name in next(reader, [])]
        # the cells the reader reads as tags: string ner_tags, in a file without tags
        hf_tags = names.index(HF_TAGS) if HF_TAGS in names and "tags" not in names else None
        filled: set[int] = set()
        for row in reader:
            for i, (name, cell) in enumerate(zip(names, row, strict=False)):
                if i in filled or name in COLUMNS or not cell.strip():
                    continue
                if i == hf_tags and is_string_list(_unread_list(cell)):
                    continue
                filled.add(i)
    return [name for i, name in enumerate(names) if i in filled]
