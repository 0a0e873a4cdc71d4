"""CoNLL column files: one token per line, columns split by a tab or a single space,
sentences separated by whitespace-only lines, documents by ``-DOCSTART-`` lines.

Lines end at ``\\n``, ``\\r\\n`` or a lone ``\\r``, as in Python's text files. Tabs and
spaces at the end of a line are dropped (as the Hugging Face and Flair readers do), then
the line is split with ``line.split("\\t")`` or ``line.split(" ")``, never ``str.split()``:
tokens such as U+3000 or U+00A0 are whitespace to Python but tokens to a corpus.
The format keeps neither sentence nor document ids: reading numbers sentences
``s-1, s-2, ...`` and the documents after each ``-DOCSTART-`` ``doc-1, doc-2, ...``.
"""

from __future__ import annotations

import codecs
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from nerkit.errors import ConfigError, InputError, NerkitError
from nerkit.io.common import (
    PathLike,
    ReadResult,
    TagTable,
    TokenTransform,
    TransitionReport,
    find_invalid,
    normalize_spans,
    paused_gc,
    read_text,
)
from nerkit.schemes import (
    OUTSIDE,
    Scheme,
    get_scheme,
    spans_lenient,
)
from nerkit.types import Sentence, Span

DOCSTART = "-DOCSTART-"
SEPARATORS = ("\t", " ")


def is_break(line: str) -> bool:
    """Whether ``line`` separates sentences: it is empty or whitespace only."""
    return not line or line.isspace()


def is_docstart(line: str) -> bool:
    """Whether ``line`` marks a document: its first column is ``-DOCSTART-``."""
    return line.startswith(DOCSTART) and (
        len(line) == len(DOCSTART) or line[len(DOCSTART)] in SEPARATORS
    )


def _min_columns(cols: Sequence[int]) -> int:
    """The fewest columns a line needs for ``cols`` to name distinct existing columns."""
    n = 1
    while not _columns_ok(cols, n):
        n += 1
    return n


def _columns_ok(cols: Sequence[int], n: int) -> bool:
    resolved = [c if c >= 0 else n + c for c in cols]
    return all(0 <= c < n for c in resolved) and len(set(resolved)) == len(resolved)


def _check_columns(token_col: int, tag_col: int | None, inner_tag_col: int | None) -> list[int]:
    cols = [token_col] + [c for c in (tag_col, inner_tag_col) if c is not None]
    if any(not isinstance(c, int) or isinstance(c, bool) for c in cols):
        raise ConfigError(
            f"CoNLL columns are indexes (0: the first, -1: the last), got {cols} (token_col, "
            "tag_col, inner_tag_col); a column name is for Parquet and Arrow tables"
        )
    if inner_tag_col is not None and tag_col is None:
        raise ConfigError("inner_tag_col needs tag_col")
    if len(set(cols)) != len(cols):
        raise ConfigError(
            f"token_col={token_col}, tag_col={tag_col}, inner_tag_col={inner_tag_col} "
            "must name different columns"
        )
    return cols


_Raw = tuple[list[str], list[str], list[str], int, str | None]


