"""Writing CoNLL column files that ``read_conll`` reads back as they were written."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from nerkit.errors import ConfigError, NerkitError, SchemeError
from nerkit.io.common import (
    ANY_SCHEME,
    PathLike,
    layers,
    normalize_spans,
    sentence_name,
    write_text,
)
from nerkit.io.conll import DOCSTART, SEPARATORS, is_break, is_docstart
from nerkit.schemes import (
    OUTSIDE,
    Scheme,
    check_tag,
    encode,
    get_scheme,
    infer_scheme,
    spans_lenient,
)
from nerkit.types import Sentence


def write_conll(
    sentences: Iterable[Sentence],
    path: PathLike,
    *,
    sep: str = "\t",
    nested: bool = False,
    docstart: bool = True,
    scheme: str = "auto",
    comment_prefix: str | None = None,
) -> None:
    """Write sentences as a CoNLL file, a blank line after each sentence.

    A ``-DOCSTART-`` line starts each new document id (unless ``docstart=False``); a
    sentence without a document after one with a document is an error (the format
    cannot say so). The format has no ids: the documents read back as ``doc-1, doc-2,
    ...``, a document that comes back after another (``d1, d2, d1``) as a new one, and
    the sentences as ``s-1, s-2, ...``; :func:`conll_losses` says what that drops.
    With ``nested=True`` a second tag column holds the entities in ``spans`` that
    the tags do not express; read it back with ``tag_col=-2, inner_tag_col=-1``.
    ``scheme`` encodes that inner column ("auto": the scheme of the tags).
    Tokens the reader could not give back exactly raise NerkitError.
    """
    text = conll_text(
        sentences,
        sep=sep,
        nested=nested,
        docstart=docstart,
        scheme=scheme,
        comment_prefix=comment_prefix,
    )
    write_text(path, text)


def conll_text(
    sentences: Iterable[Sentence],
    *,
    sep: str = "\t",
    nested: bool = False,
    docstart: bool = True,
    scheme: str = "auto",
    comment_prefix: str | None = None,
) -> str:
    """The text :func:`write_conll` writes, for a stream such as stdout; the same
    options, and the same errors for what a CoNLL file cannot hold."""
    if sep not in SEPARATORS:
        raise ConfigError(f"sep must be a tab or a single space, got {sep!r}")
    sentences = list(sentences)
    # Before the tag check: an empty sentence has no tags either, and would be
    # blamed for "some sentences have tags and some do not".
    for index, sentence in enumerate(sentences):
        if not sentence.tokens:
            raise _no_tokens(sentence, index)
    tagged = [bool(s.tags or s.spans) for s in sentences]
    if any(tagged) and not all(tagged):
        index = tagged.index(False) if tagged[0] else tagged.index(True)
        raise NerkitError(
            f"{sentence_name(sentences[index], index)}: some sentences have tags and some do "
            "not; a CoNLL file needs the same columns throughout"
        )
    # Only spans need a scheme (to encode them); inferring one costs a pass over all tags.
    needs_scheme = any(s.spans for s in sentences)
    resolved = _writer_scheme(sentences, scheme) if needs_scheme else get_scheme("IOB2")
    has_tags = any(tagged)
    bad_tag_chars = ("\n", "\r", "\t", sep)
    checked_tags: set[str] = set()
    out: list[str] = []
    document: str | None = None
    for index, sentence in enumerate(sentences):
        if docstart:
            _check_document(sentence, index, document)
        if docstart and sentence.document_id is not None and sentence.document_id != document:
            out.append(DOCSTART + (sep + OUTSIDE) * (1 + nested) if has_tags else DOCSTART)
            out.append("")
        document = sentence.document_id
        _check_tokens(sentence, index, sep, has_tags, comment_prefix)
        columns: list[Sequence[str]] = [sentence.tokens]
        if has_tags:
            columns += _tag_columns(sentence, index, resolved, nested)
        for column in columns[1:]:
            for tag in set(column) - checked_tags:
                _check_written_tag(tag, bad_tag_chars, sentence, index, list(column).index(tag))
                checked_tags.add(tag)
        if len(columns) == 1:
            out.extend(sentence.tokens)
        else:
            out.extend(map(sep.join, zip(*columns, strict=True)))
        out.append("")
    return "\n".join(out) + "\n" if out else ""


# How the readers name sentences and documents without ids (see ``conll_losses``).
_NUMBERED_SENTENCE = re.compile(r"s-[1-9][0-9]*")
_NUMBERED_DOCUMENT = re.compile(r"doc-[1-9][0-9]*")


def conll_losses(sentences: Sequence[Sentence]) -> list[str]:
    """What of ``sentences`` a CoNLL file (with ``-DOCSTART-`` lines, as
    :func:`write_conll` writes by default) does not keep, one line for each kind of
    loss, for a warning; empty when there is nothing to lose.

    Reading numbers the sentences ``s-1, s-2, ...`` by position and the documents
    ``doc-1, doc-2, ...`` by ``-DOCSTART-`` line. Names of that form are what nerkit's
    readers give sentences and documents that come without ids (a split cut from one
    file starts at ``s-451``): they are no ids of the data, and renumbering them is no
    loss. Other ids are, and so is a document that comes back after another (``d1,
    d2, d1``), which reads back as a new document."""
    lost: list[str] = []
    renamed = [
        (index, s.sentence_id)
        for index, s in enumerate(sentences)
        if s.sentence_id is not None and not _NUMBERED_SENTENCE.fullmatch(s.sentence_id)
    ]
    if renamed:
        index, first = renamed[0]
        lost.append(
            f"sentence ids are not kept ({len(renamed):,} of {len(sentences):,}; "
            f"{first!r} reads back as 's-{index + 1}'): CoNLL has no sentence ids, and "
            "reading numbers the sentences s-1, s-2, ... by position"
        )
    started = 0  # -DOCSTART- lines so far: reading names the documents doc-1, doc-2, ...
    seen: set[str] = set()
    renamed_documents: list[tuple[int, str]] = []  # number on reading, document
    # sentence index, document, the document before it, its number on reading
    returns: list[tuple[int, str, str, int]] = []
    current: str | None = None
    for index, sentence in enumerate(sentences):
        document = sentence.document_id
        if document is not None and document != current:
            started += 1
            if document in seen:
                if current is not None:
                    returns.append((index, document, current, started))
            elif not _NUMBERED_DOCUMENT.fullmatch(document):
                renamed_documents.append((started, document))
            seen.add(document)
        current = document
    if renamed_documents:
        shown = ", ".join(f"{name!r} as 'doc-{n}'" for n, name in renamed_documents[:3])
        more = ", ..." if len(renamed_documents) > 3 else ""
        lost.append(
            f"document ids are not kept ({shown}{more}): CoNLL keeps document boundaries "
            "only, as -DOCSTART- lines, and reading numbers the documents doc-1, doc-2, ..."
        )
    if returns:
        index, document, before, number = returns[0]
        others = f" ({len(returns):,} documents come back)" if len(returns) > 1 else ""
        lost.append(
            f"document {document!r} comes back after {before!r} at "
            f"{sentence_name(sentences[index], index)}{others}: a new -DOCSTART- line "
            f"starts it there, and it reads back as a document of its own ('doc-{number}')"
        )
    return lost


def check_conll_tokens(
    sentences: Iterable[Sentence],
    *,
    sep: str = "\t",
    tagged: bool = True,
    comment_prefix: str | None = None,
    docstart: bool = True,
) -> None:
    """Raise NerkitError, naming the sentence and token, at the first sentence that
    a CoNLL file (``tagged``: with a tag column) cannot hold as it is: one without
    tokens, or with a token that would not read back as itself, or (``docstart``)
    without a document after one with a document. For a check before slow work whose
    result is to be written as CoNLL."""
    document: str | None = None
    for index, sentence in enumerate(sentences):
        if not sentence.tokens:
            raise _no_tokens(sentence, index)
        if docstart:
            _check_document(sentence, index, document)
        document = sentence.document_id
        _check_tokens(sentence, index, sep, tagged, comment_prefix)


def _check_document(sentence: Sentence, index: int, document: str | None) -> None:
    """Refuse a sentence without a document after one in ``document``: the reader would
    put it in that document, as the format cannot end a document."""
    if sentence.document_id is None and document is not None:
        raise NerkitError(
            f"{sentence_name(sentence, index)} has no document, but follows document "
            f"{document!r}: in a CoNLL file every sentence after a -DOCSTART- line "
            "belongs to a document (give it a document id, or write JSON lines, CSV, "
            "Parquet or Arrow, which keep it without one)"
        )


def _no_tokens(sentence: Sentence, index: int) -> NerkitError:
    return NerkitError(
        f"{sentence_name(sentence, index)} has no tokens: a CoNLL file cannot hold an "
        "empty sentence (JSON lines, CSV, Parquet and Arrow can)"
    )


def _check_written_tag(
    tag: str, bad_chars: tuple[str, ...], sentence: Sentence, index: int, position: int
) -> None:
    problem = None
    if any(c in tag for c in bad_chars):
        problem = "holds a separator or line break"
    else:
        try:
            check_tag(tag, ANY_SCHEME)
        except SchemeError as exc:
            problem = str(exc).removeprefix(f"tag {tag!r} ")
    if problem is not None:
        raise NerkitError(
            f"{sentence_name(sentence, index)}, token {position}: tag {tag!r} {problem}"
        )


def _writer_scheme(sentences: Sequence[Sentence], scheme: str) -> Scheme:
    if scheme.lower() != "auto":
        return get_scheme(scheme)
    sequences = [s.tags for s in sentences if s.tags]
    if not any(t != OUTSIDE for seq in sequences for t in seq):
        return get_scheme("IOB2")
    return infer_scheme(sequences)


def _check_tokens(
    sentence: Sentence, index: int, sep: str, tagged: bool, comment_prefix: str | None
) -> None:
    """Refuse tokens that would not read back as themselves. Checks the joined
    sentence first (fast, in C) and goes token by token only when that hits."""
    tokens = sentence.tokens
    # Without a tag column a token is a whole line: it may then hold no separator
    # at all, since the reader decides between tab and space on the first line.
    forbidden = ("\n", "\r", "\t") if tagged and sep == "\t" else ("\n", "\r", "\t", " ")
    joined = "".join(tokens)
    suspicious = (
        "" in tokens
        or any(c in joined for c in forbidden)
        or DOCSTART in joined
        or (comment_prefix is not None and comment_prefix in joined)
        or not tagged
    )
    if not suspicious:
        return
    for position, token in enumerate(tokens):
        reason = None
        if not token:
            reason = "empty token"
        elif any(c in token for c in forbidden):
            reason = "token holds a separator or line break"
        elif is_docstart(token + sep if tagged else token):
            reason = "token would read as a -DOCSTART- line"
        elif comment_prefix is not None and token.startswith(comment_prefix):
            reason = f"token starts with the comment prefix {comment_prefix!r}"
        elif not tagged and is_break(token):
            reason = "whitespace-only token would read as a sentence break"
        if reason is not None:
            raise NerkitError(
                f"{sentence_name(sentence, index)}, token {position}: {reason}: {token!r}"
            )


def _tag_columns(
    sentence: Sentence, index: int, scheme: Scheme, nested: bool
) -> list[Sequence[str]]:
    """The tag column, and with ``nested`` the inner one, for a sentence."""
    n = len(sentence.tokens)
    tags: Sequence[str] = sentence.tags
    if not sentence.spans:
        return [tags, [OUTSIDE] * n] if nested else [tags]
    if not tags:
        parts = layers(sentence.spans)
        tags = encode(parts[0], n, scheme)
        rest = [s for layer in parts[1:] for s in layer]
    else:
        expressed = set(spans_lenient(tags, scheme))
        rest = [s for s in normalize_spans(sentence.spans) if s not in expressed]
    if not nested:
        if rest:
            raise NerkitError(
                f"{sentence_name(sentence, index)} has entities its tags cannot express "
                f"(e.g. {rest[0]}); write them in a second tag column (nerkit convert "
                "--nested; nested=True from Python)"
            )
        return [tags]
    if len(layers(rest)) > 1:
        raise NerkitError(
            f"{sentence_name(sentence, index)}: its entities need more than two layers; "
            "a CoNLL file has only an outer and an inner tag column"
        )
    inner = encode(rest, n, scheme)
    if spans_lenient(inner, scheme) != sorted(rest, key=lambda s: s.start):
        raise NerkitError(
            f"{sentence_name(sentence, index)}: its inner entities cannot be told apart "
            f"in {scheme.name} tags"
        )
    return [tags, inner]
