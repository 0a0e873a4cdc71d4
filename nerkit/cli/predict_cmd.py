"""``nerkit predict``: tag a file or plain text with a stored run's tagger.

Only the tokens of the input are read, with the sentence ids and documents its format
holds; tags and other columns are not read, as predict has no use for them. A file
tagged in any scheme, with part-of-speech columns, or with integer tag ids is tagged
as it is."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from nerkit.types import Sentence

# The formats of nerkit.io, and plain text.
_FORMATS = ("text", "conll", "csv", "jsonl", "parquet", "arrow")
_ZERO_WIDTH_SPACE = "\u200b"
# The last column of a space-separated CoNLL line: a tag of any scheme.
_TAG = re.compile(r"O|[BIESLU]-\S+")


def predict(
    source: Annotated[
        Path,
        typer.Argument(
            help="The file to tag: CoNLL, CSV, JSON lines, Parquet or Arrow, or plain text "
            "(.txt: one sentence a line, split into tokens by --tokenizer); - reads stdin, "
            "as plain text unless --format says otherwise. Only its tokens are read, with "
            "the sentence ids and document ids of JSON lines, CSV, Parquet and Arrow and "
            "the -DOCSTART- documents of CoNLL; its tags and other columns are not read, "
            "and the output holds the tokens and the predicted tags.",
            show_default=False,
        ),
    ],
    run: Annotated[
        str,
        typer.Option("--run", "-r", help="Run id (in --runs) or run folder.", show_default=False),
    ],
    runs_dir: Annotated[Path, typer.Option("--runs", help="Folder that holds the runs.")] = Path(
        "runs"
    ),
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Write here (format from the extension) instead of CoNLL to stdout, "
            "making missing folders. An existing file is replaced only with --overwrite, "
            "and never the input.",
            show_default=False,
        ),
    ] = None,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace an existing --output file.")
    ] = False,
    input_format: Annotated[
        str | None,
        typer.Option(
            "--format",
            "--from-format",
            help="Format of SOURCE: text, conll, csv, jsonl, parquet or arrow. Default: "
            "text for .txt and -, else from the extension (conll for any other). A .txt "
            "file or stdin that looks like CoNLL columns is refused unless --format says "
            "which it is.",
            show_default=False,
        ),
    ] = None,
    text: Annotated[bool, typer.Option("--text", help="The same as --format text.")] = False,
    tokenizer: Annotated[
        str | None,
        typer.Option(
            "--tokenizer",
            help="How plain text becomes tokens: whitespace; words (words and punctuation, "
            "as flair's default segtok tokenizer splits them: 'Paris.' is 'Paris' '.'); "
            "chars (each character but spaces, as Chinese and Japanese NER corpora; a "
            "character keeps its combining marks). A zero-width space separates tokens "
            "as a space does. Default: whitespace.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Tag SOURCE with the trained tagger of a run (corrected and decoded as in the run)."""
    from nerkit.errors import NerkitError
    from nerkit.io import detect_format
    from nerkit.io.conll_write import check_conll_tokens, conll_text
    from nerkit.pipeline import load_run_models
    from nerkit.store import find_run
    from nerkit.types import Sentence

    fmt = _input_format(source, input_format, text)
    split = _tokenizer(tokenizer or "whitespace")
    if tokenizer is not None and fmt != "text":
        raise typer.BadParameter(
            f"{source} is read as tokens already; --tokenizer is for plain text (.txt, -, "
            "or --format text)",
            param_hint="--tokenizer",
        )
    # Before the input is read and the model runs, which may take long.
    if output is not None:
        _check_output(output, source, overwrite=overwrite)
    run_path = find_run(run, runs_dir)
    name = "<stdin>" if str(source) == "-" else str(source)
    if fmt == "text":
        sentences = _plain_sentences(source, split, sniff=input_format is None and not text)
    else:
        sentences = _file_sentences(source, fmt)
    writes_conll = output is None or detect_format(output) == "conll"
    if writes_conll:
        # CoNLL has no room for an empty sentence or a token with a tab or line break in it.
        try:
            check_conll_tokens(sentences)
        except NerkitError as exc:
            where = "to stdout" if output is None else f"to {output}"
            raise NerkitError(
                f"{name}: {exc}; predict writes CoNLL {where}: write JSON lines instead "
                "with -o FILE.jsonl"
            ) from None
    models = load_run_models(run_path)
    # An empty sentence (JSON lines {"tokens": []}) gets no tags, without asking the
    # tagger, which need not take one.
    filled = [s for s in sentences if s.tokens]
    predicted = iter(models.predict(filled) if filled else [])
    tagged = [
        Sentence(s.tokens, next(predicted) if s.tokens else (), s.sentence_id, s.document_id)
        for s in sentences
    ]
    if output is not None:
        from nerkit.io import write

        try:
            output.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise NerkitError(f"cannot write {output}: {exc.strerror or exc}") from None
        write(tagged, output)
        typer.echo(f"wrote {len(tagged)} sentences to {output}", err=True)
    else:
        # The text `-o FILE.conll` would hold, through the same checks.
        sys.stdout.write(conll_text(tagged))
    if writes_conll:
        _warn_conll_losses(tagged, "stdout" if output is None else str(output))