class _Parser:
    """Splits the text into sentences. Blocks between empty lines take a fast path
    (whole-block list operations); a block with anything unusual in it (a new tag,
    a whitespace-only line, ``-DOCSTART-``, a comment, a short line) is walked line
    by line, which is also where every error is raised."""

    def __init__(
        self,
        path: Path,
        table: TagTable,
        cols: tuple[int, int | None, int | None],
        comment_prefix: str | None,
    ) -> None:
        self.path = path
        self.table = table
        self.token_col, self.tag_col, self.inner_col = cols
        self.cols = [c for c in cols if c is not None]
        self.min_cols = _min_columns(self.cols)
        self.fine_counts = {
            n for n in range(self.min_cols, self.min_cols + 64) if _columns_ok(self.cols, n)
        }
        self.comment_prefix = comment_prefix
        # Per sentence: tokens, tags, inner tags, line of its first token, document id.
        self.raw: list[_Raw] = []
        self.tokens: list[str] = []
        self.tags: list[str] = []
        self.inner: list[str] = []
        self.start = 0
        self.documents = 0
        self.document: str | None = None
        self.sep: str | None = None

    def parse(self, text: str) -> list[_Raw]:
        lineno = 1
        prefix = self.comment_prefix
        for block in text.split("\n\n"):
            if (
                self.sep is None
                or DOCSTART in block
                or (prefix is not None and prefix in block)
                or not self._fast(block, lineno)
            ):
                self._slow(block.split("\n"), lineno)
            self._flush()
            lineno += block.count("\n") + 2
        return self.raw

    def _flush(self) -> None:
        if self.tokens:
            self.raw.append((self.tokens, self.tags, self.inner, self.start, self.document))
            self.tokens, self.tags, self.inner = [], [], []

    def _fast(self, block: str, lineno: int) -> bool:
        """Take the block as one sentence if every line is plain; False to walk it."""
        sep = self.sep
        assert sep is not None
        if self.tag_col is None or block.endswith(SEPARATORS) or " \n" in block or "\t\n" in block:
            return False  # trailing separators: _slow drops them
        rows = [line.split(sep) for line in block.split("\n")]
        if not self.fine_counts.issuperset(map(len, rows)):
            return False
        tc = self.token_col
        tokens = [r[tc] for r in rows]
        if "" in tokens:
            return False
        get = self.table.mapped.get
        gc = self.tag_col
        tags = [get(r[gc]) for r in rows]
        if None in tags:
            return False
        inner: list[str | None] = []
        if self.inner_col is not None:
            ic = self.inner_col
            inner = [get(r[ic]) for r in rows]
            if None in inner:
                return False
        self.raw.append((tokens, tags, inner, lineno, self.document))  # type: ignore[arg-type]
        return True

    def _slow(self, lines: list[str], first: int) -> None:
        table, mapped = self.table, self.table.mapped
        prefix = self.comment_prefix
        tc, gc, ic = self.token_col, self.tag_col, self.inner_col
        for lineno, line in enumerate(lines, first):
            if not line or line.isspace():
                self._flush()
                continue
            if prefix is not None and line.startswith(prefix):
                continue
            if is_docstart(line):
                self._flush()
                self.documents += 1
                self.document = f"doc-{self.documents}"
                continue
            # Trailing tabs and spaces would make an empty last column, or (of the other
            # separator) stick to the tag; only these two, so a U+3000 token survives.
            stripped = line.rstrip(" \t")
            if self.sep is None:
                # Decided once, on the first token line, so every line splits the same way.
                self.sep = "\t" if "\t" in stripped else " "
            fields = stripped.split(self.sep)
            if len(fields) not in self.fine_counts and not _columns_ok(self.cols, len(fields)):
                raise self._short_line(line, lineno, len(fields))
            token = fields[tc]
            if not token:
                raise InputError("empty token", path=self.path, line=lineno, text=line)
            if not self.tokens:
                self.start = lineno
            self.tokens.append(token)
            if gc is not None:
                tag = mapped.get(fields[gc])
                self.tags.append(tag if tag is not None else table.add(fields[gc], lineno))
            if ic is not None:
                tag = mapped.get(fields[ic])
                self.inner.append(tag if tag is not None else table.add(fields[ic], lineno))

    def _short_line(self, line: str, lineno: int, found: int) -> InputError:
        names = {"token": self.token_col, "tag": self.tag_col, "inner tag": self.inner_col}
        wanted = ", ".join(f"{name} column {col}" for name, col in names.items() if col is not None)
        kind = "tab" if self.sep == "\t" else "space"
        # one column: no separator at all, so naming one of the two would mislead
        shape = f"{kind}-separated columns" if found > 1 else "columns"
        hint = " (a token without its tag?)" if found == 1 else ""
        return InputError(
            f"expected at least {self.min_cols} {shape} ({wanted}), found {found}{hint}",
            path=self.path,
            line=lineno,
            text=line,
        )


