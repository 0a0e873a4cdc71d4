"""What every reader and writer shares: the result type, reading and atomically
writing files, tag checking (once per distinct tag) and transition reports."""

from __future__ import annotations

import gc
import os
import secrets
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import Literal

from nerkit.errors import InputError, NerkitError, SchemeError
from nerkit.schemes import (
    OUTSIDE,
    InvalidTransition,
    Scheme,
    check_tag,
    get_scheme,
    infer_scheme,
    is_valid_transition,
    validate,
)
from nerkit.types import Sentence, Span

PathLike = str | os.PathLike[str]
TokenTransform = Callable[[str], str]
Newlines = Literal["universal", "crlf", "keep"]

# Checks the form of tags before ``scheme="auto"`` has seen the whole file.
ANY_SCHEME = Scheme(name="any scheme", prefixes="BIESLU", roles={}, must_follow={}, must_precede={})


@dataclass(frozen=True, slots=True)
class TransitionReport:
    """An invalid tag transition in gold data: reported, never rejected.

    ``sentence_index`` is 0-based into ``ReadResult.sentences``; ``line`` is the
    1-based file line of the offending token (for a transition at the sentence end:
    the line that ends the sentence). ``inner`` marks the inner tag column of a
    two-column CoNLL file.
    """

    sentence_index: int
    sentence_id: str | None
    line: int | None
    transition: InvalidTransition
    inner: bool = False


@dataclass(frozen=True, slots=True)
class ReadResult:
    """Sentences read from ``path``, the scheme their tags are in, and every
    invalid transition found in them."""

    sentences: tuple[Sentence, ...]
    scheme: str
    invalid: tuple[TransitionReport, ...]
    path: str
    unit: str = "line"  # what TransitionReport.line counts: "row index" in tables

    def summary(self) -> str:
        """A short text, e.g. ``3 invalid transitions in 2 sentences (first: line 17,
        I-PER after O)``."""
        if not self.invalid:
            return "no invalid transitions"
        count = len(self.invalid)
        n_sents = len({r.sentence_index for r in self.invalid})
        first = self.invalid[0]
        t = first.transition
        sentence = self.sentences[first.sentence_index]
        n_tags = len(sentence.tags)
        current = "sentence end" if t.position >= n_tags else t.current
        previous = "sentence start" if t.position == 0 else t.previous
        where = f"{self.unit} {first.line}, " if first.line is not None else ""
        layer = " (inner column)" if first.inner else ""
        return (
            f"{count} invalid transition{'s' if count != 1 else ''} in {n_sents} "
            f"sentence{'s' if n_sents != 1 else ''} "
            f"(first: {where}{current} after {previous}{layer})"
        )


# ------------------------------------------------------------------ files


