"""JSON lines: one sentence per line, ``{"tokens": [...], "tags": [...]}`` and/or
``"spans": [[start, end, label], ...]``, with optional ``"id"`` and ``"document_id"``.
How rows with spans become tags: see ``nerkit.io.rows``."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from nerkit.errors import InputError, NerkitError
from nerkit.io.common import (
    PathLike,
    ReadResult,
    TokenTransform,
    paused_gc,
    read_text,
    sentence_name,
    write_text,
)
from nerkit.io.rows import RowReader
from nerkit.types import Sentence


@paused_gc()
def read_jsonl(
    path: PathLike,
    *,
    scheme: str = "IOB2",
    rename: Mapping[str, str] | None = None,
    token_transform: TokenTransform | None = None,
) -> ReadResult:
    """Read a JSON lines file; blank lines are skipped. Rows without an ``"id"`` get
    ``s-N`` (N: the row's 1-based position)."""
    path = Path(path)
    rows = RowReader(path, scheme, rename, token_transform)
    for lineno, line in enumerate(read_text(path).split("\n"), 1):
        if not line or line.isspace():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            problem = f"malformed JSON ({exc.msg} at column {exc.colno})"
            if not rows.rows and line.lstrip().startswith("["):
                problem += "; JSON lines means one object per line, not a JSON array"
            raise InputError(problem, path=path, line=lineno, text=line) from None
        except (ValueError, RecursionError) as exc:  # e.g. too deeply nested, huge integers
            raise InputError(f"malformed JSON ({exc})", path=path, line=lineno, text=line) from None
        if not isinstance(obj, dict):
            raise InputError(
                "expected a JSON object (one per line)", path=path, line=lineno, text=line
            )
        if "tokens" not in obj:
            raise InputError('the object has no "tokens"', path=path, line=lineno, text=line)
        tags, spans = obj.get("tags"), obj.get("spans")
        if tags is None and spans is None:
            rows.check_untagged(lineno, obj["tokens"], obj.items(), line)
        rows.add(
            lineno,
            obj["tokens"],
            tags,
            spans,
            obj.get("id"),
            obj.get("document_id"),
            line,
        )
    return rows.finish()


def sentence_row(sentence: Sentence, index: int) -> dict[str, Any]:
    """The JSON object for a sentence: ids when set, tokens, tags when tagged, spans
    when the sentence has them."""
    if "" in sentence.tokens:
        raise NerkitError(
            f"{sentence_name(sentence, index)}, token {sentence.tokens.index('')}: empty token"
        )
    row: dict[str, Any] = {}
    if sentence.sentence_id is not None:
        row["id"] = sentence.sentence_id
    if sentence.document_id is not None:
        row["document_id"] = sentence.document_id
    row["tokens"] = sentence.tokens
    if sentence.tags:
        row["tags"] = sentence.tags
    if sentence.spans:
        row["spans"] = [(s.start, s.end, s.label) for s in sentence.spans]
    return row


def write_jsonl(sentences: Iterable[Sentence], path: PathLike) -> None:
    """Write one JSON object per line (UTF-8, not ASCII-escaped)."""
    lines = [
        json.dumps(sentence_row(sentence, index), ensure_ascii=False)
        for index, sentence in enumerate(sentences)
    ]
    write_text(path, "".join(line + "\n" for line in lines))