@paused_gc()
def read_conll(
    path: PathLike,
    *,
    scheme: str = "IOB2",
    token_col: int = 0,
    tag_col: int | None = -1,
    inner_tag_col: int | None = None,
    comment_prefix: str | None = None,
    rename: Mapping[str, str] | None = None,
    token_transform: TokenTransform | None = None,
    tags: bool = True,
) -> ReadResult:
    """Read a CoNLL column file.

    Columns are indexes into each line (negative ones count from its end), so lines
    may have different numbers of columns (the Hironsan corpus has 10 or 12: MeCab
    features, then the tag); columns not named are not read. ``tags=False`` (as the
    other readers take it) or ``tag_col=None`` reads tokens only.
    With ``inner_tag_col`` the two tag columns are read as outer and inner entity
    layers: ``tags`` holds the outer tags and, in sentences whose inner column has
    an entity, ``spans`` holds the entities of both.
    """
    if not tags:
        if inner_tag_col is not None:
            raise ConfigError("tags=False reads no tags: leave out inner_tag_col")
        tag_col = None
    _check_columns(token_col, tag_col, inner_tag_col)
    if comment_prefix == "":
        raise ConfigError("comment_prefix must be None or a non-empty string")
    path = Path(path)
    table = TagTable(path, scheme, rename)  # an unknown scheme fails before a long read
    text = read_text(path, newlines="universal")
    parser = _Parser(path, table, (token_col, tag_col, inner_tag_col), comment_prefix)
    raw = parser.parse(text)
    if not raw:
        raise InputError("no sentences in file", path=path, line=None)
    nested = inner_tag_col is not None
    tagged = tag_col is not None
    finder = _LineFinder(text, comment_prefix)

    if token_transform is not None:
        for tokens, _, _, start, _ in raw:
            tokens[:] = map(token_transform, tokens)
            if "" in tokens:
                line = finder.line(start, tokens.index(""), len(tokens))
                raise InputError(
                    "token_transform made the token empty",
                    path=path,
                    line=line,
                    text=finder.lines[line - 1],
                )

    sequences = [r[1] for r in raw]
    if nested:
        sequences += [r[2] for r in raw]
    resolved = (
        table.resolve(sequences)
        if tagged
        else get_scheme(scheme if scheme.lower() != "auto" else "IOB2")
    )
    sentences = []
    for index, (tokens, tags, inner, _, document) in enumerate(raw):
        spans: tuple[Span, ...] = ()
        if nested and any(t != OUTSIDE for t in inner):
            spans = normalize_spans(spans_lenient(tags, resolved) + spans_lenient(inner, resolved))
        sentences.append(Sentence(tokens, tags, f"s-{index + 1}", document, spans))

    reports = _reports(raw, sentences, resolved, finder, inner=False)
    if nested:
        reports += _reports(raw, sentences, resolved, finder, inner=True)
        reports.sort(key=lambda r: (r.sentence_index, r.transition.position, r.inner))
    return ReadResult(tuple(sentences), resolved.name, tuple(reports), str(path))


def _reports(
    raw: Sequence[_Raw],
    sentences: Sequence[Sentence],
    scheme: Scheme,
    finder: _LineFinder,
    *,
    inner: bool,
) -> list[TransitionReport]:
    found = find_invalid([r[2] if inner else r[1] for r in raw], scheme)
    return [
        TransitionReport(
            index,
            sentences[index].sentence_id,
            finder.line(raw[index][3], transition.position, len(raw[index][0])),
            transition,
            inner,
        )
        for index, transition in found
    ]


class _LineFinder:
    """Finds the file line of a token after parsing, for the rare message that needs it."""

    def __init__(self, text: str, comment_prefix: str | None) -> None:
        self.text = text
        self.comment_prefix = comment_prefix
        self._lines: list[str] | None = None

    @property
    def lines(self) -> list[str]:
        if self._lines is None:
            self._lines = self.text.split("\n")
        return self._lines

    def line(self, start: int, position: int, length: int) -> int:
        """The line of token ``position`` of the ``length``-token sentence whose first
        token is on line ``start``; for ``position == length``, the line that ends the
        sentence (the last token's own line at the end of the file)."""
        if self.comment_prefix is None:
            # Without comments, a sentence's tokens are on consecutive lines.
            if position < length:
                return start + position
            visible = self.text.count("\n") + (not self.text.endswith("\n"))
            return start + length if start + length <= visible else start + length - 1
        lines = self.lines
        last = start
        seen = -1
        for lineno in range(start, len(lines) + 1):
            line = lines[lineno - 1]
            if is_break(line) or is_docstart(line):
                # The "" after a final newline is no line a user can see.
                return last if lineno == len(lines) and not line else lineno
            if not line.startswith(self.comment_prefix):
                seen += 1
                last = lineno
                if seen == position:
                    return lineno
        return last


