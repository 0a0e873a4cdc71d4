"""JSON lines: one sentence per line, ``{"tokens": [...], "tags": [...]}`` and/or
``"spans": [[start, end, label], ...]``, with optional ``"id"`` and ``"document_id"``;
string tags under ``"ner_tags"`` (as Hugging Face ``datasets`` names them) are read as
``"tags"``. How rows with spans become tags: see ``nerkit.io.rows``.

Prodigy's and spaCy's task format is read too: ``tokens`` as objects with a
``"text"`` (and character ``"start"`` / ``"end"``), ``spans`` as objects with a
``"label"`` and ``"token_start"`` / ``"token_end"`` (the end inclusive) or character
offsets that fall on token boundaries. A task answered other than ``"accept"``, or a
binary ``ner`` task (``ner.teach``), is an error, not an annotation."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, TypeGuard

from nerkit.errors import InputError, NerkitError
from nerkit.io.common import (
    PathLike,
    ReadResult,
    TokenTransform,
    paused_gc,
    read_text,
    refuse_partly_tagged,
    sentence_name,
    write_text,
)
from nerkit.io.rows import HF_TAGS, READ_KEYS, RowReader, is_string_list
from nerkit.types import Sentence


@paused_gc()
def read_jsonl(
    path: PathLike,
    *,
    scheme: str = "IOB2",
    rename: Mapping[str, str] | None = None,
    token_transform: TokenTransform | None = None,
    tags: bool = True,
) -> ReadResult:
    """Read a JSON lines file; blank lines are skipped. Rows without an ``"id"`` get
    ``s-N`` (N: the row's 1-based position).

    ``tags=False`` reads the tokens, ids and document ids only (as ``nerkit predict``
    does): ``tags``, ``ner_tags``, ``spans`` and a task's answer are neither read nor
    checked, so rows with tags of any form, or none, are read alike; token objects with
    a ``"text"`` are read as their texts."""
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
        if not tags:
            tokens = _token_texts(obj["tokens"], path, lineno, line)
            rows.add(lineno, tokens, None, None, obj.get("id"), obj.get("document_id"), line)
            continue
        if _task_form(obj):
            obj = _from_task(obj, path, lineno, line)
        key, row_tags = rows.tags_of(obj, lineno, line)
        spans = obj.get("spans")
        if row_tags is None and spans is None:
            rows.check_untagged(lineno, obj["tokens"], obj.items(), line)
        rows.add(
            lineno,
            obj["tokens"],
            row_tags,
            spans,
            obj.get("id"),
            obj.get("document_id"),
            line,
            tag_key=key,
        )
    return rows.finish()


# What a Prodigy task holds that the reader reads (the answer and view are checked).
_TASK_KEYS = (*READ_KEYS, "answer", "_view_id")


def _task_form(obj: dict[str, Any]) -> bool:
    """Whether a row is in Prodigy's task form (token or span objects, an answer)."""
    spans = obj.get("spans")
    return (
        "answer" in obj
        or _token_objects(obj.get("tokens"))
        or (isinstance(spans, list) and any(isinstance(s, dict) for s in spans))
    )


def _token_objects(tokens: object) -> TypeGuard[list[Any]]:
    """Whether ``tokens`` is a list of Prodigy's and spaCy's token objects."""
    return isinstance(tokens, list) and any(isinstance(t, dict) for t in tokens)


def _token_texts(tokens: object, path: Path, lineno: int, line: str) -> object:
    """``tokens``, with token objects as their texts; anything else as it is, for the
    row checks to name."""
    if not _token_objects(tokens):
        return tokens
    texts = []
    for i, token in enumerate(tokens):
        if not isinstance(token, dict) or not isinstance(token.get("text"), str):
            raise InputError(
                f"token {i} is not an object with a text", path=path, line=lineno, text=line
            )
        texts.append(token["text"])
    return texts


def _from_task(obj: dict[str, Any], path: Path, lineno: int, line: str) -> dict[str, Any]:
    """The row a Prodigy task stands for: token texts, and spans as ``[start, end,
    label]`` token positions (end exclusive)."""

    def fail(message: str) -> InputError:
        return InputError(message, path=path, line=lineno, text=line)

    answer = obj.get("answer", "accept")
    if answer != "accept":
        raise fail(
            f"a task answered {answer!r}: only accepted tasks are annotations (keep the "
            "rows whose answer is 'accept')"
        )
    if obj.get("_view_id") == "ner":
        raise fail(
            "a binary 'ner' task (ner.teach) accepts or rejects one suggested entity and "
            "leaves the rest of the sentence unannotated: it is no gold annotation (use "
            "the tasks of ner.manual or ner.correct)"
        )
    row = dict(obj)
    tokens = obj["tokens"]
    starts: dict[int, int] = {}  # character offset -> token, for spans given by offsets
    ends: dict[int, int] = {}
    if _token_objects(tokens):
        row["tokens"] = _token_texts(tokens, path, lineno, line)
        for i, token in enumerate(tokens):
            start, end = token.get("start"), token.get("end")
            if type(start) is int and type(end) is int:
                starts.setdefault(start, i)
                ends[end] = i
    spans = obj.get("spans")
    if isinstance(spans, list) and any(isinstance(s, dict) for s in spans):
        n = len(row["tokens"]) if isinstance(row["tokens"], list) else 0
        converted = []
        for span in spans:
            if not isinstance(span, dict) or not isinstance(span.get("label"), str):
                raise fail(f"span {span!r} is not an object with a label")
            if "token_start" in span and "token_end" in span:
                first, last = span["token_start"], span["token_end"]
            elif (
                type(span.get("start")) is int
                and type(span.get("end")) is int
                and span["start"] in starts
                and span["end"] in ends
            ):
                first, last = starts[span["start"]], ends[span["end"]]
            else:
                raise fail(
                    f"span {span!r} has no token_start / token_end, and its character "
                    "offsets do not fall on the boundaries of its tokens"
                )
            if type(first) is not int or type(last) is not int:
                raise fail(f"span {span!r}: token_start and token_end must be integers")
            if not 0 <= first <= last < n:
                raise fail(
                    f"span {span!r}: need 0 <= token_start <= token_end < {n} (token_end "
                    "is the span's last token)"
                )
            converted.append([first, last + 1, span["label"]])
        row["spans"] = converted
    return row


def sentence_row(sentence: Sentence, index: int, *, tagged: bool = False) -> dict[str, Any]:
    """The JSON object for a sentence: tokens, tags when tagged, spans when the
    sentence has them, then ids when set. ``tagged``: the file's sentences have tags,
    so an empty sentence gets ``"tags": []`` (Hugging Face ``datasets`` fills a missing
    key with null, which ``run_ner.py`` cannot take); a sentence given only spans gets
    none. Tokens and tags come first: ``run_ner.py`` takes the second column for the
    labels when the file has no ``ner_tags``."""
    if "" in sentence.tokens:
        raise NerkitError(
            f"{sentence_name(sentence, index)}, token {sentence.tokens.index('')}: empty token"
        )
    row: dict[str, Any] = {"tokens": sentence.tokens}
    if sentence.tags or (tagged and not sentence.spans):
        row["tags"] = sentence.tags
    if sentence.spans:
        row["spans"] = [(s.start, s.end, s.label) for s in sentence.spans]
    if sentence.sentence_id is not None:
        row["id"] = sentence.sentence_id
    if sentence.document_id is not None:
        row["document_id"] = sentence.document_id
    return row


def write_jsonl(sentences: Iterable[Sentence], path: PathLike) -> None:
    """Write one JSON object per line (UTF-8, not ASCII-escaped)."""
    write_text(path, jsonl_text(sentences))


def jsonl_text(sentences: Iterable[Sentence]) -> str:
    """The text :func:`write_jsonl` writes, for a stream such as stdout; the same
    errors for what the readers could not read back."""
    sentences = list(sentences)
    refuse_partly_tagged(sentences)
    tagged = any(s.tags for s in sentences)
    lines = [
        json.dumps(sentence_row(sentence, index, tagged=tagged), ensure_ascii=False)
        for index, sentence in enumerate(sentences)
    ]
    return "".join(line + "\n" for line in lines)


def unread_keys(path: PathLike) -> list[str]:
    """The keys of the rows of ``path``, a file that :func:`read_jsonl` has read, that
    it does not read (``pos_tags``, integer ``ner_tags`` beside ``tags``, a task's
    ``meta``), in the order they first occur: what converting the file drops."""
    found: dict[str, None] = {}
    for line in read_text(Path(path)).split("\n"):
        if not line or line.isspace():
            continue
        obj = json.loads(line)
        read = _TASK_KEYS if _task_form(obj) else READ_KEYS
        for key, value in obj.items():
            if key in read or key in found:
                continue
            if key == HF_TAGS and is_string_list(value):
                continue  # read as the tags (or, the same, beside them)
            found[key] = None
    return list(found)