def _input_format(source: Path, given: str | None, text: bool) -> str:
    from nerkit.io import detect_format

    if given is not None:
        fmt = given.lower()
        if fmt not in _FORMATS:
            raise typer.BadParameter(
                f"{given!r}: one of {', '.join(_FORMATS)}", param_hint="--format"
            )
        if text and fmt != "text":
            raise typer.BadParameter(
                f"--text reads SOURCE as plain text, --format {given} as {fmt}: give one",
                param_hint="--text",
            )
        return fmt
    if text or str(source) == "-" or source.suffix.lower() == ".txt":
        return "text"
    return detect_format(source)


def _check_output(output: Path, source: Path, *, overwrite: bool) -> None:
    """Refuse, before anything is read, an output that must not or cannot be written: a
    folder; the input, or a file that would be read as part of it (in its folder of
    shards, or named by its pattern), with --overwrite too; an existing file without
    --overwrite; a file whose folder cannot be made or written to."""
    from nerkit.cli.targets import refuse_existing, refuse_input_as_output
    from nerkit.errors import NerkitError

    if output.is_dir():
        raise NerkitError(
            f"cannot write {output}: it is a folder; -o names the file to write (e.g. "
            f"{output / 'predictions.jsonl'})"
        )
    # The folder is made when the predictions are written; what can stop that is
    # checked now, so that a long prediction is not lost for want of it.
    folder = output.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise NerkitError(f"cannot write {output}: {folder} is no folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise NerkitError(f"cannot write {output}: no permission to write in {folder}")
    if str(source) != "-":
        refuse_input_as_output(output, [source])
    refuse_existing(output, overwrite)


def _warn_conll_losses(sentences: list[Sentence], where: str) -> None:
    from nerkit.io.conll_write import conll_losses

    lost = conll_losses(sentences)
    if lost:
        lines = [f"Warning: {where} is CoNLL, which cannot keep all that was read:"]
        lines += [f"  - {line}" for line in lost]
        lines.append(
            "  To keep them, write JSON lines, CSV, Parquet or Arrow (-o FILE.jsonl, .csv, "
            ".parquet, .arrow) instead."
        )
        typer.echo("\n".join(lines), err=True)


# ------------------------------------------------------------------- plain text


def _plain_sentences(
    source: Path, split: Callable[[str], list[str]], *, sniff: bool
) -> list[Sentence]:
    """One sentence per line, numbered by its line (blank lines give none). ``sniff``:
    refuse text that looks like CoNLL columns."""
    from nerkit.io.common import read_text
    from nerkit.types import Sentence

    if str(source) == "-":
        # Text mode already made \r\n and \r into \n.
        raw = sys.stdin.read().removeprefix("\ufeff")
    else:
        raw = read_text(source, newlines="universal")
    # Not str.splitlines(): it also ends lines at U+2028, U+0085, \x0c and more, which
    # are inside a line of text.
    lines = raw.split("\n")
    if sniff:
        _refuse_columns(lines, "<stdin>" if str(source) == "-" else str(source))
    return [
        Sentence(tokens=tuple(split(line)), sentence_id=f"s-{i}")
        for i, line in enumerate(lines, 1)
        if line.strip()
    ]


def _refuse_columns(lines: list[str], name: str) -> None:
    """Refuse plain text that is a CoNLL file: nine in ten or more of its non-blank
    lines (two at least) are a token and columns ending in a tag, or -DOCSTART-, and
    one tag at least is O, as in any NER corpus. Read as text, each such line would be
    a sentence with its tags for tokens (MSRA's msra_test_bio.txt, CoNLL-2003's
    train.txt). Text with tabs (an id and a sentence, Chinese text) or with words such
    as B-52 at the ends of its lines is not taken for one."""
    from nerkit.errors import InputError

    filled = columns = outside = 0
    first: tuple[int, str] | None = None
    for lineno, line in enumerate(lines, 1):
        if line.strip():
            filled += 1
            tag = _column_tag(line)
            if tag is not None:
                columns += 1
                outside += tag == "O"
                first = first or (lineno, line)
    if first is None or columns < 2 or columns < 0.9 * filled or not outside:
        return
    raise InputError(
        f"looks like CoNLL columns, not plain text: {columns:,} of its {filled:,} "
        "non-blank lines are a token and columns ending in a tag, as this one (read a "
        "sentence a line, its tags would be tokens); give --format conll to tag the "
        "tokens of its first column, or --format text to read it as plain text all the "
        "same",
        path=name,
        line=first[0],
        text=first[1],
    )


def _column_tag(line: str) -> str | None:
    """The tag that ends CoNLL token line ``line`` (a token without spaces, then
    columns separated by tabs or by spaces, the last a tag; "O" for -DOCSTART-);
    None for a line of another form."""
    from nerkit.io.conll import is_docstart

    stripped = line.rstrip(" \t")
    if is_docstart(stripped):
        return "O"
    fields = stripped.split("\t") if "\t" in stripped else stripped.split(" ")
    if len(fields) < 2 or not fields[0] or " " in fields[0]:
        return None
    return fields[-1] if _TAG.fullmatch(fields[-1]) else None


def _refuse_json_line(path: Path, lineno: int, line: str) -> None:
    """Refuse a JSON object where CoNLL was expected (JSON lines on stdin, or in a file
    whose name says nothing): read as CoNLL, its text would be tagged as tokens."""
    import json

    from nerkit.errors import InputError

    if not line.lstrip().startswith("{"):
        return
    try:
        is_object = isinstance(json.loads(line), dict)
    except (ValueError, RecursionError):
        return
    if is_object:
        raise InputError(
            "a JSON object where CoNLL token lines were expected: give --format jsonl",
            path=path,
            line=lineno,
            text=line,
        )


def _tokenizer(name: str) -> Callable[[str], list[str]]:
    if name == "whitespace":
        return lambda line: line.replace(_ZERO_WIDTH_SPACE, " ").split()
    if name == "chars":
        return _characters
    if name == "words":
        return _words
    raise typer.BadParameter(f"{name!r}: one of whitespace, words, chars", param_hint="--tokenizer")


def _clusters(line: str) -> list[str]:
    """``line`` as user-perceived characters (extended grapheme clusters, Unicode
    UAX #29): a base character with its combining marks (``e`` U+0301, ``か`` U+3099),
    an emoji sequence, a Hangul syllable in jamo. A zero-width space is a space."""
    # regex (not re) knows \X; segtok, a dependency of nerkit, depends on it.
    import regex

    return regex.findall(r"\X", line.replace(_ZERO_WIDTH_SPACE, " "))


def _characters(line: str) -> list[str]:
    # A cluster may start with a space: a combining mark after a space joins it.
    return [token for cluster in _clusters(line) if (token := cluster.lstrip())]


def _words(line: str) -> list[str]:
    """segtok's words (flair's default tokenizer: PTB-like, contractions split), each
    with its combining marks. segtok splits at a combining mark (``Mu`` U+0308 ``ller``
    gave three tokens), so it reads each cluster as its first character, and the tokens
    it finds there are cut from ``line`` cluster by cluster."""
    from segtok.tokenizer import split_contractions, word_tokenizer

    clusters = _clusters(line)
    # A cluster that starts with a space (a mark after it) stands for its mark.
    bases = "".join(c[0] if not c[0].isspace() else (c.lstrip()[:1] or " ") for c in clusters)
    tokens = []
    at = 0
    for word in split_contractions(word_tokenizer(bases)):
        # segtok's tokens are pieces of its input, in order; should one not be, it is
        # kept as segtok wrote it.
        start = bases.find(word, at)
        if start < 0:
            tokens.append(word)
            continue
        at = start + len(word)
        tokens.append("".join(clusters[start:at]).lstrip())
    return tokens


# ------------------------------------------------------------------------ files


def _file_sentences(source: Path, fmt: str) -> list[Sentence]:
    """The sentences of ``source`` in ``fmt``, tokens only. What is no regular file (a
    pipe such as /dev/stdin, or - for stdin) is copied to a temporary file first: a
    pipe gives its data once, and a CoNLL file is read twice (columns, then tokens)."""
    import tempfile

    from nerkit.errors import InputError

    stdin = str(source) == "-"
    if not stdin and (source.is_file() or source.is_dir() or not source.exists()):
        return _tokens(source, fmt)
    name = "<stdin>" if stdin else str(source)
    try:
        data = sys.stdin.buffer.read() if stdin else source.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read file ({exc.strerror or exc})", path=name) from None
    with tempfile.TemporaryDirectory(prefix="nerkit-predict-") as folder:
        copy = Path(folder) / "input"
        copy.write_bytes(data)
        try:
            return _tokens(copy, fmt)
        except InputError as exc:
            if exc.path != str(copy):
                raise
            unit = "row index" if fmt in ("parquet", "arrow") else "line"
            raise InputError(
                exc.reason, path=name, line=exc.line, text=exc.text, unit=unit
            ) from None


def _tokens(path: Path, fmt: str) -> list[Sentence]:
    """The tokens, sentence ids and documents of ``path`` in ``fmt``; its tags and
    other columns are neither read nor checked."""
    from nerkit.io import read
    from nerkit.io.common import read_text

    if fmt == "conll":
        _check_conll_columns(path, read_text(path, newlines="universal"))
    return list(read(path, format=fmt, tags=False).sentences)


def _check_conll_columns(path: Path, text: str) -> None:
    """Refuse a CoNLL file whose token lines do not all have the columns of its first:
    the reader splits every line as it split the first one (at a tab if it has one,
    else at a space), so read as tokens a line could keep a column in its token (a
    first line of a token only), or a column where its token is (no column on it)."""
    from nerkit.errors import InputError
    from nerkit.io.conll import is_break, is_docstart

    first = None
    sep: str | None = None
    for lineno, line in enumerate(text.split("\n"), 1):
        if is_break(line) or is_docstart(line):
            continue
        # The reader drops trailing tabs and spaces.
        stripped = line.rstrip(" \t")
        if first is None:
            _refuse_json_line(path, lineno, line)
            first = lineno
            sep = "\t" if "\t" in stripped else " " if " " in stripped else None
        elif sep is None and ("\t" in stripped or " " in stripped):
            raise InputError(
                f"a second column, but the first token line (line {first}) has a token "
                "only; a file holds tokens only, or tokens and other columns, on every line",
                path=path,
                line=lineno,
                text=line,
            )
        elif sep is not None and sep not in stripped:
            kind = "tab" if sep == "\t" else "space"
            raise InputError(
                f"expected at least 2 {kind}-separated columns (a token, then columns, as on "
                f"line {first}), found 1",
                path=path,
                line=lineno,
                text=line,
            )


def register(app: typer.Typer) -> None:
    app.command("predict")(predict)