# ------------------------------------------------- nested files read flat

# The start of a file is read in blocks of this many bytes: as a rule its first block
# holds the first token line, which rules out a file of other than three columns, and
# sentences enough to rule out one of token, gold and predicted tags. Either costs a
# read of 64 KiB, whatever the size of the file.
_BLOCK_BYTES = 1 << 16


@dataclass(frozen=True, slots=True)
class HiddenOuterColumn:
    """What shows a CoNLL file read by its last column to be `nerkit convert --nested`
    output: the ``line`` (and its ``text``) where the first entity of the last column
    starts inside a longer entity of the column before it."""

    line: int
    text: str

    shown = "here an entity of the last column starts inside a longer one of the column before it"

    def error(self, path: PathLike, remedy: str) -> InputError:
        """The error that refuses ``path`` read by its last column: what the file holds
        and would lose, ``remedy`` (the caller's options that read both layers, or only
        the last) and what its line shows."""
        return InputError(
            "two tag columns, as `nerkit convert --nested` writes them (token, outer tags, "
            "inner tags), and read by its last column alone the file would lose its outer "
            f"entities: {remedy}; {self.shown}",
            path=path,
            line=self.line,
            text=self.text,
        )


def may_hide_outer_column(
    path: PathLike, *, scheme: str | None = None, comment_prefix: str | None = None
) -> bool:
    """Whether ``path`` may be `nerkit convert --nested` output, read by its last
    column: its first token line has three columns (token, outer tags, inner tags,
    split like the reader splits: at tabs, else at spaces) and, given the ``scheme``
    the last column is read in, the whole sentences of the file's first block read so
    (the column before the last holds tags: not POS tags) and hold no entity of the
    last column that is not inside a longer one of the column before it (predictions
    beside gold tags repeat them or lie outside them; NER tags beside chunk tags, or
    fine types beside coarse ones, share spans with them).

    It reads the start of the file only, so a reader can ask it before reading the
    file; ``find_hidden_outer_column`` asks it first. False for a file that cannot be
    read or has no token line (the reader says why)."""
    path = Path(path)
    try:
        line = _first_token_line(path, comment_prefix)
        if line is None:
            return False
        line = line.rstrip(" \t")
        if len(line.split("\t" if "\t" in line else " ")) != 3:
            return False
        if scheme is None or scheme.lower() == "auto":
            return True
        return not _start_is_not_nested(path, scheme, comment_prefix)
    except OSError:
        return False


def find_hidden_outer_column(
    path: PathLike,
    result: ReadResult,
    *,
    comment_prefix: str | None = None,
    token_transform: TokenTransform | None = None,
) -> HiddenOuterColumn | None:
    """Where ``path``, read as ``result`` (its tags from the last column), shows itself
    to be `nerkit convert --nested` output, whose outer entities that reading loses;
    None where it does not.

    Such a file has three columns on every line (token, outer tags, inner tags), the
    column before the last holds tags of ``result``'s scheme, the last column has
    entities, and every one lies inside a longer entity of the column before it (as an
    inner entity does). Token, gold and predicted tags (conlleval's layout) do not look
    so: predicted entities mostly repeat gold ones or lie outside them; nor do token,
    chunk and NER tags, or coarse and fine types, where some entity of the last column
    has the span of one of the column before it. A file of nested output whose last
    column has no entities, or whose inner entity has the span of an outer one, is not
    told from those, and is read by its last column. ``comment_prefix`` and
    ``token_transform`` are those ``result`` was read with. A file whose first token
    line has more or fewer columns costs a read of its start, not of the whole file, as
    does one whose first sentences rule it out (``may_hide_outer_column``).
    """
    path = Path(path)
    # no inner entity: nothing tells nested output from gold beside all-O predictions
    if not any(tag != OUTSIDE for s in result.sentences for tag in s.tags):
        return None
    if not may_hide_outer_column(path, scheme=result.scheme, comment_prefix=comment_prefix):
        return None
    text = read_text(path, newlines="universal")
    table = TagTable(path, result.scheme, None)
    parser = _Parser(path, table, (-3, -2, -1), comment_prefix)
    try:
        raw = parser.parse(text)
        scheme = table.resolve([r[1] for r in raw] + [r[2] for r in raw])
    except InputError:
        return None  # a line of fewer columns, or no tags before the last column
    transform = token_transform or (lambda token: token)
    if [tuple(map(transform, r[0])) for r in raw] != [s.tokens for s in result.sentences]:
        return None  # lines of more columns: column -3 is not the tokens
    first: tuple[int, int, int] | None = None  # line, token and length of its sentence
    for tokens, outer_tags, inner_tags, start, _ in raw:
        outer = spans_lenient(outer_tags, scheme)
        for span in spans_lenient(inner_tags, scheme):
            if not _inside_another(span, outer):
                return None
            if first is None:
                first = (start, span.start, len(tokens))
    if first is None:
        return None
    finder = _LineFinder(text, comment_prefix)
    line = finder.line(*first)
    return HiddenOuterColumn(line, finder.lines[line - 1])