def read_text(path: Path, *, newlines: Newlines = "crlf") -> str:
    """The file decoded as UTF-8, a leading byte-order mark dropped. ``newlines``:
    ``"universal"`` makes ``\\r\\n`` and a lone ``\\r`` each one ``\\n``, as Python's
    text files do (CoNLL: old Mac files end lines with ``\\r``, and a lone ``\\r``
    kept inside a line glues two token lines together); ``"crlf"`` only ``\\r\\n``
    (JSON lines: a lone ``\\r`` is whitespace to JSON); ``"keep"`` neither (CSV
    leaves them to the csv module, since a quoted cell may hold line ends of its own)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read file ({exc.strerror or exc})", path=path) from None
    if newlines == "universal" and b"\r" in data:
        # Before decoding, so that an invalid-UTF-8 error counts lines the same way;
        # \r and \n are never part of a multi-byte UTF-8 sequence.
        data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        line_start = data.rfind(b"\n", 0, exc.start) + 1
        line_end = data.find(b"\n", exc.start)
        raw = data[line_start : line_end if line_end >= 0 else len(data)]
        raise InputError(
            f"invalid UTF-8 (byte 0x{data[exc.start]:02x} at column {exc.start - line_start + 1})",
            path=path,
            line=line,
            text=raw.decode("utf-8", errors="backslashreplace"),
        ) from None
    if text.startswith("\ufeff"):
        text = text[1:]
    if newlines == "crlf" and "\r" in text:
        # Only the \r of a \r\n pair ends a line; a lone \r stays part of its line.
        text = text.replace("\r\n", "\n")
        if text.endswith("\r"):
            text = text[:-1]
    return text


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector: a reader makes millions of small acyclic
    objects, and the collections they trigger took a third of the time of reading
    a 1M-token file while finding nothing to free."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def write_text(path: PathLike, text: str) -> None:
    """Write ``text`` as UTF-8 to ``path`` through ``replaced_atomically``, so that
    ``path`` is never left half written."""
    target = Path(path)
    if text.startswith("\ufeff"):
        # Readers drop one leading byte-order mark; this one keeps the text's own.
        text = "\ufeff" + text
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError as exc:
        bad = text[exc.start : exc.end]
        raise NerkitError(f"cannot write {target}: {bad!r} cannot be encoded as UTF-8") from None
    with replaced_atomically(target) as tmp:
        # os.open with 0o666 lets the umask decide the permissions, as open() would.
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)


# Links in these folders lead to open files, not to paths (/dev/stdout is a link to
# /proc/self/fd/1, whose own link text may be "pipe:[1234]" or a deleted file's name):
# what they lead to is written through them, never replaced.
DESCRIPTOR_FOLDERS = (Path("/proc"), Path("/dev/fd"))
# As many links as Linux follows before it gives up with ELOOP.
MAX_LINKS = 40


@dataclass(frozen=True, slots=True)
class OutputTarget:
    """How an output file is written. ``replace``: ``path`` (the file a symbolic link
    leads to, or the target itself) is a regular file or not there yet, and is replaced
    by a temporary file written beside it. Otherwise ``path`` is the target as given, a
    FIFO, a device or an open file (``/dev/stdout``), opened and written into."""

    path: Path
    replace: bool


def output_target(target: PathLike) -> OutputTarget:
    """How ``target`` is written (see ``OutputTarget``); only looks, writes nothing.
    Raises NerkitError, naming ``target``, for a folder and for a loop of links."""
    target = Path(target)
    try:
        mode: int | None = os.stat(target).st_mode
    except FileNotFoundError:
        mode = None  # nothing there, or a dangling link
    except OSError as exc:
        raise NerkitError(f"cannot write {target}: {exc.strerror or exc}") from None
    if mode is not None and stat.S_ISDIR(mode):
        raise NerkitError(f"cannot write {target}: it is a folder")
    path, through_descriptor = _link_end(target)
    if through_descriptor or (mode is not None and not stat.S_ISREG(mode)):
        return OutputTarget(target, replace=False)
    return OutputTarget(path, replace=True)


def _link_end(target: Path) -> tuple[Path, bool]:
    """The path that the chain of symbolic links from ``target`` ends at (``target``
    itself, absolute, where it is no link), and whether the chain reaches one of the
    ``DESCRIPTOR_FOLDERS``. A dangling link ends at the path it names."""
    path = Path(os.path.abspath(target))
    for _ in range(MAX_LINKS):
        path = Path(os.path.realpath(path.parent)) / path.name
        if any(path.is_relative_to(folder) for folder in DESCRIPTOR_FOLDERS):
            return path, True
        if not path.is_symlink():
            return path, False
        path = path.parent / os.readlink(path)
    raise NerkitError(f"cannot write {target}: too many levels of symbolic links")


@contextmanager
def replaced_atomically(target: Path) -> Iterator[Path]:
    """A path to write the new content of ``target`` to; the content reaches ``target``
    only when the block ends without an error, and nothing does when it raises. OSError
    becomes a NerkitError naming ``target``.

    A regular file, or one not there yet, is replaced: the path is a temporary file
    beside it, renamed onto it. Through a symbolic link the file it leads to is replaced
    (the temporary file beside that file), so the link stays a link; a dangling link
    gets the file it names, as a shell's ``>`` makes it. A FIFO, a device or an open
    file reached through ``/dev/stdout`` or ``/proc`` is never replaced: the path is a
    temporary file elsewhere, whose content is then written into the target, opened for
    appending (so that ``-o /dev/stdout >> log`` keeps what the log held)."""
    target = Path(target)
    where = output_target(target)
    named = f"{target} (a link to {where.path})" if target.is_symlink() else str(target)
    if where.replace:
        tmp = where.path.with_name(f".{where.path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
        try:
            yield tmp
            os.replace(tmp, where.path)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise NerkitError(f"cannot write {named}: {exc.strerror or exc}") from None
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return
    # Not beside the target: /dev is no place for files, and a FIFO's folder may not be.
    folder = Path(tempfile.mkdtemp(prefix="nerkit-output-"))
    try:
        tmp = folder / (target.name or "output")
        yield tmp
        with tmp.open("rb") as source:
            # no O_CREAT: a target that went away is an error, not a new regular file
            fd = os.open(where.path, os.O_WRONLY | os.O_APPEND | getattr(os, "O_NOCTTY", 0))
            with os.fdopen(fd, "wb") as sink:
                shutil.copyfileobj(source, sink)
    except OSError as exc:
        raise NerkitError(f"cannot write {target}: {exc.strerror or exc}") from None
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def sentence_name(sentence: Sentence, index: int) -> str:
    """How writers name a sentence in an error message."""
    if sentence.sentence_id is not None:
        return f"sentence {sentence.sentence_id!r}"
    return f"sentence #{index + 1} (no id)"


def refuse_partly_tagged(sentences: Sequence[Sentence]) -> None:
    """Raise NerkitError, naming the first untagged sentence, when some sentences have
    tags or spans and others (with tokens) have neither: the readers take such a row
    for a missing cell and refuse the file."""
    tagged = untagged = None
    for index, sentence in enumerate(sentences):
        if sentence.tags or sentence.spans:
            tagged = index if tagged is None else tagged
        elif sentence.tokens and untagged is None:
            untagged = index
        if tagged is not None and untagged is not None:
            raise NerkitError(
                f"{sentence_name(sentences[untagged], untagged)} has no tags, but "
                f"{sentence_name(sentences[tagged], tagged)} has; a file is read back "
                "with tags in every sentence or in none"
            )


# ------------------------------------------------------------------- tags


class TagTable:
    """Checks and renames each distinct tag once, however often it occurs.

    With an explicit scheme a tag is checked against it on first sight, so errors
    come in file order; with ``"auto"`` only the form is checked until ``resolve``
    has inferred the scheme from all tags.
    """

    def __init__(
        self, path: PathLike, scheme: str, rename: Mapping[str, str] | None, unit: str = "line"
    ) -> None:
        self.path = path
        self.unit = unit
        self.auto = scheme.lower() == "auto"
        self.scheme = ANY_SCHEME if self.auto else get_scheme(scheme)
        self.rename = dict(rename or {})
        self.mapped: dict[str, str] = {}
        self.first_line: dict[str, int | None] = {}

    def add(self, raw: str, line: int | None) -> str:
        """The renamed tag for ``raw`` (read on ``line``); raises InputError if malformed."""
        try:
            check_tag(raw, self.scheme)
        except SchemeError as exc:
            raise InputError(str(exc), path=self.path, line=line, unit=self.unit) from None
        tag = raw
        if raw != OUTSIDE and self.rename:
            tag = f"{raw[0]}-{self.rename.get(raw[2:], raw[2:])}"
            try:
                check_tag(tag, self.scheme)
            except SchemeError as exc:
                raise InputError(
                    f"after renaming {raw!r}: {exc}", path=self.path, line=line, unit=self.unit
                ) from None
        self.mapped[raw] = tag
        self.first_line[raw] = line
        return tag

    def label(self, raw: str, line: int | None) -> str:
        """A span label, renamed; raises InputError unless it is a valid entity type."""
        label = self.rename.get(raw, raw)
        if not label or label != label.strip():
            raise InputError(
                "span label must be a non-empty entity type without surrounding whitespace",
                path=self.path,
                line=line,
                text=raw,
                unit=self.unit,
            )
        return label

    def resolve(self, sequences: Iterable[Sequence[str]]) -> Scheme:
        """The scheme of the file: the one asked for, or the inferred one for ``"auto"``
        (IOB2 when there are no entity tags to infer from)."""
        if not self.auto:
            return self.scheme
        if all(tag == OUTSIDE for tag in self.mapped.values()):
            return get_scheme("IOB2")
        try:
            scheme = infer_scheme(sequences)
        except SchemeError as exc:
            raise InputError(str(exc), path=self.path) from None
        for raw, tag in self.mapped.items():
            try:
                check_tag(tag, scheme)
            except SchemeError as exc:
                raise InputError(
                    str(exc), path=self.path, line=self.first_line[raw], unit=self.unit
                ) from None
        return scheme


# ------------------------------------------------------------- validation


def find_invalid(
    sequences: Sequence[Sequence[str]], scheme: Scheme
) -> list[tuple[int, InvalidTransition]]:
    """``(index, transition)`` for every invalid transition, as ``schemes.validate``
    finds them, but fast: a sentence is only walked token by token if one of its
    tag pairs is in the precomputed set of invalid pairs."""
    distinct = set(chain.from_iterable(sequences))
    distinct.add(OUTSIDE)
    found: list[tuple[int, InvalidTransition]] = []
    total = sum(map(len, sequences))
    if len(distinct) ** 2 > 4 * total + 10_000:
        # So many distinct tags that the pair table would cost more than the tokens.
        for index, tags in enumerate(sequences):
            found.extend((index, t) for t in validate(tags, scheme))
        return found
    bad = {
        (prev, cur)
        for prev in distinct
        for cur in distinct
        if not is_valid_transition(prev, cur, scheme)
    }
    if not bad:
        return found
    for index, tags in enumerate(sequences):
        if tags and not bad.isdisjoint(zip((OUTSIDE, *tags), (*tags, OUTSIDE), strict=True)):
            found.extend((index, t) for t in validate(tags, scheme))
    return found


# ------------------------------------------------------------------ spans


def normalize_spans(spans: Iterable[Span]) -> tuple[Span, ...]:
    """Spans sorted by (start, end, label), duplicates dropped."""
    return tuple(sorted(set(spans), key=lambda s: (s.start, s.end, s.label)))


def layers(spans: Iterable[Span]) -> list[list[Span]]:
    """Split spans into layers of non-overlapping spans, outermost first: a span goes
    to the first layer it does not overlap, longer spans placed before the spans
    they contain."""
    result: list[list[Span]] = []
    for span in sorted(spans, key=lambda s: (s.start, -s.end, s.label)):
        for layer in result:
            if layer[-1].end <= span.start:
                layer.append(span)
                break
        else:
            result.append([span])
    return result
