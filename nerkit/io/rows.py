"""Rows of decoded values (a JSON line, a CSV row) into sentences: the checks and
the tags-from-spans rule that the CSV and JSON lines readers share.

A row gives ``tokens`` and ``tags``, or ``spans`` (``[start, end, label]``, end
exclusive, may nest), or both. Tags given as strings under ``ner_tags`` (the Hugging
Face name) are read as ``tags``; integer ``ner_tags`` name no tags without the
``ClassLabel`` they index, which JSON lines and CSV do not carry. From spans alone
the tags encode the outermost layer of non-overlapping spans (a span before the
spans it contains) in the scheme read; ``spans`` is kept only when those tags do not
say it all. Rows that give both keep both as given (spans sorted, duplicates
dropped). A row with neither is read untagged, unless it has a list as long as its
tokens under a tag-like name, or other rows of the file have tags or spans.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TypeGuard

from nerkit.errors import InputError
from nerkit.io.common import (
    ReadResult,
    TagTable,
    TokenTransform,
    TransitionReport,
    find_invalid,
    layers,
    normalize_spans,
)
from nerkit.schemes import encode, spans_lenient
from nerkit.types import Sentence, Span


def _all_str(values: list[object] | tuple[object, ...]) -> bool:
    # One pass in C instead of a generator over every token.
    return not values or set(map(type, values)) == {str}


def is_string_list(value: object) -> TypeGuard[list[str] | tuple[str, ...]]:
    """Whether ``value`` is a list (or tuple) of strings, as tags are."""
    return isinstance(value, list | tuple) and _all_str(value)


# What a row may hold that the readers read.
READ_KEYS = ("id", "document_id", "tokens", "tags", "spans")
# Where Hugging Face ``datasets`` keeps the tags: read when it holds strings.
HF_TAGS = "ner_tags"
# Names under which exports and typos put tags (``ner_tags``, ``tag``, ``labels``,
# ``entities``, ``bio``); other lists (``pos``, spaCy's ``ws``) are left alone.
_TAG_LIKE = re.compile(r"tag|label|ner|entit|bio|iob", re.IGNORECASE)

_Row = tuple[list[str], list[str] | None, list[Span] | None, str | None, str | None, int]


class RowReader:
    """Collects checked rows, then builds the ReadResult once the scheme is known."""

    def __init__(
        self,
        path: Path,
        scheme: str,
        rename: Mapping[str, str] | None,
        token_transform: TokenTransform | None,
        unit: str = "line",
    ) -> None:
        self.path = path
        self.unit = unit
        self.table = TagTable(path, scheme, rename, unit)
        self.transform = token_transform
        self.rows: list[_Row] = []

    def _fail(self, message: str, line: int, text: str | None) -> InputError:
        return InputError(message, path=self.path, line=line, text=text, unit=self.unit)

    def tags_of(self, row: Mapping[str, object], line: int, text: str) -> tuple[str, object]:
        """The key of ``row`` to read its tags from, and its value (None: no tags):
        ``tags``, or ``ner_tags`` when it holds strings (``[]`` too: an empty sentence).
        Integer ``ner_tags`` are left to ``check_untagged``, which says what to do.
        Both, with different tags, is an error: either may be the one meant."""
        tags, hf_tags = row.get("tags"), row.get(HF_TAGS)
        if not is_string_list(hf_tags):
            return "tags", tags
        if tags is None:
            return HF_TAGS, hf_tags
        if is_string_list(tags) and list(tags) != list(hf_tags):
            raise self._fail(
                f"both 'tags' and {HF_TAGS!r} hold tags, and they differ: keep only the one "
                "to read",
                line,
                text,
            )
        return "tags", tags

    def add(
        self,
        line: int,
        tokens: object,
        tags: object,
        spans: object,
        sentence_id: object,
        document_id: object,
        text: str,
        *,
        tag_key: str = "tags",
    ) -> None:
        """Check one row (read from ``line``, shown as ``text`` in errors) and keep it;
        ``tag_key`` names where the tags came from, for errors."""
        if not isinstance(tokens, list | tuple) or not _all_str(tokens):
            raise self._fail("tokens must be a list of strings", line, text)
        tokens = list(tokens)
        if self.transform is not None:
            tokens = [self.transform(t) for t in tokens]
        if "" in tokens:
            raise self._fail(f"token {tokens.index('')} is empty", line, text)
        mapped_tags = None
        if tags is not None:
            if not isinstance(tags, list | tuple) or not _all_str(tags):
                raise self._fail(f"{tag_key} must be a list of strings", line, text)
            if len(tags) != len(tokens):
                raise self._fail(f"{len(tokens)} tokens but {len(tags)} {tag_key}", line, text)
            mapped_tags = list(map(self.table.mapped.get, tags))
            if None in mapped_tags:
                mapped_tags = [self.table.mapped.get(t) or self.table.add(t, line) for t in tags]
        row_spans = None if spans is None else self._spans(spans, len(tokens), line, text)
        self.rows.append(
            (
                tokens,
                mapped_tags,
                row_spans,
                self._id(sentence_id, "id", line, text),
                self._id(document_id, "document_id", line, text),
                line,
            )
        )

    def check_untagged(
        self, line: int, tokens: object, others: Iterable[tuple[str, object]], text: str
    ) -> None:
        """Refuse a row without tags or spans that has lists as long as its tokens under
        tag-like names (``others``: name and value pairs): those are most likely its tags
        (``ner_tags`` in Hugging Face exports, or a typo), which reading the row as
        untagged would drop without a word."""
        if not isinstance(tokens, list | tuple) or not tokens:
            return
        others = list(others)
        names = [
            name
            for name, value in others
            if name not in READ_KEYS
            and _TAG_LIKE.search(name)
            and isinstance(value, list | tuple)
            and len(value) == len(tokens)
        ]
        if names:
            found = ", ".join(map(repr, names))
            ids = any(
                isinstance(value, list | tuple) and value and type(value[0]) is int
                for name, value in others
                if name in names
            )
            hint = (
                "; integer ids are what Hugging Face's to_json writes, without the names "
                "they stand for: Dataset.to_parquet keeps the names, and nerkit reads it"
                if ids
                else ""
            )
            raise self._fail(
                f"tags are read from 'tags' or 'spans' (or from {HF_TAGS!r} as strings); "
                f"this row has neither, but has {found}, "
                f"{'a list' if len(names) == 1 else 'lists'} as long as its tokens (name its "
                "tags 'tags', as strings such as 'B-PER', or leave out the other lists to "
                f"read the row untagged){hint}",
                line,
                text,
            )

    def _spans(self, spans: object, length: int, line: int, text: str) -> list[Span]:
        if not isinstance(spans, list | tuple):
            raise self._fail("spans must be a list of [start, end, label]", line, text)
        result = []
        for item in spans:
            if (
                not isinstance(item, list | tuple)
                or len(item) != 3
                or type(item[0]) is not int
                or type(item[1]) is not int
                or not isinstance(item[2], str)
            ):
                raise self._fail(f"span {item!r} is not [start, end, label]", line, text)
            start, end, label = item
            if not 0 <= start < end <= length:
                raise self._fail(
                    f"span {item!r} out of range for {length} tokens "
                    f"(need 0 <= start < end <= {length})",
                    line,
                    text,
                )
            result.append(Span(start, end, self.table.label(label, line)))
        return result

    def _id(self, value: object, key: str, line: int, text: str) -> str | None:
        if value is None or value == "":
            return None
        if isinstance(value, str):
            return value
        if type(value) is int:
            return str(value)
        raise self._fail(f"{key} must be a string or an integer", line, text)

    def _refuse_untagged_among_tagged(self) -> None:
        """A row without tags or spans in a file whose other rows have them is most
        likely an empty cell; read as untagged, its sentence would lose its entities
        without a word. (A file without any tags is read untagged.)"""
        untagged = tagged = None
        for tokens, tags, spans, _, _, line in self.rows:
            if tags is not None or spans is not None:
                tagged = tagged if tagged is not None else line
            elif tokens and untagged is None:
                untagged = line
            if tagged is not None and untagged is not None:
                raise InputError(
                    f"this row has neither tags nor spans, but other rows of the file "
                    f"have them (first: {self.unit} {tagged}); give every row its tags",
                    path=self.path,
                    line=untagged,
                    unit=self.unit,
                )

    def finish(self) -> ReadResult:
        if not self.rows:
            raise InputError("no sentences in file", path=self.path, line=None)
        self._refuse_untagged_among_tagged()
        scheme = self.table.resolve([r[1] for r in self.rows if r[1] is not None])
        sentences = []
        for index, (tokens, tags, spans, sentence_id, document_id, _) in enumerate(self.rows):
            kept: tuple[Span, ...] = normalize_spans(spans) if spans else ()
            if tags is None and spans is not None:
                outer = layers(kept)[0] if kept else []
                tags = encode(outer, len(tokens), scheme)
                if set(spans_lenient(tags, scheme)) == set(kept):
                    kept = ()
            sentences.append(
                Sentence(tokens, tags or (), sentence_id or f"s-{index + 1}", document_id, kept)
            )
        reports = tuple(
            TransitionReport(index, sentences[index].sentence_id, self.rows[index][5], transition)
            for index, transition in find_invalid([s.tags for s in sentences], scheme)
        )
        return ReadResult(tuple(sentences), scheme.name, reports, str(self.path), self.unit)