def refuse_hidden_outer_column(
    path: PathLike,
    result: ReadResult,
    remedy: str,
    *,
    comment_prefix: str | None = None,
    token_transform: TokenTransform | None = None,
) -> None:
    """Raise ``InputError`` where ``path``, read by its last column as ``result``,
    shows itself to be `nerkit convert --nested` output (``find_hidden_outer_column``):
    the error names the line that shows it, what the file would lose, and ``remedy``,
    the caller's options that read both layers or only the last."""
    found = find_hidden_outer_column(
        path, result, comment_prefix=comment_prefix, token_transform=token_transform
    )
    if found is not None:
        raise found.error(path, remedy)


def _inside_another(span: Span, outer: Sequence[Span]) -> bool:
    """Whether ``span`` lies inside a longer entity of ``outer``, as an inner entity
    does, and has the span of none of them: predictions beside gold tags repeat them,
    chunks beside entities and coarse types beside fine ones share spans with them."""
    if any((o.start, o.end) == (span.start, span.end) for o in outer):
        return False
    return any(o.start <= span.start and span.end <= o.end for o in outer)


def _start_is_not_nested(path: Path, scheme: str, comment_prefix: str | None) -> bool:
    """Whether the whole sentences of the first block of ``path``, read as token, outer
    and inner tags in ``scheme``, show that the file is no nested output: an entity of
    the last column that is not inside a longer one of the column before it, or a
    column before the last that holds no tags of ``scheme`` (POS tags). A start that
    is no UTF-8 shows nothing (the reader reports it)."""
    with path.open("rb") as file:
        data = file.read(_BLOCK_BYTES).removeprefix(codecs.BOM_UTF8)
    data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    # up to the last empty line: a \r that ends the block ends a line in the file too
    end = data.rfind(b"\n\n")
    try:
        text = data[: max(end, 0)].decode("utf-8")
    except UnicodeDecodeError:
        return False
    table = TagTable(path, scheme, None)
    try:
        raw = _Parser(path, table, (-3, -2, -1), comment_prefix).parse(text)
    except NerkitError:
        return True  # no tags before the last column, or lines of other lengths
    for _, outer_tags, inner_tags, _, _ in raw:
        outer = spans_lenient(outer_tags, table.scheme)
        if any(not _inside_another(s, outer) for s in spans_lenient(inner_tags, table.scheme)):
            return True
    return False


def _first_token_line(path: Path, comment_prefix: str | None) -> str | None:
    """The first line of ``path`` that holds a token, read a block at a time from the
    file's start, with its line ends and byte-order mark taken as ``read_text`` takes
    them; None for a file without one. Bytes that are no UTF-8 are replaced: the
    reader reports them."""
    with path.open("rb") as file:
        data = file.read(_BLOCK_BYTES).removeprefix(codecs.BOM_UTF8)
        start = 0
        while True:
            # \n, \r\n or a lone \r ends a line; the \n of a \r\n makes an empty line
            # of its own here, which holds no token
            ends = [i for i in (data.find(b"\n", start), data.find(b"\r", start)) if i >= 0]
            if not ends:
                more = file.read(_BLOCK_BYTES)
                if more:
                    data, start = data[start:] + more, 0
                    continue
            end = min(ends, default=len(data))
            line = data[start:end].decode("utf-8", errors="replace")
            comment = comment_prefix is not None and line.startswith(comment_prefix)
            if not (is_break(line) or is_docstart(line) or comment):
                return line
            if end == len(data):
                return None
            start = end + 1
